"""``make rollback TARGET=aws``: a published release rolled out again by the tenant pipeline,
against the emulator (the pipeline's stack a plain one with its outputs, its state machine and
bucket real); an unpublished release starts nothing."""

from __future__ import annotations

import io
import json
import secrets

import boto3
import pytest

from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.release.cli import Tools, main
from pipeline.stacks.state_machines import rollout_definition
from pipeline.stacks.tenant_pipeline_template import (
    PIPELINE_STACK_NAME,
    RELEASE_BUCKET_OUTPUT,
    ROLLOUT_OUTPUT,
)
from tests.support.moto_server import REGION


@pytest.fixture
def pipeline(baseline: BaselineResult) -> tuple[str, str]:
    """The pipeline's stack as its outputs show it: the bucket with release r1, the machine."""
    bucket = f"pipeline-{secrets.token_hex(4)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    ReleaseStore(Boto3Calls(boto3.Session()), bucket).publish(
        "r1", {"pooled": {}, "silo": {}}, {"publishedAt": "t"})
    machine = boto3.client("stepfunctions").create_state_machine(
        name=f"rollout-{secrets.token_hex(3)}", definition=json.dumps(rollout_definition()),
        roleArn="arn:aws:iam::123456789012:role/rollout")["stateMachineArn"]
    cloudformation = boto3.client("cloudformation")
    template = {"Resources": {"Marker": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": f"/test/{bucket}", "Type": "String", "Value": "pipeline"}}},
        "Outputs": {RELEASE_BUCKET_OUTPUT: {"Value": bucket}, ROLLOUT_OUTPUT: {"Value": machine}}}
    cloudformation.delete_stack(StackName=PIPELINE_STACK_NAME)  # an earlier test's, if any
    cloudformation.create_stack(StackName=PIPELINE_STACK_NAME, TemplateBody=json.dumps(template))
    return bucket, machine


def rollback(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["rollback", "--target", "aws", "--region", REGION, *argv], Tools(out, err))
    return code, out.getvalue(), err.getvalue()


def test_a_published_release_is_rolled_out_again(pipeline: tuple[str, str]) -> None:
    _, machine = pipeline
    code, out, err = rollback("--release-id", "r1", "--max-concurrency", "2")
    assert code == 0, err
    (execution,) = boto3.client("stepfunctions").list_executions(
        stateMachineArn=machine)["executions"]
    started = boto3.client("stepfunctions").describe_execution(
        executionArn=execution["executionArn"])
    assert json.loads(started["input"]) == {"releaseId": "r1", "settings": {
        "maxConcurrency": 2, "failureThreshold": 0, "approveWaves": False}}
    assert "Rollout of release r1 started" in out


def test_an_unpublished_release_starts_nothing(pipeline: tuple[str, str]) -> None:
    _, machine = pipeline
    code, _, err = rollback("--release-id", "r9")
    assert code == 2
    assert "no release 'r9'" in err
    assert "nothing was started" in err
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=machine)[
        "executions"] == []
