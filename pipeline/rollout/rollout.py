"""Running a rollout plan: the pooled deployment, then each wave with a bounded number of stacks
at once, stopping when more stacks failed than the threshold tolerates.

A failed stack stops its wave (stacks already deploying finish; the rest of the wave does not
start) and no later wave runs; every stack that finished is recorded on its row (the release
it now runs, or why it failed: a failed stack rolled back and still serves its previous
release). Between waves staff may be asked to approve the next one. The deployer is passed in
(CloudFormation on AWS, the running platform locally, doubles in tests) and so are the clock and
the record keeper, so the same runner serves every target and the benchmark.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.rollout.release_plan import RolloutPlan, Target, Wave
from tenant_context.platform.tenant_records import ReleaseResult, utc_timestamp

NOT_STARTED = "not started"  # a stack of a wave that stopped before reaching it


class StackFailure(Exception):  # noqa: N818 - read as "a stack failure: <why>"
    """A deployment that did not take the release; the message says why (for the row and the
    report)."""


class StackDeployer(Protocol):
    def deploy(self, target: Target, release_id: str) -> ReleaseResult:
        """Bring ``target`` to the release: DEPLOYED, UNCHANGED, or ``StackFailure``."""


class ReleaseRecorder(Protocol):
    def record_release(self, deployment_id: str, release_id: str, result: ReleaseResult,
                       at: str, reason: str = "") -> None: ...


Approval = Callable[[Wave], bool]
Progress = Callable[[str], None]


def always(wave: Wave) -> bool:
    return True


@dataclass(frozen=True)
class RolloutSettings:
    max_concurrency: int = 4  # stacks of one wave deploying at once
    failure_threshold: int = 0  # failed stacks tolerated; one more stops the rollout

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError("max concurrency: at least 1")
        if self.failure_threshold < 0:
            raise ValueError("failure threshold: 0 or more")


@dataclass(frozen=True)
class StackOutcome:
    target: Target
    result: str  # a ReleaseResult value, or NOT_STARTED
    seconds: float = 0.0
    reason: str = ""


@dataclass
class RolloutReport:
    release_id: str
    outcomes: list[StackOutcome] = field(default_factory=list)
    stopped: str = ""  # why the rollout stopped early; "" when it ran to the end
    seconds: float = 0.0

    @property
    def failures(self) -> list[StackOutcome]:
        return [outcome for outcome in self.outcomes
                if outcome.result == ReleaseResult.FAILED.value]


class Rollout:
    def __init__(self, deployer: StackDeployer, recorder: ReleaseRecorder, progress: Progress,
                 settings: RolloutSettings, *, approve: Approval = always,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], str] = utc_timestamp) -> None:
        self._deployer = deployer
        self._recorder = recorder
        self._progress = progress
        self._settings = settings
        self._approve = approve
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()  # the report and the progress lines
        self._done = 0

    def run(self, plan: RolloutPlan) -> RolloutReport:
        report = RolloutReport(plan.release_id)
        started = self._clock()
        total = len(plan.targets)
        self._done = 0
        if plan.pooled is not None:
            self._say(f"pooled: {plan.pooled.stack} ({plan.pooled.from_release} -> "
                      f"{plan.release_id})")
            outcome = self._deploy(plan.pooled, plan.release_id, total)
            report.outcomes.append(outcome)
            if outcome.result == ReleaseResult.FAILED.value:
                report.stopped = (f"the pooled deployment failed ({outcome.reason}): no "
                                  f"Platinum tenant's stack was touched")
        for index, wave in enumerate(plan.waves):
            if report.stopped:
                report.outcomes += [StackOutcome(target, NOT_STARTED) for target in wave.targets]
                continue
            if index and not self._approve(wave):
                report.stopped = f"wave {wave.number} was not approved"
                report.outcomes += [StackOutcome(target, NOT_STARTED) for target in wave.targets]
                continue
            self._run_wave(wave, plan.release_id, total, report)
        report.seconds = self._clock() - started
        return report

    def _run_wave(self, wave: Wave, release_id: str, total: int, report: RolloutReport) -> None:
        workers = min(self._settings.max_concurrency, len(wave.targets))
        self._say(f"wave {wave.number}: {len(wave.targets)} stack"
                  f"{'' if len(wave.targets) == 1 else 's'}, up to {workers} at once")
        stopping = threading.Event()

        def one(target: Target) -> StackOutcome:
            if stopping.is_set():
                return StackOutcome(target, NOT_STARTED)
            outcome = self._deploy(target, release_id, total)
            with self._lock:
                report.outcomes.append(outcome)
                if len(report.failures) > self._settings.failure_threshold:
                    stopping.set()
            return outcome

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rollout") as pool:
            outcomes = list(pool.map(one, wave.targets))
        report.outcomes += [outcome for outcome in outcomes if outcome.result == NOT_STARTED]
        if stopping.is_set():
            failed = report.failures
            report.stopped = (f"{len(failed)} stack{'' if len(failed) == 1 else 's'} failed "
                              f"(tolerated: {self._settings.failure_threshold}); wave "
                              f"{wave.number} stopped and no later wave ran: "
                              + "; ".join(f"{outcome.target.stack}: {outcome.reason}"
                                          for outcome in failed))

    def _deploy(self, target: Target, release_id: str, total: int) -> StackOutcome:
        started = self._clock()
        try:
            result = self._deployer.deploy(target, release_id)
            reason = ""
        except StackFailure as failure:
            result, reason = ReleaseResult.FAILED, " ".join(str(failure).split())
        seconds = self._clock() - started
        self._recorder.record_release(target.deployment_id, release_id, result, self._now(),
                                      reason)
        with self._lock:
            self._done += 1
            done = self._done
        self._say(f"  [{done}/{total}] {target.stack}: {result.value} in {seconds:.1f} s"
                  + (f": {reason}" if reason else ""))
        return StackOutcome(target, result.value, seconds, reason)

    def _say(self, line: str) -> None:
        with self._lock:
            self._progress(line)
