"""Records as the web apps expect them (field names and JSON types of the REST contract)."""

from __future__ import annotations

from typing import Any

from chalicelib.control_plane.user_management import UserView
from tenant_context.platform.tenant_records import TenantRecord


def tenant_summary(tenant: TenantRecord) -> dict[str, Any]:
    """An item of GET /tenants (the admin console's columns; never keys or pool ids)."""
    return {"tenantId": tenant.tenant_id, "tenantName": tenant.tenant_name,
            "tenantEmail": tenant.tenant_email, "tenantPhone": tenant.tenant_phone,
            "tenantAddress": tenant.tenant_address, "tenantTier": tenant.tier.value,
            "isActive": tenant.is_active, "createdAt": tenant.created_at}


def tenant_detail(tenant: TenantRecord) -> dict[str, Any]:
    """The ``message`` of GET /tenant/{id}."""
    return {"tenant_id": tenant.tenant_id, "tenant_name": tenant.tenant_name,
            "tenant_email": tenant.tenant_email, "tenant_phone": tenant.tenant_phone,
            "tenant_address": tenant.tenant_address, "tenant_tier": tenant.tier.value,
            "is_active": tenant.is_active}


def user_detail(view: UserView) -> dict[str, Any]:
    """An item of GET /users, and the ``message`` of GET /user/{name}."""
    record, cognito = view.record, view.cognito
    return {"user_name": record.user_name, "email": cognito.email if cognito else "",
            "user_role": record.role.value, "tenant_id": record.tenant_id,
            "enabled": record.enabled and bool(cognito and cognito.enabled),
            "status": cognito.status if cognito else "UNKNOWN",
            "created": (cognito.created if cognito else "") or record.created_at,
            "modified": (cognito.modified if cognito else "") or record.modified_at}
