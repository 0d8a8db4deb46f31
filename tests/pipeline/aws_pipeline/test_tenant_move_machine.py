"""The tenant-move state machine, walked through every path with the real task
(``advancing_moves``' ``advance``, as the Lambda entry runs it: an exception is the task's
error, named by its class) over a scripted mover: done at once, waits then done, a failing step
retried (then done, or failed saying how to resume), a move that is not there failed at once, a
superseded execution ending, and a move that never ends stopped before the execution's history
fills up. The mover itself (every step against the emulator) is ``tests/pipeline/lifecycle``'s."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.aws_pipeline.lifecycle_tasks import SUPERSEDED, advancing_moves
from pipeline.lifecycle.tenant_move import Advance, MoveStepError
from pipeline.stacks.state_machines import (
    MAX_ADVANCES,
    MOVE_TASKS,
    tenant_move_definition,
)
from tenant_context.platform.tenant_moves import MoveStep, TenantMove
from tenant_context.tenancy import Tier
from tests.support.state_machine_walker import Outcome, TaskError, Walker

TENANT, MOVE_ID = "a" * 32, "m" * 32
Script = Callable[[TenantMove], Advance]  # one advance: the step's outcome, or raises


def _move(step: MoveStep, move_id: str = MOVE_ID) -> TenantMove:
    return TenantMove(move_id, Tier.BASIC, Tier.PLATINUM, step, "admin", "t")


def done() -> Advance:
    return Advance(_move(MoveStep.DONE))


def waiting(step: MoveStep, seconds: float) -> Advance:
    return Advance(_move(step), seconds)


@dataclass
class ScriptedMover:
    """Answers each advance from the script, in turn (the last one again when it runs out)."""

    script: list[Callable[[], Advance]]
    advanced: int = 0
    record_move_id: str = MOVE_ID
    answers: list[dict[str, Any]] = field(default_factory=list)

    def get(self, tenant_id: str) -> TenantMove | None:
        assert tenant_id == TENANT
        return _move(MoveStep.REQUESTED, self.record_move_id)

    def advance(self, tenant_id: str) -> Advance:
        assert tenant_id == TENANT
        step = self.script[min(self.advanced, len(self.script) - 1)]
        self.advanced += 1
        return step()

    def walk(self, throttled: int = 0) -> Outcome:
        """``throttled``: advances Lambda throttles (its own transient error) before running."""
        tasks = advancing_moves(self, self)
        pending = [throttled]

        def lambda_task(resource: str, parameters: Any) -> Any:
            assert resource == MOVE_TASKS
            if pending[0]:
                pending[0] -= 1
                raise TaskError("Lambda.TooManyRequestsException", "Rate exceeded")
            try:
                answer = tasks.advance(parameters)
            except Exception as error:  # as Lambda reports it: the exception's class name
                raise TaskError(type(error).__name__, str(error)) from error
            self.answers.append(answer)
            return answer

        return Walker(tenant_move_definition(), lambda_task).run(
            {"tenantId": TENANT, "moveId": MOVE_ID, "fromTier": "Basic", "toTier": "Platinum"})


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
