"""A body not declared JSON (curl's ``-d`` sends ``application/x-www-form-urlencoded``) gets the
contract's 415 with CORS through the front door, on the admin API and on a tenant service, for
public and authorized routes alike; JSON with a charset, or no declared type, is accepted."""

from __future__ import annotations

import secrets

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform

pytestmark = pytest.mark.platform
FORM = "application/x-www-form-urlencoded"
REFUSED = {"message": f"Content-Type: {FORM} is not accepted: send application/json"}


def send(method: str, url: str, content_type: str | None, body: bytes,
         token: str | None = None) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, url, data=body, headers=headers, timeout=60)


def assert_refused(response: requests.Response) -> None:
    assert response.status_code == 415, response.text
    assert response.json() == REFUSED
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_form_bodies_are_415_with_cors_on_both_apis(platform: RunningPlatform) -> None:
    name = f"Typed {secrets.token_hex(3)}"
    body = f'{{"tenantName": "{name}", "tenantEmail": "t@typed.example", "tenantTier": "Basic"}}'
    registration = f"{platform.admin_api}/registration"
    assert_refused(send("POST", registration, FORM, b"tenantName=Acme&tenantTier=Basic"))
    staff = platform.token()
    assert_refused(send("POST", f"{platform.admin_api}/user", FORM, b"userName=x", staff))
    registered = send("POST", registration, "application/json; charset=utf-8", body.encode())
    assert registered.status_code == 201, registered.text
    tenant_id = registered.json()["tenantId"]
    admin = platform.token(f"tenant-admin-{tenant_id}", name)
    product = b'{"name": "Bolt", "price": 1.5, "sku": "B-1", "category": "hardware"}'
    assert_refused(send("POST", f"{platform.pooled_api}/product", FORM, product, admin))
    assert_refused(send("GET", f"{platform.pooled_api}/products", FORM, b"", admin))
    created = send("POST", f"{platform.pooled_api}/product", None, product, admin)
    assert created.status_code == 201, created.text  # no declared type: taken as JSON
