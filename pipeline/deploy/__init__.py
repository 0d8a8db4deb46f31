"""``make deploy-pooled``, ``make onboard-tenant`` and ``make deploy-tenants`` for both targets
(``python -m pipeline.deploy``): ``cli`` routes a command to ``aws`` (CloudFormation, change
sets, dry runs) or ``local`` (the running ``make local``)."""
