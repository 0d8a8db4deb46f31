"""The real calls (boto3, through ``Boto3Calls``) against the emulator: uploads by content,
the template rewrite, a stack deployed with change sets, and an AWS error as one line."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.deploy.aws.artifacts import (
    DeploymentBucket,
    relative_artifacts,
    with_uploaded_artifacts,
)
from pipeline.deploy.aws.calls import Answer, Boto3Calls
from pipeline.deploy.aws.change_sets import TEMPLATE_BODY_LIMIT, Stacks
from pipeline.deploy.aws.packaged import PackagedTemplates
from tests.pipeline.deploy.conftest import Cli
from tests.support.moto_server import REGION


class RecordingCalls:
    """The real calls, each operation noted (how many uploads happened, in what order)."""

    def __init__(self) -> None:
        self._real = Boto3Calls(boto3.Session())
        self.operations: list[str] = []

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        self.operations.append(operation)
        return self._real.call(service, operation, **params)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_artifacts_go_to_the_bucket_by_content_once_and_the_template_names_them_there(
        bucket_name: str, packaged_dist: Path, deployment: str) -> None:
    template_file = getattr(PackagedTemplates.in_dist(packaged_dist), deployment)
    template = json.loads(template_file.read_text())
    calls, lines = RecordingCalls(), list[str]()
    bucket = DeploymentBucket(calls, bucket_name, "releases", REGION, lines.append)

    rewritten = with_uploaded_artifacts(template, template_file.parent, bucket)

    s3 = boto3.client("s3")
    named = list(relative_artifacts(template))
    assert named  # the packaged template does name local files
    for logical_id, prop, local in named:
        data = (template_file.parent / local).read_bytes()
        key = f"releases/{hashlib.sha256(data).hexdigest()}.zip"
        assert rewritten["Resources"][logical_id]["Properties"][prop] == f"s3://{bucket_name}/{key}"
        assert s3.get_object(Bucket=bucket_name, Key=key)["Body"].read() == data
    files = {path.name for path in template_file.parent.iterdir()}
    leftovers = [text for text in _strings(rewritten)
                 if text.removeprefix("./") in files and not text.startswith("s3://")]
    assert leftovers == []
    assert list(relative_artifacts(rewritten)) == []
    assert template == json.loads(template_file.read_text())  # the packaged one is untouched
    distinct = len({local for _, _, local in named})
    assert calls.operations == ["list_objects_v2", "put_object"] * distinct

    calls.operations.clear()
    again = with_uploaded_artifacts(template, template_file.parent, bucket)

    assert again == rewritten
    assert calls.operations == ["list_objects_v2"] * distinct  # found, nothing uploaded
    assert sum("already in s3://" in line for line in lines) == distinct


def test_a_stack_is_created_updated_and_left_alone_when_nothing_changed(
        bucket_name: str) -> None:
    ssm = boto3.client("ssm")
    name = f"stack-test-{secrets.token_hex(4)}"
    template = {
        "Parameters": {"Value": {"Type": "String"}},
        "Resources": {"Setting": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": name, "Type": "String", "Value": {"Ref": "Value"}}}},
        # Past the inline limit, so the template travels through the bucket (TemplateURL).
        "Metadata": {"Padding": "x" * TEMPLATE_BODY_LIMIT},
    }
    calls, lines = RecordingCalls(), list[str]()
    stacks = Stacks(calls, DeploymentBucket(calls, bucket_name, "t", REGION, lines.append),
                    lines.append, sleep=lambda _: None)

    assert stacks.deploy(name, template, {"Value": "one"}).changed
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "one"
    assert "put_object" in calls.operations  # the template, by URL
    assert f"  {name}: CREATE_COMPLETE" in lines

    calls.operations.clear()
    assert not stacks.deploy(name, template, {"Value": "one"}).changed
    assert f"  {name}: no changes, nothing to deploy" in lines
    assert "execute_change_set" not in calls.operations
    assert "delete_change_set" in calls.operations

    assert stacks.deploy(name, template, {"Value": "two"}).changed
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "two"
    assert f"  {name}: UPDATE_COMPLETE" in lines


def test_an_aws_error_is_one_line_and_exit_code_1(cli: Cli, emulator_url: str,
                                                  packaged_dist: Path) -> None:
    missing = f"no-such-bucket-{secrets.token_hex(4)}"
    run = cli(["pooled", "--target", "aws", "--bucket", missing, "--admin-email",
               "ops@example.com", "--dist", str(packaged_dist),
               "--api-gateway-logs-role", "create"])  # no account read: straight to the bucket

    assert run.code == 1
    (error,) = run.err
    assert "NoSuchBucket" in error
    assert f"create it first: aws s3 mb s3://{missing}" in error


def test_a_region_without_api_gateways_logs_role_is_refused_before_anything(
        cli: Cli, emulator_url: str, bucket_name: str, packaged_dist: Path) -> None:
    """The emulator's API Gateway account has no CloudWatch role, as a new account's: the
    access logs could not be written, so the run stops at the read, having uploaded and
    deployed nothing."""
    run = cli(["pooled", "--target", "aws", "--bucket", bucket_name, "--admin-email",
               "ops@example.com", "--dist", str(packaged_dist)])

    assert run.code == 1
    (error,) = run.err
    assert "has no CloudWatch role" in error
    assert "API_GATEWAY_LOGS_ROLE=create" in error
    assert boto3.client("s3").list_objects_v2(Bucket=bucket_name).get("KeyCount") == 0
    assert not any(line.startswith("Deploying stack") for line in run.out)


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_the_same_commit_packaged_elsewhere_uploads_nothing_and_changes_no_template(
        bucket_name: str, packaged_dist: Path, packaged_elsewhere: Path,
        deployment: str) -> None:
    """A second release of an unchanged commit, packaged on another machine: every artifact is
    found by its content (0 object writes) and the template CloudFormation receives is the
    same, so its change set is empty ("no changes": no canary, no redeployment)."""
    templates = [getattr(PackagedTemplates.in_dist(dist), deployment)
                 for dist in (packaged_dist, packaged_elsewhere)]
    calls, lines = RecordingCalls(), list[str]()
    bucket = DeploymentBucket(calls, bucket_name, "again", REGION, lines.append)
    first = with_uploaded_artifacts(json.loads(templates[0].read_text()), templates[0].parent,
                                    bucket)
    assert "put_object" in calls.operations
    calls.operations.clear()

    second = with_uploaded_artifacts(json.loads(templates[1].read_text()),
                                     templates[1].parent, bucket)

    assert calls.operations.count("put_object") == 0
    assert set(calls.operations) == {"list_objects_v2"}
    assert second == first
