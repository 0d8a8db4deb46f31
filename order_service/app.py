"""Order service: the tenant API for orders (pooled or a Platinum silo, by configuration).

Routes only; what an order is lives in ``chalicelib.order_book.orders``; how a tenant's items
are handled, stored, listed and versioned in the layer (``item_resource``, ``tenant_items``).
"""

from __future__ import annotations

from chalice import Response

from chalicelib.order_book import orders
from tenant_context.service.chalice_app import platform_app
from tenant_context.service.item_resource import ItemResource

platform = platform_app(orders.SERVICE.app_name)
app = platform.app
authorized = platform.authorized
order = ItemResource(platform, orders.SERVICE, orders.view, orders.read_body)
order.publish_document(orders.ORDER)


@app.route("/orders", methods=["GET"], **authorized)
def list_orders() -> Response:
    return order.list()


@app.route("/order", methods=["POST"], **authorized)
def create_order() -> Response:
    return order.create()


@app.route("/order/{key}", methods=["GET"], **authorized)
def get_order(key: str) -> Response:
    return order.get(key)


@app.route("/order/{key}", methods=["PUT"], **authorized)
def update_order(key: str) -> Response:
    return order.replace(key)


@app.route("/order/{key}", methods=["DELETE"], **authorized)
def delete_order(key: str) -> Response:
    return order.delete(key)
