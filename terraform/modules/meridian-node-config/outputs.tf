output "user_data" {
  description = "The cloud-init user data (a shell script): installs Node.js 20 and Meridian, fetches the secrets named in secret_parameters with the instance role, then runs `meridian bootstrap`. Holds the secrets given as values (join_token, admin_token, data_key), none of those given as parameters."
  sensitive   = true
  value = templatefile("${path.module}/user-data.sh.tftpl", {
    node_name        = var.node_name
    role             = var.role
    install_nodejs   = var.install_nodejs
    meridian_package = var.meridian_package
    host_firewall    = var.host_firewall
    firewall_rules   = local.firewall_rules
    ingress_port     = local.ports.ingress
    extra_script     = var.extra_script
    bootstrap_args   = join(" ", local.bootstrap_args)
    secrets          = local.secrets
    parameters       = local.secret_parameters
    aws_region       = var.secret_parameters_region
  })
}

output "firewall_rules" {
  description = "The inbound rules of the node's role: name, protocol, from_port, to_port and the allowed source CIDRs (outbound is open)."
  value       = local.firewall_rules
}

output "ports" {
  description = "The ports Meridian listens on, by name."
  value       = local.ports
}
