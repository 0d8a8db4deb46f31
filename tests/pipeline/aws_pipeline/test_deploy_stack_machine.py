"""The deploy-stack state machine, walked through every Choice, Retry and Catch with the real
task functions: rows in the emulator's DynamoDB, the release in its S3, CloudFormation the
double of ``cloudformation_double`` (the emulator cannot run a Lambda task inside Step
Functions, nor give a stack a real failure). Each case ends with the row as AWS would leave it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from pipeline.aws_pipeline.stack_tasks import StackTasks, run_task
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.stacks.state_machines import (
    MAX_POLLS,
    STACK_TASKS,
    deploy_stack_definition,
)
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.tenant_records import (
    DeploymentRecord,
    DesiredState,
    ReleaseResult,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.pipeline.aws_pipeline.cloudformation_double import Behaviour, CloudFormation
from tests.support.state_machine_walker import Outcome, TaskError, Walker


@dataclass
class Pipeline:
    deployments: Deployments
    releases: ReleaseStore
    release_id: str

    def walk(self, cloudformation: CloudFormation, deployment_id: str, release_id: str = "",
             execution: str = "arn:aws:states:execution:deploy:walk",
             throttled: set[str] | None = None) -> Outcome:
        """``throttled``: tasks Lambda throttles once (its own transient error) before running."""
        stacks = Stacks(cloudformation, DeploymentBucket(cloudformation, "unused", "p",
                                                         "us-east-1", lambda line: None),
                        lambda line: None)
        tasks = StackTasks(self.deployments, stacks, self.releases, StackSettings()).tasks()

        pending = set(throttled or ())

        def lambda_task(resource: str, parameters: Any) -> Any:
            assert resource == STACK_TASKS
            if parameters["task"] in pending:
                pending.discard(parameters["task"])
                raise TaskError("Lambda.TooManyRequestsException", "Rate exceeded")
            try:
                return run_task(tasks, parameters)
            except Exception as error:  # as Lambda reports it: the exception's class name
                raise TaskError(type(error).__name__, str(error)) from error

        return Walker(deploy_stack_definition(), lambda_task,
                      {"Execution": {"Id": execution}}).run(
            {"deploymentId": deployment_id, "releaseId": release_id, "cause": "requested"})

    def row(self, tenant_id: str) -> DeploymentRecord:
        row = self.deployments.get(tenant_id)
        assert row is not None
        return row


@pytest.fixture
def pipeline(baseline: BaselineResult) -> Pipeline:
    """A published release the pooled deployment runs (what provisioning deploys)."""
    s3 = boto3.client("s3")
    bucket = f"pipeline-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=bucket)
    releases = ReleaseStore(Boto3Calls(boto3.Session()), bucket)
    release_id = f"walk-{secrets.token_hex(3)}"
    releases.publish(release_id, {"pooled": {"Resources": {}}, "silo": {"Resources": {}}},
                     {"source": "test"})
    deployments = Deployments(boto3.client("dynamodb"), TENANT_STACK_MAPPING_TABLE.name)
    deployments.record_release(POOLED_DEPLOYMENT, release_id, ReleaseResult.DEPLOYED, "t")
    return Pipeline(deployments, releases, release_id)


def registered(pipeline: Pipeline, *, active: bool = False,
               desired: DesiredState = DesiredState.RUNNING) -> str:
    tenant_id = secrets.token_hex(16)
    pipeline.deployments.request(tenant_id)
    if active:
        pipeline.deployments.record_active(tenant_id, frozenset({"api"}), "https://t")
    if desired is DesiredState.STOPPED:
        pipeline.deployments.set_desired_state(tenant_id, desired)
    return tenant_id


def claimed(row: DeploymentRecord) -> bool:
    """The claim is the pipeline's, not the record's: read from the item itself."""
    item = boto3.client("dynamodb").get_item(TableName=TENANT_STACK_MAPPING_TABLE.name,
                                             Key={"tenantId": {"S": row.deployment_id}})
    return "claimedBy" in item["Item"]


Case = tuple[str, Behaviour, bool, str, Callable[[DeploymentRecord, str], None]]


def deployed(row: DeploymentRecord, release: str) -> None:
    assert (row.release.release_id, row.release.result) == (release, ReleaseResult.DEPLOYED)


def unchanged(row: DeploymentRecord, release: str) -> None:
    assert (row.release.release_id, row.release.result) == (release, ReleaseResult.UNCHANGED)


def failed_first(words: str) -> Callable[[DeploymentRecord, str], None]:
    def check(row: DeploymentRecord, release: str) -> None:
        assert row.status == "failed"
        assert words in row.failure, row.failure
        assert "make deploy-tenants TARGET=aws TENANT_ID=" in row.operator_action
        assert row.release.release_id == ""
    return check


def failed_update(row: DeploymentRecord, release: str) -> None:
    assert row.status == "active"  # it still serves its previous release
    assert row.release.result is ReleaseResult.FAILED
    assert "Resource limit exceeded" in row.release.failure


CASES: list[Case] = [
    ("a new tenant's stack is created", Behaviour(), False, "SUCCEEDED", deployed),
    ("a stack already right is a no-op", Behaviour(status="UPDATE_COMPLETE", no_changes=True),
     True, "SUCCEEDED", unchanged),
    ("a busy stack is waited for", Behaviour(status="UPDATE_IN_PROGRESS"), True, "SUCCEEDED",
     deployed),
    ("a failed first creation is deleted and made again",
     Behaviour(status="ROLLBACK_COMPLETE"), False, "SUCCEEDED", deployed),
    ("a stuck rollback is continued, then updated",
     Behaviour(status="UPDATE_ROLLBACK_FAILED"), True, "SUCCEEDED", deployed),
    ("a refused change set fails the first deployment",
     Behaviour(refuse_change_set="Template format error"), False, "StackFailed",
     failed_first("Template format error")),
    ("a first creation that rolls back is failed with its reason",
     Behaviour(rollback_reason="Resource limit exceeded"), False, "StackFailed",
     failed_first("ProductFunction: Resource limit exceeded")),
    ("a failed update leaves the tenant on its release",
     Behaviour(status="UPDATE_COMPLETE", rollback_reason="Resource limit exceeded"), True,
     "StackFailed", failed_update),
    ("a stack only an operator can repair is failed with what to look at",
     Behaviour(status="DELETE_FAILED"), False, "StackFailed", failed_first("may hold data")),
    ("a rollback that cannot continue ends stuck after the last look",
     Behaviour(status="UPDATE_ROLLBACK_FAILED", operator_only=True), False, "StackFailed",
     failed_first("StackTimedOut")),
    ("a stack that never settles is recorded stuck",
     Behaviour(never_settles=True), False, "StackFailed", failed_first("StackTimedOut")),
]


@pytest.mark.parametrize(("why", "behaviour", "active", "ends", "row_check"), CASES,
                         ids=[case[0] for case in CASES])
def test_every_path_ends_with_the_row_as_aws_would_leave_it(
        pipeline: Pipeline, why: str, behaviour: Behaviour, active: bool, ends: str,
        row_check: Callable[[DeploymentRecord, str], None]) -> None:
    tenant_id = registered(pipeline, active=active)
    cloudformation = CloudFormation(behaviour).with_stack(stack_name(tenant_id))

    outcome = pipeline.walk(cloudformation, tenant_id)

    assert (outcome.status if ends == "SUCCEEDED" else outcome.error) == ends, outcome
    row = pipeline.row(tenant_id)
    row_check(row, pipeline.release_id)
    assert not claimed(row)  # given back whatever happened
    if behaviour.never_settles or behaviour.operator_only:
        assert outcome.path.count("WaitForStack") + outcome.path.count(
            "WaitForChangeSet") == MAX_POLLS + 1  # every look, then recorded stuck
    creates = [name for operation, name in cloudformation.operations
               if operation == "create_change_set"]
    assert len(creates) <= 1  # never a second operation on the stack


def test_the_desired_state_and_the_pooled_outputs_reach_the_stack(pipeline: Pipeline) -> None:
    tenant_id = registered(pipeline, desired=DesiredState.STOPPED)
    cloudformation = CloudFormation()
    assert pipeline.walk(cloudformation, tenant_id).status == "SUCCEEDED"
    parameters = cloudformation.parameters[stack_name(tenant_id)]
    assert parameters["DesiredState"] == "stopped"
    assert parameters["LayerArn"] == "arn:pooled:TenantContextLayerArn"
    assert parameters["TenantId"] == tenant_id


def test_a_stack_another_execution_deploys_is_never_touched(pipeline: Pipeline) -> None:
    tenant_id = registered(pipeline)
    assert pipeline.deployments.claim(tenant_id, "arn:other", 2**40, 60)  # held far ahead
    cloudformation = CloudFormation()
    try:
        outcome = pipeline.walk(cloudformation, tenant_id)
    finally:  # the table is the session's: other tests deploy every row of it
        pipeline.deployments.unclaim(tenant_id, "arn:other")

    assert (outcome.status, outcome.error) == ("FAILED", "NotDeployed")
    assert outcome.retries["Claim"] == 120  # retried for two hours, a minute apart
    assert "another execution" in outcome.cause
    assert cloudformation.operations == []
    assert pipeline.row(tenant_id).status == "provisioning"  # the other execution's to record


@pytest.mark.parametrize(("deployment", "release", "said"), [
    ("unknown", "", "no deployment row for tenant"),
    ("pooled", "", "not a Platinum tenant's deployment"),
    ("registered", "no-such-release", "no release 'no-such-release'"),
])
def test_what_cannot_be_deployed_touches_no_stack(pipeline: Pipeline, deployment: str,
                                                  release: str, said: str) -> None:
    tenant_id = {"unknown": secrets.token_hex(16), "pooled": POOLED_DEPLOYMENT,
                 "registered": registered(pipeline)}[deployment]
    cloudformation = CloudFormation()

    outcome = pipeline.walk(cloudformation, tenant_id, release)

    assert (outcome.status, outcome.error) == ("FAILED", "NotDeployed")
    assert said in outcome.cause
    assert cloudformation.operations == []
    if deployment == "registered":  # staff see why on the tenant's row
        row = pipeline.row(tenant_id)
        assert (row.status, said in row.failure) == ("failed", True)


def test_a_tenant_provisioned_during_a_rollout_gets_the_pooled_release(
        pipeline: Pipeline) -> None:
    newer = f"{pipeline.release_id}-next"
    pipeline.releases.publish(newer, {"pooled": {"Resources": {}}, "silo": {"Resources": {}}},
                              {"source": "test"})
    tenant_id = registered(pipeline)  # provisioning names no release ...
    assert pipeline.walk(CloudFormation(), tenant_id).status == "SUCCEEDED"
    assert pipeline.row(tenant_id).release.release_id == pipeline.release_id  # ... the pooled


def test_lambdas_own_transient_errors_are_retried_not_recorded(pipeline: Pipeline) -> None:
    tenant_id = registered(pipeline)
    outcome = pipeline.walk(CloudFormation(), tenant_id,
                            throttled={"claim", "prepare", "advance", "record"})
    assert outcome.status == "SUCCEEDED", outcome
    assert outcome.retries == {"Claim": 1, "Prepare": 1, "Advance": 1, "RecordSuccess": 1}
    row = pipeline.row(tenant_id)
    # Active is the stack's custom resource's to record (the double has none); the release is
    # the pipeline's.
    assert (row.status, row.release.release_id) == ("provisioning", pipeline.release_id)


def test_a_deactivation_keeps_a_pinned_tenant_on_its_release(pipeline: Pipeline) -> None:
    """Provisioning names no release: a deployment that runs one keeps it (the pooled one may
    be newer, and the tenant may be pinned)."""
    older = f"{pipeline.release_id}-older"
    pipeline.releases.publish(older, {"pooled": {"Resources": {}}, "silo": {"Resources": {}}},
                              {"source": "test"})
    tenant_id = registered(pipeline, active=True)
    pipeline.deployments.record_release(tenant_id, older, ReleaseResult.DEPLOYED, "t")
    pipeline.deployments.set_desired_state(tenant_id, DesiredState.STOPPED)
    cloudformation = CloudFormation(Behaviour(status="UPDATE_COMPLETE")).with_stack(
        stack_name(tenant_id))

    assert pipeline.walk(cloudformation, tenant_id).status == "SUCCEEDED"

    assert pipeline.row(tenant_id).release.release_id == older
    assert cloudformation.parameters[stack_name(tenant_id)]["DesiredState"] == "stopped"
