output "anycast_address" {
  description = "The global anycast address every region announces: point your domains' A records here."
  value       = local.anycast_address
}

output "admin_url" {
  description = "The admin API over HTTPS: export MERIDIAN_SERVER=<this> for `meridian apply`, `get` and `token create`, with MERIDIAN_CA_FINGERPRINT (the mesh root, docs/deploy.md)."
  value       = "https://${equinix_metal_device.global.access_public_ipv4}:7401"
}

output "federation_address" {
  description = "Where the zone controllers join; already in every region node's bootstrap."
  value       = "${equinix_metal_device.global.access_public_ipv4}:7400"
}

output "region_node_ips" {
  description = "Each region node's elastic address: its WireGuard endpoint and SSH address."
  value       = local.region_addresses
}

output "bgp_neighbors" {
  description = "Each region node's BGP neighbors as Equinix Metal reports them (peer addresses and AS numbers)."
  value = { for name, found in data.equinix_metal_device_bgp_neighbors.region : name => [
    for n in found.bgp_neighbors : { customer_as = n.customer_as, peer_as = n.peer_as, peer_ips = n.peer_ips }
  ] }
}

output "region_resources" {
  description = "The Region resources, with their BGP settings, as YAML: `terraform output -raw region_resources | meridian apply -f -`."
  value = join("---\n", [for name, region in var.regions : yamlencode({
    apiVersion = "meridian.dev/v1"
    kind       = "Region"
    metadata   = { name = name }
    spec = {
      displayName = region.display_name
      location    = { latitude = region.latitude, longitude = region.longitude }
      tunnel      = { address = split("/", region.tunnel_address)[0], listenPort = 51820 }
      bgp = {
        localAsn = data.equinix_metal_device_bgp_neighbors.region[name].bgp_neighbors[0].customer_as
        anycast  = [local.anycast_address]
        neighbors = flatten([for n in data.equinix_metal_device_bgp_neighbors.region[name].bgp_neighbors : [
          for ip in n.peer_ips : { address = ip, asn = n.peer_as, bfd = false }
        ]])
      }
    }
  })])
}
