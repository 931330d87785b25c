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
  description = "The key that seals the mesh CA in etcd, the same on the three global nodes (`openssl rand -hex 32`); keep a copy outside Terraform's state."
  type        = string
  sensitive   = true
}

variable "join_tokens" {
  description = "Join tokens by region (fra, iad, sin) from `meridian token create --region NAME`; empty for the first apply of the global tier."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "operator_cidrs" {
  description = "Networks allowed to reach the admin API and the regions' admin ports (your office or VPN, as CIDRs)."
  type        = list(string)
}

variable "ssh_cidrs" {
  description = "Networks allowed to SSH to the nodes (empty: nobody)."
  type        = list(string)
  default     = []
}

variable "key_name" {
  description = "The name of an EC2 key pair present in all four AWS regions, for SSH (null: none)."
  type        = string
  default     = null
}

variable "global_aws_region" {
  description = "The AWS region of the global tier (three nodes, etcd and the global controllers)."
  type        = string
  default     = "eu-west-1"
}

variable "global_instance_type" {
  description = "The instance type of the global nodes."
  type        = string
  default     = "t3.medium"
}

variable "region_instance_type" {
  description = "The instance type of the region nodes."
  type        = string
  default     = "c6i.large"
}

variable "health_check_protocol" {
  description = "How Global Accelerator checks an edge: TCP (a connection to health_check_port), or HTTP/HTTPS (health_check_path on that port must answer 200: a route of yours, since the edge's public listener answers only the routes you apply)."
  type        = string
  default     = "TCP"

  validation {
    condition     = contains(["TCP", "HTTP", "HTTPS"], var.health_check_protocol)
    error_message = "health_check_protocol must be TCP, HTTP or HTTPS."
  }
}

variable "health_check_port" {
  description = "The port Global Accelerator checks on each edge."
  type        = number
  default     = 443
}

variable "health_check_path" {
  description = "The path of an HTTP(S) health check."
  type        = string
  default     = "/healthz"
}
