variable "region" {
  description = "The Meridian region name: a DNS label of at most 11 characters (fra, iad, sin)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,9}[a-z0-9])?$", var.region))
    error_message = "region must be a DNS label of at most 11 characters (the tunnel interface is mrd-<region>)."
  }
}

variable "location" {
  description = "Where the region is, for the Region resource (fallback cost between regions)."
  type = object({
    latitude  = number
    longitude = number
  })
}

variable "display_name" {
  description = "The Region resource's display name (empty: none)."
  type        = string
  default     = ""
}

variable "name" {
  description = "Prefix of every name and tag this module creates."
  type        = string
  default     = "meridian"
}

variable "tunnel_address" {
  description = "The region's address in the tunnel range, e.g. 10.99.1.1 (one per region; the zone controller routes the other regions' addresses through the tunnel). The Region resource's tunnel.address."
  type        = string

  validation {
    condition     = can(regex("^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.tunnel_address))
    error_message = "tunnel_address must be an IPv4 address, like 10.99.1.1."
  }
}

variable "subnet_ids" {
  description = "Public subnets of the region's VPC; the node goes to the first."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "ami_id" {
  description = "The image: Debian 12 or Ubuntu 22.04+ (systemd 248 or later, WireGuard in the kernel)."
  type        = string
}

variable "instance_type" {
  description = "The instance type of the region node."
  type        = string
  default     = "c6i.large"
}

variable "key_name" {
  description = "An EC2 key pair for SSH (null: none)."
  type        = string
  default     = null
}

variable "meridian_package" {
  description = "What the nodes `npm install --global`: a release tarball URL or a registry spec."
  type        = string
}

variable "global_address" {
  description = "The global controller's federation address, HOST:PORT (the global module's federation_address)."
  type        = string
}

variable "join_token_parameter" {
  description = "The SSM Parameter Store SecureString, in this region's AWS region, that holds the region's join token (`meridian token create --region <region>`), e.g. /meridian/fra/join-token. Put it there before the node boots; the node reads it at boot with its instance role, so the token is in neither the user data nor Terraform's state."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.join_token_parameter))
    error_message = "join_token_parameter must be a parameter name starting with /, e.g. /meridian/fra/join-token."
  }
}

variable "parameters_kms_key_arn" {
  description = "The KMS key of the SecureString parameters (empty: the AWS managed key alias/aws/ssm)."
  type        = string
  default     = ""
}

variable "wireguard_peer_cidrs" {
  description = "The other regions' node addresses as /32s: the only sources that may reach WireGuard (UDP 51820)."
  type        = list(string)
}

variable "bgp_peer_cidrs" {
  description = "The provider's BGP routers allowed to reach TCP 179 (empty on AWS, where Global Accelerator is the anycast front)."
  type        = list(string)
  default     = []
}

variable "admin_cidrs" {
  description = "Who may reach the admin ports (zone registry 7500, DNS 5353, proxy admin 7601-7602) besides the VPC itself."
  type        = list(string)
  default     = []
}

variable "ssh_cidrs" {
  description = "Who may reach SSH on the nodes (empty: nobody)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
