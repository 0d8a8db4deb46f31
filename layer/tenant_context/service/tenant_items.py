"""One tenant's items of one kind (products, orders): the data access both services share.

- Writes spread over the tenant's shards (``tenant_context.service.sharding``); an item's key is
  ``<tenantId>-<shard>:<itemId>``, which is what clients put in URLs.
- Listing returns every item: all shards queried in parallel, each read to its last page. An
  optional cursor gives pages instead (``limit`` + ``next_token``).
- Every item carries a ``version``. Replacing or deleting is conditional on it: a concurrent
  change is detected (409), an absent item is 404, and nothing is ever upserted. Callers that
  send no version (the web app) get the version read just before the write, which still
  catches a change made in between.
- Keys naming another tenant's shard never reach DynamoDB (the layer's key guard): 404.
- Keys survive a move between the pool (2 shards) and a silo (4): a key's shard part is only
  checked to be one some deployment could have written; the item is addressed by the shard its
  id gives here (``parse_key`` answers the canonical key), and responses show that key.
- Every write first checks the tenant's write gate (``tenant_context.service.write_gate``):
  while the tenant's items move, writes answer 409 with ``Retry-After``; reads never check it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tenant_context.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    TenantIsolationError,
)
from tenant_context.service.context import TenantContext
from tenant_context.service.sharding import (
    MAX_SHARDS,
    PARTITION_KEY,
    shard_count,
    shard_key,
    shard_of,
)
from tenant_context.service.tenant_tables import ConditionFailed, TenantTable, TenantTables
from tenant_context.service.write_gate import WRITE_GATES, TableGate, WriteGates

VERSION = "version"
__all__ = ["PARTITION_KEY", "VERSION", "ItemKey", "StoredItem", "TenantItems"]
_SHARD_ID = re.compile(r"([0-9a-f]{32})-([0-9]{1,2})")
_ITEM_ID = re.compile(r"[0-9a-f]{32}")
_MAX_TOKEN_LENGTH = 128  # the tokens ``_encode`` writes are about 70 characters


@dataclass(frozen=True)
class ItemKey:
    shard_id: str
    item_id: str

    def __str__(self) -> str:
        return f"{self.shard_id}:{self.item_id}"


@dataclass(frozen=True)
class StoredItem:
    key: ItemKey
    version: int
    attributes: dict[str, Any]  # the item's own fields (no keys, no version)


class TenantItems:
    def __init__(self, table: TenantTable, tenant_id: str, id_attribute: str,
                 shards: int, gate: TableGate) -> None:
        self._table = table
        self._tenant_id = tenant_id
        self._id = id_attribute
        self._shards = shards
        self._gate = gate

    @classmethod
    def of(cls, tables: TenantTables, tenant: TenantContext, table_name: str,
           id_attribute: str, gates: WriteGates = WRITE_GATES, *,
           kind: str | None = None) -> TenantItems:
        """The tenant's items in a (products, orders ...) table, sharded as this deployment
        isolates data; writes pass the tenant's gate in that table, read through ``gates``
        (the process's one cache unless another is given: a test's, with its own clock).
        ``kind`` (``product``) names the items in the tenant's usage (stored items, bytes)."""
        table = tables.table(tenant, table_name, PARTITION_KEY, kind=kind)
        return cls(table, tenant.tenant_id, id_attribute, shard_count(tables.isolation),
                   gates.of(table, table_name, tenant.tenant_id, id_attribute))

    # --- keys ---------------------------------------------------------------------------------
    def new_key(self) -> ItemKey:
        item_id = uuid.uuid4().hex
        return self.key_of(item_id)

    def key_of(self, item_id: str) -> ItemKey:
        return ItemKey(shard_key(self._tenant_id, shard_of(item_id, self._shards)), item_id)

    def parse_key(self, raw: str, field: str = "key") -> ItemKey:
        """A client's key (percent-decoded, as path parameters arrive encoded), as the canonical
        key of its item here; malformed is 400, another tenant's is 404.

        The shard part may be any shard some deployment writes (below ``MAX_SHARDS``), not only
        this one's: a key from before a move (2 pooled shards, 4 in a silo) still addresses its
        item, because the item's shard follows from its id.
        """
        shard_id, _, item_id = unquote(raw).partition(":")
        shard = _SHARD_ID.fullmatch(shard_id)
        if not shard or not _ITEM_ID.fullmatch(item_id):
            raise BadRequestError(f"{field}: not a key this API returned", fields=[field])
        if shard.group(1) != self._tenant_id or int(shard.group(2)) >= MAX_SHARDS:
            raise TenantIsolationError()  # 404 at once, before the body is even read
        return self.key_of(item_id)

    def _key(self, key: ItemKey) -> dict[str, str]:
        return {PARTITION_KEY: key.shard_id, self._id: key.item_id}

    def _stored(self, item: Mapping[str, Any]) -> StoredItem:
        attributes = {name: value for name, value in item.items()
                      if name not in (PARTITION_KEY, self._id, VERSION)}
        return StoredItem(ItemKey(str(item[PARTITION_KEY]), str(item[self._id])),
                          int(item.get(VERSION, 1)), attributes)

    # --- reads --------------------------------------------------------------------------------
    def get(self, key: ItemKey) -> StoredItem:
        item = self._table.get(self._key(key))
        if item is None:
            raise NotFoundError("Not found")
        return self._stored(item)

    def find(self, item_ids: Iterable[str]) -> dict[str, StoredItem]:
        """The tenant's items among ``item_ids`` (ids of other tenants' items find nothing)."""
        keys = [self._key(self.key_of(item_id)) for item_id in set(item_ids)
                if _ITEM_ID.fullmatch(item_id)]
        return {stored.key.item_id: stored for stored in
                (self._stored(item) for item in self._table.get_many(keys))}

    def all(self) -> list[StoredItem]:
        """Every item of every shard, in key order."""
        shard_ids = [shard_key(self._tenant_id, shard) for shard in range(self._shards)]
        with ThreadPoolExecutor(max_workers=self._shards) as pool:
            shards = list(pool.map(lambda shard_id: list(self._table.query(shard_id)),
                                   shard_ids))
        return [self._stored(item) for shard in shards for item in shard]

    def page(self, limit: int, next_token: str | None) -> tuple[list[StoredItem], str | None]:
        """At most ``limit`` items from where ``next_token`` left off (shard by shard)."""
        shard, start_id = self._decode(next_token) if next_token else (0, None)
        found: list[StoredItem] = []
        while shard < self._shards and len(found) < limit:
            shard_id = shard_key(self._tenant_id, shard)
            start = {PARTITION_KEY: shard_id, self._id: start_id} if start_id else None
            items, last = self._table.query_page(shard_id, limit=limit - len(found),
                                                 start_key=start)
            found += [self._stored(item) for item in items]
            if last is not None:
                start_id = str(last[self._id])
            else:
                shard, start_id = shard + 1, None
        if shard >= self._shards:
            return found, None
        return found, self._encode(shard, start_id)

    # --- writes -------------------------------------------------------------------------------
    def create(self, key: ItemKey, attributes: Mapping[str, Any]) -> StoredItem:
        self._gate.check_open()
        item = {**attributes, **self._key(key), VERSION: 1}
        try:
            self._table.put(item, condition="attribute_not_exists(#id)",
                            names={"#id": self._id})
        except ConditionFailed:  # a uuid4 collision: astronomically unlikely, never silent
            raise ConflictError("key: already exists", fields=["key"]) from None
        return self._stored(item)

    def replace(self, key: ItemKey, attributes: Mapping[str, Any],
                expected_version: int | None) -> StoredItem:
        """Replace an existing item's fields, if it is still at ``expected_version`` (or, with
        none given, at the version just read)."""
        self._gate.check_open()
        version = expected_version if expected_version is not None else self.get(key).version
        item = {**attributes, **self._key(key), VERSION: version + 1}
        try:
            self._table.put(item, condition="attribute_exists(#id) AND #version = :version",
                            names={"#id": self._id, "#version": VERSION},
                            values={":version": version})
        except ConditionFailed as failed:
            raise self._conflict_or_absent(failed, version) from None
        return self._stored(item)

    def delete(self, key: ItemKey, expected_version: int | None) -> None:
        self._gate.check_open()
        condition, values = "attribute_exists(#id)", {}
        names = {"#id": self._id}
        if expected_version is not None:
            condition += " AND #version = :version"
            names["#version"] = VERSION
            values = {":version": expected_version}
        try:
            self._table.delete(self._key(key), condition=condition, names=names,
                               values=values or None)
        except ConditionFailed as failed:
            raise self._conflict_or_absent(failed, expected_version) from None

    @staticmethod
    def _conflict_or_absent(failed: ConditionFailed, version: int | None) -> Exception:
        if failed.stored is None:
            return NotFoundError("Not found")
        current = failed.stored.get(VERSION)
        return ConflictError(f"version: the item changed (now at {current}, not {version}); "
                             f"read it again and retry", fields=["version"])

    # --- paging tokens ------------------------------------------------------------------------
    def _encode(self, shard: int, start_id: str | None) -> str:
        raw = json.dumps({"s": shard, "k": start_id}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode(self, token: str) -> tuple[int, str | None]:
        """The token's (shard, start id), checked by exact type: anything this API did not
        write, however crafted (``Infinity``, ``true``, ``1e999``, deep nesting), is a 400."""
        invalid = BadRequestError("nextToken: not a token this API returned",
                                  fields=["nextToken"])
        if len(token) > _MAX_TOKEN_LENGTH:
            raise invalid
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (ValueError, RecursionError, binascii.Error):  # UnicodeDecodeError: ValueError
            raise invalid from None
        if not isinstance(data, dict) or set(data) != {"s", "k"}:
            raise invalid
        shard, start_id = data["s"], data["k"]
        if type(shard) is not int or not 0 <= shard < self._shards:
            raise invalid
        if start_id is not None and not (type(start_id) is str
                                         and _ITEM_ID.fullmatch(start_id)):
            raise invalid
        return shard, start_id
