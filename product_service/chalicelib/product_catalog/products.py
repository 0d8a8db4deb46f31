"""Products: what a product is, as the tenant web app sends and reads it.

Body: ``{name, price, sku, category}`` (other fields are ignored); ``price`` a non-negative
number. Response: ``{key, shardId, productId, name, price, sku, category}``; ``key`` is
``shardId:productId``, which the web app puts in URLs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from tenant_context.service.context import TenantContext
from tenant_context.service.item_resource import ItemResource
from tenant_context.service.tenant_items import StoredItem
from tenant_context.service.validation import BodySchema, Number, Text
from tenant_context.tenant_services import TENANT_SERVICES

SERVICE = TENANT_SERVICES.named("product")
ID = SERVICE.id_attribute


@dataclass(frozen=True)
class ProductBody:
    name: str
    price: Decimal
    sku: str = ""
    category: str = ""


PRODUCT = BodySchema(ProductBody, (
    Text("name", max_length=256),
    Number("price", minimum=Decimal(0), maximum=Decimal(1_000_000_000)),
    Text("sku", required=False, min_length=0, max_length=64),
    Text("category", required=False, min_length=0, max_length=64),
), ignore_unknown=True)


def read_body(body: dict[str, Any], tenant: TenantContext, resource: ItemResource
              ) -> dict[str, Any]:
    """A product's stored fields from a request body (unknown fields ignored), or a 400."""
    return asdict(PRODUCT.read(body))


def view(product: StoredItem) -> dict[str, Any]:
    fields = product.attributes
    return {"key": str(product.key), "shardId": product.key.shard_id,
            ID: product.key.item_id, "name": fields.get("name", ""),
            "price": fields.get("price", 0), "sku": fields.get("sku", ""),
            "category": fields.get("category", "")}
