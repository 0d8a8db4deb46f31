"""The front door tells the local deployer about every change an API accepted, so a
registration or a deactivation is acted on at once (real HTTP, a tiny real upstream)."""

from __future__ import annotations

import requests

from pipeline.local_cloud.api_gateway.front_door import FrontDoor
from tests.support.echo_upstream import Upstreams, routes


def test_accepted_changes_are_reported_with_their_deployment_and_nothing_else() -> None:
    upstream = Upstreams()  # answers 200 to GET, POST and OPTIONS; 501 to anything else
    upstream.thread.start()
    changes: list[str] = []
    front_door = FrontDoor(0, routes(upstream.port), after_change=changes.append)
    front_door.start()
    try:
        def call(method: str, path: str) -> int:
            return requests.request(method, f"{front_door.url}{path}", timeout=10).status_code

        assert call("GET", "/admin/tenants") == 200
        assert call("OPTIONS", "/admin/registration") == 200
        assert changes == []  # reads and preflights change nothing
        assert call("POST", "/admin/registration") == 200
        assert call("POST", "/pooled/product") == 200
        assert changes == ["admin", "pooled"]
        assert call("DELETE", "/admin/tenant/x") == 501  # refused by the API: no change
        assert call("POST", "/nowhere/x") == 404  # no API: no change
        assert changes == ["admin", "pooled"]
        assert upstream.hits == [("GET", "/tenants"), ("OPTIONS", "/registration"),
                                 ("POST", "/registration"), ("POST", "/product")]
    finally:
        front_door.stop()
        upstream.server.shutdown()
        upstream.server.server_close()
