"""Who the platform serves: tiers, roles and the shape of tenant ids.

Tenant ids are uuid4 hex strings (32 lowercase hex characters, no ``-``). Pooled data is
partitioned by ``<tenantId>-<shard>`` and isolated by the prefix ``<tenantId>-``; because an id
never contains ``-`` and all ids have the same length, one tenant's prefix can never be the
prefix of another tenant's keys (tenant ``ab`` could otherwise read ``ab-c``'s partitions).
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import TypeGuard

_TENANT_ID = re.compile(r"[0-9a-f]{32}")

OPERATIONS_TENANT_ID = "operations"
"""Tenant id carried by SaaS-provider users (SystemAdmin, CustomerSupport); never a real tenant."""

POOLED_DEPLOYMENT = "pooled"
"""Deployment id of the shared (pooled) product and order services; silo deployments use the
tenant id."""


class Tier(StrEnum):
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"
    PLATINUM = "Platinum"

    @classmethod
    def parse(cls, value: object) -> Tier:
        """Tier names are matched case-insensitively and stored in canonical spelling."""
        if isinstance(value, str):
            for tier in cls:
                if tier.value.lower() == value.strip().lower():
                    return tier
        raise ValueError(f"unknown tier {value!r}; expected one of {', '.join(cls)}")

    @property
    def is_pooled(self) -> bool:
        return self is not Tier.PLATINUM

    def deployment_for(self, tenant_id: str) -> str:
        """The deployment serving a tenant of this tier: the pool, or the tenant's own silo."""
        return POOLED_DEPLOYMENT if self.is_pooled else tenant_id


class Role(StrEnum):
    SYSTEM_ADMIN = "SystemAdmin"
    CUSTOMER_SUPPORT = "CustomerSupport"
    TENANT_ADMIN = "TenantAdmin"
    TENANT_USER = "TenantUser"

    @classmethod
    def parse(cls, value: object) -> Role:
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        raise ValueError(f"unknown role {value!r}; expected one of {', '.join(cls)}")

    @property
    def is_operations(self) -> bool:
        """Roles of the SaaS provider's own staff, who live in the operations user pool."""
        return self in (Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT)


def new_tenant_id() -> str:
    return uuid.uuid4().hex


def is_tenant_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _TENANT_ID.fullmatch(value) is not None


def tenant_key_prefix(tenant_id: str) -> str:
    """The partition-key prefix that owns a pooled tenant's items (see module docstring)."""
    if not is_tenant_id(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    return f"{tenant_id}-"
