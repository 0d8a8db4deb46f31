"""A tenant's items between two deployments' tables: copy, reconcile, remove, count.

Items keep their id and their ``version`` (clients' ETags stay valid); only the partition key
changes, because a deployment's shard count does (2 pooled, 4 in a silo:
``tenant_context.service.sharding``). The shard follows from the id, so the new key is computed,
never looked up. Every operation is idempotent (a copy overwrites the target with the same
content), which is what lets a move interrupted at any AWS call simply run again.

This is deployment code with the deployer's own credentials: it reads and writes whole
partitions of one tenant, always by ``Query`` on the tenant's own shard keys (never a ``Scan``
of a shared table), so it cannot touch another tenant's items.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from tenant_context.service.sharding import shard_key, shard_of
from tenant_context.service.tenant_items import PARTITION_KEY, VERSION
from tenant_context.tenant_services import TenantService

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

_BATCH = 25  # BatchWriteItem's limit
_GET_BATCH = 100  # BatchGetItem's limit
_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # unprocessed items (throttling)

Item = dict[str, Any]  # in DynamoDB's attribute-value format


class Position(NamedTuple):
    """Where a paged read of a tenant's items goes on: a shard and the key to start after."""

    shard: int
    key: dict[str, Any] | None

    def encoded(self) -> str:
        return json.dumps({"shard": self.shard, "key": self.key}, sort_keys=True)

    @classmethod
    def decoded(cls, text: str) -> Position:
        data = json.loads(text)
        return cls(int(data["shard"]), data.get("key"))


@dataclass(frozen=True)
class Side:
    """One deployment's table of one tenant service, as the tenant's items are kept there."""

    service: TenantService
    table: str
    shards: int


class TenantItemCopier:
    def __init__(self, dynamodb: DynamoDBClient, tenant_id: str, *, page_size: int = 1000,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._dynamodb = dynamodb
        self._tenant_id = tenant_id
        self._page_size = page_size
        self._sleep = sleep

    # --- reads --------------------------------------------------------------------------------
    def pages(self, side: Side) -> Iterator[list[Item]]:
        """The tenant's items of one table, a page at a time (strongly consistent: the copy
        starts after the writes were paused, and must see every acknowledged one)."""
        for page, _ in self.positioned_pages(side):
            yield page

    def positioned_pages(self, side: Side, start: Position | None = None
                         ) -> Iterator[tuple[list[Item], Position | None]]:
        """Pages from ``start`` on, each with where the next one begins (None after the last):
        what lets a copy bounded in time (a Lambda run) go on where it stopped."""
        first_shard, first_key = start or Position(0, None)
        for shard in range(first_shard, side.shards):
            key = first_key if shard == first_shard else None
            while True:
                request: dict[str, Any] = {
                    "TableName": side.table, "ConsistentRead": True, "Limit": self._page_size,
                    "KeyConditionExpression": "#pk = :pk",
                    "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                    "ExpressionAttributeValues": {
                        ":pk": {"S": shard_key(self._tenant_id, shard)}}}
                if key:
                    request["ExclusiveStartKey"] = key
                page = self._dynamodb.query(**request)
                key = page.get("LastEvaluatedKey")
                after = Position(shard, dict(key)) if key else (
                    Position(shard + 1, None) if shard + 1 < side.shards else None)
                if page.get("Items") or after is None:
                    yield [dict(item) for item in page.get("Items", [])], after
                if not key:
                    break

    def versions(self, side: Side) -> dict[str, int]:
        """Item id -> version, for every item of the tenant in the table."""
        id_attribute = side.service.id_attribute
        return {item[id_attribute]["S"]: _version(item)
                for page in self.pages(side) for item in page}

    def count(self, side: Side) -> int:
        return sum(len(page) for page in self.pages(side))

    # --- writes -------------------------------------------------------------------------------
    def rekeyed(self, item: Item, target: Side) -> Item:
        item_id = item[target.service.id_attribute]["S"]
        return {**item, PARTITION_KEY: {
            "S": shard_key(self._tenant_id, shard_of(item_id, target.shards))}}

    def copy(self, source: Side, target: Side,
             progress: Callable[[int], None] | None = None, *, start: Position | None = None,
             until: Callable[[], bool] = lambda: False) -> tuple[int, Position | None]:
        """The tenant's items in ``source`` from ``start`` on written to ``target``, page by
        page, stopping early once ``until()`` says so; how many, and where the rest begins
        (None: all copied)."""
        copied = 0
        for page, after in self.positioned_pages(source, start):
            if page:
                self._write(target.table, [{"PutRequest": {"Item": self.rekeyed(item,
                                                                                  target)}}
                                           for item in page])
            copied += len(page)
            if progress:
                progress(copied)
            if after is not None and until():
                return copied, after
        return copied, None

    def reconcile_and_remove(self, source: Side, target: Side) -> int:
        """Delete the tenant's items from ``source``, first copying any that ``target`` lacks
        or holds at an older version (a write that was already past the pause when it began
        and landed after the copy: rare, but then it is carried over, never lost); how many
        were removed."""
        removed = 0
        id_attribute = target.service.id_attribute
        for page in self.pages(source):
            held = self._target_versions(target, [item[id_attribute]["S"] for item in page])
            newer = [item for item in page
                     if held.get(item[id_attribute]["S"], 0) < _version(item)]
            if newer:
                self._write(target.table, [{"PutRequest": {"Item": self.rekeyed(item, target)}}
                                           for item in newer])
            self._write(source.table, [{"DeleteRequest": {"Key": {
                PARTITION_KEY: item[PARTITION_KEY], id_attribute: item[id_attribute]}}}
                for item in page])
            removed += len(page)
        return removed

    def remove_all(self, side: Side) -> int:
        """Delete every item of the tenant in ``side`` (offboarding's erasure); how many."""
        removed = 0
        id_attribute = side.service.id_attribute
        for page in self.pages(side):
            self._write(side.table, [{"DeleteRequest": {"Key": {
                PARTITION_KEY: item[PARTITION_KEY], id_attribute: item[id_attribute]}}}
                for item in page])
            removed += len(page)
        return removed

    def _target_versions(self, target: Side, item_ids: Sequence[str]) -> dict[str, int]:
        id_attribute = target.service.id_attribute
        found: dict[str, int] = {}
        for start in range(0, len(item_ids), _GET_BATCH):
            keys: list[Item] = [
                {PARTITION_KEY: {"S": shard_key(self._tenant_id,
                                                shard_of(item_id, target.shards))},
                 id_attribute: {"S": item_id}} for item_id in item_ids[start:start + _GET_BATCH]]
            request: dict[str, Any] = {target.table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(len(_RETRY_DELAYS) + 1):
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(target.table, []):
                    found[item[id_attribute]["S"]] = _version(item)
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
                if attempt == len(_RETRY_DELAYS):
                    raise RuntimeError(f"{target.table}: keys left unprocessed after retries")
                self._sleep(_RETRY_DELAYS[attempt])
        return found

    def _write(self, table: str, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH):
            pending: dict[str, Any] = {table: requests[start:start + _BATCH]}
            for attempt in range(len(_RETRY_DELAYS) + 1):
                pending = dict(self._dynamodb.batch_write_item(
                    RequestItems=pending).get("UnprocessedItems") or {})
                if not pending:
                    break
                if attempt == len(_RETRY_DELAYS):
                    raise RuntimeError(f"{table}: items left unprocessed after retries")
                self._sleep(_RETRY_DELAYS[attempt])


def _version(item: Item) -> int:
    value = item.get(VERSION)
    return int(value["N"]) if value else 1
