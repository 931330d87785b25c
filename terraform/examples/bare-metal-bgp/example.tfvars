# Copy to my.tfvars (passed with -var-file) and fill in. Give the secrets
# (admin_token, data_key, join_tokens) as TF_VAR_admin_token, TF_VAR_data_key
# and TF_VAR_join_tokens in the environment rather than here.
metal_project_id = "00000000-0000-0000-0000-000000000000"
meridian_package = "https://downloads.example.com/meridian/meridian-0.1.0.tgz"
operator_cidrs   = ["198.51.100.0/24"]
ssh_cidrs        = []

global_metro     = "dc"
plan             = "c3.small.x86"
operating_system = "debian_12"

regions = {
  fra = { metro = "fr", tunnel_address = "10.99.1.1/32", display_name = "Frankfurt", latitude = 50.11, longitude = 8.68 }
  iad = { metro = "dc", tunnel_address = "10.99.2.1/32", display_name = "Ashburn", latitude = 38.95, longitude = -77.45 }
  sin = { metro = "sg", tunnel_address = "10.99.3.1/32", display_name = "Singapore", latitude = 1.35, longitude = 103.99 }
}
