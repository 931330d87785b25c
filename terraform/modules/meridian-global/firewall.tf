# The security group of the global nodes: the rules of the global role
# (modules/meridian-node-config), one AWS rule per source CIDR.
resource "aws_security_group" "global" {
  name_prefix = "${var.name}-global-"
  description = "Meridian global nodes: federation, admin API, etcd between members"
  vpc_id      = data.aws_vpc.this.id
  tags        = merge(local.tags, { Name = "${var.name}-global" })

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  # The rules are the same for every node; the first node's module has them.
  # Keys use the position of each CIDR, which is known before apply.
  ingress_rules = merge([
    for rule in module.node_config[0].firewall_rules : {
      for i, cidr in rule.cidrs : "${rule.name}-${i}" => merge(rule, { cidr = cidr })
    }
  ]...)
}

resource "aws_vpc_security_group_ingress_rule" "role" {
  for_each          = local.ingress_rules
  security_group_id = aws_security_group.global.id
  description       = "meridian ${each.value.name}"
  ip_protocol       = each.value.protocol
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.global.id
  description       = "packages, etcd peers, zone controllers' replies"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
