"""The usage report's model: fixed rows at fixed prices give costs, revenues and tier totals
worked out by hand to the cent (a Platinum stack's alarms prorated per day and per range);
the silo criterion exactly at its thresholds (at the share is not above it, 429s count as
demand, only pooled tenants); what is left out of the range and who is idle or unlisted."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pipeline.usage.report_model import SiloCriterion, TenantSummary, UsageReport, build_report
from tenant_context.tenancy import Tier
from tenant_context.usage_periods import Granularity, Period
from tests.pipeline.usage.report_fixtures import ROUTE, day_row, tenant
from tests.support.price_list import PRICES

NOV_1 = date(2026, 11, 1)
BIG_DAY = {(ROUTE, 200): 3_000_000, (ROUTE, 429): 10}


def big_day_report() -> tuple[UsageReport, dict[str, TenantSummary]]:
    """Three days; one of them 3,000,000 served requests (and 10 429s) of 90,000,000.4 ms,
    4,000,000 read and 1,000,000 write units, for a Basic and a Platinum tenant; a Standard
    tenant without a request."""
    basic, platinum = tenant("Basic Co", Tier.BASIC), tenant("Platinum Co", Tier.PLATINUM)
    idle = tenant("Idle Co", Tier.STANDARD)
    rows = [day_row(record.tenant_id, NOV_1 + timedelta(days=1), BIG_DAY,
                    duration_ms=Decimal("90000000.4"), read_units=Decimal(4_000_000),
                    write_units=Decimal(1_000_000)) for record in (basic, platinum)]
    report = build_report(rows, [basic, platinum, idle], PRICES, NOV_1,
                          NOV_1 + timedelta(days=3))
    return report, {summary.name: summary for summary in (*report.tenants,
                                                          *report.idle_tenants)}


def test_costs_revenues_and_tiers_to_the_cent() -> None:
    report, by_name = big_day_report()
    basic, platinum = by_name["Basic Co"], by_name["Platinum Co"]
    # API Gateway 3M x $3.50/M = 10.50; Lambda 3M x $0.20/M = 0.60; compute: 90,000,001 ms x
    # 128 MB = 11,250.000125 GB-s x $0.0000166667 = 0.1875004; reads 4M x $0.125/M = 0.50;
    # writes 1M x $0.625/M = 0.625: 12.4125004 -> $12.41. The 429s are neither billed
    # requests nor invocations.
    assert basic.usage.api_requests == basic.usage.lambda_invocations == 3_000_000
    assert basic.usage.lambda_mb_ms == 90_000_001 * 128
    assert basic.cost.total == Decimal("12.41")
    assert [day.cost for day in basic.days] == [Decimal("0.00"), Decimal("12.41"),
                                                 Decimal("0.00")]
    assert basic.revenue == Decimal("4.90")  # $49 x 3/30
    # Platinum: plus its 4 alarms at $0.10 a month: 0.04 over 3 days, 0.0133 a day.
    assert platinum.cost.total == Decimal("12.45")
    assert [day.cost for day in platinum.days] == [Decimal("0.01"), Decimal("12.43"),
                                                    Decimal("0.01")]
    assert platinum.revenue == Decimal("199.90")
    assert [(day.requests, day.throttled) for day in basic.days] == [
        (0, 0), (3_000_010, 10), (0, 0)]
    tiers = {summary.tier: summary for summary in report.tiers}
    assert [summary.tier for summary in report.tiers] == list(Tier)
    assert (tiers[Tier.BASIC].tenants, tiers[Tier.BASIC].cost, tiers[Tier.BASIC].revenue,
            tiers[Tier.BASIC].throttled) == (1, Decimal("12.41"), Decimal("4.90"), 10)
    assert (tiers[Tier.STANDARD].tenants, tiers[Tier.STANDARD].cost,
            tiers[Tier.STANDARD].revenue, tiers[Tier.STANDARD].requests) == (
        1, Decimal("0.00"), Decimal("19.90"), 0)
    assert (tiers[Tier.PREMIUM].tenants, tiers[Tier.PREMIUM].revenue) == (0, Decimal(0))
    assert (tiers[Tier.PLATINUM].cost, tiers[Tier.PLATINUM].revenue) == (
        Decimal("12.45"), Decimal("199.90"))


def test_tenants_by_cost_idle_ones_apart_and_only_the_pooled_costly_one_a_candidate() -> None:
    report, by_name = big_day_report()
    assert [summary.name for summary in report.tenants] == ["Platinum Co", "Basic Co"]
    assert [summary.name for summary in report.idle_tenants] == ["Idle Co"]
    # $12.41 is above half of $4.90; one busy day is not three. Platinum has a silo.
    assert [summary.name for summary in report.silo_candidates] == ["Basic Co"]
    assert by_name["Basic Co"].silo_reasons == (
        "cost $12.41 above 50% of the tier's $4.90 revenue ($2.45)",)
    assert by_name["Platinum Co"].silo_reasons == ()


def test_the_quota_criterion_exactly_at_its_threshold() -> None:
    """Basic's plan: 1,000 requests a day, so above 500 on at least 3 days."""
    days = [NOV_1 + timedelta(days=offset) for offset in range(4)]
    loads = {
        "above on 3 days": [501, 501, 501, 0],
        "at 500 on 4 days": [500, 500, 500, 500],
        "above on 2 days": [501, 501, 500, 499],
        "429s are demand": [501, 501, 501, 0],
        "platinum far above": [9000, 9000, 9000, 9000],
    }
    records = {name: tenant(name, Tier.PLATINUM if name.startswith("platinum")
                            else Tier.BASIC) for name in loads}
    rows = []
    for name, counts in loads.items():
        for day, count in zip(days, counts, strict=True):
            if not count:
                continue
            throttled = 101 if name == "429s are demand" else 0
            rows.append(day_row(records[name].tenant_id, day,
                                {(ROUTE, 200): count - throttled, (ROUTE, 429): throttled}))
    report = build_report(rows, records.values(), PRICES, days[0], days[-1] + timedelta(1))
    assert sorted(summary.name for summary in report.silo_candidates) == [
        "429s are demand", "above on 3 days"]
    reasons = {summary.name: summary.silo_reasons for summary in report.tenants}
    assert reasons["above on 3 days"] == (
        "above 50% of the Basic plan's 1,000 requests a day on 3 of 4 days (peak 501)",)
    # A stricter criterion: 4 days.
    stricter = build_report(rows, records.values(), PRICES, days[0], days[-1] + timedelta(1),
                            criterion=SiloCriterion(sustained_days=4))
    assert stricter.silo_candidates == ()


def test_the_cost_criterion_exactly_at_its_share() -> None:
    """30 days of Basic earn $49.00, so above $24.50; 39,200,000 write units cost exactly
    $24.50 (x $0.625/M), 16,000 more a cent more (the one request each: $0.0000037)."""
    at_share, above = tenant("at the share", Tier.BASIC), tenant("a cent above", Tier.BASIC)
    rows = [day_row(record.tenant_id, NOV_1, {(ROUTE, 200): 1}, write_units=Decimal(units))
            for record, units in ((at_share, 39_200_000), (above, 39_216_000))]
    report = build_report(rows, [at_share, above], PRICES, NOV_1, NOV_1 + timedelta(days=30))
    costs = {summary.name: summary.cost.total for summary in report.tenants}
    assert costs == {"at the share": Decimal("24.50"), "a cent above": Decimal("24.51")}
    assert [summary.name for summary in report.silo_candidates] == ["a cent above"]


def test_rows_outside_the_range_hours_and_unlisted_tenants() -> None:
    listed = tenant("Listed", Tier.PREMIUM)
    gone = "f" * 32  # an offboarded tenant's rows, its record a tombstone (left out)
    before = day_row(listed.tenant_id, NOV_1 - timedelta(days=1), {(ROUTE, 200): 7})
    after = day_row(listed.tenant_id, NOV_1 + timedelta(days=2), {(ROUTE, 200): 7})
    inside = day_row(listed.tenant_id, NOV_1, {(ROUTE, 200): 3})
    hour = day_row(listed.tenant_id, NOV_1, {(ROUTE, 200): 100})
    hour = type(hour)(**{**hour.__dict__, "period": Period(Granularity.HOUR,
                                                           hour.period.start)})
    report = build_report([before, after, inside, hour,
                           day_row(gone, NOV_1, {(ROUTE, 200): 1})], [listed], PRICES,
                          NOV_1, NOV_1 + timedelta(days=2))
    (summary,) = report.tenants
    assert [(day.day, day.requests) for day in summary.days] == [
        (NOV_1, 3), (NOV_1 + timedelta(days=1), 0)]
    assert report.unlisted_tenant_ids == (gone,)
    assert report.days == (NOV_1, NOV_1 + timedelta(days=1))


def test_storage_is_the_sum_of_every_earlier_change() -> None:
    """1 GiB written before the range, half of it deleted on its 16th day: 15 days of 1 GiB
    and 15 of 0.5 GiB, 540 GiB-hours x $0.25 a GiB-month (720 hours) = $0.1875, plus one
    request a row ($0.0000037 each): $0.19. Never below nothing stored."""
    stored, shrinking = tenant("Stored", Tier.BASIC), tenant("Shrinking", Tier.BASIC)
    rows = [day_row(stored.tenant_id, NOV_1 - timedelta(days=1), {(ROUTE, 200): 1},
                    byte_deltas={"product": 2**30}),
            day_row(stored.tenant_id, NOV_1 + timedelta(days=15), {(ROUTE, 200): 1},
                    byte_deltas={"product": -(2**29)}),
            day_row(shrinking.tenant_id, NOV_1, {(ROUTE, 200): 1},
                    byte_deltas={"product": -100})]
    report = build_report(rows, [stored, shrinking], PRICES, NOV_1, NOV_1 + timedelta(days=30))
    summary = {each.name: each for each in report.tenants}
    assert summary["Stored"].usage.stored_byte_hours == 540 * 2**30
    assert summary["Stored"].cost.total == Decimal("0.19")
    assert summary["Stored"].days[0].cost == Decimal("0.01")  # 24 GiB-hours: $0.0083
    assert [day.requests for day in summary["Stored"].days].count(1) == 1  # before: no day
    assert summary["Shrinking"].usage.stored_byte_hours == 0


def test_the_criterion_is_stated_and_a_range_must_have_a_day() -> None:
    assert SiloCriterion().describe() == (
        "a pooled tenant whose requests (429s included) were above 50% of its tier plan's "
        "daily quota on at least 3 days of the range, or whose estimated cost over the range "
        "was above 50% of its tier's revenue for the range")
    with pytest.raises(ValueError, match="not after its start"):
        build_report([], [], PRICES, NOV_1, NOV_1)
