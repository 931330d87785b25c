# The nodes may read the admin token and the data key from SSM Parameter Store
# and nothing else (../meridian-secret-reader).
module "secret_reader" {
  source          = "../meridian-secret-reader"
  name_prefix     = "${var.name}-gc-"
  parameter_names = [var.admin_token_parameter, var.data_key_parameter]
  kms_key_arn     = var.parameters_kms_key_arn
  tags            = local.tags
}

# The region the nodes read their parameters in (main.tf).
data "aws_region" "current" {}
