"""Product service: the tenant API for products (pooled or a Platinum silo, by configuration)."""

from __future__ import annotations

import functools

from chalice import Response

from chalicelib.product_catalog.products import ProductCatalog
from tenant_context.context import request_tenant
from tenant_context.http import CORS, json_response
from tenant_context.storage import TenantTables
from tenant_context.wiring import platform_app

platform = platform_app("product-service")
app = platform.app


@functools.cache
def catalog() -> ProductCatalog:
    return ProductCatalog(TenantTables.from_config(platform.config),
                          platform.config.require("PRODUCT_TABLE"))


@app.route("/products", methods=["GET"], authorizer=platform.authorizer, cors=CORS)
def list_products() -> Response:
    tenant = request_tenant(app.current_request)
    products = list(catalog().all_products(tenant))
    platform.observability.logger.info("products listed", extra={"count": len(products)})
    platform.observability.record(tenant, "ProductsListed", len(products))
    return json_response(products)
