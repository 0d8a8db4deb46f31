"""The tenant-offboarding state machine's one task: advance a tenant's offboarding by one step.

``advance`` runs ``TenantOffboarder.advance`` once (``pipeline.lifecycle.offboarding``: a look
at the grace period, or one idempotent step: the export, the erasure, the verification) and
answers what the state machine needs to go on: ``{"done": bool, "wait": int, "step": str}``,
``wait`` being whole seconds, at least 1 while the offboarding is not done (Step Functions
waits them: days of grace cost nothing there) and at most ``MAX_WAIT_SECONDS`` (what one
execution can still wait and then erase). ``done`` is true when the offboarding is done or was
undone within its grace period (``cancelled``). A failed step raises the offboarder's
``OffboardingStepError`` (recorded on the offboarding, which stays at its step); the state
machine retries it, then fails saying how to resume.

An execution follows the offboarding it was started for (``offboardingId``): if the record
names another one (this one was undone and staff asked again, which its own execution carries
out), the execution is done with nothing advanced, so two executions never drive one
offboarding (the undone one's execution wakes at the end of its grace wait and ends here).

Every step is bounded by one Lambda run (15 minutes): the export reads every item of the
tenant into one document, and the erasure deletes its pooled items, in one advance; the
verification scans the pooled tables (filtered to the tenant's key prefix), which grows with
every tenant's items. ``pipeline.lifecycle`` would have to record where a step stopped to go
beyond that (see the README).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.lifecycle.offboarding import Advance
from pipeline.stacks.state_machines import MAX_WAIT_SECONDS
from tenant_context.platform.tenant_offboarding import TenantOffboarding

SUPERSEDED = "superseded"  # the step answered when the record names another offboarding


class Offboardings(Protocol):
    """Reads a tenant's offboarding (``TenantOffboardings``)."""

    def get(self, tenant_id: str) -> TenantOffboarding | None: ...


class Offboarder(Protocol):
    """Carries out one step of it (``TenantOffboarder``)."""

    def advance(self, tenant_id: str) -> Advance: ...


@dataclass(frozen=True)
class OffboardingTasks:
    offboardings: Offboardings
    offboarder: Offboarder

    def advance(self, state: Mapping[str, Any]) -> dict[str, Any]:
        tenant_id = str(state["tenantId"])
        offboarding_id = str(state.get("offboardingId") or "")
        if offboarding_id:
            current = self.offboardings.get(tenant_id)
            if current is not None and current.offboarding_id != offboarding_id:
                return {"done": True, "wait": 0, "step": SUPERSEDED}
        advanced = self.offboarder.advance(tenant_id)
        step = advanced.offboarding.step.value
        if advanced.done:
            return {"done": True, "wait": 0, "step": step}
        return {"done": False, "wait": min(MAX_WAIT_SECONDS, max(1, math.ceil(advanced.wait))),
                "step": step}
