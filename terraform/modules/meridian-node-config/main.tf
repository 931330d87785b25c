locals {
  # Ports of a Meridian node; cli/bootstrap/layout.ts is the other place that
  # names them, and terraform/checks compares the two.
  ports = {
    federation    = 7400
    admin         = 7401
    etcd_client   = 2379
    etcd_peer     = 2380
    zone_http     = 7500
    dns           = 5353
    ingress       = 7600
    ingress_admin = 7601
    edge_admin    = 7602
    edge_http     = 80
    edge_https    = 443
    wireguard     = 51820
    bgp           = 179
    ssh           = 22
  }

  etcd_peer_cidrs = [for name, ip in var.etcd_peers : "${ip}/32"]

  region_rules = [
    { name = "edge-http", protocol = "tcp", from_port = local.ports.edge_http, to_port = local.ports.edge_http, cidrs = ["0.0.0.0/0"] },
    { name = "edge-https", protocol = "tcp", from_port = local.ports.edge_https, to_port = local.ports.edge_https, cidrs = ["0.0.0.0/0"] },
    { name = "wireguard", protocol = "udp", from_port = local.ports.wireguard, to_port = local.ports.wireguard, cidrs = var.wireguard_peer_cidrs },
    { name = "bgp", protocol = "tcp", from_port = local.ports.bgp, to_port = local.ports.bgp, cidrs = var.bgp_peer_cidrs },
    { name = "zone-api", protocol = "tcp", from_port = local.ports.zone_http, to_port = local.ports.zone_http, cidrs = var.admin_cidrs },
    { name = "dns-udp", protocol = "udp", from_port = local.ports.dns, to_port = local.ports.dns, cidrs = var.admin_cidrs },
    { name = "dns-tcp", protocol = "tcp", from_port = local.ports.dns, to_port = local.ports.dns, cidrs = var.admin_cidrs },
    { name = "proxy-admin", protocol = "tcp", from_port = local.ports.ingress_admin, to_port = local.ports.edge_admin, cidrs = var.admin_cidrs },
    { name = "ssh", protocol = "tcp", from_port = local.ports.ssh, to_port = local.ports.ssh, cidrs = var.ssh_cidrs },
  ]

  global_rules = [
    { name = "federation", protocol = "tcp", from_port = local.ports.federation, to_port = local.ports.federation, cidrs = var.federation_cidrs },
    { name = "admin-api", protocol = "tcp", from_port = local.ports.admin, to_port = local.ports.admin, cidrs = var.admin_cidrs },
    { name = "etcd", protocol = "tcp", from_port = local.ports.etcd_client, to_port = local.ports.etcd_peer, cidrs = local.etcd_peer_cidrs },
    { name = "ssh", protocol = "tcp", from_port = local.ports.ssh, to_port = local.ports.ssh, cidrs = var.ssh_cidrs },
  ]

  # A rule nobody may use is no rule at all.
  firewall_rules = [for rule in(var.role == "region" ? local.region_rules : local.global_rules) : rule if length(rule.cidrs) > 0]

  bootstrap_args = concat(
    ["--role", var.role, "--node-name", var.node_name],
    var.role == "region" ? ["--region", var.region, "--global", var.global_address, "--tunnel-address", var.tunnel_address] : [],
    var.public_address != "" ? ["--public-address", var.public_address] : [],
    var.role == "global" ? ["--trust-domain", var.trust_domain] : [],
    var.role == "global" && length(var.etcd_peers) > 0 ? ["--etcd-peers", join(",", [for name, ip in var.etcd_peers : "${name}=http://${ip}:${local.ports.etcd_peer}"])] : [],
  )

  # Secrets go to bootstrap as files (--NAME-file), never on its command
  # line; an empty one is left out (bootstrap then generates it, on global
  # nodes). A value given here is in the user data (and Terraform's state); a
  # parameter (secret_parameters) is read on the node at boot instead, so
  # neither holds it.
  all_secrets       = var.role == "region" ? { "join-token" = var.join_token } : { "admin-token" = var.admin_token, "data-key" = var.data_key }
  secrets           = { for name, value in local.all_secrets : name => value if value != "" }
  secret_parameters = { for name, parameter in var.secret_parameters : name => parameter if contains(keys(local.all_secrets), name) }
}

check "secret_sources" {
  assert {
    condition     = length(setintersection(keys(local.secrets), keys(var.secret_parameters))) == 0 && (length(var.secret_parameters) == 0 || var.secret_parameters_region != "")
    error_message = "give each secret either as a value or as a parameter (secret_parameters), not both; secret_parameters needs secret_parameters_region."
  }
}

check "region_inputs" {
  assert {
    condition     = var.role != "region" || (var.region != "" && var.global_address != "" && var.tunnel_address != "" && var.public_address != "")
    error_message = "a region node needs region, global_address, tunnel_address and public_address (its WireGuard endpoint)."
  }
}

check "global_inputs" {
  assert {
    condition     = var.role != "global" || length(var.etcd_peers) == 0 || contains(keys(var.etcd_peers), var.node_name)
    error_message = "etcd_peers must list this node (node_name)."
  }
}
