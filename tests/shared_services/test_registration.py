"""Registration by tier, first login of each tenant admin, and the tenant config lookup."""

from __future__ import annotations

from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments
from tests.support.admin_api_client import AdminApi
from tests.support.world import World


def test_each_tier_registers_and_its_admin_sees_only_its_tenant(
        admin_api: AdminApi, world: World, baseline: BaselineResult) -> None:
    tenants = {tier: admin_api.register(tier) for tier in ("basic", "Standard", "PREMIUM",
                                                            "Platinum")}
    pooled_pool = baseline.settings.pooled_pool
    for tier, tenant in tenants.items():
        assert tenant.tier == tier.capitalize()  # stored in canonical spelling
        if tenant.tier == "Platinum":
            assert tenant.pool.user_pool_id != pooled_pool.user_pool_id
        else:
            assert tenant.pool == pooled_pool
        token = world.id_token(tenant.admin)  # first login: NEW_PASSWORD_REQUIRED completed
        own = admin_api.call("GET", f"/tenant/{tenant.tenant_id}", token)
        assert own.status_code == 200, own.body
        assert own.json_body["message"]["tenant_name"] == tenant.name
        assert own.json_body["message"]["tenant_tier"] == tenant.tier
        for other in tenants.values():
            if other is not tenant:
                refused = admin_api.call("GET", f"/tenant/{other.tenant_id}", token)
                assert refused.status_code == 403
        assert admin_api.call("GET", "/tenants", token).status_code == 403


def test_tenant_init_returns_the_pool_client_and_url(admin_api: AdminApi, world: World,
                                                      baseline: BaselineResult) -> None:
    pooled = admin_api.register("Standard")
    config = admin_api.call("GET", f"/tenant/init/{pooled.name}")
    assert config.status_code == 200
    assert config.json_body == {"userPoolId": baseline.settings.pooled_pool.user_pool_id,
                                "appClientId": baseline.settings.pooled_pool.app_client_id,
                                "apiGatewayUrl": "http://127.0.0.1:1/pooled"}
    # Any case and spacing finds the tenant.
    assert admin_api.call("GET", f"/tenant/init/{pooled.name.upper()}").status_code == 200

    platinum = admin_api.register("Platinum")
    pending = admin_api.call("GET", f"/tenant/init/{platinum.name}")
    # Not a 2xx, which the web app would take for "ready" and store an empty URL from.
    assert pending.status_code == 409
    assert pending.json_body == {"message": "The tenant's deployment is being provisioned; "
                                            "try again shortly", "status": "provisioning"}
    assert pending.headers["Retry-After"] == "30"
    # The deployer reports the tenant's own deployment (issue #5 does this for real).
    Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name).record_active(
        platinum.tenant_id, frozenset({f"{platinum.tenant_id}-product"}),
        f"http://127.0.0.1:1/{platinum.tenant_id}")
    ready = admin_api.call("GET", f"/tenant/init/{platinum.name}")
    assert ready.status_code == 200
    assert ready.json_body == {"userPoolId": platinum.pool.user_pool_id,
                               "appClientId": platinum.pool.app_client_id,
                               "apiGatewayUrl": f"http://127.0.0.1:1/{platinum.tenant_id}"}
    assert admin_api.call("GET", "/tenant/init/No Such Tenant").status_code == 404


def test_a_repeat_returns_the_registration_and_other_owners_conflict(
        admin_api: AdminApi) -> None:
    tenant = admin_api.register("Premium", name="Repeat Corp", email="boss@repeat.example")
    again = admin_api.call("POST", "/registration", body={
        "tenantName": "repeat corp", "tenantEmail": "BOSS@repeat.example",
        "tenantTier": "premium"})
    assert again.status_code == 200
    assert again.json_body["tenantId"] == tenant.tenant_id
    assert again.json_body["message"] == "Tenant already registered"
    for name in ("Repeat Corp", "REPEAT   CORP", "  repeat corp "):
        taken = admin_api.call("POST", "/registration", body={
            "tenantName": name, "tenantEmail": "someone@else.example", "tenantTier": "Basic"})
        assert taken.status_code == 409, name
        assert taken.json_body["fields"] == ["tenantName"]
