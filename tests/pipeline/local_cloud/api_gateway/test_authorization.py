"""The front door's authorization step runs the real tenant authorizer against the emulator and
reaches the decision the ``chalice local`` process behind the route reaches, plus the key that
meters the caller (each tenant's own); and the key table comes from the emulated API Gateway's
usage plans, as API Gateway resolves a key."""

from __future__ import annotations

import pytest

from pipeline.local_cloud.api_gateway.authorization import (
    AuthorizationStep,
    Authorized,
    GatewayRequest,
    Refused,
    allows,
    authorizer_step,
    emulator_authorizer,
    method_arn,
)
from pipeline.local_cloud.api_gateway.usage_plans import GatewayKeyPlans
from tenant_context.platform.definitions import (
    ADMIN_API,
    OPERATIONS_PLAN_NAME,
    USAGE_PLANS,
    api_name,
)
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, Tier
from tests.support.clock import FakeClock
from tests.support.counting import CallCounter
from tests.support.moto_server import clients_for
from tests.support.world import Tenant, World

POOLED_PRODUCT = api_name(POOLED_DEPLOYMENT, "product")


@pytest.fixture(scope="module")
def authorize(world: World, emulator_url: str) -> AuthorizationStep:
    return authorizer_step(emulator_authorizer(emulator_url, clients_for(emulator_url)))


def bearer(world: World, role: Role, tier: Tier | None = None) -> str:
    if tier is None:
        return f"Bearer {world.id_token(world.operations_user(role))}"
    return tenant_bearer(world, world.pooled_tenant(tier), role)


def tenant_bearer(world: World, tenant: Tenant, role: Role = Role.TENANT_USER) -> str:
    return f"Bearer {world.id_token(world.tenant_user(tenant, role))}"


def test_the_arn_is_the_one_chalice_local_builds_with_the_routes_api_id() -> None:
    assert method_arn(GatewayRequest("pooled-order", "PUT", "/order/1:ab", None)) == (
        "arn:aws:execute-api:mars-west-1:123456789012:pooled-order/api/PUT/order/1:ab")
    assert method_arn(GatewayRequest("admin", "GET", "/", None)).endswith("admin/api/GET//")


def test_each_tenant_is_metered_by_its_own_key(world: World, authorize: AuthorizationStep
                                               ) -> None:
    tenants = [world.pooled_tenant(tier) for tier in (Tier.BASIC, Tier.BASIC, Tier.PREMIUM)]
    for tenant in tenants:
        token = tenant_bearer(world, tenant)
        assert authorize(GatewayRequest(POOLED_PRODUCT, "GET", "/products", token)) == (
            Authorized(tenant.record.api_key))
    assert len({tenant.record.api_key for tenant in tenants}) == len(tenants)


def test_staff_are_metered_by_the_operations_key_on_the_admin_api(
        world: World, authorize: AuthorizationStep) -> None:
    token = bearer(world, Role.SYSTEM_ADMIN)
    assert authorize(GatewayRequest(ADMIN_API, "GET", "/tenants", token)) == (
        Authorized(world.settings.api_keys[OPERATIONS_PLAN_NAME]))


def test_what_the_upstream_will_refuse_is_refused_with_the_reason(
        world: World, authorize: AuthorizationStep) -> None:
    """Refused, not metered; the decision the upstream is handed says which answer: a policy
    that does not allow the route (403) or none at all (401)."""
    staff = bearer(world, Role.SYSTEM_ADMIN)
    tenant_user = bearer(world, Role.TENANT_USER, Tier.BASIC)
    for request in (GatewayRequest(POOLED_PRODUCT, "GET", "/products", staff),
                    GatewayRequest(ADMIN_API, "GET", "/tenants", tenant_user)):  # 403
        refused = authorize(request)
        assert isinstance(refused, Refused)
        assert refused.method_arn == method_arn(request)
        assert refused.response is not None
        assert not allows(refused.response, refused.method_arn)
    for header in (None, "Bearer not-a-token", staff.replace("Bearer", "Basic")):  # 401
        request = GatewayRequest(ADMIN_API, "GET", "/tenants", header)
        assert authorize(request) == Refused(None, method_arn(request))


def test_a_platinum_tenant_is_metered_on_its_own_api_only(world: World,
                                                          authorize: AuthorizationStep) -> None:
    tenant = world.platinum_tenant()
    token = f"Bearer {world.id_token(world.tenant_user(tenant, Role.TENANT_USER))}"
    own_api = api_name(tenant.tenant_id, "order")
    assert authorize(GatewayRequest(own_api, "GET", "/orders", token)) == (
        Authorized(tenant.record.api_key))
    assert isinstance(authorize(GatewayRequest(POOLED_PRODUCT, "GET", "/products", token)),
                      Refused)


def test_the_key_table_is_the_gateways_own_and_cached(world: World, emulator_url: str) -> None:
    apigateway = clients_for(emulator_url).apigateway
    listings = CallCounter(apigateway, "apigateway", "GetApiKeys")
    clock = FakeClock(0.0)
    key_plans = GatewayKeyPlans(apigateway, ttl=5, clock=clock)
    staff_key = world.settings.api_keys[OPERATIONS_PLAN_NAME]
    assert key_plans(staff_key) == USAGE_PLANS[OPERATIONS_PLAN_NAME]
    assert key_plans(staff_key) == USAGE_PLANS[OPERATIONS_PLAN_NAME]
    assert listings.count == 1
    # A tenant registered a moment ago is known at once, even within the same clock tick as
    # the last read: a miss re-reads unless the table was read after the request arrived.
    tenant = world.pooled_tenant(Tier.STANDARD)
    clock.advance(0.001)
    assert key_plans(tenant.record.api_key) == USAGE_PLANS[Tier.STANDARD.value]
    assert listings.count == 2
    assert key_plans(tenant.record.api_key) == USAGE_PLANS[Tier.STANDARD.value]
    assert listings.count == 2  # a hit reads nothing
    # A disabled key belongs to no plan (API Gateway refuses it) once the table is re-read.
    keys = TenantApiKeys(apigateway, lambda: world.settings.usage_plan_ids)
    keys.set_enabled(tenant.tenant_id, False)
    assert key_plans(tenant.record.api_key) == USAGE_PLANS[Tier.STANDARD.value]
    clock.advance(5)
    assert key_plans(tenant.record.api_key) is None
    keys.set_enabled(tenant.tenant_id, True)
    clock.advance(5)
    assert key_plans(tenant.record.api_key) == USAGE_PLANS[Tier.STANDARD.value]
