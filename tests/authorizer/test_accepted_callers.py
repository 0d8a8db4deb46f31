"""Each role is accepted from its pool, with the right context and exactly its routes."""

from __future__ import annotations

from typing import Any

from tenant_context.platform.definitions import OPERATIONS_PLAN_NAME
from tenant_context.tenancy import Role, Tier
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.gateway_policy import allows, method_arn, token_event
from tests.support.world import World

ADMIN = "admin"
POOLED_PRODUCT = "pooled-product"
POOLED_ORDER = "pooled-order"


def authorize(subject: AuthorizerUnderTest, token: str, api_id: str = ADMIN,
              method: str = "GET", path: str = "/tenants") -> dict[str, Any]:
    return subject.authorizer.authorize(token_event(token, api_id, method, path))


def assert_string_context(response: dict[str, Any]) -> dict[str, str]:
    context = response["context"]
    assert context
    assert all(isinstance(value, str) for value in context.values()), context
    for key in ("tenantId", "tier", "userName", "userRole", "userPoolId", "accessKeyId",
                "secretAccessKey", "sessionToken", "credentialsExpiration"):
        assert key in context
    return dict(context)


def test_system_admin_gets_every_admin_route_and_no_tenant_api(
        subject: AuthorizerUnderTest, world: World) -> None:
    admin = world.operations_user(Role.SYSTEM_ADMIN)
    response = authorize(subject, world.id_token(admin))
    context = assert_string_context(response)
    assert context["tenantId"] == "operations"
    assert context["tier"] == ""
    assert context["userRole"] == "SystemAdmin"
    assert context["userName"] == admin.name
    assert context["userPoolId"] == world.settings.operations_pool.user_pool_id
    assert response["usageIdentifierKey"] == world.settings.api_keys[OPERATIONS_PLAN_NAME]
    for method, path in [("GET", "/tenants"), ("PUT", "/tenant/activation/x"),
                         ("DELETE", "/tenant/x"), ("POST", "/user")]:
        assert allows(response, method_arn(ADMIN, method, path))
    pooled = authorize(subject, world.id_token(admin), POOLED_PRODUCT, "GET", "/products")
    assert not allows(pooled, method_arn(POOLED_PRODUCT, "GET", "/products"))
    assert "context" not in pooled  # no credentials for an API the caller may not use


def test_customer_support_is_read_only(subject: AuthorizerUnderTest, world: World) -> None:
    support = world.operations_user(Role.CUSTOMER_SUPPORT)
    response = authorize(subject, world.id_token(support))
    assert assert_string_context(response)["userRole"] == "CustomerSupport"
    for path in ("/tenants", "/tenant/abc", "/users", "/user/bob"):
        assert allows(response, method_arn(ADMIN, "GET", path))
    for method, path in [("PUT", "/tenant/abc"), ("DELETE", "/tenant/abc"), ("POST", "/user"),
                         ("PUT", "/tenant/activation/abc"), ("POST", "/registration")]:
        assert not allows(response, method_arn(ADMIN, method, path))


def test_pooled_tenant_admin_gets_its_tenant_and_the_pooled_api(
        subject: AuthorizerUnderTest, world: World) -> None:
    tenant, other = world.pooled_tenant(Tier.STANDARD), world.pooled_tenant()
    admin = world.tenant_user(tenant, Role.TENANT_ADMIN)
    token = world.id_token(admin)
    response = authorize(subject, token, ADMIN, "GET", f"/tenant/{tenant.tenant_id}")
    context = assert_string_context(response)
    assert context["tenantId"] == tenant.tenant_id
    assert context["tier"] == "Standard"
    assert context["userRole"] == "TenantAdmin"
    assert context["userPoolId"] == world.settings.pooled_pool.user_pool_id
    assert response["usageIdentifierKey"] == tenant.record.api_key  # its own key
    own = f"/tenant/{tenant.tenant_id}"
    for method, path in [("GET", own), ("PUT", own), ("DELETE", own), ("POST", "/user"),
                         ("GET", "/users"), ("GET", "/user/anyone"), ("PUT", "/user/anyone"),
                         ("DELETE", "/user/anyone")]:
        assert allows(response, method_arn(ADMIN, method, path)), (method, path)
    for method, path in [("GET", "/tenants"), ("PUT", f"/tenant/activation/{tenant.tenant_id}"),
                         ("GET", f"/tenant/{other.tenant_id}"),
                         ("PUT", f"/tenant/{other.tenant_id}")]:
        assert not allows(response, method_arn(ADMIN, method, path)), (method, path)
    for api_id, path in [(POOLED_PRODUCT, "/products"), (POOLED_ORDER, "/orders")]:
        tenant_api = authorize(subject, token, api_id, "GET", path)
        assert allows(tenant_api, method_arn(api_id, "POST", path.rstrip("s")))


def test_tenant_user_reaches_only_itself(subject: AuthorizerUnderTest, world: World) -> None:
    tenant = world.pooled_tenant(Tier.PREMIUM)
    user = world.tenant_user(tenant, Role.TENANT_USER)
    token = world.id_token(user)
    response = authorize(subject, token, ADMIN, "GET", f"/user/{user.name}")
    assert assert_string_context(response)["userRole"] == "TenantUser"
    assert allows(response, method_arn(ADMIN, "GET", f"/user/{user.name}"))
    assert allows(response, method_arn(ADMIN, "PUT", f"/user/{user.name}"))
    for method, path in [("GET", "/user/someone-else"), ("GET", "/users"), ("POST", "/user"),
                         ("DELETE", f"/user/{user.name}"), ("GET", f"/tenant/{tenant.tenant_id}"),
                         ("GET", "/tenants")]:
        assert not allows(response, method_arn(ADMIN, method, path)), (method, path)
    products = authorize(subject, token, POOLED_PRODUCT, "GET", "/products")
    assert allows(products, method_arn(POOLED_PRODUCT, "GET", "/products"))


def test_platinum_tenant_uses_only_its_own_tenant_api(subject: AuthorizerUnderTest,
                                                       world: World) -> None:
    platinum = world.platinum_tenant()
    own_api = f"{platinum.tenant_id}-product"
    token = world.id_token(world.tenant_user(platinum, Role.TENANT_ADMIN))
    own = authorize(subject, token, own_api, "GET", "/products")
    context = assert_string_context(own)
    assert context["tier"] == "Platinum"
    assert context["userPoolId"] == platinum.pool.user_pool_id
    assert allows(own, method_arn(own_api, "GET", "/products"))
    pooled = authorize(subject, token, POOLED_PRODUCT, "GET", "/products")
    assert not allows(pooled, method_arn(POOLED_PRODUCT, "GET", "/products"))
    admin_api = authorize(subject, token, ADMIN, "GET", f"/tenant/{platinum.tenant_id}")
    assert allows(admin_api, method_arn(ADMIN, "GET", f"/tenant/{platinum.tenant_id}"))


def test_pooled_tenant_is_forbidden_on_a_platinum_api(subject: AuthorizerUnderTest,
                                                      world: World) -> None:
    platinum, pooled = world.platinum_tenant(), world.pooled_tenant()
    platinum_api = f"{platinum.tenant_id}-product"
    for role in (Role.TENANT_ADMIN, Role.TENANT_USER):
        token = world.id_token(world.tenant_user(pooled, role))
        response = authorize(subject, token, platinum_api, "GET", "/products")
        assert not allows(response, method_arn(platinum_api, "GET", "/products"))
        assert "context" not in response


def test_unknown_api_is_forbidden(subject: AuthorizerUnderTest, world: World) -> None:
    token = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    response = authorize(subject, token, "someone-elses-api", "GET", "/tenants")
    assert not allows(response, method_arn("someone-elses-api", "GET", "/tenants"))
