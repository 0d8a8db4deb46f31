"""The records a deployed baseline leaves in its tables, written the same way in both worlds.

After the pooled baseline is up, the code needs to find it: the platform settings (pools, the
admin API, tier API keys), the first SystemAdmin's user record (the authorizer checks one for
every user) and the pooled deployment's row (API ids and URL). The local bootstrap writes them
through the emulator; in AWS a CloudFormation custom resource of the pooled stack does
(``shared_services``' deployment-records function). Every write is idempotent: an unchanged
record is not written again, and the admin's record, once there, belongs to the admins.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    SYSTEM_ADMIN_USER_NAME,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    TableDefinition,
)
from tenant_context.platform.platform_settings import PlatformSettings
from tenant_context.platform.tenant_records import DeploymentRecord, UserRecord
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


def record_baseline(dynamodb: DynamoDBClient, settings: PlatformSettings,
                    pooled_deployment: DeploymentRecord) -> None:
    put_changed(dynamodb, SETTINGS_TABLE, settings.to_items())
    put_absent(dynamodb, TENANT_USER_MAPPING_TABLE, UserRecord(
        OPERATIONS_TENANT_ID, SYSTEM_ADMIN_USER_NAME, Role.SYSTEM_ADMIN,
        settings.operations_pool.user_pool_id, enabled=True).to_item())
    put_changed(dynamodb, TENANT_STACK_MAPPING_TABLE, [pooled_deployment.to_item()])


def put_changed(dynamodb: DynamoDBClient, table: TableDefinition,
                items: Iterable[Mapping[str, Any]]) -> None:
    """Write the items' attributes that differ from what is stored (a restart or a stack update
    with no change writes nothing). Attributes an item does not name are kept: the pooled
    deployment's row also carries the release it runs, which only the release pipeline writes."""
    for item in items:
        key = {name: item[name] for name in table.key_names}
        stored = dynamodb.get_item(TableName=table.name, Key=to_item(key),
                                   ConsistentRead=True).get("Item")
        current = from_item(stored) if stored else {}
        if stored is not None and all(current.get(name) == value
                                      for name, value in item.items()):
            continue
        values = {name: value for name, value in item.items() if name not in key}
        names = {f"#a{index}": name for index, name in enumerate(values)}
        dynamodb.update_item(
            TableName=table.name, Key=to_item(key),
            UpdateExpression="SET " + ", ".join(f"{alias} = :v{index}"
                                                for index, alias in enumerate(names)),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item({f":v{index}": value
                                               for index, value in enumerate(values.values())}))


def put_absent(dynamodb: DynamoDBClient, table: TableDefinition, item: Mapping[str, Any]) -> None:
    """Write ``item`` unless its key is taken. Read first: a refused conditional write is still a
    write request (the local emulator records it and replays it on every start); the condition
    stays for a writer racing this one."""
    key = {name: item[name] for name in table.key_names}
    if "Item" in dynamodb.get_item(TableName=table.name, Key=to_item(key), ConsistentRead=True):
        return
    condition = " AND ".join(f"attribute_not_exists(#k{index})"
                             for index in range(len(table.key_names)))
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName=table.name, Item=to_item(item),
                          ConditionExpression=condition,
                          ExpressionAttributeNames={f"#k{index}": name for index, name
                                                    in enumerate(table.key_names)})
