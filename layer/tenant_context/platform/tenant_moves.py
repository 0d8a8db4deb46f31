"""A tenant's move between the pool and its own (Platinum) deployment, as the tenant record
keeps it.

A move copies every item of the tenant from one deployment's tables to another's and then
switches the tenant's routing: it takes longer than one API request may (API Gateway's 29 s), so
the admin API only records the request (``TenantMoves.request``) and answers 202; a mover (the
local platform's, or an operator's ``make migrate-tenant``) carries it out step by step
(``pipeline.lifecycle``). The move lives on the tenant record (``tenantMove``, a map) because
every step is about that record: a failed or interrupted step is simply run again, since each
step is idempotent and the record says which one is next.

Only one move at a time per tenant; a finished move stays on the record (what was moved, when,
by whom) until the next one replaces it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.tenant_records import TenantRecord, tenant_record, utc_timestamp
from tenant_context.tenancy import Tier

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

MOVE_ATTRIBUTE = "tenantMove"


class MoveStep(StrEnum):
    """Where a move is; each step is idempotent (see ``pipeline.lifecycle.tenant_move``)."""

    REQUESTED = "requested"  # recorded by the admin API; nothing done yet
    KEYING = "keying"  # up: the tenant's key on the Platinum plan (its stack adds it to its own)
    PROVISIONING = "provisioning"  # up: the tenant's own deployment requested, until it serves
    PAUSING = "pausing"  # writes refused at the source (409 + Retry-After) until they settle
    COPYING = "copying"  # every item copied to the target's tables (keys re-sharded, versions kept)
    SWITCHING = "switching"  # the record's tier (and, down, its key) now name the target
    SETTLING = "settling"  # callers' cached routing runs out; the source still serves reads
    CLEANING = "cleaning"  # up: the tenant's items deleted from the pooled tables
    RETIRING = "retiring"  # down: the copy verified, the silo's tables, stack and row deleted
    DONE = "done"

    @property
    def active(self) -> bool:
        return self is not MoveStep.DONE


UP_STEPS = (MoveStep.REQUESTED, MoveStep.KEYING, MoveStep.PROVISIONING, MoveStep.PAUSING,
            MoveStep.COPYING, MoveStep.SWITCHING, MoveStep.SETTLING, MoveStep.CLEANING,
            MoveStep.DONE)
DOWN_STEPS = (MoveStep.REQUESTED, MoveStep.PAUSING, MoveStep.COPYING, MoveStep.SWITCHING,
              MoveStep.SETTLING, MoveStep.RETIRING, MoveStep.DONE)


@dataclass(frozen=True)
class TenantMove:
    move_id: str
    from_tier: Tier
    to_tier: Tier
    step: MoveStep
    requested_by: str
    requested_at: str
    updated_at: str = ""
    step_started_at: float = 0.0  # epoch seconds: waits (settling) count from here
    copied: Mapping[str, int] = field(default_factory=dict)  # item kind -> items copied
    removed: Mapping[str, int] = field(default_factory=dict)  # item kind -> source items gone
    # Item kind -> where its copy goes on ("done" once copied): a copy is done in bounded runs
    # (a Lambda's), each taking up where the last stopped.
    cursor: Mapping[str, str] = field(default_factory=dict)
    paused_at: float = 0.0  # epoch seconds: the tenant's writes refused from here ...
    switched_at: float = 0.0  # ... to here (the record names the target)
    attempts: int = 0  # failed attempts at the current step
    error: str = ""  # the last failure (cleared by the next step)
    finished_at: str = ""

    @property
    def upward(self) -> bool:
        """Into the tenant's own deployment (from the pool)."""
        return not self.to_tier.is_pooled

    @property
    def steps(self) -> tuple[MoveStep, ...]:
        return UP_STEPS if self.upward else DOWN_STEPS

    def next_step(self) -> MoveStep:
        steps = self.steps
        return steps[min(steps.index(self.step) + 1, len(steps) - 1)]

    @property
    def writes_paused(self) -> bool:
        """Between the pause and the switch the tenant's writes are refused (409)."""
        return bool(self.paused_at) and not self.switched_at

    @property
    def paused_seconds(self) -> float | None:
        """How long the tenant's writes were refused (None until the switch)."""
        if not self.paused_at or not self.switched_at:
            return None
        return max(0.0, self.switched_at - self.paused_at)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> TenantMove:
        return cls(
            move_id=str(item["moveId"]), from_tier=Tier.parse(item.get("fromTier")),
            to_tier=Tier.parse(item.get("toTier")), step=MoveStep(item["step"]),
            requested_by=str(item.get("requestedBy", "")),
            requested_at=str(item.get("requestedAt", "")),
            updated_at=str(item.get("updatedAt", "")),
            step_started_at=float(item.get("stepStartedAt", 0)),
            copied={str(k): int(v) for k, v in (item.get("copied") or {}).items()},
            removed={str(k): int(v) for k, v in (item.get("removed") or {}).items()},
            cursor={str(k): str(v) for k, v in (item.get("cursor") or {}).items()},
            paused_at=float(item.get("pausedAt", 0)),
            switched_at=float(item.get("switchedAt", 0)),
            attempts=int(item.get("attempts", 0)), error=str(item.get("error", "")),
            finished_at=str(item.get("finishedAt", "")))

    def to_item(self) -> dict[str, Any]:
        return {"moveId": self.move_id, "fromTier": self.from_tier.value,
                "toTier": self.to_tier.value, "step": self.step.value,
                "requestedBy": self.requested_by, "requestedAt": self.requested_at,
                "updatedAt": self.updated_at, "stepStartedAt": str(self.step_started_at),
                "copied": dict(self.copied), "removed": dict(self.removed),
                "cursor": dict(self.cursor), "pausedAt": str(self.paused_at),
                "switchedAt": str(self.switched_at),
                "attempts": self.attempts, "error": self.error,
                "finishedAt": self.finished_at}


class MoveConflict(Exception):  # noqa: N818 - an outcome the caller turns into a 409
    """The record changed under the caller: another move, or another mover's step."""


class TenantMoves:
    """Reads and writes a tenant's move on its record, each change conditional on the move
    (and step) it expects, so two movers never both apply a step."""

    def __init__(self, dynamodb: DynamoDBClient, details_table: str) -> None:
        self._dynamodb = dynamodb
        self._table = details_table

    def record(self, tenant_id: str) -> tuple[TenantRecord, TenantMove | None] | None:
        item = self._dynamodb.get_item(TableName=self._table,
                                       Key=to_item({"tenantId": tenant_id}),
                                       ConsistentRead=True).get("Item")
        values = from_item(item) if item else None
        record = tenant_record(values)
        if values is None or record is None:
            return None
        move = values.get(MOVE_ATTRIBUTE)
        return record, TenantMove.from_item(move) if move else None

    def get(self, tenant_id: str) -> TenantMove | None:
        found = self.record(tenant_id)
        return found[1] if found else None

    def request(self, record: TenantRecord, to_tier: Tier, requested_by: str) -> TenantMove:
        """Record a move of an active tenant that has none under way (``MoveConflict``
        otherwise, also when its tier changed meanwhile)."""
        move = TenantMove(uuid.uuid4().hex, record.tier, to_tier, MoveStep.REQUESTED,
                          requested_by, utc_timestamp(), utc_timestamp())
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key=to_item({"tenantId": record.tenant_id}),
                UpdateExpression="SET #move = :move",
                ConditionExpression="attribute_exists(tenantId) AND tenantTier = :tier AND "
                                    "isActive = :active AND (attribute_not_exists(#move) OR "
                                    "#move.#step = :done)",
                ExpressionAttributeNames={"#move": MOVE_ATTRIBUTE, "#step": "step"},
                ExpressionAttributeValues=to_item({
                    ":move": move.to_item(), ":tier": record.tier.value, ":active": True,
                    ":done": MoveStep.DONE.value}))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise MoveConflict(f"tenant {record.tenant_id} changed or has a move under way; "
                               f"read GET /tenant/{record.tenant_id}/move") from None
        return move

    def update(self, tenant_id: str, move: TenantMove, changed: TenantMove,
               record_values: Mapping[str, Any] | None = None) -> TenantMove:
        """Replace ``move`` (still at its step) by ``changed``; ``record_values`` are written
        to the tenant record in the same request (the switch of tier and key)."""
        changed = _stamped(changed)
        values: dict[str, Any] = {":move": changed.to_item(), ":id": move.move_id,
                                  ":step": move.step.value}
        assignments = ["#move = :move"]
        for index, value in enumerate((record_values or {}).values()):
            assignments.append(f"#r{index} = :r{index}")
            values[f":r{index}"] = value
        names = {"#move": MOVE_ATTRIBUTE, "#id": "moveId", "#step": "step",
                 **{f"#r{index}": name for index, name in enumerate(record_values or {})}}
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key=to_item({"tenantId": tenant_id}),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="#move.#id = :id AND #move.#step = :step",
                ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise MoveConflict(f"tenant {tenant_id}'s move {move.move_id} is no longer at "
                               f"{move.step}: another mover took it") from None
        return changed

    def active(self) -> list[str]:
        """The tenants with a move under way (a scan: the local mover's poll; the tenant
        table holds one row per tenant)."""
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._table, ConsistentRead=True, ProjectionExpression="tenantId",
            FilterExpression="attribute_exists(#move) AND #move.#step <> :done",
            ExpressionAttributeNames={"#move": MOVE_ATTRIBUTE, "#step": "step"},
            ExpressionAttributeValues=to_item({":done": MoveStep.DONE.value}))
        return [str(from_item(item)["tenantId"]) for page in pages
                for item in page.get("Items", [])]


def _stamped(move: TenantMove) -> TenantMove:
    return replace(move, updated_at=utc_timestamp())
