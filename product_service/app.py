"""Product service: the tenant API for products (pooled or a Platinum silo, by configuration).

Routes only; what a product is lives in ``chalicelib.product_catalog.products``, how a tenant's
items are stored, listed and versioned in ``tenant_context.items``.
"""

from __future__ import annotations

import functools
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.product_catalog import products
from tenant_context.context import TenantContext, request_tenant
from tenant_context.http import CORS, json_response
from tenant_context.items import TenantItems
from tenant_context.rest import expected_version, item_response, listing, paging
from tenant_context.storage import TenantTables
from tenant_context.validation import parse_json_object, validate
from tenant_context.wiring import platform_app

platform = platform_app("product-service")
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
    return request, tenant, tables().items(tenant, platform.config.require("PRODUCT_TABLE"),
                                           products.ID)


def body(request: Request) -> dict[str, Any]:
    return products.attributes(validate(parse_json_object(request.raw_body), products.FIELDS,
                                        ignore_unknown=True))


@app.route("/products", methods=["GET"], **authorized)
def list_products() -> Response:
    request, tenant, items = current()
    page = paging(request.query_params)
    found, next_token = items.page(*page) if page else (items.all(), None)
    platform.observability.logger.info("products listed", extra={"count": len(found)})
    platform.observability.record(tenant, "ProductsListed", len(found))
    return listing([products.view(item) for item in found], next_token, page is not None)


@app.route("/product", methods=["POST"], **authorized)
def create_product() -> Response:
    request, tenant, items = current()
    created = items.create(items.new_key(), body(request))
    platform.observability.record(tenant, "ProductCreated")
    return item_response(products.view(created), created, 201)


@app.route("/product/{key}", methods=["GET"], **authorized)
def get_product(key: str) -> Response:
    _, _, items = current()
    product = items.get(items.parse_key(key))
    return item_response(products.view(product), product)


@app.route("/product/{key}", methods=["PUT"], **authorized)
def update_product(key: str) -> Response:
    request, tenant, items = current()
    updated = items.replace(items.parse_key(key), body(request),
                            expected_version(request.headers))
    platform.observability.record(tenant, "ProductUpdated")
    return item_response(products.view(updated), updated)


@app.route("/product/{key}", methods=["DELETE"], **authorized)
def delete_product(key: str) -> Response:
    request, tenant, items = current()
    items.delete(items.parse_key(key), expected_version(request.headers))
    platform.observability.record(tenant, "ProductDeleted")
    return json_response({"message": "Product deleted"})
