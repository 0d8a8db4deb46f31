"""When AWS or the admin API says no: a failed stack's reasons become the one error line; stacks
that cannot be deployed are refused with what to do; a refused registration is its message; and
a run without --dry-run does connect (so the dry-run tests' "no connection" is a real check)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline.deploy.aws.account_checks import AccountChecks, silo_reservation
from pipeline.deploy.aws.admin_api_http import HttpAnswer
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import Answer, DryRunCalls
from pipeline.deploy.aws.change_sets import Phase, Stacks
from pipeline.deploy.aws.console import Summary
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.deploy_tenants import deploy_tenants
from pipeline.deploy.aws.onboard_tenant import (
    SILO_PARAMETERS_FROM_POOLED,
    TenantRequest,
    onboard_tenant,
)
from pipeline.deploy.aws.placeholders import PretendAws
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import DeploymentRecord, DeploymentStatus, DesiredState
from tenant_context.tenancy import Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.pipeline.deploy.conftest import Cli, Connections
from tests.support.clock import FakeClock

MISSING = ClientError({"Error": {"Code": "ValidationError",
                                 "Message": "Stack with id s does not exist"}}, "DescribeStacks")


class ScriptedCalls:
    """AWS as a script: each operation answers its next scripted answer (or raises it)."""

    def __init__(self, script: Mapping[str, list[Any]]) -> None:
        self._script = {operation: list(answers) for operation, answers in script.items()}
        self.operations: list[str] = []

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        self.operations.append(operation)
        answer = self._script[operation].pop(0)
        if isinstance(answer, Exception):
            raise answer
        result: Answer = answer
        return result


def _event(number: int, logical_id: str, status: str, reason: str = "") -> dict[str, Any]:
    kind = "AWS::CloudFormation::Stack" if logical_id == "s" else "AWS::DynamoDB::Table"
    return {"EventId": f"e{number}", "LogicalResourceId": logical_id, "ResourceStatus": status,
            "ResourceType": kind, **({"ResourceStatusReason": reason} if reason else {})}


def _stack(status: str) -> dict[str, Any]:
    return {"Stacks": [{"StackName": "s", "StackStatus": status}]}


def _stacks(calls: ScriptedCalls, lines: list[str], clock: FakeClock | None = None,
            timeout_seconds: float = 3600) -> Stacks:
    bucket = DeploymentBucket(calls, "artifacts", "p", "eu-west-1", lines.append)
    clock = clock or FakeClock(0.0)
    return Stacks(calls, bucket, lines.append, timeout_seconds, sleep=clock.advance,
                  clock=clock)


# An update whose change set is ready; then what the stack and the change set answer.
_UPDATE_READY: dict[str, list[Any]] = {"create_change_set": [{}], "execute_change_set": [{}],
                                       "describe_stack_events": [{"StackEvents": []}] * 50}


def test_a_stack_that_never_settles_ends_with_the_timeout_naming_it() -> None:
    """Past ``timeout_seconds`` the run stops waiting and says which stack, in what state,
    and how to follow it: CloudFormation goes on without us."""
    clock = FakeClock(0.0)
    calls = ScriptedCalls({**_UPDATE_READY,
                           "describe_stacks": [_stack("UPDATE_COMPLETE")]
                           + [_stack("UPDATE_IN_PROGRESS")] * 40,
                           "describe_change_set": [{"Status": "CREATE_COMPLETE"}]})

    with pytest.raises(DeployError) as raised:
        _stacks(calls, [], clock, timeout_seconds=60).deploy("s", {"Resources": {}}, {})

    assert str(raised.value).startswith("stack s is still UPDATE_IN_PROGRESS after 1 minutes "
                                        "(--stack-timeout-minutes)")
    assert "describe-stack-events --stack-name s" in str(raised.value)
    assert 60 <= clock() <= 65  # one poll past the deadline at most


@pytest.mark.parametrize(("execution", "reported"), [
    ({"ExecutionStatus": "EXECUTE_FAILED", "StatusReason": "Resource is not in the state "
      "stackUpdateComplete"}, "stack s ended UPDATE_COMPLETE (change set EXECUTE_FAILED): "
                              "Resource is not in the state stackUpdateComplete"),
    ({"ExecutionStatus": "OBSOLETE", "StatusReason": "the stack changed"},
     "was never executed (OBSOLETE): the stack changed"),
])
def test_a_change_set_that_did_not_run_is_never_success(execution: dict[str, str],
                                                        reported: str) -> None:
    """The stack still shows its previous UPDATE_COMPLETE: only the change set says that ours
    failed, or never ran."""
    calls = ScriptedCalls({**_UPDATE_READY,
                           "describe_stacks": [_stack("UPDATE_COMPLETE")] * 2,
                           "describe_change_set": [{"Status": "CREATE_COMPLETE"}, execution]})

    with pytest.raises(DeployError) as raised:
        _stacks(calls, []).deploy("s", {"Resources": {}}, {})

    assert reported in str(raised.value)


def test_a_stack_not_yet_on_our_change_set_is_waited_for() -> None:
    """Right after ExecuteChangeSet the stack may still show the previous operation's status:
    the run waits until the change set has run."""
    lines: list[str] = []
    calls = ScriptedCalls({**_UPDATE_READY,
                           "describe_stacks": [_stack("UPDATE_COMPLETE"), _stack("UPDATE_COMPLETE"),
                                               _stack("UPDATE_IN_PROGRESS"),
                                               _stack("UPDATE_COMPLETE")],
                           "describe_change_set": [{"Status": "CREATE_COMPLETE"},
                                                   {"ExecutionStatus": "AVAILABLE"},
                                                   {"ExecutionStatus": "EXECUTE_COMPLETE"}]})

    assert _stacks(calls, lines).deploy("s", {"Resources": {}}, {}).changed
    assert calls.operations.count("describe_stacks") == 4
    assert "  s: UPDATE_COMPLETE" in lines


def test_a_failed_stack_is_reported_with_its_failed_events_reasons() -> None:
    review = _event(0, "s", "REVIEW_IN_PROGRESS")
    started = _event(1, "Table", "CREATE_IN_PROGRESS")
    failed = _event(2, "Table", "CREATE_FAILED", "Resource handler returned message: "
                                                 "\"Table already exists: orders\"")
    rolled_back = _event(3, "s", "ROLLBACK_COMPLETE")
    calls = ScriptedCalls({
        "describe_stacks": [MISSING, _stack("CREATE_IN_PROGRESS"), _stack("ROLLBACK_COMPLETE")],
        "create_change_set": [{}],
        "describe_change_set": [{"Status": "CREATE_PENDING"},
                                {"Status": "CREATE_COMPLETE", "Changes": [{}, {}]},
                                {"ExecutionStatus": "EXECUTE_FAILED"}],
        "describe_stack_events": [{"StackEvents": [review]},
                                  {"StackEvents": [started, review]},
                                  {"StackEvents": [rolled_back, failed, started, review]}],
        "execute_change_set": [{}],
    })
    lines: list[str] = []

    with pytest.raises(DeployError) as raised:
        _stacks(calls, lines).deploy("s", {"Resources": {}}, {})

    assert str(raised.value) == ('stack s ended ROLLBACK_COMPLETE (change set EXECUTE_FAILED): '
                                 'Table: Resource handler returned message: "Table already '
                                 'exists: orders"')
    assert "  s: change set ready (2 resource changes)" in lines
    events = [line.strip() for line in lines if line.startswith("    ")]
    assert events == [  # each event once, oldest first, none from before the execution
        "s: Table AWS::DynamoDB::Table CREATE_IN_PROGRESS",
        's: Table AWS::DynamoDB::Table CREATE_FAILED (Resource handler returned message: '
        '"Table already exists: orders")',
        "s: s AWS::CloudFormation::Stack ROLLBACK_COMPLETE",
    ]  # each named by its stack: a rollout deploys several at once


# A change set that is ready at once, executes and completes.
def _update_that_succeeds(final: str = "UPDATE_COMPLETE") -> dict[str, list[Any]]:
    return {"create_change_set": [{}], "execute_change_set": [{}],
            "describe_stack_events": [{"StackEvents": []}] * 10,
            "describe_change_set": [{"Status": "CREATE_COMPLETE"},
                                    {"ExecutionStatus": "EXECUTE_COMPLETE"}]}


@pytest.mark.parametrize(("before", "action", "said"), [
    # Busy: waited for, nothing done to it meanwhile.
    (["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"], None,
     "busy (UPDATE_IN_PROGRESS): waiting for it to finish (never a second operation)"),
    # A first creation that failed: deleted (nothing of it is left), then created again.
    (["ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", MISSING], "delete_stack",
     "its first creation failed (ROLLBACK_COMPLETE; nothing of it is left but what it "
     "retains): deleting it to create it again"),
    # An update that could not roll back: the rollback is continued, then the update made.
    (["UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"],
     "continue_update_rollback", "its last update could not roll back"),
])
def test_a_stuck_stack_gets_its_safe_action_then_the_deployment(
        before: list[Any], action: str | None, said: str) -> None:
    states = [state if isinstance(state, Exception) else _stack(state) for state in before]
    created = isinstance(before[-1], Exception)
    calls = ScriptedCalls({**_update_that_succeeds(),
                           "describe_stacks": [*states, _stack("CREATE_COMPLETE" if created
                                                              else "UPDATE_COMPLETE")] * 2,
                           "delete_stack": [{}], "continue_update_rollback": [{}]})
    lines: list[str] = []

    assert _stacks(calls, lines).deploy("s", {"Resources": {}}, {}).changed

    first_change = calls.operations.index("create_change_set")
    done_before = [operation for operation in calls.operations[:first_change]
                   if operation != "describe_stacks"]
    assert done_before == ([action] if action else [])  # one safe action, once
    assert any(said in line for line in lines), lines
    assert "delete_stack" not in calls.operations[first_change:]


@pytest.mark.parametrize("status", ["ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"])
def test_a_stack_only_an_operator_can_repair_is_refused_with_what_to_look_at(status: str) -> None:
    calls = ScriptedCalls({"describe_stacks": [_stack(status)]})

    with pytest.raises(DeployError) as raised:
        _stacks(calls, []).deploy("s", {"Resources": {}}, {})

    assert str(raised.value).startswith(f"stack s is {status}: some of its resources could not "
                                        f"be rolled back or deleted and may hold data")
    assert "describe-stack-events --stack-name s" in str(raised.value)
    assert calls.operations == ["describe_stacks"]  # nothing was changed, nothing deleted


def test_a_stack_busy_past_the_timeout_is_reported_stuck_and_left_alone() -> None:
    clock = FakeClock(0.0)
    calls = ScriptedCalls({"describe_stacks": [_stack("UPDATE_IN_PROGRESS")] * 40})

    with pytest.raises(DeployError, match=r"stack s is still busy \(UPDATE_IN_PROGRESS\) after 1 "
                                          r"minutes"):
        _stacks(calls, [], clock, timeout_seconds=60).deploy("s", {"Resources": {}}, {})

    assert set(calls.operations) == {"describe_stacks"}


def test_the_steps_a_state_machine_takes_one_at_a_time() -> None:
    """``advance``: each call one look (the state machine waits between them), executing the
    change set once it is ready and naming the failed events' reasons at the end."""
    begun = _event(0, "s", "UPDATE_IN_PROGRESS", "User Initiated")
    older = _event(9, "Old", "UPDATE_FAILED", "from an earlier operation")
    failed = _event(2, "ProductFunction", "UPDATE_FAILED", "Resource limit exceeded")
    calls = ScriptedCalls({
        "describe_change_set": [{"Status": "CREATE_PENDING"},
                                {"Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE"},
                                {"Status": "CREATE_COMPLETE",
                                 "ExecutionStatus": "EXECUTE_IN_PROGRESS"},
                                {"Status": "CREATE_COMPLETE", "ExecutionStatus": "EXECUTE_FAILED"}],
        "execute_change_set": [{}],
        "describe_stacks": [_stack("UPDATE_IN_PROGRESS"), _stack("UPDATE_ROLLBACK_COMPLETE")],
        "describe_stack_events": [{"StackEvents": [_event(3, "s", "UPDATE_ROLLBACK_COMPLETE"),
                                                   failed, begun, older]}],
    })
    stacks = _stacks(calls, [])
    phases = [stacks.advance("s", "cs") for _ in range(4)]

    assert [progress.phase for progress in phases] == [Phase.WORKING] * 3 + [Phase.FAILED]
    assert calls.operations.count("execute_change_set") == 1
    assert phases[-1].detail == ("stack s ended UPDATE_ROLLBACK_COMPLETE (change set "
                                 "EXECUTE_FAILED): ProductFunction: Resource limit exceeded")


def test_a_step_with_nothing_to_change_is_unchanged_and_tidies_its_change_set() -> None:
    calls = ScriptedCalls({
        "describe_change_set": [{"Status": "FAILED",
                                 "StatusReason": "The submitted information didn't contain "
                                                 "changes."}],
        "delete_change_set": [{}],
        "describe_stacks": [{"Stacks": [{"StackName": "s", "StackStatus": "UPDATE_COMPLETE",
                                         "Outputs": [{"OutputKey": "Url",
                                                      "OutputValue": "https://s"}]}]}],
    })
    progress = _stacks(calls, []).advance("s", "cs")
    assert progress.phase is Phase.UNCHANGED
    assert progress.outputs is not None
    assert progress.outputs["Url"] == "https://s"
    assert "delete_change_set" in calls.operations


def test_a_change_set_that_fails_for_a_reason_other_than_no_changes_is_an_error() -> None:
    calls = ScriptedCalls({
        "describe_stacks": [_stack("UPDATE_COMPLETE")], "create_change_set": [{}],
        "describe_change_set": [{"Status": "FAILED",
                                 "StatusReason": "Template format error: Unresolved resource"}],
    })

    with pytest.raises(DeployError, match="Template format error: Unresolved resource"):
        _stacks(calls, []).deploy("s", {"Resources": {}}, {})


def test_without_dry_run_the_same_command_connects(
        cli: Cli, no_aws: Connections, packaged_dist: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    run = cli(["pooled", "--target", "aws", "--bucket", "artifacts", "--region", "eu-west-1",
               "--admin-email", "ops@example.com", "--dist", str(packaged_dist)])

    assert run.code == 1
    assert no_aws.attempted != []
    (error,) = run.err
    assert "Could not connect to the endpoint URL" in error


class AdminApi:
    """The admin API as a script of answers, keyed by method (what the deployer asked noted)."""

    def __init__(self, answers: dict[str, HttpAnswer]) -> None:
        self._answers = answers
        self.asked: list[str] = []

    def request(self, method: str, url: str, body: dict[str, Any] | None = None) -> HttpAnswer:
        self.asked.append(f"{method} {url}")
        return self._answers[method]


def _pooled_stack_deployed(lines: list[str]) -> Stacks:
    """Stacks over the dry run's pretend AWS, in which the pooled stack is up."""
    pretend = PretendAws(lambda stack: ["AdminApiUrl", *SILO_PARAMETERS_FROM_POOLED.values(),
                                        "TenantApiUrl"], existing_stacks=[POOLED_STACK_NAME])
    calls = DryRunCalls(pretend, lines.append)
    return Stacks(calls, DeploymentBucket(calls, "artifacts", "p", "eu-west-1", lines.append),
                  lines.append, sleep=lambda _: None)


def _account(lines: list[str]) -> AccountChecks:
    """The dry run's pretend account (its figures unknown: nothing is refused)."""
    return AccountChecks(DryRunCalls(PretendAws(lambda stack: []), lines.append), "eu-west-1",
                         lines.append)


def test_a_refused_registration_is_its_message(tmp_path: Path) -> None:
    api = AdminApi({"POST": HttpAnswer(409, {"message": "Tenant name 'Acme' is taken"})})
    lines: list[str] = []
    request = TenantRequest("Acme", "owner@acme.example", Tier.PLATINUM)

    with pytest.raises(DeployError) as raised:
        onboard_tenant(request, tmp_path / "unused.json", api, _pooled_stack_deployed(lines),
                       lines.append, _account(lines), StackSettings(), _unclaimed())

    assert str(raised.value) == "registration refused (409): Tenant name 'Acme' is taken"
    assert not any("create_change_set" in line for line in lines)  # no stack for a refusal


def _unclaimed() -> RowClaims:
    """Claims no test here reaches: one would fail on its unscripted call."""
    return RowClaims(ScriptedCalls({}))


def _onboard_again(tmp_path: Path, tenant_id: str, tier: str, api_url: str
                   ) -> tuple[Summary, list[str], AdminApi]:
    """Onboarding (asked for Platinum) whose registration answers 200: an identical earlier
    registration of a tenant of ``tier``."""
    tenant = {"tenantId": tenant_id, "tenantName": "Acme", "tenantTier": tier,
              "tenantAdminUserName": f"tenant-admin-{tenant_id}", "message": "exists"}
    api = AdminApi({"POST": HttpAnswer(200, tenant),
                    "GET": HttpAnswer(200, {"userPoolId": "pool", "appClientId": "client",
                                            "apiGatewayUrl": api_url})})
    lines: list[str] = []
    request = TenantRequest("Acme", "owner@acme.example", Tier.PLATINUM)
    summary = onboard_tenant(request, tmp_path / "unused.json", api,
                             _pooled_stack_deployed(lines), lines.append, _account(lines),
                             StackSettings(), _unclaimed())
    return summary, lines, api


def test_a_repeated_registration_of_a_pooled_tenant_deploys_no_stack(tmp_path: Path) -> None:
    """Asked for Platinum, but the name and email are an existing Basic tenant's (200): the
    registered tier decides."""
    summary, lines, api = _onboard_again(tmp_path, "0" * 32, "Basic", "https://pooled.example")

    assert not any("create_change_set" in line for line in lines)
    assert "  registered as tenant 00000000000000000000000000000000 (earlier, with the same " \
           "name and email)" in lines
    assert ("tenant API", "https://pooled.example") in summary.rows
    assert api.asked[-1].endswith("/tenant/init/Acme")


def test_a_repeated_registration_of_a_platinum_tenant_leaves_its_stack_to_deploy_tenants(
        tmp_path: Path) -> None:
    """The tenant may have been deactivated since its first onboarding: deploying its stack
    with the template's default (running) would start its services again."""
    tenant_id = "1" * 32
    summary, lines, _ = _onboard_again(tmp_path, tenant_id, "Platinum", "https://big.example")

    assert not any("create_change_set" in line for line in lines)
    assert ("own stack", f"stack-{tenant_id}") in summary.rows
    assert ("tenant API", "https://big.example") in summary.rows
    assert any(f"make deploy-tenants TARGET=aws TENANT_ID={tenant_id}" in note
               for note in summary.notes)


class Account:
    """An account's figures, as Lambda's and API Gateway's account reads answer them (the
    emulator has neither); what was read is noted."""

    def __init__(self, unreserved: int, api_gateway_role: str = "", api_keys: int = 3) -> None:
        self._unreserved = unreserved
        self._role = api_gateway_role
        self._keys = api_keys
        self.read: list[str] = []

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        self.read.append(f"{service}.{operation}")
        if operation == "get_api_keys":  # pages of at most `limit`, as API Gateway serves them
            start = int(params.get("position") or 0)
            end = min(self._keys, start + params["limit"])
            return {"items": [{"id": f"k{index}"} for index in range(start, end)],
                    **({"position": str(end)} if end < self._keys else {})}
        if operation == "get_account_settings":
            return {"AccountLimit": {"ConcurrentExecutions": 1000,
                                     "UnreservedConcurrentExecutions": self._unreserved}}
        if operation == "get_account":
            return {"cloudwatchRoleArn": self._role} if self._role else {}
        raise AssertionError(f"an account check made {service}.{operation}")


def test_a_platinum_stack_the_account_cannot_hold_is_refused_before_registering(
        tmp_path: Path) -> None:
    """Lambda keeps 100 executions unreserved: with 150 unreserved, one more silo reserving
    ReservedConcurrency for each of its functions cannot fit, and the refusal names the
    numbers and the fixes. Nothing is registered and no stack is touched."""
    needed = silo_reservation()
    account, lines = Account(unreserved=needed + 99), list[str]()
    api = AdminApi({})
    request = TenantRequest("Acme", "owner@acme.example", Tier.PLATINUM)

    with pytest.raises(DeployError) as raised:
        onboard_tenant(request, tmp_path / "unused.json", api, _pooled_stack_deployed(lines),
                       lines.append, AccountChecks(account, "eu-west-1", lines.append),
                       StackSettings(), _unclaimed())

    message = str(raised.value)
    per_function = needed // len(TENANT_SERVICES)
    assert f"reserve {needed} concurrent executions ({per_function} for each of " \
           f"{len(TENANT_SERVICES)} functions)" in message
    assert f"the account has {needed + 99} unreserved" in message
    assert "raise the account's quota" in message
    assert "lower ReservedConcurrency" in message
    assert account.read == ["apigateway.get_api_keys", "lambda.get_account_settings"]
    assert api.asked == []
    assert not any("create_change_set" in line for line in lines)


@pytest.mark.parametrize(("spare", "refused"), [(-1, True), (0, False)])
def test_the_concurrency_check_counts_every_function_of_every_new_silo(
        spare: int, refused: bool) -> None:
    """Two new silos at the default 50 for each of their functions (one per registered
    service): refused one execution short of Lambda's 100 unreserved, accepted at exactly."""
    needed = 2 * 50 * len(TENANT_SERVICES)
    assert silo_reservation() * 2 == needed
    unreserved = 100 + needed + spare
    lines: list[str] = []
    check = AccountChecks(Account(unreserved), "eu-west-1", lines.append)
    if refused:
        with pytest.raises(DeployError, match="not enough Lambda concurrency"):
            check.silo_concurrency(new_silos=2)
    else:
        check.silo_concurrency(new_silos=2)
        assert lines == [f"  account: {unreserved} unreserved concurrent executions in "
                         f"eu-west-1, {needed} to reserve: enough"]


def test_a_pooled_tier_tenant_needs_no_concurrency_read(tmp_path: Path) -> None:
    account, lines = Account(unreserved=0), list[str]()
    api = AdminApi({"POST": HttpAnswer(409, {"message": "taken"})})
    with pytest.raises(DeployError, match="registration refused"):
        onboard_tenant(TenantRequest("Acme", "owner@acme.example", Tier.BASIC),
                       tmp_path / "unused.json", api, _pooled_stack_deployed(lines),
                       lines.append, AccountChecks(account, "eu-west-1", lines.append),
                       StackSettings(), _unclaimed())
    assert account.read == ["apigateway.get_api_keys"]


@pytest.mark.parametrize(("used", "refused"), [(10_000, True), (9_999, False)])
def test_onboarding_is_refused_when_the_regions_api_keys_are_used_up(
        tmp_path: Path, used: int, refused: bool) -> None:
    """Every tenant needs a key of its own: at API Gateway's 10,000 keys per region the
    registration would be refused, so onboarding stops first, counting every page."""
    account, lines = Account(unreserved=10_000, api_keys=used), list[str]()
    api = AdminApi({"POST": HttpAnswer(409, {"message": "taken"})})
    checks = AccountChecks(account, "eu-west-1", lines.append)
    with pytest.raises(DeployError, match="API keys" if refused else "registration refused"
                       ) as raised:
        onboard_tenant(TenantRequest("Acme", "owner@acme.example", Tier.BASIC),
                       tmp_path / "unused.json", api, _pooled_stack_deployed(lines),
                       lines.append, checks, StackSettings(), _unclaimed())
    assert account.read == ["apigateway.get_api_keys"] * 20  # 500 a page
    if refused:
        assert "holds 10,000 API keys of the account's 10,000" in str(raised.value)
        assert "Service Quotas" in str(raised.value)
        assert api.asked == []
    else:
        assert "  account: 9,999 of 10,000 API keys used in eu-west-1, 1 to add (past 80 %: " \
               "ask for a higher quota now)" in lines


def test_a_release_that_would_create_silos_the_account_cannot_hold_deploys_none(
        tmp_path: Path) -> None:
    """Two recorded tenants whose stacks do not exist yet (onboarding never got to them), one
    to run and one stopped: only the running one reserves concurrency, and with room for
    none the release stops before uploading or deploying anything."""
    waiting, stopped = "c" * 32, "d" * 32
    rows = [DeploymentRecord(waiting, stack_name(waiting), frozenset(), "",
                             status=DeploymentStatus.PROVISIONING),
            DeploymentRecord(stopped, stack_name(stopped), frozenset(), "",
                             status=DeploymentStatus.PROVISIONING,
                             desired_state=DesiredState.STOPPED)]
    lines: list[str] = []
    pretend = PretendAws(lambda stack: [*SILO_PARAMETERS_FROM_POOLED.values(), "TenantApiUrl"],
                         existing_stacks=[POOLED_STACK_NAME], deployment_rows=rows)
    calls = DryRunCalls(pretend, lines.append)
    stacks = Stacks(calls, DeploymentBucket(calls, "artifacts", "p", "eu-west-1", lines.append),
                    lines.append, sleep=lambda _: None)
    account = Account(unreserved=100 + silo_reservation() - 1)

    with pytest.raises(DeployError, match=f"1 new Platinum stack\\(s\\) reserve "
                                          f"{silo_reservation()} concurrent executions"):
        deploy_tenants(tmp_path / "unused.json", [], calls, stacks, lines.append,
                       StackSettings(), AccountChecks(account, "eu-west-1", lines.append))

    assert account.read == ["lambda.get_account_settings"]
    assert not any("s3.put_object" in line or "create_change_set" in line for line in lines)
