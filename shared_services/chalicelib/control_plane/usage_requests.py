"""The admin API's usage routes: the range a caller asks for, who may read whose usage, and a
tenant's figures with their estimated cost.

- ``GET /tenant/{id}/usage``: SystemAdmin and CustomerSupport any tenant, a TenantAdmin its own;
  who may see the tenant is ``TenantManagement.get``'s rule, so another tenant's id, an unknown
  id and an offboarded tenant's (its tombstone) are all 404, and a TenantUser is 403, as for
  ``GET /tenant/{id}``. (Through the gateway a TenantAdmin's policy names only its own
  tenant's paths: another tenant's is refused there, 403, before the handler.)
- ``GET /usage``: SystemAdmin only; every tenant's daily rows, a page at a time.

The range, ``?from=&to=``: each an ISO 8601 date (``2026-12-01``, its midnight UTC) or a
date-time with its zone (``2026-12-01T10:00:00Z``, ``...+02:00``; a ``+`` in a query string is
sent ``%2B``), half-open ``[from, to)``. Defaults: ``to`` now, ``from`` 7 days before ``to``.
``from`` must be before ``to``, at most 366 days apart, and both within 1970 to 9998. The usage
table counts whole UTC hours, so the range counted is the requested one widened to whole
hours (``from`` down, ``to`` up): the answer states that range, and its cost and revenue are
for its length. Usage is read with the function's own role: no caller's scoped credentials
reach the usage table (its figures are the API's to show, after the checks here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.control_plane.tenant_management import TenantManagement
from tenant_context.errors import BadRequestError, ForbiddenError
from tenant_context.platform.cost_model import Prices, TenantCost, cost_of, revenue_of
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.platform.usage_records import (
    MAX_PAGE_SIZE,
    SERVICE_FUNCTION_MEMORY_MB,
    UsageFigures,
    UsagePage,
    UsageRecords,
    UsageRow,
    tenant_usage,
)
from tenant_context.service.context import TenantContext
from tenant_context.service.validation import whole_number
from tenant_context.tenancy import Role
from tenant_context.usage_periods import Granularity, period_start

DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE = timedelta(days=366)
HOURS_UP_TO = timedelta(hours=48)  # a range this long or shorter also lists its hours
DEFAULT_PAGE_SIZE = 100
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)  # exclusive: widening to the hour stays in range
FROM, TO, LIMIT, NEXT_TOKEN = "from", "to", "limit", "nextToken"
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
# ASCII digits only (``fromisoformat`` alone also takes ``20261201``, week dates and more).
MOMENT = re.compile(
    rf"{_DATE}(?:T[0-9]{{2}}:[0-9]{{2}}(?::[0-9]{{2}}(?:\.[0-9]{{1,6}})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?)?")
MOMENT_FORM = ("an ISO 8601 date (2026-12-01) or date-time with its zone "
               "(2026-12-01T10:00:00Z, or +hh:mm sent as %2Bhh:mm)")


@dataclass(frozen=True)
class UsageRange:
    """``[start, end)`` on whole UTC hours."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / timedelta(hours=1))

    @property
    def days(self) -> Decimal:
        """Its length in days, for the cost model's monthly figures (``hours / 24``)."""
        return Decimal(self.hours) / 24

    @property
    def lists_hours(self) -> bool:
        return self.end - self.start <= HOURS_UP_TO


def parse_moment(raw: str, name: str) -> datetime:
    """A ``from`` or ``to`` value; 400 naming the parameter otherwise."""
    def refuse(why: str) -> BadRequestError:
        return BadRequestError(f"{name}: {why}", fields=[name])

    if not MOMENT.fullmatch(raw):
        raise refuse(f"must be {MOMENT_FORM}, not {raw[:40]!r}")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise refuse(f"not a real date or time: {raw!r}") from None
    if len(raw) > len("2026-12-01") and moment.tzinfo is None:
        raise refuse(f"a date-time needs its zone (Z or +hh:mm): {raw!r}")
    out_of_range = refuse(f"must lie from {EARLIEST.date()} to before {LATEST.date()}: "
                          f"{raw!r}")
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset past datetime's first or last year
        raise out_of_range from None
    if not EARLIEST <= moment < LATEST:
        raise out_of_range
    return moment


def usage_range(params: Mapping[str, str], now: datetime) -> UsageRange:
    """The range a query asks for (see the module's docstring), widened to whole hours."""
    end = parse_moment(params[TO], TO) if TO in params else now
    start = parse_moment(params[FROM], FROM) if FROM in params else end - DEFAULT_RANGE
    both = [FROM, TO]
    if start >= end:
        raise BadRequestError(f"from ({utc_text(start)}) must be before to ({utc_text(end)})",
                              fields=both)
    if end - start > MAX_RANGE:
        raise BadRequestError(f"from {utc_text(start)} to {utc_text(end)} is more than "
                              f"{MAX_RANGE.days} days: ask for a year at most", fields=both)
    first = period_start(Granularity.HOUR, start)
    last = period_start(Granularity.HOUR, end)
    return UsageRange(first, last if last == end else last + timedelta(hours=1))


def page_size(params: Mapping[str, str]) -> int:
    raw = params.get(LIMIT)
    return DEFAULT_PAGE_SIZE if raw is None else whole_number(raw, LIMIT, 1, MAX_PAGE_SIZE)


def page_token(params: Mapping[str, str]) -> str | None:
    """``nextToken`` as sent; an empty one is refused (read as none, a client that lost its
    token would start over, for ever)."""
    token = params.get(NEXT_TOKEN)
    if token is not None and not token:
        raise BadRequestError("nextToken: empty (leave it out for the first page)",
                              fields=[NEXT_TOKEN])
    return token


def utc_text(moment: datetime) -> str:
    """``2026-12-01T10:00:00Z``: how the usage routes write a moment."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class EstimatedCost:
    cost: TenantCost
    revenue: Decimal  # what the tenant's tier pays for the range's length, to the cent


@dataclass(frozen=True)
class TenantUsageReport:
    tenant: TenantRecord
    range: UsageRange
    totals: UsageFigures  # the range's whole hours
    days: list[UsageRow]  # every UTC day the range touches, whole days
    hours: list[UsageRow] | None  # its hours, for a range of at most ``HOURS_UP_TO``
    active_users: int  # each month's distinct users the range touches, summed
    estimate: EstimatedCost


@dataclass(frozen=True)
class UsageListing:
    range: UsageRange
    page: UsagePage


class UsageRequests:
    """Who may read whose usage, over which range, and what it cost."""

    def __init__(self, caller: TenantContext, tenants: TenantManagement,
                 records: UsageRecords, prices: Callable[[], Prices],
                 clock: Callable[[], datetime]) -> None:
        """``tenants``: the caller's view of the tenant records (its rule decides who sees
        which tenant); ``records``: the usage table with the function's own role;
        ``prices``: read on first use (``cost_model.published_prices``)."""
        self._caller = caller
        self._tenants = tenants
        self._records = records
        self._prices = prices
        self._clock = clock

    def of_tenant(self, tenant_id: str, params: Mapping[str, str]) -> TenantUsageReport:
        tenant = self._tenants.get(tenant_id)  # 403 for a role, 404 for a tenant out of reach
        wanted = usage_range(params, self._clock())
        totals = self._records.totals(tenant.tenant_id, wanted.start, wanted.end)
        active_users = self._records.active_users(tenant.tenant_id, wanted.start, wanted.end)
        byte_hours = self._records.stored_byte_hours(tenant.tenant_id, wanted.start, wanted.end)
        prices = self._prices()
        return TenantUsageReport(
            tenant=tenant, range=wanted, totals=totals,
            days=self._records.days(tenant.tenant_id, wanted.start, wanted.end),
            hours=(self._records.hours(tenant.tenant_id, wanted.start, wanted.end)
                   if wanted.lists_hours else None),
            active_users=active_users,
            estimate=EstimatedCost(
                cost_of(tenant_usage(totals, SERVICE_FUNCTION_MEMORY_MB, active_users,
                                     byte_hours), tenant.tier, prices, wanted.days),
                revenue_of(tenant.tier, prices, wanted.days)))

    def of_every_tenant(self, params: Mapping[str, str]) -> UsageListing:
        if self._caller.role is not Role.SYSTEM_ADMIN:
            raise ForbiddenError(f"{self._caller.role} may not do this: every tenant's usage "
                                 "is for a SystemAdmin")
        limit, token = page_size(params), page_token(params)
        wanted = usage_range(params, self._clock())
        return UsageListing(wanted, self._records.tenants_days(wanted.start, wanted.end, limit,
                                                               token))
