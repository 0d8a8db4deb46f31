"""GET /products' data access: ours (every shard in parallel, every page) against the design
we re-create (9 parallel single-page queries), same emulator, same run.

Counts DynamoDB requests and times the listing of 1,000 products (~200 bytes each), then shows
what each returns for 1,000 products of ~12 KB (past DynamoDB's 1 MB page in each old shard),
where the old way silently drops items. Figures are printed, not asserted.
"""

from __future__ import annotations

import functools
import os
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3

from pipeline.local_cloud.provisioning.baseline_bootstrap import ensure_tables
from tenant_context.attribute_values import to_item
from tenant_context.config import Env
from tenant_context.platform.definitions import data_table
from tenant_context.service.context import ScopedCredentials, TenantContext
from tenant_context.service.sharding import SHARDS, shard_key, shard_of
from tenant_context.service.tenant_items import TenantItems
from tenant_context.service.tenant_tables import Isolation, TenantTables
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, Tier, new_tenant_id
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.counting import CallCounter
from tests.support.moto_server import running_emulator

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

RUNS = 5
CASES = ((1000, 0), (1000, 12_000))  # (products, bytes of padding per product)
OLD_SHARDS = 9
PRODUCTS = TENANT_SERVICES.serving("product")  # the listing the reference solution has too
POOLED_PRODUCT_TABLE = data_table(PRODUCTS, POOLED_DEPLOYMENT)


def seed(client: DynamoDBClient, tenant_id: str, count: int, padding: int,
         shards: Callable[[str], str]) -> None:
    requests = [{"PutRequest": {"Item": to_item({
        "shardId": shards(product_id), PRODUCTS.id_attribute: product_id, "version": 1,
        "name": f"Product {index}", "price": Decimal(index), "sku": f"S{index}",
        "category": "c", "description": "d" * padding})}}
        for index, product_id in enumerate(uuid.uuid4().hex for _ in range(count))]
    for start in range(0, count, 25):
        batch: dict[str, Any] = {POOLED_PRODUCT_TABLE.name: requests[start:start + 25]}
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def our_shards(tenant_id: str) -> Callable[[str], str]:
    return lambda product_id: shard_key(tenant_id, shard_of(product_id,
                                                            SHARDS[Isolation.POOLED]))


def old_shards(tenant_id: str) -> Callable[[str], str]:
    """The reference solution's suffixes 1..9."""
    return lambda product_id: f"{tenant_id}-{int(product_id[:8], 16) % OLD_SHARDS + 1}"


def old_way(client: DynamoDBClient, tenant_id: str) -> list[dict[str, Any]]:
    """The reference solution: one unpaginated query per shard suffix 1..9, in parallel."""
    def one(shard: int) -> list[dict[str, Any]]:
        return list(client.query(
            TableName=POOLED_PRODUCT_TABLE.name, KeyConditionExpression="shardId = :s",
            ExpressionAttributeValues={":s": {"S": f"{tenant_id}-{shard}"}})["Items"])

    with ThreadPoolExecutor(OLD_SHARDS) as pool:
        return [item for shard in pool.map(one, range(1, OLD_SHARDS + 1)) for item in shard]


def measure(name: str, call: Callable[[], list[Any]], counter: CallCounter) -> float:
    times, counts, sizes = [], [], []
    for _ in range(RUNS):
        before = counter.count
        start = time.perf_counter()
        sizes.append(len(call()))
        times.append(time.perf_counter() - start)
        counts.append(counter.count - before)
    p50 = statistics.median(times) * 1000
    print(f"  {name:<36} items {sizes[0]:>5}   DynamoDB requests {counts[0]:>3}   "
          f"p50 {p50:7.1f} ms")
    return p50


def main() -> None:
    with running_emulator() as url:
        os.environ.update({Env.AWS_ENDPOINT_URL: url, Env.AWS_DEFAULT_REGION: "us-east-1",
                           Env.AWS_ACCESS_KEY_ID: "local", Env.AWS_SECRET_ACCESS_KEY: "local"})
        client = boto3.client("dynamodb")
        ensure_tables(client, [POOLED_PRODUCT_TABLE])
        queries = CallCounter(client, "dynamodb", "Query")
        tables = TenantTables(Isolation.POOLED, lambda credentials: client)
        print("Listing a tenant's products: ours vs 9 parallel single-page queries")
        for count, padding in CASES:
            mine, theirs = new_tenant_id(), new_tenant_id()
            seed(client, mine, count, padding, our_shards(mine))
            seed(client, theirs, count, padding, old_shards(theirs))
            caller = TenantContext(mine, Tier.BASIC, "bench", Role.TENANT_USER, "pool",
                                   ScopedCredentials("bench", "bench", "bench", ""))
            items = TenantItems.of(tables, caller, POOLED_PRODUCT_TABLE.name,
                                   PRODUCTS.id_attribute)
            print(f" {count} products of ~{200 + padding} bytes:")
            baseline = measure("old: 9 parallel single-page queries",
                               functools.partial(old_way, client, theirs), queries)
            ours = measure("ours: all shards, all pages", items.all, queries)
            print(f"  {'':<36} ours/old p50: {ours / baseline:.2f}x")


if __name__ == "__main__":
    main()
