# Copy to my.tfvars (passed with -var-file) and fill in. No secrets here: the
# admin token, data key and join tokens go to SSM Parameter Store under
# parameter_prefix (docs/deploy.md), where the nodes read them at boot.
meridian_package = "https://downloads.example.com/meridian/meridian-0.1.0.tgz"
operator_cidrs   = ["198.51.100.0/24"]
ssh_cidrs        = []
key_name         = null
parameter_prefix = "/meridian"

global_aws_region    = "eu-west-1"
global_instance_type = "t3.medium"
region_instance_type = "c6i.large"

health_check_protocol = "TCP"
health_check_port     = 443
health_check_path     = "/healthz"
