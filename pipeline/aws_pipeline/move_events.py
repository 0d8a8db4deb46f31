"""From the tenant-details table's stream to tenant moves: which record asks for one.

The admin API records a move on the tenant record (``tenantMove``, at ``requested``) and
answers 202; on AWS nothing else would carry it out, so the table's stream starts one execution
of the tenant-move state machine per new move. A record asks for a move when its new image holds
a move at ``requested`` whose ``moveId`` the old image did not hold (INSERT or MODIFY). Every
other change of a tenant record starts nothing: the mover's own steps (the same move id, another
step), a failure it recorded, a finished move, and every change that is not a move's (a tier,
a name, an activation).

The execution is named after the move id: a record delivered twice (Lambda retries a batch,
streams deliver at least once) names the same execution, which Step Functions refuses to start
again, so a move has one execution. Resuming a move that failed is a new execution with
another name (see ``pipeline.stacks.state_machines.tenant_move_definition``).

A function of its own, beside the tenant-stack-mapping table's (``provisioning_events``),
rather than one function with two event sources: the two tables' records have different
shapes, and one function would have to tell them apart by the record's source ARN, where a
mistake would read a tenant record as a deployment request (or the reverse); with two, each
function may start only its own state machine (its IAM names that one), and each event source
mapping filters to its own wanted records before Lambda is invoked (this one to records whose
new image holds a requested move: ``pipeline.stacks.tenant_pipeline_template``; the function
checks everything again, a filter being an optimisation). They share the starting
code (``provisioning_events.start_executions``: duplicates looked up, then refused by name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.aws_pipeline.provisioning_events import Started, image, start_executions
from tenant_context.platform.tenant_moves import MOVE_ATTRIBUTE, MoveStep
from tenant_context.tenancy import is_tenant_id

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

# What Step Functions accepts as an execution's name (a move id is 32 hex characters).
_EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")

@dataclass(frozen=True)
class MoveRequest:
    tenant_id: str
    move_id: str
    from_tier: str
    to_tier: str

    @property
    def execution_name(self) -> str:
        return self.move_id

    def execution_input(self) -> str:
        """What the tenant-move state machine takes (the tiers only for whoever reads the
        execution's history: the move on the record is what the mover follows)."""
        return json.dumps({"tenantId": self.tenant_id, "moveId": self.move_id,
                           "fromTier": self.from_tier, "toTier": self.to_tier})


def _move_id(values: Mapping[str, Any]) -> str | None:
    move = values.get(MOVE_ATTRIBUTE)
    if not isinstance(move, Mapping):
        return None
    move_id = move.get("moveId")
    return move_id if isinstance(move_id, str) else None


def move_request_of(record: Mapping[str, Any]) -> MoveRequest | None:
    """The move a stream record asks for, if any (None for anything malformed: a record that
    cannot name a tenant and a move is no request, and retrying it would never make it one)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    try:
        new, old = image(record, "NewImage"), image(record, "OldImage")
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # not DynamoDB's attribute values
    tenant_id, move_id = new.get("tenantId"), _move_id(new)
    if not is_tenant_id(tenant_id) or move_id is None or \
            not _EXECUTION_NAME.fullmatch(move_id):
        return None
    move = new[MOVE_ATTRIBUTE]
    if move.get("step") != MoveStep.REQUESTED.value or _move_id(old) == move_id:
        return None  # a step of a move under way, or one finished
    return MoveRequest(tenant_id, move_id, str(move.get("fromTier", "")),
                       str(move.get("toTier", "")))


def start_moves(records: Iterable[Mapping[str, Any]], sfn: SFNClient,
                state_machine_arn: str) -> Started:
    """A tenant-move execution for each record that asks for a move."""
    requests = [request for request in map(move_request_of, records) if request is not None]
    return start_executions(requests, sfn, state_machine_arn)
