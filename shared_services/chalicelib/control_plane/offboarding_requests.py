"""Offboarding through the admin API: who may ask for it, the confirmation, the grace period.

A SystemAdmin asks for a tenant's offboarding by typing the tenant's name back
(``confirmTenantName``, exactly as recorded): a mistyped id cannot erase another tenant. The
tenant is deactivated at once (users disabled, keys off, a Platinum deployment stopped: as
``DELETE /tenant/{id}`` does) and can be brought back, with everything, until the grace period
ends (``DELETE /tenant/offboarding/{id}`` undoes it and activates the tenant again). After that
the offboarder (``pipeline.lifecycle.offboarding``) exports and erases; the record, then the
tombstone, says where it is. CustomerSupport may read an offboarding; nobody else.
"""

from __future__ import annotations

from typing import Any

from chalicelib.control_plane.tenant_management import TenantManagement
from tenant_context.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from tenant_context.platform.tenant_offboarding import (
    OFFBOARDING_ATTRIBUTE,
    OffboardingConflict,
    TenantOffboarding,
    TenantOffboardings,
)
from tenant_context.platform.tenant_records import TOMBSTONE_ATTRIBUTE
from tenant_context.service.context import TenantContext
from tenant_context.tenancy import Role

DEFAULT_GRACE_SECONDS = 3 * 24 * 3600.0  # three days to notice a mistake


def offboarding_route(tenant_id: str) -> str:
    return f"/tenant/offboarding/{tenant_id}"


class OffboardingRequests:
    def __init__(self, caller: TenantContext, tenants: TenantManagement,
                 offboardings: TenantOffboardings, grace_seconds: float) -> None:
        self._caller = caller
        self._tenants = tenants
        self._offboardings = offboardings
        self._grace_seconds = grace_seconds

    def _require(self, *roles: Role) -> None:
        if self._caller.role not in roles:
            raise ForbiddenError(f"{self._caller.role} may not do this")

    def _row(self, tenant_id: str) -> dict[str, Any]:
        row = self._offboardings.read(tenant_id)
        if row is None:
            raise NotFoundError("Tenant not found")
        return row

    def request(self, tenant_id: str, confirm_name: str) -> TenantOffboarding:
        self._require(Role.SYSTEM_ADMIN)
        row = self._row(tenant_id)
        if TOMBSTONE_ATTRIBUTE in row:
            raise ConflictError(f"tenant {tenant_id} was offboarded at "
                                f"{row[TOMBSTONE_ATTRIBUTE]}")
        current = self._offboardings.get(tenant_id)
        if current is not None and current.step.active:
            raise ConflictError(f"tenant {tenant_id} is already being offboarded (now "
                                f"{current.step}): follow it with GET "
                                f"{offboarding_route(tenant_id)}")
        record = self._tenants.get(tenant_id)
        if confirm_name != record.tenant_name:
            raise BadRequestError("confirmTenantName: type the tenant's name exactly as "
                                  "recorded to confirm its offboarding",
                                  fields=["confirmTenantName"])
        self._tenants.deactivate(tenant_id)  # 409 while a move is under way
        try:
            return self._offboardings.request(record, self._caller.user_name,
                                              self._grace_seconds)
        except OffboardingConflict as conflict:
            raise ConflictError(str(conflict)) from None

    def cancel(self, tenant_id: str) -> TenantOffboarding:
        """Undo within the grace period: the tenant comes back as it was, active."""
        self._require(Role.SYSTEM_ADMIN)
        current = self.get(tenant_id)
        try:
            cancelled = self._offboardings.cancel(tenant_id, current, self._caller.user_name)
        except OffboardingConflict as conflict:
            raise ConflictError(str(conflict)) from None
        self._tenants.activate(tenant_id)
        return cancelled

    def get(self, tenant_id: str) -> TenantOffboarding:
        self._require(Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT)
        found = self._row(tenant_id).get(OFFBOARDING_ATTRIBUTE)
        if found is None:
            raise NotFoundError(f"tenant {tenant_id} has no offboarding")
        return TenantOffboarding.from_item(found)
