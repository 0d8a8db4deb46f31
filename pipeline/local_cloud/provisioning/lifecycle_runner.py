"""The local platform's part of a tenant's lifecycle: carries out the moves and offboardings
the admin API records (on AWS the tenant pipeline's state machines do).

The admin API records a move or an offboarding on the tenant record and answers 202; nothing
calls the engine, so this thread looks for work under way (a small scan of the tenant table per
kind) when the front door reports a change to the admin API (``nudge``) and otherwise every few
seconds, and advances each (``pipeline.lifecycle``) until it must wait: for a deployment to come
up (the provisioner, another thread of ``make local``, brings it up from the row a move
requested), for writes or routing to settle, for a grace period to end. A failed step is logged,
recorded and tried again after ``retry_delay``: the work resumes where it stopped, as it does
after the platform is killed and started again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chalicelib.tenant_authorizer.factory import DEPLOYMENT_TTL_SECONDS, TENANT_TTL_SECONDS
from pipeline.lifecycle.exports import FileExports
from pipeline.lifecycle.offboarding import (
    OffboardingTables,
    RemainsCheck,
    TenantOffboarder,
)
from pipeline.lifecycle.tenant_move import MoveTimings, TenantMover
from pipeline.local_cloud.cognito.passwords import ResetCodes
from pipeline.local_cloud.provisioning.poller import Poller
from pipeline.local_cloud.recording_compaction import compact_now, recording_mentions
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.platform_settings import read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_moves import TenantMoves
from tenant_context.platform.tenant_offboarding import TenantOffboardings
from tenant_context.platform.tenant_records import TOMBSTONE_ATTRIBUTE

_log = logging.getLogger(__name__)
# Locally a write takes milliseconds (no function timeout to wait out): the write gate's cache
# (1 s) and a margin. Routing: only the front door's authorizer caches, tenant records and
# deployment rows for its TTLs (``make local``'s environment sets them, as it does for the
# authorizer); a second more for the request in flight.
LOCAL_WRITE_SETTLE_SECONDS = 2.0


def local_timings(config: PlatformConfig) -> MoveTimings:
    """The local platform's waits, from the authorizer's cache settings in ``config``."""
    tenant_ttl = config.seconds(Env.AUTHORIZER_TENANT_TTL_SECONDS, TENANT_TTL_SECONDS)
    deployment_ttl = config.seconds(Env.AUTHORIZER_DEPLOYMENT_TTL_SECONDS,
                                    DEPLOYMENT_TTL_SECONDS)
    return MoveTimings(
        config.seconds(Env.MOVE_WRITE_SETTLE_SECONDS, LOCAL_WRITE_SETTLE_SECONDS),
        config.seconds(Env.MOVE_ROUTING_SETTLE_SECONDS, tenant_ttl + 1),
        deployment_ttl + 1, poll=0.5)


def local_mover(clients: AwsClients, timings: MoveTimings) -> Work:
    """Moves as the local platform runs them: the emulator's tables and keys, progress to
    the platform's log."""
    moves = TenantMoves(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    mover = TenantMover(clients.dynamodb, clients.cloudformation, moves,
                        Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name),
                        _keys(clients), timings, report=_log.info)
    return Work("move", moves.active, mover.advance)


def local_offboarder(clients: AwsClients, exports: Path, credentials: CredentialsFile,
                     checks: Sequence[RemainsCheck] = ()) -> TenantOffboarder:
    """The offboarder as the local platform runs it: exports as files under ``exports``; an
    erased user's password and reset code leave the local password store too."""
    reset_codes = ResetCodes.beside(credentials)

    def forget(pool_id: str, user_name: str) -> None:
        credentials.forget(pool_id, user_name)
        if reset_codes.path.exists():
            reset_codes.discard(pool_id, user_name)

    return TenantOffboarder(
        clients.dynamodb, clients.cognito, clients.cloudformation, _keys(clients),
        lambda: read_settings(clients.dynamodb, SETTINGS_TABLE.name),
        OffboardingTables(TENANT_DETAILS_TABLE.name, TENANT_NAMES_TABLE.name,
                          TENANT_USER_MAPPING_TABLE.name, TENANT_STACK_MAPPING_TABLE.name),
        FileExports(exports), checks=checks, user_erased=forget, report=_log.info)


def offboarding_work(clients: AwsClients, offboarder: TenantOffboarder) -> Work:
    offboardings = TenantOffboardings(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    return Work("offboarding", offboardings.active, offboarder.advance)


class LocalStateCheck:
    """The local platform's own places to look after an erasure: the emulator's recording,
    compacted first (deleted users, pools, keys, tables and items leave it then), and the
    local password store (credentials, reset codes) must no longer mention the tenant's id,
    users, emails or items."""

    def __init__(self, emulator_url: str, recording: Path, files: Sequence[Path]) -> None:
        self._emulator_url = emulator_url
        self._recording = recording
        self._files = files

    def __call__(self, needles: Sequence[str]) -> dict[str, int]:
        compact_now(self._emulator_url)
        mentions = recording_mentions(self._recording, needles, excused=_tombstone)
        found = {"emulator recording lines": sum(mentions.values())}
        for path in self._files:
            text = path.read_text() if path.exists() else ""
            found[f"mentions in {path.name}"] = sum(text.count(needle) for needle in needles)
        return found


def _tombstone(text: str) -> bool:
    """The tombstone's own write (kept by design: the tenant's id, no data of its own)."""
    return TENANT_DETAILS_TABLE.name in text and TOMBSTONE_ATTRIBUTE in text


def _keys(clients: AwsClients) -> TenantApiKeys:
    return TenantApiKeys(clients.apigateway, lambda: read_settings(
        clients.dynamodb, SETTINGS_TABLE.name).usage_plan_ids)


class Step(Protocol):
    @property
    def done(self) -> bool: ...

    @property
    def wait(self) -> float: ...


@dataclass(frozen=True)
class Work:
    """One kind of lifecycle work: which tenants have it under way, and one step of it."""

    kind: str
    active: Callable[[], list[str]]
    advance: Callable[[str], Step]


class LifecycleRunner:
    def __init__(self, work: Sequence[Work], *, retry_delay: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._work = work
        self._retry_delay = retry_delay
        self._clock = clock
        self._not_before: dict[tuple[str, str], float] = {}  # (kind, tenant) -> next advance
        self._poller = Poller("lifecycle", self.run_pass)
        self._stopping = self._poller.stopping

    def run_pass(self) -> float | None:
        """Advance all work under way as far as it goes now; seconds until some can go on
        (None: nothing under way)."""
        soonest: float | None = None
        for work in self._work:
            try:
                tenant_ids = work.active()
            except Exception:
                _log.exception("could not read the %ss under way; trying again shortly",
                               work.kind)
                tenant_ids = []
                soonest = self._retry_delay
            for tenant_id in tenant_ids:
                if self._stopping.is_set():
                    return None
                key = (work.kind, tenant_id)
                wait: float | None = self._not_before.get(key, 0.0) - self._clock()
                if wait is not None and wait <= 0:
                    wait = self._advance(work, tenant_id)
                if wait is not None:
                    soonest = wait if soonest is None else min(soonest, wait)
        return soonest

    def _advance(self, work: Work, tenant_id: str) -> float | None:
        key = (work.kind, tenant_id)
        try:
            while not self._stopping.is_set():
                step = work.advance(tenant_id)
                if step.done:
                    _log.info("tenant %s: %s done", tenant_id, work.kind)
                    self._not_before.pop(key, None)
                    return None
                if step.wait:
                    self._not_before[key] = self._clock() + step.wait
                    return step.wait
        except Exception:
            _log.exception("tenant %s: a %s step failed; trying again in %.0f s", tenant_id,
                           work.kind, self._retry_delay)
        self._not_before[key] = self._clock() + self._retry_delay
        return self._retry_delay

    def nudge(self) -> None:
        """Look now rather than at the next poll (work may have been requested)."""
        self._poller.nudge()

    def start_polling(self, interval: float) -> None:
        self._poller.start(interval)

    def stop(self) -> None:
        """Stop after the step under way (a step left half done is run again next start)."""
        self._poller.stop()
