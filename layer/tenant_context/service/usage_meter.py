"""The usage meter: what each tenant's requests consumed, added up in memory and written to the
usage table (``USAGE_TABLE``) in a few writes per tenant per flush, never a write per request.

``record`` is called once per handled request (by whoever sees it: the service function, the
front door for the 429s that never reach one) and only adds numbers in memory, under a lock:
``chalice local`` serves requests on threads, a Lambda container one at a time. Counts are kept
per row they will land in, (tenant, hour) and (tenant, day): ``H#2026-12-01T19`` and
``D#2026-12-01``, UTC (``tenant_context.usage_periods``).

Flush policy: ``due()`` turns true once ``flush_every_records`` requests were recorded, or
``flush_every_seconds`` passed, since the last flush (with anything to write); the caller then
calls ``flush()`` (after its response, so no request waits on a full round of writes). A flush
writes ONE ``UpdateItem`` with ``ADD`` per row touched since the last flush (hour and day rows
alike; a row with more than ``MAX_ATTRIBUTES_PER_WRITE`` numbers in a few), so the writes grow
with tenants and periods, not with requests. Hourly rows also get ``expiresAt`` (35 days).

No double counting: a flush first swaps the buffer for an empty one (under the lock), so what
it writes is no longer in memory and new requests go to the new buffer; a write that fails is
added back into the buffer (row by row, attributes by attributes) and written by a later
flush, while the writes that succeeded are forgotten. A write is thus counted once, with one
exception: a write DynamoDB applied whose answer was lost (a timeout after the request was
sent) is retried and counted twice. ``ADD`` is not idempotent; ``TransactWriteItems`` with a
``ClientRequestToken`` would be (for 10 minutes, at twice the write cost), should that ever
matter more than a rare, bounded over-count of one row's increment.

Active users: a request's user is remembered per (tenant, month) and counted by the flush with
one transaction per user new to this process that month (``usage_periods``: the marker and the
month's ``activeUsers``), so a user is counted once per month across every process; a process
remembers the last ``MAX_COUNTED_USERS`` it counted and asks no more about them.

What is lost: the counts not yet flushed when the process ends. A process killed, a crashed
``chalice local``, or a Lambda container frozen and then reclaimed (Lambda runs no code
between invocations, and gives none a signal before it discards a frozen container) loses at
most what it recorded since its last flush: ``flush_every_seconds`` of its traffic, at most
``flush_every_records`` requests. A graceful stop should call ``flush()``. The usage store's
figures are that fresh too: a running process's last ``flush_every_seconds``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import to_item
from tenant_context.usage_periods import (
    ACTIVE_USERS,
    DURATION_MS,
    EXPIRES_AT,
    PARTITION_KEY,
    READ_UNITS,
    SORT_KEY,
    THROTTLED,
    WRITE_UNITS,
    Granularity,
    active_user_key,
    bytes_attribute,
    day_key,
    expires_at,
    hour_key,
    items_attribute,
    marker_expires_at,
    month_key,
    parse_period,
    requests_attribute,
    utc,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

DEFAULT_FLUSH_SECONDS = 60.0
DEFAULT_FLUSH_RECORDS = 1000
# Numbers per UpdateItem: well inside DynamoDB's 4 KB per expression (``#a12 :a12, `` is ~11
# bytes), and inside what the local emulator parses (its parser recurses once per term: 200
# terms exceed Python's recursion limit there).
MAX_ATTRIBUTES_PER_WRITE = 100
THROTTLED_STATUS = 429
_MILLISECOND = Decimal("0.001")

Row = tuple[str, str]  # (tenant id, period key)
ActiveUser = tuple[str, str, str]  # (tenant id, month key, user name)
MAX_COUNTED_USERS = 100_000  # (tenant, month, user) a process remembers as counted
Amounts = dict[str, Decimal]  # attribute -> what to ADD


@dataclass(frozen=True)
class FlushResult:
    writes: int  # writes that succeeded (an UpdateItem of counts, a user's transaction)
    failed: int  # writes that failed: what they carried is back in the buffer
    errors: tuple[str, ...] = ()  # what the failed writes raised, for the caller's log

    @property
    def ok(self) -> bool:
        return not self.failed


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _amount(value: float | Decimal, what: str) -> Decimal:
    """Exact: a float as its shortest repr (0.1 stays 0.1, not 0.1000000000000000055...)."""
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        number = value
    elif math.isfinite(value):
        number = Decimal(repr(value))
    else:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValueError(f"{what} is not a finite number: {value}")
    return number


class UsageMeter:
    """Adds up usage per tenant and period in memory and writes it in batches (see the module's
    docstring for the flush policy and what a killed process loses)."""

    def __init__(self, dynamodb: DynamoDBClient | Callable[[], DynamoDBClient],
                 table_name: str, clock: Callable[[], datetime] = _system_clock, *,
                 flush_every_seconds: float = DEFAULT_FLUSH_SECONDS,
                 flush_every_records: int = DEFAULT_FLUSH_RECORDS) -> None:
        """``dynamodb``: a client, or what makes one on the first flush (a cold start then
        pays for no client it may not need). ``clock``: the time now, zone-aware; it decides
        each record's period and when a flush is due."""
        if flush_every_seconds <= 0 or flush_every_records < 1:
            raise ValueError("a flush must be due after some time and some records")
        self._source = dynamodb
        self._client: DynamoDBClient | None = None
        self._table = table_name
        self._clock = clock
        self._flush_seconds = flush_every_seconds
        self._flush_records = flush_every_records
        self._lock = threading.Lock()
        self._rows: dict[Row, Amounts] = {}
        self._users: dict[ActiveUser, datetime] = {}  # to count, with a moment of their month
        self._counted: OrderedDict[ActiveUser, None] = OrderedDict()  # counted: not again
        self._records = 0  # recorded since the last flush began
        self._last_flush = utc(clock())

    def record(self, tenant_id: str, route: str, status: int, duration_ms: float = 0.0,
               read_units: float | Decimal = 0.0, write_units: float | Decimal = 0.0, *,
               item_deltas: Mapping[str, int] | None = None,
               byte_deltas: Mapping[str, int] | None = None,
               at: datetime | None = None, user: str | None = None) -> None:
        """One handled request of ``tenant_id``: ``route`` is the method and route template
        (``GET /products/{id}``), ``status`` its answer (a 429 also counts as ``throttled``),
        ``duration_ms`` its handling time, the units what its DynamoDB calls consumed, and the
        deltas the net change of the tenant's stored items and bytes by kind (``product``).
        ``at``: when it was handled (now by default); ``user``: who made it, counted once
        per month among the tenant's active users. Nothing is written here."""
        if not tenant_id:
            raise ValueError("usage needs a tenant id")
        amounts: Amounts = {requests_attribute(route, status): Decimal(1)}
        if status == THROTTLED_STATUS:
            amounts[THROTTLED] = Decimal(1)
        for name, value in ((DURATION_MS, duration_ms), (READ_UNITS, read_units),
                            (WRITE_UNITS, write_units)):
            number = _amount(value, name)
            if number < 0:
                raise ValueError(f"{name} cannot be negative: {value}")
            if number:
                amounts[name] = number.quantize(_MILLISECOND) if name == DURATION_MS else number
        for deltas, attribute in ((item_deltas, items_attribute),
                                  (byte_deltas, bytes_attribute)):
            for kind, delta in (deltas or {}).items():
                if delta:
                    amounts[attribute(kind)] = Decimal(int(delta))
        moment = utc(at) if at is not None else utc(self._clock())
        rows = ((tenant_id, hour_key(moment)), (tenant_id, day_key(moment)))
        active = (tenant_id, month_key(moment), user) if user else None
        with self._lock:
            for row in rows:
                _add(self._rows.setdefault(row, {}), amounts)
            if active is not None and active not in self._counted:
                self._users.setdefault(active, moment)
            self._records += 1

    def due(self) -> bool:
        """Whether the caller should flush now: something is waiting, and either
        ``flush_every_records`` requests were recorded or ``flush_every_seconds`` passed since
        the last flush (a failing table is thus tried again at that pace, not per request)."""
        with self._lock:
            if not (self._rows or self._users):
                return False
            if self._records >= self._flush_records:
                return True
            return (utc(self._clock()) - self._last_flush).total_seconds() >= self._flush_seconds

    @property
    def flush_every_seconds(self) -> float:
        return self._flush_seconds

    @property
    def pending_rows(self) -> int:
        """Rows (tenant, period) with counts not yet written."""
        with self._lock:
            return len(self._rows)

    @property
    def pending(self) -> bool:
        """Whether anything recorded is not written yet (counts or active users)."""
        with self._lock:
            return bool(self._rows or self._users)

    def flush(self) -> FlushResult:
        """Writes everything recorded since the last flush, one ``UpdateItem`` per row (or a
        few for a row with very many routes), and forgets what was written; what failed stays
        for the next flush. Safe to call from several threads: each writes what it took."""
        with self._lock:
            rows, self._rows = self._rows, {}
            users, self._users = self._users, {}
            self._records = 0
            self._last_flush = utc(self._clock())
        if not (rows or users):
            return FlushResult(0, 0)
        client = self._dynamodb()
        writes = 0
        failed: list[tuple[Row, Amounts]] = []
        errors: list[str] = []
        uncounted = 0
        for active, moment in users.items():
            try:
                self._count_user(client, active, moment)
            except Exception as error:  # counted by a later flush, whatever went wrong
                with self._lock:
                    self._users.setdefault(active, moment)
                errors.append(f"{active[0]} {active[1]}: {type(error).__name__}: {error}")
                uncounted += 1
            else:
                writes += 1
        for row, amounts in rows.items():
            for part in _parts(amounts):
                try:
                    client.update_item(**self._update(row, part))
                except Exception as error:  # kept for the next flush, whatever went wrong
                    failed.append((row, part))
                    errors.append(f"{row[0]} {row[1]}: {type(error).__name__}: {error}")
                else:
                    writes += 1
        if failed:
            with self._lock:
                for row, part in failed:
                    _add(self._rows.setdefault(row, {}), part)
        return FlushResult(writes, len(failed) + uncounted, tuple(errors))

    def _count_user(self, client: DynamoDBClient, active: ActiveUser,
                    moment: datetime) -> None:
        """One more active user in the month's row, unless another process (or an earlier
        flush whose answer was lost) counted them: the marker's put and the increment are one
        transaction, conditional on the marker's absence."""
        tenant_id, month, user = active
        marker = to_item({PARTITION_KEY: tenant_id, SORT_KEY: active_user_key(moment, user),
                          EXPIRES_AT: marker_expires_at(moment)})
        try:
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self._table, "Item": marker,
                         "ConditionExpression": "attribute_not_exists(#period)",
                         "ExpressionAttributeNames": {"#period": SORT_KEY}}},
                {"Update": {"TableName": self._table,
                            "Key": to_item({PARTITION_KEY: tenant_id, SORT_KEY: month}),
                            "UpdateExpression": "ADD #users :one",
                            "ExpressionAttributeNames": {"#users": ACTIVE_USERS},
                            "ExpressionAttributeValues": to_item({":one": 1})}}])
        except client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
                raise
        with self._lock:
            self._counted[active] = None
            while len(self._counted) > MAX_COUNTED_USERS:
                self._counted.popitem(last=False)

    def _dynamodb(self) -> DynamoDBClient:
        with self._lock:
            if self._client is None:
                source = self._source
                self._client = source() if callable(source) else source
            return self._client

    def _update(self, row: Row, amounts: Amounts) -> dict[str, Any]:
        tenant_id, period = row
        names = {f"#a{index}": name for index, name in enumerate(amounts)}
        values: dict[str, object] = {f":a{index}": amount
                                     for index, amount in enumerate(amounts.values())}
        expression = "ADD " + ", ".join(f"#a{index} :a{index}" for index in range(len(amounts)))
        parsed = parse_period(period)
        if parsed.granularity is Granularity.HOUR:
            names["#expires"] = EXPIRES_AT
            values[":expires"] = expires_at(parsed.start)
            expression += " SET #expires = :expires"
        return {"TableName": self._table,
                "Key": to_item({PARTITION_KEY: tenant_id, SORT_KEY: period}),
                "UpdateExpression": expression, "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values)}


def _add(into: Amounts, amounts: Mapping[str, Decimal]) -> None:
    for name, amount in amounts.items():
        into[name] = into.get(name, Decimal(0)) + amount


def _parts(amounts: Amounts) -> Iterator[Amounts]:
    """A row's numbers in writes of at most ``MAX_ATTRIBUTES_PER_WRITE``: disjoint, so one
    failing is retried alone and counted once."""
    items = [(name, amount) for name, amount in amounts.items() if amount]
    for start in range(0, len(items), MAX_ATTRIBUTES_PER_WRITE):
        yield dict(items[start:start + MAX_ATTRIBUTES_PER_WRITE])
