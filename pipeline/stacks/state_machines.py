"""The tenant pipeline's state machines, as Amazon States Language (data, so the tests walk
every path of the very definition the stack deploys).

deploy-stack: one Platinum tenant's stack, from a stream record (provisioning, a deactivation
or activation) or from a rollout's wave. Claim the row (retried while another execution holds
it), make the stack ready (waiting, or its stuck state's safe action), start a change set,
then look at it every ``POLL_SECONDS`` until it is done; the outcome is recorded on the row
either way. A stack still working after ``MAX_POLLS`` looks is recorded as failed (stuck) and
left to CloudFormation; any error a task raises is caught and recorded the same way, so a row
never stays ``provisioning`` because its deployment broke.

rollout: a published release to the fleet. Plan (refusing an unknown release before any stack
is touched), the pooled stack first (a deploy-stack execution, waited for), then the waves one
after the other, each's stacks as deploy-stack executions, at most ``maxConcurrency`` at once;
before every wave but the first, staff approve when the rollout asks them to (a task token sent
on the notification topic; ``aws stepfunctions send-task-success`` or ``send-task-failure``).
A failed stack counts against ``failureThreshold``: past it, its wave stops (the stacks not yet
started never start) and no later wave runs. Whatever happens, the report is built and, when the
rollout stopped, published on the notification topic.

tenant-move: one tenant's move between the pool and its own deployment, started by the
tenant-details table's stream (``pipeline.aws_pipeline.lifecycle_events``) with the tenant and
the move id. Advance (one idempotent step of ``pipeline.lifecycle.tenant_move``), then either done,
or wait what the step asked for (a deployment coming up, writes or routing settling) and
advance again. A failing step is retried with backoff; past that, or after ``MAX_ADVANCES``
advances, the execution fails and the move stays at its step (recorded on the tenant record
with its error), to be resumed by a new execution with the same input (``RESUME``).

tenant-offboarding: one tenant's offboarding, started by the same stream
(``pipeline.aws_pipeline.lifecycle_events``) with the tenant and the offboarding id, the
same shape as tenant-move (one builder, ``_advancing_definition``, the differences its
parameters). Advance (one idempotent step of ``pipeline.lifecycle.offboarding``:
the grace period looked at, the export, the erasure, the verification), then done (finished or
undone), or wait what the step asked for and advance again. The grace period is days and one
Wait state covers it (a standard execution may wait up to its year; the task caps a wait at
``MAX_WAIT_SECONDS`` so the erasure still fits in it). A failing step is retried longer than a
move's (``OFFBOARDING_RETRIES``: nothing waits on an offboarding, and the verification keeps
finding the silo's stack until CloudFormation has deleted it, minutes); past that the execution
fails and the offboarding stays at its step, resumed by a new execution
(``OFFBOARDING_RESUME``).
"""

from __future__ import annotations

from typing import Any

STACK_TASKS = "${StackTasksFunctionArn}"  # DefinitionSubstitutions of the stack
ROLLOUT_TASKS = "${RolloutTasksFunctionArn}"
DEPLOY_STACK = "${DeployStackStateMachineArn}"
NOTIFICATIONS = "${NotificationTopicArn}"
START_AND_WAIT = "arn:aws:states:::states:startExecution.sync:2"
ASK_AND_WAIT = "arn:aws:states:::sns:publish.waitForTaskToken"
PUBLISH = "arn:aws:states:::sns:publish"
APPROVAL_SECONDS = 24 * 3600  # a wave nobody approved within a day is not approved
POLL_SECONDS = 30
MAX_POLLS = 240  # two hours of looks: CloudFormation's own timeouts come first
BUSY_RETRY = {"ErrorEquals": ["DeploymentBusy"], "IntervalSeconds": 60, "MaxAttempts": 120,
              "BackoffRate": 1.0}
# Lambda's own transient errors (throttling, a service hiccup): retried with backoff.
LAMBDA_RETRY = {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2.0}
CAUGHT = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]
MOVE_TASKS = "${MoveTasksFunctionArn}"
# A step that failed (``MoveStepError``, a function timeout, anything the task raised) is run
# again a few times: every step is idempotent, and many failures pass (a throttled table, a
# deployment's row written late). A move that is not there (``LookupError``) is not retried.
MOVE_RETRIES = [
    {"ErrorEquals": ["LookupError"], "MaxAttempts": 0},
    LAMBDA_RETRY,
    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 4, "BackoffRate": 3.0},
]
# Each advance adds about ten events to the execution's history (at most 25,000): a move
# needs about ten advances plus one a POLL_SECONDS while its deployment comes up (the
# deploy-stack machine gives up after two hours: 240 looks).
MAX_ADVANCES = 1000
RESUME = ("aws stepfunctions start-execution --state-machine-arn <TenantMoveStateMachineArn> "
          "--name <moveId>-resume-<n> --input '{\"tenantId\": \"<tenantId>\", "
          "\"moveId\": \"<moveId>\"}'")

State = dict[str, Any]


def _task(name: str, result: str, after: str, *, state: Any = None,
          retry: list[State] | None = None, catch: list[State] | None = None,
          resource: str = STACK_TASKS) -> State:
    caught = CAUGHT if catch is None else catch
    return {"Type": "Task", "Resource": resource,
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


def _deploy_stack(deployment_id: Any, after: str, catch: str) -> State:
    """A deploy-stack execution, waited for (a nested execution: its history is its own)."""
    return {"Type": "Task", "Resource": START_AND_WAIT, "Parameters": {
        "StateMachineArn": DEPLOY_STACK,
        "Input": {**deployment_id, "releaseId.$": "$.releaseId", "cause": "rollout",
                  "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        "ResultPath": None, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                       "Next": catch}], "Next": after}


def _wave() -> State:
    """One wave: approval if asked for, then its stacks, a failure past the threshold
    failing the wave (which stops the stacks not yet started)."""
    stack = {
        "StartAt": "DeployTenantStack",
        "States": {
            "DeployTenantStack": _deploy_stack({"deploymentId.$": "$.deploymentId"},
                                               "StackDone", "CountFailures"),
            "StackDone": {"Type": "Succeed"},
            "CountFailures": _task("failures", "$.failures", "OverThreshold", state={
                "releaseId.$": "$.releaseId", "threshold.$": "$.threshold"},
                resource=ROLLOUT_TASKS, catch=[]),
            "OverThreshold": {"Type": "Choice", "Choices": [
                {"Variable": "$.failures.over", "BooleanEquals": True, "Next": "StopWave"}],
                "Default": "Tolerated"},
            "StopWave": {"Type": "Fail", "Error": "FailureThresholdExceeded",
                         "Cause": "more stacks failed than the rollout tolerates"},
            "Tolerated": {"Type": "Succeed"},
        },
    }
    return {
        "StartAt": "NeedsApproval",
        "States": {
            "NeedsApproval": {"Type": "Choice", "Choices": [{"And": [
                {"Variable": "$.wave.first", "BooleanEquals": False},
                {"Variable": "$.settings.approveWaves", "BooleanEquals": True}],
                "Next": "Approve"}], "Default": "DeployWave"},
            "Approve": {"Type": "Task", "Resource": ASK_AND_WAIT, "Parameters": {
                "TopicArn": NOTIFICATIONS, "Subject": "Approve the next wave of a rollout",
                "Message": {"releaseId.$": "$.releaseId", "wave.$": "$.wave.number",
                            "stacks.$": "$.wave.targets", "taskToken.$": "$$.Task.Token"}},
                "TimeoutSeconds": APPROVAL_SECONDS, "ResultPath": None,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                           "Next": "NotApproved"}], "Next": "DeployWave"},
            "NotApproved": {"Type": "Fail", "Error": "WaveNotApproved",
                            "Cause": "staff did not approve the wave"},
            "DeployWave": {"Type": "Map", "ItemsPath": "$.wave.targets",
                           "MaxConcurrencyPath": "$.settings.maxConcurrency",
                           "ItemSelector": {"deploymentId.$": "$$.Map.Item.Value",
                                            "releaseId.$": "$.releaseId",
                                            "threshold.$": "$.settings.failureThreshold"},
                           "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **stack},
                           "ResultPath": None, "End": True},
        },
    }


def rollout_definition() -> State:
    report = {"releaseId.$": "$.releaseId"}
    return {
        "Comment": "A published release to the pooled stack, then every Platinum stack in waves",
        "StartAt": "Plan",
        "States": {
            "Plan": _task("plan", "$.plan", "HasPooled", state={"releaseId.$": "$.releaseId"},
                          resource=ROLLOUT_TASKS, catch=[
                              {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                               "Next": "NotPlanned"}]),
            "NotPlanned": {"Type": "Fail", "Error": "NotPlanned", "CausePath": "$.error.Cause"},
            "HasPooled": {"Type": "Choice", "Choices": [
                {"Variable": "$.plan.pooled", "BooleanEquals": True, "Next": "DeployPooled"}],
                "Default": "Waves"},
            "DeployPooled": _deploy_stack({"deploymentId": "pooled"}, "Waves", "Stopped"),
            "Waves": {"Type": "Map", "ItemsPath": "$.plan.waves", "MaxConcurrency": 1,
                      "ItemSelector": {"wave.$": "$$.Map.Item.Value",
                                       "releaseId.$": "$.releaseId",
                                       "settings.$": "$.settings"},
                      "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **_wave()},
                      "ResultPath": None,
                      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                 "Next": "Stopped"}],
                      "Next": "Report"},
            "Report": _task("report", "$.report", "RolledOut", state=report,
                            resource=ROLLOUT_TASKS, catch=[]),
            "RolledOut": {"Type": "Succeed"},
            "Stopped": _task("report", "$.report", "Notify", state=report,
                             resource=ROLLOUT_TASKS, catch=[]),
            "Notify": {"Type": "Task", "Resource": PUBLISH, "Parameters": {
                "TopicArn": NOTIFICATIONS, "Subject": "A rollout stopped",
                "Message.$": "$.report.text"}, "ResultPath": None, "Next": "RolloutStopped"},
            "RolloutStopped": {"Type": "Fail", "Error": "RolloutStopped",
                               "CausePath": "$.error.Cause"},
        },
        "TimeoutSeconds": 7 * 24 * 3600,
    }


def _advancing_definition(*, comment: str, resource: str, id_field: str, retry: list[State],
                          max_advances: int, work: str, done: str, still: str, stays: str,
                          resume: str, timeout: int) -> State:
    """Advance, then done, or count the advance, wait what the step asked for and advance
    again: the tenant-move and tenant-offboarding machines' one shape (``work`` names the work
    in the errors and causes: ``Move`` gives ``MoveStepFailed`` and ``MoveTooLong``)."""
    return {
        "Comment": comment,
        "StartAt": "Begin",
        "States": {
            "Begin": {"Type": "Pass", "Result": {"value": 0}, "ResultPath": "$.advances",
                      "Next": "Advance"},
            "Advance": {"Type": "Task", "Resource": resource,
                        "Parameters": {"tenantId.$": "$.tenantId",
                                       f"{id_field}.$": f"$.{id_field}"},
                        "ResultPath": "$.advance", "Retry": retry,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                   "Next": "StepFailed"}],
                        "Next": "IsDone"},
            "IsDone": {"Type": "Choice", "Choices": [
                {"Variable": "$.advance.done", "BooleanEquals": True, "Next": done}],
                "Default": "CountAdvance"},
            "CountAdvance": {"Type": "Pass",
                             "Parameters": {"value.$": "States.MathAdd($.advances.value, 1)"},
                             "ResultPath": "$.advances", "Next": "TooManyAdvances"},
            "TooManyAdvances": {"Type": "Choice", "Choices": [
                {"Variable": "$.advances.value", "NumericGreaterThan": max_advances,
                 "Next": still}], "Default": "WaitForStep"},
            "WaitForStep": {"Type": "Wait", "SecondsPath": "$.advance.wait", "Next": "Advance"},
            done: {"Type": "Succeed"},
            "StepFailed": {"Type": "Fail", "Error": f"{work}StepFailed",
                           "Cause": f"A step kept failing (its error is in this execution's "
                                    f"history): {stays}{resume}"},
            still: {"Type": "Fail", "Error": f"{work}TooLong",
                    "Cause": f"The {work.lower()} was still under way after {max_advances} "
                             f"advances: {stays}{resume}"},
        },
        "TimeoutSeconds": timeout,
    }


def tenant_move_definition() -> State:
    return _advancing_definition(
        comment="One tenant's move between the pool and its own deployment, a step at a time",
        resource=MOVE_TASKS, id_field="moveId", retry=MOVE_RETRIES, max_advances=MAX_ADVANCES,
        work="Move", done="Moved", still="StillMoving",
        stays="the move stays at its step, recorded on the tenant record with its error "
              "(GET /tenant/move/<tenantId>); once the cause is fixed, resume it from there: ",
        resume=RESUME, timeout=12 * 3600)


OFFBOARDING_TASKS = "${OffboardingTasksFunctionArn}"
# A standard execution lives at most a year; the task waits at most a day less, so an
# offboarding whose grace ends at the longest wait still has a day to be exported and erased.
OFFBOARDING_TIMEOUT_SECONDS = 365 * 24 * 3600
MAX_WAIT_SECONDS = OFFBOARDING_TIMEOUT_SECONDS - 24 * 3600
# 30 s, then 1, 2, 4, 8 and 16 minutes (about half an hour in all): a silo's stack deletion
# (its APIs, functions, deployment groups and log groups), which the verification waits for by
# failing, takes minutes; an offboarding that is not there (``LookupError``) is not retried.
OFFBOARDING_RETRIES = [
    {"ErrorEquals": ["LookupError"], "MaxAttempts": 0},
    LAMBDA_RETRY,
    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "MaxAttempts": 6, "BackoffRate": 2.0},
]
# About five advances (the grace, the export, the erasure, the verification) and one a second
# while the record changes under the offboarder (``OffboardingConflict``): a loop ends here.
MAX_OFFBOARDING_ADVANCES = 100
OFFBOARDING_RESUME = (
    "aws stepfunctions start-execution --state-machine-arn "
    "<TenantOffboardingStateMachineArn> --name <offboardingId>-resume-<n> --input "
    "'{\"tenantId\": \"<tenantId>\", \"offboardingId\": \"<offboardingId>\"}'")


def tenant_offboarding_definition() -> State:
    return _advancing_definition(
        comment="One tenant's offboarding: the grace period, the export, the erasure and its "
                "verification, a step at a time",
        resource=OFFBOARDING_TASKS, id_field="offboardingId", retry=OFFBOARDING_RETRIES,
        max_advances=MAX_OFFBOARDING_ADVANCES, work="Offboarding", done="Offboarded",
        still="StillOffboarding",
        stays="the offboarding stays at its step, recorded on the tenant record with its error "
              "(GET /tenant/offboarding/<tenantId>); once the cause is fixed, resume it from "
              "there: ",
        resume=OFFBOARDING_RESUME, timeout=OFFBOARDING_TIMEOUT_SECONDS)
