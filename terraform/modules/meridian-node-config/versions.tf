# Cloud-agnostic: no provider. Renders what every Meridian node needs from
# its platform: the user data that runs `meridian bootstrap`, and the
# firewall rules of its role (applied by a cloud firewall, or on the host).
terraform {
  required_version = ">= 1.5.0"
}
