output "instance_profile_name" {
  description = "The instance profile to give the nodes."
  value       = aws_iam_instance_profile.node.name
}
