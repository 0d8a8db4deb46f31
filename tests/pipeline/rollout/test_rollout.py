"""The rollout runner with a deployer double (which stacks fail, how long each takes) and the
real rows in the emulator's tenant-stack-mapping table: waves in order, at most N stacks at
once, a failure that stops its wave and every later one, approval between waves, and every
finished stack recorded on its row."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from pipeline.rollout.release_plan import Target, Wave, plan_rollout
from pipeline.rollout.release_tables import fleet_lines, rollout_lines
from pipeline.rollout.rollout import (
    NOT_STARTED,
    Approval,
    Rollout,
    RolloutSettings,
    StackFailure,
    always,
)
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings
from tenant_context.platform.tenant_records import DeploymentRecord, ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT, new_tenant_id
from tests.support.world import World


@dataclass
class Deployer:
    failing: set[str] = field(default_factory=set)
    seconds: float = 0.0
    order: list[str] = field(default_factory=list)
    at_once: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deploy(self, target: Target, release_id: str) -> ReleaseResult:
        with self.lock:
            self.order.append(target.deployment_id)
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        time.sleep(self.seconds)
        with self.lock:
            self.at_once -= 1
        if target.deployment_id in self.failing:
            raise StackFailure("ProductFunction: the canary's alarm went off (rolled back)")
        return ReleaseResult.DEPLOYED


class PooledRow:
    """The session's pooled row belongs to every test: a test rolls out to its own tenants
    and records the pooled outcome here instead."""

    def __init__(self, deployments: Deployments) -> None:
        self.deployments = deployments
        self.pooled: list[tuple[str, ReleaseResult]] = []

    def record_release(self, deployment_id: str, release_id: str, result: ReleaseResult,
                       at: str, reason: str = "") -> None:
        if deployment_id == POOLED_DEPLOYMENT:
            self.pooled.append((release_id, result))
        else:
            self.deployments.record_release(deployment_id, release_id, result, at, reason)


@pytest.fixture
def deployments(world: World) -> Deployments:
    return Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)


def fleet(deployments: Deployments, waves: list[int | None]) -> list[str]:
    """Active Platinum rows in the given waves (None: the last), on release r1."""
    ids = []
    for wave in waves:
        tenant_id = new_tenant_id()
        deployments.request(tenant_id)
        deployments.record_active(tenant_id, frozenset({"api"}), f"https://{tenant_id}")
        deployments.record_release(tenant_id, "r1", ReleaseResult.DEPLOYED, "t0")
        if wave is not None:
            deployments.set_release_settings(tenant_id, ReleaseSettings(wave=wave))
        ids.append(tenant_id)
    return ids


def rows_of(deployments: Deployments, ids: list[str]) -> list[DeploymentRecord]:
    pooled = deployments.get(POOLED_DEPLOYMENT)
    assert pooled is not None
    found = [deployments.get(tenant_id) for tenant_id in ids]
    assert all(found)
    return [pooled, *(row for row in found if row)]


def released(deployments: Deployments, tenant_id: str) -> tuple[str, str | None]:
    row = deployments.get(tenant_id)
    assert row is not None
    return row.release.release_id, row.release.result.value if row.release.result else None


def rollout(deployments: Deployments, deployer: Deployer, settings: RolloutSettings,
            approve: Approval = always) -> tuple[Rollout, PooledRow, list[str]]:
    said: list[str] = []
    recorder = PooledRow(deployments)
    return Rollout(deployer, recorder, said.append, settings, approve=approve), recorder, said


def test_every_wave_in_order_at_most_n_at_once_and_every_row_recorded(
        deployments: Deployments) -> None:
    ids = fleet(deployments, [1, 1, 2, None, None, None, None, None])
    pinned = fleet(deployments, [1])[0]
    deployments.set_release_settings(pinned, ReleaseSettings(apply_latest_release=False))
    deployer = Deployer(seconds=0.05)
    runner, recorder, said = rollout(deployments, deployer, RolloutSettings(max_concurrency=3))
    report = runner.run(plan_rollout(rows_of(deployments, [*ids, pinned]), "r2"))

    assert report.stopped == ""
    assert deployer.order[0] == POOLED_DEPLOYMENT
    assert set(deployer.order[1:3]) == set(ids[:2])
    assert deployer.order[3] == ids[2]
    assert set(deployer.order[4:]) == set(ids[3:])
    assert deployer.most_at_once == 3  # the last wave's five, three at a time
    assert recorder.pooled == [("r2", ReleaseResult.DEPLOYED)]
    assert [released(deployments, tenant_id) for tenant_id in ids] == [("r2", "deployed")] * 8
    assert released(deployments, pinned) == ("r1", "deployed")  # skipped: kept on r1
    assert pinned not in deployer.order
    assert any(line.startswith("wave 3: 5 stacks, up to 3 at once") for line in said)
    table = rollout_lines(report)
    assert table[0].startswith("Release r2: 9 deployed in ")
    assert table[1].split() == ["stack", "wave", "from-release", "to-release", "result",
                                "duration"]
    pooled_before = rows_of(deployments, [])[0].release.release_id or "-"  # other tests' too
    assert table[2].split()[:5] == ["stack-pooled", "pooled", pooled_before, "r2", "deployed"]
    # Once rolled out, the same release is a no-op for every row.
    again = plan_rollout(rows_of(deployments, [*ids, pinned]), "r2")
    assert [target.deployment_id for target in again.targets] == [POOLED_DEPLOYMENT]  # ours
    fleet_table = fleet_lines(rows_of(deployments, [*ids, pinned]))
    assert any("PINNED" in line and pinned in line for line in fleet_table)


def test_a_failure_stops_its_wave_and_every_later_one(deployments: Deployments) -> None:
    first, one, other, later = fleet(deployments, [1, 2, 2, None])
    failing, never = sorted((one, other))  # a wave runs its stacks in tenant id order
    deployer = Deployer(failing={failing})
    runner, _, _ = rollout(deployments, deployer, RolloutSettings(max_concurrency=1))
    report = runner.run(plan_rollout(rows_of(deployments, [first, one, other, later]), "r3"))

    assert deployer.order == [POOLED_DEPLOYMENT, first, failing]
    results = {outcome.target.deployment_id: outcome.result for outcome in report.outcomes}
    assert results == {POOLED_DEPLOYMENT: "deployed", first: "deployed", failing: "failed",
                       never: NOT_STARTED, later: NOT_STARTED}
    assert f"stack-{failing}: ProductFunction: the canary's alarm" in report.stopped
    assert "wave 2 stopped and no later wave ran" in report.stopped
    assert released(deployments, first) == ("r3", "deployed")
    assert released(deployments, failing) == ("r1", "failed")  # still serves r1
    row = deployments.get(failing)
    assert row is not None
    assert "canary" in row.release.failure
    assert released(deployments, never) == ("r1", "deployed")  # untouched
    assert released(deployments, later) == ("r1", "deployed")
    assert rollout_lines(report)[-1].startswith("STOPPED: 1 stack failed (tolerated: 0)")


def test_a_tolerated_failure_lets_the_rollout_go_on(deployments: Deployments) -> None:
    ids = fleet(deployments, [1, 1, None])
    deployer = Deployer(failing={ids[0]})
    runner, _, _ = rollout(deployments, deployer, RolloutSettings(failure_threshold=1))
    report = runner.run(plan_rollout(rows_of(deployments, ids), "r4"))
    assert report.stopped == ""
    assert [outcome.result for outcome in report.outcomes].count("failed") == 1
    assert released(deployments, ids[2]) == ("r4", "deployed")


def test_a_failed_pooled_deployment_touches_no_platinum_stack(
        deployments: Deployments) -> None:
    ids = fleet(deployments, [1])
    deployer = Deployer(failing={POOLED_DEPLOYMENT})
    runner, recorder, _ = rollout(deployments, deployer, RolloutSettings())
    report = runner.run(plan_rollout(rows_of(deployments, ids), "r5"))
    assert deployer.order == [POOLED_DEPLOYMENT]
    assert "no Platinum tenant's stack was touched" in report.stopped
    assert recorder.pooled == [("r5", ReleaseResult.FAILED)]
    assert released(deployments, ids[0]) == ("r1", "deployed")


def test_a_wave_staff_do_not_approve_never_starts(deployments: Deployments) -> None:
    ids = fleet(deployments, [1, None])
    asked: list[int] = []

    def approve(wave: Wave) -> bool:
        asked.append(wave.number)
        return False

    deployer = Deployer()
    runner, _, _ = rollout(deployments, deployer, RolloutSettings(), approve=approve)
    report = runner.run(plan_rollout(rows_of(deployments, ids), "r6"))
    assert asked == [2]  # the first wave follows the pooled deployment without asking
    assert deployer.order == [POOLED_DEPLOYMENT, ids[0]]
    assert report.stopped == "wave 2 was not approved"


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RolloutSettings(max_concurrency=0)
    with pytest.raises(ValueError, match="0 or more"):
        RolloutSettings(failure_threshold=-1)
