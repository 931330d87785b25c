output "federation_address" {
  description = "HOST:PORT the zone controllers join (meridian bootstrap --global, the region module's global_address)."
  value       = "${aws_lb.global.dns_name}:7400"
}

output "admin_url" {
  description = "The admin API over HTTPS: MERIDIAN_SERVER for `meridian apply/get/token` (reachable from admin_cidrs), with MERIDIAN_CA_FINGERPRINT (the mesh root, docs/deploy.md)."
  value       = "https://${aws_lb.global.dns_name}:7401"
}

output "node_public_ips" {
  description = "The global nodes' public addresses (SSH, debugging)."
  value       = aws_eip.node[*].public_ip
}

output "node_private_ips" {
  description = "The global nodes' private addresses; etcd's members listen on them."
  value       = aws_network_interface.node[*].private_ip
}

output "instance_ids" {
  description = "The global nodes' EC2 instance IDs."
  value       = aws_instance.node[*].id
}

output "security_group_id" {
  description = "The global nodes' security group, to add rules of your own."
  value       = aws_security_group.global.id
}
