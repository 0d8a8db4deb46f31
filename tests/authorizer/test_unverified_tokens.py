"""What an unauthenticated caller can make the authorizer do before its token is verified.

The tenant claim of an unverified token is the attacker's choice. It must not drive
DynamoDB reads when the token names a pool the authorizer always knows (operations, pooled),
and where it must (a pool only a Platinum tenant's record can vouch for), junk ids are
remembered briefly and apart, so they can neither repeat reads nor evict real tenants.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.tenant_authorizer.directory import Directory, DirectoryTables
from chalicelib.tenant_authorizer.ttl_cache import TtlCache
from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)
from tenant_context.tenancy import Role, new_tenant_id
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.clock import FakeClock
from tests.support.counting import CallCounter
from tests.support.gateway_policy import token_event
from tests.support.world import MOTO_KID, World, issuer

_STRANGERS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged(claims: dict[str, Any]) -> str:
    """RS256 with the emulator's kid, but signed by a key that is not the pool's."""
    now = int(time.time())
    payload = {"iat": now, "exp": now + 3600, "token_use": "id", **claims}
    return jwt.api_jws.encode(json.dumps(payload).encode(), _STRANGERS_KEY, algorithm="RS256",
                              headers={"kid": MOTO_KID})


def refusal(subject: AuthorizerUnderTest, token: str) -> str:
    with pytest.raises(Unauthorized) as denial:
        subject.authorizer.authorize(token_event(token, "admin", "GET", "/users"))
    return denial.value.reason


def tenant_claims(pool_id: str, client_id: str, tenant_id: str) -> dict[str, Any]:
    return {"iss": issuer(pool_id), "aud": client_id, "cognito:username": "mallory",
            "custom:userRole": Role.TENANT_ADMIN.value, "custom:tenantId": tenant_id}


def test_forged_pooled_tokens_cause_no_read_before_the_signature_fails(
        subject: AuthorizerUnderTest, world: World) -> None:
    pooled = world.settings.pooled_pool
    real = world.pooled_tenant()
    get_item = CallCounter(subject.dynamodb, "dynamodb", "GetItem")
    for tenant_id in [new_tenant_id() for _ in range(20)] + [real.tenant_id]:
        token = forged(tenant_claims(pooled.user_pool_id, pooled.app_client_id, tenant_id))
        assert "Signature verification failed" in refusal(subject, token)
    assert get_item.count == 0
    operations = world.settings.operations_pool
    admin = forged({**tenant_claims(operations.user_pool_id, operations.app_client_id,
                                    new_tenant_id()), "custom:userRole": "SystemAdmin"})
    assert "Signature verification failed" in refusal(subject, admin)
    assert get_item.count == 0


def test_a_stranger_pool_reads_each_junk_tenant_once_per_negative_ttl(
        subject: AuthorizerUnderTest, world: World) -> None:
    """A pool id not in settings could be a Platinum tenant's: only its record can tell, so
    that one read happens; repeating the junk within 5 s costs nothing."""
    junk = [new_tenant_id() for _ in range(10)]
    get_item = CallCounter(subject.dynamodb, "dynamodb", "GetItem")
    for _ in range(3):
        for tenant_id in junk:
            token = forged(tenant_claims("us-east-1_Stranger", "stranger-client", tenant_id))
            assert f"unknown tenant {tenant_id}" in refusal(subject, token)
    assert get_item.count == len(junk)
    subject.clock.advance(6)  # the negative entries expired: a new tenant would now be seen
    refusal(subject, forged(tenant_claims("us-east-1_Stranger", "c", junk[0])))
    assert get_item.count == len(junk) + 1


def test_junk_tenant_ids_never_evict_a_real_tenants_record(baseline: BaselineResult,
                                                           world: World) -> None:
    """The Directory's caches at a size the test can overflow: 2 records, 2 unknown ids."""
    dynamodb = boto3.client("dynamodb")
    get_item = CallCounter(dynamodb, "dynamodb", "GetItem")
    clock = FakeClock(0.0)
    directory = Directory(
        dynamodb,
        DirectoryTables(SETTINGS_TABLE.name, TENANT_DETAILS_TABLE.name,
                        TENANT_USER_MAPPING_TABLE.name, TENANT_STACK_MAPPING_TABLE.name),
        settings_cache=TtlCache(300, clock=clock),
        tenant_cache=TtlCache(30, clock=clock, max_entries=2),
        unknown_tenant_cache=TtlCache(5, clock=clock, max_entries=2),
        user_cache=TtlCache(30, clock=clock), deployment_cache=TtlCache(60, clock=clock))
    real = [world.pooled_tenant(), world.platinum_tenant()]
    for tenant in real:
        assert directory.tenant(tenant.tenant_id) == tenant.record
    reads = get_item.count
    for _ in range(50):
        assert directory.tenant(new_tenant_id()) is None
    assert get_item.count == reads + 50
    for tenant in real:
        assert directory.tenant(tenant.tenant_id) == tenant.record
    assert get_item.count == reads + 50  # both records were still cached

