# One AWS region's network for Meridian nodes: a VPC, public subnets in two
# availability zones and their route to the internet, and the Debian 12 image.
# AWS-specific, so it lives with the example; bring your own VPC by passing
# your subnet IDs and image to the modules instead.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "name" {
  description = "Name tag of the VPC and its parts."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range; each subnet gets a /24 of it."
  type        = string
}

variable "architecture" {
  description = "amd64 or arm64, matching the instance types."
  type        = string
  default     = "amd64"
}

data "aws_availability_zones" "available" {
  state = "available"
}

# Debian's own account publishes the official images.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-${var.architecture}-*"]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count                   = 2
  vpc_id                  = aws_vpc.this.id
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  cidr_block              = cidrsubnet(var.cidr_block, 8, count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name}-${data.aws_availability_zones.available.names[count.index]}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

output "subnet_ids" {
  description = "The public subnets, one per availability zone."
  # The route must exist before a node boots and fetches its packages.
  value      = aws_subnet.public[*].id
  depends_on = [aws_route_table_association.public]
}

output "ami_id" {
  description = "The newest official Debian 12 image of this region."
  value       = data.aws_ami.debian.id
}
