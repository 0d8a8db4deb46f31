"""The platform started the way ``make local`` starts it, over real HTTP on loopback.

Each test starts ``python -m pipeline.local.platform`` with its own state folder and ports,
and stops it with SIGINT (Ctrl-C); ``running_platform`` fails if any pid it started is left.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from pipeline.local.processes import free_port
from pipeline.local.runner import RunningPlatform, running_platform

pytestmark = pytest.mark.platform


def test_smoke_admin_api_through_the_authorizer(tmp_path: Path) -> None:
    with running_platform(tmp_path, free_port(), free_port()) as platform:
        admin_api = platform.admin_api
        anonymous = requests.get(f"{admin_api}/tenants", timeout=30)
        assert anonymous.status_code == 401
        assert anonymous.headers["Access-Control-Allow-Origin"] == "*"
        token = platform.token()
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
        tenant_token = platform.token(admin_name, "Restart Co")
        assert _products(platform, tenant_token) == [kept]


def _products(platform: RunningPlatform, token: str) -> list[str]:
    response = requests.get(f"{platform.pooled_api}/products", timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return [product["productId"] for product in response.json()]
