"""Deployment requests: how the control plane asks for a tenant's own deployment.

The tenant-stack-mapping table is the hand-off between the control plane and the deployer: the
registration writes a ``provisioning`` row for a Platinum tenant, deactivation sets its
``desiredState`` to ``stopped``; the deployer (the local platform, or the aws pipeline) brings
the deployment up, records its API ids and URL (``active``) and follows the desired state.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.tenant_records import (
    DeploymentRecord,
    DeploymentStatus,
    DesiredState,
    ReleaseResult,
    utc_timestamp,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


def stack_name(deployment_id: str) -> str:
    return f"stack-{deployment_id}"


@dataclass(frozen=True)
class ReleaseSettings:
    """A change to a deployment's place in rollouts; None leaves a setting as it is."""

    wave: int | None = None
    last_wave: bool = False  # back to the default wave (the last one)
    apply_latest_release: bool | None = None

    def __post_init__(self) -> None:
        if self.wave is not None and self.last_wave:
            raise ValueError("a wave number or the last wave, not both")
        if self.wave is None and not self.last_wave and self.apply_latest_release is None:
            raise ValueError("no release setting to change")


def release_update(table: str, deployment_id: str, release_id: str, result: ReleaseResult,
                   at: str, reason: str = "") -> dict[str, Any]:
    """The UpdateItem request that records what a rollout did to a deployment (a deployer
    that works through its own client sends it as it is). A failed release leaves
    ``releaseId`` on the release the deployment still runs and keeps the reason for staff."""
    values: dict[str, object] = {":at": at, ":result": result.value, ":attempted": release_id}
    assignments = ["releasedAt = :at", "releaseResult = :result",
                   "attemptedRelease = :attempted"]
    if result is ReleaseResult.FAILED:
        assignments.append("releaseFailure = :reason")
        values[":reason"] = reason
        removals = ""
    else:
        assignments.append("releaseId = :release")
        values[":release"] = release_id
        removals = " REMOVE releaseFailure"
    return {"TableName": table, "Key": to_item({"tenantId": deployment_id}),
            "UpdateExpression": "SET " + ", ".join(assignments) + removals,
            "ConditionExpression": "attribute_exists(tenantId)",
            "ExpressionAttributeValues": to_item(values)}


def claim_update(table: str, deployment_id: str, owner: str, now: int,
                 lease_seconds: int) -> dict[str, Any]:
    """The UpdateItem request that takes a row for one deployer of its stack at a time (the
    tenant pipeline's executions, an operator's commands): it fails on a row another owner
    holds until ``claimedUntil``; taken again by its owner, it is renewed."""
    return {"TableName": table, "Key": to_item({"tenantId": deployment_id}),
            "UpdateExpression": "SET claimedBy = :owner, claimedUntil = :until",
            "ConditionExpression": "attribute_exists(tenantId) AND (attribute_not_exists("
                                   "claimedBy) OR claimedBy = :owner OR claimedUntil < :now)",
            "ExpressionAttributeValues": to_item({":owner": owner, ":now": now,
                                                  ":until": now + lease_seconds})}


def unclaim_update(table: str, deployment_id: str, owner: str) -> dict[str, Any]:
    return {"TableName": table, "Key": to_item({"tenantId": deployment_id}),
            "UpdateExpression": "REMOVE claimedBy, claimedUntil",
            "ConditionExpression": "claimedBy = :owner",
            "ExpressionAttributeValues": to_item({":owner": owner})}


class Deployments:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    @property
    def table_name(self) -> str:
        return self._table

    @property
    def missing_row(self) -> type[Exception]:
        """What a change to a row that does not exist raises."""
        return self._dynamodb.exceptions.ConditionalCheckFailedException

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

    def provisioning_count(self, stop_at: int) -> int:
        """How many Platinum deployments are still ``provisioning``, counted up to ``stop_at``
        (the registration's cap: past it the exact number does not matter, so the scan stops
        paging). Its cost: a ``Select=COUNT`` scan reads every row, one per Platinum tenant
        plus ``pooled`` (a few hundred bytes each: about 1 read unit per 8 KB, so some 60
        units for 1,000 tenants) and returns none of them; run only for a Platinum
        registration. Eventually consistent, as the cap is: two sign-ups racing at the cap
        may both pass (the rate limits in front bound how many can race)."""
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._table, Select="COUNT",
            FilterExpression="#status = :provisioning AND tenantId <> :pooled",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":provisioning":
                                               DeploymentStatus.PROVISIONING.value,
                                               ":pooled": POOLED_DEPLOYMENT}))
        count = 0
        for page in pages:
            count += page.get("Count", 0)
            if count >= stop_at:
                break
        return count

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

    def delete(self, deployment_id: str) -> None:
        """Forget a retired deployment (its stack and tables are gone): a tenant moved back
        into the pool. Deleting a row that is not there is what was wanted."""
        self._dynamodb.delete_item(TableName=self._table,
                                   Key=to_item({"tenantId": deployment_id}))

    def set_desired_state(self, deployment_id: str, state: DesiredState) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key=to_item({"tenantId": deployment_id}),
            UpdateExpression="SET desiredState = :state",
            ConditionExpression="attribute_exists(tenantId)",
            ExpressionAttributeValues=to_item({":state": state.value}))

    def record_active(self, deployment_id: str, api_ids: frozenset[str], api_url: str) -> None:
        """The deployer's report: the deployment is up at ``api_url`` (a failure recorded by
        an earlier attempt is cleared)."""
        self._dynamodb.update_item(
            TableName=self._table, Key=to_item({"tenantId": deployment_id}),
            UpdateExpression="SET #status = :active, apiIds = :ids, apiGatewayUrl = :url "
                             "REMOVE failureReason, operatorAction",
            ConditionExpression="attribute_exists(tenantId)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":active": DeploymentStatus.ACTIVE.value,
                                               ":ids": set(api_ids), ":url": api_url}))

    def record_failed(self, deployment_id: str, reason: str, operator_action: str) -> None:
        """The deployer's report that a deployment never came up. A deployment that is
        already active stays active (its stack rolled back and still serves): its failed
        release is ``record_release``'s to say."""
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.update_item(
                TableName=self._table, Key=to_item({"tenantId": deployment_id}),
                UpdateExpression="SET #status = :failed, failureReason = :reason, "
                                 "operatorAction = :action",
                ConditionExpression="attribute_exists(tenantId) AND #status <> :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item({
                    ":failed": DeploymentStatus.FAILED.value,
                    ":active": DeploymentStatus.ACTIVE.value,
                    ":reason": reason, ":action": operator_action}))

    def record_release(self, deployment_id: str, release_id: str, result: ReleaseResult,
                       at: str, reason: str = "") -> None:
        """What a rollout did to the deployment (``release_update``)."""
        self._dynamodb.update_item(**release_update(self._table, deployment_id, release_id,
                                                    result, at, reason))

    def claim(self, deployment_id: str, owner: str, now: int, lease_seconds: int) -> bool:
        """Take the row for one deployment of its stack at a time (``claim_update``); False
        when another owner's claim has not expired. A missing row is a ``LookupError``."""
        try:
            self._dynamodb.update_item(**claim_update(self._table, deployment_id, owner, now,
                                                      lease_seconds))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            if self.get(deployment_id) is None:
                raise LookupError(f"no deployment row {deployment_id}") from None
            return False
        return True

    def unclaim(self, deployment_id: str, owner: str) -> None:
        """Give the row back (only ``owner``'s claim; a taken-over one is left alone)."""
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.update_item(**unclaim_update(self._table, deployment_id, owner))

    def set_release_settings(self, deployment_id: str, settings: ReleaseSettings) -> None:
        """Staff's choice of a deployment's wave and whether it follows new releases (when it
        was last changed is kept with it)."""
        assignments = ["releaseSettingsChangedAt = :at"]
        values: dict[str, object] = {":at": utc_timestamp()}
        if settings.wave is not None:
            assignments.append("wave = :wave")
            values[":wave"] = settings.wave
        if settings.apply_latest_release is not None:
            assignments.append("applyLatestRelease = :apply")
            values[":apply"] = settings.apply_latest_release
        self._dynamodb.update_item(
            TableName=self._table, Key=to_item({"tenantId": deployment_id}),
            UpdateExpression="SET " + ", ".join(assignments)
                             + (" REMOVE wave" if settings.last_wave else ""),
            ConditionExpression="attribute_exists(tenantId)",
            ExpressionAttributeValues=to_item(values))
