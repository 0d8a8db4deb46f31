"""Sign-up limits on the running platform, set through make local's environment: past the
per-address limit the front door answers 429 with Retry-After and CORS, and NOTHING is created
(counted: Cognito groups and users of the pooled pool, user pools, API keys, tenant records,
name claims, deployment rows and processes). One platform of its own for the module (its
limits are low)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from tenant_context.config import Env
from tenant_context.platform.definitions import SETTINGS_TABLE
from tenant_context.platform.platform_settings import read_settings
from tests.support.created_resources import registration_footprint

pytestmark = pytest.mark.platform

ALLOWED = 2  # per address (every local caller is 127.0.0.1) in the window


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    with running_platform(tmp_path_factory.mktemp("limited"), free_port(), free_port(),
                          environment={Env.SIGNUP_RATE_PER_ADDRESS: str(ALLOWED),
                                       Env.SIGNUP_RATE_TOTAL: "50",
                                       Env.SIGNUP_RATE_WINDOW_SECONDS: "3600"}) as platform:
        yield platform


def sign_up(platform: RunningPlatform, name: str, tier: str) -> requests.Response:
    return requests.post(f"{platform.admin_api}/registration", timeout=60, json={
        "tenantName": name, "tenantTier": tier, "tenantEmail": "owner@limited.example"})


def everything_created(platform: RunningPlatform) -> dict[str, Any]:
    pooled = read_settings(platform.aws.dynamodb, SETTINGS_TABLE.name).pooled_pool.user_pool_id
    return {**registration_footprint(platform.aws, pooled),
            "processes": sorted(platform.current_state()["pids"].values())}


def test_past_the_limit_sign_ups_get_429_and_create_nothing(limited: RunningPlatform) -> None:
    assert sign_up(limited, "Within Limits", "Basic").status_code == 201
    platinum = sign_up(limited, "Within Limits Platinum", "Platinum")
    assert platinum.status_code == 201, platinum.text
    deadline = time.monotonic() + 60  # its deployment's processes up: counts settle
    while limited.tenant_api(platinum.json()["tenantId"]) is None:
        assert time.monotonic() < deadline, "the Platinum deployment never came up"
        time.sleep(0.2)

    before = everything_created(limited)
    for name, tier in (("Over Limits", "Basic"), ("Over Limits Platinum", "Platinum")):
        refused = sign_up(limited, name, tier)
        assert refused.status_code == 429
        assert refused.json() == {"message": "Too Many Requests"}
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600
        assert refused.headers["Access-Control-Allow-Origin"] == "*"
    time.sleep(1)  # anything started by mistake would show by now (the provisioner is nudged)
    assert everything_created(limited) == before
    # Other admin routes are not sign-ups.
    assert requests.get(f"{limited.admin_api}/tenant/init/Within Limits",
                        timeout=30).status_code == 200
