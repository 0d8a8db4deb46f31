"""Tier usage plans on the running platform: the front door meters each caller by the key the
real authorizer names, so a Basic tenant flooding the pooled API is throttled (429) while a
Premium tenant on the same deployment, in the same run, is not."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from tenant_context.platform.definitions import USAGE_PLANS

pytestmark = pytest.mark.platform

BASIC_REQUESTS = 150  # three times the Basic burst
# More clients than the burst: the first wave alone overflows the bucket, whatever the speed of
# the services behind the front door (with fewer, each client waits for its answer, and a slow
# service would keep the arrivals under the refill rate).
BASIC_CLIENTS = USAGE_PLANS["Basic"].burst + 10
PREMIUM_REQUESTS = 20  # well inside the Premium burst, by 2 clients during the Basic flood


def register(platform: RunningPlatform, name: str, tier: str) -> str:
    response = requests.post(f"{platform.admin_api}/registration", timeout=30,
                             json={"tenantName": name, "tenantTier": tier,
                                   "tenantEmail": f"owner@{tier.lower()}.example"})
    assert response.status_code == 201, response.text
    return platform.token(response.json()["tenantAdminUserName"], name)


def list_products(platform: RunningPlatform, token: str) -> requests.Response:
    return requests.get(f"{platform.pooled_api}/products", timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def test_a_basic_tenant_past_its_burst_is_throttled_while_a_premium_tenant_is_not(
        tmp_path: Path) -> None:
    with running_platform(tmp_path, free_port(), free_port()) as platform:
        basic = register(platform, "Throttled Basic", "basic")
        premium = register(platform, "Unhurried Premium", "premium")
        assert list_products(platform, premium).status_code == 200
        with ThreadPoolExecutor(BASIC_CLIENTS) as flooding, ThreadPoolExecutor(2) as calm:
            flood = [flooding.submit(list_products, platform, basic)
                     for _ in range(BASIC_REQUESTS)]
            steady = [calm.submit(list_products, platform, premium)
                      for _ in range(PREMIUM_REQUESTS)]
            basic_answers = [future.result() for future in flood]
            premium_answers = [future.result() for future in steady]
    statuses = Counter(response.status_code for response in basic_answers)
    assert set(statuses) == {200, 429}, statuses
    assert statuses[200] >= USAGE_PLANS["Basic"].burst  # the full bucket is served
    throttled = [response for response in basic_answers if response.status_code == 429]
    assert {response.text for response in throttled} == {'{"message": "Too Many Requests"}'}
    assert {response.headers["Access-Control-Allow-Origin"] for response in throttled} == {"*"}
    assert [response.status_code for response in premium_answers] == [200] * PREMIUM_REQUESTS
