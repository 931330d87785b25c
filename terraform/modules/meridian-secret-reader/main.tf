# A node's instance role that may read the given SSM Parameter Store
# parameters, decrypting through SSM only, and nothing else. A node's boot
# script uses it; Meridian's services are denied the metadata address
# (IPAddressDeny=), so they cannot.
data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  parameter_arns = [for name in var.parameter_names : "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${name}"]
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "secrets" {
  statement {
    sid       = "ReadMeridianSecrets"
    actions   = ["ssm:GetParameter"]
    resources = local.parameter_arns
  }

  statement {
    sid       = "DecryptThroughSsm"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn != "" ? var.kms_key_arn : "*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PS_ARN"
      values   = local.parameter_arns
    }
  }
}

resource "aws_iam_role" "node" {
  name_prefix        = var.name_prefix
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "secrets" {
  name   = "meridian-secrets"
  role   = aws_iam_role.node.id
  policy = data.aws_iam_policy_document.secrets.json
}

resource "aws_iam_instance_profile" "node" {
  name_prefix = var.name_prefix
  role        = aws_iam_role.node.name
  tags        = var.tags
}
