# The security group of the region node: the rules of the region role
# (modules/meridian-node-config): 80 and 443 from anywhere, WireGuard only from
# the other regions, BGP only from the provider's routers, admin ports only
# from the VPC and the operators. The zone ingress (7600) is reached through
# the tunnel, which the security group does not see.
resource "aws_security_group" "region" {
  name_prefix = "${var.name}-${var.region}-"
  description = "Meridian region ${var.region}: edge, WireGuard, BGP, admin ports"
  vpc_id      = data.aws_vpc.this.id
  tags        = merge(local.tags, { Name = "${var.name}-${var.region}" })

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  ingress_rules = merge([
    for rule in module.node_config.firewall_rules : {
      for i, cidr in rule.cidrs : "${rule.name}-${i}" => merge(rule, { cidr = cidr })
    }
  ]...)
}

resource "aws_vpc_security_group_ingress_rule" "role" {
  for_each          = local.ingress_rules
  security_group_id = aws_security_group.region.id
  description       = "meridian ${each.value.name}"
  ip_protocol       = each.value.protocol
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.region.id
  description       = "federation, tunnels to other regions, packages"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
