"""Puts tenants' API keys back as their records say, after the emulator replayed its recording.

The emulator replays the creation of each tenant's key (its name and value are ours, so they
come back the same) but gives it a new id, so the recorded calls that named the old id (the
link to its usage plan, a disable, a delete) fail on replay. The tenant records are the truth:
each tenant's current key (the value its record names) goes back on its tier's plan, enabled as
the tenant is active; any other key named for a tenant is deleted (a key kept after a tier move
only covers authorizer caches, and none survives a restart). A record whose key is not its own
(a tenant from before per-tenant keys) gets one.

On AWS nothing of this exists: API Gateway keeps its keys, links and states.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.tenant_api_keys import (
    TenantApiKeys,
    TenantKey,
    api_key_pages,
    ensure_on_plan,
    key_tenant_and_plan,
)
from tenant_context.platform.tenant_records import TenantRecord, tenant_record

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_dynamodb import DynamoDBClient


def restore_tenant_keys(apigateway: APIGatewayClient, dynamodb: DynamoDBClient,
                        plan_ids: Mapping[str, str]) -> int:
    """Returns how many keys it had to change (0 when the emulator was already right)."""
    keys = TenantApiKeys(apigateway, lambda: plan_ids)
    by_tenant: dict[str, list[TenantKey]] = defaultdict(list)
    for listed in api_key_pages(apigateway):
        owner = key_tenant_and_plan(str(listed.get("name", "")))
        if owner:
            by_tenant[owner[0]].append(TenantKey(listed["id"], listed["name"], listed["value"],
                                                 bool(listed.get("enabled"))))
    changed = 0
    for record in _tenant_records(dynamodb):
        held = by_tenant.pop(record.tenant_id, [])
        current = next((key for key in held if key.value == record.api_key), None)
        if current is None:
            current = keys.issue(record.tenant_id, record.tier.value)
            _set_key(dynamodb, record.tenant_id, current.value)
            changed += 1
        for stale in (key for key in held if key is not current):
            apigateway.delete_api_key(apiKey=stale.key_id)
            changed += 1
        changed += ensure_on_plan(apigateway, plan_ids[record.tier.value], current.key_id)
        if current.enabled != record.is_active:
            keys.set_enabled(record.tenant_id, record.is_active)
            changed += 1
    for orphans in by_tenant.values():  # tenants whose record is gone
        for key in orphans:
            apigateway.delete_api_key(apiKey=key.key_id)
            changed += 1
    return changed


def _tenant_records(dynamodb: DynamoDBClient) -> Iterator[TenantRecord]:
    request: dict[str, Any] = {"TableName": TENANT_DETAILS_TABLE.name, "ConsistentRead": True}
    while True:
        response = dynamodb.scan(**request)
        for item in response.get("Items", []):
            record = tenant_record(from_item(item))
            if record is not None:  # not an offboarded tenant's tombstone
                yield record
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _set_key(dynamodb: DynamoDBClient, tenant_id: str, value: str) -> None:
    dynamodb.update_item(TableName=TENANT_DETAILS_TABLE.name,
                         Key=to_item({"tenantId": tenant_id}),
                         UpdateExpression="SET apiKey = :key",
                         ConditionExpression="attribute_exists(tenantId)",
                         ExpressionAttributeValues=to_item({":key": value}))
