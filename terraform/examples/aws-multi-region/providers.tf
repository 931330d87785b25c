# One provider configuration per AWS region. The Meridian region names (fra,
# iad, sin) are the aliases; the global tier gets its own configuration.
provider "aws" {
  region = var.global_aws_region
}

provider "aws" {
  alias  = "fra"
  region = "eu-central-1"
}

provider "aws" {
  alias  = "iad"
  region = "us-east-1"
}

provider "aws" {
  alias  = "sin"
  region = "ap-southeast-1"
}

# Global Accelerator's API lives in us-west-2, whatever regions it serves.
provider "aws" {
  alias  = "global_accelerator"
  region = "us-west-2"
}
