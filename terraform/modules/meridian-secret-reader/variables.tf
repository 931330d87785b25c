variable "name_prefix" {
  description = "Name prefix of the role and the instance profile."
  type        = string
}

variable "parameter_names" {
  description = "SSM parameter names (starting with /) the nodes may read."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "The KMS key the parameters are encrypted with; empty for the account's aws/ssm key."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags for the role and the instance profile."
  type        = map(string)
  default     = {}
}
