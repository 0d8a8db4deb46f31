"""A failure at any step of a registration leaves nothing behind, and a retry succeeds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

import pytest

from tenant_context.errors import ServiceUnavailableError
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    tenant_name_key,
    tenant_pool,
)
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.tenancy import Tier, new_tenant_id
from tests.support.admin_api_client import AdminApi
from tests.support.control_plane_parts import (
    ClaimStatus,
    Failing,
    Identity,
    NameClaim,
    Registrar,
    RegistrationRequest,
    registrar_parts,
)
from tests.support.serving import replacing, served_with
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

# (step of the issue, collaborator, method that fails, Failing's options)
STEPS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("identity", "identity", "create_tenant_group", {}),
    ("admin user", "identity", "create_user", {}),
    ("api key", "keys", "issue", {}),
    ("tenant record", "tenants", "create", {}),
    ("mapping", "users", "create", {}),
    ("completion", "tenants", "update_claim", {}),
]
PLATINUM_STEPS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("identity", "identity", "create_tenant_pool", {}),
    ("pool id recorded", "tenants", "update_claim", {"call": 1}),
    ("admin user", "identity", "create_user", {}),
    ("api key", "keys", "issue", {}),
    ("tenant record", "tenants", "create", {}),
    ("mapping", "users", "create", {}),
    ("provisioning", "deployments", "request", {}),
    ("completion", "tenants", "update_claim", {"call": 2}),  # after the provisioning request
]
# The same steps failing after their effect happened (the answer was lost, not the change).
AFTER_EFFECT = [(f"{step}, after its effect", collaborator, method, {**options, "after": True})
                for step, collaborator, method, options in STEPS]
PLATINUM_AFTER_EFFECT = [
    (f"{step}, after its effect", collaborator, method, {**options, "after": True})
    for step, collaborator, method, options in PLATINUM_STEPS]


def leftovers(world: World, tenant_id: str, name: str) -> list[str]:
    """Everything a registration of ``tenant_id`` could have created that still exists."""
    dynamodb, cognito = world.clients.dynamodb, world.clients.cognito
    found = []
    if "Item" in dynamodb.get_item(TableName=TENANT_NAMES_TABLE.name,
                                   Key={"tenantNameKey": {"S": tenant_name_key(name)}}):
        found.append("name claim")
    if "Item" in dynamodb.get_item(TableName=TENANT_DETAILS_TABLE.name,
                                   Key={"tenantId": {"S": tenant_id}}):
        found.append("tenant record")
    if "Item" in dynamodb.get_item(TableName=TENANT_STACK_MAPPING_TABLE.name,
                                   Key={"tenantId": {"S": tenant_id}}):
        found.append("deployment request")
    if dynamodb.query(TableName=TENANT_USER_MAPPING_TABLE.name,
                      KeyConditionExpression="tenantId = :t",
                      ExpressionAttributeValues={":t": {"S": tenant_id}})["Items"]:
        found.append("user record")
    pooled = world.settings.pooled_pool.user_pool_id
    try:
        cognito.get_group(UserPoolId=pooled, GroupName=f"tenant-{tenant_id}")
        found.append("group")
    except cognito.exceptions.ResourceNotFoundException:
        pass
    try:
        cognito.admin_get_user(UserPoolId=pooled, Username=f"tenant-admin-{tenant_id}")
        found.append("admin user")
    except cognito.exceptions.UserNotFoundException:
        pass
    if Identity(cognito, None).find_tenant_pool(tenant_id):
        found.append(f"pool {tenant_pool(tenant_id).name}")
    keys = TenantApiKeys(world.clients.apigateway, lambda: world.settings.usage_plan_ids)
    found += [f"api key {key.name}" for key in keys.keys_of(tenant_id)]
    return found


def registrar(world: World, tenant_id: str,
              failing: tuple[str, str, dict[str, Any]] | None = None,
              **options: Any) -> Registrar:
    parts = registrar_parts(world.clients, world.credentials)
    if failing:
        collaborator, method, failing_options = failing
        parts[collaborator] = Failing(parts[collaborator], method, **failing_options)
    return Registrar(**parts, new_id=lambda: tenant_id, **options)


@pytest.mark.parametrize(("tier", "step", "collaborator", "method", "options"),
                         [(Tier.BASIC, *step) for step in STEPS + AFTER_EFFECT]
                         + [(Tier.PLATINUM, *step)
                            for step in PLATINUM_STEPS + PLATINUM_AFTER_EFFECT],
                         ids=lambda value: str(value) if not isinstance(value, dict) else "")
def test_a_failure_at_each_step_leaves_no_orphan_and_a_retry_succeeds(
        world: World, tier: Tier, step: str, collaborator: str, method: str,
        options: dict[str, Any]) -> None:
    name = f"Fault {step} {tier} {new_tenant_id()[:6]}"
    request = RegistrationRequest(name, "owner@fault.example", tier)
    doomed = new_tenant_id()
    with pytest.raises(ServiceUnavailableError):
        registrar(world, doomed, (collaborator, method, options)).register(request)
    assert leftovers(world, doomed, name) == []
    retried = registrar(world, new_tenant_id()).register(request)
    assert retried.created
    assert "tenant record" in leftovers(world, retried.tenant_id, name)  # it exists now


def test_a_pool_whose_client_failed_is_found_by_name_and_removed(world: World) -> None:
    """The identity step fails between creating the pool and its client (no id recorded)."""
    name = f"Half Pool {new_tenant_id()[:6]}"
    doomed = new_tenant_id()
    parts = registrar_parts(world.clients, world.credentials)
    failing = Failing(world.clients.cognito, "create_user_pool_client")  # a stand-in client
    parts["identity"] = Identity(cast("CognitoIdentityProviderClient", failing), world.credentials)
    with pytest.raises(ServiceUnavailableError):
        Registrar(**parts, new_id=lambda: doomed).register(
            RegistrationRequest(name, "owner@pool.example", Tier.PLATINUM))
    assert leftovers(world, doomed, name) == []


def test_an_abandoned_registration_is_undone_and_its_name_taken_over(world: World) -> None:
    """A registration that died half-way (no undo ran) blocks its name only until it is stale."""
    name = f"Abandoned {new_tenant_id()[:6]}"
    dead = new_tenant_id()
    parts = registrar_parts(world.clients, world.credentials)
    pooled = world.settings.pooled_pool
    parts["tenants"].claim_name(NameClaim(tenant_name_key(name), dead, name, "a@dead.example",
                                          Tier.BASIC, ClaimStatus.PENDING, time.time() - 3600))
    parts["identity"].create_tenant_group(pooled.user_pool_id, dead)
    assert leftovers(world, dead, name) == ["name claim", "group"]
    replacement = new_tenant_id()
    registered = registrar(world, replacement).register(
        RegistrationRequest(name, "b@alive.example", Tier.BASIC))
    assert registered.tenant_id == replacement
    assert leftovers(world, dead, name) == ["name claim"]  # the claim is the new tenant's now


def test_a_fresh_pending_registration_blocks_its_name(world: World) -> None:
    name = f"In Progress {new_tenant_id()[:6]}"
    parts = registrar_parts(world.clients, world.credentials)
    parts["tenants"].claim_name(NameClaim(tenant_name_key(name), new_tenant_id(), name,
                                          "a@busy.example", Tier.BASIC, ClaimStatus.PENDING,
                                          time.time()))
    with pytest.raises(Exception, match="in progress"):
        registrar(world, new_tenant_id()).register(
            RegistrationRequest(name, "a@busy.example", Tier.BASIC))


@pytest.mark.parametrize(("method", "after"), [("create_group", False),
                                               ("admin_create_user", True)],
                         ids=["group", "admin-user-after-effect"])
def test_a_failure_through_the_api_answers_503_and_a_retry_gets_201(
        admin_api: AdminApi, world: World, emulator_url: str, method: str,
        after: bool) -> None:
    """The real routes, authorizer and error mapping, with the app's ControlPlane built on a
    Cognito client that fails (after creating the admin user, in the second case)."""
    name = f"Http Fault {method} {new_tenant_id()[:6]}"
    body = {"tenantName": name, "tenantEmail": "owner@http-fault.example",
            "tenantTier": "Standard"}
    cognito: list[Failing] = []

    def failing(client: Any) -> Failing:
        cognito.append(Failing(client, method, after=after))
        return cognito[0]

    with served_with(replacing(emulator_url, "cognito-idp", failing)):
        response = admin_api.call("POST", "/registration", body=body)
    assert response.status_code == 503, response.body
    assert list(response.json_body) == ["message"]
    assert "retry" in response.json_body["message"]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    ((_, request),) = cognito[0].calls
    doomed = (request["GroupName"].removeprefix("tenant-") if method == "create_group"
              else request["Username"].removeprefix("tenant-admin-"))
    assert leftovers(world, doomed, name) == []
    assert admin_api.call("GET", f"/tenant/init/{name}").status_code == 404

    retried = admin_api.call("POST", "/registration", body=body)
    assert retried.status_code == 201, retried.body
    assert retried.json_body["tenantId"] != doomed
    assert admin_api.call("GET", f"/tenant/init/{name}").status_code == 200
