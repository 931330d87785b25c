variable "role" {
  description = "global (etcd and the global controller) or region (zone controller, edge, ingress, WireGuard, BIRD)."
  type        = string

  validation {
    condition     = contains(["global", "region"], var.role)
    error_message = "role must be \"global\" or \"region\"."
  }
}

variable "node_name" {
  description = "The node's name in the mesh (a DNS label); also its etcd member name on global nodes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.node_name))
    error_message = "node_name must be a DNS label: a-z, 0-9 and '-'."
  }
}

variable "region" {
  description = "Region nodes: the Meridian region name (at most 11 characters: the tunnel interface is mrd-<region>)."
  type        = string
  default     = ""

  validation {
    condition     = var.region == "" || can(regex("^[a-z0-9]([-a-z0-9]{0,9}[a-z0-9])?$", var.region))
    error_message = "region must be a DNS label of at most 11 characters."
  }
}

variable "global_address" {
  description = "Region nodes: the global controller's federation address, HOST:PORT."
  type        = string
  default     = ""
}

variable "join_token" {
  description = "Region nodes: the zone controller's join token (`meridian token create --region <region>`)."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.join_token == "" || can(regex("^[A-Za-z0-9._~+/=:-]{8,}$", var.join_token))
    error_message = "join_token has characters a Meridian token cannot have."
  }
}

variable "admin_token" {
  description = "Global nodes: the admin API token (empty: the node generates one and keeps it in /etc/meridian/tokens)."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.admin_token == "" || can(regex("^[A-Za-z0-9._~+/=:-]{16,}$", var.admin_token))
    error_message = "admin_token must be at least 16 characters of A-Z, a-z, 0-9 and ._~+/=:-"
  }
}

variable "data_key" {
  description = "Global nodes: the key that seals the mesh CA in etcd, the same on every global node (`openssl rand -hex 32`; empty: the node generates one, which suits a single global node only)."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.data_key == "" || can(regex("^[A-Za-z0-9+/=_-]{32,}$", var.data_key))
    error_message = "data_key must be at least 32 characters of hex or base64 (openssl rand -hex 32)."
  }
}

variable "secret_parameters" {
  description = "SSM Parameter Store SecureString names by secret (region nodes: join-token; global nodes: admin-token, data-key), read at boot with the instance role (aws CLI) instead of carrying the value in user data. A secret named here must not also be given as a value."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, parameter in var.secret_parameters : contains(["join-token", "admin-token", "data-key"], name) && can(regex("^/[A-Za-z0-9_./-]+$", parameter))])
    error_message = "secret_parameters maps join-token, admin-token or data-key to a parameter name such as /meridian/fra/join-token."
  }
}

variable "secret_parameters_region" {
  description = "The AWS region of secret_parameters (the node's own, usually)."
  type        = string
  default     = ""
}

variable "trust_domain" {
  description = "Global nodes: the SPIFFE trust domain of the mesh's identities."
  type        = string
  default     = "meridian.local"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.trust_domain))
    error_message = "trust_domain must be lower-case DNS labels separated by dots, e.g. meridian.local."
  }
}

variable "etcd_peers" {
  description = "Global nodes: every etcd member, this node included, as node name => private IPv4 address."
  type        = map(string)
  default     = {}
}

variable "public_address" {
  description = "The node's public IPv4 address. Region nodes: required, the WireGuard endpoint the other regions send to (UDP 51820)."
  type        = string
  default     = ""
}

variable "tunnel_address" {
  description = "Region nodes: the region's address in the tunnel range, e.g. 10.99.1.1 (or 10.99.1.1/32); the Region resource's tunnel.address."
  type        = string
  default     = ""

  validation {
    condition     = var.tunnel_address == "" || can(regex("^\\d+\\.\\d+\\.\\d+\\.\\d+(/32)?$", var.tunnel_address))
    error_message = "tunnel_address must be an IPv4 address, alone or as /32."
  }
}

variable "meridian_package" {
  description = "What `npm install --global` installs: a release tarball URL (https://.../meridian-0.1.0.tgz) or a registry spec."
  type        = string

  validation {
    condition     = length(var.meridian_package) > 0 && !can(regex("['\"\\s]", var.meridian_package))
    error_message = "meridian_package must be non-empty, without quotes or spaces."
  }
}

variable "install_nodejs" {
  description = "Install Node.js 20 from NodeSource when the image has no Node 20 (false: the image brings it)."
  type        = bool
  default     = true
}

variable "host_firewall" {
  description = "Also enforce the firewall rules on the host with nftables (for platforms without a cloud firewall)."
  type        = bool
  default     = false
}

variable "wireguard_peer_cidrs" {
  description = "Region nodes: the other regions' node addresses, the only sources allowed to reach WireGuard (UDP)."
  type        = list(string)
  default     = []
}

variable "bgp_peer_cidrs" {
  description = "Region nodes: the provider's BGP routers, the only sources allowed to reach TCP 179."
  type        = list(string)
  default     = []
}

variable "federation_cidrs" {
  description = "Global nodes: who may reach the federation port (the region nodes' addresses)."
  type        = list(string)
  default     = []
}

variable "admin_cidrs" {
  description = "Who may reach the admin ports (admin API, zone registry, DNS, metrics): operators and private networks."
  type        = list(string)
  default     = []
}

variable "ssh_cidrs" {
  description = "Who may reach SSH (empty: nobody)."
  type        = list(string)
  default     = []
}

variable "extra_script" {
  description = "Shell commands run as root before `meridian bootstrap` (platform networking, for example)."
  type        = string
  default     = ""
}
