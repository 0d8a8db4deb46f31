"""The 429s the front door answers itself are metered to the tenant the authorizer named,
under the route template it learns from the app's own OpenAPI document: a real loopback app
serving a document, the real meter and the session's emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.local_cloud.api_gateway.authorization import Authorized
from pipeline.local_cloud.api_gateway.front_door import Route, ThrottleMeter, Upstream
from pipeline.local_cloud.api_gateway.route_templates import RouteTemplates
from pipeline.local_cloud.processes import LOOPBACK
from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.platform.usage_records import UsageRecords
from tenant_context.service.context import TenantContext
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, Tier, new_tenant_id
from tests.support.world import World

DOCUMENT = {"openapi": "3.0.3", "paths": {"/products": {}, "/product": {},
                                          "/product/{key}": {}}}


@pytest.fixture
def app_port() -> Iterator[int]:
    """An app serving its document at /products/openapi.json."""

    class App(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:
            body = json.dumps(DOCUMENT).encode()
            self.send_response(200 if self.path == "/products/openapi.json" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((LOOPBACK, 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_route_template_comes_from_the_apps_document(app_port: int) -> None:
    templates = RouteTemplates()
    upstream = Upstream(("/product",), app_port, "pooled-product", "/products/openapi.json")
    assert templates.route(upstream, "GET", "/product/abc:def") == "GET /product/{key}"
    assert templates.route(upstream, "GET", "/products?limit=3") == "GET /products"
    assert templates.route(upstream, "POST", "/product") == "POST /product"
    assert templates.route(upstream, "GET", "/product/a/b") == "GET (no route)"
    without = Upstream(("/product",), app_port, "pooled-product")
    assert templates.route(without, "GET", "/products") == "GET (no route)"
    gone = Upstream(("/product",), 1, "pooled-product", "/products/openapi.json")
    assert templates.route(gone, "GET", "/products") == "GET (no route)"


def context(tenant_id: str, role: Role, tier: Tier | None) -> dict[str, str]:
    return TenantContext(tenant_id, tier, "someone", role, "pool", None).to_authorizer_context()


def test_a_throttled_request_is_metered_to_the_tenant_the_authorizer_named(
        app_port: int, world: World) -> None:
    meter = UsageMeter(world.clients.dynamodb, USAGE_TABLE.name)
    throttles = ThrottleMeter(meter)
    upstream = Upstream(("/product",), app_port, "pooled-product", "/products/openapi.json")
    route = Route("pooled", upstream, "/product/abc")
    tenant, staff = new_tenant_id(), OPERATIONS_TENANT_ID
    start = datetime.now(UTC) - timedelta(hours=1)
    for _ in range(3):
        throttles.throttled(route, "GET", Authorized(
            "key", {"context": context(tenant, Role.TENANT_USER, Tier.BASIC)}))
    throttles.throttled(route, "GET", Authorized(
        "key", {"context": context(staff, Role.SYSTEM_ADMIN, None)}))  # staff: no tenant's
    throttles.throttled(route, "GET", Authorized("key", {"context": {"tenantId": "forged"}}))
    throttles.throttled(route, "GET", None)  # the authorizer failed: nobody to bill
    assert meter.pending_rows == 2  # the tenant's hour and day, nothing else
    assert meter.flush().ok
    figures = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name).totals(
        tenant, start, datetime.now(UTC) + timedelta(hours=1))
    assert dict(figures.requests) == {("GET /product/{key}", 429): 3}
    assert figures.throttled == 3
