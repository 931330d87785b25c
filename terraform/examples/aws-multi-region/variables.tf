variable "meridian_package" {
  description = "What every node `npm install --global`s: the URL of a Meridian release tarball (`npm pack`), or a registry spec."
  type        = string
}

variable "parameter_prefix" {
  description = "Where the secrets are in SSM Parameter Store (SecureString), created outside Terraform: <prefix>/admin-token and <prefix>/data-key in global_aws_region, <prefix>/<region>/join-token in each region's AWS region. The nodes read them at boot with their instance roles; Terraform never holds the values."
  type        = string
  default     = "/meridian"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$", var.parameter_prefix))
    error_message = "parameter_prefix must start with / and not end with one, e.g. /meridian."
  }
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
