"""What the platform is made of and what its control plane records.

- ``definitions``: the ONE source of table schemas, user-pool settings, tier usage plans and API
  names, rendered by the deployers (CloudFormation and the local emulator alike);
- ``tenant_records``, ``deployments``, ``platform_settings``, ``baseline_records``: the rows the
  control plane writes and the authorizer and the deployers read;
- ``tenant_moves``, ``tenant_offboarding``: a tenant's move or offboarding, as its record
  keeps it (carried out by ``pipeline.lifecycle``);
- ``tenant_api_keys``: each tenant's own API key on its tier's plan;
- ``usage_records``, ``cost_model`` (with ``prices.json``): what a tenant used, and what that
  costs against what its tier pays;
- ``session_policies``: the IAM document that scopes a caller's credentials to its tenant;
- ``invitations``: how a new user gets a temporary password;
- ``aws_clients``: the typed AWS clients of one session, for code that calls several services.
Tenant services (products, orders, any added with ``make new-service``) never import it: a
tenant service needs only ``tenant_context.service`` and the registry
(``tenant_context.tenant_services``).
"""
