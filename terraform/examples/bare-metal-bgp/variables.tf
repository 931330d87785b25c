variable "metal_project_id" {
  description = "The Equinix Metal project: BGP enabled with deployment type \"global\" (needed to announce a global anycast address) and no BGP password."
  type        = string
}

variable "regions" {
  description = "Meridian regions by name: the metro of each one's node, its tunnel address (10.99.x.1/32) and where it is."
  type = map(object({
    metro          = string
    tunnel_address = string
    display_name   = string
    latitude       = number
    longitude      = number
  }))
  default = {
    fra = { metro = "fr", tunnel_address = "10.99.1.1/32", display_name = "Frankfurt", latitude = 50.11, longitude = 8.68 }
    iad = { metro = "dc", tunnel_address = "10.99.2.1/32", display_name = "Ashburn", latitude = 38.95, longitude = -77.45 }
    sin = { metro = "sg", tunnel_address = "10.99.3.1/32", display_name = "Singapore", latitude = 1.35, longitude = 103.99 }
  }
}

variable "global_metro" {
  description = "The metro of the global node (etcd and the global controller)."
  type        = string
  default     = "dc"
}

variable "plan" {
  description = "The Equinix Metal server plan of every node."
  type        = string
  default     = "c3.small.x86"
}

variable "operating_system" {
  description = "The operating system slug (Debian 12 or Ubuntu 22.04+)."
  type        = string
  default     = "debian_12"
}

variable "meridian_package" {
  description = "What every node `npm install --global`s: the URL of a Meridian release tarball (`npm pack`), or a registry spec."
  type        = string
}

variable "admin_token" {
  description = "The global controller's admin API token (`openssl rand -hex 32`)."
  type        = string
  sensitive   = true
}

variable "data_key" {
  description = "The key that seals the mesh CA in etcd (`openssl rand -hex 32`); keep a copy outside Terraform's state."
  type        = string
  sensitive   = true
}

variable "join_tokens" {
  description = "Join tokens by region name from `meridian token create --region NAME`; empty for the first apply of the global node."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "operator_cidrs" {
  description = "Networks allowed to reach the admin API and the regions' admin ports."
  type        = list(string)
}

variable "ssh_cidrs" {
  description = "Networks allowed to SSH to the nodes (empty: nobody)."
  type        = list(string)
  default     = []
}
