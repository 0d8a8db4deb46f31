"""The tenant-offboarding state machine, walked through every path with the real task
(``advancing_offboardings``' ``advance``, as the Lambda entry runs it: an exception is the
task's error, named by its class) over a scripted offboarder: done at once, the grace period
waited out in one Wait then done, an undo ending it, a failing step retried (then done, or
failed saying how to resume), an offboarding that is not there failed at once, a superseded
execution ending, and one that never ends stopped before the execution's history fills up. The
offboarder itself (every step against the emulator) is ``tests/pipeline/lifecycle``'s."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.aws_pipeline.lifecycle_tasks import SUPERSEDED, advancing_offboardings
from pipeline.lifecycle.offboarding import Advance, OffboardingStepError
from pipeline.stacks.state_machines import (
    MAX_OFFBOARDING_ADVANCES,
    MAX_WAIT_SECONDS,
    OFFBOARDING_TASKS,
    OFFBOARDING_TIMEOUT_SECONDS,
    tenant_offboarding_definition,
)
from tenant_context.platform.tenant_offboarding import OffboardingStep, TenantOffboarding
from tests.support.scripted_worker import Machine, ScriptedWorker

TENANT, OFFBOARDING_ID = "a" * 32, "o" * 32
THREE_DAYS = 3 * 24 * 3600.0


def _offboarding(step: OffboardingStep, offboarding_id: str = OFFBOARDING_ID
                 ) -> TenantOffboarding:
    return TenantOffboarding(offboarding_id, step, "staff@example.com", "t", 1_900_000_000.0)


def at(step: OffboardingStep, seconds: float = 0.0) -> Callable[[], Advance]:
    return lambda: Advance(_offboarding(step), seconds)


def failing(message: str = "the export failed") -> Callable[[], Advance]:
    def fail() -> Advance:
        raise OffboardingStepError(f"tenant {TENANT}'s offboarding failed at exporting: "
                                   f"{message}")
    return fail


MACHINE: Machine[TenantOffboarding, Advance] = Machine(
    tenant_offboarding_definition(), OFFBOARDING_TASKS,
    {"tenantId": TENANT, "offboardingId": OFFBOARDING_ID, "requestedBy": "staff@example.com"},
    "offboardingId", advancing_offboardings)


def ScriptedOffboarder(script: list[Callable[[], Advance]],  # noqa: N802 - stands for a class
                       record_offboarding_id: str = OFFBOARDING_ID
                       ) -> ScriptedWorker[TenantOffboarding, Advance]:
    return ScriptedWorker(MACHINE, lambda offboarding_id: _offboarding(
        OffboardingStep.GRACE, offboarding_id), script, record_offboarding_id)


def test_an_offboarding_done_at_once_succeeds() -> None:
    offboarder = ScriptedOffboarder([at(OffboardingStep.DONE)])
    outcome = offboarder.walk()
    assert outcome.status == "SUCCEEDED"
    assert outcome.path == ["Begin", "Advance", "IsDone", "Offboarded"]
    assert offboarder.answers == [{"done": True, "wait": 0, "step": "done"}]


def test_the_grace_period_is_one_wait_then_every_step_runs() -> None:
    """The grace (days) in one Wait of whole seconds; the steps after it at least 1 s apart
    (Step Functions' Wait takes integers; 0 would spin)."""
    offboarder = ScriptedOffboarder([at(OffboardingStep.GRACE, THREE_DAYS - 0.3),
                                     at(OffboardingStep.EXPORTING),
                                     at(OffboardingStep.ERASING),
                                     at(OffboardingStep.VERIFYING, 0.2),
                                     at(OffboardingStep.DONE)])
    outcome = offboarder.walk()
    assert outcome.status == "SUCCEEDED"
    assert [(answer["step"], answer["wait"]) for answer in offboarder.answers] == [
        ("grace", 259_200), ("exporting", 1), ("erasing", 1), ("verifying", 1), ("done", 0)]
    assert outcome.path.count("WaitForStep") == 4
    assert outcome.output["advances"] == {"value": 4}
    wait = tenant_offboarding_definition()["States"]["WaitForStep"]
    assert wait == {"Type": "Wait", "SecondsPath": "$.advance.wait", "Next": "Advance"}


def test_a_grace_longer_than_an_execution_can_wait_is_waited_in_parts() -> None:
    """The execution lives a year at most: a wait leaves it a day to erase in."""
    offboarder = ScriptedOffboarder([at(OffboardingStep.GRACE, 400 * 24 * 3600.0),
                                     at(OffboardingStep.DONE)])
    assert offboarder.walk().status == "SUCCEEDED"
    assert offboarder.answers[0]["wait"] == MAX_WAIT_SECONDS
    assert MAX_WAIT_SECONDS + 24 * 3600 == OFFBOARDING_TIMEOUT_SECONDS == 365 * 24 * 3600
    assert tenant_offboarding_definition()["TimeoutSeconds"] == OFFBOARDING_TIMEOUT_SECONDS


def test_an_offboarding_undone_in_its_grace_period_ends_the_execution() -> None:
    offboarder = ScriptedOffboarder([at(OffboardingStep.GRACE, THREE_DAYS),
                                     at(OffboardingStep.CANCELLED)])
    outcome = offboarder.walk()
    assert outcome.status == "SUCCEEDED"
    assert outcome.path[-1] == "Offboarded"
    assert offboarder.answers[-1] == {"done": True, "wait": 0, "step": "cancelled"}


def test_a_failing_step_is_retried_then_goes_on() -> None:
    offboarder = ScriptedOffboarder([failing(), failing(), at(OffboardingStep.ERASING),
                                     at(OffboardingStep.DONE)])
    outcome = offboarder.walk(throttled=1)
    assert outcome.status == "SUCCEEDED"
    assert outcome.retries == {"Advance": 3}  # throttled once, failed twice
    assert offboarder.advanced == 4


def test_a_step_failing_past_its_retries_fails_saying_how_to_resume() -> None:
    """Retried for about half an hour (a silo's stack deletion, which the verification waits
    for by failing, takes minutes), then failed."""
    offboarder = ScriptedOffboarder([failing()])
    outcome = offboarder.walk()
    assert (outcome.status, outcome.error) == ("FAILED", "OffboardingStepFailed")
    assert outcome.retries == {"Advance": 6}
    assert offboarder.advanced == 7
    (retry,) = [rule for rule in tenant_offboarding_definition()["States"]["Advance"]["Retry"]
                if rule["ErrorEquals"] == ["States.ALL"]]
    waited = sum(retry["IntervalSeconds"] * retry["BackoffRate"] ** attempt
                 for attempt in range(retry["MaxAttempts"]))
    assert 20 * 60 <= waited <= 40 * 60
    assert outcome.path[-1] == "StepFailed"
    assert "the offboarding stays at its step" in outcome.cause
    assert "GET /tenant/offboarding/<tenantId>" in outcome.cause
    assert "aws stepfunctions start-execution" in outcome.cause
    assert "<TenantOffboardingStateMachineArn>" in outcome.cause
    assert "--name <offboardingId>-resume-<n>" in outcome.cause
    assert '"offboardingId": "<offboardingId>"' in outcome.cause


def test_a_tenant_without_an_offboarding_fails_at_once() -> None:
    def missing() -> Advance:
        raise LookupError(f"tenant {TENANT} has no offboarding")

    offboarder = ScriptedOffboarder([missing])
    outcome = offboarder.walk()
    assert (outcome.status, outcome.error, outcome.retries) == (
        "FAILED", "OffboardingStepFailed", {})
    assert offboarder.advanced == 1


def test_an_execution_whose_offboarding_was_replaced_ends_without_advancing() -> None:
    """Undone, then asked again: the new one's own execution carries it out."""
    offboarder = ScriptedOffboarder([at(OffboardingStep.DONE)],
                                    record_offboarding_id="n" * 32)
    outcome = offboarder.walk()
    assert outcome.status == "SUCCEEDED"
    assert offboarder.advanced == 0
    assert offboarder.answers == [{"done": True, "wait": 0, "step": SUPERSEDED}]


def test_an_offboarding_that_never_ends_stops_before_the_history_fills() -> None:
    offboarder = ScriptedOffboarder([at(OffboardingStep.VERIFYING, 1)])
    outcome = offboarder.walk()
    assert (outcome.status, outcome.error) == ("FAILED", "OffboardingTooLong")
    assert offboarder.advanced == MAX_OFFBOARDING_ADVANCES + 1
    assert "aws stepfunctions start-execution" in outcome.cause
