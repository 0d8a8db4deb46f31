"""A tenant leaving the platform, as its record keeps it: requested, in its grace period (when
it can still be undone), exported, erased and verified.

Offboarding takes longer than a request and must not start at once (a mistaken click has to be
undoable), so the admin API records it (``TenantOffboardings.request``: the SystemAdmin types
the tenant's name to confirm; the tenant is deactivated at once) and answers 202; after the
grace period an offboarder (``pipeline.lifecycle.offboarding``, run by the local platform or the
tenant pipeline) exports the tenant's data, erases it and checks nothing is left. Every action
is appended to the record's audit list (who, what, when), which outlives the tenant in its
tombstone: the record is finally replaced by the minimal tombstone this module describes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.tenant_records import (
    TOMBSTONE_ATTRIBUTE,
    TenantRecord,
    utc_timestamp,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

OFFBOARDING_ATTRIBUTE = "tenantOffboarding"


class OffboardingStep(StrEnum):
    GRACE = "grace"  # deactivated; undo possible until ``grace_until``
    EXPORTING = "exporting"  # its data written to the export store
    ERASING = "erasing"  # items, deployment, users, pool or group, keys, name, record
    VERIFYING = "verifying"  # a scan for anything left under the tenant's id
    DONE = "done"  # the record is a tombstone
    CANCELLED = "cancelled"  # undone within the grace period

    @property
    def active(self) -> bool:
        return self not in (OffboardingStep.DONE, OffboardingStep.CANCELLED)


STEPS = (OffboardingStep.GRACE, OffboardingStep.EXPORTING, OffboardingStep.ERASING,
         OffboardingStep.VERIFYING, OffboardingStep.DONE)


@dataclass(frozen=True)
class AuditEntry:
    at: str
    by: str
    action: str

    def to_item(self) -> dict[str, str]:
        return {"at": self.at, "by": self.by, "action": self.action}


@dataclass(frozen=True)
class TenantOffboarding:
    offboarding_id: str
    step: OffboardingStep
    requested_by: str
    requested_at: str
    grace_until: float  # epoch seconds
    audit: tuple[AuditEntry, ...] = ()
    export_location: str = ""
    export_link: str = ""  # expiring (an S3 presigned URL), or a local file's path
    export_expires_at: str = ""
    exported: Mapping[str, int] = field(default_factory=dict)  # kind -> items in the export
    erased: Mapping[str, int] = field(default_factory=dict)  # what -> how many were deleted
    remaining: Mapping[str, int] = field(default_factory=dict)  # the verification's finds
    attempts: int = 0
    error: str = ""

    def next_step(self) -> OffboardingStep:
        return STEPS[min(STEPS.index(self.step) + 1, len(STEPS) - 1)]

    def audited(self, by: str, action: str) -> TenantOffboarding:
        return replace(self, audit=(*self.audit, AuditEntry(utc_timestamp(), by, action)))

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> TenantOffboarding:
        def counts(name: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in (item.get(name) or {}).items()}

        return cls(
            offboarding_id=str(item["offboardingId"]), step=OffboardingStep(item["step"]),
            requested_by=str(item.get("requestedBy", "")),
            requested_at=str(item.get("requestedAt", "")),
            grace_until=float(item.get("graceUntil", 0)),
            audit=tuple(AuditEntry(str(entry["at"]), str(entry["by"]), str(entry["action"]))
                        for entry in item.get("audit") or []),
            export_location=str(item.get("exportLocation", "")),
            export_link=str(item.get("exportLink", "")),
            export_expires_at=str(item.get("exportExpiresAt", "")),
            exported=counts("exported"), erased=counts("erased"),
            remaining=counts("remaining"), attempts=int(item.get("attempts", 0)),
            error=str(item.get("error", "")))

    def to_item(self) -> dict[str, Any]:
        return {"offboardingId": self.offboarding_id, "step": self.step.value,
                "requestedBy": self.requested_by, "requestedAt": self.requested_at,
                "graceUntil": str(self.grace_until),
                "audit": [entry.to_item() for entry in self.audit],
                "exportLocation": self.export_location, "exportLink": self.export_link,
                "exportExpiresAt": self.export_expires_at, "exported": dict(self.exported),
                "erased": dict(self.erased), "remaining": dict(self.remaining),
                "attempts": self.attempts, "error": self.error}


class OffboardingConflict(Exception):  # noqa: N818 - an outcome the caller turns into a 409
    """The record changed under the caller (another request, or the offboarder's step)."""


def tombstone(tenant_id: str, offboarding: TenantOffboarding) -> dict[str, Any]:
    """What is kept of an offboarded tenant: its id, when, where its export went and the
    audit and erasure report. Not its name (released for anyone to register: a name can be
    personal data, and the tombstone is kept indefinitely), contacts, tier or key."""
    return {"tenantId": tenant_id, TOMBSTONE_ATTRIBUTE: utc_timestamp(),
            "tenantNameReleased": True, "isActive": False,
            OFFBOARDING_ATTRIBUTE: offboarding.to_item()}


class TenantOffboardings:
    def __init__(self, dynamodb: DynamoDBClient, details_table: str, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._dynamodb = dynamodb
        self._table = details_table
        self._clock = clock

    def read(self, tenant_id: str) -> dict[str, Any] | None:
        """The tenant's row as stored (a record or a tombstone)."""
        item = self._dynamodb.get_item(TableName=self._table,
                                       Key=to_item({"tenantId": tenant_id}),
                                       ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def get(self, tenant_id: str) -> TenantOffboarding | None:
        row = self.read(tenant_id)
        offboarding = (row or {}).get(OFFBOARDING_ATTRIBUTE)
        return TenantOffboarding.from_item(offboarding) if offboarding else None

    def request(self, record: TenantRecord, by: str, grace_seconds: float) -> TenantOffboarding:
        """Record the request on a tenant with none under way (``OffboardingConflict``
        otherwise); the caller deactivates the tenant."""
        offboarding = TenantOffboarding(
            uuid.uuid4().hex, OffboardingStep.GRACE, by, utc_timestamp(),
            self._clock() + grace_seconds).audited(by, "requested")
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key=to_item({"tenantId": record.tenant_id}),
                UpdateExpression="SET #off = :off",
                ConditionExpression="attribute_exists(tenantId) AND attribute_not_exists("
                                    f"{TOMBSTONE_ATTRIBUTE}) AND (attribute_not_exists(#off) "
                                    "OR #off.#step = :cancelled)",
                ExpressionAttributeNames={"#off": OFFBOARDING_ATTRIBUTE, "#step": "step"},
                ExpressionAttributeValues=to_item({
                    ":off": offboarding.to_item(),
                    ":cancelled": OffboardingStep.CANCELLED.value}))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise OffboardingConflict(f"tenant {record.tenant_id} is already being "
                                      f"offboarded") from None
        return offboarding

    def update(self, tenant_id: str, current: TenantOffboarding,
               changed: TenantOffboarding) -> TenantOffboarding:
        """Replace ``current`` (still at its step) by ``changed``."""
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key=to_item({"tenantId": tenant_id}),
                UpdateExpression="SET #off = :off",
                ConditionExpression="#off.#id = :id AND #off.#step = :step",
                ExpressionAttributeNames={"#off": OFFBOARDING_ATTRIBUTE, "#id": "offboardingId",
                                          "#step": "step"},
                ExpressionAttributeValues=to_item({
                    ":off": changed.to_item(), ":id": current.offboarding_id,
                    ":step": current.step.value}))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise OffboardingConflict(f"tenant {tenant_id}'s offboarding is no longer at "
                                      f"{current.step}") from None
        return changed

    def cancel(self, tenant_id: str, current: TenantOffboarding, by: str) -> TenantOffboarding:
        """Undo, only while still in the grace period (and before the offboarder began)."""
        if current.step is not OffboardingStep.GRACE or self._clock() >= current.grace_until:
            raise OffboardingConflict(f"tenant {tenant_id}'s grace period is over: its "
                                      f"erasure has begun and cannot be undone")
        return self.update(tenant_id, current, replace(
            current, step=OffboardingStep.CANCELLED).audited(by, "cancelled"))

    def active(self) -> list[str]:
        """Tenants with an offboarding under way (the local offboarder's poll)."""
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._table, ConsistentRead=True, ProjectionExpression="tenantId",
            FilterExpression="attribute_exists(#off) AND NOT #off.#step IN (:done, :cancelled)",
            ExpressionAttributeNames={"#off": OFFBOARDING_ATTRIBUTE, "#step": "step"},
            ExpressionAttributeValues=to_item({":done": OffboardingStep.DONE.value,
                                               ":cancelled": OffboardingStep.CANCELLED.value}))
        return [str(from_item(item)["tenantId"]) for page in pages
                for item in page.get("Items", [])]
