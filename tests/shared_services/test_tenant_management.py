"""Tier changes, renames, deactivation and activation, with their consequences."""

from __future__ import annotations

import pytest

from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.sign_in import LoginError, sign_in
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import (
    POOLED_DATA_TABLES,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    tenant_name_key,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.authorizer_under_test import build
from tests.support.gateway_policy import token_event
from tests.support.world import World


def stored(world: World, tenant_id: str) -> dict[str, object]:
    item = world.clients.dynamodb.get_item(TableName=TENANT_DETAILS_TABLE.name,
                                           Key=to_item({"tenantId": tenant_id}))["Item"]
    return from_item(item)


def plans_of_tenant_keys(world: World, tenant_id: str) -> dict[object, list[str]]:
    """Each of the tenant's keys (by value) and the plans it is on."""
    apigateway = world.clients.apigateway
    keys = TenantApiKeys(apigateway, lambda: world.settings.usage_plan_ids).keys_of(tenant_id)
    return {key.value: [name for name, plan_id in world.settings.usage_plan_ids.items()
                        if any(linked["id"] == key.key_id for linked in
                               apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"])]
            for key in keys}


def key_states(world: World, tenant_id: str) -> list[bool]:
    keys = TenantApiKeys(world.clients.apigateway, lambda: world.settings.usage_plan_ids)
    return [key.enabled for key in keys.keys_of(tenant_id)]


def test_tiers_change_within_the_pool_and_only_by_the_provider(admin_api: AdminApi,
                                                                world: World) -> None:
    tenant = admin_api.register("Basic")
    owner = world.id_token(tenant.admin)
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    path = f"/tenant/{tenant.tenant_id}"
    assert admin_api.call("PUT", path, owner, {"tenantTier": "Premium"}).status_code == 403
    assert admin_api.call("PUT", path, owner, {"tenantTier": "basic",
                                               "tenantPhone": "123"}).status_code == 200
    before = stored(world, tenant.tenant_id)["apiKey"]
    assert admin_api.call("PUT", path, system_admin, {"tenantTier": "premium"}).status_code == 200
    record = stored(world, tenant.tenant_id)
    assert record["tenantTier"] == "Premium"
    assert record["tenantPhone"] == "123"
    # The usage plan follows: a new key of the tenant's own on the Premium plan; the previous
    # one stays on Basic for the authorizer caches' sake, until the next move.
    assert plans_of_tenant_keys(world, tenant.tenant_id) == {
        record["apiKey"]: ["Premium"], before: ["Basic"]}
    assert admin_api.call("PUT", path, system_admin, {"tenantTier": "Standard"}).status_code == 200
    after = stored(world, tenant.tenant_id)["apiKey"]
    assert plans_of_tenant_keys(world, tenant.tenant_id) == {
        after: ["Standard"], record["apiKey"]: ["Premium"]}
    refused = admin_api.call("PUT", path, system_admin, {"tenantTier": "Platinum"})
    assert refused.status_code == 409  # a move of its data: its own route, named
    assert f"POST /tenant/move/{tenant.tenant_id}" in refused.json_body["message"]
    platinum = admin_api.register("Platinum")
    assert admin_api.call("PUT", f"/tenant/{platinum.tenant_id}", system_admin,
                          {"tenantTier": "Standard"}).status_code == 409
    assert stored(world, platinum.tenant_id)["tenantTier"] == "Platinum"


def name_claim(world: World, name: str) -> dict[str, object] | None:
    item = world.clients.dynamodb.get_item(
        TableName=TENANT_NAMES_TABLE.name, ConsistentRead=True,
        Key=to_item({"tenantNameKey": tenant_name_key(name)})).get("Item")
    return from_item(item) if item else None


def test_renames_are_the_providers_and_keep_names_unique(admin_api: AdminApi,
                                                         world: World) -> None:
    tenant, rival = admin_api.register("Basic"), admin_api.register("Basic")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    path = f"/tenant/{tenant.tenant_id}"
    new_name = f"Renamed {tenant.tenant_id[:6]}"
    taken = admin_api.call("PUT", path, system_admin, {"tenantName": rival.name.upper()})
    assert taken.status_code == 409
    assert admin_api.call("PUT", path, system_admin, {"tenantName": new_name,
                                                      "tenantEmail": "new@owner.example"}
                          ).status_code == 200
    assert admin_api.call("GET", f"/tenant/init/{new_name}").status_code == 200
    assert admin_api.call("GET", f"/tenant/init/{tenant.name}").status_code == 404
    assert stored(world, tenant.tenant_id)["tenantName"] == new_name
    assert name_claim(world, tenant.name) is None
    claim = name_claim(world, new_name)
    assert claim is not None
    assert (claim["tenantId"], claim["tenantName"], claim["tenantEmail"], claim["status"]) == (
        tenant.tenant_id, new_name, "new@owner.example", "complete")
    admin_api.register("Standard", name=tenant.name)  # the old name is free again

    # A change of case or spacing only is a rename too: record and claim spell it alike.
    respelled = new_name.upper().replace(" ", "  ")
    assert admin_api.call("PUT", path, system_admin, {"tenantName": respelled}
                          ).status_code == 200
    assert stored(world, tenant.tenant_id)["tenantName"] == respelled
    claim = name_claim(world, new_name)
    assert claim is not None
    assert (claim["tenantId"], claim["tenantName"], claim["tenantEmail"]) == (
        tenant.tenant_id, respelled, "new@owner.example")
    # A repeat of the registration reports the tenant as it is now.
    repeat = admin_api.call("POST", "/registration", body={
        "tenantName": new_name, "tenantEmail": "new@owner.example", "tenantTier": "Basic"})
    assert repeat.status_code == 200
    assert (repeat.json_body["tenantId"], repeat.json_body["tenantName"]) == (
        tenant.tenant_id, respelled)


def test_a_tenant_admin_changes_contact_fields_but_never_the_name(admin_api: AdminApi,
                                                                  world: World) -> None:
    tenant = admin_api.register("Basic")
    owner = world.id_token(tenant.admin)
    path = f"/tenant/{tenant.tenant_id}"
    for name in (f"Other {tenant.tenant_id[:6]}", tenant.name.lower(), tenant.name.upper(),
                 tenant.name.replace(" ", "  ")):
        refused = admin_api.call("PUT", path, owner, {"tenantName": name,
                                                      "tenantPhone": "+1 555 0199"})
        assert refused.status_code == 403, (name, refused.body)
        assert refused.json_body["fields"] == ["tenantName"]
        assert "tenantName" in refused.json_body["message"]
    assert stored(world, tenant.tenant_id)["tenantName"] == tenant.name
    assert stored(world, tenant.tenant_id)["tenantPhone"] == ""  # refused as a whole
    # The web app sends the whole form back: the unchanged name passes with the contact change.
    form = {"tenantName": tenant.name, "tenantEmail": "desk@owner.example",
            "tenantPhone": "+1 555 0100", "tenantAddress": "1 Main St", "tenantTier": "basic"}
    assert admin_api.call("PUT", path, owner, form).status_code == 200
    record = stored(world, tenant.tenant_id)
    assert (record["tenantName"], record["tenantEmail"], record["tenantPhone"],
            record["tenantAddress"], record["tenantTier"]) == (
        tenant.name, "desk@owner.example", "+1 555 0100", "1 Main St", "Basic")


def test_deactivation_keeps_data_disables_users_and_activation_restores_them(
        admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Standard")
    owner_token = world.id_token(tenant.admin)
    user = admin_api.add_user(tenant)
    individually_disabled = admin_api.add_user(tenant)
    world.id_token(user)  # first logins done before the tenant goes away
    assert admin_api.call("DELETE", f"/user/{individually_disabled.name}",
                          owner_token).status_code == 200
    table = POOLED_DATA_TABLES[0]  # any tenant service's pooled table
    item_id = table.key_names[1]
    product = {"shardId": f"{tenant.tenant_id}-1", item_id: "kept", "name": "Kept"}
    world.clients.dynamodb.put_item(TableName=table.name, Item=to_item(product))

    assert admin_api.call("DELETE", f"/tenant/{tenant.tenant_id}", owner_token
                          ).status_code == 200
    assert stored(world, tenant.tenant_id)["isActive"] is False
    assert key_states(world, tenant.tenant_id) == [False]  # API Gateway refuses it too
    with pytest.raises(LoginError):
        sign_in(world.clients.cognito, tenant.pool, user.name, world.credentials)
    with pytest.raises(Unauthorized):  # a fresh authorizer: nothing cached
        build().authorizer.authorize(token_event(owner_token, "pooled-product", "GET",
                                                 "/products"))
    kept = world.clients.dynamodb.get_item(TableName=table.name,
                                           Key=to_item({"shardId": product["shardId"],
                                                        item_id: "kept"}))
    assert from_item(kept["Item"]) == product

    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    assert admin_api.call("PUT", f"/tenant/activation/{tenant.tenant_id}", system_admin
                          ).status_code == 200
    assert stored(world, tenant.tenant_id)["isActive"] is True
    assert key_states(world, tenant.tenant_id) == [True]
    assert sign_in(world.clients.cognito, tenant.pool, user.name, world.credentials)
    users = {row["user_name"]: row for row in admin_api.call(
        "GET", f"/users?tenantid={tenant.tenant_id}", system_admin).json_body}
    assert users[user.name]["enabled"] is True
    assert users[individually_disabled.name]["enabled"] is False  # stays as its admin left it


def test_a_platinum_deactivation_asks_its_deployment_to_stop(admin_api: AdminApi,
                                                             world: World) -> None:
    platinum = admin_api.register("Platinum")
    deployments = Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)
    requested = deployments.get(platinum.tenant_id)
    assert requested is not None
    assert (requested.status, requested.desired_state) == ("provisioning", "running")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    assert admin_api.call("DELETE", f"/tenant/{platinum.tenant_id}", system_admin
                          ).status_code == 200
    stopped = deployments.get(platinum.tenant_id)
    assert stopped is not None
    assert stopped.desired_state == "stopped"
    assert admin_api.call("PUT", f"/tenant/activation/{platinum.tenant_id}", system_admin
                          ).status_code == 200
    running = deployments.get(platinum.tenant_id)
    assert running is not None
    assert running.desired_state == "running"
