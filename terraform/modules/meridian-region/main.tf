# One region: its nodes each run the zone controller, an edge, the zone
# ingress, the WireGuard tunnel and BIRD (`meridian bootstrap --role region`).
data "aws_subnet" "node" {
  count = length(var.subnet_ids)
  id    = var.subnet_ids[count.index]
}

data "aws_vpc" "this" {
  id = data.aws_subnet.node[0].vpc_id
}

locals {
  node_count  = length(var.tunnel_addresses)
  node_names  = [for i in range(local.node_count) : "${var.region}-${i}"]
  admin_cidrs = distinct(concat([data.aws_vpc.this.cidr_block], var.admin_cidrs))
  tags        = merge({ "meridian:role" = "region", "meridian:region" = var.region }, var.tags)
}

resource "aws_network_interface" "node" {
  count           = local.node_count
  subnet_id       = var.subnet_ids[count.index % length(var.subnet_ids)]
  security_groups = [aws_security_group.region.id]
  tags            = merge(local.tags, { Name = "${var.name}-${local.node_names[count.index]}" })
}

# Addresses made before the nodes, so each region can allow the others'
# WireGuard traffic without waiting for their instances.
resource "aws_eip" "node" {
  count             = local.node_count
  domain            = "vpc"
  network_interface = aws_network_interface.node[count.index].id
  tags              = merge(local.tags, { Name = "${var.name}-${local.node_names[count.index]}" })
}

module "node_config" {
  source = "../meridian-node-config"
  count  = local.node_count

  role                 = "region"
  node_name            = local.node_names[count.index]
  region               = var.region
  global_address       = var.global_address
  join_token           = var.join_token
  public_address       = aws_eip.node[count.index].public_ip
  tunnel_address       = var.tunnel_addresses[count.index]
  meridian_package     = var.meridian_package
  wireguard_peer_cidrs = var.wireguard_peer_cidrs
  bgp_peer_cidrs       = var.bgp_peer_cidrs
  admin_cidrs          = local.admin_cidrs
  ssh_cidrs            = var.ssh_cidrs
}

resource "aws_instance" "node" {
  count         = local.node_count
  ami           = var.ami_id
  instance_type = var.instance_type
  key_name      = var.key_name
  user_data     = module.node_config[count.index].user_data

  network_interface {
    network_interface_id = aws_network_interface.node[count.index].id
    device_index         = 0
  }

  metadata_options {
    http_tokens = "required"
  }

  root_block_device {
    volume_size = 20
    volume_type = "gp3"
    encrypted   = true
  }

  tags = merge(local.tags, { Name = "${var.name}-${local.node_names[count.index]}" })

  lifecycle {
    # A join token is created after the global tier is up (docs/deploy.md).
    precondition {
      condition     = var.join_token != ""
      error_message = "join_token is empty: create one with `meridian token create --region ${var.region}` once the global tier is up (docs/deploy.md)."
    }
    # A rotated token or a new package must not replace a serving node; run
    # `meridian bootstrap` on it instead.
    ignore_changes = [user_data, ami]
  }
}
