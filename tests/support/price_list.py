"""The tests' own price list (editing ``prices.json`` changes no expected figure): the published
prices of the time, to keep the arithmetic in the tests' comments familiar."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tenant_context.platform.cost_model import Prices


def price(usd: str) -> dict[str, Any]:
    return {"usd": Decimal(usd), "source": "the test"}


DOCUMENT: dict[str, Any] = {
    "region": "us-east-1",
    "currency": "USD",
    "awsPrices": {
        "lambdaPerGbSecond": price("0.0000166667"),
        "lambdaPerMillionRequests": price("0.20"),
        "apiGatewayRestPerMillionRequests": price("3.50"),
        "dynamodbPerMillionWriteRequestUnits": price("0.625"),
        "dynamodbPerMillionReadRequestUnits": price("0.125"),
        "dynamodbStoragePerGbMonth": price("0.25"),
        "cognitoPerMonthlyActiveUser": price("0.015"),
        "cloudwatchPerStandardAlarmMonth": price("0.10"),
        "logsIngestionPerGb": price("0.50"),
        "logsStoragePerGbMonth": price("0.03"),
    },
    "tierMonthlyPrices": {"Basic": 49, "Standard": 199, "Premium": 499, "Platinum": 1999},
    "platinumFixedMonthly": {"standardAlarms": 4},
}
PRICES = Prices.from_document(DOCUMENT)
