"""What ``make usage-report`` shows, computed: every tenant's usage per day, its estimated cost
against its tier's revenue, the tiers' totals, and the pooled tenants whose usage suggests a
silo. A pure model (rows, tenant records and prices in, a ``UsageReport`` out): no AWS call, no
clock, so the figures are checked to the cent without a platform (``report_html`` draws it,
``cli`` reads the tables).

Pricing goes through the ONE cost model (``tenant_context.platform.cost_model``), the usage
table's figures mapped as ``usage_records.tenant_usage`` maps them for the usage API, plus the
bytes a tenant stores, which that mapping leaves at 0: the rows hold each day's net change, so
what is stored on a day is the sum of every earlier day's change, and the report (with the
billing export, which prices through ``build_report``) adds them up from the tenant's first
row. What is measured nowhere (``NOT_MEASURED``) is priced as 0, and the page says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from tenant_context.platform.cost_model import (
    Prices,
    TenantCost,
    TenantUsage,
    cost_of,
    revenue_of,
    to_cents,
)
from tenant_context.platform.definitions import USAGE_PLANS, UsagePlan
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.platform.usage_records import (
    SERVICE_FUNCTION_MEMORY_MB,
    UsageFigures,
    UsageRow,
    stored_bytes_by_day,
    tenant_usage,
    total,
)
from tenant_context.tenancy import Tier
from tenant_context.usage_periods import Granularity

NOT_MEASURED = ("CloudWatch Logs",)  # Cognito: monthly active users are (users with a request)
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class SiloCriterion:
    """When a pooled tenant's usage suggests its own (Platinum) deployment: either

    - sustained demand: on at least ``sustained_days`` days of the range, its requests (429s
      included: they are demand its plan refused) exceeded ``quota_share`` of its tier plan's
      daily quota (``USAGE_PLANS``); the quota, not the plan's rate, because the quota binds
      first: Basic's 1,000 requests a day are 20 seconds at its 50 requests per second, so no
      pooled tenant can sustain half its plan's rate for longer than a minute or two a day;
    - cost: its estimated cost over the range exceeded ``revenue_share`` of what its tier
      earns over the range (both to the cent).

    Both comparisons are strict: exactly at the share is not above it."""

    quota_share: Decimal = Decimal("0.5")
    sustained_days: int = 3
    revenue_share: Decimal = Decimal("0.5")

    def describe(self) -> str:
        """The criterion in one sentence, as the page and the README state it."""
        return (f"a pooled tenant whose requests (429s included) were above "
                f"{_percent(self.quota_share)} of its tier plan's daily quota on at least "
                f"{self.sustained_days} days of the range, or whose estimated cost over the "
                f"range was above {_percent(self.revenue_share)} of its tier's revenue for "
                f"the range")


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


@dataclass(frozen=True)
class TenantDay:
    """One tenant's figures of one UTC day (zeros on a day without a row)."""

    day: date
    requests: int
    throttled: int
    cost: Decimal  # to the cent: that day's usage priced, a Platinum stack's day included


@dataclass(frozen=True)
class TenantSummary:
    """One tenant over the report's range."""

    tenant_id: str
    name: str
    tier: Tier
    days: tuple[TenantDay, ...]  # every day of the range, oldest first
    usage: TenantUsage
    cost: TenantCost
    revenue: Decimal  # its tier's price for the range, to the cent
    silo_reasons: tuple[str, ...] = ()  # empty: not a silo candidate

    @property
    def requests(self) -> int:
        return sum(day.requests for day in self.days)

    @property
    def throttled(self) -> int:
        return sum(day.throttled for day in self.days)

    @property
    def pooled(self) -> bool:
        return self.tier.is_pooled

    @property
    def label(self) -> str:
        """How the page names it: by name, with its id."""
        return f"{self.name} ({self.tenant_id})"


@dataclass(frozen=True)
class TierSummary:
    """One tier over the range: every listed tenant of it, those without usage included (they
    pay its price too)."""

    tier: Tier
    tenants: int
    requests: int
    throttled: int
    cost: Decimal  # the sum of its tenants' totals (each to the cent)
    revenue: Decimal


@dataclass(frozen=True)
class UsageReport:
    """The report over the UTC days ``[start, end)``."""

    start: date
    end: date  # the first day after the range
    tenants: tuple[TenantSummary, ...]  # the listed tenants with requests, by cost, highest first
    idle_tenants: tuple[TenantSummary, ...]  # listed, no request in the range, by name
    tiers: tuple[TierSummary, ...]  # in Tier's order, every tier
    criterion: SiloCriterion
    unlisted_tenant_ids: tuple[str, ...] = ()  # usage rows of no listed tenant (offboarded)
    not_measured: tuple[str, ...] = field(default=NOT_MEASURED)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.start + timedelta(days=offset)
                     for offset in range((self.end - self.start).days))

    @property
    def silo_candidates(self) -> tuple[TenantSummary, ...]:
        return tuple(tenant for tenant in self.tenants if tenant.silo_reasons)


def build_report(rows: Iterable[UsageRow], tenants: Iterable[TenantRecord], prices: Prices,
                 start: date, end: date, *, criterion: SiloCriterion | None = None,
                 plans: Mapping[str, UsagePlan] = USAGE_PLANS,
                 function_memory_mb: int = SERVICE_FUNCTION_MEMORY_MB,
                 active_users: Mapping[str, int] | None = None) -> UsageReport:
    """The report of the UTC days ``[start, end)`` from every tenant's daily rows up to
    ``end`` (hourly rows are left out) and the tenant records (tombstones already left out);
    ``active_users``: each tenant's monthly active users over the months the range touches
    (``UsageRecords.active_users``; a tenant not named has none), priced as Cognito's.

    Rows before ``start`` count only towards what a tenant stores: a day's storage is what is
    stored at its end, for all its 24 hours (a day's writes count from its start: over by at
    most a day's change), never below 0. A row of no listed tenant is named, not priced: its
    tier is unknown."""
    if end <= start:
        raise ValueError(f"the report's end ({end}) is not after its start ({start})")
    criterion = criterion or SiloCriterion()
    days = [start + timedelta(days=offset) for offset in range((end - start).days)]
    by_tenant: dict[str, dict[date, UsageRow]] = {}
    for row in rows:
        day = row.period.start.date()
        if row.period.granularity is Granularity.DAY and day < end:
            by_tenant.setdefault(row.tenant_id, {})[day] = row
    listed = {record.tenant_id: record for record in tenants}
    every = [_tenant_summary(record, by_tenant.get(tenant_id, {}), prices, days, criterion,
                             plans[record.tier.value], function_memory_mb,
                             (active_users or {}).get(tenant_id, 0))
             for tenant_id, record in listed.items()]
    summaries = sorted((each for each in every if each.requests),
                       key=lambda each: (-each.cost.total, each.name, each.tenant_id))
    idle = sorted((each for each in every if not each.requests),
                  key=lambda each: (each.name, each.tenant_id))
    unlisted = {tenant_id for tenant_id, tenant_rows in by_tenant.items()
                if tenant_id not in listed and any(row.request_count
                                                   for day, row in tenant_rows.items()
                                                   if day >= start)}
    return UsageReport(
        start=start, end=end, tenants=tuple(summaries), idle_tenants=tuple(idle),
        tiers=_tier_summaries(every, prices, len(days)), criterion=criterion,
        unlisted_tenant_ids=tuple(sorted(unlisted)))


def _tenant_summary(record: TenantRecord, rows: Mapping[date, UsageRow], prices: Prices,
                    days: Sequence[date], criterion: SiloCriterion, plan: UsagePlan,
                    memory_mb: int, active_users: int) -> TenantSummary:
    stored = stored_bytes_by_day(rows.values(), days)
    in_range = set(days)
    tenant_days = []
    for day, size in zip(days, stored, strict=True):
        figures: UsageFigures = rows.get(day) or UsageFigures()
        day_usage = tenant_usage(figures, memory_mb, stored_byte_hours=size * HOURS_PER_DAY)
        tenant_days.append(TenantDay(day, figures.request_count, figures.throttled,
                                     cost_of(day_usage, record.tier, prices, 1).total))
    usage = tenant_usage(total(row for day, row in rows.items() if day in in_range),
                         memory_mb, active_users, sum(stored) * HOURS_PER_DAY)
    summary = TenantSummary(
        tenant_id=record.tenant_id, name=record.tenant_name, tier=record.tier,
        days=tuple(tenant_days), usage=usage,
        cost=cost_of(usage, record.tier, prices, len(days)),
        revenue=revenue_of(record.tier, prices, len(days)))
    return replace(summary, silo_reasons=silo_reasons(summary, criterion, plan))


def silo_reasons(tenant: TenantSummary, criterion: SiloCriterion,
                 plan: UsagePlan) -> tuple[str, ...]:
    """Why ``tenant`` is a silo candidate under ``criterion`` (empty: it is not; a Platinum
    tenant has a silo already)."""
    if not tenant.pooled:
        return ()
    reasons: list[str] = []
    threshold = criterion.quota_share * plan.quota_per_day
    busy = [day for day in tenant.days if day.requests > threshold]
    if len(busy) >= criterion.sustained_days:
        reasons.append(f"above {_percent(criterion.quota_share)} of the {plan.name} plan's "
                       f"{plan.quota_per_day:,} requests a day on {len(busy)} of "
                       f"{len(tenant.days)} days (peak {max(d.requests for d in busy):,})")
    limit = to_cents(criterion.revenue_share * tenant.revenue)
    if tenant.cost.total > limit:
        reasons.append(f"cost ${tenant.cost.total:,} above {_percent(criterion.revenue_share)}"
                       f" of the tier's ${tenant.revenue:,} revenue (${limit:,})")
    return tuple(reasons)


def _tier_summaries(tenants: Sequence[TenantSummary], prices: Prices,
                    period_days: int) -> tuple[TierSummary, ...]:
    summaries = []
    for tier in Tier:
        mine = [tenant for tenant in tenants if tenant.tier is tier]
        summaries.append(TierSummary(
            tier=tier, tenants=len(mine), requests=sum(tenant.requests for tenant in mine),
            throttled=sum(tenant.throttled for tenant in mine),
            cost=sum((tenant.cost.total for tenant in mine), Decimal(0)),
            revenue=len(mine) * revenue_of(tier, prices, period_days)))
    return tuple(summaries)
