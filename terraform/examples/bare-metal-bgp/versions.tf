terraform {
  required_version = ">= 1.5.0"

  required_providers {
    equinix = {
      source = "equinix/equinix"
      # Metal resources stay in the 4.x line of the provider.
      version = "~> 4.0"
    }
  }
}

# Reads METAL_AUTH_TOKEN from the environment.
provider "equinix" {}
