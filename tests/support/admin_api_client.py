"""The admin API as the web apps use it, through chalice.test.Client and the real authorizer."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from chalice.test import Client

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.platform_settings import PoolRef
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.tenancy import Role
from tests.support.world import User, World

_serial = itertools.count(1)


@dataclass(frozen=True)
class Registered:
    tenant_id: str
    name: str
    tier: str
    admin: User
    pool: PoolRef


class AdminApi:
    def __init__(self, client: Client, world: World) -> None:
        self.client = client
        self.world = world

    def call(self, method: str, path: str, token: str | None = None, body: Any = None,
             raw: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (
            json.dumps(body).encode() if body is not None else b"")
        return self.client.http.request(method, path, headers=headers, body=data)

    def register(self, tier: str = "Basic", name: str | None = None,
                 email: str | None = None, **extra: Any) -> Registered:
        serial = next(_serial)
        name = name or f"Tenant {serial} {tier}"
        body = {"tenantName": name, "tenantEmail": email or f"owner{serial}@example.com",
                "tenantTier": tier, **extra}
        response = self.call("POST", "/registration", body=body)
        assert response.status_code == 201, response.body
        registered = response.json_body
        # From the record: a Platinum tenant's sign-in page has no settings while provisioning.
        record = TenantRecord.from_item(from_item(self.world.clients.dynamodb.get_item(
            TableName=TENANT_DETAILS_TABLE.name,
            Key=to_item({"tenantId": registered["tenantId"]}))["Item"]))
        pool = PoolRef(record.user_pool_id, record.app_client_id)
        admin = User(registered["tenantAdminUserName"], pool, Role.TENANT_ADMIN,
                     registered["tenantId"])
        return Registered(registered["tenantId"], name, registered["tenantTier"], admin, pool)

    def add_user(self, tenant: Registered, role: Role = Role.TENANT_USER,
                 token: str | None = None) -> User:
        """A user created through POST /user by the tenant's admin (or ``token``'s owner)."""
        name = f"user-{next(_serial)}-{tenant.tenant_id[:6]}"
        body: dict[str, Any] = {"userName": name, "userEmail": f"{name}@example.com",
                                "userRole": role.value}
        if token is not None:
            body["tenantId"] = tenant.tenant_id
        response = self.call("POST", "/user", token or self.world.id_token(tenant.admin), body)
        assert response.status_code == 201, response.body
        return User(name, tenant.pool, role, tenant.tenant_id)
