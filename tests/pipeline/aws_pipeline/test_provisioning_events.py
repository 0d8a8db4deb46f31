"""The stream handler with the records the emulator's DynamoDB stream really produced for the
tenant-stack-mapping table, starting executions in the emulator's Step Functions: a
registration starts exactly one deployment, a deactivation one more, the deployer's own records
none, and a record delivered again none."""

from __future__ import annotations

import json
import secrets
from typing import Any

import boto3
import pytest

from pipeline.aws_pipeline.provisioning_events import request_of, start_deployments
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.stacks.state_machines import deploy_stack_definition
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings
from tenant_context.platform.tenant_records import DesiredState, ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.support.table_stream import Stream


@pytest.fixture
def machine(baseline: BaselineResult) -> str:
    sfn = boto3.client("stepfunctions")
    return sfn.create_state_machine(
        name=f"deploy-stack-{secrets.token_hex(3)}",
        definition=json.dumps(deploy_stack_definition()),
        roleArn="arn:aws:iam::123456789012:role/deploy-stack")["stateMachineArn"]


def executions(machine: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [{**execution, "input": json.loads(sfn.describe_execution(
        executionArn=execution["executionArn"])["input"])} for execution in listed]


def test_each_wanted_change_starts_one_deployment_and_nothing_else_does(machine: str) -> None:
    deployments = Deployments(boto3.client("dynamodb"), TENANT_STACK_MAPPING_TABLE.name)
    stream = Stream(TENANT_STACK_MAPPING_TABLE.name)
    sfn = boto3.client("stepfunctions")
    tenant_id = secrets.token_hex(16)

    deployments.request(tenant_id)  # a registration
    registered = stream.records()
    started = start_deployments(registered, sfn, machine)
    assert len(started.started) == 1
    (execution,) = executions(machine)
    assert execution["input"] == {"deploymentId": tenant_id, "releaseId": "",
                                  "cause": "requested"}

    # The same records again (Lambda retried the batch): nothing more.
    again = start_deployments(registered, sfn, machine)
    assert (again.started, again.duplicates) == ([], started.started)

    # The deployer's own records and staff's release settings start nothing ...
    deployments.record_active(tenant_id, frozenset({"api"}), "https://t")
    deployments.record_release(tenant_id, "r1", ReleaseResult.DEPLOYED, "t")
    deployments.set_release_settings(tenant_id, ReleaseSettings(wave=2))
    deployments.claim(tenant_id, "arn:execution", 1, 60)
    deployments.record_release(POOLED_DEPLOYMENT, "r1", ReleaseResult.DEPLOYED, "t")
    assert start_deployments(stream.records(), sfn, machine).started == []

    # ... a deactivation does, once.
    deployments.set_desired_state(tenant_id, DesiredState.STOPPED)
    deactivated = start_deployments(stream.records(), sfn, machine)
    assert len(deactivated.started) == 1
    assert [execution["input"]["cause"] for execution in executions(machine)
            ].count("desiredState stopped") == 1
    assert len(executions(machine)) == 2


@pytest.mark.parametrize(("record", "why"), [
    ({"eventName": "REMOVE", "dynamodb": {"OldImage": {"tenantId": {"S": "a" * 32}},
                                          "SequenceNumber": "1"}}, "a removal"),
    ({"eventName": "INSERT", "dynamodb": {"NewImage": {"tenantId": {"S": POOLED_DEPLOYMENT}},
                                          "SequenceNumber": "2"}}, "the pooled row"),
    ({"eventName": "INSERT", "dynamodb": {"NewImage": {"tenantId": {"S": "hand-made"}},
                                          "SequenceNumber": "3"}}, "a key that is no tenant's"),
])
def test_records_that_ask_for_no_deployment(record: dict[str, Any], why: str) -> None:
    assert request_of(record) is None, why


def test_an_execution_name_fits_step_functions() -> None:
    request = request_of({"eventName": "INSERT", "dynamodb": {
        "NewImage": {"tenantId": {"S": "a" * 32}}, "SequenceNumber": "9" * 40}})
    assert request is not None
    assert len(request.execution_name) <= 80
