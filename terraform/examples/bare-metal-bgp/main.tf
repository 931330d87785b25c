# Meridian on bare metal with real anycast: every region node announces one
# global /32 to Equinix Metal's routers over BGP (BIRD, configured by the edge
# from the Region resource's spec.bgp). One global node runs etcd and the
# global controller; for three, use modules/meridian-global's pattern on
# machines with fixed private addresses. docs/deploy.md walks through it.
locals {
  anycast_address = equinix_metal_reserved_ip_block.anycast.network

  # Each region's elastic address, reserved before the nodes exist so that
  # every node's firewall can name the others.
  region_addresses = { for name, block in equinix_metal_reserved_ip_block.region : name => block.network }
  peers_of         = { for name in keys(var.regions) : name => [for other, ip in local.region_addresses : "${ip}/32" if other != name] }

  # Equinix Metal's BGP routers are 169.254.255.1 and .2, reached through the
  # private network's gateway.
  bgp_routers = ["169.254.255.1/32", "169.254.255.2/32"]
}

resource "equinix_metal_reserved_ip_block" "anycast" {
  project_id  = var.metal_project_id
  type        = "global_ipv4"
  quantity    = 1
  description = "meridian anycast"
}

resource "equinix_metal_reserved_ip_block" "region" {
  for_each    = var.regions
  project_id  = var.metal_project_id
  type        = "public_ipv4"
  metro       = each.value.metro
  quantity    = 1
  description = "meridian ${each.key}"
}

module "global_config" {
  source = "../../modules/meridian-node-config"

  role             = "global"
  node_name        = "meridian-gc-1"
  admin_token      = var.admin_token
  data_key         = var.data_key
  meridian_package = var.meridian_package
  host_firewall    = true
  federation_cidrs = [for ip in values(local.region_addresses) : "${ip}/32"]
  admin_cidrs      = var.operator_cidrs
  ssh_cidrs        = var.ssh_cidrs
}

resource "equinix_metal_device" "global" {
  hostname         = "meridian-gc-1"
  project_id       = var.metal_project_id
  metro            = var.global_metro
  plan             = var.plan
  operating_system = var.operating_system
  billing_cycle    = "hourly"
  user_data        = module.global_config.user_data

  # A new token or package must not reinstall a running node; run
  # `meridian bootstrap` on it instead (docs/deploy.md).
  lifecycle {
    ignore_changes = [user_data]
  }
}

module "region_config" {
  source   = "../../modules/meridian-node-config"
  for_each = var.regions

  role                 = "region"
  node_name            = "${each.key}-0"
  region               = each.key
  global_address       = "${equinix_metal_device.global.access_public_ipv4}:7400"
  join_token           = lookup(var.join_tokens, each.key, "")
  public_address       = local.region_addresses[each.key]
  tunnel_address       = each.value.tunnel_address
  meridian_package     = var.meridian_package
  host_firewall        = true
  wireguard_peer_cidrs = local.peers_of[each.key]
  bgp_peer_cidrs       = local.bgp_routers
  admin_cidrs          = var.operator_cidrs
  ssh_cidrs            = var.ssh_cidrs
  extra_script = templatefile("${path.module}/network.sh.tftpl", {
    elastic_address = local.region_addresses[each.key]
    anycast_address = local.anycast_address
    bgp_routers     = local.bgp_routers
  })
}

resource "equinix_metal_device" "region" {
  for_each         = var.regions
  hostname         = "meridian-${each.key}-0"
  project_id       = var.metal_project_id
  metro            = each.value.metro
  plan             = var.plan
  operating_system = var.operating_system
  billing_cycle    = "hourly"
  user_data        = module.region_config[each.key].user_data

  lifecycle {
    precondition {
      condition     = lookup(var.join_tokens, each.key, "") != ""
      error_message = "No join token for this region: create it with `meridian token create --region <name>` once the global node is up (docs/deploy.md)."
    }
    ignore_changes = [user_data]
  }
}

resource "equinix_metal_ip_attachment" "region" {
  for_each      = var.regions
  device_id     = equinix_metal_device.region[each.key].id
  cidr_notation = equinix_metal_reserved_ip_block.region[each.key].cidr_notation
}

# A BGP session per region node; BIRD on the node speaks on it.
resource "equinix_metal_bgp_session" "region" {
  for_each       = var.regions
  device_id      = equinix_metal_device.region[each.key].id
  address_family = "ipv4"
}

data "equinix_metal_device_bgp_neighbors" "region" {
  for_each   = var.regions
  device_id  = equinix_metal_device.region[each.key].id
  depends_on = [equinix_metal_bgp_session.region]
}
