"""Registration: a new tenant, all or nothing.

Steps, in order: claim the name; identity (a group in the pooled pool, or a Platinum tenant's
own pool and client); the tenant admin user; the tenant's own API key on its tier's usage plan
(its fair share: ``tenant_context.platform.tenant_api_keys``); the tenant record; the admin's
user record; the deployment request (Platinum). If any step fails, everything created is undone
(every resource, API keys included, is named from the tenant id, so undo needs no log beyond a
Platinum pool's id) and the caller gets a 503 it can retry. The name claim makes registrations
of one name exclusive: of two concurrent ones exactly one proceeds; the other gets 409.
Repeating a completed registration (same name and email) returns it instead of making a second
tenant; an attempt that died half-way (a pending claim older than ``STALE_AFTER_SECONDS``) is
undone and its name taken over.

A Platinum sign-up is refused (429 with ``Retry-After``) before anything is created while
``pending_platinum_cap`` Platinum deployments are still provisioning: each one is a whole user
pool and a deployment (a stack on AWS, two processes locally), so anonymous sign-ups must not
queue them without bound. The rate of sign-ups is limited in front of the function (the WAF on
AWS, the front door locally).

This is what Powertools' Idempotency utility would give for repeats, keyed on the thing that
must be unique (the name) rather than on a hash of the request, and it outlives any expiry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.control_plane.identity import Identity
from chalicelib.control_plane.tenant_store import ClaimStatus, NameClaim, NameTaken, TenantStore
from chalicelib.control_plane.user_store import UserStore
from tenant_context.config import DEFAULT_PENDING_PLATINUM_CAP
from tenant_context.errors import ConflictError, ServiceUnavailableError, TooManyRequestsError
from tenant_context.platform.definitions import tenant_name_key
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.platform_settings import PlatformSettings
from tenant_context.platform.tenant_api_keys import ApiKeyLimitError, TenantApiKeys
from tenant_context.platform.tenant_records import TenantRecord, UserRecord, utc_timestamp
from tenant_context.tenancy import Role, Tier, new_tenant_id

STALE_AFTER_SECONDS = 900  # longer than any function timeout: a pending claim this old is dead
# When to try again at the pending-Platinum cap: the same as GET /tenant/init's answer while a
# deployment provisions (deployments finish in minutes on AWS, seconds locally).
PENDING_PLATINUM_RETRY_SECONDS = 30
_log = logging.getLogger(__name__)


def tenant_admin_name(tenant_id: str) -> str:
    return f"tenant-admin-{tenant_id}"


@dataclass(frozen=True)
class RegistrationRequest:
    tenant_name: str
    tenant_email: str
    tier: Tier
    tenant_phone: str = ""
    tenant_address: str = ""


@dataclass(frozen=True)
class Registered:
    tenant_id: str
    tenant_name: str
    tier: Tier
    admin_user_name: str
    created: bool  # False: this repeats a registration that already completed


class Registrar:
    def __init__(self, tenants: TenantStore, users: UserStore, identity: Identity,
                 keys: TenantApiKeys, deployments: Deployments,
                 settings: Callable[[], PlatformSettings], *,
                 clock: Callable[[], float] = time.time,
                 new_id: Callable[[], str] = new_tenant_id,
                 pending_platinum_cap: int = DEFAULT_PENDING_PLATINUM_CAP) -> None:
        self._tenants = tenants
        self._users = users
        self._identity = identity
        self._keys = keys
        self._deployments = deployments
        self._settings = settings
        self._clock = clock
        self._new_id = new_id
        self._pending_platinum_cap = pending_platinum_cap

    def register(self, request: RegistrationRequest) -> Registered:
        if not request.tier.is_pooled:
            self._refuse_at_platinum_cap()
        claim = NameClaim(tenant_name_key(request.tenant_name), self._new_id(),
                          request.tenant_name, request.tenant_email, request.tier,
                          ClaimStatus.PENDING, self._clock())
        try:
            self._tenants.claim_name(claim)
        except NameTaken as taken:
            repeat = self._resolve_existing_claim(taken.claim, claim)
            if repeat is not None:
                return repeat
        try:
            self._create(claim, request)
        except ApiKeyLimitError as limit:
            _log.error("registration of %s refused: %s", claim.tenant_id, limit)
            self._undo(self._recorded(claim))
            raise ServiceUnavailableError(
                "Registration is closed for now: the platform has reached its API key quota "
                "(API Gateway, per region); nothing was kept. The operator must raise the "
                "quota before new tenants can sign up") from limit
        except Exception as error:
            _log.exception("registration of %s failed; undoing it", claim.tenant_id)
            self._undo(self._recorded(claim))
            raise ServiceUnavailableError(
                "Registration could not be completed and nothing was kept; please retry"
            ) from error
        return Registered(claim.tenant_id, request.tenant_name, request.tier,
                          tenant_admin_name(claim.tenant_id), created=True)

    def _refuse_at_platinum_cap(self) -> None:
        """Before the name claim, so a refused sign-up leaves nothing behind (not even a
        claim); a repeat of a completed Platinum registration is refused too while the cap
        holds, which costs it nothing but the retry."""
        cap = self._pending_platinum_cap
        if self._deployments.provisioning_count(stop_at=cap) >= cap:
            _log.warning("Platinum registration refused: %d deployments still provisioning", cap)
            raise TooManyRequestsError(
                "Too many Platinum tenants are being provisioned right now; nothing was "
                "created, please retry later", retry_after_seconds=PENDING_PLATINUM_RETRY_SECONDS)

    def _resolve_existing_claim(self, existing: NameClaim, wanted: NameClaim
                                ) -> Registered | None:
        """A repeat (returned), a conflict (raised), or a dead attempt taken over (None)."""
        if existing.status is ClaimStatus.COMPLETE:
            # The record, not the claim, holds the tenant's current email, spelling and tier.
            tenant = self._tenants.get(existing.tenant_id)
            email, name, tier = ((tenant.tenant_email, tenant.tenant_name, tenant.tier) if tenant
                                 else (existing.tenant_email, existing.tenant_name,
                                       existing.tier))
            if email.casefold() == wanted.tenant_email.casefold():
                return Registered(existing.tenant_id, name, tier,
                                  tenant_admin_name(existing.tenant_id), created=False)
            raise ConflictError(f"tenantName: {wanted.tenant_name!r} is already taken",
                                fields=["tenantName"])
        if self._clock() - existing.started_at < STALE_AFTER_SECONDS:
            raise ConflictError(f"tenantName: a registration of {wanted.tenant_name!r} is in "
                                f"progress", fields=["tenantName"])
        if not self._undo(existing, release=False):
            raise ServiceUnavailableError("An earlier registration of this name could not be "
                                          "cleaned up yet; please retry")
        try:
            self._tenants.claim_name(wanted, replacing=existing)
        except NameTaken:
            raise ConflictError(f"tenantName: a registration of {wanted.tenant_name!r} is in "
                                f"progress", fields=["tenantName"]) from None
        return None

    def _create(self, claim: NameClaim, request: RegistrationRequest) -> None:
        settings = self._settings()
        tenant_id, tier = claim.tenant_id, request.tier
        group = None
        if tier.is_pooled:
            pool = settings.pooled_pool
            group = self._identity.create_tenant_group(pool.user_pool_id, tenant_id)
        else:
            pool = self._identity.create_tenant_pool(tenant_id)
            self._tenants.update_claim(claim.name_key, tenant_id, userPoolId=pool.user_pool_id)
        admin = tenant_admin_name(tenant_id)
        self._identity.create_user(pool.user_pool_id, admin, request.tenant_email,
                                   Role.TENANT_ADMIN, tenant_id, group)
        key = self._keys.issue(tenant_id, tier.value)
        now = utc_timestamp()
        self._tenants.create(TenantRecord(
            tenant_id=tenant_id, tenant_name=request.tenant_name, tier=tier, is_active=True,
            user_pool_id=pool.user_pool_id, app_client_id=pool.app_client_id,
            api_key=key.value, tenant_email=request.tenant_email,
            tenant_phone=request.tenant_phone, tenant_address=request.tenant_address,
            created_at=now, modified_at=now))
        self._users.create(UserRecord(tenant_id, admin, Role.TENANT_ADMIN, pool.user_pool_id,
                                      enabled=True, created_at=now, modified_at=now))
        if not tier.is_pooled:
            self._deployments.request(tenant_id)
        self._tenants.update_claim(claim.name_key, tenant_id, status=ClaimStatus.COMPLETE.value)

    def _recorded(self, claim: NameClaim) -> NameClaim:
        """The claim as stored (it may hold the Platinum pool's id by now)."""
        try:
            stored = self._tenants.read_claim(claim.name_key)
        except Exception:
            _log.exception("reading the claim of %s failed", claim.tenant_id)
            return claim
        return stored if stored and stored.tenant_id == claim.tenant_id else claim

    def _undo(self, claim: NameClaim, *, release: bool = True) -> bool:
        """Remove whatever a registration created; True when nothing is left behind."""
        tenant_id, admin = claim.tenant_id, tenant_admin_name(claim.tenant_id)

        def pooled_pool() -> str:
            return self._settings().pooled_pool.user_pool_id

        def platinum_pool() -> None:
            pool_id = claim.user_pool_id or self._identity.find_tenant_pool(tenant_id)
            if pool_id:
                self._identity.delete_pool(pool_id)

        steps: list[Callable[[], None]] = [
            lambda: self._deployments.cancel(tenant_id),
            lambda: self._users.delete(tenant_id, admin),
            lambda: self._tenants.delete(tenant_id),
            lambda: self._keys.remove(tenant_id),
        ]
        if claim.tier.is_pooled:
            steps += [lambda: self._identity.delete_user(pooled_pool(), admin),
                      lambda: self._identity.delete_tenant_group(pooled_pool(), tenant_id)]
        else:
            steps.append(platinum_pool)
        clean = True
        for step in steps:
            try:
                step()
            except Exception:
                clean = False
                _log.exception("undoing registration %s: a step failed", tenant_id)
        if clean and release:
            self._tenants.release_name(claim.name_key, tenant_id)
        return clean
