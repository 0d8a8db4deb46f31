"""Tenants moved between the pool and a Platinum silo (#17) keep their users' pool, and the
tenant RECORD's tier alone says which deployment serves them. Each test tries to use the
relaxed rule (a pooled-pool token on a silo, a Platinum pool's token on the pooled API) for
more than exactly the moved tenant on exactly its current deployment.

- moved up: its users stay in the pooled pool; the record says Platinum (its silo deployed);
- moved down: its users stay in its own pool; the record says Basic (its old silo row kept).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from chalicelib.tenant_authorizer.factory import policy_resources
from tenant_context.attribute_values import to_item
from tenant_context.platform.baseline_records import put_changed
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    api_name,
)
from tenant_context.platform.session_policies import session_policy, to_json
from tenant_context.platform.tenant_records import DeploymentRecord
from tenant_context.tenancy import Role, Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.gateway_policy import allows, method_arn, token_event
from tests.support.world import Tenant, World

POOLED_APIS = tuple(api_name("pooled", service.name) for service in TENANT_SERVICES)
BATCH_READ = "dynamodb.BatchGetItem"
TENANT_READ = "dynamodb.GetItem"
ASSUME_ROLE = "sts.AssumeRole"


def silo_apis(tenant_id: str) -> tuple[str, ...]:
    return tuple(api_name(tenant_id, service.name) for service in TENANT_SERVICES)


def record_tier(world: World, tenant: Tenant, tier: Tier) -> Tenant:
    """What the move's switch writes: the tier changes, the pool and client stay."""
    record = dataclasses.replace(tenant.record, tier=tier)
    world.clients.dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name,
                                    Item=to_item(record.to_item()))
    return Tenant(record, tenant.pool)


def deploy_silo(world: World, tenant: Tenant) -> None:
    """The tenant's silo deployment row, as provisioning records it."""
    put_changed(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE, [DeploymentRecord(
        tenant.tenant_id, f"stack-{tenant.tenant_id}", frozenset(silo_apis(tenant.tenant_id)),
        f"http://127.0.0.1:1/{tenant.tenant_id}").to_item()])


def moved_up(world: World) -> Tenant:
    tenant = world.pooled_tenant(Tier.PREMIUM)
    deploy_silo(world, tenant)
    return record_tier(world, tenant, Tier.PLATINUM)


def moved_down(world: World) -> Tenant:
    return record_tier(world, world.platinum_tenant(), Tier.BASIC)


def authorize(subject: AuthorizerUnderTest, token: str, api_id: str,
              path: str = "/products") -> dict[str, Any]:
    return subject.authorizer.authorize(token_event(token, api_id, "GET", path))


def allowed_on(subject: AuthorizerUnderTest, token: str, api_id: str) -> bool:
    return allows(authorize(subject, token, api_id), method_arn(api_id, "GET", "/products"))


def sent_policy(subject: AuthorizerUnderTest) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(subject.assumed[-1]["Policy"])
    return policy


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TENANT_USER])
def test_a_moved_up_tenants_pooled_pool_token_reaches_its_silo_only(
        subject: AuthorizerUnderTest, world: World, role: Role) -> None:
    tenant, other_platinum = moved_up(world), world.platinum_tenant()
    token = world.id_token(world.tenant_user(tenant, role))
    for api_id in silo_apis(tenant.tenant_id):
        response = authorize(subject, token, api_id)
        assert allows(response, method_arn(api_id, "GET", "/products")), api_id
        context = response["context"]
        assert context["tier"] == "Platinum"
        assert context["userPoolId"] == world.settings.pooled_pool.user_pool_id
        # Credentials for its isolation now: a silo tenant's policy, not the pooled one.
        assert sent_policy(subject) == json.loads(to_json(session_policy(
            role, tenant.tenant_id, pooled_data=False,
            resources=policy_resources(subject.config))))
    for api_id in (*POOLED_APIS, *silo_apis(other_platinum.tenant_id), "unknown-api"):
        response = authorize(subject, token, api_id)
        assert not allows(response, method_arn(api_id, "GET", "/products")), api_id
        assert "context" not in response  # no credentials for an API it may not use


def test_other_tenants_tokens_never_reach_the_moved_up_tenants_silo(
        subject: AuthorizerUnderTest, world: World) -> None:
    """The pooled pool is accepted on that silo for ITS tenant only: another pooled tenant's
    user (same pool, same app client), a Platinum tenant's and a moved-down tenant's are
    refused there; a token whose tenant claim names the moved tenant but whose user is not its
    user fails the user check."""
    tenant = moved_up(world)
    neighbour = world.pooled_tenant(Tier.PREMIUM)
    strangers = [world.tenant_user(neighbour, Role.TENANT_ADMIN),
                 world.tenant_user(world.platinum_tenant(), Role.TENANT_ADMIN),
                 world.tenant_user(moved_down(world), Role.TENANT_ADMIN)]
    for stranger in strangers:
        token = world.id_token(stranger)
        for api_id in silo_apis(tenant.tenant_id):
            assert not allowed_on(subject, token, api_id), (stranger.name, api_id)
    # The neighbour still uses the pooled API as before.
    assert allowed_on(subject, world.id_token(strangers[0]), POOLED_APIS[0])


def test_a_moved_down_tenants_own_pool_token_reaches_the_pooled_api_only(
        subject: AuthorizerUnderTest, world: World) -> None:
    tenant = moved_down(world)
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    for api_id in POOLED_APIS:
        response = authorize(subject, token, api_id)
        assert allows(response, method_arn(api_id, "GET", "/products")), api_id
        assert response["context"]["tier"] == "Basic"
        assert response["context"]["userPoolId"] == tenant.pool.user_pool_id
        assert sent_policy(subject) == json.loads(to_json(session_policy(
            Role.TENANT_USER, tenant.tenant_id, pooled_data=True,
            resources=policy_resources(subject.config))))
    for api_id in (*silo_apis(tenant.tenant_id), *silo_apis(moved_up(world).tenant_id)):
        assert not allowed_on(subject, token, api_id), api_id


def test_a_moved_up_tenants_first_authorization_still_costs_two_aws_calls(
        subject: AuthorizerUnderTest, world: World) -> None:
    """Its deployment row is read in the same batch as its record (both rows asked for, as
    the record's tier is not known yet): no extra read for the move."""
    tenant = moved_up(world)
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    subject.aws_calls.take()
    assert allowed_on(subject, token, silo_apis(tenant.tenant_id)[0])
    assert subject.aws_calls.take() == [BATCH_READ, ASSUME_ROLE]
    assert allowed_on(subject, token, silo_apis(tenant.tenant_id)[1])
    assert subject.aws_calls.take() == []  # warm: the same credentials, nothing read


def test_a_moved_down_tenants_first_authorization_costs_what_a_platinum_users_did(
        subject: AuthorizerUnderTest, world: World) -> None:
    tenant = moved_down(world)
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    subject.aws_calls.take()
    assert allowed_on(subject, token, POOLED_APIS[0])
    assert subject.aws_calls.take() == [TENANT_READ, BATCH_READ, ASSUME_ROLE]


def test_a_tier_switch_is_followed_within_the_tenant_records_ttl(
        subject: AuthorizerUnderTest, world: World) -> None:
    """A warm authorizer that served the tenant pooled (its pooled credentials cached) serves
    it from its silo once the record's 30 s are up, with new credentials for a silo tenant;
    its silo row, provisioned after the first authorization, is not hidden by that first
    read; and a move back is followed the same way."""
    tenant = world.pooled_tenant(Tier.STANDARD)
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_ADMIN))
    silo = silo_apis(tenant.tenant_id)[0]
    pooled_key = authorize(subject, token, POOLED_APIS[0])["context"]["accessKeyId"]
    pooled_policy = sent_policy(subject)
    assert not allowed_on(subject, token, silo)
    deploy_silo(world, tenant)  # the move provisions the silo, copies, then switches the tier
    record_tier(world, tenant, Tier.PLATINUM)
    assert allowed_on(subject, token, POOLED_APIS[0])  # the record's TTL has not run out
    subject.clock.advance(31)
    assumed = subject.assume_role.count
    silo_answer = authorize(subject, token, silo)
    assert allows(silo_answer, method_arn(silo, "GET", "/products"))
    assert not allowed_on(subject, token, POOLED_APIS[0])
    assert subject.assume_role.count == assumed + 1  # not the cached pooled credentials
    assert silo_answer["context"]["accessKeyId"] != pooled_key
    assert sent_policy(subject) != pooled_policy
    record_tier(world, tenant, Tier.STANDARD)
    subject.clock.advance(31)
    back = authorize(subject, token, POOLED_APIS[0])
    assert allows(back, method_arn(POOLED_APIS[0], "GET", "/products"))
    assert back["context"]["accessKeyId"] == pooled_key  # its pooled credentials again
    assert not allowed_on(subject, token, silo)
