"""Sign-up limits in the front door: per source address and overall, over a sliding window
(moved by a fake clock, no sleeps), refused with 429 + Retry-After + CORS before the admin API
hears of the request; other routes and methods are never limited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from pipeline.local_cloud.api_gateway.front_door import FrontDoor
from pipeline.local_cloud.api_gateway.signup_limits import SignupGate, SignupLimiter
from tenant_context.config import (
    DEFAULT_SIGNUP_RATE_PER_ADDRESS,
    DEFAULT_SIGNUP_RATE_TOTAL,
    DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
    Env,
    PlatformConfig,
    SignupLimits,
)
from tenant_context.errors import ConfigurationError
from tests.support.clock import FakeClock
from tests.support.echo_upstream import Upstreams, routes

LIMITS = SignupLimits(per_address=3, total=5, window_seconds=60)


def test_each_address_gets_its_own_limit_within_the_window() -> None:
    clock = FakeClock(1_000.0)
    limiter = SignupLimiter(LIMITS, clock)
    for _ in range(3):
        assert limiter.admit("10.0.0.1") is None
        clock.advance(1)
    refused = limiter.admit("10.0.0.1")  # t=1003
    assert refused is not None
    assert refused.refusal.status == 429
    assert refused.headers()["Retry-After"] == "57"  # the first (t=1000) leaves at t=1060
    assert limiter.admit("10.0.0.2") is None  # another address is not affected
    clock.advance(56.5)
    assert limiter.admit("10.0.0.1").headers()["Retry-After"] == "1"  # type: ignore[union-attr]
    clock.advance(0.5)  # the first sign-up leaves the window: room for exactly one
    assert limiter.admit("10.0.0.1") is None
    assert limiter.admit("10.0.0.1") is not None


def test_the_total_limit_holds_across_addresses() -> None:
    clock = FakeClock(0.0)
    limiter = SignupLimiter(LIMITS, clock)
    for index in range(5):
        clock.advance(10)
        assert limiter.admit(f"10.0.0.{index}") is None
    refused = limiter.admit("10.0.0.99")  # a fresh address, but the platform's total is full
    assert refused is not None
    assert refused.headers()["Retry-After"] == "20"  # now t=50; the one of t=10 leaves at 70
    clock.advance(20)
    assert limiter.admit("10.0.0.99") is None


def test_refusals_do_not_count() -> None:
    """A client retrying while refused never pushes its own wait further out."""
    clock = FakeClock(0.0)
    limiter = SignupLimiter(SignupLimits(per_address=1, total=10, window_seconds=60), clock)
    assert limiter.admit("a") is None
    for _ in range(50):
        clock.advance(1)
        assert limiter.admit("a") is not None
    clock.advance(10)
    assert limiter.admit("a") is None


def test_settings_come_from_the_environment_with_documented_defaults() -> None:
    assert SignupLimits.from_config(PlatformConfig({})) == SignupLimits(
        DEFAULT_SIGNUP_RATE_PER_ADDRESS, DEFAULT_SIGNUP_RATE_TOTAL,
        DEFAULT_SIGNUP_RATE_WINDOW_SECONDS)
    assert SignupLimits.from_config(PlatformConfig({
        Env.SIGNUP_RATE_PER_ADDRESS: "2", Env.SIGNUP_RATE_TOTAL: "7",
        Env.SIGNUP_RATE_WINDOW_SECONDS: "30", Env.PENDING_PLATINUM_CAP: "4"})) == \
        SignupLimits(2, 7, 30, 4)


@pytest.mark.parametrize("raw", ["0", "-1", "ten", "١٢", "1.5", "99999999999"])
def test_a_bad_setting_stops_the_start_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SIGNUP_RATE_TOTAL must be a whole number"):
        SignupLimits.from_config(PlatformConfig({Env.SIGNUP_RATE_TOTAL: raw}))


@pytest.fixture
def door() -> Iterator[tuple[FrontDoor, Upstreams, FakeClock]]:
    upstream = Upstreams()
    upstream.thread.start()
    clock = FakeClock(0.0)
    limiter = SignupLimiter(SignupLimits(per_address=2, total=2, window_seconds=300), clock)
    front_door = FrontDoor(0, routes(upstream.port), signups=SignupGate(limiter, "admin"))
    front_door.start()
    try:
        yield front_door, upstream, clock
    finally:
        front_door.stop()
        upstream.server.shutdown()
        upstream.server.server_close()


def test_the_front_door_refuses_past_the_limit_before_the_admin_api(
        door: tuple[FrontDoor, Upstreams, FakeClock]) -> None:
    front_door, upstream, clock = door
    url = f"{front_door.url}/admin/registration"
    assert [requests.post(url, json={}, timeout=10).status_code for _ in range(2)] == [200, 200]
    refused = requests.post(url, json={}, timeout=10)
    assert refused.status_code == 429
    assert refused.json() == {"message": "Too Many Requests"}
    assert refused.headers["Retry-After"] == "300"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert upstream.hits == [("POST", "/registration")] * 2  # the third never reached it
    # Other routes, a preflight and the other APIs are not sign-ups.
    assert requests.get(f"{front_door.url}/admin/tenant/init/x", timeout=10).status_code == 200
    assert requests.options(url, timeout=10).status_code == 200
    assert requests.post(f"{front_door.url}/admin/registrations", timeout=10).status_code == 200
    assert requests.get(f"{front_door.url}/pooled/products", timeout=10).status_code == 200
    clock.advance(300)
    assert requests.post(url, json={}, timeout=10).status_code == 200
