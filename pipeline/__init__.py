"""Everything that builds, deploys and runs the platform outside its functions.

- ``stacks``: what each stack holds, rendered as CloudFormation (one source for both targets);
- ``packaging``: ``make layer`` and ``make package`` (the layer zip, ``chalice package``);
- ``deploy``: ``make deploy-pooled``, ``make onboard-tenant``, ``make deploy-tenants``: one
  CLI, an aws deployer and a local one;
- ``local_cloud``: the stand-in for AWS under ``make local``: the emulator, API Gateway
  (``api_gateway``: front door, usage plans, the authorizer step), the provisioning that brings
  stacks up in the emulator, process supervision and sign-in.
Nothing in the functions' runtime (the layer, the authorizer, the apps) imports it.
"""
