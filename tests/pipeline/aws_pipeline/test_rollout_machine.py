"""The rollout state machine, walked with the real rollout tasks and, for every stack it
deploys, the deploy-stack state machine walked in turn with the real stack tasks (CloudFormation
the double of ``cloudformation_double``): rows in a table of the test's own in the emulator,
the release in its S3. Each path ends with the rows as AWS would leave them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from pipeline.aws_pipeline.rollout_tasks import RolloutTasks
from pipeline.aws_pipeline.stack_tasks import StackTasks, run_task
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.stacks.inventory import POOLED_STACK_NAME
from pipeline.stacks.state_machines import (
    ASK_AND_WAIT,
    PUBLISH,
    ROLLOUT_TASKS,
    STACK_TASKS,
    START_AND_WAIT,
    deploy_stack_definition,
    rollout_definition,
)
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings, stack_name
from tenant_context.platform.tenant_records import DeploymentRecord, ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.pipeline.aws_pipeline.cloudformation_double import Behaviour, CloudFormation
from tests.support.state_machine_walker import Outcome, TaskError, Walker

RELEASE = "r2"


def lambda_like(tasks: dict[str, Callable[[Any], dict[str, Any]]]) -> Callable[[Any], Any]:
    def call(parameters: Any) -> Any:
        try:
            return run_task(tasks, parameters)
        except Exception as error:  # as Lambda reports it: the exception's class name
            raise TaskError(type(error).__name__, str(error)) from error
    return call


@dataclass
class Fleet:
    deployments: Deployments
    releases: ReleaseStore
    failing: set[str] = field(default_factory=set)  # stacks whose update rolls back
    approve: bool = True
    deployed: list[str] = field(default_factory=list)  # stacks, in the order deployed
    asked: list[int] = field(default_factory=list)  # waves approval was asked for
    notified: list[str] = field(default_factory=list)

    def tenant(self, wave: int | None = None, follows: bool = True) -> str:
        tenant_id = secrets.token_hex(16)
        self.deployments.request(tenant_id)
        self.deployments.record_active(tenant_id, frozenset({"api"}), "https://t")
        self.deployments.record_release(tenant_id, "r1", ReleaseResult.DEPLOYED, "t0")
        if wave is not None or not follows:
            self.deployments.set_release_settings(tenant_id, ReleaseSettings(
                wave=wave, apply_latest_release=None if follows else False))
        return tenant_id

    def deploy_stack(self, child_input: dict[str, Any]) -> Any:
        name = stack_name(child_input["deploymentId"]) \
            if child_input["deploymentId"] != POOLED_DEPLOYMENT else POOLED_STACK_NAME
        self.deployed.append(name)
        cloudformation = CloudFormation(Behaviour(
            status="UPDATE_COMPLETE",
            rollback_reason="Resource limit exceeded" if name in self.failing else ""))
        cloudformation.stacks[name] = "UPDATE_COMPLETE"
        stacks = Stacks(cloudformation, DeploymentBucket(cloudformation, "b", "p", "us-east-1",
                                                         lambda line: None), lambda line: None)
        tasks = StackTasks(self.deployments, stacks, self.releases, StackSettings()).tasks()
        child = Walker(deploy_stack_definition(), lambda resource, parameters: lambda_like(
            tasks)(parameters), {"Execution": {"Id": f"arn:child:{name}"}}).run(child_input)
        if child.status == "FAILED":
            raise TaskError("States.TaskFailed", json.dumps({"error": child.error,
                                                               "cause": child.cause}))
        return {"Status": "SUCCEEDED"}

    def task(self, resource: str, parameters: Any) -> Any:
        if resource == ROLLOUT_TASKS:
            return lambda_like(RolloutTasks(self.deployments, self.releases).tasks())(parameters)
        if resource == START_AND_WAIT:
            assert parameters["StateMachineArn"] == "${DeployStackStateMachineArn}"
            return self.deploy_stack(parameters["Input"])
        if resource == ASK_AND_WAIT:
            self.asked.append(parameters["Message"]["wave"])
            if not self.approve:
                raise TaskError("Rejected", "not now")
            return {}
        if resource == PUBLISH:
            self.notified.append(parameters["Message"])
            return {}
        raise AssertionError(f"unexpected task {resource} ({STACK_TASKS} runs in children)")

    def roll_out(self, release: str = RELEASE, threshold: int = 0,
                 approve_waves: bool = False) -> Outcome:
        return Walker(rollout_definition(), self.task).run({"releaseId": release, "settings": {
            "maxConcurrency": 2, "failureThreshold": threshold, "approveWaves": approve_waves}})

    def row(self, deployment_id: str) -> DeploymentRecord:
        row = self.deployments.get(deployment_id)
        assert row is not None
        return row

    def on(self, deployment_id: str) -> tuple[str, str]:
        release = self.row(deployment_id).release
        return release.release_id, release.result.value if release.result else ""


@pytest.fixture
def fleet(baseline: BaselineResult) -> Fleet:
    """A table of the test's own (a rollout plans every row of it), its pooled row on r1, and
    releases r1 and r2 published."""
    dynamodb = boto3.client("dynamodb")
    table = f"{TENANT_STACK_MAPPING_TABLE.name}-{secrets.token_hex(3)}"
    dynamodb.create_table(**{**TENANT_STACK_MAPPING_TABLE.create_table_request(),
                             "TableName": table})
    deployments = Deployments(dynamodb, table)
    dynamodb.put_item(TableName=table, Item={"tenantId": {"S": POOLED_DEPLOYMENT},
                                             "stackName": {"S": POOLED_STACK_NAME},
                                             "status": {"S": "active"}})
    deployments.record_release(POOLED_DEPLOYMENT, "r1", ReleaseResult.DEPLOYED, "t0")
    bucket = f"pipeline-{secrets.token_hex(4)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    releases = ReleaseStore(Boto3Calls(boto3.Session()), bucket)
    for release in ("r1", RELEASE):
        releases.publish(release, {"pooled": {"Parameters": {"LogRetentionDays": {}},
                                              "Resources": {}},
                                   "silo": {"Resources": {}}}, {"source": "test"})
    return Fleet(deployments, releases)


def test_a_release_reaches_pooled_then_every_wave_and_skips_pinned_rows(fleet: Fleet) -> None:
    canary, second, last = fleet.tenant(1), fleet.tenant(2), fleet.tenant()
    pinned = fleet.tenant(follows=False)

    outcome = fleet.roll_out()

    assert outcome.status == "SUCCEEDED", outcome
    assert fleet.deployed == [POOLED_STACK_NAME, stack_name(canary), stack_name(second),
                              stack_name(last)]
    assert [fleet.on(row) for row in (POOLED_DEPLOYMENT, canary, second, last)] == [
        (RELEASE, "deployed")] * 4
    assert fleet.on(pinned) == ("r1", "deployed")  # kept on its release
    assert fleet.notified == []  # a rollout that went through notifies nobody
    # The same release again: nothing to deploy.
    fleet.deployed.clear()
    assert fleet.roll_out().status == "SUCCEEDED"
    assert fleet.deployed == []


def test_a_failure_stops_its_wave_and_no_later_wave_runs_and_staff_are_told(
        fleet: Fleet) -> None:
    # A wave deploys in tenant id order (the walker one stack at a time).
    first, failing, after_in_wave = sorted(fleet.tenant(1) for _ in range(3))
    later = fleet.tenant(2)
    fleet.failing = {stack_name(failing)}

    outcome = fleet.roll_out()

    assert (outcome.status, outcome.error) == ("FAILED", "RolloutStopped")
    assert stack_name(later) not in fleet.deployed
    assert stack_name(after_in_wave) not in fleet.deployed
    assert fleet.on(first) == (RELEASE, "deployed")
    assert fleet.on(failing) == ("r1", "failed")  # still serves r1
    assert "Resource limit exceeded" in fleet.row(failing).release.failure
    assert fleet.on(later) == ("r1", "deployed")
    (notice,) = fleet.notified
    assert failing in notice
    assert "Resource limit exceeded" in notice


def test_a_tolerated_failure_lets_the_waves_go_on(fleet: Fleet) -> None:
    failing, later = fleet.tenant(1), fleet.tenant(2)
    fleet.failing = {stack_name(failing)}
    outcome = fleet.roll_out(threshold=1)
    assert outcome.status == "SUCCEEDED", outcome
    assert fleet.on(later) == (RELEASE, "deployed")
    assert fleet.on(failing) == ("r1", "failed")


def test_a_failed_pooled_stack_touches_no_tenant(fleet: Fleet) -> None:
    tenant = fleet.tenant(1)
    fleet.failing = {POOLED_STACK_NAME}
    outcome = fleet.roll_out()
    assert (outcome.status, outcome.error) == ("FAILED", "RolloutStopped")
    assert fleet.deployed == [POOLED_STACK_NAME]
    assert fleet.on(POOLED_DEPLOYMENT) == ("r1", "failed")
    assert fleet.on(tenant) == ("r1", "deployed")
    assert len(fleet.notified) == 1


@pytest.mark.parametrize("approved", [True, False])
def test_waves_after_the_first_wait_for_staff(fleet: Fleet, approved: bool) -> None:
    canary, later = fleet.tenant(1), fleet.tenant(2)
    fleet.approve = approved
    outcome = fleet.roll_out(approve_waves=True)
    assert fleet.asked == [2], outcome  # the canary wave follows the pooled canary unasked
    assert fleet.on(canary) == (RELEASE, "deployed")
    assert fleet.on(later) == ((RELEASE, "deployed") if approved else ("r1", "deployed"))
    assert outcome.status == ("SUCCEEDED" if approved else "FAILED")


def test_an_unknown_release_touches_nothing(fleet: Fleet) -> None:
    tenant = fleet.tenant(1)
    outcome = fleet.roll_out(release="never-published")
    assert (outcome.status, outcome.error) == ("FAILED", "NotPlanned")
    assert "no release 'never-published'" in outcome.cause
    assert fleet.deployed == []
    assert fleet.on(tenant) == ("r1", "deployed")


def test_a_tenant_provisioned_before_any_rollout_gets_the_newest_release(fleet: Fleet) -> None:
    """A pooled stack deployed from an operator's machine records no release: a new Platinum
    tenant is then deployed with the newest published one."""
    boto3.client("dynamodb").put_item(TableName=fleet.deployments.table_name, Item={
        "tenantId": {"S": POOLED_DEPLOYMENT}, "stackName": {"S": POOLED_STACK_NAME},
        "status": {"S": "active"}})
    tenant_id = secrets.token_hex(16)
    fleet.deployments.request(tenant_id)

    fleet.deploy_stack({"deploymentId": tenant_id, "releaseId": "", "cause": "requested"})

    assert fleet.on(tenant_id) == (RELEASE, "deployed")
