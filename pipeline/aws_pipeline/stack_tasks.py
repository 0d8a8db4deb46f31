"""The tasks of the deploy-stack state machine: one Platinum tenant's stack brought to a release
and to its row's desired state (or, in a rollout, the pooled stack to the rollout's release), a
short call at a time (Step Functions waits in between).

``claim`` takes the row for this execution (two executions for one tenant never deploy its
stack together: the second is told ``DeploymentBusy`` and retried by the state machine) and
decides the release: the one a rollout names, else the one the deployment runs, else the one
the pooled deployment runs (a tenant provisioned during a rollout gets what the pooled tenants
already have), else the newest published.
``prepare`` takes a stuck stack's safe action or says what it waits for; ``start`` makes the
change set from the release's silo template, the pooled stack's outputs and the row's desired
state; ``advance`` looks once; ``record`` writes the outcome on the row (a first deployment that
failed is ``failed`` with the reason and what staff can do; a failed update leaves an active
row on its release) and gives the row back. Each task's answer is JSON the state machine keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.deploy.aws.aws_rollout import pooled_release_parameters
from pipeline.deploy.aws.change_sets import Phase, Stacks
from pipeline.deploy.aws.deploy_tenants import DESIRED_STATE_PARAMETER
from pipeline.deploy.aws.onboard_tenant import silo_parameters
from pipeline.deploy.aws.release_store import ReleaseStore, UnknownRelease
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.tenant_records import (
    DeploymentStatus,
    ReleaseResult,
    utc_timestamp,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT, is_tenant_id

LEASE_SECONDS = 3 * 3600  # longer than the state machine may run: a claim outlives no execution
Task = Callable[[Mapping[str, Any]], dict[str, Any]]


class DeploymentBusy(Exception):  # noqa: N818 - the state machine retries this error by name
    """Another execution is deploying this tenant's stack."""


class NotDeployable(Exception):  # noqa: N818 - the state machine's error name
    """Nothing to deploy for this request (no such tenant's row, no release to deploy)."""


@dataclass(frozen=True)
class StackTasks:
    deployments: Deployments
    stacks: Stacks
    releases: ReleaseStore
    settings: StackSettings
    now: Callable[[], int] = lambda: int(time.time())

    def tasks(self) -> dict[str, Task]:
        return {"claim": self.claim, "prepare": self.prepare, "start": self.start,
                "advance": self.advance, "record": self.record}

    def claim(self, state: Mapping[str, Any]) -> dict[str, Any]:
        deployment_id, execution = str(state["deploymentId"]), str(state["execution"])
        release_id = str(state.get("releaseId") or "")
        pooled_release = deployment_id == POOLED_DEPLOYMENT and release_id
        if not (is_tenant_id(deployment_id) or pooled_release):
            raise NotDeployable(f"{deployment_id!r} is not a Platinum tenant's deployment "
                                f"(the pooled stack is deployed by a rollout, which names its "
                                f"release)")
        try:
            if not self.deployments.claim(deployment_id, execution, self.now(), LEASE_SECONDS):
                raise DeploymentBusy(f"another execution is deploying stack-{deployment_id}")
        except LookupError:
            raise NotDeployable(f"no deployment row for tenant {deployment_id}: nothing to "
                                f"deploy (an unknown tenant, or a registration undone)") from None
        release_id = release_id or self._release_for(deployment_id)
        if not release_id:
            return self._refused(deployment_id, execution, "no release to deploy: none is "
                                 "published", "publish one (make release TARGET=aws, or make "
                                 "deploy-pipeline TARGET=aws again); the tenant is deployed "
                                 "with it")
        try:
            self.releases.manifest(release_id)
        except UnknownRelease as unknown:
            return self._refused(deployment_id, execution, str(unknown),
                                 "roll out a published release")
        name = POOLED_STACK_NAME if deployment_id == POOLED_DEPLOYMENT else \
            stack_name(deployment_id)
        return {"deploymentId": deployment_id, "stackName": name, "releaseId": release_id,
                "owner": execution}

    def _release_for(self, deployment_id: str) -> str:
        """What a deployment no rollout names is deployed with: the release it runs (a
        deactivation must not upgrade a pinned tenant), else the one the pooled deployment
        runs (a new tenant gets what the pooled tenants have, even during a rollout), else the
        newest published (a pooled stack deployed from an operator's machine records none)."""
        for row in (self.deployments.get(deployment_id),
                    self.deployments.get(POOLED_DEPLOYMENT)):
            if row is not None and row.release.release_id:
                return row.release.release_id
        published = self.releases.published()
        return str(published[-1]["releaseId"]) if published else ""

    def _refused(self, deployment_id: str, owner: str, reason: str,
                 action: str) -> dict[str, Any]:
        """Recorded on the row, the claim given back, then raised: no stack was touched."""
        self.deployments.record_failed(deployment_id, reason, action)
        self.deployments.unclaim(deployment_id, owner)
        raise NotDeployable(reason)

    def prepare(self, state: Mapping[str, Any]) -> dict[str, Any]:
        readiness = self.stacks.make_ready(state["claim"]["stackName"])
        return {"waiting": readiness.waiting, "changeType": readiness.change_type}

    def start(self, state: Mapping[str, Any]) -> dict[str, Any]:
        claim = state["claim"]
        row = self.deployments.get(claim["deploymentId"])
        if row is None:
            raise NotDeployable(f"the row of {claim['deploymentId']} is gone")
        if row.deployment_id == POOLED_DEPLOYMENT:
            template = self.releases.template(claim["releaseId"], "pooled")
            parameters = pooled_release_parameters(self.stacks, template, self.settings)
        else:
            template = self.releases.template(claim["releaseId"], "silo")
            parameters = {**silo_parameters(row.deployment_id, self.stacks.outputs(
                POOLED_STACK_NAME), self.settings),
                DESIRED_STATE_PARAMETER: row.desired_state.value}
        return {"changeSet": self.stacks.start(claim["stackName"], template, parameters,
                                               state["ready"]["changeType"])}

    def advance(self, state: Mapping[str, Any]) -> dict[str, Any]:
        progress = self.stacks.advance(state["claim"]["stackName"],
                                       state["changeSet"]["changeSet"])
        return {"phase": progress.phase.value, "detail": progress.detail}

    def record(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Success when ``progress`` says deployed or unchanged; anything else (a failed
        stack, an error caught by the state machine) is a failure with its reason."""
        claim = state["claim"]
        deployment_id, release_id = claim["deploymentId"], claim["releaseId"]
        phase = state.get("progress", {}).get("phase", "")
        try:
            if phase in (Phase.DEPLOYED, Phase.UNCHANGED):
                result = ReleaseResult(phase)
                self.deployments.record_release(deployment_id, release_id, result,
                                                utc_timestamp())
                return {"result": result.value}
            reason = _reason(state)
            row = self.deployments.get(deployment_id)
            if row is not None and row.status is DeploymentStatus.ACTIVE:
                self.deployments.record_release(deployment_id, release_id,
                                                ReleaseResult.FAILED, utc_timestamp(), reason)
            else:
                self.deployments.record_failed(deployment_id, reason, _action(claim))
            return {"result": ReleaseResult.FAILED.value, "reason": reason}
        finally:
            self.deployments.unclaim(deployment_id, claim["owner"])


def _reason(state: Mapping[str, Any]) -> str:
    error = state.get("error") or {}
    if error:
        return f"{error.get('Error', 'Error')}: {error.get('Cause', '')}".strip()
    return str(state.get("progress", {}).get("detail") or "the deployment did not finish")


def _action(claim: Mapping[str, Any]) -> str:
    name = claim["stackName"]
    return (f"read why in aws cloudformation describe-stack-events --stack-name {name}; once "
            f"fixed, deploy it again: make deploy-tenants TARGET=aws "
            f"TENANT_ID={claim['deploymentId']}")


def run_task(tasks: Mapping[str, Task], event: Mapping[str, Any]) -> dict[str, Any]:
    """The Lambda entry's job: ``{"task": name, "state": {...}}`` to the named task."""
    name = event.get("task")
    if name not in tasks:
        raise ValueError(f"unknown task {name!r}: one of {', '.join(tasks)}")
    return tasks[str(name)](event.get("state") or {})
