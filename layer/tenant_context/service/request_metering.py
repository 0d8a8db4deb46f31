"""Metering in the request path: every request a tenant's caller makes is recorded in the
usage meter (``usage_meter``) under its route and status, with its handling time, the DynamoDB
capacity its calls consumed and the change in its stored items (``request_usage``).

What is attributed: a request whose authorizer context names a tenant. Public routes, refused
tokens and the SaaS provider's own staff (the operations pseudo-tenant) are not a tenant's
usage. The route is the method and Chalice's route template (``GET /product/{key}``: API
Gateway's ``resourcePath``), never the concrete path. Duration is the time this function spent
on the request, the middleware's own recording included: the figure Lambda bills (rounded up to
the millisecond there).

When the meter writes (see its flush policy): at the end of a request once a flush is due (the
request that finds it due waits for one round of writes; Lambda runs no code after a response),
from a daemon thread every ``flush_every_seconds`` for a process that falls idle (``chalice
local``; on Lambda that thread is frozen with the container and runs when it thaws), and on the
way out: at interpreter exit and on SIGTERM, which ``make local`` sends its processes and which
Lambda sends a function on shutdown when an extension is registered (the graceful-shutdown
pattern; without one, a reclaimed container's last ``flush_every_seconds`` are lost).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from chalice import Response

from tenant_context.config import Env, PlatformConfig
from tenant_context.errors import UnauthorizedError
from tenant_context.service.context import request_tenant
from tenant_context.service.request_usage import measuring
from tenant_context.service.usage_meter import DEFAULT_FLUSH_SECONDS, UsageMeter

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

_log = logging.getLogger(__name__)
Middleware = Callable[[Any, Callable[[Any], Response]], Response]


def meter_from_config(config: PlatformConfig) -> UsageMeter | None:
    """The function's meter, writing with the function's own role to ``USAGE_TABLE``
    (``USAGE_FLUSH_SECONDS`` apart at most); None where no usage table is configured."""
    table = config.optional(Env.USAGE_TABLE)
    if not table:
        return None
    # Where to write is read now, with the rest of the configuration, not at the first flush
    # (a process whose environment changes later still writes where it was configured to).
    endpoint = config.optional(Env.AWS_ENDPOINT_URL) or None

    def client() -> DynamoDBClient:
        import boto3  # deferred: a cold start pays for no client before the first flush

        return boto3.client("dynamodb", region_name=config.region, endpoint_url=endpoint)

    return UsageMeter(client, table, flush_every_seconds=config.seconds(
        Env.USAGE_FLUSH_SECONDS, DEFAULT_FLUSH_SECONDS))


def route_of(event: Any) -> str | None:
    """``GET /product/{key}``: the request's method and route template."""
    context = getattr(event, "context", None) or {}
    template = context.get("resourcePath")
    method = getattr(event, "method", None)
    return f"{method} {template}" if template and method else None


def flush(meter: UsageMeter) -> None:
    """Writes what is due; a failure is logged and kept for the next flush."""
    result = meter.flush()
    if not result.ok:
        _log.warning("usage flush: %d of %d writes failed, kept for the next flush: %s",
                     result.failed, result.writes + result.failed, "; ".join(result.errors[:3]))


def metering_middleware(meter: UsageMeter, clock: Callable[[], float] = time.perf_counter
                        ) -> Middleware:
    """Chalice 'http' middleware recording each tenant request (registered outside the error
    mapping, so it sees the status the caller gets)."""

    def meter_request(event: Any, get_response: Callable[[Any], Response]) -> Response:
        started = clock()
        with measuring() as usage:
            response = get_response(event)
        try:
            tenant = request_tenant(event)
        except UnauthorizedError:  # a public route or a refused token: no tenant's usage
            return response
        route = route_of(event)
        if tenant.is_operations or route is None:
            return response
        meter.record(tenant.tenant_id, route, response.status_code,
                     duration_ms=(clock() - started) * 1000,
                     read_units=usage.read_units, write_units=usage.write_units,
                     item_deltas=usage.item_deltas, byte_deltas=usage.byte_deltas,
                     user=tenant.user_name)
        if meter.due():
            flush(meter)
        return response

    return meter_request


class PeriodicFlush:
    """Flushes ``meter`` when due from a daemon thread, and once more on the way out."""

    def __init__(self, meter: UsageMeter, every_seconds: float) -> None:
        self._meter = meter
        self._every = every_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)

    def start(self, *, exit_hooks: bool = True) -> PeriodicFlush:
        """``exit_hooks``: also flush at interpreter exit and on SIGTERM (a function's own
        process); a caller that stops it itself (``stop``) leaves the process's signals be."""
        self._thread.start()
        if exit_hooks:
            atexit.register(self.stop)
            _flush_on_sigterm(self.stop)
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            if self._meter.due():
                flush(self._meter)

    def stop(self) -> None:
        """Stops the thread and writes everything still held (idempotent)."""
        self._stopped.set()
        if self._meter.pending:
            flush(self._meter)


def _flush_on_sigterm(stop: Callable[[], None]) -> None:
    """SIGTERM flushes, then ends the process as SIGTERM would have. Only where nobody else
    handles it, and only from the main thread (where Python lets a handler be installed)."""
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(ValueError):
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            stop()
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

        signal.signal(signal.SIGTERM, on_sigterm)
