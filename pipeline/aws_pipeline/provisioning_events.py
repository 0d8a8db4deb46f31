"""From the tenant-stack-mapping table's stream to deployments: which change asks for one.

A row's stream record asks for its tenant's stack to be deployed when it is new (a
registration's request) or when what the control plane wants of it changed: its
``desiredState`` (a deactivation or an activation) or its ``deploymentRequest`` (staff asking
for a redeployment, for example after fixing what made it fail). Every other change is the
deployer's own record (status, API ids, release, the claim) and must not start anything, or
each deployment would start the next. The pooled row is ``make deploy-pooled``'s and the
release pipeline's, never a provisioning's.

Each request is started as a Step Functions execution named after the tenant and the stream
record's sequence number: a record delivered twice (Lambda retries a batch, streams deliver at
least once) names the same execution, which Step Functions refuses to start again, so it
deploys once. Two different records for one tenant are two executions; the state machine's
claim on the row keeps them from deploying the stack at the same time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tenant_context.attribute_values import from_item
from tenant_context.tenancy import is_tenant_id

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

EXECUTION_NAME_LIMIT = 80  # Step Functions' limit on an execution's name
WANTED = ("desiredState", "deploymentRequest")  # what the control plane wants of a row


@dataclass(frozen=True)
class DeploymentRequest:
    deployment_id: str
    execution_name: str
    cause: str

    def execution_input(self) -> str:
        """A provisioning names no release: the deployment gets the pooled deployment's."""
        return json.dumps({"deploymentId": self.deployment_id, "releaseId": "",
                           "cause": self.cause})


def image(record: Mapping[str, Any], which: str) -> dict[str, Any]:
    image = record.get("dynamodb", {}).get(which)
    return from_item(image) if image else {}


def request_of(record: Mapping[str, Any]) -> DeploymentRequest | None:
    """The deployment a stream record asks for, if any."""
    event = record.get("eventName")
    new, old = image(record, "NewImage"), image(record, "OldImage")
    deployment_id = str(new.get("tenantId", ""))
    if event not in ("INSERT", "MODIFY") or not is_tenant_id(deployment_id):
        return None  # a removal, the pooled row, or a key that is not a tenant's
    if event == "INSERT":
        cause = "requested"
    else:
        changed = [name for name in WANTED if new.get(name) != old.get(name)]
        if not changed:
            return None  # the deployer's own record
        cause = ", ".join(f"{name} {new.get(name)}" for name in changed)
    sequence = str(record["dynamodb"]["SequenceNumber"])
    name = f"{deployment_id}-{sequence}"[:EXECUTION_NAME_LIMIT]
    return DeploymentRequest(deployment_id, name, cause)


@dataclass(frozen=True)
class Started:
    started: list[str]  # execution names
    duplicates: list[str]  # already started by an earlier delivery of the same record


def execution_arn(state_machine_arn: str, name: str) -> str:
    """Where Step Functions keeps an execution of that name (deterministic)."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


class ExecutionRequest(Protocol):
    """What a stream record asks Step Functions to run: an execution's name and input."""

    @property
    def execution_name(self) -> str: ...

    def execution_input(self) -> str: ...


def start_executions(requests: Iterable[ExecutionRequest], sfn: SFNClient,
                     state_machine_arn: str) -> Started:
    """One execution per request. An execution of the same name already there is a duplicate
    delivery: looked up first, and StartExecution refuses (or answers with) an existing name
    anyway. Anything else failing raises: Lambda retries the batch, and the requests already
    started are then duplicates."""
    started, duplicates = [], []
    for request in requests:
        try:
            sfn.describe_execution(
                executionArn=execution_arn(state_machine_arn, request.execution_name))
            duplicates.append(request.execution_name)
            continue
        except sfn.exceptions.ExecutionDoesNotExist:
            pass
        try:
            sfn.start_execution(stateMachineArn=state_machine_arn, name=request.execution_name,
                                input=request.execution_input())
            started.append(request.execution_name)
        except sfn.exceptions.ExecutionAlreadyExists:
            duplicates.append(request.execution_name)
    return Started(started, duplicates)


def start_deployments(records: Iterable[Mapping[str, Any]], sfn: SFNClient,
                      state_machine_arn: str) -> Started:
    """A deploy-stack execution for each record that asks for a deployment."""
    requests = [request for request in map(request_of, records) if request is not None]
    return start_executions(requests, sfn, state_machine_arn)
