"""Deployments coming up in the emulator, as CloudFormation and the tenant pipeline bring them up
in AWS: ``baseline_bootstrap`` (the pooled baseline; what the emulator's CloudFormation skips, by
API calls), ``emulated_stack`` (the plain part of a stack through the emulator's CloudFormation),
``tenant_provisioner`` (follows the tenant-stack-mapping table) and ``silo_launcher`` (one
Platinum tenant's tables and services)."""
