"""Just enough of IAM's evaluation to check DynamoDB requests against a session policy.

The emulator enforces no IAM, so a session policy that is too narrow would pass every local
test and fail on AWS. This evaluates recorded requests as IAM would for the statements our
policies use: Allow, action lists, resource globs, ``ForAllValues:StringLike`` on
``dynamodb:LeadingKeys`` (vacuously true when a request has no leading key, as in IAM) and
``Null`` (``"false"``: the key must be in the request; ``"true"``: it must not).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from tenant_context.platform.definitions import CONTROL_PLANE_TABLES, POOLED_DATA_TABLES

_TRANSACTION_ACTIONS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
                        "Delete": "dynamodb:DeleteItem",
                        "ConditionCheck": "dynamodb:ConditionCheckItem"}
_PARTITION_KEYS = {table.name: table.partition_key.name
                   for table in (*CONTROL_PLANE_TABLES, *POOLED_DATA_TABLES)}


@dataclass(frozen=True)
class Access:
    action: str
    table: str
    index: str | None
    leading_keys: tuple[str, ...]


def _key_value(key: dict[str, Any], table: str) -> tuple[str, ...]:
    attribute = key.get(_PARTITION_KEYS[table], {})
    return (attribute["S"],) if "S" in attribute else ()


def accesses(operation: str, body: dict[str, Any]) -> list[Access]:
    """What one DynamoDB API call asks IAM for."""
    action = f"dynamodb:{operation}"
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        table = body["TableName"]
        return [Access(action, table, None, _key_value(body["Key"], table))]
    if operation == "PutItem":
        table = body["TableName"]
        return [Access(action, table, None, _key_value(body["Item"], table))]
    if operation == "Query":
        expression = body.get("KeyConditionExpression", "")
        values = body.get("ExpressionAttributeValues", {})
        keys = tuple(value["S"] for name, value in values.items()
                     if re.search(re.escape(name) + r"\b", expression) and "S" in value)
        return [Access(action, body["TableName"], body.get("IndexName"), keys[:1])]
    if operation == "Scan":
        return [Access(action, body["TableName"], body.get("IndexName"), ())]
    if operation == "TransactWriteItems":
        found = []
        for item in body["TransactItems"]:
            (kind, request), = item.items()
            table = request["TableName"]
            key = request.get("Key") or request.get("Item") or {}
            found.append(Access(_TRANSACTION_ACTIONS[kind], table, None, _key_value(key, table)))
        return found
    raise AssertionError(f"no IAM model for {operation}")


def allowed(policy: dict[str, Any], access: Access, table_arn: str) -> bool:
    resource = table_arn + (f"/index/{access.index}" if access.index else "")
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or access.action not in statement["Action"]:
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in statement["Resource"]):
            continue
        if conditions_hold(statement.get("Condition", {}), access.leading_keys):
            return True
    return False


def conditions_hold(condition: dict[str, Any], leading_keys: tuple[str, ...]) -> bool:
    """Every operator of the block (IAM ANDs them), for the one key our policies condition."""
    for operator, keys in condition.items():
        value = keys["dynamodb:LeadingKeys"]
        if operator == "ForAllValues:StringLike":
            if not all(any(fnmatchcase(key, pattern) for pattern in value)
                       for key in leading_keys):
                return False
        elif operator == "Null":
            if (value == "true") != (not leading_keys):
                return False
        else:
            raise AssertionError(f"no IAM model for {operator}")
    return True


def parse_request(headers: Any, body: bytes) -> tuple[str, dict[str, Any], str]:
    """(operation, JSON body, access key id) of a signed DynamoDB HTTP request."""
    target = headers["X-Amz-Target"]
    target = target.decode() if isinstance(target, bytes) else target
    authorization = headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    access_key = authorization.split("Credential=")[1].split("/")[0]
    return target.split(".")[1], json.loads(body or b"{}"), access_key
