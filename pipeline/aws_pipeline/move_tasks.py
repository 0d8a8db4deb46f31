"""The tenant-move state machine's one task: advance a tenant's move by one step.

``advance`` runs ``TenantMover.advance`` once (``pipeline.lifecycle.tenant_move``: one
idempotent step, or a look at a step that waits) and answers what the state machine needs to
go on: ``{"done": bool, "wait": int, "step": str}``, ``wait`` being whole seconds, at least 1
while the move is not done (Step Functions waits them: a wait costs nothing there, where a
function waiting would pay for it and hit its 15-minute limit). A failed step raises the
mover's ``MoveStepError`` (recorded on the move, which stays at its step); the state machine
retries it a few times, then fails saying how to resume.

An execution follows the move it was started for (``moveId``): if the record names another
move (this one finished, and staff asked for another, which its own execution carries out),
the execution is done with nothing advanced, so two executions never drive one move.

Every advance is bounded by one Lambda run (15 minutes): the copy (``copying``) runs for at most
``COPY_BUDGET_SECONDS`` per advance and records where it stopped, and the next advance goes on
from there (the move stays at ``copying``, ``wait`` 1); the removal (``cleaning``, ``retiring``)
deletes what it has read, so a run cut short by the timeout leaves less for its retry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.lifecycle.tenant_move import Advance
from tenant_context.platform.tenant_moves import TenantMove

SUPERSEDED = "superseded"  # the step answered when the record names another move


class Moves(Protocol):
    """Reads a tenant's move (``TenantMoves``)."""

    def get(self, tenant_id: str) -> TenantMove | None: ...


class Mover(Protocol):
    """Carries out one step of it (``TenantMover``)."""

    def advance(self, tenant_id: str) -> Advance: ...


@dataclass(frozen=True)
class MoveTasks:
    moves: Moves
    mover: Mover

    def advance(self, state: Mapping[str, Any]) -> dict[str, Any]:
        tenant_id, move_id = str(state["tenantId"]), str(state.get("moveId") or "")
        if move_id:
            current = self.moves.get(tenant_id)
            if current is not None and current.move_id != move_id:
                return {"done": True, "wait": 0, "step": SUPERSEDED}
        advanced = self.mover.advance(tenant_id)
        if advanced.done:
            return {"done": True, "wait": 0, "step": advanced.move.step.value}
        return {"done": False, "wait": max(1, math.ceil(advanced.wait)),
                "step": advanced.move.step.value}
