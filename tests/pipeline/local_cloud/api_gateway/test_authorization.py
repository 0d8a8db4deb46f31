"""The front door's authorization step runs the real tenant authorizer against the emulator and
reaches the decision the ``chalice local`` process behind the route reaches, plus the key that
meters the caller; and the key table comes from the platform settings the deployer wrote."""

from __future__ import annotations

import pytest

from pipeline.local_cloud.api_gateway.authorization import (
    AuthorizationStep,
    Authorized,
    GatewayRequest,
    authorizer_step,
    emulator_authorizer,
    method_arn,
)
from pipeline.local_cloud.api_gateway.usage_plans import settings_key_plans
from tenant_context.platform.definitions import (
    ADMIN_API,
    OPERATIONS_PLAN_NAME,
    USAGE_PLANS,
    api_name,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, Tier
from tests.support.clock import FakeClock
from tests.support.counting import CallCounter
from tests.support.moto_server import clients_for
from tests.support.world import World

POOLED_PRODUCT = api_name(POOLED_DEPLOYMENT, "product")


@pytest.fixture(scope="module")
def authorize(world: World, emulator_url: str) -> AuthorizationStep:
    return authorizer_step(emulator_authorizer(emulator_url, clients_for(emulator_url)))


def bearer(world: World, role: Role, tier: Tier | None = None) -> str:
    if tier is None:
        return f"Bearer {world.id_token(world.operations_user(role))}"
    return f"Bearer {world.id_token(world.tenant_user(world.pooled_tenant(tier), role))}"


def test_the_arn_is_the_one_chalice_local_builds_with_the_routes_api_id() -> None:
    assert method_arn(GatewayRequest("pooled-order", "PUT", "/order/1:ab", None)) == (
        "arn:aws:execute-api:mars-west-1:123456789012:pooled-order/api/PUT/order/1:ab")
    assert method_arn(GatewayRequest("admin", "GET", "/", None)).endswith("admin/api/GET//")


def test_a_tenant_is_metered_by_its_tiers_key(world: World, authorize: AuthorizationStep
                                              ) -> None:
    for tier in (Tier.BASIC, Tier.PREMIUM):
        token = bearer(world, Role.TENANT_USER, tier)
        assert authorize(GatewayRequest(POOLED_PRODUCT, "GET", "/products", token)) == (
            Authorized(world.settings.api_keys[tier.value]))


def test_staff_are_metered_by_the_operations_key_on_the_admin_api(
        world: World, authorize: AuthorizationStep) -> None:
    token = bearer(world, Role.SYSTEM_ADMIN)
    assert authorize(GatewayRequest(ADMIN_API, "GET", "/tenants", token)) == (
        Authorized(world.settings.api_keys[OPERATIONS_PLAN_NAME]))


def test_what_the_upstream_will_refuse_is_not_metered(world: World,
                                                      authorize: AuthorizationStep) -> None:
    staff = bearer(world, Role.SYSTEM_ADMIN)
    assert authorize(GatewayRequest(POOLED_PRODUCT, "GET", "/products", staff)) is None  # 403
    tenant_user = bearer(world, Role.TENANT_USER, Tier.BASIC)
    assert authorize(GatewayRequest(ADMIN_API, "GET", "/tenants", tenant_user)) is None  # 403
    for header in (None, "Bearer not-a-token", staff.replace("Bearer", "Basic")):  # 401
        assert authorize(GatewayRequest(ADMIN_API, "GET", "/tenants", header)) is None


def test_a_platinum_tenant_is_metered_on_its_own_api_only(world: World,
                                                          authorize: AuthorizationStep) -> None:
    tenant = world.platinum_tenant()
    token = f"Bearer {world.id_token(world.tenant_user(tenant, Role.TENANT_USER))}"
    own_api = api_name(tenant.tenant_id, "order")
    assert authorize(GatewayRequest(own_api, "GET", "/orders", token)) == (
        Authorized(world.settings.api_keys[Tier.PLATINUM.value]))
    assert authorize(GatewayRequest(POOLED_PRODUCT, "GET", "/products", token)) is None


def test_the_key_table_is_read_from_settings_and_cached(world: World, emulator_url: str
                                                        ) -> None:
    dynamodb = clients_for(emulator_url).dynamodb
    scans = CallCounter(dynamodb, "dynamodb", "Scan")
    clock = FakeClock(0.0)
    key_plans = settings_key_plans(dynamodb, ttl=60, clock=clock)
    expected = {world.settings.api_keys[name]: plan for name, plan in USAGE_PLANS.items()}
    assert key_plans() == expected
    assert key_plans() == expected
    assert scans.count == 1
    clock.advance(60)
    assert key_plans() == expected
    assert scans.count == 2
