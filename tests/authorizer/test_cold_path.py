"""The cold path, counted: the AWS operations a fresh authorizer (a Lambda cold start) sends on
its first authorization, in order, for each kind of caller.

The pools it always knows come from its configuration, so no settings are read to recognise a
token; once the token is verified, every record the decision needs is read in one batch; then
STS vends the caller's credentials. Each case also fetches its pool's key set once (Cognito's
public JWKS endpoint, not an AWS API operation: counted apart).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.tenant_authorizer.directory import Directory, DirectoryTables
from chalicelib.tenant_authorizer.ttl_cache import TtlCache
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from tenant_context.attribute_values import to_item
from tenant_context.platform.definitions import (
    OPERATIONS_PLAN_NAME,
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)
from tenant_context.platform.platform_settings import ADMIN_API_IDS
from tenant_context.platform.tenant_records import UserRecord
from tenant_context.tenancy import Role, new_tenant_id
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.clock import FakeClock
from tests.support.gateway_policy import allows, method_arn, token_event
from tests.support.world import World

BATCH_READ = "dynamodb.BatchGetItem"
TENANT_READ = "dynamodb.GetItem"
ASSUME_ROLE = "sts.AssumeRole"


def first_authorization(subject: AuthorizerUnderTest, token: str, api_id: str, method: str,
                        path: str) -> tuple[dict[str, Any], list[str]]:
    subject.aws_calls.take()
    response = subject.authorizer.authorize(token_event(token, api_id, method, path))
    assert allows(response, method_arn(api_id, method, path))
    return response, subject.aws_calls.take()


@pytest.mark.parametrize(("api_id", "method", "path"), [
    ("pooled-product", "GET", "/products"), ("admin", "GET", "/user/{name}")])
def test_a_pooled_tenant_users_first_authorization_costs_two_aws_calls(
        subject: AuthorizerUnderTest, world: World, api_id: str, method: str,
        path: str) -> None:
    """No settings scan, no tenant, user and deployment reads one by one: one batch read of
    all of them (and the admin API's ids), then STS. At most 3 was the goal; it is 2."""
    tenant = world.pooled_tenant()
    user = world.tenant_user(tenant, Role.TENANT_USER)
    response, calls = first_authorization(subject, world.id_token(user), api_id, method,
                                          path.format(name=user.name))
    assert calls == [BATCH_READ, ASSUME_ROLE]
    assert len(calls) <= 3
    assert subject.keys.fetches == 1
    assert response["context"]["tenantId"] == tenant.tenant_id


def test_a_platinum_tenant_users_first_authorization_costs_three_aws_calls(
        subject: AuthorizerUnderTest, world: World) -> None:
    """Its pool is in no configuration: its tenant's record says which pool and app client are
    valid, so that one read comes before the signature check (as before), and the batch after
    it reads the user, the tenant's deployment row and the settings."""
    platinum = world.platinum_tenant()
    token = world.id_token(world.tenant_user(platinum, Role.TENANT_ADMIN))
    _, calls = first_authorization(subject, token, f"{platinum.tenant_id}-product", "GET",
                                   "/products")
    assert calls == [TENANT_READ, BATCH_READ, ASSUME_ROLE]
    assert subject.keys.fetches == 1


def test_a_system_admins_first_authorization_costs_two_aws_calls(
        subject: AuthorizerUnderTest, world: World) -> None:
    """The user's record and the settings (the admin API's ids, the Operations plan's key)
    in one batch, then STS; the key value is the one the deployer recorded."""
    response, calls = first_authorization(
        subject, world.id_token(world.operations_user()), "admin", "GET", "/tenants")
    assert calls == [BATCH_READ, ASSUME_ROLE]
    assert subject.keys.fetches == 1
    assert response["usageIdentifierKey"] == world.settings.api_keys[OPERATIONS_PLAN_NAME]


def test_records_expiring_together_are_read_again_in_one_batch(
        subject: AuthorizerUnderTest, world: World) -> None:
    """Warm: nothing. Once the tenant's and user's records expire (30 s; the deployment row
    and settings live longer), both come back in ONE read; the credentials are still good."""
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    first_authorization(subject, token, "pooled-product", "GET", "/products")
    _, warm = first_authorization(subject, token, "pooled-product", "GET", "/products")
    assert warm == []
    subject.clock.advance(31)
    _, expired = first_authorization(subject, token, "pooled-product", "GET", "/products")
    assert expired == [BATCH_READ]


def test_keys_a_batch_leaves_unprocessed_are_read_one_by_one(baseline: BaselineResult) -> None:
    """DynamoDB may leave keys of a batch unprocessed (under throttling): each is then read on
    its own, never taken for a missing record (a missing user record would refuse the
    caller), and filed in its cache like the others."""
    dynamodb = boto3.client("dynamodb")
    clock = FakeClock(0.0)
    directory = Directory(
        dynamodb,
        DirectoryTables(SETTINGS_TABLE.name, TENANT_DETAILS_TABLE.name,
                        TENANT_USER_MAPPING_TABLE.name, TENANT_STACK_MAPPING_TABLE.name),
        settings_cache=TtlCache(300, clock=clock), tenant_cache=TtlCache(30, clock=clock),
        unknown_tenant_cache=TtlCache(5, clock=clock), user_cache=TtlCache(30, clock=clock),
        deployment_cache=TtlCache(60, clock=clock))
    tenant_id = new_tenant_id()
    record = UserRecord(tenant_id, "alice", Role.TENANT_USER, "us-east-1_pool", enabled=True)
    user_key = to_item({"tenantId": tenant_id, "userName": "alice"})
    with Stubber(dynamodb) as stub:
        stub.add_response("batch_get_item", {
            "Responses": {SETTINGS_TABLE.name: [to_item({"settingName": ADMIN_API_IDS,
                                                         "settingValue": "admin"})]},
            "UnprocessedKeys": {TENANT_USER_MAPPING_TABLE.name: {"Keys": [user_key]}}})
        stub.add_response("get_item", {"Item": to_item(record.to_item())}, {
            "TableName": TENANT_USER_MAPPING_TABLE.name, "Key": user_key,
            "ConsistentRead": True})
        directory.read_ahead(user=(tenant_id, "alice"))
        stub.assert_no_pending_responses()
        # From the caches: the stub would fail any further call.
        assert directory.user(tenant_id, "alice") == record
        assert directory.settings().admin_api_ids == {"admin"}
        assert directory.settings().operations_api_key == ""
