"""The tasks of the rollout state machine (the deployments themselves are deploy-stack
executions it starts): ``plan`` (the same plan as every target, ``pipeline.rollout``, from a
consistent read of every row, for a published release only), ``failures`` (after a stack
failed: is the rollout's threshold passed?) and ``report`` (the final table, for the execution's
output and the notification)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.rollout.release_plan import RolloutPlan, Target, plan_rollout
from pipeline.rollout.release_tables import fleet_lines, table
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.tenant_records import DeploymentRecord, ReleaseResult

Task = Callable[[Mapping[str, Any]], dict[str, Any]]


def plan_document(plan: RolloutPlan) -> dict[str, Any]:
    """The plan as the state machine iterates it: waves of deployment ids, the first one
    marked (it needs no approval: the pooled deployment's canary went before it)."""
    def ids(targets: tuple[Target, ...]) -> list[str]:
        return [target.deployment_id for target in targets]

    return {"releaseId": plan.release_id, "pooled": plan.pooled is not None,
            "waves": [{"number": wave.number, "first": index == 0,
                       "targets": ids(wave.targets)} for index, wave in enumerate(plan.waves)],
            "skipped": [{"deploymentId": skipped.row.deployment_id, "why": skipped.why.value}
                        for skipped in plan.skipped],
            "lines": plan.lines()}


@dataclass(frozen=True)
class RolloutTasks:
    deployments: Deployments
    releases: ReleaseStore

    def tasks(self) -> dict[str, Task]:
        return {"plan": self.plan, "failures": self.failures, "report": self.report}

    def plan(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Refuses (raises) an unpublished release or a table that is not ours: nothing was
        deployed yet."""
        release_id = str(state["releaseId"])
        self.releases.manifest(release_id)
        return plan_document(plan_rollout(self.deployments.all(), release_id))

    def _attempted(self, release_id: str) -> list[DeploymentRecord]:
        return [row for row in self.deployments.all() if row.release.attempted == release_id]

    def failures(self, state: Mapping[str, Any]) -> dict[str, Any]:
        failed = [row.deployment_id for row in self._attempted(str(state["releaseId"]))
                  if row.release.result is ReleaseResult.FAILED]
        return {"failed": failed, "over": len(failed) > int(state["threshold"])}

    def report(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """This release's outcome on every row it reached, and the fleet as it stands."""
        release_id = str(state["releaseId"])
        reached = sorted(self._attempted(release_id), key=lambda row: row.deployment_id)
        lines = [f"Release {release_id}: {len(reached)} deployment(s) reached"]
        lines += table(("deployment", "stack", "result", "reason"), [
            (row.deployment_id, row.stack_name,
             row.release.result.value if row.release.result else "-",
             row.release.failure or "-") for row in reached])
        failed = [row.deployment_id for row in reached
                  if row.release.result is ReleaseResult.FAILED]
        return {"failed": failed, "text": "\n".join([*lines, "", *fleet_lines(
            self.deployments.all())])}
