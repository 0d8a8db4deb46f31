"""Rolling a release out over the fleet, the same way on every target: ``release_plan`` (which
deployments, in which waves, from the tenant-stack-mapping rows), ``rollout`` (the pooled
deployment, then each wave with bounded concurrency, a failure threshold and approval, every
outcome recorded on its row) and ``release_tables`` (the final table, and what each deployment
runs now). The deployer is passed in: CloudFormation on AWS, the running platform locally."""
