"""Session policies parsed as documents: exact actions and tables per role."""

from __future__ import annotations

import fnmatch
import json

import pytest

from tenant_context.platform.session_policies import (
    DATA_ACTIONS,
    MAX_SESSION_POLICY_CHARS,
    PolicyResources,
    access_role_policy,
    session_policy,
    to_json,
)
from tenant_context.tenancy import Role, tenant_key_prefix

PREFIX = "arn:aws:dynamodb:us-east-1:123456789012"
RESOURCES = PolicyResources.for_tables(
    PREFIX, settings="settings", tenant_details="tenants", tenant_names="names",
    tenant_user_mapping="users",
    tenant_stack_mapping="stacks", pooled_product="product-pooled", pooled_order="order-pooled")
TENANT = "ab" + "0" * 30


def arn(name: str) -> str:
    return f"{PREFIX}:table/{name}"


def grants(role: Role, pooled: bool = True, tenant: str = TENANT
           ) -> dict[str, tuple[set[str], object]]:
    """resource -> (actions, condition), from the JSON actually sent to STS."""
    document = json.loads(to_json(session_policy(role, tenant, pooled_data=pooled,
                                                 resources=RESOURCES)))
    result: dict[str, tuple[set[str], object]] = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Action"]
        for resource in statement["Resource"]:
            assert resource not in result, f"{resource} granted twice"
            result[resource] = (set(statement["Action"]), statement.get("Condition"))
    return result


def leading_keys(condition: object) -> list[str]:
    assert isinstance(condition, dict)
    keys = condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert isinstance(keys, list)
    return keys


def test_system_admin_manages_control_plane_but_never_deletes_or_reads_tenant_data() -> None:
    policy = grants(Role.SYSTEM_ADMIN)
    write = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
             "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
    for table in ("tenants", "users", "stacks"):
        assert policy[arn(table)] == (write, None)
        assert policy[f"{arn(table)}/index/*"] == (write, None)
    assert policy[arn("settings")] == ({"dynamodb:GetItem", "dynamodb:Scan"}, None)
    assert policy[arn("names")] == ({"dynamodb:GetItem", "dynamodb:PutItem",
                                     "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}, None)
    assert set(policy) == {arn("settings"), arn("names"),
                           *(arn(t) for t in ("tenants", "users", "stacks")),
                           *(f"{arn(t)}/index/*" for t in ("tenants", "users", "stacks"))}


def test_customer_support_is_read_only() -> None:
    policy = grants(Role.CUSTOMER_SUPPORT)
    read = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"}
    for resource in (arn("tenants"), arn("users"), f"{arn('tenants')}/index/*",
                     f"{arn('users')}/index/*"):
        assert policy[resource] == (read, None)
    assert policy[arn("settings")] == ({"dynamodb:GetItem", "dynamodb:Scan"}, None)
    assert len(policy) == 5
    assert not any(action.endswith(("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"))
                   for actions, _ in policy.values() for action in actions)


def test_tenant_admin_reaches_its_own_rows_and_its_pooled_data() -> None:
    policy = grants(Role.TENANT_ADMIN)
    assert policy[arn("tenants")] == ({"dynamodb:GetItem", "dynamodb:UpdateItem"},
                                      {"ForAllValues:StringLike":
                                       {"dynamodb:LeadingKeys": [TENANT]}})
    actions, condition = policy[arn("users")]
    assert actions == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                       "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
    assert leading_keys(condition) == [TENANT]
    for table in ("product-pooled", "order-pooled"):
        actions, condition = policy[arn(table)]
        assert actions == set(DATA_ACTIONS)
        assert "dynamodb:Scan" not in actions
        assert leading_keys(condition) == [f"{TENANT}-*"]
    assert set(policy) == {arn("tenants"), arn("users"), arn("product-pooled"),
                           arn("order-pooled")}


def test_tenant_user_reads_its_mapping_and_uses_pooled_data() -> None:
    policy = grants(Role.TENANT_USER)
    actions, condition = policy[arn("users")]
    assert actions == {"dynamodb:GetItem"}
    assert leading_keys(condition) == [TENANT]
    assert set(policy) == {arn("users"), arn("product-pooled"), arn("order-pooled")}


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TENANT_USER])
def test_a_silo_tenant_gets_no_pooled_data(role: Role) -> None:
    policy = grants(role, pooled=False)
    assert arn("product-pooled") not in policy
    assert arn("order-pooled") not in policy


def test_a_tenant_prefix_never_matches_another_tenants_keys() -> None:
    """IAM's StringLike is a glob: check the pattern as IAM would, against near neighbours."""
    (pattern,) = leading_keys(grants(Role.TENANT_USER)[arn("product-pooled")][1])
    assert fnmatch.fnmatchcase(f"{TENANT}-0", pattern)
    assert fnmatch.fnmatchcase(f"{TENANT}-9", pattern)
    neighbours = ["ab" + "0" * 29 + "1", "ab" + "0" * 29 + "a", "a" + "0" * 31,
                  "abc" + "0" * 29, "ab0" + "0" * 28 + "1"]
    for other in neighbours:
        assert not fnmatch.fnmatchcase(f"{other}-0", pattern), other
    assert not fnmatch.fnmatchcase(TENANT, pattern)  # the bare id is not a data key


@pytest.mark.parametrize("bad_id", ["ab", "abc", "ab-c", "AB" + "0" * 30, "0" * 31,
                                    "0" * 33, "operations", "", "*"])
def test_ids_that_could_overlap_are_refused_outright(bad_id: str) -> None:
    """Tenant ids are 32 hex characters: 'ab' vs 'abc' (or 'ab-c') cannot happen."""
    with pytest.raises(ValueError, match="not a tenant id"):
        tenant_key_prefix(bad_id)
    with pytest.raises(ValueError, match="not a tenant id"):
        session_policy(Role.TENANT_USER, bad_id, pooled_data=True, resources=RESOURCES)


@pytest.mark.parametrize("role", list(Role))
def test_every_policy_fits_sts_session_policy_limit(role: Role) -> None:
    realistic = PolicyResources.for_tables(
        "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012",
        settings="serverless-saas-settings", tenant_details="serverless-saas-tenant-details",
        tenant_names="serverless-saas-tenant-names",
        tenant_user_mapping="serverless-saas-tenant-user-mapping",
        tenant_stack_mapping="serverless-saas-tenant-stack-mapping",
        pooled_product="serverless-saas-product-pooled",
        pooled_order="serverless-saas-order-pooled")
    document = to_json(session_policy(role, "f" * 32, pooled_data=True, resources=realistic))
    assert len(document) <= MAX_SESSION_POLICY_CHARS


def test_the_assumed_role_allows_exactly_the_union_of_session_policies() -> None:
    role_policy = access_role_policy(RESOURCES)
    granted: dict[str, set[str]] = {}
    for statement in role_policy["Statement"]:
        assert "Condition" not in statement
        for resource in statement["Resource"]:
            granted.setdefault(resource, set()).update(statement["Action"])
    union: dict[str, set[str]] = {}
    for role in Role:
        for pooled in (True, False):
            for resource, (actions, _) in grants(role, pooled).items():
                union.setdefault(resource, set()).update(actions)
    assert granted == union
    assert not any(action == "*" for actions in granted.values() for action in actions)
