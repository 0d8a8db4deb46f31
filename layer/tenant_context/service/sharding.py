"""How many write shards a tenant's items spread over, and which shard an item lives in.

One partition key takes at most 1,000 write units per second (1 KB each). A tenant's write
rate is capped by its usage plan's burst: 200 requests/s for the top pooled tier (Premium), 300
for Platinum. Items here stay under 4 KB (bounded fields, at most 100 order lines), so a
Premium burst needs up to 800 WCU/s: two shards keep each partition under half its limit.
Listing reads every shard (one query each, in parallel, more pages only past 1 MB), so more
shards only cost reads: the count is the smallest with that headroom.

- pooled tenants: 2 shards (all pooled tiers alike: a tier change within the pool moves no
  data, and a Basic tenant's second shard costs one empty query when listing);
- a Platinum tenant's own tables: 4 shards (a 300/s burst of 4 KB items is 1,200 WCU/s).

An item's shard follows from its id, so an item can be found from its id alone (an order line
names only a product id).
"""

from __future__ import annotations

from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import tenant_key_prefix

SHARDS = {Isolation.POOLED: 2, Isolation.SILO: 4}
MAX_SHARDS = max(SHARDS.values())
"""Any shard number below this is a key some deployment wrote (keys survive a move)."""

PARTITION_KEY = "shardId"
"""The partition key of every tenant data table: ``<tenantId>-<shard>``."""


def shard_count(isolation: Isolation) -> int:
    return SHARDS[isolation]


def shard_of(item_id: str, shards: int) -> int:
    """Stable across processes (ids are uuid4 hex, so evenly spread)."""
    return int(item_id[:8], 16) % shards


def shard_key(tenant_id: str, shard: int) -> str:
    return f"{tenant_key_prefix(tenant_id)}{shard}"
