"""API Gateway's usage-plan arithmetic: burst, rate, daily quota, and which counters are shared.

The plans are the real tier plans (``USAGE_PLANS``); only the clock is the test's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.local_cloud.api_gateway.usage_plans import (
    INVALID_API_KEY,
    QUOTA_EXCEEDED,
    THROTTLED,
    Refusal,
    UsagePlanEnforcer,
    plans_by_key,
)
from tenant_context.platform.definitions import USAGE_PLANS
from tests.support.clock import FakeClock

BASIC = USAGE_PLANS["Basic"]
PREMIUM = USAGE_PLANS["Premium"]
PLATINUM = USAGE_PLANS["Platinum"]
KEYS = {"Basic": "basic-key", "Premium": "premium-key", "Platinum": "platinum-key"}
SHARED = ("admin", "pooled")
NOON = datetime(2026, 11, 3, 12, 0, tzinfo=UTC).timestamp()


def enforcer(clock: FakeClock) -> UsagePlanEnforcer:
    key_plans = plans_by_key(KEYS)
    return UsagePlanEnforcer(key_plans.get, shared_deployments=SHARED, clock=clock)


def admit_many(subject: UsagePlanEnforcer, count: int, key: str = "basic-key",
               deployment: str = "pooled") -> list[Refusal | None]:
    return [subject.admit(key, deployment) for _ in range(count)]


def test_the_burst_is_admitted_at_once_and_the_next_request_is_throttled() -> None:
    subject = enforcer(FakeClock(NOON))
    assert admit_many(subject, BASIC.burst) == [None] * BASIC.burst
    refusal = subject.admit("basic-key", "pooled")
    assert refusal == THROTTLED
    assert (refusal.status, refusal.body()) == (429, {"message": "Too Many Requests"})


def test_tokens_come_back_at_the_plan_rate() -> None:
    clock = FakeClock(NOON)
    subject = enforcer(clock)
    admit_many(subject, BASIC.burst)
    clock.advance(1 / BASIC.rate_per_second)
    assert subject.admit("basic-key", "pooled") is None  # exactly one token refilled
    assert subject.admit("basic-key", "pooled") == THROTTLED
    clock.advance(10)  # far longer than a full refill: capped at the burst
    assert admit_many(subject, BASIC.burst + 1)[-2:] == [None, THROTTLED]


def test_a_clock_stepping_back_refills_nothing() -> None:
    clock = FakeClock(NOON)
    subject = enforcer(clock)
    admit_many(subject, BASIC.burst)
    clock.advance(-5)
    assert subject.admit("basic-key", "pooled") == THROTTLED


def test_the_daily_quota_refuses_with_limit_exceeded_until_midnight_utc() -> None:
    clock = FakeClock(NOON)
    subject = enforcer(clock)
    answers = []
    for _ in range(BASIC.quota_per_day):
        answers.append(subject.admit("basic-key", "pooled"))
        clock.advance(1 / BASIC.rate_per_second)  # one request per token: never throttled
    assert answers == [None] * BASIC.quota_per_day
    clock.advance(60)  # a full bucket again: only the quota can refuse
    refusal = subject.admit("basic-key", "pooled")
    assert refusal == QUOTA_EXCEEDED
    assert (refusal.status, refusal.body()) == (429, {"message": "Limit Exceeded"})
    midnight = datetime(2026, 11, 4, tzinfo=UTC).timestamp()
    clock.now = midnight - 0.001
    assert subject.admit("basic-key", "pooled") == QUOTA_EXCEEDED
    clock.now = midnight
    assert subject.admit("basic-key", "pooled") is None


def test_a_throttled_request_does_not_count_against_the_quota() -> None:
    clock = FakeClock(NOON)
    subject = enforcer(clock)
    refused = admit_many(subject, BASIC.quota_per_day)  # 1,000 at once: the burst gets through
    assert refused.count(None) == BASIC.burst
    for _ in range(BASIC.quota_per_day - BASIC.burst):
        clock.advance(1 / BASIC.rate_per_second)
        assert subject.admit("basic-key", "pooled") is None
    clock.advance(60)
    assert subject.admit("basic-key", "pooled") == QUOTA_EXCEEDED


def test_admin_and_pooled_apis_share_one_plan_instance_per_key() -> None:
    subject = enforcer(FakeClock(NOON))
    admit_many(subject, BASIC.burst // 2, deployment="admin")
    assert admit_many(subject, BASIC.burst // 2, deployment="pooled") == [None] * (
        BASIC.burst // 2)
    assert subject.admit("basic-key", "admin") == THROTTLED
    assert subject.admit("basic-key", "pooled") == THROTTLED


def test_keys_and_platinum_deployments_have_counters_of_their_own() -> None:
    subject = enforcer(FakeClock(NOON))
    admit_many(subject, BASIC.burst)
    assert subject.admit("basic-key", "pooled") == THROTTLED
    assert admit_many(subject, PREMIUM.burst, "premium-key") == [None] * PREMIUM.burst
    assert subject.admit("premium-key", "pooled") == THROTTLED
    # Platinum tenants share the Platinum key, but each deployment is its own plan instance.
    assert admit_many(subject, PLATINUM.burst, "platinum-key", "tenant-a") == (
        [None] * PLATINUM.burst)
    assert subject.admit("platinum-key", "tenant-a") == THROTTLED
    assert subject.admit("platinum-key", "tenant-b") is None


@pytest.mark.parametrize("key", [None, "", "a-key-no-plan-knows"])
def test_a_missing_or_unknown_key_is_forbidden(key: str | None) -> None:
    refusal = enforcer(FakeClock(NOON)).admit(key, "pooled")
    assert refusal == INVALID_API_KEY
    assert (refusal.status, refusal.body()) == (403, {"message": "Forbidden"})


def test_the_plans_follow_the_key_table_when_it_changes() -> None:
    key_plans = plans_by_key(KEYS)
    subject = UsagePlanEnforcer(key_plans.get, shared_deployments=SHARED,
                                clock=FakeClock(NOON))
    assert subject.admit("new-basic-key", "pooled") == INVALID_API_KEY
    key_plans.clear()
    key_plans.update(plans_by_key({**KEYS, "Basic": "new-basic-key"}))
    assert subject.admit("new-basic-key", "pooled") is None
    assert subject.admit("basic-key", "pooled") == INVALID_API_KEY


def test_plan_names_without_a_definition_name_no_plan() -> None:
    assert plans_by_key({"Basic": "k1", "Retired": "k2"}) == {"k1": BASIC}
