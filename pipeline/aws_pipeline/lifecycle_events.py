"""From the tenant-details table's stream to tenant moves and offboardings: which record asks
for one, and the execution it starts.

The admin API records the work on the tenant record (a move as ``tenantMove`` at
``requested``; an offboarding as ``tenantOffboarding`` at ``grace``:
``POST /tenant/offboarding/{id}``) and answers 202; on AWS nothing else would carry it out, so
the table's stream starts one execution of that work's state machine per new request. A record
asks for one when its new image holds the work at its starting step with an id the old image
did not hold (INSERT or MODIFY: a first request, one replacing a finished move, or an
offboarding asked again after an undo, whose cancelled one had another id). Every other change
starts nothing: the worker's own steps (the same id, another step), a failure it recorded, an
undo, the tombstone, a finished piece of work, and every change that is not this work's (a
tier, a name, an activation, the deactivation written beside an offboarding, the other kind of
work). Both kinds read the record the same way, so one reading (``request_of``) serves both,
told apart by a ``TenantWork``: the attribute, its id field, its starting step and the fields
copied into the execution's input.

The execution is named after the work's id: a record delivered twice (Lambda retries a batch,
streams deliver at least once) names the same execution, which Step Functions refuses to start
again, so a move or an offboarding has one execution. Resuming one that failed is a new
execution with another name (``pipeline.stacks.state_machines``' ``RESUME`` and
``OFFBOARDING_RESUME``).

A function of each kind's own, beside the tenant-stack-mapping table's
(``provisioning_events``), rather than one function with several event sources or one mapping
with two filters: the tables' records have different shapes (one function would tell them apart
by the source ARN, where a mistake would read a tenant record as a deployment request); each
function may start only its own state machine (its IAM names that one); and each mapping keeps
its own place in the stream, so an offboarding batch that keeps failing is retried, bisected
and dead-lettered without holding up the moves behind it (one mapping with two filters shares
one iterator: a failing record of either kind blocks both). The price is a second reader of the
tenant-details stream, which DynamoDB streams serve without throttling (two readers a shard); a
third lifecycle operation on this table should join one of these functions rather than add a
reader. Each mapping filters to its wanted records before Lambda is invoked
(``pipeline.stacks.tenant_pipeline_template``); the function checks everything again, a filter
being an optimisation. Starting is ``provisioning_events.start_executions``, shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.aws_pipeline.provisioning_events import Started, image, start_executions
from tenant_context.platform.tenant_moves import MOVE_ATTRIBUTE, MoveStep
from tenant_context.platform.tenant_offboarding import OFFBOARDING_ATTRIBUTE, OffboardingStep
from tenant_context.tenancy import is_tenant_id

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

# What Step Functions accepts as an execution's name (a move's or offboarding's id is 32 hex
# characters).
_EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


@dataclass(frozen=True)
class TenantWork:
    """One kind of work the tenant record carries and a state machine carries out."""

    attribute: str  # the tenant record's attribute holding it
    id_field: str  # its id, inside it and in the execution's input
    starting_step: str  # where the admin API records a request
    # Copied from the work into the execution's input, only for whoever reads the execution's
    # history (the work on the record is what the state machine's task follows).
    details: tuple[str, ...]


MOVES = TenantWork(MOVE_ATTRIBUTE, "moveId", MoveStep.REQUESTED.value, ("fromTier", "toTier"))
OFFBOARDINGS = TenantWork(OFFBOARDING_ATTRIBUTE, "offboardingId", OffboardingStep.GRACE.value,
                          ("requestedBy",))


@dataclass(frozen=True)
class WorkRequest:
    tenant_id: str
    work_id: str
    id_field: str
    details: tuple[tuple[str, str], ...]  # (field, value), in the kind's order

    @property
    def execution_name(self) -> str:
        return self.work_id

    def execution_input(self) -> str:
        """What the work's state machine takes: the tenant, the work's id, its details."""
        return json.dumps({"tenantId": self.tenant_id, self.id_field: self.work_id,
                           **dict(self.details)})


def _work_id(kind: TenantWork, values: Mapping[str, Any]) -> str | None:
    work = values.get(kind.attribute)
    if not isinstance(work, Mapping):
        return None
    work_id = work.get(kind.id_field)
    return work_id if isinstance(work_id, str) else None


def request_of(kind: TenantWork, record: Mapping[str, Any]) -> WorkRequest | None:
    """The work of that kind a stream record asks for, if any (None for anything malformed: a
    record that cannot name a tenant and the work is no request, and retrying it would never
    make it one)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    try:
        new, old = image(record, "NewImage"), image(record, "OldImage")
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # not DynamoDB's attribute values
    tenant_id, work_id = new.get("tenantId"), _work_id(kind, new)
    if not is_tenant_id(tenant_id) or work_id is None or \
            not _EXECUTION_NAME.fullmatch(work_id):
        return None
    work = new[kind.attribute]
    if work.get("step") != kind.starting_step or _work_id(kind, old) == work_id:
        return None  # a step of one under way, undone, finished, or another change
    return WorkRequest(tenant_id, work_id, kind.id_field,
                       tuple((name, str(work.get(name, ""))) for name in kind.details))


def start_requested(kind: TenantWork, records: Iterable[Mapping[str, Any]], sfn: SFNClient,
                    state_machine_arn: str) -> Started:
    """An execution of the kind's state machine for each record that asks for its work."""
    requests = [request for request in (request_of(kind, record) for record in records)
                if request is not None]
    return start_executions(requests, sfn, state_machine_arn)
