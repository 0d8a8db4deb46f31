"""User records (the tenant-user mapping table): the control plane's truth about users."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, set_clause, to_item
from tenant_context.errors import ConflictError
from tenant_context.platform.tenant_records import UserRecord

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


class UserStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def create(self, record: UserRecord) -> None:
        try:
            self._dynamodb.put_item(TableName=self._table, Item=to_item(record.to_item()),
                                    ConditionExpression="attribute_not_exists(userName)")
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise ConflictError(f"userName: {record.user_name!r} already exists",
                                fields=["userName"]) from None

    def delete(self, tenant_id: str, user_name: str) -> None:
        """Only to undo a creation: users are disabled, never deleted."""
        self._dynamodb.delete_item(TableName=self._table,
                                   Key=to_item({"tenantId": tenant_id, "userName": user_name}))

    def get(self, tenant_id: str, user_name: str) -> UserRecord | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=to_item({"tenantId": tenant_id, "userName": user_name}),
            ConsistentRead=True).get("Item")
        return UserRecord.from_item(from_item(item)) if item else None

    def update(self, tenant_id: str, user_name: str, values: dict[str, Any]) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key=to_item({"tenantId": tenant_id, "userName": user_name}),
            ConditionExpression="attribute_exists(userName)", **set_clause(values))

    def of_tenant(self, tenant_id: str) -> Iterator[UserRecord]:
        """Every user of one tenant, following the query to its last page."""
        request: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "tenantId = :tenant",
            "ExpressionAttributeValues": to_item({":tenant": tenant_id}),
            "ConsistentRead": True}
        while True:
            response = self._dynamodb.query(**request)
            yield from (UserRecord.from_item(from_item(item)) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
