"""Bodies become their frozen dataclasses, or one 400 naming every problem; numbers that pass
validation are numbers boto3 serializes for DynamoDB without rounding (it raises otherwise: a
500), and those boto3 or DynamoDB would refuse (a 500 either way) are a FieldError naming why.

(Through HTTP, pooled and silo: tests/order_service/test_bad_input.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from tenant_context.service.validation import (
    BodySchema,
    Choice,
    FieldError,
    InvalidFieldsError,
    ListOf,
    Number,
    Text,
    storable,
)
from tenant_context.tenancy import Tier

ACCEPTED = [
    ("0", "0"), ("-0", "0"), ("0E-200", "0"), ("0.000", "0"),
    ("2.50", "2.5"), ("1." + "0" * 40, "1"), ("1E+3", "1000"), ("-3.5E+3", "-3500"),
    ("1E-130", "1E-130"), ("9.99E+125", "9.99E+125"), ("1E+40", "1E+40"),
    ("1" * 38, "1" * 38), ("0." + "0" * 100 + "1" * 38, "1." + "1" * 37 + "E-101"),
]
REFUSED = [
    ("0.12345678901234567890123456789012345678901", "38 significant digits"),
    ("1" * 39, "38 significant digits"), ("1." + "0" * 40 + "1", "38 significant digits"),
    ("1E+126", r"less than 1E\+126"), ("-1E+400", r"less than 1E\+126"),
    ("1E-131", "at least 1E-130"), ("-1E-200", "at least 1E-130"),
]


@pytest.mark.parametrize(("raw", "stored"), ACCEPTED)
def test_storable_numbers_reach_dynamodb_exactly(raw: str, stored: str) -> None:
    number = storable(Decimal(raw))
    assert number == Decimal(raw)  # the same value
    assert TypeSerializer().serialize(number) == {"N": stored}


@pytest.mark.parametrize(("raw", "why"), REFUSED)
def test_numbers_dynamodb_cannot_hold_are_field_errors(raw: str, why: str) -> None:
    with pytest.raises(FieldError, match=why):
        Number("price").clean(Decimal(raw))


@dataclass(frozen=True)
class Line:
    product_id: str
    quantity: Decimal


@dataclass(frozen=True)
class Body:
    order_name: str
    lines: tuple[Line, ...]
    kind: Tier
    note: str = ""


BODY = BodySchema(Body, (
    Text("orderName"), ListOf("orderLines", BodySchema(Line, (
        Text("productId"), Number("quantity", integer=True))), max_items=3),
    Choice("tenantTier", Tier.parse), Text("note", required=False, min_length=0),
), renamed={"orderLines": "lines", "tenantTier": "kind"})


def test_a_body_becomes_its_dataclass_nested_lists_as_tuples_of_theirs() -> None:
    body = BODY.read({"orderName": " First ", "tenantTier": "premium",
                      "orderLines": [{"productId": "p1", "quantity": 2}]})
    assert body == Body("First", (Line("p1", Decimal(2)),), Tier.PREMIUM)  # note: its default


def test_every_problem_is_named_at_once_with_its_json_name() -> None:
    with pytest.raises(InvalidFieldsError) as refused:
        BODY.read({"orderName": "", "orderLines": [{"productId": 1, "quantity": 1.5}],
                   "extra": True})
    assert refused.value.problems == {
        "orderName": "must be 1 to 256 characters",
        "orderLines[0].productId": "must be a string",
        "orderLines[0].quantity": "must be a whole number",
        "tenantTier": "is required", "extra": "is not a known field"}


def test_a_schema_that_disagrees_with_its_dataclass_fails_when_declared() -> None:
    with pytest.raises(TypeError, match=r"do not match its attributes"):
        BodySchema(Line, (Text("productId"), Number("amount")))
