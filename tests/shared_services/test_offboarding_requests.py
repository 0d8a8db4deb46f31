"""The admin API's offboarding routes: the confirmation, the immediate deactivation, the undo
within the grace period, and every refusal with a clear 4xx and nothing changed. The erasure
itself is the offboarder's (tests/pipeline/lifecycle, tests/e2e)."""

from __future__ import annotations

from typing import Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.tenant_offboarding import OFFBOARDING_ATTRIBUTE
from tenant_context.platform.tenant_records import TOMBSTONE_ATTRIBUTE
from tenant_context.tenancy import Role, new_tenant_id
from tests.support.admin_api_client import AdminApi
from tests.support.world import World


def stored(world: World, tenant_id: str) -> dict[str, Any]:
    return from_item(world.clients.dynamodb.get_item(
        TableName=TENANT_DETAILS_TABLE.name, Key=to_item({"tenantId": tenant_id}),
        ConsistentRead=True)["Item"])


def message(response: Any) -> str:
    body = response.json_body
    # API Gateway's own refusal (no route in the policy) says "Message", on AWS too.
    return str(body.get("message") or body.get("Message"))


def test_an_offboarding_deactivates_at_once_and_can_be_undone(admin_api: AdminApi,
                                                              world: World) -> None:
    tenant = admin_api.register("Basic")
    staff = world.operations_user(Role.SYSTEM_ADMIN)
    system_admin = world.id_token(staff)
    support = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))
    route = f"/tenant/offboarding/{tenant.tenant_id}"
    owner = world.id_token(tenant.admin)

    accepted = admin_api.call("POST", route, system_admin, {"confirmTenantName": tenant.name})

    assert accepted.status_code == 202, accepted.body
    assert accepted.headers["Location"] == route
    offboarding = accepted.json_body["offboarding"]
    assert offboarding["step"] == "grace"
    assert [entry["action"] for entry in offboarding["audit"]] == ["requested"]
    assert offboarding["audit"][0]["by"] == staff.name  # who, for the audit
    assert stored(world, tenant.tenant_id)["isActive"] is False  # deactivated at once
    assert admin_api.call("GET", f"/tenant/{tenant.tenant_id}", owner).status_code == 401
    assert admin_api.call("GET", route, support).json_body["step"] == "grace"

    undone = admin_api.call("DELETE", route, system_admin)

    assert undone.status_code == 200, undone.body
    assert undone.json_body["step"] == "cancelled"
    assert [entry["action"] for entry in undone.json_body["audit"]] == ["requested",
                                                                        "cancelled"]
    assert stored(world, tenant.tenant_id)["isActive"] is True  # (the authorizer's cache
    # of the deactivated record lets the owner in again within its TTL, as after activation)
    # Asked again after an undo: a new offboarding.
    again = admin_api.call("POST", route, system_admin, {"confirmTenantName": tenant.name})
    assert again.status_code == 202
    assert again.json_body["offboarding"]["offboardingId"] != offboarding["offboardingId"]


def test_bad_offboarding_requests_are_refused_and_change_nothing(admin_api: AdminApi,
                                                                 world: World) -> None:
    tenant = admin_api.register("Standard")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    support = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))
    owner = world.id_token(tenant.admin)
    route = f"/tenant/offboarding/{tenant.tenant_id}"
    confirm = {"confirmTenantName": tenant.name}
    before = stored(world, tenant.tenant_id)
    refusals = {
        "unknown tenant": (admin_api.call("POST", f"/tenant/offboarding/{new_tenant_id()}",
                                          system_admin, confirm), 404),
        "no confirmation": (admin_api.call("POST", route, system_admin, {}), 400),
        "the wrong name": (admin_api.call("POST", route, system_admin,
                                          {"confirmTenantName": tenant.name + "x"}), 400),
        "its name in another case": (admin_api.call(
            "POST", route, system_admin, {"confirmTenantName": tenant.name.upper()}), 400),
        "its own TenantAdmin": (admin_api.call("POST", route, owner, confirm), 403),
        "CustomerSupport": (admin_api.call("POST", route, support, confirm), 403),
        "an undo with nothing to undo": (admin_api.call("DELETE", route, system_admin), 404),
        "reading what was never asked": (admin_api.call("GET", route, support), 404),
    }
    for why, (response, status) in refusals.items():
        assert response.status_code == status, (why, response.body)
        assert message(response), why
    assert stored(world, tenant.tenant_id) == before

    assert admin_api.call("POST", route, system_admin, confirm).status_code == 202
    twice = admin_api.call("POST", route, system_admin, confirm)
    assert twice.status_code == 409
    assert "already being offboarded" in message(twice)
    assert admin_api.call("DELETE", route, support).status_code == 403


def test_an_offboarded_tenant_is_gone_but_its_tombstone_answers(admin_api: AdminApi,
                                                                world: World) -> None:
    tenant = admin_api.register("Basic")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    route = f"/tenant/offboarding/{tenant.tenant_id}"
    assert admin_api.call("POST", route, system_admin,
                          {"confirmTenantName": tenant.name}).status_code == 202
    offboarding = stored(world, tenant.tenant_id)[OFFBOARDING_ATTRIBUTE]
    # As the offboarder leaves it (the erasure itself is tested with the offboarder).
    world.clients.dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name, Item=to_item({
        "tenantId": tenant.tenant_id, TOMBSTONE_ATTRIBUTE: "2026-12-01T00:00:00+00:00",
        "tenantNameReleased": True, "isActive": False,
        OFFBOARDING_ATTRIBUTE: offboarding | {"step": "done"}}))

    assert admin_api.call("GET", f"/tenant/{tenant.tenant_id}", system_admin
                          ).status_code == 404
    listed = admin_api.call("GET", "/tenants", system_admin).json_body
    assert tenant.tenant_id not in {each["tenantId"] for each in listed}
    again = admin_api.call("POST", route, system_admin, {"confirmTenantName": tenant.name})
    assert again.status_code == 409
    assert "was offboarded" in message(again)
    assert admin_api.call("GET", route, system_admin).json_body["step"] == "done"
    assert admin_api.call("DELETE", route, system_admin).status_code == 409  # too late
