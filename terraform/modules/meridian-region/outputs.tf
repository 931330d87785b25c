output "instance_ids" {
  description = "The region node's EC2 instance ID, as a list: the Global Accelerator endpoints."
  value       = [aws_instance.node.id]
}

output "public_ips" {
  description = "The region node's public address, as a list: its WireGuard endpoint, and the source the other regions and the global tier allow."
  value       = [aws_eip.node.public_ip]
}

output "private_ips" {
  description = "The region node's private address, as a list."
  value       = [aws_network_interface.node.private_ip]
}

output "security_group_id" {
  description = "The region node's security group, to add rules of your own."
  value       = aws_security_group.region.id
}

output "region_resource" {
  description = "The Region resource for this region, as YAML for `meridian apply -f -`."
  value = yamlencode({
    apiVersion = "meridian.dev/v1"
    kind       = "Region"
    metadata   = { name = var.region }
    spec = merge(
      { location = var.location },
      # Only when set; a for expression because a conditional needs one type.
      { for k, v in { displayName = var.display_name } : k => v if v != "" },
      { tunnel = { address = var.tunnel_address, listenPort = 51820 } },
    )
  })
}
