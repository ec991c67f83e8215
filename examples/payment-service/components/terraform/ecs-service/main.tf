# A stand-in for an ECS service module (terraform_data only; applies offline). It receives the image
# built from services/api (bound by the label app=payment-api) and the VPC's subnets.
variable "cluster_name" {
  type = string
}

variable "task_definition" {
  type = string
}

variable "image" {
  type    = string
  default = ""
}

variable "subnet_ids" {
  type    = string
  default = ""
}

variable "cpu" {
  type = number
}

variable "memory" {
  type = number
}

variable "replicas" {
  type    = number
  default = 1
}

variable "desired_count" {
  type    = number
  default = 1
}

variable "port" {
  type    = number
  default = 8080
}

variable "health_check_path" {
  type    = string
  default = "/"
}

variable "log_level" {
  type    = string
  default = "info"
}

variable "autoscale" {
  type = object({
    enabled = bool
    min     = number
    max     = number
  })
  default = { enabled = false, min = 1, max = 1 }
}

resource "terraform_data" "service" {
  input = {
    cluster   = var.cluster_name
    task      = var.task_definition
    image     = var.image
    cpu       = var.cpu
    memory    = var.memory
    replicas  = var.replicas
    log_level = var.log_level
    subnets   = var.subnet_ids
  }
}

output "service_name" {
  value = "${var.task_definition}-${substr(sha256(terraform_data.service.id), 0, 6)}"
}

output "image" {
  value = var.image
}
