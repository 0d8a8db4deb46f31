"""The cost model (#18): fixed usage at fixed prices gives amounts worked out by hand, to the
cent; money is rounded once; a bad prices file is refused naming its key; the real one loads.

The prices here are the test's own (``DOCUMENT``), so editing ``prices.json`` changes no
expected figure; they are the published ones of the time, to keep the arithmetic familiar.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline.stacks.silo_template import silo_service_merge_template, silo_stack_resources
from tenant_context.errors import ConfigurationError
from tenant_context.platform.cost_model import (
    NO_USAGE,
    PRICES_FILE,
    TenantCost,
    TenantUsage,
    cost_of,
    load_prices,
    margin,
    published_prices,
    revenue_of,
)
from tenant_context.tenancy import Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.price_list import DOCUMENT, PRICES, price

GIB = 2**30
HOURS_IN_30_DAYS = 720




def usage(**measured: Any) -> TenantUsage:
    values = {name: getattr(NO_USAGE, name) for name in NO_USAGE.__dataclass_fields__}
    return TenantUsage(**(values | measured))


def test_a_month_of_a_premium_tenant_to_the_cent() -> None:
    cost = cost_of(usage(
        api_requests=2_000_000,
        lambda_invocations=2_000_000,
        lambda_mb_ms=2_000_000 * 120 * 512,           # 2M invocations of 120 ms at 512 MB
        read_request_units=Decimal(3_000_000),
        write_request_units=Decimal(1_000_000),
        stored_byte_hours=10 * GIB * HOURS_IN_30_DAYS,  # 10 GiB all month
        monthly_active_users=1_000,
        log_bytes_ingested=2 * GIB,
        log_stored_byte_hours=2 * GIB * HOURS_IN_30_DAYS,
    ), Tier.PREMIUM, PRICES, 30)
    assert cost == TenantCost(
        api_gateway_requests=Decimal("7.00"),     # 2M x $3.50/M
        lambda_requests=Decimal("0.40"),          # 2M x $0.20/M
        # 122,880,000,000 MB-ms / 1,024,000 = 120,000 GB-s x $0.0000166667
        lambda_compute=Decimal("2.000004"),
        dynamodb_reads=Decimal("0.375"),          # 3M x $0.125/M
        dynamodb_writes=Decimal("0.625"),         # 1M x $0.625/M
        dynamodb_storage=Decimal("2.50"),         # 10 GB-months x $0.25
        cognito_users=Decimal("15.00"),           # 1,000 x $0.015
        logs_ingestion=Decimal("1.00"),           # 2 GB x $0.50
        logs_storage=Decimal("0.06"),             # 2 GB-months x $0.03
        platinum_alarms=Decimal(0),               # pooled: no stack of its own
    )
    # 7.00 + 0.40 + 2.000004 + 0.375 + 0.625 + 2.50 + 15.00 + 1.00 + 0.06 = 28.960004
    assert cost.total == Decimal("28.96")
    assert str(cost.total) == "28.96"  # to the cent, as money prints
    assert revenue_of(Tier.PREMIUM, PRICES, 30) == Decimal("499.00")
    assert margin(revenue_of(Tier.PREMIUM, PRICES, 30), cost) == Decimal("470.04")


def test_money_is_rounded_once_after_summing() -> None:
    # Three components of exactly half a cent: 40,000 x $0.125/M reads, 8,000 x $0.625/M
    # writes, 25,000 x $0.20/M invocations. Summed first: $0.015 -> $0.02. Rounded first,
    # each would be $0.01 and the total $0.03.
    cost = cost_of(usage(read_request_units=Decimal(40_000), write_request_units=Decimal(8_000),
                         lambda_invocations=25_000), Tier.BASIC, PRICES, 30)
    assert cost.dynamodb_reads == cost.dynamodb_writes == cost.lambda_requests == Decimal(
        "0.005")
    assert cost.total == Decimal("0.02")


def test_half_a_cent_rounds_up() -> None:
    # 200,000 x $0.125/M = $0.025: half up gives $0.03 (banker's rounding would give $0.02).
    cost = cost_of(usage(read_request_units=Decimal(200_000)), Tier.BASIC, PRICES, 30)
    assert cost.total == Decimal("0.03")


def test_a_fraction_of_a_unit_is_priced() -> None:
    # One eventually consistent read of 4 KB is half a unit: 0.5 x $0.125/M, far below a cent.
    cost = cost_of(usage(read_request_units=Decimal("0.5")), Tier.BASIC, PRICES, 1)
    assert cost.dynamodb_reads == Decimal("0.0000000625")
    assert cost.total == Decimal("0.00")


def test_a_platinum_tenant_pays_its_stacks_alarms_even_idle() -> None:
    # 4 alarms x $0.10 a month.
    cost = cost_of(NO_USAGE, Tier.PLATINUM, PRICES, 30)
    assert cost.platinum_alarms == Decimal("0.40")
    assert cost.total == Decimal("0.40")
    assert revenue_of(Tier.PLATINUM, PRICES, 30) == Decimal("1999.00")
    assert margin(Decimal("1999.00"), cost) == Decimal("1998.60")


def test_fixed_costs_and_revenue_are_prorated_over_a_30_day_month() -> None:
    week = cost_of(NO_USAGE, Tier.PLATINUM, PRICES, 7)
    assert week.platinum_alarms == Decimal("0.40") * 7 / 30          # 0.09333...
    assert week.total == Decimal("0.09")
    assert revenue_of(Tier.PLATINUM, PRICES, 7) == Decimal("466.43")   # 1999 x 7/30 = 466.4333
    assert margin(revenue_of(Tier.PLATINUM, PRICES, 7), week) == Decimal("466.34")
    assert revenue_of(Tier.BASIC, PRICES, 15) == Decimal("24.50")     # 49 x 15/30
    # A 31-day month is 31/30 of the monthly figures: 499 x 31/30 = 515.6333.
    assert revenue_of(Tier.PREMIUM, PRICES, 31) == Decimal("515.63")
    # Half a day of Platinum alarms: 0.40 x 0.5/30 = 0.00667 -> 0.01.
    assert cost_of(NO_USAGE, Tier.PLATINUM, PRICES, Decimal("0.5")).total == Decimal("0.01")


def test_usage_is_not_prorated() -> None:
    """Usage is the period's own: the same usage costs the same over a day or a month."""
    measured = usage(api_requests=1_000_000)
    assert cost_of(measured, Tier.BASIC, PRICES, 1) == cost_of(measured, Tier.BASIC, PRICES, 30)
    assert cost_of(measured, Tier.BASIC, PRICES, 1).total == Decimal("3.50")


@pytest.mark.parametrize("tier", list(Tier))
def test_zero_usage_costs_nothing_but_a_platinum_stack(tier: Tier) -> None:
    cost = cost_of(NO_USAGE, tier, PRICES, 30)
    expected = Decimal("0.40") if tier is Tier.PLATINUM else Decimal(0)
    assert cost.platinum_alarms == expected
    assert sum(cost.components().values()) == expected
    assert all(isinstance(amount, Decimal) for amount in cost.components().values())


@pytest.mark.parametrize(("field", "value", "error"), [
    ("read_request_units", 0.5, TypeError),       # a float: never
    ("api_requests", Decimal(1), TypeError),
    ("api_requests", True, TypeError),
    ("monthly_active_users", -1, ValueError),
    ("write_request_units", Decimal("-0.5"), ValueError),
])
def test_usage_refuses_floats_and_negatives(field: str, value: object,
                                            error: type[Exception]) -> None:
    with pytest.raises(error, match=field):
        usage(**{field: value})


@pytest.mark.parametrize("period_days", [0, -1, Decimal(0)])
def test_a_period_must_be_positive(period_days: int | Decimal) -> None:
    with pytest.raises(ValueError, match="period_days"):
        cost_of(NO_USAGE, Tier.PLATINUM, PRICES, period_days)
    with pytest.raises(ValueError, match="period_days"):
        revenue_of(Tier.BASIC, PRICES, period_days)


def _dumps(document: dict[str, Any]) -> str:
    """As a file holds it: a Decimal as a JSON number (a string stays a string)."""
    return json.dumps(document, default=float)


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    node = document
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return document


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


@pytest.mark.parametrize(("document", "key"), [
    (_without(("awsPrices", "lambdaPerGbSecond")), "awsPrices.lambdaPerGbSecond is missing"),
    (_without(("awsPrices", "cognitoPerMonthlyActiveUser", "usd")),
     "awsPrices.cognitoPerMonthlyActiveUser.usd is missing"),
    (_with(("awsPrices", "logsIngestionPerGb", "usd"), "0.50"),
     "awsPrices.logsIngestionPerGb.usd must be a number"),
    (_with(("awsPrices", "logsIngestionPerGb", "usd"), Decimal("-0.5")),
     "awsPrices.logsIngestionPerGb.usd must be a number >= 0"),
    (_with(("awsPrices", "logsIngestionPerGb", "usd"), True),
     "awsPrices.logsIngestionPerGb.usd must be a number"),
    (_with(("awsPrices", "logsIngestionPerGb", "source"), ""),
     "awsPrices.logsIngestionPerGb.source must say"),
    (_with(("awsPrices", "lambdaPerGbSecnd"), price("1")),
     "unknown key awsPrices.lambdaPerGbSecnd"),
    (_without(("tierMonthlyPrices", "Platinum")), "tierMonthlyPrices.Platinum is missing"),
    (_with(("tierMonthlyPrices", "Gold"), 5), "unknown key tierMonthlyPrices.Gold"),
    (_with(("platinumFixedMonthly", "standardAlarms"), Decimal("4.5")),
     "platinumFixedMonthly.standardAlarms must be a whole number"),
    (_without(("platinumFixedMonthly",)), "platinumFixedMonthly is missing"),
    (_with(("awsPrices",), []), "awsPrices must be a JSON object"),
])
def test_a_bad_prices_file_is_refused_naming_the_key(
        document: dict[str, Any], key: str, tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(_dumps(document))
    with pytest.raises(ConfigurationError) as refused:
        load_prices(path)
    assert key in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_file_that_is_not_json_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"awsPrices": ')
    with pytest.raises(ConfigurationError, match="cannot read the prices"):
        load_prices(path)


def test_prices_from_a_file_are_exact_decimals(tmp_path: Path) -> None:
    """Read as written: $0.0000166667 is that, not the nearest float."""
    path = tmp_path / "prices.json"
    path.write_text(_dumps(DOCUMENT))
    assert '"usd": 1.66667e-05' in path.read_text()
    assert load_prices(path) == PRICES
    assert load_prices(path).lambda_per_gb_second == Decimal("0.0000166667")


def test_the_published_prices_load_once_and_cover_every_tier() -> None:
    prices = published_prices()
    assert published_prices() is prices
    assert prices == load_prices(PRICES_FILE)
    assert set(prices.tier_monthly_prices) == set(Tier)
    amounts = [getattr(prices, name) for name in prices.__dataclass_fields__
               if name not in {"tier_monthly_prices", "platinum_alarms"}]
    assert all(isinstance(amount, Decimal) and amount > 0 for amount in amounts)
    assert all(isinstance(amount, Decimal) for amount in prices.tier_monthly_prices.values())


def test_the_platinum_alarm_count_is_the_silo_stacks() -> None:
    """prices.json counts a Platinum stack's alarms; the stack is what has them."""
    templates = [silo_service_merge_template(service) for service in TENANT_SERVICES]
    templates.append(silo_stack_resources({}))
    alarms = [name for template in templates
              for name, resource in template["Resources"].items()
              if resource.get("Type") == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == published_prices().platinum_alarms
