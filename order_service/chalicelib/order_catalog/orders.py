"""Order records as the tenant web app sees them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tenant_context.context import TenantContext
from tenant_context.storage import WRITE_SHARDS, TenantTables, all_shard_items

PARTITION_KEY = "shardId"


def to_order(item: dict[str, Any]) -> dict[str, Any]:
    return {"key": f"{item['shardId']}:{item['orderId']}", "shardId": item["shardId"],
            "orderId": item["orderId"], "orderName": item.get("orderName", ""),
            "orderProducts": list(item.get("orderProducts", []))}


class OrderCatalog:
    def __init__(self, tables: TenantTables, table_name: str) -> None:
        self._tables = tables
        self._table_name = table_name

    def all_orders(self, tenant: TenantContext) -> Iterator[dict[str, Any]]:
        table = self._tables.table(tenant, self._table_name, PARTITION_KEY)
        return (to_order(item) for item in all_shard_items(table, tenant.tenant_id,
                                                           WRITE_SHARDS))
