"""Metering in the request path, through a real app: the product service loaded with a usage
table, called with real tokens through Chalice's local gateway (the real built-in authorizer),
writing real DynamoDB items; its meter flushed, the usage table read back.

A request is counted once, under its tenant, route template and status; its DynamoDB write
units are what the emulator reported (moto: 1 per write), and the tenant's stored items and
bytes follow its creates, replaces and deletes exactly; a tenant that did not call has nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from chalice.test import Client, HTTPResponse

from pipeline.project import PROJECT_ROOT
from tenant_context.attribute_values import item_size, to_item
from tenant_context.config import Env
from tenant_context.platform.definitions import USAGE_TABLE, data_table
from tenant_context.platform.usage_records import UsageRecords
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.chalice_apps import load_app, loaded_module
from tests.support.world import World

METERED_APP = "product-metered"
PRODUCTS = data_table(TENANT_SERVICES.named("product"), POOLED_DEPLOYMENT).name


@pytest.fixture(scope="module")
def metered(baseline: object) -> Iterator[tuple[Client, UsageMeter]]:
    app = load_app("product_service", name=METERED_APP, overrides={
        Env.USAGE_TABLE: USAGE_TABLE.name, Env.USAGE_FLUSH_SECONDS: "3600"})
    meter = loaded_module(METERED_APP).platform.usage
    assert isinstance(meter, UsageMeter)
    with Client(app, stage_name="local", project_dir=str(PROJECT_ROOT / "product_service")
                ) as client:
        yield client, meter
    meter.flush()  # nothing left for the interpreter's exit


def call(client: Client, method: str, path: str, token: str, body: str = "") -> HTTPResponse:
    return client.http.request(method, path, body=body.encode(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def test_each_request_is_metered_to_its_tenant_route_status_capacity_and_storage(
        world: World, metered: tuple[Client, UsageMeter]) -> None:
    client, meter = metered
    mine, theirs, idle = (world.pooled_tenant(tier)
                          for tier in (Tier.BASIC, Tier.PREMIUM, Tier.STANDARD))
    token = world.id_token(world.tenant_user(mine, Role.TENANT_USER))
    other = world.id_token(world.tenant_user(theirs, Role.TENANT_USER))
    start = datetime.now(UTC) - timedelta(hours=1)
    meter.flush()

    created = [call(client, "POST", "/product", token, f'{{"name": "p{n}", "price": {n}}}')
               for n in range(2)]
    assert [response.status_code for response in created] == [201, 201]
    keys = [response.json_body["key"] for response in created]
    assert call(client, "GET", "/products", token).status_code == 200
    assert call(client, "GET", f"/product/{keys[0]}", token).status_code == 200
    replaced = call(client, "PUT", f"/product/{keys[0]}", token,
                    '{"name": "a much longer name than before", "price": 10}')
    assert replaced.status_code == 200
    assert call(client, "DELETE", f"/product/{keys[1]}", token).status_code == 200
    assert call(client, "GET", f"/product/{keys[1]}", token).status_code == 404
    assert call(client, "GET", "/products", other).status_code == 200
    assert call(client, "GET", "/products", "not-a-token").status_code == 401
    assert meter.pending_rows == 4  # two tenants, an hour and a day each
    assert meter.flush().ok
    end = datetime.now(UTC) + timedelta(hours=1)

    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    figures = records.totals(mine.tenant_id, start, end)
    assert dict(figures.requests) == {
        ("POST /product", 201): 2, ("GET /products", 200): 1, ("GET /product/{key}", 200): 1,
        ("PUT /product/{key}", 200): 1, ("DELETE /product/{key}", 200): 1,
        ("GET /product/{key}", 404): 1}
    assert figures.throttled == 0
    assert figures.write_units == Decimal(4)  # two puts, a replace, a delete: 1 each in moto
    # At least: 2 shard queries (1 each), 3 GetItems (0.5 each: the read, the version
    # before the PUT, the 404), plus the write gate's reads where its 1 s cache missed.
    assert Decimal("3.5") <= figures.read_units <= Decimal("5.5")
    assert figures.duration_ms > 0
    stored = world.clients.dynamodb.get_item(TableName=PRODUCTS, Key=to_item(
        {"shardId": keys[0].split(":")[0], "productId": keys[0].split(":")[1]}))["Item"]
    assert dict(figures.item_deltas) == {"product": 1}
    assert dict(figures.byte_deltas) == {"product": item_size(stored)}

    theirs_figures = records.totals(theirs.tenant_id, start, end)
    assert dict(theirs_figures.requests) == {("GET /products", 200): 1}
    assert theirs_figures.write_units == 0
    assert not theirs_figures.item_deltas
    assert records.totals(idle.tenant_id, start, end).request_count == 0
    assert [records.active_users(tenant.tenant_id, start, end)
            for tenant in (mine, theirs, idle)] == [1, 1, 0]
