"""The tenant pipeline's state machines, as Amazon States Language (data, so the tests walk
every path of the very definition the stack deploys).

deploy-stack: one Platinum tenant's stack, from a stream record (provisioning, a deactivation
or activation) or from a rollout's wave. Claim the row (retried while another execution holds
it), make the stack ready (waiting, or its stuck state's safe action), start a change set,
then look at it every ``POLL_SECONDS`` until it is done; the outcome is recorded on the row
either way. A stack still working after ``MAX_POLLS`` looks is recorded as failed (stuck) and
left to CloudFormation; any error a task raises is caught and recorded the same way, so a row
never stays ``provisioning`` because its deployment broke.
"""

from __future__ import annotations

from typing import Any

STACK_TASKS = "${StackTasksFunctionArn}"  # a DefinitionSubstitution of the stack
POLL_SECONDS = 30
MAX_POLLS = 240  # two hours of looks: CloudFormation's own timeouts come first
BUSY_RETRY = {"ErrorEquals": ["DeploymentBusy"], "IntervalSeconds": 60, "MaxAttempts": 120,
              "BackoffRate": 1.0}
# Lambda's own transient errors (throttling, a service hiccup): retried with backoff.
LAMBDA_RETRY = {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2.0}
CAUGHT = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]

State = dict[str, Any]


def _task(name: str, result: str, after: str, *, state: Any = None,
          retry: list[State] | None = None, catch: list[State] | None = None) -> State:
    caught = CAUGHT if catch is None else catch
    return {"Type": "Task", "Resource": STACK_TASKS,
            "Parameters": {"task": name, **({"state": state} if state is not None
                                            else {"state.$": "$"})},
            "ResultPath": result, "Retry": [*(retry or []), LAMBDA_RETRY],
            **({"Catch": caught} if caught else {}), "Next": after}


def _poll_counter(name: str, after: str) -> dict[str, State]:
    """Count one look; too many and the deployment is recorded as stuck."""
    return {
        name: {"Type": "Pass", "Parameters": {"value.$": "States.MathAdd($.polls.value, 1)"},
               "ResultPath": "$.polls", "Next": f"{name}TooLong"},
        f"{name}TooLong": {"Type": "Choice", "Choices": [
            {"Variable": "$.polls.value", "NumericGreaterThan": MAX_POLLS, "Next": "TimedOut"}],
            "Default": after},
    }


def deploy_stack_definition() -> State:
    return {
        "Comment": "One Platinum tenant's stack to a release and its desired state",
        "StartAt": "Begin",
        "States": {
            "Begin": {"Type": "Pass", "Result": {"value": 0}, "ResultPath": "$.polls",
                      "Next": "Claim"},
            "Claim": _task("claim", "$.claim", "Prepare", state={
                "deploymentId.$": "$.deploymentId", "releaseId.$": "$.releaseId",
                "execution.$": "$$.Execution.Id"}, retry=[BUSY_RETRY], catch=[
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                 "Next": "NotDeployed"}]),
            "NotDeployed": {"Type": "Fail", "Error": "NotDeployed",
                            "CausePath": "$.error.Cause"},
            "Prepare": _task("prepare", "$.ready", "IsReady"),
            "IsReady": {"Type": "Choice", "Choices": [
                {"Variable": "$.ready.waiting", "StringEquals": "", "Next": "Start"}],
                "Default": "WaitForStack"},
            "WaitForStack": {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": "CountStackLook"},
            **_poll_counter("CountStackLook", "Prepare"),
            "Start": _task("start", "$.changeSet", "WaitForChangeSet"),
            "WaitForChangeSet": {"Type": "Wait", "Seconds": POLL_SECONDS,
                                 "Next": "CountChangeSetLook"},
            **_poll_counter("CountChangeSetLook", "Advance"),
            "Advance": _task("advance", "$.progress", "IsDone"),
            "IsDone": {"Type": "Choice", "Choices": [
                {"Variable": "$.progress.phase", "StringEquals": "working",
                 "Next": "WaitForChangeSet"},
                {"Or": [{"Variable": "$.progress.phase", "StringEquals": "deployed"},
                        {"Variable": "$.progress.phase", "StringEquals": "unchanged"}],
                 "Next": "RecordSuccess"}],
                "Default": "RecordFailure"},
            "TimedOut": {"Type": "Pass", "ResultPath": "$.error", "Parameters": {
                "Error": "StackTimedOut",
                "Cause": f"the stack was still working after {MAX_POLLS} looks "
                         f"{POLL_SECONDS} s apart; CloudFormation goes on with it"},
                "Next": "RecordFailure"},
            "RecordSuccess": _task("record", "$.outcome", "Deployed", catch=[]),
            "Deployed": {"Type": "Succeed"},
            "RecordFailure": _task("record", "$.outcome", "Failed", catch=[]),
            "Failed": {"Type": "Fail", "Error": "StackFailed", "CausePath": "$.outcome.reason"},
        },
        "TimeoutSeconds": 3 * 3600,
    }
