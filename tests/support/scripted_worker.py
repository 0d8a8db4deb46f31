"""A scripted mover or offboarder, walked through its state machine with the real advancing
task (``pipeline.aws_pipeline.lifecycle_tasks``, as the Lambda entry runs it: an exception is
the task's error, named by its class). The tenant-move and tenant-offboarding machine tests
share it: the two machines have one shape, and only the work (its record, its steps) differs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pipeline.aws_pipeline.lifecycle_tasks import AdvancingTask, Records, Worker
from tests.support.state_machine_walker import Outcome, TaskError, Walker

Work = TypeVar("Work")
Advanced = TypeVar("Advanced")


@dataclass(frozen=True)
class Machine(Generic[Work, Advanced]):
    """One kind's machine: its definition, its task's resource, the execution's input, and the
    task over a record and a worker."""

    definition: Mapping[str, Any]
    resource: str
    execution_input: Mapping[str, Any]
    id_field: str
    task: Callable[[Records[Work], Worker[Advanced]], AdvancingTask]


@dataclass
class ScriptedWorker(Generic[Work, Advanced]):
    """Answers each advance from the script, in turn (the last one again when it runs out);
    the record holds ``work(record_id)``."""

    machine: Machine[Work, Advanced]
    work: Callable[[str], Work]
    script: list[Callable[[], Advanced]]
    record_id: str
    advanced: int = 0
    answers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tenant(self) -> str:
        return str(self.machine.execution_input["tenantId"])

    def get(self, tenant_id: str) -> Work | None:
        assert tenant_id == self.tenant
        return self.work(self.record_id)

    def advance(self, tenant_id: str) -> Advanced:
        assert tenant_id == self.tenant
        step = self.script[min(self.advanced, len(self.script) - 1)]
        self.advanced += 1
        return step()

    def walk(self, throttled: int = 0) -> Outcome:
        """``throttled``: advances Lambda throttles (its own transient error) before running."""
        tasks = self.machine.task(self, self)
        pending = [throttled]
        field_ = self.machine.id_field

        def lambda_task(resource: str, parameters: Any) -> Any:
            assert resource == self.machine.resource
            assert parameters == {"tenantId": self.tenant,
                                  field_: self.machine.execution_input[field_]}
            if pending[0]:
                pending[0] -= 1
                raise TaskError("Lambda.TooManyRequestsException", "Rate exceeded")
            try:
                answer = tasks.advance(parameters)
            except Exception as error:  # as Lambda reports it: the exception's class name
                raise TaskError(type(error).__name__, str(error)) from error
            self.answers.append(answer)
            return answer

        return Walker(dict(self.machine.definition), lambda_task).run(
            dict(self.machine.execution_input))
