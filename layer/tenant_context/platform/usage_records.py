"""Reading the usage table: one tenant's hours or days, totals over a range, and every
tenant's days (the admin's view), as typed rows.

The rows are written by the usage meter (``tenant_context.service.usage_meter``); keys and
attribute names are ``tenant_context.usage_periods``. A range is half-open, ``[start, end)``,
and counts whole periods: every hour (or day) whose start lies from the one holding ``start``
up to before ``end``. Hourly rows expire 35 days after their hour; daily rows are kept, so
``totals`` reads days where it can and hours only at a range's partial-day edges.

What the rows hold is what was flushed: each writer's last ``flush_every_seconds`` are not in
them yet (see the meter's flush policy).

``tenant_usage`` turns figures into what the cost model prices (``cost_model.TenantUsage``),
for the admin API's usage routes and whatever else prices measured usage.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from tenant_context.attribute_values import from_item, to_item
from tenant_context.errors import BadRequestError
from tenant_context.platform.cost_model import TenantUsage
from tenant_context.usage_periods import (
    ACTIVE_USERS,
    BYTES_PREFIX,
    DURATION_MS,
    ITEMS_PREFIX,
    PARTITION_KEY,
    READ_UNITS,
    SORT_KEY,
    THROTTLED,
    WRITE_UNITS,
    Granularity,
    Period,
    is_usage_key,
    month_key,
    parse_kind_attribute,
    parse_period,
    parse_requests_attribute,
    period_key,
    period_start,
    utc,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

MAX_PAGE_SIZE = 1000
HISTORY_START = datetime(2000, 1, 1, tzinfo=UTC)  # before any usage row: a whole history
# What the tenant services' functions run with: Chalice's default, as no service's stage sets
# ``lambda_memory_size`` (tests/shared_services/test_usage_routes.py keeps it so).
SERVICE_FUNCTION_MEMORY_MB = 128
# A filtered Scan may find nothing in a call: a page makes at most this many before it returns
# what it has (possibly nothing) with a token to go on.
MAX_SCAN_CALLS_PER_PAGE = 10
_LAST_MOMENT = timedelta(microseconds=1)
_BATCH_WRITE_SIZE = 25  # DynamoDB's most requests in one BatchWriteItem
_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # seconds, for what DynamoDB left unprocessed
_Key = TypeVar("_Key")


@dataclass(frozen=True, kw_only=True)
class UsageFigures:
    """Usage over some time: requests by (route, status), the 429s among them, handling time,
    DynamoDB capacity units, and the net change in stored items and bytes by kind."""

    requests: Mapping[tuple[str, int], int] = field(default_factory=dict)
    throttled: int = 0
    duration_ms: Decimal = Decimal(0)
    read_units: Decimal = Decimal(0)  # Decimal: DynamoDB counts halves, and prices multiply
    write_units: Decimal = Decimal(0)
    item_deltas: Mapping[str, int] = field(default_factory=dict)
    byte_deltas: Mapping[str, int] = field(default_factory=dict)

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    def requests_by_route(self) -> dict[str, int]:
        by_route: dict[str, int] = {}
        for (route, _), count in self.requests.items():
            by_route[route] = by_route.get(route, 0) + count
        return by_route


@dataclass(frozen=True, kw_only=True)
class UsageRow(UsageFigures):
    """One tenant's usage in one hour or day (UTC)."""

    tenant_id: str
    period: Period


@dataclass(frozen=True)
class UsagePage:
    rows: tuple[UsageRow, ...]
    next_token: str | None  # None: nothing further


def total(figures: Iterable[UsageFigures]) -> UsageFigures:
    """The sum of rows (or of totals)."""
    requests: dict[tuple[str, int], int] = {}
    items: dict[str, int] = {}
    sizes: dict[str, int] = {}
    throttled = 0
    duration = read = write = Decimal(0)
    for each in figures:
        _add(requests, each.requests)
        _add(items, each.item_deltas)
        _add(sizes, each.byte_deltas)
        throttled += each.throttled
        duration += each.duration_ms
        read += each.read_units
        write += each.write_units
    return UsageFigures(requests=requests, throttled=throttled, duration_ms=duration,
                        read_units=read, write_units=write, item_deltas=items, byte_deltas=sizes)


def _add(sums: dict[_Key, int], parts: Mapping[_Key, int]) -> None:
    for key, value in parts.items():
        sums[key] = sums.get(key, 0) + value


def stored_bytes_by_day(rows: Iterable[UsageRow], days: Sequence[date]) -> list[int]:
    """What a tenant stores at the end of each of ``days`` (consecutive UTC days, oldest
    first), from its daily ``rows``: the sum of every byte change up to that day, from its first
    row on (rows before ``days`` count, later ones not), never below 0. Its storage is priced
    as that for all of the day's 24 hours: a day's writes count from its start, over by at
    most one day's change. Items stored before the tenant's first metered write are not known
    (no baseline is taken)."""
    first = days[0] if days else None
    changes: dict[date, int] = {}
    stored = 0
    for row in rows:
        if row.period.granularity is not Granularity.DAY:
            continue
        day, change = row.period.start.date(), sum(row.byte_deltas.values())
        if first is not None and day < first:
            stored += change
        else:
            changes[day] = changes.get(day, 0) + change
    by_day = []
    for day in days:
        stored += changes.get(day, 0)
        by_day.append(max(stored, 0))
    return by_day


def tenant_usage(figures: UsageFigures, function_memory_mb: int,
                 monthly_active_users: int = 0, stored_byte_hours: int = 0) -> TenantUsage:
    """What the cost model prices (``cost_model.TenantUsage``) from what the meter measured,
    for functions of ``function_memory_mb`` (``SERVICE_FUNCTION_MEMORY_MB``).

    - API Gateway and Lambda requests: every request but the 429s. A usage plan's 429 never
      reaches a function, and API Gateway bills no throttled request (nor one failing
      authorization, which the meter never sees).
    - Lambda compute: the summed handling time, rounded up to the millisecond once, times the
      memory. Lambda rounds each invocation up, so this is under by less than 1 ms a request.
    - Request units: as DynamoDB reported them (locally, the emulator's constant per call).
    - Cognito users: ``monthly_active_users`` (``UsageRecords.active_users``: distinct users
      with a request in each month, summed over the months priced; a user who signed in and
      made no request is not seen).
    - Storage: ``stored_byte_hours`` (``UsageRecords.stored_byte_hours``: the rows hold the
      net CHANGE in stored bytes, so what is stored is added up from the tenant's first row).
    - Logs: 0, not measured: log volume is not attributed to tenants.
    """
    answered = figures.request_count - figures.throttled
    return TenantUsage(
        api_requests=answered, lambda_invocations=answered,
        lambda_mb_ms=math.ceil(figures.duration_ms) * function_memory_mb,
        read_request_units=figures.read_units, write_request_units=figures.write_units,
        stored_byte_hours=stored_byte_hours, monthly_active_users=monthly_active_users,
        log_bytes_ingested=0,
        log_stored_byte_hours=0)


def usage_row(item: Mapping[str, Any]) -> UsageRow:
    """A row from its DynamoDB item (low-level format); attributes it does not know are left
    out (``expiresAt``, anything a later writer adds)."""
    values = from_item(item)
    requests: dict[tuple[str, int], int] = {}
    items: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for name, value in values.items():
        if (route_status := parse_requests_attribute(name)) is not None:
            requests[route_status] = int(value)
        elif (kind := parse_kind_attribute(name, ITEMS_PREFIX)) is not None:
            items[kind] = int(value)
        elif (kind := parse_kind_attribute(name, BYTES_PREFIX)) is not None:
            sizes[kind] = int(value)

    def number(name: str) -> Decimal:
        value = values.get(name, 0)
        return value if isinstance(value, Decimal) else Decimal(value)

    return UsageRow(tenant_id=str(values[PARTITION_KEY]),
                    period=parse_period(str(values[SORT_KEY])), requests=requests,
                    throttled=int(number(THROTTLED)), duration_ms=number(DURATION_MS),
                    read_units=number(READ_UNITS), write_units=number(WRITE_UNITS),
                    item_deltas=items, byte_deltas=sizes)


def _bounds(granularity: Granularity, start: datetime, end: datetime) -> tuple[str, str]:
    """The first and last period keys of ``[start, end)``."""
    try:
        start, end = utc(start), utc(end)
    except ValueError as error:
        raise BadRequestError(str(error)) from None
    if end <= start:
        raise BadRequestError(f"the range's end ({end.isoformat()}) is not after its start "
                              f"({start.isoformat()})")
    return period_key(granularity, start), period_key(granularity, end - _LAST_MOMENT)


def _encode_token(key: Mapping[str, Any]) -> str:
    values = from_item(key)
    text = json.dumps([str(values[PARTITION_KEY]), str(values[SORT_KEY])])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    """A token this reader gave; anything else is the caller's mistake (400), never a 5xx."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        tenant_id, period = json.loads(text)
        if not (isinstance(tenant_id, str) and tenant_id and isinstance(period, str)
                and is_usage_key(period)):  # a scan may stop on any row: a month's, a user's
            raise ValueError(text)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise BadRequestError("not a next token of this listing", fields=["nextToken"]) from None
    return to_item({PARTITION_KEY: tenant_id, SORT_KEY: period})


class UsageRecords:
    """The usage table, read (and a tenant's rows removed, when an offboarding erases it)."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._sleep = sleep  # between retries of a removal's unprocessed rows

    def hours(self, tenant_id: str, start: datetime, end: datetime) -> list[UsageRow]:
        """The tenant's hourly rows of ``[start, end)``, oldest first (35 days back at most:
        older hours have expired)."""
        return self._query(tenant_id, *_bounds(Granularity.HOUR, start, end))

    def days(self, tenant_id: str, start: datetime, end: datetime) -> list[UsageRow]:
        """The tenant's daily rows of ``[start, end)``, oldest first."""
        return self._query(tenant_id, *_bounds(Granularity.DAY, start, end))

    def totals(self, tenant_id: str, start: datetime, end: datetime) -> UsageFigures:
        """The tenant's usage over ``[start, end)``: the whole days in it from the daily rows,
        the hours of a partial first or last day from the hourly rows (whole hours)."""
        _bounds(Granularity.HOUR, start, end)  # refuses a bad range
        start = period_start(Granularity.HOUR, start)
        end = utc(end)
        first_day = period_start(Granularity.DAY, start)
        if first_day < start:
            first_day += timedelta(days=1)
        last_day = period_start(Granularity.DAY, end)
        if first_day >= last_day:  # no whole day in the range
            return total(self.hours(tenant_id, start, end))
        rows: list[UsageRow] = self.days(tenant_id, first_day, last_day)
        if start < first_day:
            rows += self.hours(tenant_id, start, first_day)
        if last_day < end:
            rows += self.hours(tenant_id, last_day, end)
        return total(rows)

    def active_users(self, tenant_id: str, start: datetime, end: datetime) -> int:
        """The tenant's monthly active users, summed over the months ``[start, end)`` touches
        (what Cognito bills: each month's distinct users, month by month)."""
        _bounds(Granularity.HOUR, start, end)  # refuses a bad range
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#tenant = :tenant AND #period BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#tenant": PARTITION_KEY, "#period": SORT_KEY},
            "ExpressionAttributeValues": to_item({
                ":tenant": tenant_id, ":first": month_key(start),
                ":last": month_key(utc(end) - _LAST_MOMENT)})}
        count = 0
        while True:
            response = self._dynamodb.query(**request)
            count += sum(int(from_item(item).get(ACTIVE_USERS, 0))
                         for item in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return count
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def stored_byte_hours(self, tenant_id: str, start: datetime, end: datetime) -> int:
        """Bytes stored x hours over the whole hours of ``[start, end)``: each hour at what the
        tenant stores at the end of its day (``stored_bytes_by_day``, from its first row)."""
        _bounds(Granularity.HOUR, start, end)  # refuses a bad range
        start, end = period_start(Granularity.HOUR, start), utc(end)
        first_day = period_start(Granularity.DAY, start)
        days = [(first_day + timedelta(days=offset)).date()
                for offset in range((period_start(Granularity.DAY, end - _LAST_MOMENT)
                                     - first_day).days + 1)]
        last = datetime.combine(days[-1], datetime.min.time(), UTC) + timedelta(days=1)
        stored = stored_bytes_by_day(self.days(tenant_id, HISTORY_START, last), days)
        byte_hours = 0
        for day, size in zip(days, stored, strict=True):
            day_start = datetime.combine(day, datetime.min.time(), UTC)
            hours = (min(end, day_start + timedelta(days=1)) - max(start, day_start))
            byte_hours += size * math.ceil(hours.total_seconds() / 3600)
        return byte_hours

    def tenants_days(self, start: datetime, end: datetime, limit: int = 100,
                     next_token: str | None = None) -> UsagePage:
        """Every tenant's daily rows of ``[start, end)``, a page of at most ``limit`` rows,
        in no particular order of tenants (a tenant's days come together, oldest first).

        A Scan with a filter on the period keys: a Query needs a tenant id, and this view is
        for every tenant without a list of them. Its cost: a Scan reads (and is billed for)
        every item it passes, kept or not, so a full listing costs the whole table's size,
        35 days of hourly rows included, whatever the range: at ~0.5 KB a row, 1,000 tenants
        are ~600 MB, about 75,000 read units (eventually consistent), around a cent on demand,
        per full listing. Fine for an admin's occasional view; a report over many months, or
        many tenants, would want an index keyed by day (not built yet)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequestError(f"limit must be 1 to {MAX_PAGE_SIZE}", fields=["limit"])
        first, last = _bounds(Granularity.DAY, start, end)
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#period BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#period": SORT_KEY},
            "ExpressionAttributeValues": to_item({":first": first, ":last": last}),
        }
        if next_token:
            request["ExclusiveStartKey"] = _decode_token(next_token)
        rows: list[UsageRow] = []
        for _ in range(MAX_SCAN_CALLS_PER_PAGE):
            # At most what the page still lacks is examined, so nothing read is left out of
            # the page and the last key read is where the next page starts.
            response = self._dynamodb.scan(**request, Limit=limit - len(rows))
            rows += (usage_row(item) for item in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return UsagePage(tuple(rows), None)
            request["ExclusiveStartKey"] = last_key
            if len(rows) >= limit:
                break
        return UsagePage(tuple(rows), _encode_token(request["ExclusiveStartKey"]))

    def _query(self, tenant_id: str, first: str, last: str) -> list[UsageRow]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#tenant = :tenant AND #period BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#tenant": PARTITION_KEY, "#period": SORT_KEY},
            "ExpressionAttributeValues": to_item({":tenant": tenant_id, ":first": first,
                                                  ":last": last}),
        }
        rows: list[UsageRow] = []
        while True:
            response = self._dynamodb.query(**request)
            rows += (usage_row(item) for item in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return rows
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def row_count(self, tenant_id: str) -> int:
        """Every row the table holds for the tenant, hours and days (strongly consistent): the
        offboarding's verification expects 0 after its erasure."""
        return sum(page.get("Count", 0) for page in self._pages(tenant_id, Select="COUNT"))

    def remove_tenant(self, tenant_id: str) -> int:
        """Deletes every row of the tenant (hours and days), 25 a ``BatchWriteItem``, what
        DynamoDB leaves unprocessed sent again after a growing delay (a ``RuntimeError`` once
        the delays run out); how many were deleted. Safe to repeat: rows already gone are
        simply not found."""
        keys = [{PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}
                for page in self._pages(tenant_id, ProjectionExpression="#tenant, #period")
                for item in page.get("Items", [])]
        for start in range(0, len(keys), _BATCH_WRITE_SIZE):
            pending: Any = {self._table: [{"DeleteRequest": {"Key": key}}
                                          for key in keys[start:start + _BATCH_WRITE_SIZE]]}
            for delay in (*_RETRY_DELAYS, None):
                pending = self._dynamodb.batch_write_item(
                    RequestItems=pending).get("UnprocessedItems")
                if not pending:
                    break
                if delay is None:
                    raise RuntimeError(f"{self._table}: rows left unprocessed after retries")
                self._sleep(delay)
        return len(keys)

    def _pages(self, tenant_id: str, **extra: Any) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "#tenant = :tenant",
            "ExpressionAttributeNames": {"#tenant": PARTITION_KEY},
            "ExpressionAttributeValues": to_item({":tenant": tenant_id}), **extra}
        if "ProjectionExpression" in extra:
            request["ExpressionAttributeNames"]["#period"] = SORT_KEY
        while True:
            response: dict[str, Any] = dict(self._dynamodb.query(**request))
            yield response
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
