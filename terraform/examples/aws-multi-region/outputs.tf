output "anycast_ips" {
  description = "The two static anycast addresses: point your domains' A records here."
  value       = aws_globalaccelerator_accelerator.meridian.ip_sets[0].ip_addresses
}

output "anycast_dns_name" {
  description = "Global Accelerator's DNS name: a CNAME target instead of the addresses."
  value       = aws_globalaccelerator_accelerator.meridian.dns_name
}

output "admin_url" {
  description = "The admin API over HTTPS: export MERIDIAN_SERVER=<this> for `meridian apply`, `get` and `token create`, with MERIDIAN_CA_FINGERPRINT (the mesh root, docs/deploy.md)."
  value       = module.global.admin_url
}

output "federation_address" {
  description = "Where the zone controllers join; already in every region node's bootstrap."
  value       = module.global.federation_address
}

output "global_node_ips" {
  description = "The global nodes' public addresses (SSH, debugging)."
  value       = module.global.node_public_ips
}

output "region_node_ips" {
  description = "Each region's node addresses: SSH, and the WireGuard endpoints."
  value       = local.region_ips
}

output "region_resources" {
  description = "The three Region resources as YAML: `terraform output -raw region_resources | meridian apply -f -`."
  value       = join("---\n", [module.region_fra.region_resource, module.region_iad.region_resource, module.region_sin.region_resource])
}
