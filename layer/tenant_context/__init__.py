"""Tenant-context helpers shared by every function of the platform (shipped as ONE Lambda layer).

Two kinds of code, one zip:
- ``tenant_context.service``: what every service function runs per request (who is calling,
  the Chalice app every service starts from, tenant-scoped tables and items, request bodies,
  errors to responses, logs and metrics);
- ``tenant_context.platform``: what the platform is made of and what its control plane records
  (resource definitions, tenant, user and deployment records, settings, session policies, the
  typed AWS clients), read by the authorizer, the control plane and the deployers; the tenant
  services never need it.
Both build on the modules here: ``tenant_services`` (the registry: the ONE list of tenant
services), ``config`` (every environment variable, read once), ``tenancy`` (tiers, roles,
tenant ids), ``errors`` (the one error hierarchy) and ``attribute_values`` (DynamoDB's value
format).

Import the module you need: no package here does I/O at import time (the registry only checks
its own entries), so a function pays only for what it uses on a cold start.
"""
