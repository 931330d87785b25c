# The nodes may read this region's join token from SSM Parameter Store and
# nothing else (../meridian-secret-reader).
module "secret_reader" {
  source          = "../meridian-secret-reader"
  name_prefix     = "meridian-${var.region}-"
  parameter_names = [var.join_token_parameter]
  kms_key_arn     = var.parameters_kms_key_arn
  tags            = local.tags
}

# The region the nodes read their parameters in (main.tf).
data "aws_region" "current" {}
