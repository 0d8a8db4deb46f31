"""Session policies parsed as documents: exact actions and tables per role."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from tenant_context.attribute_values import set_clause, to_item
from tenant_context.platform.definitions import (
    CONTROL_PLANE_TABLES,
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    data_table,
    data_table_pattern,
)
from tenant_context.platform.session_policies import (
    DATA_ACTIONS,
    MAX_SESSION_POLICY_CHARS,
    NOTHING,
    TENANT_ADMIN_WRITABLE,
    PolicyResources,
    access_role_policy,
    session_policy,
    to_json,
)
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, Tier, tenant_key_prefix
from tenant_context.tenant_services import TENANT_SERVICES, TenantService, TenantServices
from tests.support.iam_evaluation import Access, accesses, allowed, conditions_hold

PREFIX = "arn:aws:dynamodb:us-east-1:123456789012"
RESOURCES = PolicyResources.for_tables(
    PREFIX, settings="settings", tenant_details="tenants", tenant_names="names",
    tenant_user_mapping="users", tenant_stack_mapping="stacks")
TENANT = "ab" + "0" * 30


def arn(name: str) -> str:
    return f"{PREFIX}:table/{name}"


POOLED = arn(data_table_pattern(POOLED_DEPLOYMENT))  # every tenant service's pooled table


def grants(role: Role, pooled: bool = True, tenant: str = TENANT
           ) -> dict[str, tuple[set[str], object]]:
    """resource -> (actions, condition), from the JSON actually sent to STS; a resource in
    several statements gets their actions together and the list of their conditions. The one
    Deny a policy may hold (nothing else to say) is all there is then."""
    document = json.loads(to_json(session_policy(role, tenant, pooled_data=pooled,
                                                 resources=RESOURCES)))
    result: dict[str, tuple[set[str], object]] = {}
    for statement in document["Statement"]:
        if statement["Effect"] == "Deny":
            assert document["Statement"] == [NOTHING]
            continue
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Action"]
        for resource in statement["Resource"]:
            actions, condition = set(statement["Action"]), statement.get("Condition")
            if resource in result:
                earlier_actions, earlier = result[resource]
                assert not earlier_actions & actions, f"{resource}: an action granted twice"
                conditions = earlier if isinstance(earlier, list) else [earlier]
                result[resource] = (earlier_actions | actions, [*conditions, condition])
            else:
                result[resource] = (actions, condition)
    return result


def leading_keys(condition: object) -> list[str]:
    """The condition's key patterns; every such condition also requires a key (``Null``)."""
    assert isinstance(condition, dict)
    assert condition["Null"] == {"dynamodb:LeadingKeys": "false"}
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
    own = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TENANT]},
           "Null": {"dynamodb:LeadingKeys": "false"}}
    assert policy[arn("tenants")] == ({"dynamodb:GetItem", "dynamodb:UpdateItem"}, [own, {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TENANT]},
        "ForAllValues:StringEquals": {"dynamodb:Attributes": list(TENANT_ADMIN_WRITABLE)},
        "Null": {"dynamodb:LeadingKeys": "false", "dynamodb:Attributes": "false"},
        "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_OLD",
                                                           "UPDATED_NEW"]}}])
    actions, condition = policy[arn("users")]
    assert actions == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
    assert leading_keys(condition) == [TENANT]
    actions, condition = policy[POOLED]
    assert actions == set(DATA_ACTIONS)
    assert "dynamodb:Scan" not in actions
    assert leading_keys(condition) == [f"{TENANT}-*"]
    assert set(policy) == {arn("tenants"), arn("users"), POOLED}


def test_tenant_user_uses_pooled_data_and_no_control_plane_table() -> None:
    """LeadingKeys confines the partition key, which in the user table is the tenant: any
    grant there would reach every user of the tenant, so a TenantUser gets none."""
    assert set(grants(Role.TENANT_USER)) == {POOLED}


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TENANT_USER])
def test_a_silo_tenant_gets_no_pooled_data(role: Role) -> None:
    policy = grants(role, pooled=False)
    assert POOLED not in policy


def test_a_policy_with_nothing_to_allow_denies_everything() -> None:
    """A Platinum tenant's user: IAM takes no empty statement list, so one explicit deny."""
    document = session_policy(Role.TENANT_USER, TENANT, pooled_data=False, resources=RESOURCES)
    assert document["Statement"] == [NOTHING]
    for table in ("users", "tenants", "settings"):
        assert not allowed(document, Access("dynamodb:GetItem", table, None, (TENANT,)),
                           arn(table))


def test_a_tenant_prefix_never_matches_another_tenants_keys() -> None:
    """IAM's StringLike is a glob: check the pattern as IAM would, against near neighbours."""
    (pattern,) = leading_keys(grants(Role.TENANT_USER)[POOLED][1])
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


REALISTIC_PREFIX = "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012"
REALISTIC = PolicyResources.for_tables(
    REALISTIC_PREFIX, settings=SETTINGS_TABLE.name, tenant_details=TENANT_DETAILS_TABLE.name,
    tenant_names=TENANT_NAMES_TABLE.name, tenant_user_mapping=TENANT_USER_MAPPING_TABLE.name,
    tenant_stack_mapping=TENANT_STACK_MAPPING_TABLE.name)
# A platform grown to 20 tenant services, each reading the one before it.
TWENTY = TenantServices(*(
    TenantService(f"service{n:02d}", f"thing{n:02d}", f"thing{n:02d}Id",
                  reads=(f"thing{n - 1:02d}",) if n else ())
    for n in range(20)))


@pytest.mark.parametrize("role", list(Role))
def test_every_policy_fits_sts_session_policy_limit(role: Role) -> None:
    """A permanent check: later conditions on every statement must keep it green."""
    document = to_json(session_policy(role, "f" * 32, pooled_data=True, resources=REALISTIC))
    assert len(document) <= MAX_SESSION_POLICY_CHARS


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TENANT_USER])
def test_twenty_services_reach_their_pooled_tables_within_the_limit_and_nothing_else(
        role: Role) -> None:
    """The policy does not list services, so a registry of 20 keeps it the same size; what it
    does grant, checked as IAM evaluates it: every one of the 20 services' pooled tables with
    the tenant's own keys, and neither another tenant's keys, nor a Platinum tenant's tables,
    nor any control-plane table or index beyond the tenant's own rows."""
    document = json.loads(to_json(session_policy(role, TENANT, pooled_data=True,
                                                 resources=REALISTIC)))
    assert len(to_json(document)) <= MAX_SESSION_POLICY_CHARS
    other = "cd" + "0" * 30
    for service in TWENTY:
        table = data_table(service, POOLED_DEPLOYMENT).name
        table_arn = f"{REALISTIC_PREFIX}:table/{table}"
        for action in DATA_ACTIONS:
            assert allowed(document, Access(action, table, None, (f"{TENANT}-3",)), table_arn)
            assert not allowed(document, Access(action, table, None, (f"{other}-3",)),
                               table_arn)
        assert not allowed(document, Access("dynamodb:Scan", table, None, ()), table_arn)
        silo = data_table(service, other).name
        assert not allowed(document, Access("dynamodb:GetItem", silo, None, (f"{TENANT}-3",)),
                           f"{REALISTIC_PREFIX}:table/{silo}")
    for control in CONTROL_PLANE_TABLES:
        control_arn = f"{REALISTIC_PREFIX}:table/{control.name}"
        for index in control.indexes:
            assert not allowed(document, Access("dynamodb:Query", control.name, index.name,
                                                (TENANT,)), control_arn)
        for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
            assert not allowed(document, Access(action, control.name, None, (f"{TENANT}-3",)),
                               control_arn)
        assert not allowed(document, Access("dynamodb:GetItem", control.name, None, (other,)),
                           control_arn)


def test_the_data_pattern_matches_every_pooled_table_and_no_other_resource() -> None:
    pattern = data_table_pattern(POOLED_DEPLOYMENT)
    for service in (*TENANT_SERVICES, *TWENTY):
        assert fnmatch.fnmatchcase(data_table(service, POOLED_DEPLOYMENT).name, pattern)
        assert not fnmatch.fnmatchcase(data_table(service, "f" * 32).name, pattern)
    for table in CONTROL_PLANE_TABLES:
        assert not fnmatch.fnmatchcase(table.name, pattern)
        for index in table.indexes:
            assert not fnmatch.fnmatchcase(f"{table.name}/index/{index.name}", pattern)


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


KEYS = "dynamodb:LeadingKeys"
ATTRIBUTES = "dynamodb:Attributes"
FOR_ALL = {"ForAllValues:StringLike": {KEYS: ["t-*"]}}
REQUIRED = {"Null": {KEYS: "false"}}
ONLY = {"ForAllValues:StringEquals": {ATTRIBUTES: ["id", "phone"]}}
NAMED = {"Null": {ATTRIBUTES: "false"}}
WRITTEN = {"StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_NEW"]}}


def keys(*leading: str) -> Access:
    return Access("dynamodb:Query", "t", None, leading)


def writing(*attributes: str, returns: str | None = None) -> Access:
    return Access("dynamodb:UpdateItem", "t", None, ("t-1",), attributes, returns)


# IAM's documented semantics (User Guide: "Single-valued vs. multivalued context keys", the
# Null condition operator, "...IfExists" operators; DynamoDB's "Using IAM policy conditions for
# fine-grained access control"), which the evaluator the other tests rely on must follow.
SEMANTICS = [
    (FOR_ALL, keys(), True),  # ForAllValues of an absent key: vacuously true
    (FOR_ALL, keys("t-1"), True),
    (FOR_ALL, keys("u-1"), False),
    (FOR_ALL, keys("t-1", "u-1"), False),  # every value must match
    (REQUIRED, keys(), False),  # Null false: the key must be present
    (REQUIRED, keys("x"), True),
    ({"Null": {KEYS: "true"}}, keys(), True),  # Null true: it must be absent
    ({"Null": {KEYS: "true"}}, keys("x"), False),
    ({**FOR_ALL, **REQUIRED}, keys(), False),  # the blocks are ANDed: no key, no access
    ({**FOR_ALL, **REQUIRED}, keys("t-1"), True),
    (ONLY, writing("id", "phone"), True),  # dynamodb:Attributes: an allow-list of names
    (ONLY, writing("id", "tier"), False),  # one name outside it is enough to fail
    (ONLY, writing(), True),  # an absent multivalued key: vacuously true again
    ({**ONLY, **NAMED}, writing(), False),  # ... unless Null false requires it
    ({"Null": {KEYS: "false", ATTRIBUTES: "false"}}, writing("id"), True),  # keys ANDed
    (WRITTEN, writing("id"), True),  # IfExists: an absent single-valued key passes
    (WRITTEN, writing("id", returns="UPDATED_NEW"), True),
    (WRITTEN, writing("id", returns="ALL_NEW"), False),
]


@pytest.mark.parametrize(("condition", "access", "holds"), SEMANTICS)
def test_the_evaluator_follows_iams_documented_condition_semantics(
        condition: dict[str, Any], access: Access, holds: bool) -> None:
    assert conditions_hold(condition, access) is holds


def test_an_explicit_deny_wins_over_any_allow() -> None:
    table = arn("users")
    allow = {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [table]}
    request = Access("dynamodb:GetItem", "users", None, (TENANT,))
    assert allowed({"Statement": [allow]}, request, table)
    assert not allowed({"Statement": [allow, NOTHING]}, request, table)


def update_request(table: str, key: dict[str, str], values: dict[str, Any],
                   **extra: Any) -> Access:
    """What IAM sees of the UpdateItem our stores send (``set_clause``), parsed from the body."""
    body = {"TableName": table, "Key": to_item(key),
            "ConditionExpression": f"attribute_exists({next(iter(key))})",
            **set_clause(values), **extra}
    (access,) = accesses("UpdateItem", body)
    return access


def put_request(table: str, item: dict[str, Any]) -> Access:
    (access,) = accesses("PutItem", {"TableName": table, "Item": to_item(item)})
    return access


def test_a_tenant_admins_credentials_write_contact_fields_and_nothing_else() -> None:
    """Tier, API key and active flag of its tenant, and the role and enabled flag of its users,
    are out of reach of its credentials whatever our code does (the service writes those with
    its own role after its checks)."""
    document = session_policy(Role.TENANT_ADMIN, TENANT, pooled_data=True,
                              resources=REALISTIC)
    tenants, users = TENANT_DETAILS_TABLE.name, TENANT_USER_MAPPING_TABLE.name

    def may(access: Access) -> bool:
        return allowed(document, access, f"{REALISTIC_PREFIX}:table/{access.table}")

    own = {"tenantId": TENANT}
    contact = {"tenantPhone": "1", "tenantEmail": "a@b.example", "tenantAddress": "x",
               "modifiedAt": "now"}
    assert may(update_request(tenants, own, contact))
    assert may(update_request(tenants, own, contact, ReturnValues="UPDATED_NEW"))
    for privileged in ({"tenantTier": "Platinum"}, {"apiKey": "k" * 40}, {"isActive": True},
                       {"tenantName": "Renamed"}, {"userPoolId": "elsewhere"}):
        assert not may(update_request(tenants, own, {**contact, **privileged})), privileged
    assert not may(update_request(tenants, own, contact, ReturnValues="ALL_NEW"))
    assert not may(update_request(tenants, {"tenantId": "cd" + "0" * 30}, contact))
    assert not may(put_request(tenants, {**own, **contact}))
    user = {"tenantId": TENANT, "userName": "someone"}
    for change in ({"userRole": "TenantAdmin"}, {"enabled": True}, {"modifiedAt": "now"}):
        assert not may(update_request(users, user, change)), change
    assert not may(put_request(users, {**user, "userRole": "TenantAdmin", "enabled": True}))
    assert may(Access("dynamodb:GetItem", users, None, (TENANT,)))
    assert may(Access("dynamodb:Query", users, None, (TENANT,)))


def test_a_tenant_users_credentials_read_no_user_record() -> None:
    document = session_policy(Role.TENANT_USER, TENANT, pooled_data=True,
                              resources=REALISTIC)
    users = TENANT_USER_MAPPING_TABLE.name
    for action in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"):
        assert not allowed(document, Access(action, users, None, (TENANT,)),
                           f"{REALISTIC_PREFIX}:table/{users}"), action


def test_every_privileged_attribute_of_a_tenant_record_is_outside_the_allow_list() -> None:
    """A new attribute of the tenant record is outside the TenantAdmin's allow-list unless
    someone adds it there deliberately (an allow-list, never a deny-list)."""
    record = TenantRecord("t" * 32, "n", Tier.BASIC, True, "p", "c", "k").to_item()
    assert set(TENANT_ADMIN_WRITABLE) <= set(record)
    assert {"tenantTier", "apiKey", "isActive", "tenantName", "userPoolId",
            "appClientId", "createdAt"} == set(record) - set(TENANT_ADMIN_WRITABLE)


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TENANT_USER])
def test_a_request_naming_no_partition_key_is_denied_whatever_is_granted(role: Role) -> None:
    """Even a grant a future change might add (``Scan``, a keyless ``Query``) reaches no
    tenant's data without naming the caller's own partition key."""
    policy = session_policy(role, TENANT, pooled_data=True, resources=RESOURCES)
    for statement in policy["Statement"]:  # a careless future grant, on every statement
        statement["Action"] = [*statement["Action"], "dynamodb:Scan", "dynamodb:Query"]
    table = POOLED.replace("*", "product")
    for action in ("dynamodb:Scan", "dynamodb:Query", "dynamodb:GetItem"):
        assert not allowed(policy, Access(action, table, None, ()), table), action
    own = Access("dynamodb:Query", table, None, (f"{tenant_key_prefix(TENANT)}1",))
    assert allowed(policy, own, table)
    assert not allowed(policy, Access("dynamodb:GetItem", arn("users"), None, ()), arn("users"))
