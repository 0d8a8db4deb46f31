"""The tenant-move state machine, walked through every path with the real task
(``advancing_moves``' ``advance``, as the Lambda entry runs it: an exception is the task's
error, named by its class) over a scripted mover: done at once, waits then done, a failing step
retried (then done, or failed saying how to resume), a move that is not there failed at once, a
superseded execution ending, and a move that never ends stopped before the execution's history
fills up. The mover itself (every step against the emulator) is ``tests/pipeline/lifecycle``'s."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.aws_pipeline.lifecycle_tasks import SUPERSEDED, advancing_moves
from pipeline.lifecycle.tenant_move import Advance, MoveStepError
from pipeline.stacks.state_machines import (
    MAX_ADVANCES,
    MOVE_TASKS,
    tenant_move_definition,
)
from tenant_context.platform.tenant_moves import MoveStep, TenantMove
from tenant_context.tenancy import Tier
from tests.support.scripted_worker import Machine, ScriptedWorker

TENANT, MOVE_ID = "a" * 32, "m" * 32
Script = Callable[[TenantMove], Advance]  # one advance: the step's outcome, or raises


def _move(step: MoveStep, move_id: str = MOVE_ID) -> TenantMove:
    return TenantMove(move_id, Tier.BASIC, Tier.PLATINUM, step, "admin", "t")


def done() -> Advance:
    return Advance(_move(MoveStep.DONE))


def waiting(step: MoveStep, seconds: float) -> Advance:
    return Advance(_move(step), seconds)


MACHINE: Machine[TenantMove, Advance] = Machine(
    tenant_move_definition(), MOVE_TASKS,
    {"tenantId": TENANT, "moveId": MOVE_ID, "fromTier": "Basic", "toTier": "Platinum"},
    "moveId", advancing_moves)


def ScriptedMover(script: list[Callable[[], Advance]],  # noqa: N802 - stands for a class
                  record_move_id: str = MOVE_ID) -> ScriptedWorker[TenantMove, Advance]:
    return ScriptedWorker(MACHINE, lambda move_id: _move(MoveStep.REQUESTED, move_id), script,
                          record_move_id)


def failing(message: str = "the copy failed") -> Callable[[], Advance]:
    def fail() -> Advance:
        raise MoveStepError(f"tenant {TENANT}'s move failed at copying: {message}")
    return fail


def test_a_move_done_at_once_succeeds() -> None:
    mover = ScriptedMover([done])
    outcome = mover.walk()
    assert outcome.status == "SUCCEEDED"
    assert outcome.path == ["Begin", "Advance", "IsDone", "Moved"]
    assert mover.answers == [{"done": True, "wait": 0, "step": "done"}]


def test_the_machine_waits_what_each_step_asks_then_advances_again() -> None:
    """Whole seconds, at least one (Step Functions' Wait takes integers; 0 would spin)."""
    mover = ScriptedMover([lambda: waiting(MoveStep.KEYING, 0),
                           lambda: waiting(MoveStep.PROVISIONING, 30),
                           lambda: waiting(MoveStep.COPYING, 60.2),
                           lambda: waiting(MoveStep.SETTLING, 0.4), done])
    outcome = mover.walk()
    assert outcome.status == "SUCCEEDED"
    assert [(answer["step"], answer["wait"]) for answer in mover.answers] == [
        ("keying", 1), ("provisioning", 30), ("copying", 61), ("settling", 1), ("done", 0)]
    assert outcome.path.count("WaitForStep") == 4
    assert outcome.output["advances"] == {"value": 4}
    wait = tenant_move_definition()["States"]["WaitForStep"]
    assert wait == {"Type": "Wait", "SecondsPath": "$.advance.wait", "Next": "Advance"}


def test_a_failing_step_is_retried_then_goes_on() -> None:
    mover = ScriptedMover([failing(), failing(), lambda: waiting(MoveStep.SWITCHING, 0), done])
    outcome = mover.walk(throttled=1)
    assert outcome.status == "SUCCEEDED"
    assert outcome.retries == {"Advance": 3}  # throttled once, failed twice
    assert mover.advanced == 4


def test_a_step_failing_past_its_retries_fails_saying_how_to_resume() -> None:
    mover = ScriptedMover([failing()])
    outcome = mover.walk()
    assert (outcome.status, outcome.error) == ("FAILED", "MoveStepFailed")
    assert outcome.retries == {"Advance": 4}
    assert mover.advanced == 5
    assert outcome.path[-1] == "StepFailed"
    assert "the move stays at its step" in outcome.cause
    assert "GET /tenant/move/<tenantId>" in outcome.cause
    assert "aws stepfunctions start-execution" in outcome.cause
    assert '--name <moveId>-resume-<n>' in outcome.cause


def test_a_tenant_without_a_move_fails_at_once() -> None:
    def missing() -> Advance:
        raise LookupError(f"tenant {TENANT} has no move")

    mover = ScriptedMover([missing])
    outcome = mover.walk()
    assert (outcome.status, outcome.error, outcome.retries) == ("FAILED", "MoveStepFailed", {})
    assert mover.advanced == 1


def test_an_execution_whose_move_was_replaced_ends_without_advancing() -> None:
    """Its move finished and staff asked for another, which its own execution carries out."""
    mover = ScriptedMover([done], record_move_id="n" * 32)
    outcome = mover.walk()
    assert outcome.status == "SUCCEEDED"
    assert mover.advanced == 0
    assert mover.answers == [{"done": True, "wait": 0, "step": SUPERSEDED}]


def test_a_move_that_never_ends_stops_before_the_history_fills() -> None:
    mover = ScriptedMover([lambda: waiting(MoveStep.PROVISIONING, 30)])
    outcome = mover.walk()
    assert (outcome.status, outcome.error) == ("FAILED", "MoveTooLong")
    assert mover.advanced == MAX_ADVANCES + 1
    assert "aws stepfunctions start-execution" in outcome.cause
