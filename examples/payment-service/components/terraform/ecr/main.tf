# A stand-in for an ECR repository module (terraform_data only; applies offline).
variable "name" {
  type = string
}

variable "image_tag_mutability" {
  type    = string
  default = "MUTABLE"
}

variable "image_scanning" {
  type    = bool
  default = false
}

variable "lifecycle_keep_images" {
  type    = number
  default = 10
}

resource "terraform_data" "repository" {
  input = {
    name       = var.name
    mutability = var.image_tag_mutability
    scanning   = var.image_scanning
  }
}

output "repository_url" {
  value = "123456789012.dkr.ecr.us-east-2.amazonaws.com/${var.name}"
}
