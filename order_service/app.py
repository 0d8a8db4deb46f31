"""Order service: the tenant API for orders (pooled or a Platinum silo, by configuration).

Routes only; what an order is lives in ``chalicelib.order_book.orders``, how a tenant's items
are stored, listed and versioned in ``tenant_context.items``.
"""

from __future__ import annotations

import functools
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.order_book import orders
from tenant_context.context import TenantContext, request_tenant
from tenant_context.http import CORS, json_response
from tenant_context.items import TenantItems
from tenant_context.rest import expected_version, item_response, listing, paging
from tenant_context.storage import TenantTables
from tenant_context.validation import parse_json_object, validate
from tenant_context.wiring import platform_app

platform = platform_app("order-service")
app = platform.app
authorized: dict[str, Any] = {"authorizer": platform.authorizer, "cors": CORS}


@functools.cache
def tables() -> TenantTables:
    return TenantTables.from_config(platform.config)


def current() -> tuple[Request, TenantContext, TenantItems]:
    request = app.current_request
    if request is None:
        raise RuntimeError("no request is being handled")
    tenant = request_tenant(request)
    return request, tenant, tables().items(tenant, platform.config.require("ORDER_TABLE"),
                                           orders.ID)


def body(request: Request, tenant: TenantContext) -> dict[str, Any]:
    values = validate(parse_json_object(request.raw_body), orders.FIELDS, ignore_unknown=True)
    products = tables().items(tenant, platform.config.require("PRODUCT_TABLE"),
                              orders.PRODUCT_ID)
    return orders.attributes(values, products)


@app.route("/orders", methods=["GET"], **authorized)
def list_orders() -> Response:
    request, tenant, items = current()
    page = paging(request.query_params)
    found, next_token = items.page(*page) if page else (items.all(), None)
    platform.observability.logger.info("orders listed", extra={"count": len(found)})
    platform.observability.record(tenant, "OrdersListed", len(found))
    return listing([orders.view(item) for item in found], next_token, page is not None)


@app.route("/order", methods=["POST"], **authorized)
def create_order() -> Response:
    request, tenant, items = current()
    created = items.create(items.new_key(), body(request, tenant))
    platform.observability.record(tenant, "OrderCreated")
    return item_response(orders.view(created), created, 201)


@app.route("/order/{key}", methods=["GET"], **authorized)
def get_order(key: str) -> Response:
    _, _, items = current()
    order = items.get(items.parse_key(key))
    return item_response(orders.view(order), order)


@app.route("/order/{key}", methods=["PUT"], **authorized)
def update_order(key: str) -> Response:
    request, tenant, items = current()
    updated = items.replace(items.parse_key(key), body(request, tenant),
                            expected_version(request.headers))
    platform.observability.record(tenant, "OrderUpdated")
    return item_response(orders.view(updated), updated)


@app.route("/order/{key}", methods=["DELETE"], **authorized)
def delete_order(key: str) -> Response:
    request, tenant, items = current()
    items.delete(items.parse_key(key), expected_version(request.headers))
    platform.observability.record(tenant, "OrderDeleted")
    return json_response({"message": "Order deleted"})
