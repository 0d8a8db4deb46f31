"""The aws target's deployer: ``python -m pipeline.deploy ... --target aws``.

One module per job, each handed its collaborators:
- ``calls``: the ONE seam every AWS call goes through (boto3, or a dry run that prints it);
- ``http``: the same for calls to the deployed admin API;
- ``placeholders``: what a dry run pretends AWS and the admin API answered;
- ``artifacts``: the deployment bucket (content-addressed uploads) and the template rewrite;
- ``stacks``: deploying one stack with change sets and reading its outputs;
- ``pooled``, ``tenants``, ``silos``: the three commands (``make deploy-pooled``,
  ``make onboard-tenant``, ``make deploy-tenants``);
- ``wiring``: which of the above a run gets (real or dry run).
"""
