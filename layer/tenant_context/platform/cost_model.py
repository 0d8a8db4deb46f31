"""What a tenant costs the SaaS provider on AWS over a period, against what its tier pays.

A pure model: measured usage (``TenantUsage``) times published unit prices (``Prices``, from
``prices.json`` next to this module, the ONE place prices live) gives an estimate per component
(``TenantCost``); ``revenue_of`` gives what the tier earns over the same period. The usage API,
the usage report and the billing export all price through here, so their figures agree.

Money is ``Decimal`` from the file to the total (a float cannot hold $0.0000166667 exactly, and
its errors would differ from one sum to the next). Components are kept unrounded; the total is
rounded to the cent once, ``ROUND_HALF_UP``, after summing: rounding each component first would
turn a thousand components of $0.004 into $0 instead of $4.

Periods: a period of ``d`` days is ``d / 30`` of a month (``MONTH_DAYS``) for every monthly
figure (a Platinum stack's alarms, a tier's price), so a 31-day month counts 31/30 of one and
the figures of any two periods compare. Usage-based components need no proration: the usage is
the period's.

Not counted: data transfer, KMS, X-Ray, the platform's shared resources (the pooled stack, the
control plane), and free tiers (the account's, not a tenant's).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from tenant_context.errors import ConfigurationError
from tenant_context.tenancy import Tier

PRICES_FILE = Path(__file__).with_name("prices.json")
MONTH_DAYS = Decimal(30)
CENT = Decimal("0.01")
MILLION = Decimal(1_000_000)
BYTES_PER_GB = Decimal(2**30)  # AWS bills storage and data in binary gigabytes
HOURS_PER_MONTH = MONTH_DAYS * 24
MB_MS_PER_GB_SECOND = Decimal(1024 * 1000)  # Lambda: memory in MB, billed duration in ms

# prices.json's awsPrices keys -> Prices' fields.
_AWS_PRICES = {
    "lambdaPerGbSecond": "lambda_per_gb_second",
    "lambdaPerMillionRequests": "lambda_per_million_requests",
    "apiGatewayRestPerMillionRequests": "api_gateway_per_million_requests",
    "dynamodbPerMillionWriteRequestUnits": "dynamodb_per_million_write_units",
    "dynamodbPerMillionReadRequestUnits": "dynamodb_per_million_read_units",
    "dynamodbStoragePerGbMonth": "dynamodb_storage_per_gb_month",
    "cognitoPerMonthlyActiveUser": "cognito_per_monthly_active_user",
    "cloudwatchPerStandardAlarmMonth": "alarm_per_month",
    "logsIngestionPerGb": "logs_ingestion_per_gb",
    "logsStoragePerGbMonth": "logs_storage_per_gb_month",
}


@dataclass(frozen=True)
class Prices:
    """Unit prices in USD, as ``prices.json`` states them (per million, per GB ...)."""

    lambda_per_gb_second: Decimal
    lambda_per_million_requests: Decimal
    api_gateway_per_million_requests: Decimal
    dynamodb_per_million_write_units: Decimal
    dynamodb_per_million_read_units: Decimal
    dynamodb_storage_per_gb_month: Decimal
    cognito_per_monthly_active_user: Decimal
    alarm_per_month: Decimal
    logs_ingestion_per_gb: Decimal
    logs_storage_per_gb_month: Decimal
    tier_monthly_prices: Mapping[Tier, Decimal]
    platinum_alarms: int  # a Platinum tenant's own stack's standard alarms

    @classmethod
    def from_document(cls, document: object) -> Prices:
        """A parsed ``prices.json`` (numbers as ``Decimal``: ``json.loads(...,
        parse_float=Decimal)``), checked whole: a missing, unknown or bad key is a
        ``ConfigurationError`` naming it, never a wrong figure later."""
        root = _object(document, "the document")
        _only(root, {"notes", "region", "currency", "awsPrices", "tierMonthlyPrices",
                     "platinumFixedMonthly"}, "")
        aws = _object(_need(root, "awsPrices", ""), "awsPrices")
        _only(aws, set(_AWS_PRICES), "awsPrices.")
        amounts: dict[str, Decimal] = {}
        for key, field_name in _AWS_PRICES.items():
            where = f"awsPrices.{key}"
            price = _object(_need(aws, key, "awsPrices."), where)
            _only(price, {"usd", "source"}, f"{where}.")
            source = _need(price, "source", f"{where}.")
            if not isinstance(source, str) or not source.strip():
                raise ConfigurationError(f"{where}.source must say where the price comes from")
            amounts[field_name] = _amount(_need(price, "usd", f"{where}."), f"{where}.usd")
        tiers = _object(_need(root, "tierMonthlyPrices", ""), "tierMonthlyPrices")
        _only(tiers, {tier.value for tier in Tier}, "tierMonthlyPrices.")
        fixed = _object(_need(root, "platinumFixedMonthly", ""), "platinumFixedMonthly")
        _only(fixed, {"standardAlarms"}, "platinumFixedMonthly.")
        alarms = _amount(_need(fixed, "standardAlarms", "platinumFixedMonthly."),
                         "platinumFixedMonthly.standardAlarms")
        if alarms != alarms.to_integral_value():
            raise ConfigurationError("platinumFixedMonthly.standardAlarms must be a whole number")
        return cls(
            **amounts,
            tier_monthly_prices={
                tier: _amount(_need(tiers, tier.value, "tierMonthlyPrices."),
                              f"tierMonthlyPrices.{tier.value}") for tier in Tier},
            platinum_alarms=int(alarms))


def load_prices(path: Path) -> Prices:
    """``path``'s prices; a file that is not valid JSON, or not a valid prices document, is a
    ``ConfigurationError`` naming the file (and the key)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        return Prices.from_document(document)
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{path}: cannot read the prices: {error}") from error
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from error


@functools.cache
def published_prices() -> Prices:
    """The platform's prices (``PRICES_FILE``), read once per process."""
    return load_prices(PRICES_FILE)


@dataclass(frozen=True, kw_only=True)
class TenantUsage:
    """One tenant's measured usage over one period. Every field is required: a meter that does
    not measure something says 0, rather than a default hiding a forgotten component.

    ``monthly_active_users`` is a count of distinct users, so it cannot be summed over days:
    measure it over the period priced. Request units are ``Decimal`` (DynamoDB reports halves:
    an eventually consistent read of up to 4 KB is 0.5 unit); a float is refused.
    """

    api_requests: int  # API Gateway REST requests billed (not those failing authorization)
    lambda_invocations: int
    lambda_mb_ms: int  # the sum over invocations of billed duration (ms) x memory (MB)
    read_request_units: Decimal
    write_request_units: Decimal
    stored_byte_hours: int  # DynamoDB: the sum, over the period's hours, of the bytes stored
    monthly_active_users: int
    log_bytes_ingested: int
    log_stored_byte_hours: int

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            allowed = Decimal if item.name.endswith("_units") else int
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise TypeError(f"{item.name} must be {allowed.__name__}, not {value!r}")
            if value < 0:
                raise ValueError(f"{item.name} must not be negative, not {value}")


NO_USAGE = TenantUsage(
    api_requests=0, lambda_invocations=0, lambda_mb_ms=0, read_request_units=Decimal(0),
    write_request_units=Decimal(0), stored_byte_hours=0, monthly_active_users=0,
    log_bytes_ingested=0, log_stored_byte_hours=0)


@dataclass(frozen=True)
class TenantCost:
    """A tenant's cost over a period per component in USD, unrounded; ``total`` is their sum
    rounded to the cent. (Components shown rounded need not add up to the total.)"""

    api_gateway_requests: Decimal
    lambda_requests: Decimal
    lambda_compute: Decimal
    dynamodb_reads: Decimal
    dynamodb_writes: Decimal
    dynamodb_storage: Decimal
    cognito_users: Decimal
    logs_ingestion: Decimal
    logs_storage: Decimal
    platinum_alarms: Decimal  # the fixed part: 0 for a pooled tenant

    def components(self) -> dict[str, Decimal]:
        return {item.name: getattr(self, item.name) for item in fields(self)}

    @property
    def total(self) -> Decimal:
        return to_cents(sum(self.components().values(), Decimal(0)))


def cost_of(usage: TenantUsage, tier: Tier, prices: Prices,
            period_days: int | Decimal) -> TenantCost:
    """What ``usage`` cost over a period of ``period_days`` days, a ``tier`` tenant's: its
    usage at the unit prices, plus, for Platinum, its stack's alarms for ``period_days / 30``
    of a month. A pooled tenant's share of the pooled stack is not counted."""
    fixed = prices.platinum_alarms * prices.alarm_per_month if tier is Tier.PLATINUM else 0
    alarms = _prorated(Decimal(fixed), period_days)
    return TenantCost(
        api_gateway_requests=usage.api_requests * prices.api_gateway_per_million_requests
        / MILLION,
        lambda_requests=usage.lambda_invocations * prices.lambda_per_million_requests / MILLION,
        lambda_compute=usage.lambda_mb_ms * prices.lambda_per_gb_second / MB_MS_PER_GB_SECOND,
        dynamodb_reads=usage.read_request_units * prices.dynamodb_per_million_read_units
        / MILLION,
        dynamodb_writes=usage.write_request_units * prices.dynamodb_per_million_write_units
        / MILLION,
        dynamodb_storage=usage.stored_byte_hours * prices.dynamodb_storage_per_gb_month
        / (BYTES_PER_GB * HOURS_PER_MONTH),
        cognito_users=usage.monthly_active_users * prices.cognito_per_monthly_active_user,
        logs_ingestion=usage.log_bytes_ingested * prices.logs_ingestion_per_gb / BYTES_PER_GB,
        logs_storage=usage.log_stored_byte_hours * prices.logs_storage_per_gb_month
        / (BYTES_PER_GB * HOURS_PER_MONTH),
        platinum_alarms=alarms,
    )


def revenue_of(tier: Tier, prices: Prices, period_days: int | Decimal) -> Decimal:
    """What a ``tier`` tenant pays for ``period_days / 30`` of a month, to the cent."""
    return to_cents(_prorated(prices.tier_monthly_prices[tier], period_days))


def margin(revenue: Decimal, cost: TenantCost) -> Decimal:
    """Revenue less cost over the same period (negative: the tenant costs more than it pays)."""
    return revenue - cost.total


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _prorated(monthly: Decimal, period_days: int | Decimal) -> Decimal:
    """``period_days / 30`` of ``monthly``: multiplied first, divided last (one inexact step)."""
    if isinstance(period_days, bool) or not isinstance(period_days, int | Decimal):
        raise TypeError(f"period_days must be int or Decimal, not {period_days!r}")
    if period_days <= 0:
        raise ValueError(f"period_days must be positive, not {period_days}")
    return monthly * period_days / MONTH_DAYS


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where} must be a JSON object")
    return value


def _need(document: Mapping[str, Any], key: str, prefix: str) -> object:
    if key not in document:
        raise ConfigurationError(f"{prefix}{key} is missing")
    return document[key]


def _only(document: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ConfigurationError(
            f"unknown key {', '.join(prefix + key for key in unknown)} "
            f"(expected {', '.join(sorted(allowed))})")


def _amount(value: object, where: str) -> Decimal:
    """A non-negative JSON number (parsed as ``Decimal`` or ``int``; never a float)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or not value >= 0:
        raise ConfigurationError(f"{where} must be a number >= 0, not {value!r}")
    return Decimal(value)
