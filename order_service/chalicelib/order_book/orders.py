"""Orders: what an order is, and that its lines name the tenant's own products.

Body: ``{orderName, orderProducts: [{productId, price, quantity}]}`` (1 to 100 lines; other
fields are ignored); ``price`` a non-negative number, ``quantity`` a positive whole number.
A line naming an unknown product, or another tenant's, is a 400 naming that line's field (the
same answer for both: another tenant's ids are not revealed).
Response: ``{key, shardId, orderId, orderName, orderProducts}`` with JSON numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tenant_context.errors import BadRequestError
from tenant_context.service.context import TenantContext
from tenant_context.service.item_resource import ItemResource
from tenant_context.service.tenant_items import StoredItem
from tenant_context.service.validation import BodySchema, ListOf, Number, Text
from tenant_context.tenant_services import TENANT_SERVICES

SERVICE = TENANT_SERVICES.named("order")
PRODUCTS = TENANT_SERVICES.serving("product")  # order lines name the tenant's products
ID = SERVICE.id_attribute
PRODUCT_ID = PRODUCTS.id_attribute


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    price: Decimal
    quantity: Decimal

    def stored(self) -> dict[str, Any]:
        return {PRODUCT_ID: self.product_id, "price": self.price, "quantity": self.quantity}


@dataclass(frozen=True)
class OrderBody:
    order_name: str
    order_products: tuple[OrderLine, ...]


LINE = BodySchema(OrderLine, (
    Text(PRODUCT_ID, max_length=64),
    Number("price", minimum=Decimal(0), maximum=Decimal(1_000_000_000)),
    Number("quantity", minimum=Decimal(1), maximum=Decimal(100_000), integer=True),
), ignore_unknown=True)
ORDER = BodySchema(OrderBody, (
    Text("orderName", max_length=256),
    ListOf("orderProducts", LINE, max_items=100),
), ignore_unknown=True)


def read_body(body: dict[str, Any], tenant: TenantContext, resource: ItemResource
              ) -> dict[str, Any]:
    """The order's stored fields from a request body, once every line names one of the
    tenant's products (read with the same scoped access as the orders)."""
    order = ORDER.read(body)
    products = resource.items_for(tenant, PRODUCTS)
    known = products.find(line.product_id for line in order.order_products)
    unknown = [f"orderProducts[{index}].{PRODUCT_ID}"
               for index, line in enumerate(order.order_products) if line.product_id not in known]
    if unknown:
        raise BadRequestError("; ".join(f"{field}: no such product" for field in unknown),
                              fields=unknown)
    return {"orderName": order.order_name,
            "orderProducts": [line.stored() for line in order.order_products]}


def view(order: StoredItem) -> dict[str, Any]:
    fields = order.attributes
    return {"key": str(order.key), "shardId": order.key.shard_id, ID: order.key.item_id,
            "orderName": fields.get("orderName", ""),
            "orderProducts": list(fields.get("orderProducts", []))}
