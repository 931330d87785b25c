# One address for the federation (7400, TLS) and one for the admin API (7401,
# HTTPS). Both pass through as TCP: TLS ends on the nodes, with certificates
# from the mesh root, which clients pin by its fingerprint. The load balancer
# keeps the clients' addresses, so the security group above is what decides
# who gets in; its health checks come from inside the VPC.
resource "aws_lb" "global" {
  name_prefix        = "mrdgc-"
  load_balancer_type = "network"
  internal           = var.internal_load_balancer
  subnets            = var.subnet_ids
  tags               = merge(local.tags, { Name = "${var.name}-global" })
}

resource "aws_lb_target_group" "global" {
  for_each    = { federation = 7400, admin = 7401 }
  name_prefix = each.key == "federation" ? "mrdfe-" : "mrdad-"
  port        = each.value
  protocol    = "TCP"
  vpc_id      = data.aws_vpc.this.id
  target_type = "instance"

  # A replica is healthy when its admin API says so, for both ports (over
  # HTTPS: the load balancer does not check the certificate, and /healthz
  # needs no token).
  health_check {
    protocol            = "HTTPS"
    port                = "7401"
    path                = "/healthz"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "global" {
  for_each          = aws_lb_target_group.global
  load_balancer_arn = aws_lb.global.arn
  port              = each.value.port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = each.value.arn
  }
}

resource "aws_lb_target_group_attachment" "global" {
  for_each         = { for pair in setproduct(keys(aws_lb_target_group.global), range(var.node_count)) : "${pair[0]}-${pair[1]}" => { group = pair[0], node = pair[1] } }
  target_group_arn = aws_lb_target_group.global[each.value.group].arn
  target_id        = aws_instance.node[each.value.node].id
  port             = aws_lb_target_group.global[each.value.group].port
}
