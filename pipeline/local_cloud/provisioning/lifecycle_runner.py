"""The local platform's mover: carries out the tenant moves the admin API records.

The admin API records a move on the tenant record and answers 202; nothing calls a mover, so
this thread looks for moves under way (a small scan of the tenant table) when the front door
reports a change to the admin API (``nudge``) and otherwise every few seconds, and advances
each one (``pipeline.lifecycle.tenant_move``) until it must wait: for its deployment to come up
(the provisioner, another thread of ``make local``, brings it up from the row the move
requested), or for writes or routing to settle. A failed step is logged, recorded on the move
and tried again after ``retry_delay``: the move resumes where it stopped, as it does after the
platform is killed and started again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from chalicelib.tenant_authorizer.factory import DEPLOYMENT_TTL_SECONDS, TENANT_TTL_SECONDS
from pipeline.lifecycle.tenant_move import MoveStepError, MoveTimings, TenantMover
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.platform_settings import read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_moves import TenantMoves

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


def local_mover(clients: AwsClients, timings: MoveTimings) -> tuple[TenantMoves, TenantMover]:
    """The mover as the local platform runs it: the emulator's tables and keys, progress to
    the platform's log."""
    moves = TenantMoves(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    keys = TenantApiKeys(clients.apigateway, lambda: read_settings(
        clients.dynamodb, SETTINGS_TABLE.name).usage_plan_ids)
    return moves, TenantMover(clients.dynamodb, clients.cloudformation, moves,
                              Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name),
                              keys, timings, report=_log.info)


class MoveRunner:
    def __init__(self, moves: TenantMoves, mover: TenantMover, *, retry_delay: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._moves = moves
        self._mover = mover
        self._retry_delay = retry_delay
        self._clock = clock
        self._not_before: dict[str, float] = {}  # tenant id -> next useful advance
        self._stopping = threading.Event()
        self._nudged = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pass(self) -> float | None:
        """Advance every move under way as far as it goes now; seconds until one can go on
        (None: no move under way)."""
        try:
            tenant_ids = self._moves.active()
        except Exception:
            _log.exception("could not read the moves under way; trying again shortly")
            return self._retry_delay
        soonest: float | None = None
        for tenant_id in tenant_ids:
            if self._stopping.is_set():
                return None
            wait: float | None = self._not_before.get(tenant_id, 0.0) - self._clock()
            if wait is not None and wait <= 0:
                wait = self._advance(tenant_id)
            if wait is not None:
                soonest = wait if soonest is None else min(soonest, wait)
        return soonest

    def _advance(self, tenant_id: str) -> float | None:
        try:
            while not self._stopping.is_set():
                step = self._mover.advance(tenant_id)
                if step.done:
                    _log.info("tenant %s: moved to %s", tenant_id, step.move.to_tier)
                    self._not_before.pop(tenant_id, None)
                    return None
                if step.wait:
                    self._not_before[tenant_id] = self._clock() + step.wait
                    return step.wait
        except MoveStepError:
            _log.exception("tenant %s: a move step failed; trying again in %.0f s", tenant_id,
                           self._retry_delay)
        except Exception:
            _log.exception("tenant %s: advancing its move failed; trying again in %.0f s",
                           tenant_id, self._retry_delay)
        self._not_before[tenant_id] = self._clock() + self._retry_delay
        return self._retry_delay

    def nudge(self) -> None:
        """Look now rather than at the next poll (a move may have been requested)."""
        self._nudged.set()

    def start_polling(self, interval: float) -> None:
        def poll() -> None:
            wait = 0.0
            while True:
                self._nudged.wait(min(interval, wait))
                self._nudged.clear()
                if self._stopping.is_set():
                    return
                soonest = self.run_pass()
                wait = interval if soonest is None else max(0.05, soonest)

        self._thread = threading.Thread(target=poll, name="mover", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the step under way (a step left half done is run again next start)."""
        self._stopping.set()
        self._nudged.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
