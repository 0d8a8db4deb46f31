"""Deployment requests: how the control plane asks for a tenant's own deployment.

The tenant-stack-mapping table is the hand-off between the control plane and the deployer: the
registration writes a ``provisioning`` row for a Platinum tenant, deactivation sets its
``desiredState`` to ``stopped``; the deployer (the local platform, or the aws pipeline) brings
the deployment up, records its API ids and URL (``active``) and follows the desired state.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.tenant_records import (
    DeploymentRecord,
    DeploymentStatus,
    DesiredState,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


def stack_name(deployment_id: str) -> str:
    return f"stack-{deployment_id}"


class Deployments:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, deployment_id: str) -> DeploymentRecord | None:
        item = self._dynamodb.get_item(TableName=self._table,
                                       Key=to_item({"tenantId": deployment_id}),
                                       ConsistentRead=True).get("Item")
        return DeploymentRecord.from_item(from_item(item)) if item else None

    def all(self) -> list[DeploymentRecord]:
        """Every deployment row, every page: what a deployer reconciles against (one row per
        Platinum tenant plus ``pooled``, so a scan stays small)."""
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=self._table,
                                                             ConsistentRead=True)
        return [DeploymentRecord.from_item(from_item(item))
                for page in pages for item in page.get("Items", [])]

    def request(self, tenant_id: str) -> None:
        """Ask for a tenant's own deployment (idempotent: an existing row is kept)."""
        record = DeploymentRecord(tenant_id, stack_name(tenant_id), frozenset(), "",
                                  status=DeploymentStatus.PROVISIONING,
                                  desired_state=DesiredState.RUNNING)
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.put_item(TableName=self._table, Item=to_item(record.to_item()),
                                    ConditionExpression="attribute_not_exists(tenantId)")

    def cancel(self, tenant_id: str) -> None:
        """Withdraw a request that was never acted on (undoing a failed registration)."""
        # Already deployed: leave it to the deployer, never delete a live stack row.
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.delete_item(
                TableName=self._table, Key=to_item({"tenantId": tenant_id}),
                ConditionExpression="attribute_not_exists(tenantId) OR #status = :requested",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {":requested": DeploymentStatus.PROVISIONING.value}))

    def set_desired_state(self, deployment_id: str, state: DesiredState) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key=to_item({"tenantId": deployment_id}),
            UpdateExpression="SET desiredState = :state",
            ConditionExpression="attribute_exists(tenantId)",
            ExpressionAttributeValues=to_item({":state": state.value}))

    def record_active(self, deployment_id: str, api_ids: frozenset[str], api_url: str) -> None:
        """The deployer's report: the deployment is up at ``api_url``."""
        self._dynamodb.update_item(
            TableName=self._table, Key=to_item({"tenantId": deployment_id}),
            UpdateExpression="SET #status = :active, apiIds = :ids, apiGatewayUrl = :url",
            ConditionExpression="attribute_exists(tenantId)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":active": DeploymentStatus.ACTIVE.value,
                                               ":ids": set(api_ids), ":url": api_url}))
