output "module_version" {
  value = "1.5.0"
}

output "service_name" {
  value = terraform_data.service.output.name
}
