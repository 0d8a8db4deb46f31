"""The billing export: a UTC month's usage per tenant and meter, priced, as CSV rows and as
events a billing provider integration (Stripe-like) can consume. No provider is called.

A month is ``[YYYY-MM-01T00:00Z, first of the next month T00:00Z)``: usage recorded at
23:59:59 on its last day is in it, at 00:00 on the next month's first day is not (the usage
table's daily rows are UTC days). Its figures are the usage report's: the same daily rows, the
same mapping onto the cost model and the same storage reckoning
(``pipeline.usage.report_model.build_report`` over the month's days), priced by the ONE cost
model. A month still running can be exported: its lines say ``final: false`` and cover the
days up to today (today's included, as far as it was flushed).

Lines: one per tenant and meter (``Meter``). Quantities are exact decimals (written as strings,
never floats); each line's estimated cost is its cost-model component rounded to the cent, and
``estimated_cost_total`` is the model's total (rounded once, after summing: the lines' cents
may differ from it by a cent or so). ``tierPriceUsd`` on every line is what the tenant's tier
charges for the month (``revenue_of`` over its days, as the report counts it).

Idempotency: a line's key is a UUID 5 of ``tenantId|month|meter|version``, the same on every
run, so a provider deduplicates a re-sent export. A provider keeps the first event it sees
under a key, so only ``final`` lines should be submitted: a running month's lines are a
preview whose quantities still grow. Final means the month ended at least ``SETTLE`` ago (the
meters flush every 60 s; an hour covers a late flush), or the tenant was offboarded (its usage
ends with its erasure; ``final_invoice``).

Known limits: the tier is the tenant's tier at export time (a move within the month is not
split); tenants are those with a record (an offboarded tenant's last months are in its
offboarding export); log volume is not measured (no line).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pipeline.usage.report_model import TenantSummary, build_report
from tenant_context.attribute_values import from_item, to_item
from tenant_context.errors import BadRequestError
from tenant_context.platform.cost_model import MB_MS_PER_GB_SECOND, Prices, to_cents
from tenant_context.platform.tenant_records import TenantRecord, every_tenant, tenant_record
from tenant_context.platform.usage_records import HISTORY_START, UsageRecords, UsageRow
from tenant_context.service.validation import whole_number
from tenant_context.tenancy import Tier
from tenant_context.usage_periods import month_start, next_month

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

EVENT_SCHEMA = "serverless-saas-billing-event/1"
EXPORT_FORMAT = "serverless-saas-billing-export/1"
KEY_VERSION = "1"  # part of every idempotency key: a new version means new keys
# Fixed for good: changing it changes every key a provider has already seen.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c2b4e-6a43-5d8e-9c1e-2b7a1f0d9e35")
SETTLE = timedelta(hours=1)
CSV_COLUMNS = ("month", "tenant_id", "tenant_name", "tier", "meter", "quantity", "unit",
               "estimated_cost_usd", "tier_price_usd", "final", "idempotency_key")


class BadMonthError(ValueError):
    """A month the command line or a caller gave that cannot be exported."""


@dataclass(frozen=True, order=True)
class BillingMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> BillingMonth:
        """``YYYY-MM`` exactly (``2026-11``); anything else is ``BadMonthError``."""
        year, dash, month = text.partition("-")
        try:
            if not (dash and len(year) == 4 and len(month) == 2):
                raise BadRequestError(text)
            return cls(whole_number(year, "year", 1, 9998), whole_number(month, "month", 1, 12))
        except BadRequestError:
            raise BadMonthError(f"{text!r} is not a month: YYYY-MM, as 2026-11") from None

    @classmethod
    def of(cls, moment: datetime) -> BillingMonth:
        start = month_start(moment)
        return cls(start.year, start.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return next_month(self.start)

    def previous(self) -> BillingMonth:
        return BillingMonth.of(self.start - timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def check_begun(month: BillingMonth, now: datetime) -> None:
    """A month not begun yet has no usage to export: ``BadMonthError``."""
    if month.start > now:
        raise BadMonthError(f"{month} has not begun (it is {now.astimezone(UTC):%Y-%m} now, "
                            f"UTC)")


class Meter(StrEnum):
    """What a line counts, and its unit (``UNITS``)."""

    REQUESTS = "requests"  # answered requests: API Gateway and Lambda bill each
    THROTTLED_REQUESTS = "throttled_requests"  # 429s: demand refused, billed by neither
    LAMBDA_GB_SECONDS = "lambda_gb_seconds"
    READ_UNITS = "dynamodb_read_units"
    WRITE_UNITS = "dynamodb_write_units"
    STORED_BYTE_HOURS = "dynamodb_stored_byte_hours"  # bytes stored x hours: exact
    ACTIVE_USERS = "monthly_active_users"  # distinct users with a request in the month
    PLATINUM_ALARMS = "platinum_alarms"  # a Platinum stack's fixed alarms (Platinum only)
    ESTIMATED_COST_TOTAL = "estimated_cost_total"  # the cost model's total, in USD


UNITS = {Meter.REQUESTS: "requests", Meter.THROTTLED_REQUESTS: "requests",
         Meter.LAMBDA_GB_SECONDS: "GB-seconds", Meter.READ_UNITS: "read request units",
         Meter.WRITE_UNITS: "write request units", Meter.STORED_BYTE_HOURS: "byte-hours",
         Meter.ACTIVE_USERS: "users", Meter.PLATINUM_ALARMS: "alarms",
         Meter.ESTIMATED_COST_TOTAL: "USD"}


def idempotency_key(tenant_id: str, month: BillingMonth, meter: Meter) -> str:
    """The same tenant, month and meter: the same key, on every run and every machine."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE,
                          "|".join((tenant_id, str(month), meter.value, KEY_VERSION))))


def exact(number: Decimal) -> str:
    """A quantity as an exact decimal string, never in exponent form (``1E+3``)."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class BillingLine:
    tenant_id: str
    tenant_name: str
    tier: Tier
    month: BillingMonth
    meter: Meter
    quantity: Decimal
    estimated_cost: Decimal  # USD, to the cent
    tier_price: Decimal  # USD, to the cent
    final: bool

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.tenant_id, self.month, self.meter)

    def event(self, generated_at: datetime) -> dict[str, Any]:
        """The documented JSON event (README "Billing export")."""
        return {"schema": EVENT_SCHEMA, "idempotencyKey": self.idempotency_key,
                "tenantId": self.tenant_id, "tenantName": self.tenant_name,
                "tier": self.tier.value, "month": str(self.month),
                "periodStart": _moment(self.month.start), "periodEnd": _moment(self.month.end),
                "meter": self.meter.value, "quantity": exact(self.quantity),
                "unit": UNITS[self.meter], "estimatedCostUsd": f"{self.estimated_cost:f}",
                "tierPriceUsd": f"{self.tier_price:f}", "currency": "USD",
                "final": self.final, "generatedAt": _moment(generated_at)}

    def csv_row(self) -> tuple[str, ...]:
        return (str(self.month), self.tenant_id, self.tenant_name, self.tier.value,
                self.meter.value, exact(self.quantity), UNITS[self.meter],
                f"{self.estimated_cost:f}", f"{self.tier_price:f}",
                "true" if self.final else "false", self.idempotency_key)


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def tenant_lines(summary: TenantSummary, month: BillingMonth, final: bool,
                 prices: Prices) -> list[BillingLine]:
    """One tenant's month (``summary``: the report model's, over the month's days) as lines."""
    usage, cost = summary.usage, summary.cost
    quantities: list[tuple[Meter, Decimal, Decimal]] = [
        (Meter.REQUESTS, Decimal(usage.api_requests),
         cost.api_gateway_requests + cost.lambda_requests),
        (Meter.THROTTLED_REQUESTS, Decimal(summary.throttled), Decimal(0)),
        (Meter.LAMBDA_GB_SECONDS, usage.lambda_mb_ms / MB_MS_PER_GB_SECOND,
         cost.lambda_compute),
        (Meter.READ_UNITS, usage.read_request_units, cost.dynamodb_reads),
        (Meter.WRITE_UNITS, usage.write_request_units, cost.dynamodb_writes),
        (Meter.STORED_BYTE_HOURS, Decimal(usage.stored_byte_hours), cost.dynamodb_storage),
        (Meter.ACTIVE_USERS, Decimal(usage.monthly_active_users), cost.cognito_users)]
    if summary.tier is Tier.PLATINUM:
        quantities.append((Meter.PLATINUM_ALARMS, Decimal(prices.platinum_alarms),
                           cost.platinum_alarms))
    quantities.append((Meter.ESTIMATED_COST_TOTAL, cost.total, cost.total))
    return [BillingLine(summary.tenant_id, summary.name, summary.tier, month, meter, quantity,
                        to_cents(amount), summary.revenue, final)
            for meter, quantity, amount in quantities]


def events_document(lines: Sequence[BillingLine], generated_at: datetime) -> dict[str, Any]:
    """The JSON file: its format, when, and the events."""
    return {"format": EXPORT_FORMAT, "generatedAt": _moment(generated_at),
            "events": [line.event(generated_at) for line in lines]}


def csv_text(lines: Iterable[BillingLine]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(line.csv_row() for line in lines)
    return buffer.getvalue()


def _created(record: TenantRecord) -> BillingMonth | None:
    """The month the tenant was created in (None: not recorded, or not a zoned time)."""
    try:
        created = datetime.fromisoformat(record.created_at)
    except ValueError:
        return None
    return BillingMonth.of(created) if created.tzinfo is not None else None


def _system_clock() -> datetime:
    return datetime.now(UTC)


class BillingExport:
    """Reads the tenant records and the usage table, and prices months into lines."""

    def __init__(self, dynamodb: DynamoDBClient, usage_table: str, tenant_details_table: str,
                 prices: Prices, clock: Callable[[], datetime] = _system_clock) -> None:
        self._dynamodb = dynamodb
        self._usage = UsageRecords(dynamodb, usage_table)
        self._details = tenant_details_table
        self._prices = prices
        self._clock = clock

    def month(self, month: BillingMonth, tenant_id: str | None = None) -> list[BillingLine]:
        """Every tenant's lines of ``month`` (or ``tenant_id``'s only), by tenant id then
        meter. A month not begun yet is ``BadMonthError``; an unknown (or offboarded) tenant is
        ``LookupError``. Tenants whose record was created after the month are left out."""
        now = self._clock()
        check_begun(month, now)
        if tenant_id is not None:
            record = self.tenant(tenant_id)
            if record is None:
                raise LookupError(f"no tenant {tenant_id} (unknown, or offboarded)")
            records = [record]
        else:
            records = [record for record in self.tenants()
                       if not record.created_at or record.created_at < month.end.isoformat()]
        return self._lines(records, month, final=now >= month.end + SETTLE, now=now)

    def final_invoice(self, record: TenantRecord) -> list[BillingLine]:
        """An offboarding tenant's last lines, all final: the current month and the previous
        one (not before the month the tenant was created), and every earlier month it has
        usage rows for, so no row the erasure removes was never exported."""
        now = self._clock()
        current = BillingMonth.of(now)
        rows = self._days(record.tenant_id, now)
        months = {current, current.previous()}
        if (created := _created(record)) is not None:
            months = {month for month in months if month >= created} or {current}
        months |= {BillingMonth.of(row.period.start) for row in rows}
        lines: list[BillingLine] = []
        for month in sorted(months):
            lines += self._lines([record], month, final=True, now=now, rows=rows)
        return lines

    def tenant(self, tenant_id: str) -> TenantRecord | None:
        found = self._dynamodb.get_item(TableName=self._details, ConsistentRead=True,
                                        Key=to_item({"tenantId": tenant_id}))
        return tenant_record(from_item(found["Item"]) if "Item" in found else None)

    def tenants(self) -> Iterator[TenantRecord]:
        """Every tenant's record (an offboarded tenant's tombstone is none)."""
        return every_tenant(self._dynamodb, self._details)

    def _days(self, tenant_id: str, until: datetime) -> list[UsageRow]:
        return self._usage.days(tenant_id, HISTORY_START, until)

    def _lines(self, records: Sequence[TenantRecord], month: BillingMonth, *, final: bool,
               now: datetime, rows: Sequence[UsageRow] | None = None) -> list[BillingLine]:
        """``rows``: the records' daily rows up to the month's end at least (read if None)."""
        # The month's days up to today's (a running month, an offboarding's last month).
        end = min(month.end.date(), now.astimezone(UTC).date() + timedelta(days=1))
        if rows is None:
            rows = [row for record in records for row in self._days(record.tenant_id,
                                                                    month.end)]
        report = build_report(rows, records, self._prices, month.start.date(), end,
                              active_users={record.tenant_id: self._usage.active_users(
                                  record.tenant_id, month.start, month.end)
                                  for record in records})
        summaries: Mapping[str, TenantSummary] = {
            summary.tenant_id: summary for summary in (*report.tenants, *report.idle_tenants)}
        lines: list[BillingLine] = []
        for tenant_id in sorted(summaries):
            lines += tenant_lines(summaries[tenant_id], month, final, self._prices)
        return lines
