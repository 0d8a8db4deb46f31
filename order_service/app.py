"""Order service: the tenant API for orders (pooled or a Platinum silo, by configuration)."""

from __future__ import annotations

import functools

from chalice import Response

from chalicelib.order_catalog.orders import OrderCatalog
from tenant_context.context import request_tenant
from tenant_context.http import CORS, json_response
from tenant_context.storage import TenantTables
from tenant_context.wiring import platform_app

platform = platform_app("order-service")
app = platform.app


@functools.cache
def order_catalog() -> OrderCatalog:
    return OrderCatalog(TenantTables.from_config(platform.config),
                          platform.config.require("ORDER_TABLE"))


@app.route("/orders", methods=["GET"], authorizer=platform.authorizer, cors=CORS)
def list_orders() -> Response:
    tenant = request_tenant(app.current_request)
    orders = list(order_catalog().all_orders(tenant))
    platform.observability.logger.info("orders listed", extra={"count": len(orders)})
    platform.observability.record(tenant, "OrdersListed", len(orders))
    return json_response(orders)
