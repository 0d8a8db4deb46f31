"""The aws deployer of a rollout (``AwsDeployer`` over the real change-set code) against the
emulator's CloudFormation, with plain stacks (``tests.support.plain_stacks``) and rows in a
table of the test's own: a stack created, updated, then left alone when the release is
already its; a pinned row skipped on its release; every deployed row recording the release."""

from __future__ import annotations

import json
import secrets

import boto3
import pytest

from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.aws_rollout import AwsDeployer, CallsRecorder
from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.deploy_tenants import recorded_state
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.rollout.release_plan import plan_rollout
from pipeline.rollout.rollout import Rollout, RolloutReport, RolloutSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings, stack_name
from tenant_context.platform.tenant_records import ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.support.plain_stacks import pooled_stack, silo_stack


class Fleet:
    def __init__(self) -> None:
        dynamodb = boto3.client("dynamodb")
        self.table = f"{TENANT_STACK_MAPPING_TABLE.name}-{secrets.token_hex(3)}"
        dynamodb.create_table(**{**TENANT_STACK_MAPPING_TABLE.create_table_request(),
                                 "TableName": self.table})
        self.deployments = Deployments(dynamodb, self.table)
        dynamodb.put_item(TableName=self.table, Item={
            "tenantId": {"S": POOLED_DEPLOYMENT}, "stackName": {"S": POOLED_STACK_NAME},
            "status": {"S": "active"}})
        self.calls = Boto3Calls(boto3.Session())
        self.stacks = Stacks(self.calls, DeploymentBucket(self.calls, "unused", "p", "us-east-1",
                                                          lambda line: None), lambda line: None,
                             sleep=lambda seconds: None, poll_seconds=0)

    def tenant(self, follows: bool = True) -> str:
        tenant_id = secrets.token_hex(16)
        self.deployments.request(tenant_id)
        if not follows:
            self.deployments.set_release_settings(tenant_id, ReleaseSettings(
                apply_latest_release=False))
        return tenant_id

    def roll_out(self, release: str) -> RolloutReport:
        deployer = AwsDeployer(self.stacks, pooled_stack(release), silo_stack(release),
                               StackSettings(), recorded_state,
                               RowClaims(self.calls, self.table))
        recorder = CallsRecorder(self.calls, self.table)
        return Rollout(deployer, recorder, lambda line: None, RolloutSettings()).run(
            plan_rollout(self.deployments.all(), release))

    def on(self, deployment_id: str) -> tuple[str, str]:
        row = self.deployments.get(deployment_id)
        assert row is not None
        return row.release.release_id, row.release.result.value if row.release.result else ""


def release_of_stack(name: str) -> str:
    value: str = boto3.client("ssm").get_parameter(Name=f"/plain/{name}/release")[
        "Parameter"]["Value"]
    return value


@pytest.fixture
def fleet(baseline: BaselineResult) -> Fleet:
    fleet = Fleet()
    # The pooled stack exists (a release updates it; the emulator keeps no outputs of a stack a
    # change set created, so it is created directly).
    boto3.client("cloudformation").delete_stack(StackName=POOLED_STACK_NAME)
    boto3.client("cloudformation").create_stack(StackName=POOLED_STACK_NAME,
                                                TemplateBody=json.dumps(pooled_stack("r0")))
    return fleet


def test_created_updated_then_left_alone_and_pinned_rows_kept(fleet: Fleet) -> None:
    tenant, pinned = fleet.tenant(), fleet.tenant(follows=False)

    first = fleet.roll_out("r1")

    assert first.stopped == ""
    assert release_of_stack(POOLED_STACK_NAME) == "r1"
    assert release_of_stack(stack_name(tenant)) == "r1"  # created by a change set
    assert fleet.on(tenant) == ("r1", "deployed")
    assert fleet.on(POOLED_DEPLOYMENT) == ("r1", "deployed")
    assert fleet.on(pinned) == ("", "")  # skipped: never deployed by a rollout
    with pytest.raises(boto3.client("cloudformation").exceptions.ClientError):
        boto3.client("cloudformation").describe_stacks(StackName=stack_name(pinned))

    second = fleet.roll_out("r2")
    assert [outcome.result for outcome in second.outcomes] == ["deployed", "deployed"]
    assert release_of_stack(stack_name(tenant)) == "r2"  # updated

    again = fleet.roll_out("r2")  # already on it: nothing planned, nothing touched
    assert again.outcomes == []
    # The same release deployed once more (a row that lost its record): no changes.
    fleet.deployments.record_release(tenant, "r1", ReleaseResult.DEPLOYED, "t")
    unchanged = fleet.roll_out("r2")
    assert [(outcome.result, outcome.reason) for outcome in unchanged.outcomes] == [
        ("unchanged", "")]
    assert fleet.on(tenant) == ("r2", "unchanged")


def test_a_stack_the_tenant_pipeline_is_deploying_is_left_to_it(fleet: Fleet) -> None:
    held = fleet.tenant()
    assert fleet.deployments.claim(held, "arn:aws:states:execution:deploy-stack:x", 2**40, 60)

    report = fleet.roll_out("r1")

    (outcome,) = [outcome for outcome in report.outcomes
                  if outcome.target.deployment_id == held]
    assert outcome.result == "failed"
    assert "being deployed by someone else" in outcome.reason
    with pytest.raises(boto3.client("cloudformation").exceptions.ClientError):
        boto3.client("cloudformation").describe_stacks(StackName=stack_name(held))
    assert fleet.deployments.claim(held, "arn:aws:states:execution:deploy-stack:x", 2**40, 60)
