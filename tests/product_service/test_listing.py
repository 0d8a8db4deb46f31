"""2,500 products, large enough that shards need several DynamoDB pages, listed complete:
each exactly once, whole and page by page."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from tenant_context.attribute_values import to_item
from tenant_context.platform.definitions import data_table
from tenant_context.service.sharding import SHARDS, shard_key, shard_of
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.tenant_api import Api
from tests.support.world import World

COUNT = 2500

POOLED_PRODUCT_TABLE = data_table(TENANT_SERVICES.named("product"), POOLED_DEPLOYMENT)


def seed(world: World, tenant_id: str) -> set[str]:
    """Products as the service stores them, plus 1.5 KB of extra data each (~4 MB in all)."""
    dynamodb, shards = world.clients.dynamodb, SHARDS[Isolation.POOLED]
    ids = [uuid.uuid4().hex for _ in range(COUNT)]
    requests = [{"PutRequest": {"Item": to_item({
        "shardId": shard_key(tenant_id, shard_of(product_id, shards)),
        "productId": product_id, "version": 1, "name": f"Product {index}",
        "price": Decimal(index) / 100, "sku": f"SKU-{index}", "category": "bulk",
        "description": "d" * 1500})}} for index, product_id in enumerate(ids)]
    for start in range(0, len(requests), 25):
        batch: dict[str, Any] = {POOLED_PRODUCT_TABLE.name: requests[start:start + 25]}
        while batch:
            batch = dynamodb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}
    return set(ids)


def pages_per_shard(world: World, tenant_id: str) -> list[int]:
    counts = []
    for shard in range(SHARDS[Isolation.POOLED]):
        request: dict[str, Any] = {
            "TableName": POOLED_PRODUCT_TABLE.name, "KeyConditionExpression": "shardId = :s",
            "ExpressionAttributeValues": {":s": {"S": shard_key(tenant_id, shard)}}}
        pages = 0
        while True:
            response = world.clients.dynamodb.query(**request)
            pages += 1
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        counts.append(pages)
    return counts


def test_every_product_comes_back_once(world: World, pooled_api: Api) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    ids = seed(world, tenant.tenant_id)
    assert max(pages_per_shard(world, tenant.tenant_id)) >= 2  # the old design lost items here

    listed = pooled_api.call("GET", "/products", token)
    assert listed.status_code == 200
    listed_ids = [product["productId"] for product in listed.json_body]
    assert len(listed_ids) == COUNT
    assert set(listed_ids) == ids  # each exactly once
    assert "description" not in listed.json_body[0]  # the contract's fields only

    paged: list[str] = []
    next_token: str | None = None
    while True:
        query = "/products?limit=400" + (f"&nextToken={next_token}" if next_token else "")
        page = pooled_api.call("GET", query, token).json_body
        assert len(page["items"]) <= 400
        paged += [product["productId"] for product in page["items"]]
        next_token = page["nextToken"]
        if not next_token:
            break
    assert sorted(paged) == sorted(listed_ids)
