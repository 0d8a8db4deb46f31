"""The session policy the authorizer actually SENDS to ``sts:AssumeRole``, per role.

The emulator enforces no session policy: an authorizer that dropped the policy, or scoped it to
another tenant, would still get working credentials and pass every other test. So these tests
read the AssumeRole parameters off the authorizer's own STS client (a botocore event hook) and
check them as data: the exact document for the caller's (role, tenant), the access role, and a
``LeadingKeys`` condition that matches the caller's partitions and no one else's.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from chalicelib.tenant_authorizer.factory import policy_resources
from tenant_context.config import Env
from tenant_context.platform.definitions import POOLED_DATA_TABLES, TENANT_ACCESS_ROLE_NAME
from tenant_context.platform.session_policies import MAX_SESSION_POLICY_CHARS, session_policy
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.gateway_policy import token_event
from tests.support.iam_evaluation import Access, allowed
from tests.support.world import Tenant, World


def sent_policy(subject: AuthorizerUnderTest, world: World, token: str, api_id: str,
                path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the AssumeRole parameters, the parsed policy) of the one call this request causes."""
    before = len(subject.assumed)
    response = subject.authorizer.authorize(token_event(token, api_id, "GET", path))
    assert len(subject.assumed) == before + 1, "expected exactly one AssumeRole"
    params = subject.assumed[-1]
    role_arn = world.clients.iam.get_role(RoleName=TENANT_ACCESS_ROLE_NAME)["Role"]["Arn"]
    assert params["RoleArn"] == role_arn == subject.config.require(Env.TENANT_ACCESS_ROLE_ARN)
    assert len(params["Policy"]) <= MAX_SESSION_POLICY_CHARS
    # The credentials handed to the caller are the ones this very call returned.
    assert response["context"]["accessKeyId"].startswith("ASIA")
    return params, json.loads(params["Policy"])


def leading_keys(policy: dict[str, Any]) -> list[str]:
    return [pattern for statement in policy["Statement"]
            for pattern in statement.get("Condition", {}).get(
                "ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", [])]


def tables_named(policy: dict[str, Any]) -> set[str]:
    return {resource for statement in policy["Statement"] for resource in statement["Resource"]}


def expected(subject: AuthorizerUnderTest, role: Role, tenant_id: str,
             pooled_data: bool) -> dict[str, Any]:
    return session_policy(role, tenant_id, pooled_data=pooled_data,
                          resources=policy_resources(subject.config))


def assert_confined_to(policy: dict[str, Any], subject: AuthorizerUnderTest, mine: Tenant,
                       theirs: Tenant) -> None:
    """The pooled data statement lets the tenant reach its own partitions and nobody else's,
    checked with IAM's own matching rules (``tests.support.iam_evaluation``), not by reading
    the policy."""
    resources = policy_resources(subject.config)
    prefix = f"{mine.tenant_id}-"
    assert set(leading_keys(policy)) <= {mine.tenant_id, f"{prefix}*"}
    assert f"{prefix}*" in leading_keys(policy)
    arn_prefix = resources.settings.rsplit("/", 1)[0]
    for table in (f"{arn_prefix}/{pooled.name}" for pooled in POOLED_DATA_TABLES):
        own = Access("dynamodb:GetItem", table.rsplit("/", 1)[1], None, (f"{prefix}3",))
        assert allowed(policy, own, table)
        # Another tenant, and a "tenant" whose id merely starts with mine, are both outside.
        for key in (f"{theirs.tenant_id}-3", f"{mine.tenant_id}0-3", mine.tenant_id):
            other = Access("dynamodb:GetItem", table.rsplit("/", 1)[1], None, (key,))
            assert not allowed(policy, other, table), key
            assert not any(fnmatchcase(key, pattern) for pattern in leading_keys(policy)
                           if pattern.endswith("*")), key


def test_pooled_tenant_user(subject: AuthorizerUnderTest, world: World) -> None:
    tenant, other = world.pooled_tenant(), world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    params, policy = sent_policy(subject, world, token, "pooled-product", "/products")
    assert policy == expected(subject, Role.TENANT_USER, tenant.tenant_id, True)
    assert policy != expected(subject, Role.TENANT_USER, other.tenant_id, True)
    assert tenant.tenant_id in params["RoleSessionName"]
    assert_confined_to(policy, subject, tenant, other)


def test_pooled_tenant_admin(subject: AuthorizerUnderTest, world: World) -> None:
    tenant, other = world.pooled_tenant(), world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_ADMIN))
    params, policy = sent_policy(subject, world, token, "admin", f"/tenant/{tenant.tenant_id}")
    assert policy == expected(subject, Role.TENANT_ADMIN, tenant.tenant_id, True)
    assert policy != expected(subject, Role.TENANT_USER, tenant.tenant_id, True)
    assert tenant.tenant_id in params["RoleSessionName"]
    assert_confined_to(policy, subject, tenant, other)


def test_platinum_tenant_admin_gets_no_pooled_data(subject: AuthorizerUnderTest,
                                                    world: World) -> None:
    platinum = world.platinum_tenant()
    token = world.id_token(world.tenant_user(platinum, Role.TENANT_ADMIN))
    params, policy = sent_policy(subject, world, token, f"{platinum.tenant_id}-product",
                                 "/products")
    assert policy == expected(subject, Role.TENANT_ADMIN, platinum.tenant_id, False)
    resources = policy_resources(subject.config)
    assert resources.pooled_data not in tables_named(policy)
    assert leading_keys(policy)
    assert set(leading_keys(policy)) == {platinum.tenant_id}
    assert platinum.tenant_id in params["RoleSessionName"]


def test_system_admin_gets_the_control_plane_and_no_tenant_data(
        subject: AuthorizerUnderTest, world: World) -> None:
    token = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    _, policy = sent_policy(subject, world, token, "admin", "/tenants")
    assert policy == expected(subject, Role.SYSTEM_ADMIN, OPERATIONS_TENANT_ID, False)
    resources = policy_resources(subject.config)
    assert resources.tenant_details in tables_named(policy)
    assert resources.pooled_data not in tables_named(policy)
    assert not leading_keys(policy)
