"""CloudFormation as the tenant pipeline meets it on a real account, where the emulator cannot
go: change sets that take several looks, stacks that fail, roll back, stay in progress or are
stuck in ROLLBACK_COMPLETE or UPDATE_ROLLBACK_FAILED. A small state model behind the
``AwsCalls`` seam, so the real ``Stacks`` steps run against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from pipeline.deploy.aws.calls import Answer
from pipeline.deploy.aws.onboard_tenant import SILO_PARAMETERS_FROM_POOLED
from pipeline.stacks.inventory import POOLED_STACK_NAME


@dataclass
class Behaviour:
    """How the stack under test behaves."""

    status: str = ""  # its status before the deployment ("" = no stack)
    refuse_change_set: str = ""  # a change set that fails with this reason
    no_changes: bool = False
    rollback_reason: str = ""  # the execution fails on a resource with this reason
    never_settles: bool = False  # stays in progress forever
    operator_only: bool = False  # a repair action fails (stays broken)


@dataclass
class CloudFormation:
    behaviour: Behaviour = field(default_factory=Behaviour)
    stacks: dict[str, str] = field(default_factory=dict)
    change_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: list[tuple[str, str]] = field(default_factory=list)  # (operation, stack)
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    looks: int = 0

    def __post_init__(self) -> None:
        self.stacks[POOLED_STACK_NAME] = "UPDATE_COMPLETE"

    def with_stack(self, name: str) -> CloudFormation:
        if self.behaviour.status:
            self.stacks[name] = self.behaviour.status
        return self

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        assert service == "cloudformation", (service, operation)
        name = params.get("StackName", "")
        self.operations.append((operation, name))
        answer: Answer = getattr(self, operation)(**params)
        return answer

    def _missing(self, name: str) -> ClientError:
        return ClientError({"Error": {"Code": "ValidationError",
                                      "Message": f"Stack with id {name} does not exist"}},
                           "DescribeStacks")

    def describe_stacks(self, StackName: str) -> Answer:  # noqa: N803 - boto3's names
        status = self.stacks.get(StackName)
        if status is None:
            raise self._missing(StackName)
        self.looks += 1
        if status.endswith("_IN_PROGRESS") and not self.behaviour.never_settles:
            # A stack in progress settles after one more look.
            settled = {"DELETE_IN_PROGRESS": None,
                       "UPDATE_ROLLBACK_IN_PROGRESS": "UPDATE_ROLLBACK_COMPLETE"}
            after = settled.get(status, status.replace("_IN_PROGRESS", "_COMPLETE"))
            if after is None:
                del self.stacks[StackName]
            else:
                self.stacks[StackName] = after
        outputs = ([{"OutputKey": output, "OutputValue": f"arn:pooled:{output}"}
                    for output in SILO_PARAMETERS_FROM_POOLED.values()]
                   if StackName == POOLED_STACK_NAME
                   else [{"OutputKey": "TenantApiUrl", "OutputValue": f"https://{StackName}"}])
        return {"Stacks": [{"StackName": StackName, "StackStatus": status, "Outputs": outputs,
                            "Parameters": [{"ParameterKey": key, "ParameterValue": value}
                                           for key, value in
                                           self.parameters.get(StackName, {}).items()]}]}

    def delete_stack(self, StackName: str) -> Answer:  # noqa: N803
        self.stacks[StackName] = "DELETE_IN_PROGRESS"
        return {}

    def continue_update_rollback(self, StackName: str) -> Answer:  # noqa: N803
        self.stacks[StackName] = ("UPDATE_ROLLBACK_FAILED" if self.behaviour.operator_only
                                  else "UPDATE_ROLLBACK_IN_PROGRESS")
        return {}

    def create_change_set(self, **params: Any) -> Answer:
        name, change_set = params["StackName"], params["ChangeSetName"]
        if params["ChangeSetType"] == "CREATE":
            self.stacks[name] = "REVIEW_IN_PROGRESS"
        self.parameters[name] = {item["ParameterKey"]: item["ParameterValue"]
                                 for item in params["Parameters"]}
        self.change_sets[change_set] = {"looks": 0, "type": params["ChangeSetType"]}
        return {}

    def describe_change_set(self, StackName: str, ChangeSetName: str) -> Answer:  # noqa: N803
        change_set = self.change_sets[ChangeSetName]
        change_set["looks"] += 1
        if change_set["looks"] == 1:
            return {"Status": "CREATE_PENDING"}
        if self.behaviour.refuse_change_set:
            return {"Status": "FAILED", "StatusReason": self.behaviour.refuse_change_set}
        if self.behaviour.no_changes:
            return {"Status": "FAILED",
                    "StatusReason": "The submitted information didn't contain changes."}
        execution = change_set.get("execution", "AVAILABLE")
        return {"Status": "CREATE_COMPLETE", "ExecutionStatus": execution}

    def execute_change_set(self, StackName: str, ChangeSetName: str,  # noqa: N803
                           RetainExceptOnCreate: bool) -> Answer:  # noqa: N803
        assert RetainExceptOnCreate
        change_set = self.change_sets[ChangeSetName]
        creating = change_set["type"] == "CREATE"
        if self.behaviour.never_settles:
            self.stacks[StackName] = "UPDATE_IN_PROGRESS"
            change_set["execution"] = "EXECUTE_IN_PROGRESS"
        elif self.behaviour.rollback_reason:
            self.stacks[StackName] = "ROLLBACK_COMPLETE" if creating \
                else "UPDATE_ROLLBACK_COMPLETE"
            change_set["execution"] = "EXECUTE_FAILED"
        else:
            self.stacks[StackName] = "CREATE_COMPLETE" if creating else "UPDATE_COMPLETE"
            change_set["execution"] = "EXECUTE_COMPLETE"
        return {}

    def delete_change_set(self, StackName: str, ChangeSetName: str) -> Answer:  # noqa: N803
        return {}

    def describe_stack_events(self, StackName: str, **params: Any) -> Answer:  # noqa: N803
        events = [{"EventId": "e0", "LogicalResourceId": StackName,
                   "ResourceStatus": "UPDATE_IN_PROGRESS", "ResourceStatusReason":
                   "User Initiated"}]
        if self.behaviour.rollback_reason:
            events.insert(0, {"EventId": "e1", "LogicalResourceId": "ProductFunction",
                              "ResourceStatus": "UPDATE_FAILED",
                              "ResourceStatusReason": self.behaviour.rollback_reason})
        return {"StackEvents": events}
