"""The aws target's deployer: ``python -m pipeline.deploy ... --target aws``.

One module per job, each handed its collaborators:
- ``calls``: the ONE seam every AWS call goes through (boto3, or a dry run that prints it);
- ``admin_api_http``: the same for calls to the deployed admin API;
- ``placeholders``: what a dry run pretends AWS and the admin API answered;
- ``artifacts``: the deployment bucket (content-addressed uploads) and the template rewrite;
- ``change_sets``: deploying one stack with change sets and reading its outputs;
- ``deploy_pooled``, ``onboard_tenant``, ``deploy_tenants``: the three commands
  (``make deploy-pooled``, ``make onboard-tenant``, ``make deploy-tenants``);
- ``worlds``: which of the above a run gets (real or dry run);
- ``console``, ``deploy_error``, ``packaged``: progress lines, the one error, the inputs.
"""
