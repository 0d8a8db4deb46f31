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
