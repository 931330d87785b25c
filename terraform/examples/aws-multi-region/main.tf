# Meridian in three AWS regions (fra, iad, sin), the global tier in a fourth,
# and Global Accelerator as the anycast front. docs/deploy.md walks through it.
locals {
  regions = {
    fra = { display_name = "Frankfurt", location = { latitude = 50.11, longitude = 8.68 }, cidr = "10.11.0.0/16", tunnel_octet = 1 }
    iad = { display_name = "Ashburn", location = { latitude = 38.95, longitude = -77.45 }, cidr = "10.12.0.0/16", tunnel_octet = 2 }
    sin = { display_name = "Singapore", location = { latitude = 1.35, longitude = 103.99 }, cidr = "10.13.0.0/16", tunnel_octet = 3 }
  }

  # Tunnel addresses: region r is 10.99.r.1; the zone controllers route the
  # other regions' addresses over the tunnel.
  tunnel_addresses = { for name, r in local.regions : name => "10.99.${r.tunnel_octet}.1" }

  # Each region lets only the others' nodes reach its WireGuard port.
  region_ips = {
    fra = module.region_fra.public_ips
    iad = module.region_iad.public_ips
    sin = module.region_sin.public_ips
  }
  peers_of = { for name in keys(local.regions) : name => flatten([for other, ips in local.region_ips : [for ip in ips : "${ip}/32"] if other != name]) }
}

module "site_global" {
  source     = "./site"
  name       = "meridian-global"
  cidr_block = "10.10.0.0/16"
}

module "global" {
  source = "../../modules/meridian-global"

  subnet_ids            = module.site_global.subnet_ids
  ami_id                = module.site_global.ami_id
  instance_type         = var.global_instance_type
  key_name              = var.key_name
  meridian_package      = var.meridian_package
  admin_token_parameter = "${var.parameter_prefix}/admin-token"
  data_key_parameter    = "${var.parameter_prefix}/data-key"
  federation_cidrs      = [for ip in flatten(values(local.region_ips)) : "${ip}/32"]
  admin_cidrs           = var.operator_cidrs
  ssh_cidrs             = var.ssh_cidrs
}

module "site_fra" {
  source     = "./site"
  providers  = { aws = aws.fra }
  name       = "meridian-fra"
  cidr_block = local.regions.fra.cidr
}

module "region_fra" {
  source    = "../../modules/meridian-region"
  providers = { aws = aws.fra }

  region               = "fra"
  display_name         = local.regions.fra.display_name
  location             = local.regions.fra.location
  tunnel_address       = local.tunnel_addresses.fra
  subnet_ids           = module.site_fra.subnet_ids
  ami_id               = module.site_fra.ami_id
  instance_type        = var.region_instance_type
  key_name             = var.key_name
  meridian_package     = var.meridian_package
  global_address       = module.global.federation_address
  join_token_parameter = "${var.parameter_prefix}/fra/join-token"
  wireguard_peer_cidrs = local.peers_of.fra
  admin_cidrs          = var.operator_cidrs
  ssh_cidrs            = var.ssh_cidrs
}

module "site_iad" {
  source     = "./site"
  providers  = { aws = aws.iad }
  name       = "meridian-iad"
  cidr_block = local.regions.iad.cidr
}

module "region_iad" {
  source    = "../../modules/meridian-region"
  providers = { aws = aws.iad }

  region               = "iad"
  display_name         = local.regions.iad.display_name
  location             = local.regions.iad.location
  tunnel_address       = local.tunnel_addresses.iad
  subnet_ids           = module.site_iad.subnet_ids
  ami_id               = module.site_iad.ami_id
  instance_type        = var.region_instance_type
  key_name             = var.key_name
  meridian_package     = var.meridian_package
  global_address       = module.global.federation_address
  join_token_parameter = "${var.parameter_prefix}/iad/join-token"
  wireguard_peer_cidrs = local.peers_of.iad
  admin_cidrs          = var.operator_cidrs
  ssh_cidrs            = var.ssh_cidrs
}

module "site_sin" {
  source     = "./site"
  providers  = { aws = aws.sin }
  name       = "meridian-sin"
  cidr_block = local.regions.sin.cidr
}

module "region_sin" {
  source    = "../../modules/meridian-region"
  providers = { aws = aws.sin }

  region               = "sin"
  display_name         = local.regions.sin.display_name
  location             = local.regions.sin.location
  tunnel_address       = local.tunnel_addresses.sin
  subnet_ids           = module.site_sin.subnet_ids
  ami_id               = module.site_sin.ami_id
  instance_type        = var.region_instance_type
  key_name             = var.key_name
  meridian_package     = var.meridian_package
  global_address       = module.global.federation_address
  join_token_parameter = "${var.parameter_prefix}/sin/join-token"
  wireguard_peer_cidrs = local.peers_of.sin
  admin_cidrs          = var.operator_cidrs
  ssh_cidrs            = var.ssh_cidrs
}
