# A stand-in for an EKS cluster module (terraform_data only; applies offline).
variable "cluster_name" {
  type = string
}

variable "kubernetes_version" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "terraform_data" "cluster" {
  input = {
    name    = var.cluster_name
    version = var.kubernetes_version
  }
}

output "cluster_name" {
  value = var.cluster_name
}

output "cluster_endpoint" {
  value = "https://${substr(sha256(terraform_data.cluster.id), 0, 16)}.eks.example.internal"
}
