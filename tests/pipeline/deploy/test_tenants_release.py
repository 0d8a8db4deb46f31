"""``deploy tenants --target aws`` for real against the emulator: the rows are the session's real
tenant-stack-mapping table (written as registration, deactivation and activation write them),
the scan and the uploads are real boto3 calls. Only the CloudFormation part is a double: the
emulator cannot run the SAM transform of the silo template, so the double records what each
stack would be deployed with (the change sets themselves are tested in
``test_against_the_emulator`` and ``test_failures``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.deploy.aws.calls import Answer
from pipeline.deploy.aws.deploy_tenants import DESIRED_STATE_PARAMETER, recorded_deployments
from pipeline.deploy.aws.onboard_tenant import SILO_PARAMETERS_FROM_POOLED
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.tenant_records import DesiredState
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.pipeline.deploy.conftest import Cli, Run
from tests.pipeline.deploy.stacks_double import CloudFormation
from tests.support.moto_server import REGION


@pytest.fixture
def deployments(baseline: BaselineResult) -> Deployments:
    return Deployments(boto3.client("dynamodb"), TENANT_STACK_MAPPING_TABLE.name)


def _tenant(deployments: Deployments, desired_state: DesiredState) -> str:
    """A Platinum tenant as registration records it, then deactivated or activated."""
    tenant_id = secrets.token_hex(16)
    deployments.request(tenant_id)
    deployments.set_desired_state(tenant_id, desired_state)
    return tenant_id


def _release(cli: Cli, bucket: str, dist: Path, cloudformation: CloudFormation,
             *tenant_ids: str) -> Run:
    named = [item for tenant_id in tenant_ids for item in ("--tenant-id", tenant_id)]
    return cli(["tenants", "--target", "aws", "--bucket", bucket, "--region", REGION,
                "--dist", str(dist), *named], stacks=cloudformation.stacks)


def _uploaded(bucket: str) -> list[str]:
    return [item["Key"] for item in
            boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_every_silo_row_is_deployed_with_its_desired_state_and_the_pooled_row_is_not(
        cli: Cli, deployments: Deployments, bucket_name: str, packaged_dist: Path) -> None:
    stopped = _tenant(deployments, DesiredState.STOPPED)
    running = _tenant(deployments, DesiredState.RUNNING)
    cloudformation = CloudFormation()

    run = _release(cli, bucket_name, packaged_dist, cloudformation)

    assert (run.code, run.err) == (0, [])
    assert cloudformation.of(stopped) == [{
        "TenantId": stopped, "TenantTier": "Platinum",
        **{parameter: f"arn:pooled:{output}"
           for parameter, output in SILO_PARAMETERS_FROM_POOLED.items()},
        "LogRetentionDays": "30", DESIRED_STATE_PARAMETER: "stopped"}]
    assert [parameters[DESIRED_STATE_PARAMETER]
            for parameters in cloudformation.of(running)] == ["running"]
    assert POOLED_STACK_NAME not in [name for name, _ in cloudformation.deployed]
    # Every row of the table (other tests' Platinum tenants too), each once.
    recorded = {row.deployment_id for row in deployments.all()}
    assert POOLED_DEPLOYMENT in recorded  # the baseline's row, left to deploy-pooled
    silo_rows = recorded - {POOLED_DEPLOYMENT}
    assert sorted(name for name, _ in cloudformation.deployed) == sorted(
        stack_name(tenant_id) for tenant_id in silo_rows)
    assert len(_uploaded(bucket_name)) == 2  # the product and order zips, once for all stacks
    summary = {line.split()[0]: line.split()[1:] for line in run.out if line.startswith("  ")}
    assert summary[stopped] == [stack_name(stopped), "stopped", "deployed",
                                f"https://{stack_name(stopped)}.example"]


def test_only_the_named_tenants_are_deployed_in_the_order_named(
        cli: Cli, deployments: Deployments, bucket_name: str, packaged_dist: Path) -> None:
    first, second, left_alone = (_tenant(deployments, state) for state in (
        DesiredState.RUNNING, DesiredState.STOPPED, DesiredState.RUNNING))
    cloudformation = CloudFormation()

    run = _release(cli, bucket_name, packaged_dist, cloudformation, second, first)

    assert (run.code, run.err) == (0, [])
    assert [(name, parameters[DESIRED_STATE_PARAMETER])
            for name, parameters in cloudformation.deployed] == [
        (stack_name(second), "stopped"), (stack_name(first), "running")]
    assert cloudformation.of(left_alone) == []


def test_an_unknown_tenant_id_is_an_error_naming_it_and_nothing_is_deployed(
        cli: Cli, deployments: Deployments, bucket_name: str, packaged_dist: Path) -> None:
    known, unknown = _tenant(deployments, DesiredState.RUNNING), secrets.token_hex(16)
    cloudformation = CloudFormation()

    run = _release(cli, bucket_name, packaged_dist, cloudformation, known, unknown)

    assert run.code == 1
    (error,) = run.err
    assert error.startswith(f"error: no Platinum deployment recorded for tenant {unknown} in "
                            f"{TENANT_STACK_MAPPING_TABLE.name}")
    assert known not in error
    assert cloudformation.deployed == []
    assert _uploaded(bucket_name) == []


def test_one_failing_tenant_does_not_stop_the_others_and_the_run_exits_1(
        cli: Cli, deployments: Deployments, bucket_name: str, packaged_dist: Path) -> None:
    before, failing, after = sorted(_tenant(deployments, DesiredState.RUNNING) for _ in range(3))
    cloudformation = CloudFormation(failing={stack_name(failing)})

    run = _release(cli, bucket_name, packaged_dist, cloudformation, before, failing, after)

    assert run.code == 1
    assert [name for name, _ in cloudformation.deployed] == [
        stack_name(before), stack_name(failing), stack_name(after)]
    assert run.err == [f"error: 1 of 3 Platinum tenant stacks failed: {stack_name(failing)}: "
                       f"stack {stack_name(failing)} ended UPDATE_ROLLBACK_COMPLETE: "
                       f"ProductAPIHandler: Resource limit exceeded"]
    summary = {line.split()[0]: line.split()[1:] for line in run.out if line.startswith("  ")}
    assert summary[failing] == [stack_name(failing), "running", "failed", "-"]
    assert summary[after][2] == "deployed"
    assert "Platinum tenants' stacks: 2 deployed, 0 unchanged, 1 failed:" in run.out


class PagedTable:
    """The scan answered a page at a time, as DynamoDB does past 1 MB."""

    def __init__(self, pages: list[list[str]]) -> None:
        self._pages = pages
        self.asked: list[dict[str, Any]] = []

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        assert (service, operation) == ("dynamodb", "scan")
        self.asked.append(params)
        number = len(self.asked) - 1
        answer: Answer = {"Items": [{"tenantId": {"S": tenant_id}}
                                    for tenant_id in self._pages[number]]}
        if number + 1 < len(self._pages):
            answer["LastEvaluatedKey"] = {"tenantId": {"S": self._pages[number][-1]}}
        return answer


def test_the_scan_reads_every_page_consistently() -> None:
    table = PagedTable([["a", "b"], ["c"], []])

    rows = recorded_deployments(table)

    assert [row.deployment_id for row in rows] == ["a", "b", "c"]
    # A row without a desired state: running.
    assert [row.desired_state for row in rows] == [DesiredState.RUNNING] * 3
    assert table.asked == [
        {"TableName": TENANT_STACK_MAPPING_TABLE.name, "ConsistentRead": True},
        {"TableName": TENANT_STACK_MAPPING_TABLE.name, "ConsistentRead": True,
         "ExclusiveStartKey": {"tenantId": {"S": "b"}}},
        {"TableName": TENANT_STACK_MAPPING_TABLE.name, "ConsistentRead": True,
         "ExclusiveStartKey": {"tenantId": {"S": "c"}}},
    ]
