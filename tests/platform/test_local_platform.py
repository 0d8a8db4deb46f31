"""The platform started the way ``make local`` starts it, over real HTTP on loopback.

Each test starts ``python -m pipeline.local.platform`` with its own state folder and ports,
and stops it with SIGINT (Ctrl-C); every pid it started must be gone afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from pipeline.local.login import resolve_pool, sign_in
from pipeline.local.paths import PROJECT_ROOT
from pipeline.local.processes import free_port
from tenant_context.dynamo import to_item
from tenant_context.invitations import CredentialsFile
from tenant_context.resources import POOLED_PRODUCT_TABLE

pytestmark = pytest.mark.platform


@dataclass
class RunningPlatform:
    state: dict[str, Any]
    state_dir: Path
    output: str

    def clients(self) -> Any:
        session = boto3.session.Session(aws_access_key_id="local",
                                        aws_secret_access_key="local", region_name="us-east-1")
        return lambda service: session.client(service, endpoint_url=self.state["emulatorUrl"])

    def token(self, user_name: str = "admin", tenant_name: str | None = None) -> str:
        clients = self.clients()
        pool = resolve_pool(clients("dynamodb"), tenant_name)
        return sign_in(clients("cognito-idp"), pool, user_name,
                       CredentialsFile(self.state_dir / "credentials.json"))["IdToken"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def local_platform(state_dir: Path, emulator_port: int,
                   gateway_port: int) -> Iterator[RunningPlatform]:
    env = {**os.environ, "LOCAL_STATE_DIR": str(state_dir), "EMULATOR_PORT": str(emulator_port),
           "GATEWAY_PORT": str(gateway_port)}
    for name in ("AWS_ENDPOINT_URL", "TENANT_AUTHORIZER", "LOCAL_GATEWAY_API_ID"):
        env.pop(name, None)  # the platform sets what its processes need
    process = subprocess.Popen([sys.executable, "-m", "pipeline.local.platform"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    state_file = state_dir / "platform.json"
    deadline = time.monotonic() + 90
    pids: list[int] = [process.pid]
    try:
        while not state_file.exists():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the platform did not start within 90 s"
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        pids += list(state["pids"].values())
        yield RunningPlatform(state, state_dir, "")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        assert "Stopped." in output, output
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pids if _alive(pid)], "processes left behind"
        assert not state_file.exists()


def test_smoke_admin_api_through_the_authorizer(tmp_path: Path) -> None:
    with local_platform(tmp_path, free_port(), free_port()) as platform:
        admin_api = platform.state["adminApiUrl"]
        anonymous = requests.get(f"{admin_api}/tenants", timeout=30)
        assert anonymous.status_code == 401
        assert anonymous.headers["Access-Control-Allow-Origin"] == "*"
        token = platform.token()
        response = requests.get(f"{admin_api}/tenants", timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json() == []
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        pooled = requests.get(f"{platform.state['pooledApiUrl']}/products", timeout=30,
                              headers={"Authorization": f"Bearer {token}"})
        assert pooled.status_code == 403  # staff have no business in tenant data
        unknown = requests.get(f"{platform.state['adminApiUrl'][:-6]}/nowhere/x", timeout=30)
        assert unknown.status_code == 404


def test_restart_keeps_tenants_users_and_items(tmp_path: Path) -> None:
    emulator_port, gateway_port = free_port(), free_port()
    with local_platform(tmp_path, emulator_port, gateway_port) as platform:
        platform.token()  # the admin's first login: its password changes
        registered = requests.post(f"{platform.state['adminApiUrl']}/registration", timeout=30,
                                   json={"tenantName": "Restart Co", "tenantTier": "premium",
                                         "tenantEmail": "owner@restart.example"})
        assert registered.status_code == 201, registered.text
        tenant_id = registered.json()["tenantId"]
        admin_name = registered.json()["tenantAdminUserName"]
        tenant_token = platform.token(admin_name, "Restart Co")  # completes its first login
        product = {"shardId": f"{tenant_id}-4", "productId": "kept", "name": "Kept",
                   "price": 3, "sku": "K", "category": "c"}
        platform.clients()("dynamodb").put_item(TableName=POOLED_PRODUCT_TABLE.name,
                                                Item=to_item(product))
        assert _products(platform, tenant_token) == ["kept"]
    with local_platform(tmp_path, emulator_port, gateway_port) as platform:
        admin_token = platform.token()  # the changed password still works
        tenants = requests.get(f"{platform.state['adminApiUrl']}/tenants", timeout=30,
                               headers={"Authorization": f"Bearer {admin_token}"}).json()
        assert [(tenant["tenantId"], tenant["tenantName"], tenant["tenantTier"])
                for tenant in tenants] == [(tenant_id, "Restart Co", "Premium")]
        tenant_token = platform.token(admin_name, "Restart Co")
        assert _products(platform, tenant_token) == ["kept"]


def _products(platform: RunningPlatform, token: str) -> list[str]:
    response = requests.get(f"{platform.state['pooledApiUrl']}/products", timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return [product["productId"] for product in response.json()]
