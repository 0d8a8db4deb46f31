"""User management: who may create, see and change which users.

- SystemAdmin: SaaS-provider staff (SystemAdmin, CustomerSupport) in the operations pool, and
  users of any tenant (naming ``tenantId``); reads with ``?tenantid=`` (default: staff).
- CustomerSupport: reads, like a SystemAdmin.
- TenantAdmin: TenantAdmin and TenantUser users of its own tenant only.
- TenantUser: reads itself and may change its own email, never its role.
Another tenant's user is reported as not found, never as forbidden. A tenant's users are listed
from its own records (its user records, and its group or pool in Cognito), every page of them.
Users are disabled, never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from chalicelib.control_plane.identity import CognitoUser, Identity, tenant_group
from chalicelib.control_plane.tenant_store import TenantStore
from chalicelib.control_plane.user_store import UserStore
from tenant_context.context import TenantContext
from tenant_context.errors import BadRequestError, ForbiddenError, NotFoundError
from tenant_context.platform_settings import PlatformSettings
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, is_tenant_id
from tenant_context.tenant_records import TenantRecord, UserRecord, utc_timestamp


@dataclass(frozen=True)
class UserView:
    record: UserRecord
    cognito: CognitoUser | None  # None if Cognito no longer knows the user


@dataclass(frozen=True)
class Directory:
    """Where one tenant's users live: a pool, and a group in it for pooled tenants."""

    tenant_id: str
    user_pool_id: str
    group: str | None


class UserAccounts:
    def __init__(self, caller: TenantContext, store: UserStore, tenants: TenantStore,
                 identity: Identity, settings: Callable[[], PlatformSettings]) -> None:
        self._caller = caller
        self._store = store
        self._tenants = tenants
        self._identity = identity
        self._settings = settings

    # --- whose users ----------------------------------------------------------------------
    def _scope(self, requested: str | None) -> str:
        caller = self._caller
        if caller.is_operations:
            if requested is None or requested == OPERATIONS_TENANT_ID:
                return OPERATIONS_TENANT_ID
            if not is_tenant_id(requested):
                raise BadRequestError("tenantid: not a tenant id", fields=["tenantid"])
            return requested
        if requested is not None and requested != caller.tenant_id:
            raise NotFoundError("User not found")
        return caller.tenant_id

    def _directory(self, tenant_id: str) -> Directory:
        if tenant_id == OPERATIONS_TENANT_ID:
            return Directory(tenant_id, self._settings().operations_pool.user_pool_id, None)
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFoundError("tenantId: no such tenant", fields=["tenantId"])
        return self.directory_of(tenant)

    @staticmethod
    def directory_of(tenant: TenantRecord) -> Directory:
        group = tenant_group(tenant.tenant_id) if tenant.tier.is_pooled else None
        return Directory(tenant.tenant_id, tenant.user_pool_id, group)

    def _record(self, tenant_id: str, user_name: str) -> UserRecord:
        record = self._store.get(tenant_id, user_name)
        caller = self._caller
        if record is None or (caller.role is Role.TENANT_USER and user_name != caller.user_name):
            raise NotFoundError("User not found")
        return record

    # --- operations -----------------------------------------------------------------------
    def create(self, user_name: str, email: str, role: Role, tenant_id: str | None) -> None:
        caller = self._caller
        if caller.role is Role.SYSTEM_ADMIN:
            if role.is_operations and tenant_id not in (None, OPERATIONS_TENANT_ID):
                raise BadRequestError(f"tenantId: {role} users belong to no tenant",
                                      fields=["tenantId"])
            if not role.is_operations and tenant_id is None:
                raise BadRequestError(f"tenantId: required for a {role} user",
                                      fields=["tenantId"])
            target = OPERATIONS_TENANT_ID if role.is_operations else str(tenant_id)
        elif caller.role is Role.TENANT_ADMIN:
            if role.is_operations:
                raise ForbiddenError(f"userRole: a TenantAdmin may not create {role} users",
                                     fields=["userRole"])
            if tenant_id not in (None, caller.tenant_id):
                raise ForbiddenError("tenantId: a TenantAdmin creates users of its own tenant",
                                     fields=["tenantId"])
            target = caller.tenant_id
        else:
            raise ForbiddenError(f"{caller.role} may not create users")
        if target != OPERATIONS_TENANT_ID and not is_tenant_id(target):
            raise BadRequestError("tenantId: not a tenant id", fields=["tenantId"])
        directory = self._directory(target)
        now = utc_timestamp()
        self._store.create(UserRecord(target, user_name, role, directory.user_pool_id,
                                      enabled=True, created_at=now, modified_at=now))
        try:
            self._identity.create_user(directory.user_pool_id, user_name, email, role, target,
                                       directory.group)
        except BaseException:
            self._store.delete(target, user_name)  # all or nothing
            raise

    def list(self, requested_tenant: str | None) -> list[UserView]:
        if self._caller.role is Role.TENANT_USER:
            raise ForbiddenError("TenantUser may not list users")
        directory = self._directory(self._scope(requested_tenant))
        in_cognito = {user.user_name: user for user in
                      self._identity.users(directory.user_pool_id, directory.group)}
        return [UserView(record, in_cognito.get(record.user_name))
                for record in self._store.of_tenant(directory.tenant_id)]

    def get(self, user_name: str, requested_tenant: str | None) -> UserView:
        record = self._record(self._scope(requested_tenant), user_name)
        return UserView(record, self._identity.describe_user(record.user_pool_id, user_name))

    def update(self, user_name: str, requested_tenant: str | None, *, email: str | None,
               role: Role | None) -> None:
        caller = self._caller
        if caller.role is Role.CUSTOMER_SUPPORT:
            raise ForbiddenError("CustomerSupport may not change users")
        record = self._record(self._scope(requested_tenant), user_name)
        if role is not None and role is not record.role:
            if caller.role is Role.TENANT_USER:
                raise ForbiddenError("userRole: users may not change their own role",
                                     fields=["userRole"])
            if role.is_operations != record.role.is_operations:
                raise BadRequestError(f"userRole: a {record.role} user cannot become {role}",
                                      fields=["userRole"])
        changed_role = role if role is not None and role is not record.role else None
        self._identity.update_user(record.user_pool_id, user_name, email=email,
                                   role=changed_role)
        if changed_role is not None:
            self._store.update(record.tenant_id, user_name,
                               {"userRole": changed_role.value, "modifiedAt": utc_timestamp()})

    def disable(self, user_name: str, requested_tenant: str | None) -> None:
        if self._caller.role not in (Role.SYSTEM_ADMIN, Role.TENANT_ADMIN):
            raise ForbiddenError(f"{self._caller.role} may not disable users")
        self._set_enabled(self._record(self._scope(requested_tenant), user_name), False)

    def set_all_enabled(self, tenant_id: str, enabled: bool) -> int:
        """Enable or disable every user of a tenant (SystemAdmin); returns how many."""
        if self._caller.role is not Role.SYSTEM_ADMIN:
            raise ForbiddenError(f"{self._caller.role} may not do this")
        records = list(self._store.of_tenant(self._directory(tenant_id).tenant_id))
        for record in records:
            self._set_enabled(record, enabled)
        return len(records)

    def suspend_tenant(self, tenant: TenantRecord) -> None:
        """On deactivation: disable every enabled user, remembering why."""
        for record in self._store.of_tenant(tenant.tenant_id):
            if record.enabled:
                self._set_enabled(replace(record, suspended_with_tenant=True), False)

    def resume_tenant(self, tenant: TenantRecord) -> None:
        """On activation: enable the users the deactivation disabled (not the others)."""
        for record in self._store.of_tenant(tenant.tenant_id):
            if record.suspended_with_tenant:
                self._set_enabled(replace(record, suspended_with_tenant=False), True)

    def _set_enabled(self, record: UserRecord, enabled: bool) -> None:
        self._identity.set_enabled(record.user_pool_id, record.user_name, enabled)
        self._store.update(record.tenant_id, record.user_name, {
            "enabled": enabled, "suspendedWithTenant": record.suspended_with_tenant,
            "modifiedAt": utc_timestamp()})

