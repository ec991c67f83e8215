# A stand-in for a VPC module: terraform_data resources need no provider download, so the example
# rolls out offline. Replace with a real module (e.g. terraform-aws-modules/vpc) in your repository.
variable "name" {
  type = string
}

variable "cidr_block" {
  type = string
}

variable "az_count" {
  type = number
}

variable "nat_gateway_enabled" {
  type    = bool
  default = false
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "terraform_data" "vpc" {
  input = {
    name       = var.name
    cidr_block = var.cidr_block
    tags       = var.tags
  }
}

resource "terraform_data" "private_subnet" {
  count = var.az_count
  input = cidrsubnet(var.cidr_block, 8, count.index)
}

output "vpc_id" {
  value = "vpc-${substr(sha256(terraform_data.vpc.id), 0, 12)}"
}

output "private_subnet_ids" {
  value = join(",", [for s in terraform_data.private_subnet : "subnet-${substr(sha256(s.id), 0, 8)}"])
}
