"""Tier usage plans on the running platform: the front door meters each caller by the key the
real authorizer names, each tenant's own, so a Basic tenant flooding the pooled API is
throttled (429) while a Premium tenant on the same deployment, in the same run, is not; and a
Basic tenant that used up its day's quota leaves every other Basic tenant served (fair shares:
one key per tenant, never one per tier). And what each tenant's requests consumed, as the usage
API reports it once written: exactly the requests each client made, by route and status, the
429s on the tenant that got them, and the DynamoDB capacity the emulator reported for that
tenant's calls. One platform of its own for the module (its plans are changed)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pipeline.local_cloud.capacity_ledger import capacity_by_tenant
from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from tenant_context.attribute_values import from_item, to_item
from tenant_context.config import Env
from tenant_context.platform.definitions import SETTINGS_TABLE, TENANT_DETAILS_TABLE, USAGE_PLANS
from tenant_context.platform.platform_settings import read_settings

pytestmark = pytest.mark.platform

BASIC_REQUESTS = 150  # three times the Basic burst
# More clients than the burst: the first wave alone overflows the bucket, whatever the speed of
# the services behind the front door (with fewer, each client waits for its answer, and a slow
# service would keep the arrivals under the refill rate).
BASIC_CLIENTS = USAGE_PLANS["Basic"].burst + 10
PREMIUM_REQUESTS = 20  # well inside the Premium burst, by 2 clients during the Basic flood


LOWERED_QUOTA = 12  # Basic's daily quota, lowered for the test through the gateway's plan


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    # Usage written every second (10 s under make local): the usage test's flush point.
    with running_platform(tmp_path_factory.mktemp("metered"), free_port(), free_port(),
                          environment={Env.USAGE_FLUSH_SECONDS: "1"}) as platform:
        yield platform


def register(platform: RunningPlatform, name: str, tier: str) -> str:
    return register_tenant(platform, name, tier)[1]


def register_tenant(platform: RunningPlatform, name: str, tier: str) -> tuple[str, str]:
    """(tenant id, the tenant admin's ID token)."""
    response = requests.post(f"{platform.admin_api}/registration", timeout=30,
                             json={"tenantName": name, "tenantTier": tier,
                                   "tenantEmail": f"owner@{tier.lower()}.example"})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["tenantId"], platform.token(body["tenantAdminUserName"], name)


def list_products(platform: RunningPlatform, token: str) -> requests.Response:
    return requests.get(f"{platform.pooled_api}/products", timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def test_a_basic_tenant_past_its_burst_is_throttled_while_a_premium_tenant_is_not(
        metered: RunningPlatform) -> None:
    platform = metered
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


def set_quota(platform: RunningPlatform, plan_id: str, limit: int) -> None:
    platform.aws.apigateway.update_usage_plan(usagePlanId=plan_id, patchOperations=[
        {"op": "replace", "path": "/quota/limit", "value": str(limit)}])


def plans_of_key(platform: RunningPlatform, tenant_id: str, plan_ids: dict[str, str]
                 ) -> list[str]:
    apigateway = platform.aws.apigateway
    item = platform.aws.dynamodb.get_item(TableName=TENANT_DETAILS_TABLE.name,
                                          Key=to_item({"tenantId": tenant_id}))["Item"]
    value = from_item(item)["apiKey"]
    return [name for name, plan_id in plan_ids.items()
            if any(key["value"] == value
                   for key in apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"])]


def test_a_basic_tenant_out_of_quota_leaves_every_other_basic_tenant_served(
        metered: RunningPlatform) -> None:
    platform = metered
    (noisy_id, noisy), (quiet_id, quiet) = (
        register_tenant(platform, name, "basic") for name in ("Noisy Basic", "Quiet Basic"))
    plan_ids = dict(read_settings(platform.aws.dynamodb, SETTINGS_TABLE.name).usage_plan_ids)
    # Each tenant's own key, on the Basic plan (and no other).
    assert plans_of_key(platform, noisy_id, plan_ids) == ["Basic"]
    assert plans_of_key(platform, quiet_id, plan_ids) == ["Basic"]
    set_quota(platform, plan_ids["Basic"], LOWERED_QUOTA)
    try:
        answers: list[requests.Response] = []
        deadline = time.monotonic() + 30  # the front door re-reads the plans every 5 s
        while time.monotonic() < deadline:
            answers.append(list_products(platform, noisy))
            if answers[-1].json() == {"message": "Limit Exceeded"}:
                break
            assert answers[-1].status_code in (200, 429), answers[-1].text  # 429: throttled
        assert answers[-1].status_code == 429
        assert answers[-1].json() == {"message": "Limit Exceeded"}
        assert sum(answer.status_code == 200 for answer in answers) >= LOWERED_QUOTA
        # The other Basic tenant, in the same run, on the same plan: served.
        assert [list_products(platform, quiet).status_code for _ in range(5)] == [200] * 5
        assert list_products(platform, noisy).status_code == 429  # still out, until 00:00 UTC
    finally:
        set_quota(platform, plan_ids["Basic"], USAGE_PLANS["Basic"].quota_per_day)


# --- usage per tenant ------------------------------------------------------------------------

USAGE_QUOTA = 25  # Basic's daily quota for the usage test: its 40 requests go past it


def call_as(platform: RunningPlatform, token: str, method: str, path: str,
            body: dict[str, str | int] | None = None) -> requests.Response:
    return requests.request(method, f"{platform.pooled_api}{path}", json=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})


def drive(platform: RunningPlatform, token: str, requests_made: int, writes: int
          ) -> Counter[tuple[str, int]]:
    """``requests_made`` requests, one after the other: ``writes`` product creations, a read of
    each created one, the rest listings; what the client saw, by route template and status."""
    seen: Counter[tuple[str, int]] = Counter()
    keys: list[str] = []
    for number in range(writes):
        created = call_as(platform, token, "POST", "/product",
                          {"name": f"p{number}", "price": number, "sku": "s", "category": "c"})
        seen["POST /product", created.status_code] += 1
        if created.status_code == 201:
            keys.append(created.json()["key"])
    for key in keys:
        read = call_as(platform, token, "GET", f"/product/{key}")
        seen["GET /product/{key}", read.status_code] += 1
    while sum(seen.values()) < requests_made:
        seen["GET /products", call_as(platform, token, "GET", "/products").status_code] += 1
    return seen


def tenant_usage(platform: RunningPlatform, admin: str, tenant_id: str) -> dict[str, object]:
    answer = requests.get(f"{platform.admin_api}/tenant/{tenant_id}/usage", timeout=30,
                          headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200, answer.text
    usage: dict[str, object] = answer.json()
    return usage


def test_the_usage_api_reports_exactly_what_each_tenant_did(metered: RunningPlatform) -> None:
    platform = metered
    admin = platform.token()
    loads = {"premium": (300, 6), "standard": (120, 4), "basic": (40, 2)}
    tenants = {tier: register_tenant(platform, f"Usage {tier.title()}", tier) for tier in loads}
    idle_id = register_tenant(platform, "Usage Idle", "standard")[0]  # signs in, never calls
    plan_ids = dict(read_settings(platform.aws.dynamodb, SETTINGS_TABLE.name).usage_plan_ids)
    set_quota(platform, plan_ids["Basic"], USAGE_QUOTA)
    try:
        time.sleep(6)  # the front door re-reads the plans every 5 s
        seen = {tier: drive(platform, tenants[tier][1], *loads[tier]) for tier in loads}
    finally:
        set_quota(platform, plan_ids["Basic"], USAGE_PLANS["Basic"].quota_per_day)
    assert sum(count for (_, status), count in seen["basic"].items() if status == 429) >= 10
    for tier in ("premium", "standard"):
        assert {status for _, status in seen[tier]} <= {200, 201}, seen[tier]

    def reported(tier: str) -> dict[str, object]:
        return tenant_usage(platform, admin, tenants[tier][0])

    deadline = time.monotonic() + 30  # written within a second or two of the last request
    while any(reported(tier)["totals"]["requestCount"] != loads[tier][0]  # type: ignore[index]
              for tier in loads) and time.monotonic() < deadline:
        time.sleep(0.5)
    ledger = capacity_by_tenant(platform.state["emulatorUrl"])
    for tier, (count, _) in loads.items():
        totals = reported(tier)["totals"]
        assert isinstance(totals, dict)
        assert totals["requestCount"] == count, tier
        assert {(entry["route"], entry["status"]): entry["count"]
                for entry in totals["requests"]} == dict(seen[tier]), tier
        assert totals["throttled"] == sum(number for (_, status), number in seen[tier].items()
                                          if status == 429), tier
        consumed = ledger[tenants[tier][0]]
        assert (totals["readUnits"], totals["writeUnits"]) == (
            consumed["read"], consumed["write"]), tier
        assert totals["writeUnits"] == seen[tier]["POST /product", 201], tier  # 1 per put
        assert totals["itemDeltas"] == {"product": seen[tier]["POST /product", 201]}, tier
        assert reported(tier)["activeUsers"] == 1, tier  # its admin, however many requests
    idle_usage = tenant_usage(platform, admin, idle_id)
    idle = idle_usage["totals"]
    assert isinstance(idle, dict)
    assert idle["requestCount"] == 0
    assert idle_usage["activeUsers"] == 0  # signed in, made no request: not seen
    assert idle_id not in ledger
