variable "name" {
  description = "Prefix of every name and tag this module creates."
  type        = string
  default     = "meridian"
}

variable "node_count" {
  description = "Global nodes, each running an etcd member and a global controller replica: 3 (survives one loss) or 1 (a trial)."
  type        = number
  default     = 3

  validation {
    condition     = contains([1, 3, 5], var.node_count)
    error_message = "node_count must be 1, 3 or 5 (etcd needs an odd number of members)."
  }
}

variable "subnet_ids" {
  description = "Public subnets for the nodes and the load balancer, ideally one per availability zone; node i goes to subnet i mod n."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "ami_id" {
  description = "The image: Debian 12 or Ubuntu 22.04+ (systemd 248 or later), amd64 or arm64 to match instance_type."
  type        = string
}

variable "instance_type" {
  description = "The instance type of the global nodes."
  type        = string
  default     = "t3.medium"
}

variable "root_volume_gb" {
  description = "Root volume size; etcd's data lives there."
  type        = number
  default     = 30
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

variable "admin_token_parameter" {
  description = "The SSM Parameter Store SecureString, in the global tier's AWS region, that holds the admin API token (16+ characters, e.g. `openssl rand -hex 32`). Created outside Terraform; each node reads it at boot with its instance role, so the token is in neither the user data nor Terraform's state."
  type        = string
  default     = "/meridian/admin-token"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.admin_token_parameter))
    error_message = "admin_token_parameter must be a parameter name starting with /."
  }
}

variable "data_key_parameter" {
  description = "The SSM Parameter Store SecureString that holds the key sealing the mesh CA's private key in etcd, the same for every global node (`openssl rand -hex 32`). Losing it loses the CA: keep a copy outside AWS too."
  type        = string
  default     = "/meridian/data-key"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.data_key_parameter))
    error_message = "data_key_parameter must be a parameter name starting with /."
  }
}

variable "parameters_kms_key_arn" {
  description = "The KMS key of the SecureString parameters (empty: the AWS managed key alias/aws/ssm)."
  type        = string
  default     = ""
}

variable "trust_domain" {
  description = "The SPIFFE trust domain of the mesh's identities (spiffe://<trust_domain>/region/...)."
  type        = string
  default     = "meridian.local"
}

variable "federation_cidrs" {
  description = "Who may reach the federation port 7400: the region nodes' public addresses as /32s."
  type        = list(string)
}

variable "admin_cidrs" {
  description = "Who may reach the admin API (HTTPS) on 7401 besides the VPC itself: the operators' networks."
  type        = list(string)
  default     = []
}

variable "ssh_cidrs" {
  description = "Who may reach SSH on the nodes (empty: nobody)."
  type        = list(string)
  default     = []
}

variable "internal_load_balancer" {
  description = "Make the load balancer internal (the regions then reach it over a VPC peering or a VPN you provide)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
