# The anycast front: Global Accelerator's two static addresses are announced
# from every AWS edge location and land on the nearest healthy region's edges.
# One endpoint group per region; an edge that fails its health check (or a
# region with none left) stops receiving traffic.
resource "aws_globalaccelerator_accelerator" "meridian" {
  provider        = aws.global_accelerator
  name            = "meridian"
  ip_address_type = "IPV4"
  enabled         = true
}

resource "aws_globalaccelerator_listener" "web" {
  provider        = aws.global_accelerator
  accelerator_arn = aws_globalaccelerator_accelerator.meridian.id
  protocol        = "TCP"
  # Keeps a client on one edge while it stays healthy (TLS sessions, HTTP/2).
  client_affinity = "SOURCE_IP"

  port_range {
    from_port = 80
    to_port   = 80
  }

  port_range {
    from_port = 443
    to_port   = 443
  }
}

locals {
  endpoint_groups = {
    fra = { aws_region = "eu-central-1", instance_ids = module.region_fra.instance_ids }
    iad = { aws_region = "us-east-1", instance_ids = module.region_iad.instance_ids }
    sin = { aws_region = "ap-southeast-1", instance_ids = module.region_sin.instance_ids }
  }
}

resource "aws_globalaccelerator_endpoint_group" "region" {
  for_each              = local.endpoint_groups
  provider              = aws.global_accelerator
  listener_arn          = aws_globalaccelerator_listener.web.id
  endpoint_group_region = each.value.aws_region

  health_check_protocol         = var.health_check_protocol
  health_check_port             = var.health_check_port
  health_check_path             = var.health_check_protocol == "TCP" ? null : var.health_check_path
  health_check_interval_seconds = 10
  threshold_count               = 3

  dynamic "endpoint_configuration" {
    for_each = each.value.instance_ids
    content {
      endpoint_id = endpoint_configuration.value
      weight      = 100
      # The edge sees the real client address (x-forwarded-for).
      client_ip_preservation_enabled = true
    }
  }
}
