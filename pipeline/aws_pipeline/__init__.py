"""The tenant pipeline's work on AWS's own engines: what the functions behind the DynamoDB stream
and the Step Functions tasks do (``provisioning_events``, ``stack_tasks``) and the state
machines that order them (``state_machines``). The same deployer code as ``make deploy-tenants``
and ``make release`` (``pipeline.deploy.aws.change_sets``, ``pipeline.rollout``), one short
call at a time."""
