"""What a tenant's deployment row says, to whom: the public sign-in lookup (``GET
/tenant/init``) answers each state without detail, staff read the detail on the tenant view,
and only a SystemAdmin places a Platinum tenant in the rollouts (wave, pin)."""

from __future__ import annotations

from typing import Any

import pytest

from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.tenant_records import DesiredState, ReleaseResult
from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi, Registered
from tests.support.world import World

REASON = "TenantApi: Resource limit exceeded (LimitExceededException)"
ACTION = "raise the account's API Gateway quota, then deploy the tenant again"


@pytest.fixture
def deployments(world: World) -> Deployments:
    return Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)


def init(admin_api: AdminApi, tenant: Registered) -> Any:
    return admin_api.call("GET", f"/tenant/init/{tenant.name}")


def staff_view(admin_api: AdminApi, world: World, tenant: Registered,
               role: Role = Role.SYSTEM_ADMIN) -> dict[str, Any]:
    token = world.id_token(world.operations_user(role))
    response = admin_api.call("GET", f"/tenant/{tenant.tenant_id}", token)
    assert response.status_code == 200, response.body
    detail: dict[str, Any] = response.json_body["message"]
    return detail


def test_each_state_of_a_platinum_deployment_is_answered_as_defined(
        admin_api: AdminApi, world: World, deployments: Deployments) -> None:
    tenant = admin_api.register("Platinum")
    provisioning = init(admin_api, tenant)
    assert (provisioning.status_code, provisioning.json_body["status"]) == (409, "provisioning")
    assert provisioning.headers["Retry-After"] == "30"

    deployments.record_failed(tenant.tenant_id, REASON, ACTION)
    failed = init(admin_api, tenant)
    assert failed.status_code == 409
    assert failed.json_body == {"message": "The tenant's service is not available",
                                "status": "unavailable"}
    assert "Retry-After" not in failed.headers
    assert REASON not in failed.body.decode()
    assert ACTION not in failed.body.decode()
    for role in (Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT):
        shown = staff_view(admin_api, world, tenant, role)["deployment"]
        assert (shown["status"], shown["failure_reason"], shown["operator_action"]) == (
            "failed", REASON, ACTION)
    owner = admin_api.call("GET", f"/tenant/{tenant.tenant_id}",
                           world.id_token(tenant.admin)).json_body["message"]
    assert "deployment" not in owner  # the tenant's own admin never reads staff's detail

    url = f"https://{tenant.tenant_id}.example/prod"
    deployments.record_active(tenant.tenant_id, frozenset({"api-1"}), url)
    ready = init(admin_api, tenant)
    assert (ready.status_code, ready.json_body["apiGatewayUrl"]) == (200, url)
    cleared = staff_view(admin_api, world, tenant)["deployment"]
    assert (cleared["status"], cleared["failure_reason"], cleared["operator_action"]) == (
        "active", "", "")

    deployments.set_desired_state(tenant.tenant_id, DesiredState.STOPPED)
    stopped = init(admin_api, tenant)
    assert (stopped.status_code, stopped.json_body) == (
        409, {"message": "The tenant's service is not available", "status": "unavailable"})


def test_a_failed_release_leaves_a_serving_deployment_active_and_on_its_release(
        admin_api: AdminApi, world: World, deployments: Deployments) -> None:
    tenant = admin_api.register("Platinum")
    deployments.record_active(tenant.tenant_id, frozenset({"api-1"}), "https://t.example")
    deployments.record_release(tenant.tenant_id, "r1", ReleaseResult.DEPLOYED, "t1")
    deployments.record_failed(tenant.tenant_id, "must not apply", "-")  # not a first deploy
    deployments.record_release(tenant.tenant_id, "r2", ReleaseResult.FAILED, "t2",
                               reason="ProductFunction: canary alarm")
    assert init(admin_api, tenant).status_code == 200
    shown = staff_view(admin_api, world, tenant)["deployment"]
    assert {key: shown[key] for key in ("status", "failure_reason", "release_id",
                                        "release_result", "release_failure", "released_at")
            } == {"status": "active", "failure_reason": "", "release_id": "r1",
                  "release_result": "failed",
                  "release_failure": "ProductFunction: canary alarm", "released_at": "t2"}


def test_a_system_admin_places_a_platinum_tenant_in_the_rollouts(
        admin_api: AdminApi, world: World, deployments: Deployments) -> None:
    tenant = admin_api.register("Platinum")
    path = f"/tenant/release-settings/{tenant.tenant_id}"
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    fresh = staff_view(admin_api, world, tenant)["deployment"]
    assert (fresh["wave"], fresh["apply_latest_release"]) == (None, True)  # the last wave

    answer = admin_api.call("PUT", path, system_admin, {"wave": 1, "applyLatestRelease": False})
    assert (answer.status_code, answer.json_body) == (200, {"message": "Release settings "
                                                                       "updated"})
    row = deployments.get(tenant.tenant_id)
    assert row is not None
    assert (row.release.wave, row.release.apply_latest_release) == (1, False)
    assert admin_api.call("PUT", path, system_admin, {"wave": "last"}).status_code == 200
    row = deployments.get(tenant.tenant_id)
    assert row is not None
    assert (row.release.wave, row.release.apply_latest_release) == (None, False)

    refused = {"wave 0": {"wave": 0}, "wave 101": {"wave": 101}, "a word": {"wave": "first"},
               "a boolean wave": {"wave": True}, "a fraction": {"wave": 1.5},
               "a string flag": {"applyLatestRelease": "yes"}, "nothing": {},
               "an unknown field": {"wave": 2, "stage": "beta"}}
    for why, body in refused.items():
        response = admin_api.call("PUT", path, system_admin, body)
        assert response.status_code == 400, (why, response.body)
    for role_token in (world.id_token(tenant.admin),
                       world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))):
        assert admin_api.call("PUT", path, role_token, {"wave": 3}).status_code == 403
    pooled = admin_api.register("Premium")
    conflict = admin_api.call("PUT", f"/tenant/release-settings/{pooled.tenant_id}",
                              system_admin, {"wave": 1})
    assert conflict.status_code == 409
    assert "pooled" in conflict.json_body["message"]
    unknown = admin_api.call("PUT", "/tenant/release-settings/" + "0" * 32, system_admin,
                             {"wave": 1})
    assert unknown.status_code == 404
    row = deployments.get(tenant.tenant_id)
    assert row is not None  # nothing refused changed it
    assert (row.release.wave, row.release.apply_latest_release) == (None, False)
