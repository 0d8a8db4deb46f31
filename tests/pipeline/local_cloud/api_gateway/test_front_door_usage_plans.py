"""The front door applies usage plans after authorization, as API Gateway does: real HTTP on
loopback, a tiny real upstream, the real enforcer on a frozen clock, and an authorization step
the test decides (the real one is checked in ``test_authorization``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from pipeline.local_cloud.api_gateway.authorization import Authorized, GatewayRequest
from pipeline.local_cloud.api_gateway.front_door import FrontDoor, RouteTable
from pipeline.local_cloud.api_gateway.usage_plans import UsagePlanEnforcer, plans_by_key
from tenant_context.platform.definitions import USAGE_PLANS
from tests.support.clock import FakeClock
from tests.support.echo_upstream import Upstreams, routes

BASIC_BURST = USAGE_PLANS["Basic"].burst
KEYS = {"Basic": "basic-key", "Premium": "premium-key"}
CALLERS = {"Bearer basic": Authorized("basic-key"), "Bearer premium": Authorized("premium-key"),
           "Bearer keyless": Authorized(None), "Bearer unknown-key": Authorized("nobody's")}


@dataclass
class RecordingAuthorization:
    """Who the test says each token is; ``None`` for any other (the authorizer refuses)."""
    seen: list[GatewayRequest] = field(default_factory=list)

    def __call__(self, request: GatewayRequest) -> Authorized | None:
        self.seen.append(request)
        return CALLERS.get(request.authorization or "")


@dataclass
class Gateway:
    url: str
    upstream: Upstreams
    authorization: RecordingAuthorization

    def get(self, path: str, token: str | None = None, method: str = "GET"
            ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=10)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    upstream = Upstreams()
    upstream.thread.start()
    authorization = RecordingAuthorization()
    key_plans = plans_by_key(KEYS)
    enforcer = UsagePlanEnforcer(key_plans.get, shared_deployments=("admin", "pooled"),
                                 clock=FakeClock(1_800_000_000.0))  # frozen: nothing refills
    front_door = FrontDoor(0, routes(upstream.port), authorize=authorization,
                           usage_plans=enforcer)
    front_door.start()
    try:
        yield Gateway(front_door.url, upstream, authorization)
    finally:
        front_door.stop()
        upstream.server.shutdown()
        upstream.server.server_close()


def test_past_the_burst_the_gateway_answers_429_with_cors(gateway: Gateway) -> None:
    statuses = [gateway.get("/pooled/products?limit=5", "basic").status_code
                for _ in range(BASIC_BURST)]
    assert statuses == [200] * BASIC_BURST
    refused = gateway.get("/pooled/products?limit=5", "basic")
    assert refused.status_code == 429
    assert refused.json() == {"message": "Too Many Requests"}
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert len(gateway.upstream.hits) == BASIC_BURST  # the refused one never reached it
    # The authorizer was asked about the route's own API, method and path (no query).
    assert gateway.authorization.seen[-1] == GatewayRequest(
        "pooled-product", "GET", "/products", "Bearer basic")
    # Another key on the same deployment is untouched.
    assert gateway.get("/pooled/orders", "premium").status_code == 200


def test_the_admin_and_pooled_apis_draw_from_one_plan_but_a_platinum_deployment_does_not(
        gateway: Gateway) -> None:
    half = BASIC_BURST // 2
    assert {gateway.get("/admin/tenant/t1", "basic").status_code for _ in range(half)} == {200}
    assert {gateway.get("/pooled/orders", "basic").status_code
            for _ in range(BASIC_BURST - half)} == {200}
    assert gateway.get("/admin/tenant/t1", "basic").status_code == 429
    assert gateway.get("/tenant-x/products", "basic").status_code == 200
    assert gateway.authorization.seen[-1].api_id == "tenant-x-product"


def test_a_preflight_is_never_authorized_nor_metered(gateway: Gateway) -> None:
    for _ in range(BASIC_BURST + 1):
        gateway.get("/pooled/products", "basic")
    seen = len(gateway.authorization.seen)
    preflights = [gateway.get("/pooled/products", "basic", method="OPTIONS")
                  for _ in range(BASIC_BURST + 1)]
    assert {response.status_code for response in preflights} == {200}
    assert len(gateway.authorization.seen) == seen
    assert gateway.upstream.hits[-1] == ("OPTIONS", "/products")


def test_requests_the_authorizer_refuses_go_on_to_the_upstream_unmetered(
        gateway: Gateway) -> None:
    for token in (None, "forged"):
        answers = [gateway.get("/pooled/products", token) for _ in range(BASIC_BURST * 2)]
        assert {response.status_code for response in answers} == {200}  # the upstream's answer
    assert len(gateway.upstream.hits) == BASIC_BURST * 4
    assert gateway.authorization.seen[0].authorization is None


@pytest.mark.parametrize("token", ["keyless", "unknown-key"])
def test_an_authorized_caller_without_a_plan_is_forbidden(gateway: Gateway, token: str) -> None:
    response = gateway.get("/pooled/products", token)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert gateway.upstream.hits == []


def test_without_usage_plans_the_front_door_only_forwards() -> None:
    upstream = Upstreams()
    upstream.thread.start()
    front_door = FrontDoor(0, routes(upstream.port))
    front_door.start()
    try:
        answers = [requests.get(f"{front_door.url}/pooled/products", timeout=10,
                                headers={"Authorization": "Bearer basic"})
                   for _ in range(BASIC_BURST + 5)]
        assert {response.status_code for response in answers} == {200}
    finally:
        front_door.stop()
        upstream.server.shutdown()
        upstream.server.server_close()
    with pytest.raises(ValueError, match="both or neither"):
        FrontDoor(0, RouteTable(), authorize=RecordingAuthorization())
