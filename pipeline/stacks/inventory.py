"""What the pooled baseline consists of, for both targets: tables, pools, the first user, the
tenant-access role, tier plans, and the seeded ``pooled`` deployment row."""

from __future__ import annotations

from tenant_context.platform.definitions import (
    ADMIN_API,
    CONTROL_PLANE_TABLES,
    OPERATIONS_POOL,
    PLATFORM_TABLES,
    POOLED_DATA_TABLES,
    POOLED_TENANT_POOL,
    api_name,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES

TABLES = (*CONTROL_PLANE_TABLES, *PLATFORM_TABLES, *POOLED_DATA_TABLES)
USER_POOLS = (OPERATIONS_POOL, POOLED_TENANT_POOL)
POOLED_STACK_NAME = "stack-pooled"

# API names (locally also the API ids; in AWS the deployer records the real ids).
ADMIN_API_NAMES = (ADMIN_API,)
POOLED_API_NAMES = tuple(api_name(POOLED_DEPLOYMENT, service.name)
                         for service in TENANT_SERVICES)
# Each tenant service's listing route (``/products`` ...): what banners and checks name.
LISTING_PATHS = tuple(f"{service.route_prefix}s" for service in TENANT_SERVICES)
