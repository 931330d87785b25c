# Copy to my.tfvars (passed with -var-file) and fill in. Secrets (admin_token,
# data_key, join_tokens) are better given as TF_VAR_admin_token,
# TF_VAR_data_key and TF_VAR_join_tokens in the environment than written here.
meridian_package = "https://downloads.example.com/meridian/meridian-0.1.0.tgz"
operator_cidrs   = ["198.51.100.0/24"]
ssh_cidrs        = []
key_name         = null

global_aws_region    = "eu-west-1"
global_instance_type = "t3.medium"
region_instance_type = "c6i.large"

health_check_protocol = "TCP"
health_check_port     = 443
health_check_path     = "/healthz"
