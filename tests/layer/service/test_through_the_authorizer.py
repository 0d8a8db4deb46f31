"""Every app, called as the web apps call it, through the one tenant authorizer."""

from __future__ import annotations

from typing import Any

from tenant_context.tenancy import Role
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.chalice_apps import ClientFor
from tests.support.world import World


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_cors(response: Any) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == "*"


def test_list_tenants_needs_a_token(client_for: ClientFor) -> None:
    response = client_for("shared_services").http.get("/tenants")
    assert response.status_code == 401
    assert response.json_body == {"message": "Unauthorized"}
    garbage = client_for("shared_services").http.get("/tenants", headers=bearer("x.y.z"))
    assert garbage.status_code == 401


def test_list_tenants_by_role(client_for: ClientFor, world: World) -> None:
    tenant = world.pooled_tenant()
    client = client_for("shared_services").http
    for role in (Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT):
        response = client.get("/tenants",
                              headers=bearer(world.id_token(world.operations_user(role))))
        assert response.status_code == 200, response.body
        assert_cors(response)
        listed = {item["tenantId"]: item for item in response.json_body}
        assert listed[tenant.tenant_id]["tenantTier"] == "Basic"
        assert listed[tenant.tenant_id]["isActive"] is True
        assert not any("apiKey" in item or "userPoolId" in item for item in listed.values())
    for role in (Role.TENANT_ADMIN, Role.TENANT_USER):
        token = world.id_token(world.tenant_user(tenant, role))
        assert client.get("/tenants", headers=bearer(token)).status_code == 403


def test_products_are_listed_per_tenant(client_for: ClientFor, world: World) -> None:
    mine, theirs = world.pooled_tenant(), world.pooled_tenant()
    client = client_for("product_service").http
    my_token = world.id_token(world.tenant_user(mine, Role.TENANT_USER))
    their_token = world.id_token(world.tenant_user(theirs, Role.TENANT_USER))
    created = client.post("/product", headers={**bearer(my_token),
                                               "Content-Type": "application/json"},
                          body=b'{"name": "Mine", "price": 12, "sku": "M1", "category": "c"}')
    assert created.status_code == 201, created.body
    client.post("/product", headers={**bearer(their_token), "Content-Type": "application/json"},
                body=b'{"name": "Theirs", "price": 1, "sku": "T1", "category": "c"}')
    response = client.get("/products", headers=bearer(my_token))
    assert response.status_code == 200, response.body
    assert_cors(response)
    assert response.json_body == [created.json_body]
    assert created.json_body["price"] == 12
    assert created.json_body["key"].startswith(f"{mine.tenant_id}-")


def test_tenant_apis_refuse_staff_and_other_deployments(client_for: ClientFor,
                                                         world: World) -> None:
    platinum = world.platinum_tenant()
    platinum_token = world.id_token(world.tenant_user(platinum))
    staff_token = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    for service in TENANT_SERVICES:
        client, path = client_for(service.folder).http, f"{service.route_prefix}s"
        assert client.get(path, headers=bearer(staff_token)).status_code == 403
        assert client.get(path, headers=bearer(platinum_token)).status_code == 403
        assert client.get(path).status_code == 401


def test_orders_list_for_a_pooled_tenant(client_for: ClientFor, world: World) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant))
    response = client_for("order_service").http.get("/orders", headers=bearer(token))
    assert response.status_code == 200
    assert response.json_body == []
