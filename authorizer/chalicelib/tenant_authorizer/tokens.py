"""Verifying a Cognito ID token against the pool that must have issued it.

The pool is never taken from the token: ``iss`` must name one of the KNOWN pools: the
operations pool, the pooled tenant pool (its tenants' users, a tenant moved up to Platinum's
included), or the pool recorded for the tenant the token claims to belong to (a Platinum
tenant's own, which it keeps if it moves down to a pooled tier). The signing keys are fetched
from that pool's JWKS URL built from configuration. Only then are ``iss``, ``aud`` (that
pool's app client), ``token_use`` and ``exp`` checked on the verified token, and only RS256 is
accepted (``none`` and HS* never).

Nothing an unverified token says may cost a read when it can be avoided: for the two pools
that are always known (from the function's configuration: ``KnownPools``) the signature is
verified FIRST, and only a verified tenant claim selects a tenant record. Only a pool id outside
the configuration (perhaps a Platinum tenant's own) needs the claimed tenant's record before
verification, because that record is what says which pool and app client are valid; the
directory remembers unknown tenant ids briefly and apart from real records, so junk neither
repeats reads nor evicts real tenants.

Cognito signs every pool of an account with its own keys; the emulator signs every pool with
ONE key, so locally only the ``iss``/``aud`` checks tell pools apart. Both are always checked.

A tenant's pool does not say where it is served: its RECORD's tier does (a move between the
pool and a Platinum silo changes the tier and keeps the users where they are). So a pooled-pool
user of a tenant moved up to Platinum is served by that tenant's silo only, and a user of a
Platinum tenant's own pool whose tenant moved down, by the pooled deployment only; the pool and
app client must still be the ones recorded for the tenant (``TenantRecord.user_pool_id``).

Once the signature is verified, every record the decision needs (tenant, user, deployment row,
gateway settings) is read in one batch (``Directory.read_ahead``), and the checks read the
caches. Finally the caller must be a user the control plane knows: enabled, with the role the
token claims. Cognito refuses users' writes to their own tenant and role attributes (the app
clients' WriteAttributes exclude them); this check makes a changed attribute, a role change by
an admin, or a disabled user count within the user cache TTL, in AWS and in the emulator alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.tenant_authorizer.directory import Directory
from chalicelib.tenant_authorizer.unauthorized import TenantDeactivated, Unauthorized
from tenant_context.platform.definitions import TENANT_ID_ATTRIBUTE, USER_ROLE_ATTRIBUTE
from tenant_context.platform.platform_settings import PoolRef
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.service.context import TenantContext
from tenant_context.tenancy import (
    OPERATIONS_TENANT_ID,
    POOLED_DEPLOYMENT,
    Role,
    is_tenant_id,
)

ALGORITHM = "RS256"
MAX_TOKEN_LENGTH = 8192  # Cognito ID tokens are ~1-2 KB; refuse to parse megabytes


@dataclass(frozen=True)
class KnownPools:
    """The pools whose tokens need no tenant record to be verified (configuration)."""

    operations: PoolRef
    pooled: PoolRef


@dataclass(frozen=True)
class KnownPool:
    user_pool_id: str
    app_client_id: str
    tenant: TenantRecord | None  # None: the operations pool


class PoolKeys:
    """One PyJWKClient per known pool, created on first use and kept for the process.

    PyJWKClient caches the key set (``lifespan``) and refetches on an unknown ``kid`` at most
    once per ``cooldown_duration``: random ``kid`` values cannot make us hammer Cognito.
    """

    def __init__(self, jwks_url: Callable[[str], str],
                 client_factory: Callable[[str], jwt.PyJWKClient] | None = None) -> None:
        self._jwks_url = jwks_url
        self._factory = client_factory or (
            lambda url: jwt.PyJWKClient(url, lifespan=3600, cooldown_duration=60, timeout=5))
        self._clients: dict[str, jwt.PyJWKClient] = {}

    def signing_key(self, user_pool_id: str, kid: str) -> Any:
        client = self._clients.get(user_pool_id)
        if client is None:
            client = self._clients.setdefault(user_pool_id,
                                              self._factory(self._jwks_url(user_pool_id)))
        try:
            return client.get_signing_key(kid).key
        except jwt.PyJWKClientConnectionError:
            raise  # the pool's key endpoint is down: a genuine fault, not the caller's
        except jwt.PyJWKClientError as error:
            raise Unauthorized(f"no signing key {kid!r} in pool {user_pool_id}") from error


def bearer_token(header: object) -> str:
    if not isinstance(header, str) or len(header) > MAX_TOKEN_LENGTH + 7:
        raise Unauthorized("missing or oversized Authorization header")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header is not 'Bearer <token>'")
    return token.strip()


class TokenVerifier:
    def __init__(self, directory: Directory, pools: KnownPools, keys: PoolKeys,
                 issuer: Callable[[str], str]) -> None:
        self._directory = directory
        self._pools = pools
        self._keys = keys
        self._issuer = issuer
        self._issuer_prefix = issuer("")

    def verify(self, token: str) -> TenantContext:
        """The caller's identity (without credentials), or ``Unauthorized``."""
        try:  # one parse for header and claims; nothing in them is trusted yet
            peek = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise Unauthorized(f"malformed token: {error}") from error
        header, unverified = peek["header"], peek["payload"]
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"algorithm {header.get('alg')!r} refused")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token has no kid")
        pool, claims = self._verified_in_known_pool(token, kid, unverified)
        if claims.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        caller = self._caller(pool, claims)
        record = self._directory.user(caller.tenant_id, caller.user_name)
        if record is None:
            raise Unauthorized(f"user {caller.user_name!r} is not recorded for the tenant")
        if not record.enabled:
            raise Unauthorized(f"user {caller.user_name!r} is disabled")
        if record.role is not caller.role or record.user_pool_id != caller.user_pool_id:
            raise Unauthorized(f"token role {caller.role} does not match the user's record")
        return caller

    def _verified_in_known_pool(self, token: str, kid: str, unverified: dict[str, Any]
                                ) -> tuple[KnownPool, dict[str, Any]]:
        """The pool that issued the token and its verified claims (see the module notes for
        why the order of the checks differs between always-known pools and the others)."""
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or not issuer.startswith(self._issuer_prefix):
            raise Unauthorized("issuer is not a Cognito pool of this region")
        pool_id = issuer.removeprefix(self._issuer_prefix)
        if pool_id == self._pools.operations.user_pool_id:
            client_id = self._pools.operations.app_client_id
            claims = self._decode(token, kid, pool_id, client_id)
            self._read_ahead(OPERATIONS_TENANT_ID, claims)
            return KnownPool(pool_id, client_id, None), claims
        if pool_id == self._pools.pooled.user_pool_id:
            client_id = self._pools.pooled.app_client_id
            claims = self._decode(token, kid, pool_id, client_id)
            tenant_id = claims.get(TENANT_ID_ATTRIBUTE)
            self._read_ahead(tenant_id, claims, self._pooled_pool_deployments(tenant_id))
            tenant = self._registered_tenant(claims.get(TENANT_ID_ATTRIBUTE), pool_id)
            if tenant.app_client_id != client_id:
                raise Unauthorized(f"pool {pool_id} is not registered for tenant "
                                   f"{tenant.tenant_id}")
            return KnownPool(pool_id, client_id, tenant), claims
        # Perhaps a Platinum tenant's own pool: the (still unverified) tenant claim only
        # selects which record to compare against; the record, not the token, says which pool
        # and client are valid.
        tenant = self._registered_tenant(unverified.get(TENANT_ID_ATTRIBUTE), pool_id)
        claims = self._decode(token, kid, pool_id, tenant.app_client_id)
        self._read_ahead(tenant.tenant_id, claims,
                         (tenant.tier.deployment_for(tenant.tenant_id),))
        return KnownPool(pool_id, tenant.app_client_id, tenant), claims

    def _pooled_pool_deployments(self, tenant_id: object) -> tuple[str, ...]:
        """The deployment rows a pooled-pool user's decision may need. The pooled pool's
        tenants are mostly pooled, but one moved up to Platinum keeps its users there and is
        served by its own silo: the tenant record's tier decides. With that record fresh in the
        cache, its deployment alone; else both the pooled row and the tenant's own, in the
        batch that reads the record (no extra AWS call whichever it says)."""
        if not is_tenant_id(tenant_id):
            return ()
        known = self._directory.cached_tenant(tenant_id)
        if known is not None:
            return (known.tier.deployment_for(tenant_id),)
        return (POOLED_DEPLOYMENT, tenant_id)

    def _read_ahead(self, tenant_id: object, claims: dict[str, Any],
                    deployment_ids: tuple[str, ...] = ()) -> None:
        """One batch read of what the checks below will look up, from VERIFIED claims only;
        claims the checks will refuse anyway select nothing."""
        user_name = claims.get("cognito:username")
        if not isinstance(user_name, str) or not user_name:
            return
        if tenant_id == OPERATIONS_TENANT_ID:
            self._directory.read_ahead(user=(OPERATIONS_TENANT_ID, user_name))
        elif is_tenant_id(tenant_id):
            self._directory.read_ahead(user=(tenant_id, user_name), tenant_id=tenant_id,
                                       deployment_ids=deployment_ids)

    def _registered_tenant(self, tenant_id: object, pool_id: str) -> TenantRecord:
        if not is_tenant_id(tenant_id):
            raise Unauthorized(f"token of pool {pool_id} names no valid tenant")
        tenant = self._directory.tenant(tenant_id)
        if tenant is None:
            raise Unauthorized(f"unknown tenant {tenant_id}")
        if tenant.user_pool_id != pool_id or not tenant.app_client_id:
            raise Unauthorized(f"pool {pool_id} is not registered for tenant {tenant_id}")
        return tenant

    def _decode(self, token: str, kid: str, pool_id: str, client_id: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._keys.signing_key(pool_id, kid),
                algorithms=[ALGORITHM],
                audience=client_id,
                issuer=self._issuer(pool_id),
                options={"require": ["exp", "iss", "aud", "token_use", "cognito:username"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"token rejected: {error}") from error
        return claims

    @staticmethod
    def _caller(pool: KnownPool, claims: dict[str, Any]) -> TenantContext:
        try:
            role = Role.parse(claims.get(USER_ROLE_ATTRIBUTE))
        except ValueError as error:
            raise Unauthorized(str(error)) from error
        user_name = claims.get("cognito:username")
        if not isinstance(user_name, str) or not user_name:
            raise Unauthorized("token has no user name")
        tenant = pool.tenant
        if tenant is None:
            if not role.is_operations:
                raise Unauthorized(f"role {role} is not valid in the operations pool")
            return TenantContext(OPERATIONS_TENANT_ID, None, user_name, role, pool.user_pool_id,
                                 None)
        if role.is_operations:
            raise Unauthorized(f"role {role} is only valid in the operations pool")
        if claims.get(TENANT_ID_ATTRIBUTE) != tenant.tenant_id:
            raise Unauthorized("tenant claim changed between reads")
        if not tenant.is_active:
            raise TenantDeactivated(tenant.tenant_id)
        return TenantContext(tenant.tenant_id, tenant.tier, user_name, role, pool.user_pool_id,
                             None)
