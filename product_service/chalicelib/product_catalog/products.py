"""Product records as the tenant web app sees them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tenant_context.context import TenantContext
from tenant_context.storage import WRITE_SHARDS, TenantTables, all_shard_items

PARTITION_KEY = "shardId"


def to_product(item: dict[str, Any]) -> dict[str, Any]:
    """The contract's Product; ``key`` is what the web app puts in URLs."""
    return {"key": f"{item['shardId']}:{item['productId']}", "shardId": item["shardId"],
            "productId": item["productId"], "name": item.get("name", ""),
            "price": item.get("price", 0), "sku": item.get("sku", ""),
            "category": item.get("category", "")}


class ProductCatalog:
    def __init__(self, tables: TenantTables, table_name: str) -> None:
        self._tables = tables
        self._table_name = table_name

    def all_products(self, tenant: TenantContext) -> Iterator[dict[str, Any]]:
        table = self._tables.table(tenant, self._table_name, PARTITION_KEY)
        return (to_product(item) for item in all_shard_items(table, tenant.tenant_id,
                                                             WRITE_SHARDS))
