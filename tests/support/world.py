"""Tenants, users and tokens made through the real emulator, as the control plane makes them.

Issue #3 brings registration; until then tests create tenant records, pools and users directly
with the same definitions and record types the platform uses.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import jwt

from pipeline.local_cloud.provisioning.baseline_bootstrap import ensure_user_pool
from pipeline.local_cloud.sign_in import sign_in
from tenant_context.attribute_values import to_item
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.baseline_records import put_changed
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    api_name,
    tenant_pool,
)
from tenant_context.platform.invitations import CredentialsFile, create_user_request
from tenant_context.platform.platform_settings import PlatformSettings, PoolRef
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_records import DeploymentRecord, TenantRecord, UserRecord
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, Tier, new_tenant_id
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.moto_server import REGION

if TYPE_CHECKING:
    from types_boto3_cognito_idp.type_defs import AuthenticationResultTypeTypeDef


@dataclass(frozen=True)
class Tenant:
    record: TenantRecord
    pool: PoolRef

    @property
    def tenant_id(self) -> str:
        return self.record.tenant_id


@dataclass(frozen=True)
class User:
    name: str
    pool: PoolRef
    role: Role
    tenant_id: str


class World:
    def __init__(self, clients: AwsClients, settings: PlatformSettings,
                 credentials: CredentialsFile) -> None:
        self.clients = clients
        self.settings = settings
        self.credentials = credentials
        self._serial = 0

    # --- tenants ------------------------------------------------------------------------------
    def pooled_tenant(self, tier: Tier = Tier.BASIC, *, active: bool = True) -> Tenant:
        tenant_id = new_tenant_id()
        pool = self.settings.pooled_pool
        record = TenantRecord(tenant_id, f"tenant-{tenant_id[:8]}", tier, active,
                              pool.user_pool_id, pool.app_client_id,
                              self._own_key(tenant_id, tier))
        self._put_tenant(record)
        return Tenant(record, pool)

    def platinum_tenant(self, *, active: bool = True) -> Tenant:
        tenant_id = new_tenant_id()
        pool = ensure_user_pool(self.clients.cognito, tenant_pool(tenant_id))
        record = TenantRecord(tenant_id, f"tenant-{tenant_id[:8]}", Tier.PLATINUM, active,
                              pool.user_pool_id, pool.app_client_id,
                              self._own_key(tenant_id, Tier.PLATINUM))
        self._put_tenant(record)
        deployment = DeploymentRecord(tenant_id, f"stack-{tenant_id}",
                                      frozenset(api_name(tenant_id, service.name)
                                                for service in TENANT_SERVICES),
                                      f"http://127.0.0.1:1/{tenant_id}")
        put_changed(self.clients.dynamodb, TENANT_STACK_MAPPING_TABLE,
                     [deployment.to_item()])
        return Tenant(record, pool)

    def _own_key(self, tenant_id: str, tier: Tier) -> str:
        """The tenant's own API key on its tier's plan, as registration issues it."""
        keys = TenantApiKeys(self.clients.apigateway, lambda: self.settings.usage_plan_ids)
        return keys.issue(tenant_id, tier.value).value

    def _put_tenant(self, record: TenantRecord) -> None:
        self.clients.dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name,
                                       Item=to_item(record.to_item()))

    def set_active(self, tenant: Tenant, active: bool) -> None:
        self.clients.dynamodb.update_item(
            TableName=TENANT_DETAILS_TABLE.name, Key=to_item({"tenantId": tenant.tenant_id}),
            UpdateExpression="SET isActive = :active",
            ExpressionAttributeValues=to_item({":active": active}))

    # --- users and tokens ---------------------------------------------------------------------
    def user(self, pool: PoolRef, role: Role, tenant_id: str = OPERATIONS_TENANT_ID,
             name: str | None = None) -> User:
        self._serial += 1
        name = name or f"{role.value.lower()}-{self._serial}-{tenant_id[:6]}"
        request, password = create_user_request(pool.user_pool_id, name,
                                                f"{name}@example.com", role, tenant_id,
                                                self.credentials)
        self.clients.cognito.admin_create_user(**request)
        assert password is not None
        self.credentials.record(pool.user_pool_id, name, password, temporary=True)
        record = UserRecord(tenant_id, name, role, pool.user_pool_id, enabled=True)
        self.clients.dynamodb.put_item(TableName=TENANT_USER_MAPPING_TABLE.name,
                                       Item=to_item(record.to_item()))
        return User(name, pool, role, tenant_id)

    def tenant_user(self, tenant: Tenant, role: Role = Role.TENANT_ADMIN) -> User:
        return self.user(tenant.pool, role, tenant.tenant_id)

    def operations_user(self, role: Role = Role.SYSTEM_ADMIN) -> User:
        return self.user(self.settings.operations_pool, role)

    def tokens(self, user: User) -> AuthenticationResultTypeTypeDef:
        """Real Cognito tokens (the first login completes NEW_PASSWORD_REQUIRED)."""
        return sign_in(self.clients.cognito, user.pool, user.name, self.credentials)

    def id_token(self, user: User) -> str:
        return self.tokens(user)["IdToken"]


def _moto_private_key() -> Any:
    """moto signs every pool's tokens with one key that ships with it: anyone can mint."""
    raw = resources.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz")
    return jwt.PyJWK(json.loads(gzip.decompress(raw.read_bytes())))


_PRIVATE_KEY = _moto_private_key()
MOTO_KID = "dummy"


def issuer(pool_id: str) -> str:
    return f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"


def mint(claims: dict[str, Any], *, kid: str = MOTO_KID, lifetime: int = 3600) -> str:
    """A token signed with the emulator's real key: only claim checks can refuse it."""
    now = int(time.time())
    payload = {"iat": now, "exp": now + lifetime, "token_use": "id", **claims}
    # PyJWS signs raw bytes, so tests can forge claim shapes PyJWT's encoder would refuse.
    return jwt.api_jws.encode(json.dumps(payload).encode(), _PRIVATE_KEY.key,
                              algorithm="RS256", headers={"kid": kid})


def claims_for(user: User, **overrides: Any) -> dict[str, Any]:
    return {"iss": issuer(user.pool.user_pool_id), "aud": user.pool.app_client_id,
            "cognito:username": user.name, "custom:userRole": user.role.value,
            "custom:tenantId": user.tenant_id, **overrides}
