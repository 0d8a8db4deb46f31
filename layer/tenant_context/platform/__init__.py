"""What the platform is made of and what its control plane records.

- ``definitions``: the ONE source of table schemas, user-pool settings, tier usage plans and API
  names, rendered by the deployers (CloudFormation and the local emulator alike);
- ``tenant_records``, ``deployments``, ``platform_settings``, ``baseline_records``: the rows the
  control plane writes and the authorizer and the deployers read;
- ``session_policies``: the IAM document that scopes a caller's credentials to its tenant;
- ``invitations``: how a new user gets a temporary password;
- ``aws_clients``: the typed AWS clients of one session, for code that calls several services.
Tenant services (products, orders, any added with ``make new-service``) never import it: a
tenant service needs only ``tenant_context.service`` and the registry
(``tenant_context.tenant_services``).
"""
