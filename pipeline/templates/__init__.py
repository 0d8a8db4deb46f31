"""CloudFormation of the aws target: one stack per deployment, from ``chalice package``."""
