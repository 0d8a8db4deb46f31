"""The platform started the way ``make local`` starts it, over real HTTP on loopback.

Each test starts ``python -m pipeline.local_cloud`` (``make local``) with its own state folder and
ports, and stops it with SIGINT (Ctrl-C); ``running_platform`` fails if any pid it started is left.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from pipeline.stacks.web_config import leaves
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME, USAGE_TABLE
from tenant_context.platform.usage_records import UsageRecords
from tests.support.readme_commands import make

pytestmark = pytest.mark.platform


@contextmanager
def platform_with_summary(state_dir: Path) -> Iterator[tuple[RunningPlatform, str]]:
    """``running_platform``, and the summary the platform printed for its user.

    The runner keeps the platform's output until it stops; the summary is read here, as it is
    printed, from the same pipe (with ``os.read``, below the runner's text buffer, so what the
    runner reads when the platform stops is untouched)."""
    started: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        process: subprocess.Popen[str] = real_popen(*args, **kwargs)
        started.append(process)
        return process

    with ExitStack() as stack:
        with mock.patch("pipeline.local_cloud.platform_runner.subprocess.Popen", recording_popen):
            platform = stack.enter_context(running_platform(state_dir, free_port(),
                                                            free_port()))
        assert started
        assert started[0].stdout is not None
        fd, printed, deadline = started[0].stdout.fileno(), b"", time.monotonic() + 30
        while b"Try it:" not in printed and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                printed += os.read(fd, 65536)
        yield platform, printed.decode()


def test_smoke_admin_api_through_the_authorizer(tmp_path: Path) -> None:
    with platform_with_summary(tmp_path) as (platform, summary):
        admin_api = platform.admin_api
        assert f"admin API          {admin_api}\n" in summary
        assert f"pooled tenant API  {platform.pooled_api}" in summary
        assert f"SystemAdmin        user '{SYSTEM_ADMIN_USER_NAME}', password " in summary
        web_config = json.loads(make(tmp_path, "web-config"))  # what make local printed
        values, ends = list(_values(web_config)), [line.split()[-1] for line in
                                                    summary.splitlines() if line.strip()]
        assert any(ends[start:start + len(values)] == values for start in range(len(ends)))
        anonymous = requests.get(f"{admin_api}/tenants", timeout=30)
        assert anonymous.status_code == 401
        assert anonymous.headers["Access-Control-Allow-Origin"] == "*"
        token = make(tmp_path, "token").strip()  # the README's command, as a user runs it
        assert token.count(".") == 2
        response = requests.get(f"{admin_api}/tenants", timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json() == []
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        pooled = requests.get(f"{platform.pooled_api}/products", timeout=30,
                              headers={"Authorization": f"Bearer {token}"})
        assert pooled.status_code == 403  # staff have no business in tenant data
        unknown = requests.get(f"{platform.admin_api[:-6]}/nowhere/x", timeout=30)
        assert unknown.status_code == 404


def test_restart_keeps_tenants_users_and_items(tmp_path: Path) -> None:
    emulator_port, gateway_port = free_port(), free_port()
    with running_platform(tmp_path, emulator_port, gateway_port) as platform:
        platform.token()  # the admin's first login: its password changes
        web_config = make(tmp_path, "web-config")
        registered = requests.post(f"{platform.admin_api}/registration", timeout=30,
                                   json={"tenantName": "Restart Co", "tenantTier": "premium",
                                         "tenantEmail": "owner@restart.example"})
        assert registered.status_code == 201, registered.text
        tenant_id = registered.json()["tenantId"]
        admin_name = registered.json()["tenantAdminUserName"]
        tenant_token = platform.token(admin_name, "Restart Co")  # completes its first login
        created = requests.post(f"{platform.pooled_api}/product", timeout=30,
                                headers={"Authorization": f"Bearer {tenant_token}"},
                                json={"name": "Kept", "price": 3, "sku": "K", "category": "c"})
        assert created.status_code == 201, created.text
        kept = created.json()["productId"]
        assert _products(platform, tenant_token) == [kept]
    with running_platform(tmp_path, emulator_port, gateway_port) as platform:
        admin_token = platform.token()  # the changed password still works
        tenants = requests.get(f"{platform.admin_api}/tenants", timeout=30,
                               headers={"Authorization": f"Bearer {admin_token}"}).json()
        assert [(tenant["tenantId"], tenant["tenantName"], tenant["tenantTier"])
                for tenant in tenants] == [(tenant_id, "Restart Co", "Premium")]
        # Its usage was written as the platform stopped (the apps flush on SIGTERM, well
        # before the 10 s flush was due), and the restart replayed it.
        usage = UsageRecords(platform.aws.dynamodb, USAGE_TABLE.name).totals(
            tenant_id, datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))
        assert dict(usage.requests) == {("POST /product", 201): 1, ("GET /products", 200): 1}
        assert dict(usage.item_deltas) == {"product": 1}
        tenant_token = platform.token(admin_name, "Restart Co")
        assert _products(platform, tenant_token) == [kept]
        assert make(tmp_path, "web-config") == web_config  # the web apps' files stay right


def _values(web_config: dict[str, Any]) -> Iterator[str]:
    """Every value of ``make web-config``'s JSON, in its order."""
    for files in web_config.values():
        for keys in files.values():
            yield from (str(value) for _, value in leaves(keys))


def _products(platform: RunningPlatform, token: str) -> list[str]:
    response = requests.get(f"{platform.pooled_api}/products", timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return [product["productId"] for product in response.json()]
