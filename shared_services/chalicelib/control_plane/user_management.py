"""User management: who may create, see and change which users.

- SystemAdmin: SaaS-provider staff (SystemAdmin, CustomerSupport) in the operations pool, and
  users of any tenant (naming ``tenantId``); reads with ``?tenantid=`` (default: staff). A staff
  role belongs to the operations pool and a tenant role to a tenant: any other pairing is a 400,
  because Cognito would accept it and leave a user no authorizer lets in.
- CustomerSupport: reads, like a SystemAdmin.
- TenantAdmin: TenantAdmin and TenantUser users of its own tenant only.
- TenantUser: reads itself only; changes nothing (PUT /user is for administrators; the gateway
  lets a TenantUser reach PUT /user/<itself>, so the refusal lives here).
- Nobody disables or changes the role of their own user: a TenantAdmin doing so could leave its
  tenant without an administrator. Another administrator (or the SaaS provider) can.
- Email changes: an administrator changing another user's address vouches for it, as at
  creation (the invitation goes there), so it is marked verified. Changing one's own address
  marks it unverified: Cognito sends a code to the new address and only its owner can confirm
  it, so nobody can give themselves a verified address they do not own.
Credentials: records are read with the caller's scoped credentials, and written with the
function's own role (``records``) after the checks here: the session policies keep a
TenantAdmin's credentials off users' roles and enabled flags, and a TenantUser's credentials off
the user table altogether (its own record is read with the function's role, once this module
has checked that it is the caller's).
Another tenant's user is reported as not found, never as forbidden. A tenant's users are listed
from its own records (its user records, and its group or pool in Cognito), every page of them.
Users are disabled, never deleted; a creation that fails half-way is undone (503, retry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from chalicelib.control_plane.identity import CognitoUser, Identity
from chalicelib.control_plane.tenant_store import TenantStore
from chalicelib.control_plane.user_store import UserStore
from tenant_context.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
)
from tenant_context.platform.definitions import tenant_group
from tenant_context.platform.platform_settings import PlatformSettings
from tenant_context.platform.tenant_records import TenantRecord, UserRecord, utc_timestamp
from tenant_context.service.context import TenantContext
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, Tier, is_tenant_id

_log = logging.getLogger(__name__)


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
    def __init__(self, caller: TenantContext, store: UserStore, records: UserStore,
                 tenants: TenantStore, identity: Identity,
                 settings: Callable[[], PlatformSettings]) -> None:
        self._caller = caller
        self._store = store  # the caller's scoped credentials: reads
        self._records = records  # the function's own role: writes, after the checks
        self._tenants = tenants
        self._identity = identity
        self._settings = settings
        self._tenant_records: dict[str, TenantRecord] = {}

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

    def _tenant(self, tenant_id: str) -> TenantRecord:
        """A tenant's record, read once per request (the directory and the tier both need it)."""
        tenant = self._tenant_records.get(tenant_id) or self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFoundError("tenantId: no such tenant", fields=["tenantId"])
        self._tenant_records[tenant_id] = tenant
        return tenant

    def _directory(self, tenant_id: str) -> Directory:
        if tenant_id == OPERATIONS_TENANT_ID:
            return Directory(tenant_id, self._settings().operations_pool.user_pool_id, None)
        return self.directory_of(self._tenant(tenant_id))

    def tier_of(self, tenant_id: str) -> Tier | None:
        """The tier of a tenant this request acted on (None: the operations pool's staff), so
        logs and metrics can name the target tenant rather than the caller's."""
        if tenant_id == OPERATIONS_TENANT_ID:
            return None
        if tenant_id == self._caller.tenant_id:
            return self._caller.tier  # a TenantUser's credentials cannot read tenant records
        return self._tenant(tenant_id).tier

    @staticmethod
    def directory_of(tenant: TenantRecord) -> Directory:
        group = tenant_group(tenant.tenant_id) if tenant.tier.is_pooled else None
        return Directory(tenant.tenant_id, tenant.user_pool_id, group)

    def _record(self, tenant_id: str, user_name: str) -> UserRecord:
        # A TenantUser's credentials reach no user record: get() has checked it asks for its own.
        reader = self._records if self._caller.role is Role.TENANT_USER else self._store
        record = reader.get(tenant_id, user_name)
        if record is None:
            raise NotFoundError("User not found")
        return record

    def _is_caller(self, record: UserRecord) -> bool:
        return (record.user_name == self._caller.user_name
                and record.tenant_id == self._caller.tenant_id)

    def _require_administrator(self, action: str) -> None:
        if self._caller.role not in (Role.SYSTEM_ADMIN, Role.TENANT_ADMIN):
            raise ForbiddenError(f"{self._caller.role} may not {action}")

    # --- operations -----------------------------------------------------------------------
    def create(self, user_name: str, email: str, role: Role, tenant_id: str | None) -> str:
        """Create the user (record first, then Cognito); returns the tenant it belongs to."""
        caller = self._caller
        if caller.role is Role.SYSTEM_ADMIN:
            if role.is_operations and tenant_id not in (None, OPERATIONS_TENANT_ID):
                raise BadRequestError(f"tenantId: {role} users belong to no tenant",
                                      fields=["tenantId"])
            if not role.is_operations and tenant_id in (None, OPERATIONS_TENANT_ID):
                raise BadRequestError(f"tenantId: a {role} user belongs to a tenant; give its "
                                      f"tenant id", fields=["tenantId"])
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
        record = UserRecord(target, user_name, role, directory.user_pool_id, enabled=True,
                            created_at=now, modified_at=now)
        try:
            self._records.create(record)
        except ConflictError:
            raise  # the name is taken in this tenant: nothing of ours to undo
        except Exception as error:
            raise self._undo_creation(record, in_cognito=False) from error
        try:
            self._identity.create_user(directory.user_pool_id, user_name, email, role, target,
                                       directory.group)
        except ConflictError:
            self._records.delete(target, user_name)  # the pool's user of that name is not ours
            raise
        except Exception as error:
            # Cognito may have created the user before failing (or failed adding it to the
            # tenant's group): remove it too, or a retry would find the name taken.
            raise self._undo_creation(record, in_cognito=True) from error
        return target

    def _undo_creation(self, record: UserRecord, *, in_cognito: bool) -> ServiceUnavailableError:
        """Remove what a failed creation made; the error to answer with (503: retry)."""
        _log.exception("creating user %s of %s failed; undoing it", record.user_name,
                       record.tenant_id)
        steps: list[Callable[[], None]] = [
            lambda: self._records.delete(record.tenant_id, record.user_name)]
        if in_cognito:
            steps.insert(0, lambda: self._identity.delete_user(record.user_pool_id,
                                                               record.user_name))
        for step in steps:
            try:
                step()
            except Exception:
                _log.exception("undoing the creation of user %s: a step failed",
                               record.user_name)
        return ServiceUnavailableError("The user could not be created and nothing was kept; "
                                       "please retry")

    def list(self, requested_tenant: str | None) -> tuple[str, list[UserView]]:
        """The tenant whose users these are (``operations``: staff), and every one of them."""
        if self._caller.role is Role.TENANT_USER:
            raise ForbiddenError("TenantUser may not list users")
        directory = self._directory(self._scope(requested_tenant))
        in_cognito = {user.user_name: user for user in
                      self._identity.users(directory.user_pool_id, directory.group)}
        return directory.tenant_id, [UserView(record, in_cognito.get(record.user_name))
                                     for record in self._store.of_tenant(directory.tenant_id)]

    def get(self, user_name: str, requested_tenant: str | None) -> UserView:
        caller = self._caller
        if caller.role is Role.TENANT_USER and user_name != caller.user_name:
            # Refused before any lookup, so the answer says nothing about who exists.
            raise ForbiddenError("TenantUser may read only its own user")
        record = self._record(self._scope(requested_tenant), user_name)
        return UserView(record, self._identity.describe_user(record.user_pool_id, user_name))

    def update(self, user_name: str, requested_tenant: str | None, *, email: str | None,
               role: Role | None) -> str:
        """Change a user's email and/or role; returns the tenant the user belongs to."""
        self._require_administrator("change users")
        record = self._record(self._scope(requested_tenant), user_name)
        oneself = self._is_caller(record)
        changed_role = role if role is not None and role is not record.role else None
        if changed_role is not None:
            if oneself:
                raise BadRequestError(
                    "userRole: you may not change your own role (your tenant could be left "
                    "without an administrator); another administrator can", fields=["userRole"])
            if changed_role.is_operations != record.role.is_operations:
                raise BadRequestError(
                    f"userRole: a {record.role} user cannot become {changed_role}",
                    fields=["userRole"])
        if oneself and email is not None:
            current = self._identity.describe_user(record.user_pool_id, user_name)
            if current is not None and current.email == email:
                email = None  # the form sent back unchanged: keep the address verified
        self._identity.update_user(record.user_pool_id, user_name, email=email,
                                   email_verified=not oneself, role=changed_role)
        if changed_role is not None:
            self._records.update(record.tenant_id, user_name,
                                 {"userRole": changed_role.value, "modifiedAt": utc_timestamp()})
        return record.tenant_id

    def disable(self, user_name: str, requested_tenant: str | None) -> str:
        """Disable one user; returns the tenant the user belongs to."""
        self._require_administrator("disable users")
        record = self._record(self._scope(requested_tenant), user_name)
        if self._is_caller(record):
            raise BadRequestError(
                "userName: you may not disable your own user (your tenant could be left "
                "without an administrator); another administrator can", fields=["userName"])
        self._set_enabled(record, False)
        return record.tenant_id

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
        self._records.update(record.tenant_id, record.user_name, {
            "enabled": enabled, "suspendedWithTenant": record.suspended_with_tenant,
            "modifiedAt": utc_timestamp()})

