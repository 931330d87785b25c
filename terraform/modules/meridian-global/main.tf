# The global tier: node_count nodes, each an etcd member and a global
# controller replica (one leader through an etcd lease), behind a network load
# balancer that gives the regions one federation address and the operators
# one admin URL.
data "aws_subnet" "node" {
  count = length(var.subnet_ids)
  id    = var.subnet_ids[count.index]
}

data "aws_vpc" "this" {
  id = data.aws_subnet.node[0].vpc_id
}

locals {
  node_names = [for i in range(var.node_count) : "${var.name}-gc-${i + 1}"]
  # Admin ports stay reachable from inside the VPC (load balancer health
  # checks, a bastion) and from the operators' networks given.
  admin_cidrs = distinct(concat([data.aws_vpc.this.cidr_block], var.admin_cidrs))
  tags        = merge({ "meridian:role" = "global" }, var.tags)
}

# The interfaces come first so every node knows every etcd peer's address
# before any of them boots.
resource "aws_network_interface" "node" {
  count           = var.node_count
  subnet_id       = var.subnet_ids[count.index % length(var.subnet_ids)]
  security_groups = [aws_security_group.global.id]
  tags            = merge(local.tags, { Name = local.node_names[count.index] })
}

resource "aws_eip" "node" {
  count             = var.node_count
  domain            = "vpc"
  network_interface = aws_network_interface.node[count.index].id
  tags              = merge(local.tags, { Name = local.node_names[count.index] })
}

module "node_config" {
  source = "../meridian-node-config"
  count  = var.node_count

  role       = "global"
  node_name  = local.node_names[count.index]
  etcd_peers = { for i, name in local.node_names : name => aws_network_interface.node[i].private_ip }
  secret_parameters = {
    "admin-token" = var.admin_token_parameter
    "data-key"    = var.data_key_parameter
  }
  secret_parameters_region = data.aws_region.current.name
  trust_domain             = var.trust_domain
  public_address           = aws_eip.node[count.index].public_ip
  meridian_package         = var.meridian_package
  federation_cidrs         = var.federation_cidrs
  admin_cidrs              = local.admin_cidrs
  ssh_cidrs                = var.ssh_cidrs
}

resource "aws_instance" "node" {
  count         = var.node_count
  ami           = var.ami_id
  instance_type = var.instance_type
  key_name      = var.key_name
  user_data     = module.node_config[count.index].user_data
  # Reads the admin token and data key parameters at boot (iam.tf).
  iam_instance_profile = module.secret_reader.instance_profile_name

  network_interface {
    network_interface_id = aws_network_interface.node[count.index].id
    device_index         = 0
  }

  metadata_options {
    http_tokens = "required"
  }

  root_block_device {
    volume_size = var.root_volume_gb
    volume_type = "gp3"
    encrypted   = true
  }

  tags = merge(local.tags, { Name = local.node_names[count.index] })

  # A new token or package must not replace a running etcd member; run
  # `meridian bootstrap` on the node instead (docs/deploy.md).
  lifecycle {
    ignore_changes = [user_data, ami]
  }
}
