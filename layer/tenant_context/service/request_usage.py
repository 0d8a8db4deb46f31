"""What one request consumed, gathered while it runs, for the usage meter.

The request's middleware (``chalice_app``) opens a ``RequestUsage`` per request (``measuring``);
every DynamoDB call of ``TenantTable`` asks for its consumed capacity (``ReturnConsumedCapacity
TOTAL``) and adds it here, and every write adds the change in the tenant's stored items and
bytes of its kind (from the item written and the old item DynamoDB returns with ``ALL_OLD``, so
counting costs no extra read). The middleware then hands the totals to the ``UsageMeter``.

What the units are: what DynamoDB reported, per call. A conditional write that fails reports
nothing back (its error carries no capacity), so it is not counted here, although DynamoDB bills
it one write unit per KB. The local emulator (moto) reports a constant per call whatever the
item's size (GetItem 0.5, a write or a Query 1, BatchGetItem 1 per key), so local cost figures
follow the number of calls, not the size of the items.

A ``ContextVar``, not an argument through every layer: the table objects are built per request
by ``TenantTables.table``, which reads it once, in the request's own thread; a listing's
parallel shard queries then add to the same object from their pool threads (hence the lock).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

_current: ContextVar[RequestUsage | None] = ContextVar("request_usage", default=None)


class RequestUsage:
    """One request's DynamoDB capacity units and its net change of stored items and bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.read_units = Decimal(0)
        self.write_units = Decimal(0)
        self.item_deltas: dict[str, int] = {}
        self.byte_deltas: dict[str, int] = {}

    def consumed(self, response: Mapping[str, Any], *, write: bool) -> None:
        """Adds the capacity a DynamoDB response reports (``ConsumedCapacity``: one entry, or a
        list for batch calls); a response without it adds nothing."""
        reported = response.get("ConsumedCapacity")
        entries = reported if isinstance(reported, list) else [reported] if reported else []
        units = sum((Decimal(str(entry.get("CapacityUnits", 0))) for entry in entries),
                    Decimal(0))
        if not units:
            return
        with self._lock:
            if write:
                self.write_units += units
            else:
                self.read_units += units

    def stored(self, kind: str, items: int, size: int) -> None:
        """The tenant's stored ``kind`` items changed by ``items`` and ``size`` bytes."""
        if not (items or size):
            return
        with self._lock:
            self.item_deltas[kind] = self.item_deltas.get(kind, 0) + items
            self.byte_deltas[kind] = self.byte_deltas.get(kind, 0) + size


def current_usage() -> RequestUsage | None:
    """The usage of the request this thread is handling; None outside a metered request."""
    return _current.get()


@contextlib.contextmanager
def measuring() -> Iterator[RequestUsage]:
    """Gathers what the calls made inside consume, into the ``RequestUsage`` yielded."""
    usage = RequestUsage()
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)
