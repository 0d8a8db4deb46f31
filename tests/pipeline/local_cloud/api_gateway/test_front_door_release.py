"""A release swaps a deployment's upstreams under the front door: the old ones are retired
(their requests in flight finish, no new request reaches them) and requests go to the new."""

from __future__ import annotations

import threading
import time

import requests

from pipeline.local_cloud.api_gateway.front_door import (
    MAX_IN_FLIGHT_PER_SERVICE,
    FrontDoor,
    RouteTable,
    Upstream,
)
from tests.support.echo_upstream import Upstreams


def test_retiring_waits_for_the_requests_in_flight() -> None:
    upstream = Upstream(("/",), 1, "admin")
    upstream.in_flight.acquire()  # a request being served
    retired = threading.Event()

    def retire() -> None:
        upstream.retire()
        retired.set()

    thread = threading.Thread(target=retire)
    thread.start()
    assert not retired.wait(0.3)  # still serving
    assert upstream.retired.is_set()  # but taking nothing new
    upstream.in_flight.release()
    assert retired.wait(5)
    thread.join()
    # Every permit is back: nothing is left holding the upstream.
    permits = [upstream.in_flight.acquire(blocking=False)
               for _ in range(MAX_IN_FLIGHT_PER_SERVICE)]
    assert all(permits)


def test_retiring_gives_up_waiting_after_its_timeout() -> None:
    upstream = Upstream(("/",), 1, "admin")
    upstream.in_flight.acquire()  # a request that never finishes
    started = time.monotonic()
    upstream.retire(timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2


def test_requests_go_to_the_new_upstream_and_never_to_a_retired_one() -> None:
    old, new = Upstreams(), Upstreams()
    for server in (old, new):
        server.thread.start()
    routes = RouteTable()
    routes.set("admin", (Upstream(("/",), old.port, "admin"),))
    front_door = FrontDoor(0, routes)
    front_door.start()
    try:
        url = f"{front_door.url}/admin/tenants"
        assert requests.get(url, timeout=10).status_code == 200
        (replaced,) = routes.set("admin", (Upstream(("/",), new.port, "admin"),))
        replaced.retire()
        assert requests.get(url, timeout=10).status_code == 200
        assert (len(old.hits), len(new.hits)) == (1, 1)

        # A retired upstream still routed (a bug, not a release) is refused, not waited on.
        (current,) = routes.set("admin", (Upstream(("/",), new.port, "admin"),))
        routes.set("admin", (current,))
        current.retire()
        refused = requests.get(url, timeout=10)
        assert refused.status_code == 502
        assert refused.json() == {"message": "The service behind this route is being replaced"}
        assert len(new.hits) == 1
    finally:
        front_door.stop()
        for server in (old, new):
            server.server.shutdown()
            server.server.server_close()
