"""The admin API's move routes: who may request and follow a move, what is refused (with a
clear 4xx and nothing changed), and what a move under way blocks. The move itself is the
mover's (tests/pipeline/lifecycle, tests/e2e/test_tenant_moves_over_http.py)."""

from __future__ import annotations

from typing import Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.tenant_moves import MOVE_ATTRIBUTE
from tenant_context.tenancy import Role, new_tenant_id
from tests.support.admin_api_client import AdminApi
from tests.support.world import World


def stored(world: World, tenant_id: str) -> dict[str, Any]:
    item = world.clients.dynamodb.get_item(TableName=TENANT_DETAILS_TABLE.name,
                                           Key=to_item({"tenantId": tenant_id}),
                                           ConsistentRead=True)["Item"]
    return from_item(item)


def test_a_system_admin_requests_a_move_and_follows_it(admin_api: AdminApi,
                                                       world: World) -> None:
    tenant = admin_api.register("Standard")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    support = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))
    route = f"/tenant/move/{tenant.tenant_id}"
    assert admin_api.call("GET", route, system_admin).status_code == 404  # never moved

    accepted = admin_api.call("POST", route, system_admin, {"tenantTier": "platinum"})

    assert accepted.status_code == 202, accepted.body
    assert accepted.headers["Location"] == route == accepted.json_body["location"]
    move = accepted.json_body["move"]
    assert (move["fromTier"], move["toTier"], move["step"]) == ("Standard", "Platinum",
                                                                "requested")
    assert (move["steps"][0], move["steps"][-1]) == ("requested", "done")
    followed = admin_api.call("GET", route, support)
    assert followed.status_code == 200
    assert followed.json_body["moveId"] == move["moveId"]
    assert stored(world, tenant.tenant_id)["tenantTier"] == "Standard"  # the mover switches


def test_bad_move_requests_are_refused_and_change_nothing(admin_api: AdminApi,
                                                          world: World) -> None:
    tenant = admin_api.register("Basic")
    platinum = admin_api.register("Platinum")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    support = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))
    owner = world.id_token(tenant.admin)
    route = f"/tenant/move/{tenant.tenant_id}"
    before = stored(world, tenant.tenant_id)
    refusals = {
        "unknown tenant": (admin_api.call("POST", f"/tenant/move/{new_tenant_id()}",
                                          system_admin, {"tenantTier": "Platinum"}), 404),
        "same tier": (admin_api.call("POST", route, system_admin, {"tenantTier": "Basic"}),
                      400),
        "within the pool": (admin_api.call("POST", route, system_admin,
                                           {"tenantTier": "Premium"}), 400),
        "no tier": (admin_api.call("POST", route, system_admin, {}), 400),
        "a tier that is none": (admin_api.call("POST", route, system_admin,
                                               {"tenantTier": "Gold"}), 400),
        "not JSON": (admin_api.call("POST", route, system_admin, raw=b"tier=Platinum"), 400),
        "a malformed id": (admin_api.call("POST", "/tenant/move/xyz", system_admin,
                                          {"tenantTier": "Platinum"}), 404),
        "its own TenantAdmin": (admin_api.call("POST", route, owner,
                                               {"tenantTier": "Platinum"}), 403),
        "its own TenantAdmin reading": (admin_api.call("GET", route, owner), 403),
        "CustomerSupport": (admin_api.call("POST", route, support,
                                           {"tenantTier": "Platinum"}), 403),
        "Platinum to Platinum": (admin_api.call(
            "POST", f"/tenant/move/{platinum.tenant_id}", system_admin,
            {"tenantTier": "Platinum"}), 400),
    }
    for why, (response, status) in refusals.items():
        assert response.status_code == status, (why, response.body)
        # API Gateway's own refusal (no route in the policy) says "Message", on AWS too.
        assert response.json_body.get("message") or response.json_body.get("Message"), \
            (why, response.body)
    assert stored(world, tenant.tenant_id) == before
    assert MOVE_ATTRIBUTE not in stored(world, platinum.tenant_id)

    # A deactivated tenant is not moved.
    assert admin_api.call("DELETE", f"/tenant/{tenant.tenant_id}", system_admin
                          ).status_code == 200
    refused = admin_api.call("POST", route, system_admin, {"tenantTier": "Platinum"})
    assert refused.status_code == 409
    assert "deactivated" in refused.json_body["message"]
    assert MOVE_ATTRIBUTE not in stored(world, tenant.tenant_id)


def test_a_move_under_way_blocks_tier_changes_deactivation_and_another_move(
        admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Premium")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    owner = world.id_token(tenant.admin)
    route = f"/tenant/move/{tenant.tenant_id}"
    assert admin_api.call("POST", route, system_admin, {"tenantTier": "Platinum"}
                          ).status_code == 202
    move = stored(world, tenant.tenant_id)[MOVE_ATTRIBUTE]

    again = admin_api.call("POST", route, system_admin, {"tenantTier": "Platinum"})
    tier = admin_api.call("PUT", f"/tenant/{tenant.tenant_id}", system_admin,
                          {"tenantTier": "Basic"})
    deactivation = admin_api.call("DELETE", f"/tenant/{tenant.tenant_id}", owner)

    for response in (again, tier, deactivation):
        assert response.status_code == 409, response.body
        assert route in response.json_body["message"]
    record = stored(world, tenant.tenant_id)
    assert record[MOVE_ATTRIBUTE] == move
    assert (record["tenantTier"], record["isActive"]) == ("Premium", True)
    # Contact fields still change: the move concerns the data, not the record's contacts.
    assert admin_api.call("PUT", f"/tenant/{tenant.tenant_id}", owner,
                          {"tenantPhone": "555"}).status_code == 200
