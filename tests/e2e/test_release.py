"""A release on the local platform (``make deploy-pooled``, ``make deploy-tenants``, then ``make
release`` of a code change): new processes with the working tree's code take every route over,
and not one request fails while they do, pooled or Platinum. The platform runs from a committed
copy of the checkout, so the second test can change its code and release that."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, alive, running_platform
from pipeline.local_cloud.processes import free_port
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.checkouts import committed, copy_of_the_checkout
from tests.support.readme_commands import create_product, make, onboarded, products

pytestmark = pytest.mark.platform


class Traffic:
    """One caller listing its products over and over (20 a second: under every plan's rate)
    until stopped; every status it got."""

    def __init__(self, url: str, token: str) -> None:
        self.statuses: list[int] = []
        self._stop = threading.Event()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"

        def run() -> None:
            while not self._stop.wait(0.05):
                self.statuses.append(session.get(url, timeout=30).status_code)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join(timeout=60)
        return self.statuses


BASELINE_SERVICES = ("shared_services", *(service.folder for service in TENANT_SERVICES))


def pids(platform: RunningPlatform, tenant_id: str | None = None) -> dict[str, int]:
    """The admin and pooled services' pids, or those of a Platinum tenant's deployment."""
    return {name: pid for name, pid in platform.current_state()["pids"].items()
            if (name.startswith(f"{tenant_id}/") if tenant_id else name in BASELINE_SERVICES)}


@dataclass(frozen=True)
class Fleet:
    platform: RunningPlatform
    state: Path
    checkout: Path
    basic_token: str
    platinum: dict[str, str]
    platinum_token: str
    kept: str
    kept_silo: str

    def make(self, *arguments: str) -> str:
        return make(self.state, *arguments, root=self.checkout)

    def traffic(self) -> list[Traffic]:
        return [Traffic(f"{self.platform.pooled_api}/products", self.basic_token),
                Traffic(f"{self.platinum['tenant API']}/products", self.platinum_token)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    checkout = committed(copy_of_the_checkout(tmp_path_factory.mktemp("checkout")))
    state = tmp_path_factory.mktemp("state")
    with running_platform(state, free_port(), free_port(), root=checkout) as platform:
        basic = onboarded(state, "Release Basic", "Basic", root=checkout)
        platinum = onboarded(state, "Release Platinum", "Platinum", root=checkout)
        basic_token = platform.token(basic["tenant admin"], "Release Basic")
        platinum_token = platform.token(platinum["tenant admin"], "Release Platinum")
        yield Fleet(platform, state, checkout, basic_token, platinum, platinum_token,
                    create_product(platform.pooled_api, basic_token),
                    create_product(platinum["tenant API"], platinum_token))


def no_failed_request(traffic: list[Traffic]) -> None:
    time.sleep(0.5)
    for seen in [caller.stop() for caller in traffic]:
        assert len(seen) > 20  # it kept calling through the release
        assert set(seen) == {200}, seen  # not one request failed


def test_a_release_replaces_every_process_without_failing_a_request(fleet: Fleet) -> None:
    platform, platinum = fleet.platform, fleet.platinum
    pooled_before, silo_before = pids(platform), pids(platform, platinum["tenant id"])
    assert len(pooled_before) == 3
    assert len(silo_before) == 2

    traffic = fleet.traffic()
    time.sleep(0.5)
    released = fleet.make("deploy-pooled")
    assert "new processes: order_service, product_service, shared_services" in released
    released_tenants = fleet.make("deploy-tenants")
    assert platinum["tenant id"] in released_tenants
    no_failed_request(traffic)

    pooled_after, silo_after = pids(platform), pids(platform, platinum["tenant id"])
    assert set(pooled_after) == set(pooled_before)
    assert set(silo_after) == set(silo_before)
    assert not set(pooled_after.values()) & set(pooled_before.values())
    assert not set(silo_after.values()) & set(silo_before.values())
    assert not any(alive(pid) for pid in [*pooled_before.values(), *silo_before.values()])
    assert products(platform.pooled_api, fleet.basic_token) == [fleet.kept]
    assert products(platinum["tenant API"], fleet.platinum_token) == [fleet.kept_silo]


MARKER = "X-Release-Marker"


def marker(url: str, token: str) -> str | None:
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.headers.get(MARKER)


def test_make_release_rolls_a_code_change_out_to_pooled_and_platinum(fleet: Fleet) -> None:
    platform, platinum = fleet.platform, fleet.platinum
    pooled_url, silo_url = (f"{platform.pooled_api}/products",
                            f"{platinum['tenant API']}/products")
    assert marker(pooled_url, fleet.basic_token) is None
    responses = fleet.checkout / "layer" / "tenant_context" / "service" / "responses.py"
    source = responses.read_text()
    anchor = 'headers={"Content-Type": JSON, '  # json_response: every answer of the layer
    assert anchor in source
    responses.write_text(source.replace(anchor, f'headers={{"{MARKER}": "v2", "Content-Type": '
                                                f'JSON, ', 1))

    traffic = fleet.traffic()
    time.sleep(0.5)
    released = fleet.make("release")
    no_failed_request(traffic)

    release_id = re.search(r"^Release (\S+):$", released, re.MULTILINE)
    assert release_id is not None, released
    assert re.fullmatch(r"[0-9a-f]{12}-dirty-[0-9a-f]{8}", release_id[1])
    assert f"stack-{platinum['tenant id']}" in released
    assert "Release " + release_id[1] + ": 2 deployed in " in released  # pooled + Platinum
    # The new code serves both: the pooled deployment and the tenant's own.
    assert marker(pooled_url, fleet.basic_token) == "v2"
    assert marker(silo_url, fleet.platinum_token) == "v2"
    fleet_table = fleet.make("releases")
    for deployment in ("pooled", platinum["tenant id"]):
        (line,) = [line for line in fleet_table.splitlines() if line.startswith(deployment)]
        assert release_id[1] in line, fleet_table
        assert "deployed" in line, fleet_table

    before = pids(platform, platinum["tenant id"])
    again = fleet.make("release")
    assert "pooled already on this release" in " ".join(again.split())
    assert "nothing to deploy" in again
    assert pids(platform, platinum["tenant id"]) == before  # a no-op: nothing replaced
