"""Products: what a product is, as the tenant web app sends and reads it.

Body: ``{name, price, sku, category}`` (other fields are ignored); ``price`` a non-negative
number. Response: ``{key, shardId, productId, name, price, sku, category}``; ``key`` is
``shardId:productId``, which the web app puts in URLs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tenant_context.context import TenantContext
from tenant_context.items import StoredItem
from tenant_context.validation import Number, Text, validate

ID = "productId"
FIELDS = (
    Text("name", max_length=256),
    Number("price", minimum=Decimal(0), maximum=Decimal(1_000_000_000)),
    Text("sku", required=False, min_length=0, max_length=64),
    Text("category", required=False, min_length=0, max_length=64),
)


def read_body(body: dict[str, Any], tenant: TenantContext, resource: Any) -> dict[str, Any]:
    """A product's fields from a request body (unknown fields ignored), or a 400."""
    values = validate(body, FIELDS, ignore_unknown=True)
    return {"name": values["name"], "price": values["price"], "sku": values.get("sku", ""),
            "category": values.get("category", "")}


def view(product: StoredItem) -> dict[str, Any]:
    fields = product.attributes
    return {"key": str(product.key), "shardId": product.key.shard_id,
            "productId": product.key.item_id, "name": fields.get("name", ""),
            "price": fields.get("price", 0), "sku": fields.get("sku", ""),
            "category": fields.get("category", "")}
