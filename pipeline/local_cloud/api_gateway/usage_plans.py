"""API Gateway's usage plans, enforced by the local front door (the emulator stores them only).

API Gateway applies a usage plan after the authorizer has named the caller's API key
(``usageIdentifierKey``, key source AUTHORIZER): a token bucket per key (capacity = the plan's
burst, refilled at its rate per second) and a request quota per key and day. This module is that
arithmetic, with the clock passed in so tests move time instead of sleeping, and with API
Gateway's gateway responses for a refusal:

- throttled (no token left): 429 ``{"message": "Too Many Requests"}`` (THROTTLED);
- quota used up for the day: 429 ``{"message": "Limit Exceeded"}`` (QUOTA_EXCEEDED), until
  00:00 UTC, when API Gateway's daily quota period starts again;
- a key no plan knows, or none at all: 403 ``{"message": "Forbidden"}`` (INVALID_API_KEY), as
  API Gateway answers on a method that requires an API key. Every authorized route of ours does:
  forwarding such a request unthrottled would hide a missing key that AWS would refuse.

Only admitted requests count against the quota, and a request refused by the quota takes no
token, so a refusal never costs the caller anything.

Which plan a key is on, and with what limits, is read from the emulated API Gateway itself
(``GatewayKeyPlans``): its usage plans, the keys linked to each and whether each key is enabled,
as API Gateway resolves them. Every tenant has a key of its own (issued at registration), so
each tenant has its own bucket and quota; changing a plan's limits in the emulator (as an
operator would in API Gateway) changes what the front door applies within seconds.

Plan instances: the pooled tier plans cover the admin API and every pooled tenant service's API
together (one bucket and one quota per key across them), while a Platinum tenant's own
deployment has a plan of its own. So the scope of the counters is one shared scope for the
deployments named in ``shared_deployments`` and the deployment itself for any other.

Counters live in the platform process's memory: a restart of ``make local`` starts them afresh
(API Gateway keeps the day's quota count).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tenant_context.platform.definitions import USAGE_PLANS, UsagePlan
from tenant_context.platform.tenant_api_keys import api_key_pages

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import UsagePlanTypeDef

SECONDS_PER_DAY = 86_400
SHARED_SCOPE = "pooled-plans"
KEY_PLANS_TTL_SECONDS = 5.0  # a plan's new limits or a disabled key apply within seconds
_UNLIMITED = 2**31 - 1  # a plan without a quota or throttle (ours all have both)
# Seconds since the epoch carry ~1e-7 s of float error: a token refilled after exactly 1/rate s
# must count as whole.
_TOKEN_TOLERANCE = 1e-6

Clock = Callable[[], float]  # seconds since the epoch (the quota day is a UTC day)
KeyPlans = Callable[[str], UsagePlan | None]  # API key value -> its plan (None: no plan)


@dataclass(frozen=True)
class Refusal:
    """A gateway response: what API Gateway answers instead of calling the integration."""
    status: int
    message: str
    error_type: str  # x-amzn-ErrorType, as API Gateway sends it

    def body(self) -> dict[str, str]:
        return {"message": self.message}


THROTTLED = Refusal(429, "Too Many Requests", "TooManyRequestsException")
QUOTA_EXCEEDED = Refusal(429, "Limit Exceeded", "LimitExceededException")
INVALID_API_KEY = Refusal(403, "Forbidden", "ForbiddenException")


class _Bucket:
    def __init__(self, capacity: float, now: float) -> None:
        self.tokens = capacity
        self.updated = now

    def refill(self, plan: UsagePlan, now: float) -> None:
        elapsed = max(0.0, now - self.updated)  # a clock stepping back refills nothing
        self.tokens = min(float(plan.burst), self.tokens + elapsed * plan.rate_per_second)
        self.updated = now


class _Quota:
    def __init__(self, day: int) -> None:
        self.day = day
        self.used = 0


class UsagePlanEnforcer:
    """Admits or refuses one request for an API key on a deployment; safe across threads."""

    def __init__(self, key_plans: KeyPlans, *, shared_deployments: Iterable[str],
                 clock: Clock = time.time) -> None:
        self._key_plans = key_plans
        self._shared = frozenset(shared_deployments)
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._quotas: dict[tuple[str, str], _Quota] = {}
        self._lock = threading.Lock()

    def scope_of(self, deployment: str) -> str:
        return SHARED_SCOPE if deployment in self._shared else deployment

    def admit(self, api_key: str | None, deployment: str) -> Refusal | None:
        """None when the request may go on; otherwise the gateway response to send."""
        plan = self._key_plans(api_key) if api_key else None
        if api_key is None or plan is None:
            return INVALID_API_KEY
        counters = (api_key, self.scope_of(deployment))
        now = self._clock()
        day = int(now // SECONDS_PER_DAY)  # the epoch starts at 00:00 UTC
        with self._lock:
            quota = self._quotas.get(counters)
            if quota is None or quota.day != day:
                quota = self._quotas[counters] = _Quota(day)
            if quota.used >= plan.quota_per_day:
                return QUOTA_EXCEEDED
            bucket = self._buckets.get(counters)
            if bucket is None:
                bucket = self._buckets[counters] = _Bucket(plan.burst, now)
            bucket.refill(plan, now)
            if bucket.tokens < 1 - _TOKEN_TOLERANCE:
                return THROTTLED
            bucket.tokens = max(0.0, bucket.tokens - 1)
            quota.used += 1
        return None


def plans_by_key(api_keys: Mapping[str, str],
                 plans: Mapping[str, UsagePlan] = USAGE_PLANS) -> dict[str, UsagePlan]:
    """Plan name -> key value, turned the way the gateway looks up (key -> plan); a key whose
    plan is not defined here belongs to no plan (so it is refused)."""
    return {key: plans[name] for name, key in api_keys.items() if name in plans}


class GatewayKeyPlans:
    """Key value -> its plan, as API Gateway resolves it: the gateway's usage plans, the keys
    linked to each, and only keys that exist and are enabled (a disabled key is refused, 403).

    Re-read every ``ttl`` seconds, and for a key it does not know unless the table was read
    after the request arrived: a tenant registered a moment ago is served at once, a disabled
    key is refused within ``ttl``. A key comes from the authorizer (a tenant's record), never
    from the caller, so a miss is a new key, not something a caller can repeat at will.
    """

    def __init__(self, apigateway: APIGatewayClient, *, ttl: float = KEY_PLANS_TTL_SECONDS,
                 clock: Clock = time.monotonic) -> None:
        self._apigateway = apigateway
        self._ttl = ttl
        self._clock = clock
        self._plans: dict[str, UsagePlan] = {}
        self._loaded_at: float | None = None  # when the table in use began to be read
        self._lock = threading.Lock()

    def __call__(self, api_key: str) -> UsagePlan | None:
        asked = self._clock()
        with self._lock:
            loaded = self._loaded_at
            stale = loaded is None or self._clock() - loaded >= self._ttl
            if stale or (api_key not in self._plans and loaded is not None and loaded < asked):
                self._loaded_at = self._clock()
                self._plans = self._load()
            return self._plans.get(api_key)

    def _load(self) -> dict[str, UsagePlan]:
        enabled = {key["id"]: key["value"] for key in api_key_pages(self._apigateway)
                   if key.get("enabled")}
        plans: dict[str, UsagePlan] = {}
        for page in self._apigateway.get_paginator("get_usage_plans").paginate():
            for listed in page.get("items", []):
                plan = _plan_of(listed)
                keys = self._apigateway.get_paginator("get_usage_plan_keys").paginate(
                    usagePlanId=listed["id"])
                plans |= {enabled[key["id"]]: plan for key_page in keys
                          for key in key_page.get("items", []) if key["id"] in enabled}
        return plans


def _plan_of(listed: UsagePlanTypeDef) -> UsagePlan:
    throttle, quota = listed.get("throttle", {}), listed.get("quota", {})
    return UsagePlan(listed.get("name", listed["id"]), quota.get("limit", _UNLIMITED),
                     throttle.get("rateLimit", float(_UNLIMITED)),
                     throttle.get("burstLimit", _UNLIMITED))
