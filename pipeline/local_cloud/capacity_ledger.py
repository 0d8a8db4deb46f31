"""The emulator's own account of the DynamoDB capacity it reported, per tenant.

A tenant's usage counts the capacity units its requests' DynamoDB calls were told they
consumed (``ReturnConsumedCapacity``). To check that figure against its source, the emulator
keeps its own ledger: every DynamoDB response carrying ``ConsumedCapacity`` is added to the
tenant whose partition keys the request named (``<tenantId>-<shard>``, ``<tenantId>-gate``:
the tenant data tables' key format, pooled or silo). A request naming no tenant key (the
control plane's tables, keyed by the bare tenant id, and the usage table itself) or keys of
several tenants is not a tenant's and is not entered. ``GET /_local/capacity`` answers the
ledger: ``{"<tenantId>": {"read": 12.5, "write": 4.0}}``.

It is the emulator's side of the comparison only: nothing in the platform reads it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CAPACITY_PATH = "/_local/capacity"
_TARGET_PREFIX = "DynamoDB_20120810."
_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_TENANT_KEY = re.compile(r"([0-9a-f]{32})-[0-9a-z]+")


def _strings(value: Any) -> Iterator[str]:
    """Every string value in a request's key, item or expression values (low-level format)."""
    if isinstance(value, dict):
        for kind, inner in value.items():
            if kind == "S" and isinstance(inner, str):
                yield inner
            else:
                yield from _strings(inner)
    elif isinstance(value, list):
        for element in value:
            yield from _strings(element)


def tenant_of(request: dict[str, Any]) -> str | None:
    """The one tenant whose data keys the request names, or None."""
    named = [request.get(part) for part in ("Key", "Item", "ExpressionAttributeValues")]
    for table in (request.get("RequestItems") or {}).values():
        named.append(table.get("Keys") if isinstance(table, dict) else table)
    tenants = {match.group(1) for text in _strings(named)
               if (match := _TENANT_KEY.fullmatch(text))}
    return tenants.pop() if len(tenants) == 1 else None


def _units(consumed: Any) -> Decimal:
    entries = consumed if isinstance(consumed, list) else [consumed]
    return sum((Decimal(str(entry.get("CapacityUnits", 0))) for entry in entries
                if isinstance(entry, dict)), Decimal(0))


class CapacityLedger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: dict[str, dict[str, Decimal]] = {}

    def enter(self, operation: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        consumed = response.get("ConsumedCapacity")
        tenant = tenant_of(request) if consumed else None
        if tenant is None:
            return
        kind = "read" if operation in _READS else "write"
        with self._lock:
            totals = self._units.setdefault(tenant, {"read": Decimal(0), "write": Decimal(0)})
            totals[kind] += _units(consumed)

    def totals(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {tenant: {kind: float(units) for kind, units in totals.items()}
                    for tenant, totals in self._units.items()}

    def wrap(self, app: Wsgi) -> Wsgi:
        """``app`` whose DynamoDB answers are entered, and which answers ``GET
        /_local/capacity``."""
        def ledgered(environ: dict[str, Any], start_response: Callable[..., Any]
                     ) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == CAPACITY_PATH:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps(self.totals()).encode()]
            target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
            if not target.startswith(_TARGET_PREFIX):
                return app(environ, start_response)
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            if b'"ReturnConsumedCapacity"' not in body:  # nothing will be reported
                return app(environ, start_response)
            answer = app(environ, start_response)
            try:
                payload = b"".join(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()
            if b'"ConsumedCapacity"' in payload:
                with contextlib.suppress(ValueError):  # not JSON: nothing was consumed
                    self.enter(target.removeprefix(_TARGET_PREFIX), json.loads(body),
                               json.loads(payload))
            return [payload]
        return ledgered


def capacity_by_tenant(emulator_url: str) -> dict[str, dict[str, float]]:
    """The running emulator's ledger (``CapacityLedger.totals``)."""
    with urllib.request.urlopen(f"{emulator_url.rstrip('/')}{CAPACITY_PATH}",
                                timeout=30) as answer:
        data: dict[str, dict[str, float]] = json.load(answer)
    return data
