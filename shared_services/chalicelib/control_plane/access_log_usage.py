"""The 429s of the usage plans, metered from the REST API stages' access logs (AWS only).

On AWS a request a usage plan throttles (rate or daily quota) is answered 429 by API Gateway
after the authorizer and never reaches a function, so no service function's usage meter sees
it. Its access log line does (``pipeline.stacks.logging_template``: tenant, API key id, method,
route template, status). Every REST API access-log group, the pooled APIs' and each Platinum
tenant's, has a subscription filter that sends only the 429 lines to ONE function, the
shared-services app's ``access_log_usage``; this module is what it does with them:

- decode CloudWatch Logs' payload (``awslogs.data``: base64 of gzip of JSON; its
  ``logEvents[].message`` are the access log lines);
- record each 429 that names a tenant as ``UsageMeter.record(tenant, "<method> <route>", 429,
  at=<the request's time>)``: the same rows and attributes the service functions write
  (``req|<route>|429`` and ``throttled``), so the usage API adds both sources up alike;
- skip the lines without a tenant (the authorizer refused, or no key: API Gateway writes ``-``
  for a value it does not have) and count them, for the invocation's log line; the SaaS
  provider's own staff (the ``operations`` pseudo-tenant) are skipped and counted too, as the
  request path does not meter them (``tenant_context.service.request_metering``);
- flush once, at the end of the invocation: the whole batch is one flush, a few writes per
  tenant and period, never a write per 429.

Locally the front door meters its own 429s; this function does not run there.

A flush whose writes partly fail does not raise: the failed rows stay in the meter, which
lives as long as the Lambda container, and the next invocation's flush writes them. Raising
would make Lambda deliver the whole batch again (asynchronous invocations are retried), and the
rows already written would be counted twice. What a container reclaimed with rows still
pending loses is logged as the errors of the flush that failed them (``BatchResult.errors``,
which the function logs at ERROR).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tenant_context.service.usage_meter import THROTTLED_STATUS, FlushResult, UsageMeter
from tenant_context.service.validation import ASCII_DIGITS
from tenant_context.tenancy import OPERATIONS_TENANT_ID

DATA_MESSAGE = "DATA_MESSAGE"  # CONTROL_MESSAGE: CloudWatch Logs checking the destination
MISSING = "-"  # what API Gateway logs for a context value it does not have


@dataclass(frozen=True)
class Throttled:
    """One 429 of an access log, as the meter records it."""

    tenant_id: str
    route: str  # "<method> <route template>": ``GET /products/{id}``
    at: datetime


class Skipped(StrEnum):
    """Why a log event of the batch records nothing."""

    NO_TENANT = "no tenant"  # a 429 naming no tenant (the authorizer refused, no key)
    STAFF = "staff"  # a 429 of the SaaS provider's staff: not a tenant's usage
    NOT_A_429 = "not a 429 line"  # unreadable, or another status: a changed format or filter


@dataclass(frozen=True)
class BatchResult:
    """What one invocation did: its log line, and what tests check."""

    recorded: int  # 429s recorded for a tenant
    skipped: Mapping[Skipped, int]
    flush: FlushResult

    def summary(self) -> str:
        """The invocation's one log line."""
        skipped = ", ".join(f"{self.skipped.get(reason, 0)} {reason}" for reason in Skipped)
        return (f"access-log 429s: {self.recorded} recorded; skipped: {skipped}; "
                f"{self.flush.writes} usage writes, {self.flush.failed} failed (kept for the "
                f"next flush)")


def decoded(event: Mapping[str, Any]) -> dict[str, Any]:
    """CloudWatch Logs' subscription payload: ``{"awslogs": {"data": base64(gzip(JSON))}}``."""
    payload: dict[str, Any] = json.loads(gzip.decompress(
        base64.b64decode(event["awslogs"]["data"])))
    return payload


def _value(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    text = "" if value is None else str(value).strip()
    return "" if text == MISSING else text


def _request_time(record: Mapping[str, Any], logged_ms: int) -> datetime:
    """When API Gateway received the request (``time``: epoch milliseconds), which decides its
    hour; the log event's own timestamp when the line has none."""
    raw = _value(record, "time")
    milliseconds = int(raw) if ASCII_DIGITS.fullmatch(raw) and len(raw) < 16 else logged_ms
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def classified(payload: Mapping[str, Any]) -> Iterator[Throttled | Skipped]:
    """Each log event of a data message: a ``Throttled`` to record, or why it is skipped.
    Nothing in a line makes this raise: one odd line must not lose the batch's 429s."""
    if payload.get("messageType") != DATA_MESSAGE:
        return
    for event in payload.get("logEvents", []):
        try:
            record = json.loads(event["message"])
        except (KeyError, TypeError, ValueError):
            yield Skipped.NOT_A_429
            continue
        if not isinstance(record, dict) or _value(record, "status") != str(THROTTLED_STATUS):
            yield Skipped.NOT_A_429
            continue
        tenant_id = _value(record, "tenantId")
        if not tenant_id:
            yield Skipped.NO_TENANT
        elif tenant_id == OPERATIONS_TENANT_ID:
            yield Skipped.STAFF
        else:
            route = f"{_value(record, 'method')} {_value(record, 'route')}"
            logged = event.get("timestamp")
            yield Throttled(tenant_id, route, _request_time(
                record, logged if isinstance(logged, int) else 0))


def meter_batch(event: Mapping[str, Any], meter: UsageMeter) -> BatchResult:
    """Records every 429 of one subscription delivery that names a tenant, then flushes once
    (what earlier invocations failed to write goes with it)."""
    recorded = 0
    skipped: Counter[Skipped] = Counter()
    for entry in classified(decoded(event)):
        if isinstance(entry, Throttled):
            meter.record(entry.tenant_id, entry.route, THROTTLED_STATUS, at=entry.at)
            recorded += 1
        else:
            skipped[entry] += 1
    return BatchResult(recorded, dict(skipped), meter.flush())
