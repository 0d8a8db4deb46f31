"""Tenant management: who may see and change which tenant, and what a change entails.

- SystemAdmin: every tenant; may change a tier within the pooled tiers (the tenant gets a new
  API key on the new tier's plan: ``tenant_context.platform.tenant_api_keys`` says why a key
  cannot move) and rename a tenant. Moving between the pool and Platinum moves the tenant's data
  to another deployment, which takes longer than a request may: it is requested through
  ``POST /tenant/move/{id}`` (202; ``GET`` follows it) and carried out by a mover
  (``pipeline.lifecycle``); ``PUT`` answers such a tier change with 409 naming that route, and
  while a move is under way refuses tier changes and deactivation (409) too.
- CustomerSupport: reads every tenant.
- TenantAdmin: reads and changes the contact fields of its own tenant; not its tier or name.
  The web app sends the whole form back, so an unchanged tier or name passes; any other name
  (a change of case or spacing included) is a 403 naming tenantName, as a tier change is: the
  request is well formed, the role lacks the right.
- A rename (a change of case or spacing included) rewrites the tenant's name claim in the same
  transaction as the record, so the claim's spelling never lags behind the record's.
- Release settings (SystemAdmin, Platinum tenants only): the tenant's rollout wave and whether
  it follows new releases (``applyLatestRelease``), on its deployment row.
- Records are read and changed with the caller's scoped credentials, except the active flag:
  the session policies keep a TenantAdmin's credentials off the tier, the API key and the
  active flag (``tenant_context.platform.session_policies``), so (de)activation is written with
  the function's own role (``records``), after the checks here.
- Deactivation (DELETE) keeps all data: the tenant is marked inactive, its users and its API
  keys are disabled and a Platinum tenant's deployment is asked to stop. Activation
  (SystemAdmin) reverses it, the keys first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chalicelib.control_plane.tenant_store import TenantStore
from chalicelib.control_plane.user_management import UserAccounts
from tenant_context.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from tenant_context.platform.deployments import Deployments, ReleaseSettings
from tenant_context.platform.tenant_api_keys import TenantApiKeys, TenantKey
from tenant_context.platform.tenant_moves import MoveConflict, TenantMove, TenantMoves
from tenant_context.platform.tenant_records import (
    DeploymentRecord,
    DeploymentStatus,
    DesiredState,
    TenantRecord,
    utc_timestamp,
)
from tenant_context.service.context import TenantContext
from tenant_context.tenancy import Role, Tier


class Availability(StrEnum):
    """What a tenant's sign-in page is told about its deployment (``GET /tenant/init``)."""

    READY = "ready"
    PROVISIONING = "provisioning"  # being deployed: try again shortly
    UNAVAILABLE = "unavailable"  # failed or stopped: why is for staff only


@dataclass(frozen=True)
class TenantConfig:
    """What a tenant's sign-in page needs; ``api_url`` is set only when it is ``READY``."""

    user_pool_id: str
    app_client_id: str
    api_url: str
    tenant_id: str  # not sent: whom the lookup was about, for logs and metrics
    tier: Tier
    availability: Availability


@dataclass(frozen=True)
class TenantChanges:
    tenant_name: str | None = None
    tenant_email: str | None = None
    tenant_phone: str | None = None
    tenant_address: str | None = None
    tier: Tier | None = None


def move_route(tenant_id: str) -> str:
    return f"/tenant/move/{tenant_id}"


def tenant_config(store: TenantStore, deployments: Deployments, name: str) -> TenantConfig:
    """Public: which pool, client and API a tenant's users sign in to."""
    record = store.by_name(name)
    if record is None:
        raise NotFoundError(f"No tenant named {name!r}")
    deployment = deployments.get(record.tier.deployment_for(record.tenant_id))
    return TenantConfig(record.user_pool_id, record.app_client_id,
                        deployment.api_url if deployment and deployment.serving else "",
                        record.tenant_id, record.tier, availability(deployment))


def availability(deployment: DeploymentRecord | None) -> Availability:
    if deployment is None or deployment.status is DeploymentStatus.PROVISIONING:
        return Availability.PROVISIONING  # requested (or the baseline not yet recorded)
    return Availability.READY if deployment.serving else Availability.UNAVAILABLE


class TenantManagement:
    def __init__(self, caller: TenantContext, store: TenantStore, records: TenantStore,
                 users: UserAccounts, keys: TenantApiKeys, deployments: Deployments,
                 moves: TenantMoves) -> None:
        self._caller = caller
        self._store = store
        self._records = records  # the function's own role: the active flag
        self._users = users
        self._keys = keys
        self._deployments = deployments
        self._moves = moves  # the function's own role: the move on the record

    def _tenant(self, tenant_id: str) -> TenantRecord:
        """The tenant, if the caller may see it (another tenant's is reported as not found)."""
        caller = self._caller
        if not caller.is_operations and caller.tenant_id != tenant_id:
            raise NotFoundError("Tenant not found")
        record = self._store.get(tenant_id)
        if record is None:
            raise NotFoundError("Tenant not found")
        return record

    def _require(self, *roles: Role) -> None:
        if self._caller.role not in roles:
            raise ForbiddenError(f"{self._caller.role} may not do this")

    def list(self, *, limit: int | None = None, next_token: str | None = None
             ) -> tuple[list[TenantRecord], str | None]:
        self._require(Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT)
        return self._store.scan(limit=limit, next_token=next_token)

    def get(self, tenant_id: str) -> TenantRecord:
        self._require(Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT, Role.TENANT_ADMIN)
        return self._tenant(tenant_id)

    def deployment_of(self, tenant: TenantRecord) -> DeploymentRecord | None:
        """The row of the deployment serving ``tenant`` (staff only: a failure's reason and
        the operator's next step are not the tenant's to read)."""
        self._require(Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT)
        return self._deployments.get(tenant.tier.deployment_for(tenant.tenant_id))

    def update(self, tenant_id: str, changes: TenantChanges) -> TenantRecord:
        """Apply the changes; returns the tenant as it was before them."""
        self._require(Role.SYSTEM_ADMIN, Role.TENANT_ADMIN)
        record = self._tenant(tenant_id)
        renaming = changes.tenant_name is not None and changes.tenant_name != record.tenant_name
        if renaming and self._caller.role is not Role.SYSTEM_ADMIN:
            raise ForbiddenError(
                f"tenantName: a TenantAdmin may change only the contact fields; send the name "
                f"unchanged ({record.tenant_name!r}) or leave it out", fields=["tenantName"])
        values: dict[str, Any] = {}
        for attribute, value in (("tenantEmail", changes.tenant_email),
                                 ("tenantPhone", changes.tenant_phone),
                                 ("tenantAddress", changes.tenant_address)):
            if value is not None:
                values[attribute] = value
        new_key: TenantKey | None = None
        if changes.tier is not None and changes.tier is not record.tier:
            self._check_tier_change(record, changes.tier)
            self._no_move_under_way(tenant_id, "change its tier")
            new_key = self._keys.move(tenant_id, record.api_key, changes.tier.value)
            values |= {"tenantTier": changes.tier.value, "apiKey": new_key.value}
        values["modifiedAt"] = utc_timestamp()
        try:
            if renaming and changes.tenant_name is not None:
                values["tenantName"] = changes.tenant_name
                self._store.rename(record, changes.tenant_name, values)
            else:
                self._store.update(tenant_id, values)
        except Exception:
            if new_key is not None:  # the record still names the previous key: keep that one
                self._keys.discard(new_key)
            raise
        return record

    def _check_tier_change(self, record: TenantRecord, tier: Tier) -> None:
        if self._caller.role is not Role.SYSTEM_ADMIN:
            raise ForbiddenError("tenantTier: only the SaaS provider changes a tier",
                                 fields=["tenantTier"])
        if tier.is_pooled != record.tier.is_pooled:
            raise ConflictError(
                f"tenantTier: moving between the pooled tiers and Platinum moves the tenant's "
                f"data: request it with POST {move_route(record.tenant_id)} "
                f"(tenant is {record.tier}, asked for {tier})", fields=["tenantTier"])

    def _no_move_under_way(self, tenant_id: str, action: str) -> None:
        move = self._moves.get(tenant_id)
        if move is not None and move.step.active:
            raise ConflictError(f"tenant {tenant_id} is moving to {move.to_tier} (now "
                                f"{move.step}): cannot {action} until it is done; follow it "
                                f"with GET {move_route(tenant_id)}")

    # --- moves between the pool and Platinum --------------------------------------------------
    def request_move(self, tenant_id: str, tier: Tier) -> TenantMove:
        """Record a move for the mover to carry out (SystemAdmin)."""
        self._require(Role.SYSTEM_ADMIN)
        record = self._tenant(tenant_id)
        if tier is record.tier:
            raise BadRequestError(f"tenantTier: tenant {tenant_id} is already on {tier}",
                                  fields=["tenantTier"])
        if tier.is_pooled == record.tier.is_pooled:
            raise BadRequestError(
                f"tenantTier: {record.tier} -> {tier} stays in the pool and moves no data: "
                f"change it with PUT /tenant/{tenant_id}", fields=["tenantTier"])
        if not record.is_active:
            raise ConflictError(f"tenant {tenant_id} is deactivated: activate it before "
                                f"moving it")
        self._no_move_under_way(tenant_id, "start another move")
        try:
            return self._moves.request(record, tier, self._caller.user_name)
        except MoveConflict as conflict:
            raise ConflictError(str(conflict)) from None

    def move_of(self, tenant_id: str) -> tuple[TenantRecord, TenantMove]:
        """The tenant's move, under way or last finished (staff)."""
        self._require(Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT)
        record = self._tenant(tenant_id)
        move = self._moves.get(tenant_id)
        if move is None:
            raise NotFoundError(f"tenant {tenant_id} has never been moved")
        return record, move

    def set_release_settings(self, tenant_id: str, settings: ReleaseSettings) -> TenantRecord:
        """A Platinum tenant's wave and pin in rollouts (SystemAdmin). A pooled tier's tenant
        runs the pooled deployment's release: it has no settings of its own (409)."""
        self._require(Role.SYSTEM_ADMIN)
        record = self._tenant(tenant_id)
        if record.tier.is_pooled:
            raise ConflictError(f"tenant {tenant_id} is on the {record.tier} tier: it runs the "
                                f"pooled deployment's release; waves and pins are for "
                                f"Platinum tenants' own deployments")
        try:
            self._deployments.set_release_settings(tenant_id, settings)
        except self._deployments.missing_row as missing:
            raise ConflictError(f"tenant {tenant_id} has no deployment row") from missing
        return record

    def deactivate(self, tenant_id: str) -> TenantRecord:
        self._require(Role.SYSTEM_ADMIN, Role.TENANT_ADMIN)
        record = self._tenant(tenant_id)
        self._no_move_under_way(tenant_id, "deactivate it")
        self._records.update(tenant_id, {"isActive": False, "modifiedAt": utc_timestamp()})
        self._users.suspend_tenant(record)
        self._keys.set_enabled(tenant_id, False)
        if not record.tier.is_pooled:
            self._deployments.set_desired_state(tenant_id, DesiredState.STOPPED)
        return record

    def activate(self, tenant_id: str) -> TenantRecord:
        self._require(Role.SYSTEM_ADMIN)
        record = self._tenant(tenant_id)
        self._keys.set_enabled(tenant_id, True)
        self._records.update(tenant_id, {"isActive": True, "modifiedAt": utc_timestamp()})
        self._users.resume_tenant(record)
        if not record.tier.is_pooled:
            self._deployments.set_desired_state(tenant_id, DesiredState.RUNNING)
        return record
