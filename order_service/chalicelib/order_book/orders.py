"""Orders: what an order is, and that its lines name the tenant's own products.

Body: ``{orderName, orderProducts: [{productId, price, quantity}]}`` (1 to 100 lines; other
fields are ignored); ``price`` a non-negative number, ``quantity`` a positive whole number.
A line naming an unknown product, or another tenant's, is a 400 naming that line's field (the
same answer for both: another tenant's ids are not revealed).
Response: ``{key, shardId, orderId, orderName, orderProducts}`` with JSON numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tenant_context.context import TenantContext
from tenant_context.errors import BadRequestError
from tenant_context.items import StoredItem
from tenant_context.rest import ItemResource
from tenant_context.validation import ListOf, Number, Text, validate

ID = "orderId"
PRODUCT_ID = "productId"
LINE = (Text(PRODUCT_ID, max_length=64),
        Number("price", minimum=Decimal(0), maximum=Decimal(1_000_000_000)),
        Number("quantity", minimum=Decimal(1), maximum=Decimal(100_000), integer=True))
FIELDS = (Text("orderName", max_length=256), ListOf("orderProducts", LINE, max_items=100))


def read_body(body: dict[str, Any], tenant: TenantContext, resource: ItemResource
              ) -> dict[str, Any]:
    """The order's fields from a request body, once every line names one of the tenant's
    products (read with the same scoped access as the orders)."""
    values = validate(body, FIELDS, ignore_unknown=True)
    products = resource.items_for(tenant, "PRODUCT_TABLE", PRODUCT_ID)
    lines = values["orderProducts"]
    known = products.find(line[PRODUCT_ID] for line in lines)
    unknown = [f"orderProducts[{index}].{PRODUCT_ID}" for index, line in enumerate(lines)
               if line[PRODUCT_ID] not in known]
    if unknown:
        raise BadRequestError("; ".join(f"{field}: no such product" for field in unknown),
                              fields=unknown)
    return {"orderName": values["orderName"],
            "orderProducts": [{PRODUCT_ID: line[PRODUCT_ID], "price": line["price"],
                               "quantity": line["quantity"]} for line in lines]}


def view(order: StoredItem) -> dict[str, Any]:
    fields = order.attributes
    return {"key": str(order.key), "shardId": order.key.shard_id, "orderId": order.key.item_id,
            "orderName": fields.get("orderName", ""),
            "orderProducts": list(fields.get("orderProducts", []))}
