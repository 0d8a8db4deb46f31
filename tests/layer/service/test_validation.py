"""Numbers that pass validation are numbers boto3 serializes for DynamoDB without rounding
(it raises otherwise: a 500), and those boto3 or DynamoDB would refuse (a 500 either way) are
a FieldError naming why.

(Through HTTP, pooled and silo: tests/tenant_api/test_bad_input.py.)
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from tenant_context.service.validation import FieldError, Number, storable

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
