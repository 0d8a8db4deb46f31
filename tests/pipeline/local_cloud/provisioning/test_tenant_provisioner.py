"""The local deployer's reconcile step, with the table, the launcher and the clock as fakes (the
route table is the real one: it is in memory). The real processes are exercised by
``tests/e2e/test_platinum_deployment.py``."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pipeline.local_cloud.api_gateway.front_door import RouteTable, Upstream
from pipeline.local_cloud.provisioning.tenant_provisioner import Provisioner
from tenant_context.platform.tenant_records import DeploymentRecord, DeploymentStatus, DesiredState
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.support.clock import FakeClock

GATEWAY = "http://127.0.0.1:1"
TENANT = "a" * 32
OTHER = "b" * 32


@dataclass
class FakeDeployment:
    tenant_id: str
    serial: int
    running: bool = True

    @property
    def api_ids(self) -> frozenset[str]:
        return frozenset({f"{self.tenant_id}-product", f"{self.tenant_id}-order"})

    @property
    def upstreams(self) -> tuple[Upstream, ...]:
        return (Upstream(("/product",), 1000 + self.serial, f"{self.tenant_id}-product"),)

    @property
    def pids(self) -> dict[str, int]:
        return {f"{self.tenant_id}/product_service": self.serial}

    def alive(self) -> bool:
        return self.running


@dataclass
class FakeLauncher:
    failures: int = 0  # the next starts that raise
    started: list[FakeDeployment] = field(default_factory=list)
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def start(self, tenant_id: str) -> FakeDeployment:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("chalice local exited with 1")
        deployment = FakeDeployment(tenant_id, next(self.serials))
        self.started.append(deployment)
        return deployment

    def stop(self, deployment: FakeDeployment) -> None:
        deployment.running = False

    def running(self) -> list[FakeDeployment]:
        return [deployment for deployment in self.started if deployment.running]


@dataclass
class FakeRows:
    rows: dict[str, DeploymentRecord] = field(default_factory=dict)
    recorded: list[tuple[str, frozenset[str], str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unreadable: bool = False

    def all(self) -> list[DeploymentRecord]:
        if self.unreadable:
            raise ConnectionError("the emulator is not answering")
        return list(self.rows.values())

    def record_active(self, deployment_id: str, api_ids: frozenset[str], api_url: str) -> None:
        self.recorded.append((deployment_id, api_ids, api_url))
        self.rows[deployment_id] = dataclasses.replace(
            self.rows[deployment_id], status=DeploymentStatus.ACTIVE, api_ids=api_ids,
            api_url=api_url)

    def record_failed(self, deployment_id: str, reason: str, operator_action: str) -> None:
        self.failed.append((deployment_id, reason))
        self.rows[deployment_id] = dataclasses.replace(
            self.rows[deployment_id], status=DeploymentStatus.FAILED, failure=reason,
            operator_action=operator_action)

    def request(self, tenant_id: str) -> None:
        self.rows[tenant_id] = DeploymentRecord(tenant_id, f"stack-{tenant_id}", frozenset(), "",
                                                status=DeploymentStatus.PROVISIONING)

    def desire(self, tenant_id: str, state: DesiredState) -> None:
        self.rows[tenant_id] = dataclasses.replace(self.rows[tenant_id], desired_state=state)


@dataclass
class World:
    rows: FakeRows
    routes: RouteTable
    launcher: FakeLauncher
    clock: FakeClock
    provisioner: Provisioner[FakeDeployment]

    def served(self, tenant_id: str) -> bool:
        return self.routes.resolve(f"/{tenant_id}/products") is not None


@pytest.fixture
def world() -> Iterator[World]:
    rows, routes, launcher, clock = FakeRows(), RouteTable(), FakeLauncher(), FakeClock(0.0)
    rows.rows[POOLED_DEPLOYMENT] = DeploymentRecord(
        POOLED_DEPLOYMENT, "stack-pooled", frozenset({"pooled-product"}), f"{GATEWAY}/pooled")
    provisioner = Provisioner(rows, routes, launcher, GATEWAY, retry_delay=5, clock=clock)
    yield World(rows, routes, launcher, clock, provisioner)
    provisioner.stop()


def test_a_requested_deployment_is_started_routed_and_recorded_active_once(world: World) -> None:
    world.rows.request(TENANT)
    assert world.provisioner.reconcile() is True
    assert [deployment.tenant_id for deployment in world.launcher.running()] == [TENANT]
    assert world.served(TENANT)
    expected = (TENANT, frozenset({f"{TENANT}-product", f"{TENANT}-order"}),
                f"{GATEWAY}/{TENANT}")
    assert world.rows.recorded == [expected]
    assert world.provisioner.urls() == {TENANT: f"{GATEWAY}/{TENANT}"}
    assert world.provisioner.pids() == {f"{TENANT}/product_service": 1}
    assert world.provisioner.reconcile() is False  # nothing to do: no restart, no new record
    assert len(world.launcher.started) == 1
    assert world.rows.recorded == [expected]


def test_the_pooled_deployment_is_not_the_provisioners(world: World) -> None:
    assert world.provisioner.reconcile() is False
    assert world.launcher.started == []
    assert world.rows.recorded == []


def test_desired_stopped_stops_it_and_running_again_restarts_it(world: World) -> None:
    world.rows.request(TENANT)
    world.rows.request(OTHER)
    world.provisioner.reconcile()
    first = world.provisioner.pids()[f"{TENANT}/product_service"]
    world.rows.desire(TENANT, DesiredState.STOPPED)
    assert world.provisioner.reconcile() is True
    assert not world.served(TENANT)
    assert world.served(OTHER)  # the other tenant is left alone
    assert [deployment.tenant_id for deployment in world.launcher.running()] == [OTHER]
    assert f"{TENANT}/product_service" not in world.provisioner.pids()
    assert world.provisioner.reconcile() is False  # stays stopped
    world.rows.desire(TENANT, DesiredState.RUNNING)
    assert world.provisioner.reconcile() is True
    assert world.served(TENANT)
    assert world.provisioner.pids()[f"{TENANT}/product_service"] != first
    assert sorted(recorded[0] for recorded in world.rows.recorded) == [TENANT, OTHER]  # once


def test_a_failed_start_is_recorded_and_retried_after_the_delay(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.rows.request(TENANT)
    world.launcher.failures = 2
    with caplog.at_level(logging.ERROR, "pipeline.local_cloud.provisioning.tenant_provisioner"):
        assert world.provisioner.reconcile() is False
    assert f"deployment {TENANT}: reconciling failed" in caplog.text
    assert "chalice local exited with 1" in caplog.text
    assert not world.served(TENANT)
    assert world.rows.recorded == []
    # Failed, as the AWS pipeline records it: staff read why; the sign-in page says unavailable.
    assert world.rows.failed == [(TENANT, "RuntimeError: chalice local exited with 1")]
    assert "tries again every 5 s" in world.rows.rows[TENANT].operator_action
    world.clock.now = 4.9
    assert world.provisioner.reconcile() is False  # not before the delay
    world.clock.now = 5.0
    assert world.provisioner.reconcile() is False  # the same failure: recorded once
    assert len(world.rows.failed) == 1
    world.clock.now = 10.0
    assert world.provisioner.reconcile() is True
    assert world.served(TENANT)
    assert [recorded[0] for recorded in world.rows.recorded] == [TENANT]
    assert world.rows.rows[TENANT].status == "active"


def test_a_deployment_whose_service_died_is_brought_up_again(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.rows.request(TENANT)
    world.provisioner.reconcile()
    world.launcher.started[0].running = False  # crashed
    with caplog.at_level(logging.WARNING, "pipeline.local_cloud.provisioning.tenant_provisioner"):
        assert world.provisioner.reconcile() is True
    assert "stopped unexpectedly" in caplog.text
    assert [deployment.serial for deployment in world.launcher.running()] == [2]
    assert world.served(TENANT)


def test_an_active_running_row_is_brought_back_on_start_without_a_new_record(
        world: World) -> None:
    """What a platform restart finds: the row already says active at this URL."""
    world.rows.rows[TENANT] = DeploymentRecord(
        TENANT, f"stack-{TENANT}", frozenset({f"{TENANT}-product", f"{TENANT}-order"}),
        f"{GATEWAY}/{TENANT}")
    world.rows.rows[OTHER] = DeploymentRecord(OTHER, f"stack-{OTHER}", frozenset(),
                                              f"{GATEWAY}/{OTHER}",
                                              desired_state=DesiredState.STOPPED)
    assert world.provisioner.reconcile() is True
    assert [deployment.tenant_id for deployment in world.launcher.running()] == [TENANT]
    assert world.rows.recorded == []


def test_a_url_recorded_for_another_gateway_port_is_corrected(world: World) -> None:
    world.rows.rows[TENANT] = DeploymentRecord(
        TENANT, f"stack-{TENANT}", frozenset({f"{TENANT}-product", f"{TENANT}-order"}),
        f"http://127.0.0.1:2/{TENANT}")
    world.provisioner.reconcile()
    assert [recorded[2] for recorded in world.rows.recorded] == [f"{GATEWAY}/{TENANT}"]


def test_a_deployment_whose_row_is_gone_is_stopped(world: World) -> None:
    """A registration that failed after its request withdraws the row (``cancel``)."""
    world.rows.request(TENANT)
    world.provisioner.reconcile()
    del world.rows.rows[TENANT]
    assert world.provisioner.reconcile() is True
    assert world.launcher.running() == []
    assert not world.served(TENANT)


def test_an_unreadable_table_is_logged_and_changes_nothing(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.rows.request(TENANT)
    world.provisioner.reconcile()
    world.rows.unreadable = True
    with caplog.at_level(logging.ERROR, "pipeline.local_cloud.provisioning.tenant_provisioner"):
        assert world.provisioner.reconcile() is False
    assert "could not read the deployment requests" in caplog.text
    assert world.served(TENANT)


def test_a_nudge_reconciles_at_once_without_waiting_for_the_poll(world: World) -> None:
    changed = threading.Event()
    world.provisioner.start_polling(3600, changed.set)  # the poll alone would never come
    try:
        world.rows.request(TENANT)
        assert not changed.wait(0.3)
        world.provisioner.nudge()
        assert changed.wait(5)
        assert world.served(TENANT)
    finally:
        world.provisioner.stop()  # wakes the waiting poll too: returns at once
    assert not world.served(TENANT)


def test_a_release_gives_running_deployments_new_processes_route_first(world: World) -> None:
    world.rows.request(TENANT)
    world.rows.request(OTHER)
    world.rows.desire(OTHER, DesiredState.STOPPED)
    world.provisioner.reconcile()
    (first,) = world.launcher.running()
    old_route = world.routes.resolve(f"/{TENANT}/products")
    assert old_route is not None

    world.provisioner.release()
    assert world.provisioner.reconcile() is True
    (second,) = world.launcher.running()  # the stopped tenant stays stopped
    assert (second.tenant_id, first.running) == (TENANT, False)
    route = world.routes.resolve(f"/{TENANT}/products")
    assert route is not None
    assert route.upstream.port == 1000 + second.serial
    assert old_route.upstream.retired.is_set()  # a request that found it goes to the new one
    assert world.provisioner.pids() == {f"{TENANT}/product_service": second.serial}
    assert len(world.rows.recorded) == 1  # same API ids and URL: nothing to record again
    assert world.provisioner.reconcile() is False  # one release, one replacement


def test_polling_reports_changes_and_stop_stops_every_deployment(world: World) -> None:
    changed = threading.Event()
    world.rows.request(TENANT)
    world.provisioner.start_polling(0.01, changed.set)
    assert changed.wait(5)
    world.provisioner.stop()
    assert world.launcher.running() == []
    assert not world.served(TENANT)
    assert world.provisioner.pids() == {}


def test_a_release_of_named_deployments_replaces_only_theirs(world: World) -> None:
    """One wave of ``make release``: the others keep their processes."""
    world.rows.request(TENANT)
    world.rows.request(OTHER)
    world.provisioner.reconcile()
    before = {deployment.tenant_id: deployment.serial for deployment in world.launcher.running()}
    world.provisioner.release([TENANT, "f" * 32])  # a tenant that runs nothing is ignored
    assert world.provisioner.reconcile() is True
    after = {deployment.tenant_id: deployment.serial for deployment in world.launcher.running()}
    assert after[OTHER] == before[OTHER]
    assert after[TENANT] != before[TENANT]
