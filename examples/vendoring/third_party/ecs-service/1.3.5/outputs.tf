output "module_version" {
  value = "1.3.5"
}

output "service_name" {
  value = terraform_data.service.output.name
}
