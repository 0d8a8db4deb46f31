"""Just enough of IAM's evaluation to check DynamoDB requests against a session policy.

The emulator enforces no IAM, so a session policy that is too narrow would pass every local
test and fail on AWS (and one too wide would pass them all too). This evaluates recorded
requests as IAM would for the statements our policies use: Allow, and an explicit Deny that
wins over any Allow; action lists, resource globs; ``ForAllValues:StringLike`` and
``ForAllValues:StringEquals`` on the multivalued keys ``dynamodb:LeadingKeys`` and
``dynamodb:Attributes`` (vacuously true when the request carries no value, as in IAM); ``Null``
(``"false"``: the key must be in the request; ``"true"``: it must not); and
``StringEqualsIfExists`` on the single-valued ``dynamodb:ReturnValues`` (true when absent).

``dynamodb:Attributes`` of a write is modelled as DynamoDB documents it: every top-level
attribute the request names (an item's attributes; an update's SET/REMOVE/ADD/DELETE targets
and the attributes its condition reads, aliases resolved) and the key attributes, which is why
an allow-list must name the key.
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
    attributes: tuple[str, ...] = ()
    return_values: str | None = None

    def values_of(self, key: str) -> tuple[str, ...]:
        """The request's values of a condition key (empty: the key is absent)."""
        if key == "dynamodb:LeadingKeys":
            return self.leading_keys
        if key == "dynamodb:Attributes":
            return self.attributes
        if key == "dynamodb:ReturnValues":
            return (self.return_values,) if self.return_values else ()
        raise AssertionError(f"no IAM model for the condition key {key}")


_NAME = re.compile(r"#\w+|[A-Za-z_]\w*")
_UPDATE_WORDS = {"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"}
_CONDITION_WORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "attribute_exists",
                    "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"}


def _names(expression: str, aliases: dict[str, str], words: set[str]) -> set[str]:
    """Top-level attribute names an expression uses (values ``:v`` are skipped)."""
    found = set()
    for match in _NAME.finditer(re.sub(r":\w+", " ", expression)):
        token = match.group()
        if token in words:
            continue
        found.add(aliases.get(token, token).split(".")[0].split("[")[0])
    return found


def _written(body: dict[str, Any], table: str, key: dict[str, Any]) -> tuple[str, ...]:
    aliases = body.get("ExpressionAttributeNames", {})
    names = set(key) | _names(body.get("UpdateExpression", ""), aliases, _UPDATE_WORDS)
    names |= _names(body.get("ConditionExpression", ""), aliases, _CONDITION_WORDS)
    return tuple(sorted(names))


def _key_value(key: dict[str, Any], table: str) -> tuple[str, ...]:
    attribute = key.get(_PARTITION_KEYS[table], {})
    return (attribute["S"],) if "S" in attribute else ()


def accesses(operation: str, body: dict[str, Any]) -> list[Access]:
    """What one DynamoDB API call asks IAM for."""
    action = f"dynamodb:{operation}"
    if operation in ("GetItem", "DeleteItem"):
        table = body["TableName"]
        return [Access(action, table, None, _key_value(body["Key"], table))]
    if operation == "UpdateItem":
        table = body["TableName"]
        return [Access(action, table, None, _key_value(body["Key"], table),
                       _written(body, table, body["Key"]), body.get("ReturnValues"))]
    if operation == "PutItem":
        table = body["TableName"]
        return [Access(action, table, None, _key_value(body["Item"], table),
                       _written(body, table, body["Item"]), body.get("ReturnValues"))]
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
            found.append(Access(_TRANSACTION_ACTIONS[kind], table, None, _key_value(key, table),
                                _written(request, table, key) if kind in ("Put", "Update")
                                else ()))
        return found
    raise AssertionError(f"no IAM model for {operation}")


def allowed(policy: dict[str, Any], access: Access, table_arn: str) -> bool:
    """An explicit Deny that matches wins; otherwise any matching Allow allows."""
    resource = table_arn + (f"/index/{access.index}" if access.index else "")
    verdicts = set()
    for statement in policy["Statement"]:
        actions, resources = statement["Action"], statement["Resource"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatchcase(access.action, action) for action in actions):
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in resources):
            continue
        if conditions_hold(statement.get("Condition", {}), access):
            verdicts.add(statement["Effect"])
    return "Allow" in verdicts and "Deny" not in verdicts


def conditions_hold(condition: dict[str, Any], access: Access) -> bool:
    """Every operator of the block and every key under it (IAM ANDs them)."""
    for operator, keys in condition.items():
        for key, expected in keys.items():
            if not _holds(operator, expected, access.values_of(key)):
                return False
    return True


def _holds(operator: str, expected: str | list[str], values: tuple[str, ...]) -> bool:
    patterns = [expected] if isinstance(expected, str) else list(expected)
    if operator == "ForAllValues:StringLike":
        return all(any(fnmatchcase(value, pattern) for pattern in patterns) for value in values)
    if operator == "ForAllValues:StringEquals":
        return all(value in patterns for value in values)
    if operator == "Null":
        return (expected == "true") == (not values)
    if operator == "StringEqualsIfExists":
        return not values or values[0] in patterns
    raise AssertionError(f"no IAM model for {operator}")


def parse_request(headers: Any, body: bytes) -> tuple[str, dict[str, Any], str]:
    """(operation, JSON body, access key id) of a signed DynamoDB HTTP request."""
    target = headers["X-Amz-Target"]
    target = target.decode() if isinstance(target, bytes) else target
    authorization = headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    access_key = authorization.split("Credential=")[1].split("/")[0]
    return target.split(".")[1], json.loads(body or b"{}"), access_key
