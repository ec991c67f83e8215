# ecs-service 1.5.0 (a stand-in module: terraform_data needs no provider and no network)
resource "terraform_data" "service" {
  input = {
    name    = var.name
    version = "1.5.0"
  }
}
