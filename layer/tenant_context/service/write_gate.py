"""The write gate: how a tenant's writes are held while its items move between deployments.

A move (pooled <-> a Platinum silo, ``pipeline/lifecycle/``) copies a tenant's items from the
deployment it leaves to the one it joins. A write applied to the source after its item was
copied would be lost, so the engine first closes a gate, one item per data table of the SOURCE
deployment, and every write of ``TenantItems`` (create, replace, delete) checks it first:

- partition ``<tenantId>-gate`` (``gate_partition``): listing and paging query only the shards
  ``<tenantId>-0 .. n-1``, and a client cannot name it (a key's shard part must be digits), so
  the gate is never served as an item; it is under the tenant's own prefix, so the key guard
  and the pooled credentials' ``LeadingKeys`` (``<tenantId>-*``) admit the read;
- sort key: the table's id attribute (``productId``, ``orderId`` ...) = ``"writes"``;
- ``gateState``: ``paused`` while copying, ``moved`` once the tenant is served elsewhere;
  ``retryAfter`` (whole seconds) and ``movedTo`` (the target tier, only shown to the client).

A closed gate answers 409 with ``Retry-After``: the write was not applied and retrying is the
right action (after a move, against the deployment ``GET /tenant/init/<name>`` names). Writes
are refused rather than carried over, because refusing needs no second copy pass and cannot
apply a write twice. Reads never check the gate: they keep working throughout.

Bound (what the engine must wait after writing the gate, before copying): gates are cached per
process and (table, tenant) for ``ttl_seconds`` (1 s by default), and an entry's age counts
from BEFORE its consistent read. So every write whose check starts ``ttl_seconds`` or more after
the gate was written sees it. A write that passed its check earlier may still land after that,
as late as its request runs on (check, then its one put or delete; bounded by the service
function's timeout): the engine waits ``ttl_seconds`` plus that margin.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tenant_context.errors import RetryableConflictError
from tenant_context.service.sharding import PARTITION_KEY
from tenant_context.service.tenant_tables import TenantTable
from tenant_context.tenancy import tenant_key_prefix

GATE_PARTITION_SUFFIX = "gate"
GATE_ITEM_ID = "writes"  # the gate's sort key value, under the table's own id attribute
GATE_STATE_ATTRIBUTE = "gateState"
RETRY_AFTER_ATTRIBUTE = "retryAfter"
MOVED_TO_ATTRIBUTE = "movedTo"
DEFAULT_TTL_SECONDS = 1.0
DEFAULT_RETRY_AFTER_SECONDS = 5  # a gate item without a usable retryAfter
_MAX_ENTRIES = 4096  # (table, tenant) pairs one process remembers; the oldest go first


class GateState(StrEnum):
    PAUSED = "paused"  # the items are being copied: retry here shortly
    MOVED = "moved"  # the tenant is served by another deployment: retry there


def gate_partition(tenant_id: str) -> str:
    """``<tenantId>-gate``: under the tenant's prefix, never one of its shards."""
    return f"{tenant_key_prefix(tenant_id)}{GATE_PARTITION_SUFFIX}"


def gate_key(tenant_id: str, id_attribute: str) -> dict[str, str]:
    """The gate item's key in a table whose sort key is ``id_attribute``."""
    return {PARTITION_KEY: gate_partition(tenant_id), id_attribute: GATE_ITEM_ID}


def gate_item(tenant_id: str, id_attribute: str, state: GateState, *, retry_after_seconds: int,
              moved_to: str) -> dict[str, Any]:
    """The whole gate item, as the move engine puts it (plain values: ``to_item`` them)."""
    return {**gate_key(tenant_id, id_attribute), GATE_STATE_ATTRIBUTE: state.value,
            RETRY_AFTER_ATTRIBUTE: retry_after_seconds, MOVED_TO_ATTRIBUTE: moved_to}


@dataclass(frozen=True)
class Gate:
    """A closed gate, as read from its item."""

    state: GateState
    retry_after_seconds: int
    moved_to: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Gate:
        """An item with a state this code does not know counts as paused: a gate someone
        wrote is never taken for an open one (a newer engine's state fails closed)."""
        try:
            state = GateState(str(item.get(GATE_STATE_ATTRIBUTE)))
        except ValueError:
            state = GateState.PAUSED
        raw = item.get(RETRY_AFTER_ATTRIBUTE)
        try:
            retry_after = max(1, int(raw)) if raw is not None else DEFAULT_RETRY_AFTER_SECONDS
        except (TypeError, ValueError, OverflowError):
            retry_after = DEFAULT_RETRY_AFTER_SECONDS
        return cls(state, retry_after, str(item.get(MOVED_TO_ATTRIBUTE, "")))

    def refusal(self, tenant_id: str) -> RetryableConflictError:
        if self.state is GateState.MOVED:
            message = (f"tenant moved to its {self.moved_to} deployment: read GET "
                       "/tenant/init/<name> again for its API")
        else:
            message = (f"writes paused: tenant {tenant_id} is moving to {self.moved_to}; "
                       f"retry in {self.retry_after_seconds} s")
        return RetryableConflictError(message, retry_after_seconds=self.retry_after_seconds)


class WriteGates:
    """The process's cache of gates, per (table, tenant), each entry kept ``ttl_seconds``.

    One read per tenant and table per second at most, instead of one per write; see the module
    notes for the bound this gives the move engine. Thread-safe (``chalice local`` serves
    requests on threads); the lock is never held during a read.
    """

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, *,
                 clock: Callable[[], float] = time.monotonic,
                 max_entries: int = _MAX_ENTRIES) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, Gate | None]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, table: TenantTable, table_name: str, tenant_id: str,
           id_attribute: str) -> TableGate:
        """The gate of one tenant in one table (``table``: the tenant's scoped view of it)."""
        return TableGate(self, table, table_name, tenant_id, id_attribute)

    def current(self, table: TenantTable, table_name: str, tenant_id: str,
                id_attribute: str) -> Gate | None:
        """The gate as of at most ``ttl_seconds`` ago (None: open)."""
        cache_key = (table_name, tenant_id)
        now = self._clock()
        with self._lock:
            cached = self._entries.get(cache_key)
            if cached is not None and now - cached[0] < self.ttl_seconds:
                return cached[1]
        read_at = now  # before the read: the entry can only be younger than it says
        item = table.get(gate_key(tenant_id, id_attribute))  # consistent read, key guarded
        gate = Gate.from_item(item) if item else None
        with self._lock:
            self._entries[cache_key] = (read_at, gate)
            self._entries.move_to_end(cache_key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return gate


@dataclass(frozen=True)
class TableGate:
    gates: WriteGates
    table: TenantTable
    table_name: str
    tenant_id: str
    id_attribute: str

    def check_open(self) -> None:
        """Raises the gate's 409 (``RetryableConflictError``) when it is closed."""
        gate = self.gates.current(self.table, self.table_name, self.tenant_id,
                                  self.id_attribute)
        if gate is not None:
            raise gate.refusal(self.tenant_id)


WRITE_GATES = WriteGates()
"""The process's one cache (what ``ItemResource`` passes to ``TenantItems``)."""
