"""A release on the local platform (``make deploy-pooled``, ``make deploy-tenants``): new
processes with the working tree's code take every route over, and not one request fails while
they do, pooled or Platinum."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, alive, running_platform
from pipeline.local_cloud.processes import free_port
from tenant_context.tenant_services import TENANT_SERVICES
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


def test_a_release_replaces_every_process_without_failing_a_request(tmp_path: Path) -> None:
    with running_platform(tmp_path, free_port(), free_port()) as platform:
        basic = onboarded(tmp_path, "Release Basic", "Basic")
        platinum = onboarded(tmp_path, "Release Platinum", "Platinum")
        basic_token = platform.token(basic["tenant admin"], "Release Basic")
        platinum_token = platform.token(platinum["tenant admin"], "Release Platinum")
        kept = create_product(platform.pooled_api, basic_token)
        kept_silo = create_product(platinum["tenant API"], platinum_token)
        pooled_before, silo_before = pids(platform), pids(platform, platinum["tenant id"])
        assert len(pooled_before) == 3
        assert len(silo_before) == 2

        traffic = [Traffic(f"{platform.pooled_api}/products", basic_token),
                   Traffic(f"{platinum['tenant API']}/products", platinum_token)]
        time.sleep(0.5)
        released = make(tmp_path, "deploy-pooled")
        assert "new processes: order_service, product_service, shared_services" in released
        released_tenants = make(tmp_path, "deploy-tenants")
        assert platinum["tenant id"] in released_tenants
        time.sleep(0.5)
        statuses = [caller.stop() for caller in traffic]

        for seen in statuses:
            assert len(seen) > 20  # it kept calling through both releases
            assert set(seen) == {200}, seen  # not one request failed
        pooled_after, silo_after = pids(platform), pids(platform, platinum["tenant id"])
        assert set(pooled_after) == set(pooled_before)
        assert set(silo_after) == set(silo_before)
        assert not set(pooled_after.values()) & set(pooled_before.values())
        assert not set(silo_after.values()) & set(silo_before.values())
        assert not any(alive(pid) for pid in [*pooled_before.values(), *silo_before.values()])
        assert products(platform.pooled_api, basic_token) == [kept]
        assert products(platinum["tenant API"], platinum_token) == [kept_silo]
