"""The local deployer of Platinum tenants: keeps each tenant's own deployment as the control
plane wants it.

The tenant-stack-mapping table is the hand-off (``tenant_context.platform.deployments``):
registration writes a ``provisioning`` row, deactivation and activation set ``desiredState``.
Nothing calls the deployer, so it reads the table (a small scan) when the front door reports a
change to the admin API (``nudge``: a registration, a deactivation, an activation) and otherwise
every few seconds (changes made around the front door), and reconciles every silo row:
- desired ``running`` and nothing running: bring the deployment up, route
  ``<gateway>/<tenantId>/...`` to it, and record it ``active`` with its API ids and URL
  (recorded only when the row does not already say so; it also corrects the URL after a
  restart on another gateway port);
- desired ``stopped``: stop its processes and withdraw its route (the front door then answers
  404, as for a URL no API serves); its tables and data stay;
- a deployment whose processes died, or whose row is gone, is stopped (and brought up again
  if still wanted);
- after ``release`` (``make deploy-tenants`` locally: every one; ``make release``: one wave's),
  each running deployment named gets new processes, which take its route over before the old
  ones stop (no request fails).
On platform start every active, running deployment is thus brought back up. A failure is
logged and retried after ``retry_delay`` seconds; it never stops the platform. A deployment that
never came up is recorded ``failed`` with the reason meanwhile (staff read it on the tenant
view; the tenant's sign-in page says ``unavailable``), and ``active`` once a retry succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

from pipeline.local_cloud.api_gateway.front_door import Upstream
from pipeline.local_cloud.provisioning.poller import Poller
from tenant_context.platform.tenant_records import DeploymentRecord, DeploymentStatus, DesiredState
from tenant_context.tenancy import POOLED_DEPLOYMENT

_log = logging.getLogger(__name__)


class RunningDeployment(Protocol):
    @property
    def api_ids(self) -> frozenset[str]: ...

    @property
    def upstreams(self) -> tuple[Upstream, ...]: ...

    @property
    def pids(self) -> dict[str, int]: ...

    def alive(self) -> bool: ...


Running = TypeVar("Running", bound=RunningDeployment)


class Launcher(Protocol[Running]):
    def start(self, tenant_id: str) -> Running: ...

    def stop(self, deployment: Running) -> None: ...


class DeploymentRows(Protocol):
    def all(self) -> list[DeploymentRecord]: ...

    def record_active(self, deployment_id: str, api_ids: frozenset[str],
                      api_url: str) -> None: ...

    def record_failed(self, deployment_id: str, reason: str, operator_action: str) -> None: ...


class Routes(Protocol):
    def set(self, deployment: str, upstreams: tuple[Upstream, ...]
            ) -> tuple[Upstream, ...]: ...

    def remove(self, deployment: str) -> None: ...


class Provisioner(Generic[Running]):
    def __init__(self, rows: DeploymentRows, routes: Routes, launcher: Launcher[Running],
                 gateway_url: str, *, retry_delay: float = 5.0, parallel: int = 4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rows = rows
        self._routes = routes
        self._launcher = launcher
        self._gateway_url = gateway_url
        self._retry_delay = retry_delay
        self._clock = clock
        self._running: dict[str, Running] = {}
        self._not_before: dict[str, float] = {}  # tenant id -> next attempt after a failure
        self._lock = threading.Lock()  # guards _running
        self._workers = ThreadPoolExecutor(max_workers=parallel,
                                           thread_name_prefix="deployment")
        self._releases: set[str] = set()  # running deployments to replace with new processes
        self._on_change: Callable[[], None] = lambda: None
        self._poller = Poller("provisioner", self._poll)

    def url(self, tenant_id: str) -> str:
        return f"{self._gateway_url}/{tenant_id}"

    def pids(self) -> dict[str, int]:
        """Every process of every running deployment (the platform lists them for its
        runner, which checks that none is left behind)."""
        with self._lock:
            return {name: pid for deployment in self._running.values()
                    for name, pid in deployment.pids.items()}

    def urls(self) -> dict[str, str]:
        with self._lock:
            return {tenant_id: self.url(tenant_id) for tenant_id in self._running}

    def reconcile(self) -> bool:
        """One pass over the table; True if a deployment was started or stopped."""
        try:
            rows = {row.deployment_id: row for row in self._rows.all()
                    if row.deployment_id != POOLED_DEPLOYMENT}
        except Exception:
            _log.exception("could not read the deployment requests; trying again shortly")
            return False
        changed = False
        for tenant_id in list(self._running):
            if tenant_id not in rows:
                _log.info("deployment %s: its row is gone; stopping it", tenant_id)
                changed |= self._stop(tenant_id)
        # Each row concerns one tenant only; starting several (a platform start) in parallel
        # takes about as long as starting one.
        return any([changed, *self._workers.map(self._reconcile_logged, rows.values())])

    def _reconcile_logged(self, row: DeploymentRecord) -> bool:
        try:
            return self._reconcile(row)
        except Exception as error:
            _log.exception("deployment %s: reconciling failed; retrying in %.0f s",
                           row.deployment_id, self._retry_delay)
            self._not_before[row.deployment_id] = self._clock() + self._retry_delay
            reason = f"{type(error).__name__}: {error}"
            # As the AWS pipeline records it; once per reason (a retry every few seconds
            # must not rewrite the row each time).
            if row.status is not DeploymentStatus.ACTIVE and row.failure != reason:
                self._rows.record_failed(
                    row.deployment_id, reason,
                    f"see the make local output and its logs/; the platform tries again every "
                    f"{self._retry_delay:.0f} s")
            return False

    def _reconcile(self, row: DeploymentRecord) -> bool:
        tenant_id = row.deployment_id
        changed = False
        with self._lock:
            running = self._running.get(tenant_id)
        if running is not None and not running.alive():
            _log.warning("deployment %s: a service stopped unexpectedly (see its log); "
                         "restarting the deployment", tenant_id)
            changed |= self._stop(tenant_id)
            running = None
        if row.desired_state != DesiredState.RUNNING:
            return self._stop(tenant_id) or changed
        if running is None:
            if self._clock() < self._not_before.get(tenant_id, 0.0):
                return changed
            running = self._start(tenant_id)
            changed = True
        elif self._take_release(tenant_id):
            running = self._replace(tenant_id, running)
            changed = True
        url = self.url(tenant_id)
        recorded = (row.status, row.api_ids, row.api_url)
        if recorded != (DeploymentStatus.ACTIVE, running.api_ids, url):
            self._rows.record_active(tenant_id, running.api_ids, url)
            _log.info("deployment %s: recorded active at %s", tenant_id, url)
        return changed

    def _start(self, tenant_id: str) -> Running:
        _log.info("deployment %s: starting its services", tenant_id)
        started = time.monotonic()
        running = self._launcher.start(tenant_id)
        with self._lock:
            self._running[tenant_id] = running
        self._routes.set(tenant_id, running.upstreams)
        self._not_before.pop(tenant_id, None)
        _log.info("deployment %s: serving at %s (started in %.1f s)", tenant_id,
                  self.url(tenant_id), time.monotonic() - started)
        return running

    def _take_release(self, tenant_id: str) -> bool:
        with self._lock:
            wanted = tenant_id in self._releases
            self._releases.discard(tenant_id)
        return wanted

    def _replace(self, tenant_id: str, old: Running) -> Running:
        new = self._launcher.start(tenant_id)
        with self._lock:
            self._running[tenant_id] = new
        for upstream in self._routes.set(tenant_id, new.upstreams):
            upstream.retire()  # its requests in flight finish on the old processes
        self._launcher.stop(old)
        _log.info("deployment %s: released (new processes serve it)", tenant_id)
        return new

    def _stop(self, tenant_id: str) -> bool:
        with self._lock:
            running = self._running.pop(tenant_id, None)
        if running is None:
            return False
        self._routes.remove(tenant_id)
        self._launcher.stop(running)
        _log.info("deployment %s: stopped (tables and data kept)", tenant_id)
        return True

    def release(self, deployment_ids: Collection[str] | None = None) -> None:
        """Replace the running deployments' processes (those named, or every one) with new
        ones (the working tree's code) at the next pass, without failing a request: the new
        ones take the route over before the old ones stop."""
        with self._lock:
            self._releases |= set(self._running) if deployment_ids is None else \
                set(deployment_ids) & set(self._running)
        self.nudge()

    def nudge(self) -> None:
        """Reconcile now rather than at the next poll (the table may have changed)."""
        self._poller.nudge()

    def start_polling(self, interval: float, on_change: Callable[[], None]) -> None:
        """Reconcile every ``interval`` seconds, or at once when nudged, on a background
        thread, calling ``on_change`` after a pass that started or stopped something."""
        self._on_change = on_change
        self._poller.start(interval)

    def _poll(self) -> None:
        if self.reconcile():
            try:
                self._on_change()
            except Exception:
                _log.exception("reporting a deployment change failed")

    def stop(self) -> None:
        """Stop polling (after the pass under way), then every deployment it started."""
        self._poller.stop()
        self._workers.shutdown()
        for tenant_id in list(self._running):
            self._stop(tenant_id)
