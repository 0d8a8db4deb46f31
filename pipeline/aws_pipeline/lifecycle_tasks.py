"""The tenant-move and tenant-offboarding state machines' one task: advance a tenant's move or
offboarding by one step.

``AdvancingTask.advance`` runs the worker's ``advance`` once (``TenantMover.advance`` of
``pipeline.lifecycle.tenant_move``: one idempotent step, or a look at a step that waits;
``TenantOffboarder.advance`` of ``pipeline.lifecycle.offboarding``: a look at the grace period,
or one idempotent step: the export, the erasure, the verification) and answers what the state
machine needs to go on: ``{"done": bool, "wait": int, "step": str}``, ``wait`` being whole
seconds, at least 1 while the work is not done (Step Functions waits them: a wait, days of
grace included, costs nothing there, where a function waiting would pay for it and hit its
15-minute limit). An offboarding's wait is also at most ``MAX_WAIT_SECONDS`` (what one
execution can still wait and then erase). ``done`` is the worker's: a move at ``done``; an
offboarding done or undone within its grace period (``cancelled``). A failed step raises the
worker's error (``MoveStepError``, ``OffboardingStepError``: recorded on the record, which stays
at its step); the state machine retries it, then fails saying how to resume.

An execution follows the work it was started for (``moveId``, ``offboardingId``): if the record
names another (the move finished and staff asked for another; the offboarding was undone and
staff asked again: its own execution carries that out), the execution is done with nothing
advanced (``SUPERSEDED``), so two executions never drive one piece of work (an undone
offboarding's execution wakes at the end of its grace wait and ends here). The two kinds differ
only in where their id and step sit (``advancing_moves``, ``advancing_offboardings``).

Every advance is bounded by one Lambda run (15 minutes). A move's copy (``copying``) runs for at
most ``COPY_BUDGET_SECONDS`` per advance and records where it stopped, and the next advance goes
on from there (``wait`` 1); its removal (``cleaning``, ``retiring``) deletes what it has read, so
a run cut short by the timeout leaves less for its retry. An offboarding's export reads every
item of the tenant into one document, and its erasure deletes the pooled items, in one advance;
the verification scans the pooled tables (filtered to the tenant's key prefix), which grows with
every tenant's items: ``pipeline.lifecycle`` would have to record where a step stopped to go
beyond that (see the README).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pipeline.lifecycle import offboarding, tenant_move
from pipeline.stacks.state_machines import MAX_WAIT_SECONDS
from tenant_context.platform.tenant_moves import TenantMove
from tenant_context.platform.tenant_offboarding import TenantOffboarding

SUPERSEDED = "superseded"  # the step answered when the record names other work

Work = TypeVar("Work", covariant=True)
Advanced = TypeVar("Advanced", covariant=True)


class Records(Protocol[Work]):
    """Reads a tenant's work from its record (``TenantMoves``, ``TenantOffboardings``)."""

    def get(self, tenant_id: str) -> Work | None: ...


class Worker(Protocol[Advanced]):
    """Carries out one step of it (``TenantMover``, ``TenantOffboarder``)."""

    def advance(self, tenant_id: str) -> Advanced: ...


@dataclass(frozen=True)
class Progress:
    """One advance, as the task answers it: whether the work is done, the seconds until
    another advance is useful, and the step it stands at."""

    done: bool
    wait: float
    step: str


@dataclass(frozen=True)
class AdvancingTask:
    id_field: str  # the execution's input naming the work it follows
    current_id: Callable[[str], str | None]  # the work's id the tenant's record names now
    advance_once: Callable[[str], Progress]  # one step of the tenant's work
    max_wait: int | None = None  # what one Wait of the execution may still take

    def advance(self, state: Mapping[str, Any]) -> dict[str, Any]:
        tenant_id, work_id = str(state["tenantId"]), str(state.get(self.id_field) or "")
        if work_id:
            current = self.current_id(tenant_id)
            if current is not None and current != work_id:
                return {"done": True, "wait": 0, "step": SUPERSEDED}
        advanced = self.advance_once(tenant_id)
        if advanced.done:
            return {"done": True, "wait": 0, "step": advanced.step}
        wait = max(1, math.ceil(advanced.wait))
        return {"done": False, "wait": wait if self.max_wait is None else min(self.max_wait, wait),
                "step": advanced.step}


def advancing_moves(moves: Records[TenantMove],
                    mover: Worker[tenant_move.Advance]) -> AdvancingTask:
    """The tenant-move task: a move's id and step sit on ``TenantMove``."""
    def advance_once(tenant_id: str) -> Progress:
        advanced = mover.advance(tenant_id)
        return Progress(advanced.done, advanced.wait, advanced.move.step.value)

    def current_id(tenant_id: str) -> str | None:
        move = moves.get(tenant_id)
        return None if move is None else move.move_id

    return AdvancingTask("moveId", current_id, advance_once)


def advancing_offboardings(offboardings: Records[TenantOffboarding],
                           offboarder: Worker[offboarding.Advance]) -> AdvancingTask:
    """The tenant-offboarding task: its id and step sit on ``TenantOffboarding``, and a wait is
    capped so that the erasure still fits in the execution after it."""
    def advance_once(tenant_id: str) -> Progress:
        advanced = offboarder.advance(tenant_id)
        return Progress(advanced.done, advanced.wait, advanced.offboarding.step.value)

    def current_id(tenant_id: str) -> str | None:
        found = offboardings.get(tenant_id)
        return None if found is None else found.offboarding_id

    return AdvancingTask("offboardingId", current_id, advance_once, MAX_WAIT_SECONDS)
