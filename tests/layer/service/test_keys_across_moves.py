"""A key survives a move between the pool (2 shards) and a silo (4): the shard follows from the
id, so a client's key from before the move still addresses its item, and the answer shows the
item's key as it is now. Another tenant's key is still 404, before any call; malformed, 400.

The same tenant's items are seen as a pooled deployment and as a silo deployment shards them
(one table here: what differs is only the shard count); the emulator is real.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tenant_context.errors import BadRequestError, NotFoundError, TenantIsolationError
from tenant_context.platform.definitions import POOLED_DATA_TABLES
from tenant_context.service.sharding import MAX_SHARDS, SHARDS, shard_key, shard_of
from tenant_context.service.tenant_items import ItemKey, TenantItems
from tenant_context.service.tenant_tables import Isolation, TenantKeyGuard, TenantTable
from tenant_context.service.write_gate import WriteGates
from tenant_context.tenancy import new_tenant_id
from tests.support.counting import CallCounter

TABLE = POOLED_DATA_TABLES[0].name
ID = "productId"


def items_of(tenant_id: str, isolation: Isolation, dynamodb: Any = None) -> TenantItems:
    client = dynamodb or boto3.client("dynamodb")
    table = TenantTable(client, TABLE, "shardId", TenantKeyGuard(tenant_id))
    return TenantItems(table, tenant_id, ID, SHARDS[isolation],
                       WriteGates().of(table, TABLE, tenant_id, ID))


def item_id_with_shards(pooled: int, silo: int) -> str:
    """A uuid4 hex id whose shard is ``pooled`` of 2 and ``silo`` of 4 (so the keys differ)."""
    while True:
        item_id = new_tenant_id()
        if shard_of(item_id, 2) == pooled and shard_of(item_id, 4) == silo:
            return item_id


@pytest.mark.parametrize(("before", "after"), [(Isolation.POOLED, Isolation.SILO),
                                               (Isolation.SILO, Isolation.POOLED)])
def test_a_key_from_before_the_move_addresses_the_item_after_it(
        baseline: object, before: Isolation, after: Isolation) -> None:
    tenant_id = new_tenant_id()
    old, new = items_of(tenant_id, before), items_of(tenant_id, after)
    item_id = item_id_with_shards(pooled=1, silo=3)  # shard 1 pooled, 3 in a silo
    old_key = old.key_of(item_id)
    new_key = new.key_of(item_id)
    assert old_key != new_key
    # The move copies the item to where the new deployment's shards put it.
    created = new.create(new_key, {"name": "moved", "price": 3})
    for raw in (str(old_key), str(old_key).replace(":", "%3A"), str(new_key)):
        parsed = new.parse_key(raw)
        assert parsed == new_key  # canonical: the shard re-derived from the id
        found = new.get(parsed)
        assert found.key == new_key  # responses keep showing the canonical key
        assert found.attributes == {"name": "moved", "price": 3}
    replaced = new.replace(new.parse_key(str(old_key)), {"name": "changed"}, created.version)
    assert replaced.key == new_key
    assert replaced.version == 2
    new.delete(new.parse_key(str(old_key)), 2)
    assert new.all() == []


def test_any_shard_a_deployment_writes_is_accepted_for_the_callers_own_tenant(
        baseline: object) -> None:
    tenant_id = new_tenant_id()
    pooled = items_of(tenant_id, Isolation.POOLED)
    item_id = new_tenant_id()
    for shard in range(MAX_SHARDS):
        assert pooled.parse_key(f"{tenant_id}-{shard}:{item_id}") == pooled.key_of(item_id)
    with pytest.raises(TenantIsolationError):  # no deployment writes shard 4
        pooled.parse_key(f"{tenant_id}-{MAX_SHARDS}:{item_id}")


@pytest.mark.parametrize("isolation", list(Isolation))
def test_another_tenants_key_is_still_404_before_any_call(baseline: object,
                                                          isolation: Isolation) -> None:
    mine, theirs = new_tenant_id(), new_tenant_id()
    dynamodb = boto3.client("dynamodb")
    calls = [CallCounter(dynamodb, "dynamodb", operation)
             for operation in ("GetItem", "PutItem", "DeleteItem", "Query")]
    items = items_of(mine, isolation, dynamodb)
    their_items = items_of(theirs, isolation)
    stored = their_items.create(their_items.new_key(), {"name": "theirs"})
    for shard in range(MAX_SHARDS):
        for raw in (f"{theirs}-{shard}:{stored.key.item_id}",
                    f"{theirs}-{shard}%3A{stored.key.item_id}"):
            with pytest.raises(TenantIsolationError) as refused:
                items.parse_key(raw)
            assert refused.value.status_code == 404
    assert sum(counter.count for counter in calls) == 0
    # Nor does the id alone reach their item through my key: the shard is re-derived under
    # MY tenant's prefix, where nothing is stored.
    with pytest.raises(TenantIsolationError):
        items.get(ItemKey(shard_key(theirs, 0), stored.key.item_id))
    mine_key = items.parse_key(f"{mine}-0:{stored.key.item_id}")
    assert mine_key.shard_id.startswith(f"{mine}-")
    with pytest.raises(NotFoundError):
        items.get(mine_key)


@pytest.mark.parametrize("raw", [
    "", ":", "nonsense", "a" * 32, "a" * 32 + "-0", "a" * 32 + "-0:", "a" * 32 + "-x:" + "b" * 32,
    "a" * 32 + "-100:" + "b" * 32, "A" * 32 + "-0:" + "b" * 32, "a" * 32 + "-0:" + "B" * 32,
    "a" * 31 + "-0:" + "b" * 32, "a" * 32 + "-0:" + "b" * 31, "a" * 32 + "-gate:writes",
    "a" * 32 + "--1:" + "b" * 32, "a" * 32 + "-0:" + "b" * 32 + ":x"])
def test_a_malformed_key_is_still_400(baseline: object, raw: str) -> None:
    items = items_of("a" * 32, Isolation.SILO)
    with pytest.raises(BadRequestError) as refused:
        items.parse_key(raw)
    assert refused.value.status_code == 400
