# One region: one node running the zone controller (which runs the region's
# WireGuard tunnel), an edge, the zone ingress and BIRD (`meridian bootstrap
# --role region`). One node, because the global controller keeps one zone
# controller per region; a second edge-only node is not in bootstrap yet.
data "aws_subnet" "node" {
  id = var.subnet_ids[0]
}

data "aws_vpc" "this" {
  id = data.aws_subnet.node.vpc_id
}

locals {
  node_name   = "${var.region}-0"
  admin_cidrs = distinct(concat([data.aws_vpc.this.cidr_block], var.admin_cidrs))
  tags        = merge({ "meridian:role" = "region", "meridian:region" = var.region }, var.tags)
}

resource "aws_network_interface" "node" {
  subnet_id       = var.subnet_ids[0]
  security_groups = [aws_security_group.region.id]
  tags            = merge(local.tags, { Name = "${var.name}-${local.node_name}" })
}

# The address is made before the node, so each region can allow the others'
# WireGuard traffic without waiting for their instances.
resource "aws_eip" "node" {
  domain            = "vpc"
  network_interface = aws_network_interface.node.id
  tags              = merge(local.tags, { Name = "${var.name}-${local.node_name}" })
}

module "node_config" {
  source = "../meridian-node-config"

  role                     = "region"
  node_name                = local.node_name
  region                   = var.region
  global_address           = var.global_address
  secret_parameters        = { "join-token" = var.join_token_parameter }
  secret_parameters_region = data.aws_region.current.name
  public_address           = aws_eip.node.public_ip
  tunnel_address           = var.tunnel_address
  meridian_package         = var.meridian_package
  wireguard_peer_cidrs     = var.wireguard_peer_cidrs
  bgp_peer_cidrs           = var.bgp_peer_cidrs
  admin_cidrs              = local.admin_cidrs
  ssh_cidrs                = var.ssh_cidrs
}

resource "aws_instance" "node" {
  ami           = var.ami_id
  instance_type = var.instance_type
  key_name      = var.key_name
  user_data     = module.node_config.user_data
  # Reads the join token parameter at boot (iam.tf).
  iam_instance_profile = module.secret_reader.instance_profile_name

  network_interface {
    network_interface_id = aws_network_interface.node.id
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

  tags = merge(local.tags, { Name = "${var.name}-${local.node_name}" })

  lifecycle {
    # A rotated token or a new package must not replace a serving node; run
    # `meridian bootstrap` on it instead.
    ignore_changes = [user_data, ami]
  }
}
