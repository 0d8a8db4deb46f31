"""Metrics cost the same at 10 tenants as at 10,000: on the running platform, every EMF record
any process emits has low-cardinality dimensions only (service, tier), never a tenant id, and
every one names its tenant as a property (what Logs Insights and Contributor Insights rank).

A few calls of each API (the admin API, the pooled tenant API, a Platinum tenant's own API) go
through the front door; the records are read from every process's log, where ``chalice local``
writes what a function prints (CloudWatch Logs receives the same lines from Lambda).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform
from tenant_context.tenancy import OPERATIONS_TENANT_ID, is_tenant_id
from tests.support.readme_commands import PRODUCT, call

pytestmark = pytest.mark.platform
DIMENSIONS = ("service", "tier")


def emf_records(logs: Path) -> list[dict[str, Any]]:
    """Every EMF record in every log of the platform (one JSON object per line)."""
    records = []
    for log in sorted(logs.glob("*.log")):
        for line in log.read_text().splitlines():
            if line.startswith("{") and '"_aws"' in line:
                record = json.loads(line)
                records.append({**record, "log": log.name})
    return records


def dimensions(record: dict[str, Any]) -> list[str]:
    return [name for group in record["_aws"]["CloudWatchMetrics"]
            for dimension_set in group["Dimensions"] for name in dimension_set]


def register(platform: RunningPlatform, tier: str) -> tuple[str, str]:
    name = f"Metered {tier} {secrets.token_hex(3)}"
    registered = requests.post(f"{platform.admin_api}/registration", timeout=60, json={
        "tenantName": name, "tenantEmail": "m@metered.example", "tenantTier": tier})
    assert registered.status_code == 201, registered.text
    return name, str(registered.json()["tenantId"])


def tenant_api(platform: RunningPlatform, name: str) -> str:
    """The tenant's API URL once it is served (a Platinum tenant's deployment takes a moment)."""
    deadline = time.monotonic() + 60
    while True:
        init = requests.get(f"{platform.admin_api}/tenant/init/{name}", timeout=30)
        if init.status_code == 200:
            return str(init.json()["apiGatewayUrl"])
        assert (init.status_code, init.json().get("status")) == (409, "provisioning"), init.text
        assert time.monotonic() < deadline, "the tenant's deployment did not come up"
        time.sleep(0.3)


def shop(api: str, token: str) -> None:
    """What a tenant's users do: a product, an order of it, both listings."""
    product = call("POST", f"{api}/product", token, PRODUCT)
    assert product.status_code == 201, product.text
    order = call("POST", f"{api}/order", token, {"orderName": "metered", "orderProducts": [
        {"productId": product.json()["productId"], "price": 5, "quantity": 1}]})
    assert order.status_code == 201, order.text
    for listing in ("products", "orders"):
        assert call("GET", f"{api}/{listing}", token).status_code == 200


def test_no_metric_dimension_carries_a_tenant_and_every_record_names_one(
        platform: RunningPlatform) -> None:
    admin = platform.token()
    assert call("GET", f"{platform.admin_api}/tenants", admin).status_code == 200
    tenants = {}
    for tier in ("Basic", "Platinum"):
        name, tenant_id = register(platform, tier)
        token = platform.token(f"tenant-admin-{tenant_id}", name)
        shop(tenant_api(platform, name), token)
        assert call("GET", f"{platform.admin_api}/tenant/{tenant_id}", token).status_code == 200
        assert call("GET", f"{platform.admin_api}/users", token).status_code == 200
        tenants[tier] = tenant_id

    records = emf_records(platform.state_dir / "logs")
    services = {record.get("service") for record in records}
    assert {"shared-services", "product-service", "order-service"} <= services
    silo_logs = {record["log"] for record in records if tenants["Platinum"] in record["log"]}
    assert silo_logs == {f"product_service-{tenants['Platinum']}.log",
                         f"order_service-{tenants['Platinum']}.log"}  # its own processes

    wrong_dimensions = [(record["log"], dimensions(record)) for record in records
                        if tuple(sorted(dimensions(record))) != DIMENSIONS]
    assert wrong_dimensions == []
    tenant_valued = [(record["log"], name, record[name]) for record in records
                     for name in dimensions(record)
                     if is_tenant_id(record[name]) or re.search("[0-9a-f]{32}", record[name])]
    assert tenant_valued == []
    unnamed = [record for record in records
               if not (is_tenant_id(record.get("tenant_id"))
                       or record.get("tenant_id") == OPERATIONS_TENANT_ID)]
    assert unnamed == []

    def named(tenant_id: str) -> set[str]:
        return {name for record in records if record["tenant_id"] == tenant_id
                for name in record if name[:1].isupper()}

    for tenant_id in tenants.values():
        assert {"TenantRegistered", "ProductCreated", "OrderCreated", "ProductsListed",
                "OrdersListed", "TenantRead", "UsersListed"} <= named(tenant_id)
    assert "TenantsListed" in named(OPERATIONS_TENANT_ID)
