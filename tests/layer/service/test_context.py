"""The authorizer context survives API Gateway's stringification, and nothing else passes."""

from __future__ import annotations

from typing import Any

import pytest

from tenant_context.errors import UnauthorizedError
from tenant_context.service.context import ScopedCredentials, TenantContext, request_tenant
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, Tier

TENANT = "a" * 32
CREDENTIALS = ScopedCredentials("ASIAEXAMPLE", "secret", "token", "2026-11-22T20:00:00+00:00")


def test_round_trip_through_strings() -> None:
    tenant = TenantContext(TENANT, Tier.PREMIUM, "bob", Role.TENANT_USER, "pool", CREDENTIALS)
    context = tenant.to_authorizer_context()
    assert all(isinstance(value, str) for value in context.values())
    assert TenantContext.from_authorizer_context(context) == tenant
    assert tenant.deployment == "pooled"


def test_operations_users_have_no_tier_and_no_deployment() -> None:
    staff = TenantContext(OPERATIONS_TENANT_ID, None, "admin", Role.SYSTEM_ADMIN, "ops", None)
    assert TenantContext.from_authorizer_context(staff.to_authorizer_context()) == staff
    assert staff.deployment is None
    assert staff.is_operations


def test_platinum_tenants_deploy_alone() -> None:
    tenant = TenantContext(TENANT, Tier.PLATINUM, "bob", Role.TENANT_ADMIN, "pool", None)
    assert tenant.deployment == TENANT


@pytest.mark.parametrize("context", [
    {},
    {"userRole": "Root", "tenantId": TENANT, "tier": "Basic", "userName": "x", "userPoolId": "p"},
    {"userRole": "TenantAdmin", "tenantId": "operations", "tier": "Basic", "userName": "x",
     "userPoolId": "p"},
    {"userRole": "TenantAdmin", "tenantId": TENANT, "tier": "", "userName": "x",
     "userPoolId": "p"},
    {"userRole": "SystemAdmin", "tenantId": TENANT, "tier": "", "userName": "x",
     "userPoolId": "p"},
    {"userRole": "SystemAdmin", "tenantId": "operations", "tier": "Basic", "userName": "x",
     "userPoolId": "p"},
    {"userRole": "TenantUser", "tenantId": TENANT, "tier": "Gold", "userName": "x",
     "userPoolId": "p"},
    {"userRole": "TenantUser", "tenantId": TENANT, "tier": "Basic", "userName": 5,
     "userPoolId": "p"},
    {"userRole": "TenantUser", "tenantId": TENANT, "tier": "Basic", "userName": "x",
     "userPoolId": "p", "accessKeyId": "AKIA"},  # credentials half present
])
def test_malformed_contexts_are_unauthorized(context: dict[str, Any]) -> None:
    with pytest.raises(UnauthorizedError):
        TenantContext.from_authorizer_context(context)


def test_a_request_without_authorizer_context_is_unauthorized() -> None:
    class Request:
        context: dict[str, Any] = {}

    with pytest.raises(UnauthorizedError):
        request_tenant(Request())


def test_tiers_parse_case_insensitively_and_roles_exactly() -> None:
    assert Tier.parse(" platinum ") is Tier.PLATINUM
    assert Tier.parse("BASIC") is Tier.BASIC
    with pytest.raises(ValueError, match="unknown tier"):
        Tier.parse("Gold")
    with pytest.raises(ValueError, match="unknown role"):
        Role.parse("systemadmin")
