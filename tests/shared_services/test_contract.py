"""Every admin call of the REST contract answers with the documented fields and JSON types."""

from __future__ import annotations

from typing import Any

from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.world import World


def shaped(value: Any, shape: dict[str, type]) -> None:
    assert isinstance(value, dict), value
    for field, kind in shape.items():
        assert field in value, f"{field} missing from {value}"
        assert type(value[field]) is kind, f"{field}: {type(value[field])} is not {kind}"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.body
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Content-Type"] == "application/json"
    return response.json_body


def test_admin_api_contract(admin_api: AdminApi, world: World) -> None:
    api = admin_api
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))

    registered = ok(api.call("POST", "/registration", body={
        "tenantName": "Contract Ltd", "tenantEmail": "c@contract.example",
        "tenantTier": "standard", "tenantPhone": "+44 20 7946 0000",
        "tenantAddress": "1 Contract Street"}), 201)
    shaped(registered, {"message": str, "tenantId": str, "tenantName": str, "tenantTier": str,
                        "tenantAdminUserName": str})
    tenant_id = registered["tenantId"]

    config = ok(api.call("GET", "/tenant/init/Contract Ltd"))
    shaped(config, {"userPoolId": str, "appClientId": str, "apiGatewayUrl": str})

    tenants = ok(api.call("GET", "/tenants", system_admin))
    assert isinstance(tenants, list)
    mine = next(tenant for tenant in tenants if tenant["tenantId"] == tenant_id)
    shaped(mine, {"tenantId": str, "tenantName": str, "tenantEmail": str, "tenantTier": str,
                  "isActive": bool})
    page = ok(api.call("GET", "/tenants?limit=2", system_admin))
    shaped(page, {"items": list})
    assert len(page["items"]) <= 2
    assert page["nextToken"] is None or isinstance(page["nextToken"], str)

    detail = ok(api.call("GET", f"/tenant/{tenant_id}", system_admin))
    shaped(detail["message"], {"tenant_name": str, "tenant_address": str, "tenant_email": str,
                               "tenant_phone": str})
    assert detail["message"]["tenant_address"] == "1 Contract Street"

    assert ok(api.call("PUT", f"/tenant/{tenant_id}", system_admin, {
        "tenantName": "Contract Ltd", "tenantAddress": "2 Contract Street",
        "tenantEmail": "c@contract.example", "tenantPhone": "0", "tenantTier": "Standard"
    })) == {"message": "Tenant Updated"}

    admin_token = world.id_token(world.tenant_user(
        world.pooled_tenant(), Role.TENANT_ADMIN))  # another tenant: used below for users
    assert ok(api.call("POST", "/user", system_admin, {
        "userName": "contract-user", "userEmail": "u@contract.example",
        "userRole": "TenantUser", "tenantId": tenant_id}), 201) == {"message": "New user created"}

    users = ok(api.call("GET", f"/users?tenantid={tenant_id}", system_admin))
    assert isinstance(users, list)
    assert {user["user_name"] for user in users} == {"contract-user",
                                                      registered["tenantAdminUserName"]}
    for user in users:
        shaped(user, {"user_name": str, "email": str, "user_role": str, "tenant_id": str,
                      "enabled": bool, "status": str, "created": str, "modified": str})

    one = ok(api.call("GET", f"/user/contract-user?tenantid={tenant_id}", system_admin))
    shaped(one["message"], {"user_name": str, "tenant_id": str, "user_role": str, "email": str})
    assert one["message"]["user_role"] == "TenantUser"
    assert one["message"]["status"] == "FORCE_CHANGE_PASSWORD"

    assert ok(api.call("PUT", f"/user/contract-user?tenantid={tenant_id}", system_admin,
                       {"userEmail": "new@contract.example", "userRole": "TenantAdmin"})) == {
        "message": "user updated"}
    assert ok(api.call("DELETE", f"/user/contract-user?tenantid={tenant_id}", system_admin)) == {
        "message": "User disabled"}
    assert ok(api.call("DELETE", f"/tenant/{tenant_id}", system_admin)) == {
        "message": "Tenant Deactivated"}
    assert ok(api.call("PUT", f"/tenant/activation/{tenant_id}", system_admin)) == {
        "message": "Tenant Activated"}

    missing = api.call("GET", "/user/nobody", admin_token)
    assert missing.status_code == 404
    shaped(missing.json_body, {"message": str})
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
