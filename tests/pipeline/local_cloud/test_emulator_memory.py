"""The emulator's memory stays proportional to the live state: moto's per-class instance lists
hold only live objects (not every item written and every copy a query returned), and its user
pools' tokens are pruned (expired ones, and the oldest beyond a cap) while the latest keep
working."""

from __future__ import annotations

import base64
import copy
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from pipeline.local_cloud.emulator_server import (
    LiveInstances,
    TokenPruner,
    bound_model_tracking,
    prune_tokens,
    token_expiry,
)
from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env


class Thing:
    pass


def test_live_instances_keep_the_living_and_let_the_rest_go() -> None:
    tracked = LiveInstances()
    kept = [Thing() for _ in range(10)]
    for thing in kept:
        tracked.append(thing)
    for _ in range(10_000):
        tracked.append(Thing())  # gone at once, as a query's copies are
    gc.collect()
    assert list(tracked) == kept
    assert len(tracked) < 2 * len(kept) + 64  # references pruned as it went, not 10,010
    tracked.append(1)  # no weak reference to an int: not listed, no error
    assert list(tracked) == kept


@pytest.fixture
def model_tracking() -> Iterator[None]:
    """``bound_model_tracking`` patches moto's BaseModel in this process: put it back after."""
    original = BaseModel.__dict__["__new__"]
    lists = Item.__dict__.get("instances_tracked")
    bound_model_tracking()
    try:
        yield
    finally:
        BaseModel.__new__ = original  # type: ignore[method-assign]
        Item.instances_tracked = lists if lists is not None else []  # type: ignore[attr-defined]


def _item(number: int) -> Item:
    return Item(DynamoType({"S": "tenant"}), DynamoType({"S": f"product-{number}"}),
                {"name": {"S": "x" * 200}})


@pytest.mark.usefixtures("model_tracking")
def test_moto_keeps_no_copy_of_what_it_returned() -> None:
    gc.collect()
    others = len(list(Item.instances_tracked))  # type: ignore[attr-defined]  # earlier tests'
    live = [_item(number) for number in range(5)]
    for _ in range(2_000):
        copy.deepcopy(live)  # what moto's Query does to every result
    gc.collect()
    tracked = Item.instances_tracked  # type: ignore[attr-defined]
    assert isinstance(tracked, LiveInstances)
    assert set(map(id, live)) <= set(map(id, tracked))  # the dashboard still lists them
    assert len(list(tracked)) == others + len(live)  # and none of the 10,000 copies
    assert len(tracked) < 2 * (others + len(live)) + 64


def _jwt(expires: float) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256'})}.{part({'exp': expires, 'jti': str(expires)})}.signature"


def test_expired_tokens_and_the_oldest_beyond_the_cap_are_pruned() -> None:
    now = time.time()
    expired = [_jwt(now - 60 - number) for number in range(3)]
    live = [_jwt(now + 3600 + number) for number in range(5)]
    refresh = {f"refresh-{number}": ("client", "user", "jti") for number in range(6)}
    refresh["refresh-revoked"] = None  # type: ignore[assignment]  # signed out: moto's None
    pool = SimpleNamespace(
        access_tokens=dict.fromkeys(expired + live, ("client", "user")),
        id_tokens=dict.fromkeys(live, ("client", "user")),
        refresh_tokens=refresh)
    assert token_expiry(live[0]) == pytest.approx(now + 3600)
    assert token_expiry("not-a-jwt") is None

    dropped = prune_tokens(pool, now, cap=4)

    assert list(pool.access_tokens) == live[1:]  # expired first; then the oldest live one
    assert list(pool.id_tokens) == live[1:]
    assert list(pool.refresh_tokens) == ["refresh-3", "refresh-4", "refresh-5",
                                         "refresh-revoked"]
    assert dropped == 4 + 1 + 3
    assert prune_tokens(pool, now, cap=4) == 0


def test_pruning_moto_pools_keeps_the_latest_sign_in_working() -> None:
    """In an interpreter of its own: ``mock_aws`` resets moto's backends, which in this process
    hold the session's shared emulator too (a threaded moto server), and ``TokenPruner`` prunes
    every pool it finds."""
    script = ("import tests.pipeline.local_cloud.test_emulator_memory as module\n"
              "module.sign_ins_pruned()\n")
    # Not the session emulator's endpoint (the suite's environment may name it): mock_aws's own.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(Env.AWS_ENDPOINT_URL.value)}
    env |= {Env.AWS_ACCESS_KEY_ID: "testing", Env.AWS_SECRET_ACCESS_KEY: "testing",
            Env.AWS_DEFAULT_REGION: "us-east-1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def sign_ins_pruned() -> None:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="pool")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="client",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        cognito.admin_create_user(UserPoolId=pool, Username="user")
        cognito.admin_set_user_password(UserPoolId=pool, Username="user",
                                        Password="Passw0rd!long", Permanent=True)
        signed_in = [cognito.admin_initiate_auth(
            UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "user", "PASSWORD": "Passw0rd!long"},
        )["AuthenticationResult"] for _ in range(8)]

        pruner = TokenPruner(cap=3)
        assert pruner.prune() == 3 * (8 - 3)
        assert pruner.prune() == 0

        latest = signed_in[-1]
        assert cognito.get_user(AccessToken=latest["AccessToken"])["Username"] == "user"
        refreshed = cognito.admin_initiate_auth(
            UserPoolId=pool, ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": latest["RefreshToken"]})
        assert refreshed["AuthenticationResult"]["AccessToken"]
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            cognito.get_user(AccessToken=signed_in[0]["AccessToken"])
