"""Deploying one stack with a change set, and reading a stack's outputs.

A change set rather than create/update: one path for a first deployment and for every later
one, and "nothing changed" is a plain answer (success), not an error to parse. While the stack
works, its new events are printed as they come; when it fails, the failed events' reasons
become the error, so the operator reads why without opening the console.

A stack's status alone does not say that OUR change set ran: right after ``ExecuteChangeSet``
a stack can still show its previous ``UPDATE_COMPLETE``, and a change set made obsolete by
another update never runs at all. So a deployment ends when the stack is settled AND the change
set's execution is (``EXECUTE_COMPLETE``, or a failure reported as one). Every wait has a
deadline (``timeout_seconds``): a stack stuck in progress is reported, named, with what to do,
instead of holding the operator's terminal forever.

A stack that cannot take a change set as it is gets its one safe action first (``make_ready``),
so provisioning, a rollout and ``make deploy-tenants`` all treat it alike:
- in progress (anything ``*_IN_PROGRESS``): waited for; never a second operation on it;
- ROLLBACK_COMPLETE (its first creation failed): deleted, then created again. Nothing of it is
  left but what it retains: with ``RetainExceptOnCreate`` the resources that creation made are
  gone, and a retained table from before stays (the new creation then says it exists);
- UPDATE_ROLLBACK_FAILED: the rollback is continued (``ContinueUpdateRollback``, skipping
  nothing), back to the last good state, then the update is tried again;
- ROLLBACK_FAILED, DELETE_FAILED, CREATE_FAILED: refused, with what the operator must look at:
  resources may hold data, and nothing here deletes data.
The same steps run one at a time for the tenant pipeline's state machine (``make_ready``,
``start``, ``advance``, each a short call) and in a loop for the deploy CLI (``deploy``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from pipeline.deploy.aws.artifacts import DeploymentBucket, with_uploaded_artifacts
from pipeline.deploy.aws.calls import Answer, AwsCalls
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.deploy_error import DeployError

CFN = "cloudformation"
# IAM: the stacks create roles (the pooled one names some); AUTO_EXPAND: the SAM transform.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation takes inline; larger goes by TemplateURL
SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# Created but never executed (a CREATE change set): it must be created again, not updated.
NOT_YET_CREATED = "REVIEW_IN_PROGRESS"
# A first creation that failed and rolled back: nothing of it is left, it is deleted and made again.
FAILED_CREATION = "ROLLBACK_COMPLETE"
# An update whose rollback failed: continuing the rollback brings it back to its last good state.
ROLLBACK_STUCK = "UPDATE_ROLLBACK_FAILED"
# States only an operator can get a stack out of (resources may hold data).
NEEDS_OPERATOR = frozenset({"ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_MAX_REASONS = 5
DEFAULT_TIMEOUT_SECONDS = 3600.0
EXECUTED, EXECUTE_FAILED = "EXECUTE_COMPLETE", "EXECUTE_FAILED"
NEVER_EXECUTED = frozenset({"OBSOLETE", "UNAVAILABLE"})
NOTHING_TO_CHANGE = ""  # ``start``'s answer when the change set was refused as empty



@dataclass(frozen=True)
class Outputs:
    stack: str
    values: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        """A missing output is an operator's problem (a stack deployed from another version),
        so it is said as one, not as a KeyError."""
        try:
            return self.values[key]
        except KeyError:
            raise DeployError(f"stack {self.stack} has no output {key} (deployed from another "
                              f"version of the template? deploy it again)") from None


@dataclass(frozen=True)
class Deployed:
    outputs: Outputs
    changed: bool


class Phase(StrEnum):
    WORKING = "working"  # look again after a while
    DEPLOYED = "deployed"
    UNCHANGED = "unchanged"  # the change set had nothing to change
    FAILED = "failed"  # rolled back (or never run): ``detail`` says why


@dataclass(frozen=True)
class Progress:
    phase: Phase
    detail: str = ""
    outputs: Outputs | None = None


@dataclass(frozen=True)
class Readiness:
    """``make_ready``'s answer: what the stack waits for ("" when none), and the kind of change
    set it takes once ready."""

    waiting: str
    change_type: str = "UPDATE"  # or CREATE: no stack (or one never executed)


class Stacks:
    def __init__(self, calls: AwsCalls, bucket: DeploymentBucket, out: Out,
                 timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                 sleep: Callable[[float], None] = time.sleep, poll_seconds: float = 5,
                 clock: Callable[[], float] = time.monotonic, role_arn: str = "") -> None:
        """``role_arn``: the service role CloudFormation deploys with (the tenant pipeline's,
        so its functions hold no rights over the stacks' resources); "" deploys with the
        caller's own rights, as an operator's machine does."""
        self._calls = calls
        self._role = {"RoleARN": role_arn} if role_arn else {}
        self._bucket = bucket
        self._out = out
        self._timeout = timeout_seconds
        self._sleep = sleep
        self._poll = poll_seconds
        self._clock = clock

    def current_parameters(self, name: str) -> dict[str, str] | None:
        """The parameters the stack was last deployed with; None when it does not exist."""
        stack = self._describe(name)
        if stack is None or stack["StackStatus"] == NOT_YET_CREATED:
            return None
        return {parameter["ParameterKey"]: parameter.get("ParameterValue", "")
                for parameter in stack.get("Parameters", [])}

    def outputs(self, name: str) -> Outputs:
        stack = self._describe(name)
        if stack is None or stack["StackStatus"] == NOT_YET_CREATED:
            raise DeployError(f"stack {name} does not exist in this account and region")
        return _outputs(name, stack)

    def deploy_packaged(self, name: str, template_file: Path,
                        parameters: Mapping[str, str]) -> Deployed:
        """A template from ``pipeline.packaging.app_packages``: its artifacts uploaded first."""
        return self.deploy(name, self.uploaded(template_file), parameters)

    def uploaded(self, template_file: Path) -> dict[str, Any]:
        """A packaged template naming its artifacts in the bucket: apart from ``deploy``, so
        any number of stacks (every Platinum tenant's) deploy from one upload."""
        self._out(f"Uploading the artifacts of {template_file} to s3://{self._bucket.name} ...")
        return with_uploaded_artifacts(json.loads(template_file.read_text()),
                                       template_file.parent, self._bucket)

    def make_ready(self, name: str) -> Readiness:
        """Whether ``name`` can take a change set now; if not, what it waits for, after the
        state's one safe action was taken (see the module's docstring)."""
        stack = self._describe(name)
        status = stack["StackStatus"] if stack else ""
        if not status or status == NOT_YET_CREATED:
            return Readiness("", "CREATE")
        if status in NEEDS_OPERATOR:
            raise DeployError(
                f"stack {name} is {status}: some of its resources could not be rolled back or "
                f"deleted and may hold data; look at aws cloudformation describe-stack-events "
                f"--stack-name {name}, fix or retain them (delete-stack --retain-resources), "
                f"then deploy again")
        if status.endswith("_IN_PROGRESS"):
            return Readiness(f"busy ({status}): waiting for it to finish (never a second "
                             f"operation)")
        if status == FAILED_CREATION:
            self._calls.call(CFN, "delete_stack", StackName=name)
            return Readiness(f"its first creation failed ({status}; nothing of it is left but "
                             f"what it retains): deleting it to create it again")
        if status == ROLLBACK_STUCK:
            self._calls.call(CFN, "continue_update_rollback", StackName=name)
            return Readiness(f"its last update could not roll back ({status}): continuing the "
                             f"rollback to its last good state, then updating it again")
        return Readiness("")

    def start(self, name: str, template: dict[str, Any], parameters: Mapping[str, str],
              change_type: str) -> str:
        """A change set (of ``make_ready``'s type) for a stack it found ready; its name, or
        ``NOTHING_TO_CHANGE``."""
        source = self._template_source(name, template)
        change_set = time.strftime("deploy-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(2)
        try:
            self._calls.call(CFN, "create_change_set", StackName=name,
                             ChangeSetName=change_set, ChangeSetType=change_type,
                             Capabilities=CAPABILITIES,
                             Parameters=[{"ParameterKey": key, "ParameterValue": value}
                                         for key, value in parameters.items()],
                             **source, **self._role)
        except ClientError as error:  # some endpoints refuse an empty change set at once
            if any(text in str(error) for text in _NO_CHANGES):
                self._out(f"  {name}: no changes, nothing to deploy")
                return NOTHING_TO_CHANGE
            raise
        self._out(f"  {name}: change set {change_set} ({change_type}) created, waiting ...")
        return change_set

    def advance(self, name: str, change_set: str) -> Progress:
        """One look at a deployment ``start`` began, executing its change set once it is ready:
        what a state machine's task does between its waits."""
        if change_set == NOTHING_TO_CHANGE:
            return Progress(Phase.UNCHANGED, "no changes", self.outputs(name))
        answer = self._calls.call(CFN, "describe_change_set", StackName=name,
                                  ChangeSetName=change_set)
        status, reason = answer.get("Status", ""), answer.get("StatusReason", "")
        execution = answer.get("ExecutionStatus", "")
        if status == "FAILED":
            if any(text in reason for text in _NO_CHANGES):
                self._calls.call(CFN, "delete_change_set", StackName=name,
                                 ChangeSetName=change_set)
                return Progress(Phase.UNCHANGED, "no changes", self.outputs(name))
            return Progress(Phase.FAILED, f"change set for stack {name} failed: {reason}")
        if status != "CREATE_COMPLETE":
            return Progress(Phase.WORKING, f"change set {status}")
        if execution == "AVAILABLE":
            self._calls.call(CFN, "execute_change_set", StackName=name,
                             ChangeSetName=change_set, RetainExceptOnCreate=True)
            return Progress(Phase.WORKING, "executing")
        if execution in NEVER_EXECUTED:
            return Progress(Phase.FAILED, f"change set {change_set} of stack {name} was never "
                                          f"executed ({execution}): {reason or 'no reason'}")
        stack = self._describe(name)
        stack_status = stack["StackStatus"] if stack else "DELETED"
        if execution == EXECUTED and stack and stack_status in SUCCEEDED:
            return Progress(Phase.DEPLOYED, stack_status, _outputs(name, stack))
        if execution in (EXECUTED, EXECUTE_FAILED) and not stack_status.endswith("_IN_PROGRESS"):
            why = "; ".join(self._failure_reasons(name)) or reason or "no reason given"
            return Progress(Phase.FAILED, f"stack {name} ended {stack_status} (change set "
                                          f"{execution}): {why}")
        return Progress(Phase.WORKING, stack_status)

    def _failure_reasons(self, name: str) -> list[str]:
        """The failed events' reasons of the stack's last operation (newest first, down to the
        event that began it)."""
        reasons: list[str] = []
        for event in self._events(name, frozenset()):
            reason = event.get("ResourceStatusReason", "")
            if event["ResourceStatus"].endswith("_FAILED") and reason:
                reasons.append(f"{event['LogicalResourceId']}: {reason}")
            if event["LogicalResourceId"] == name and reason == "User Initiated":
                break
        return list(dict.fromkeys(reversed(reasons)))[:_MAX_REASONS]

    def deploy(self, name: str, template: dict[str, Any],
               parameters: Mapping[str, str]) -> Deployed:
        """Create or update ``name`` from ``template`` (artifacts already in the bucket)."""
        self._out(f"Deploying stack {name} ...")
        deadline = self._clock() + self._timeout
        said = ""
        while (readiness := self.make_ready(name)).waiting:
            if readiness.waiting != said:
                self._out(f"  {name}: {readiness.waiting}")
                said = readiness.waiting
            self._wait(name, readiness.waiting.split(":")[0], deadline)
        change_set = self.start(name, template, parameters, readiness.change_type)
        if change_set == NOTHING_TO_CHANGE:
            return Deployed(self.outputs(name), changed=False)
        if not self._change_set_ready(name, change_set, deadline):
            self._out(f"  {name}: no changes, nothing to deploy")
            # An empty change set stays listed on the stack until deleted: tidy it away.
            self._calls.call(CFN, "delete_change_set", StackName=name, ChangeSetName=change_set)
            return Deployed(self.outputs(name), changed=False)
        seen = {event["EventId"] for event in self._events(name, frozenset())}
        # Tables and pools are Retain with fixed names: a rollback would keep the ones this
        # operation created, and every later attempt would fail on "already exists". Resources
        # the failed operation created are deleted; those that existed before stay retained.
        self._calls.call(CFN, "execute_change_set", StackName=name, ChangeSetName=change_set,
                         RetainExceptOnCreate=True)
        self._out(f"  {name}: executing (events follow)")
        return Deployed(_outputs(name, self._wait_for_stack(name, change_set, seen, deadline)),
                        changed=True)

    def _template_source(self, name: str, template: dict[str, Any]) -> dict[str, str]:
        body = json.dumps(template, separators=(",", ":"))
        if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        return {"TemplateURL": self._bucket.store(body.encode(), ".json",
                                                  f"{name} template").https_url}

    def _describe(self, name: str) -> Answer | None:
        try:
            answer = self._calls.call(CFN, "describe_stacks", StackName=name)
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise
        stack: Answer = answer["Stacks"][0]
        return stack

    def _change_set_ready(self, name: str, change_set: str, deadline: float) -> bool:
        """True when there is something to execute, False when nothing changed."""
        while True:
            answer = self._calls.call(CFN, "describe_change_set", StackName=name,
                                      ChangeSetName=change_set)
            status, reason = answer["Status"], answer.get("StatusReason", "")
            if status == "CREATE_COMPLETE":
                changes = answer.get("Changes")
                more = "+" if answer.get("NextToken") else ""
                counted = f" ({len(changes)}{more} resource changes)" if changes else ""
                self._out(f"  {name}: change set ready{counted}")
                return True
            if status == "FAILED":
                if any(text in reason for text in _NO_CHANGES):
                    return False
                raise DeployError(f"change set for stack {name} failed: {reason}")
            self._wait(name, f"its change set {status}", deadline)

    def _wait_for_stack(self, name: str, change_set: str, seen: set[str],
                        deadline: float) -> Answer:
        reasons: list[str] = []
        while True:
            # Status before events: every event up to a final status is then already listed.
            stack = self._describe(name)
            if stack is None:
                raise DeployError(f"stack {name} disappeared while deploying")
            for event in reversed(list(self._events(name, frozenset(seen)))):
                seen.add(event["EventId"])
                self._out(f"    {name}: {_event_line(event)}")  # stacks may deploy at once
                reason = event.get("ResourceStatusReason")
                if event["ResourceStatus"].endswith("_FAILED") and reason:
                    reasons.append(f"{event['LogicalResourceId']}: {reason}")
            status = stack["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                execution, why = self._execution(name, change_set)
                shown = "; ".join(list(dict.fromkeys(reasons))[:_MAX_REASONS]) or why or \
                    "no reason given"
                if execution in NEVER_EXECUTED:
                    raise DeployError(f"change set {change_set} of stack {name} was never "
                                      f"executed ({execution}): {why or 'no reason given'}; "
                                      f"deploy again")
                if execution == EXECUTED and status in SUCCEEDED:
                    self._out(f"  {name}: {status}")
                    return stack
                if execution in (EXECUTED, EXECUTE_FAILED):
                    raise DeployError(f"stack {name} ended {status} (change set {execution}): "
                                      f"{shown}")
                # Not started on our change set yet: the status is the previous operation's.
            self._wait(name, status, deadline)

    def _execution(self, name: str, change_set: str) -> tuple[str, str]:
        answer = self._calls.call(CFN, "describe_change_set", StackName=name,
                                  ChangeSetName=change_set)
        return answer.get("ExecutionStatus", ""), answer.get("StatusReason", "")

    def _wait(self, name: str, state: str, deadline: float) -> None:
        """One poll interval, unless the deadline has passed: then the stack is reported as
        stuck (CloudFormation goes on with it; this run stops waiting)."""
        if self._clock() >= deadline:
            minutes = self._timeout / 60
            raise DeployError(
                f"stack {name} is still {state} after {minutes:g} minutes "
                f"(--stack-timeout-minutes): CloudFormation goes on with it; follow it with "
                f"aws cloudformation describe-stack-events --stack-name {name}, and deploy "
                f"again once it has finished")
        self._sleep(self._poll)

    def _events(self, name: str, seen: frozenset[str]) -> Iterator[Answer]:
        """The stack's events newest first, down to the first one already seen."""
        token: dict[str, str] = {}
        while True:
            answer = self._calls.call(CFN, "describe_stack_events", StackName=name, **token)
            for event in answer.get("StackEvents", []):
                if event["EventId"] in seen:
                    return
                yield event
            if not answer.get("NextToken") or not seen:
                return  # with nothing seen yet, the newest page is all that matters
            token = {"NextToken": answer["NextToken"]}


def _event_line(event: Answer) -> str:
    reason = event.get("ResourceStatusReason")
    return (f"{event['LogicalResourceId']} {event.get('ResourceType', '')} "
            f"{event['ResourceStatus']}{f' ({reason})' if reason else ''}")


def _outputs(name: str, stack: Answer) -> Outputs:
    return Outputs(name, {output["OutputKey"]: output["OutputValue"]
                          for output in stack.get("Outputs", [])})
