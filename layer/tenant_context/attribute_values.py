"""Plain Python values <-> DynamoDB attribute values (low-level client format).

The platform uses the low-level client everywhere: it is cheaper to create than a boto3
resource (one per set of scoped credentials) and keeps cold starts short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def set_clause(values: Mapping[str, Any]) -> dict[str, Any]:
    """``UpdateItem`` parameters that set each attribute (names and values as placeholders, so
    reserved words and any attribute name are safe)."""
    names = {f"#a{index}": name for index, name in enumerate(values)}
    placeholders = {f":a{index}": value for index, value in enumerate(values.values())}
    return {"UpdateExpression": "SET " + ", ".join(f"#a{index} = :a{index}"
                                                   for index in range(len(values))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(placeholders)}


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size in bytes as DynamoDB counts it for storage and capacity (low-level
    format): each attribute's name plus its value. Numbers are estimated as DynamoDB documents
    them (about one byte per two significant digits, plus one); the 100 bytes of per-item
    overhead DynamoDB adds for storage are not included (the cost model adds them)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _number_size(text: str) -> int:
    digits = text.lstrip("-").split("e")[0].split("E")[0].replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def _value_size(value: Mapping[str, Any]) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(element).encode()) for element in inner)
    if kind == "NS":
        return sum(_number_size(str(element)) for element in inner)
    if kind == "BS":
        return sum(len(element) for element in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(str(name).encode()) + _value_size(element)
                       for name, element in inner.items())
    raise ValueError(f"not a DynamoDB attribute value: {kind}")
