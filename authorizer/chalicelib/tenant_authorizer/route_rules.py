"""Which routes a role may call on which API.

API Gateway caches an authorizer's policy per token (per API), so the policy must list every
route the caller may use on that API, not just the current one. Paths use ``*`` as API Gateway
resource ARNs do; a TenantAdmin's tenant routes name its own tenant id, and a TenantUser's user
routes its own user name, so even the gateway refuses another tenant's or user's path.

- admin API: SystemAdmin everything; CustomerSupport every GET (read-only); TenantAdmin its own
  tenant, its own tenant's usage (GET /tenant/{id}/usage) and its tenant's users (not GET
  /tenants, not GET /usage, not PUT /tenant/activation/*); TenantUser GET/PUT of its own
  /user/{name}.
- tenant API: tenant roles, on their own deployment only (pooled, or their Platinum silo);
  SaaS-provider staff have no tenant data to reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from tenant_context.service.context import TenantContext
from tenant_context.tenancy import Role


@dataclass(frozen=True)
class RouteRule:
    method: str  # an HTTP verb or "*"
    path: str  # without the leading "/"; "*" matches anything, "/" included


class ApiKind(Enum):
    ADMIN = "admin"
    OWN_TENANT_API = "own-tenant-api"
    OTHER = "other"  # another deployment's tenant API, or an API we do not know


ALL = (RouteRule("*", "*"),)
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")  # what may appear literally in a resource ARN


def allowed_routes(api: ApiKind, caller: TenantContext) -> tuple[RouteRule, ...]:
    if api is ApiKind.OWN_TENANT_API:
        return () if caller.is_operations else ALL
    if api is not ApiKind.ADMIN:
        return ()
    if caller.role is Role.SYSTEM_ADMIN:
        return ALL
    if caller.role is Role.CUSTOMER_SUPPORT:
        return (RouteRule("GET", "*"),)
    if caller.role is Role.TENANT_ADMIN:
        own_tenant = f"tenant/{caller.tenant_id}"
        return (
            RouteRule("GET", own_tenant), RouteRule("PUT", own_tenant),
            RouteRule("DELETE", own_tenant), RouteRule("GET", f"{own_tenant}/usage"),
            RouteRule("POST", "user"), RouteRule("GET", "users"),
            RouteRule("GET", "user/*"), RouteRule("PUT", "user/*"), RouteRule("DELETE", "user/*"),
        )
    if not _SAFE_SEGMENT.fullmatch(caller.user_name):
        return ()  # cannot be named exactly in an ARN: refuse rather than widen to user/*
    own_user = f"user/{caller.user_name}"
    return (RouteRule("GET", own_user), RouteRule("PUT", own_user))
