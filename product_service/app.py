"""Product service: the tenant API for products (pooled or a Platinum silo, by configuration).

Routes only; what a product is lives in ``chalicelib.product_catalog.products``; how a tenant's
items are handled, stored, listed and versioned in the layer (``item_resource``, ``tenant_items``).
"""

from __future__ import annotations

from chalice import Response

from chalicelib.product_catalog import products
from tenant_context.service.chalice_app import platform_app
from tenant_context.service.item_resource import ItemResource

platform = platform_app(products.SERVICE.app_name)
app = platform.app
authorized = platform.authorized
product = ItemResource(platform, products.SERVICE, products.view, products.read_body)
product.publish_document(products.PRODUCT)


@app.route("/products", methods=["GET"], **authorized)
def list_products() -> Response:
    return product.list()


@app.route("/product", methods=["POST"], **authorized)
def create_product() -> Response:
    return product.create()


@app.route("/product/{key}", methods=["GET"], **authorized)
def get_product(key: str) -> Response:
    return product.get(key)


@app.route("/product/{key}", methods=["PUT"], **authorized)
def update_product(key: str) -> Response:
    return product.replace(key)


@app.route("/product/{key}", methods=["DELETE"], **authorized)
def delete_product(key: str) -> Response:
    return product.delete(key)
