"""Records as the web apps expect them (field names and JSON types of the REST contract).

Each view's schema sits beside it (``tenant_context.service.openapi.Schema``): the admin API's
OpenAPI document names them, and the fuzz of that document checks every answer against them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.control_plane.usage_requests import (
    TenantUsageReport,
    UsageListing,
    UsageRange,
    utc_text,
)
from chalicelib.control_plane.user_management import UserView
from tenant_context.platform.cost_model import margin, to_cents
from tenant_context.platform.tenant_moves import MoveStep, TenantMove
from tenant_context.platform.tenant_offboarding import OffboardingStep, TenantOffboarding
from tenant_context.platform.tenant_records import DeploymentRecord, TenantRecord
from tenant_context.platform.usage_records import UsageFigures, UsageRow
from tenant_context.service.openapi import Schema
from tenant_context.tenancy import Role, Tier
from tenant_context.usage_periods import Granularity

_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": ["string", "null"]}
_TIER = {"type": "string", "enum": [tier.value for tier in Tier]}


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with every one of ``properties`` present (views always write them all)."""
    return {"type": "object", "required": list(properties), "properties": properties}


TENANT_SUMMARY = Schema("TenantSummary", _record({
    "tenantId": _TEXT, "tenantName": _TEXT, "tenantEmail": _TEXT, "tenantPhone": _TEXT,
    "tenantAddress": _TEXT, "tenantTier": _TIER, "isActive": {"type": "boolean"},
    "createdAt": _TEXT}))
DEPLOYMENT_DETAIL = Schema("DeploymentDetail", _record({
    "deployment_id": _TEXT, "stack_name": _TEXT, "status": _TEXT, "desired_state": _TEXT,
    "api_url": _MAYBE_TEXT, "failure_reason": _MAYBE_TEXT, "operator_action": _MAYBE_TEXT,
    "release_id": _MAYBE_TEXT, "released_at": _MAYBE_TEXT, "release_result": _MAYBE_TEXT,
    "release_failure": _MAYBE_TEXT, "wave": {"type": ["integer", "null"]},
    "apply_latest_release": {"type": ["boolean", "null"]}}))
_TENANT_DETAIL = _record({
    "tenant_id": _TEXT, "tenant_name": _TEXT, "tenant_email": _TEXT, "tenant_phone": _TEXT,
    "tenant_address": _TEXT, "tenant_tier": _TIER, "is_active": {"type": "boolean"}})
TENANT_DETAIL = Schema("TenantDetail", _TENANT_DETAIL | {"properties": {
    **_TENANT_DETAIL["properties"],
    "deployment": {"anyOf": [{"type": "null"}, DEPLOYMENT_DETAIL],
                   "description": "staff only: the tenant's deployment"}}})
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
_STEP = {"type": "string", "enum": [step.value for step in MoveStep]}
MOVE_DETAIL = Schema("TenantMove", _record({
    "tenantId": _TEXT, "moveId": _TEXT, "fromTier": _TIER, "toTier": _TIER, "step": _STEP,
    "steps": {"type": "array", "items": _STEP}, "writesPaused": {"type": "boolean"},
    "requestedBy": _TEXT, "requestedAt": _TEXT, "updatedAt": _TEXT,
    "finishedAt": _MAYBE_TEXT, "copied": _COUNTS, "removed": _COUNTS,
    "writesPausedSeconds": {"type": ["number", "null"], "minimum": 0},
    "attempts": {"type": "integer", "minimum": 0}, "error": _MAYBE_TEXT}))
OFFBOARDING_DETAIL = Schema("TenantOffboarding", _record({
    "tenantId": _TEXT, "offboardingId": _TEXT,
    "step": {"type": "string", "enum": [step.value for step in OffboardingStep]},
    "requestedBy": _TEXT, "requestedAt": _TEXT, "graceUntil": _TEXT,
    "audit": {"type": "array", "items": _record({"at": _TEXT, "by": _TEXT, "action": _TEXT})},
    "exportLocation": _MAYBE_TEXT, "exportLink": _MAYBE_TEXT, "exportExpiresAt": _MAYBE_TEXT,
    "exported": _COUNTS, "erased": _COUNTS, "remaining": _COUNTS,
    "attempts": {"type": "integer", "minimum": 0}, "error": _MAYBE_TEXT}))
# Usage: counts as integers, units and milliseconds as JSON numbers (DynamoDB counts halves),
# money as strings with exactly two decimals (USD; a string keeps the cents exact).
_COUNT = {"type": "integer", "minimum": 0}
_MEASURE = {"type": "number", "minimum": 0}
_DELTAS = {"type": "object", "additionalProperties": {"type": "integer"},
           "description": "the net change by kind (negative: removed)"}
_MONEY = {"type": "string", "pattern": "^-?[0-9]+[.][0-9]{2}$"}
_USAGE_FIGURES = {
    "requestCount": _COUNT,
    "requests": {"type": "array", "items": _record({
        "route": {"type": "string", "description": "method and route template"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599}, "count": _COUNT})},
    "throttled": _COUNT, "durationMs": _MEASURE, "readUnits": _MEASURE,
    "writeUnits": _MEASURE, "itemDeltas": _DELTAS, "byteDeltas": _DELTAS}
USAGE_FIGURES = Schema("UsageFigures", _record(_USAGE_FIGURES))
_USAGE_PERIOD = {**_USAGE_FIGURES, "period": {"type": "string", "enum": ["hour", "day"]},
                 "start": _TEXT, "end": _TEXT}
USAGE_PERIOD = Schema("UsagePeriod", _record(_USAGE_PERIOD))
TENANT_USAGE_PERIOD = Schema("TenantUsagePeriod", _record({"tenantId": _TEXT,
                                                           **_USAGE_PERIOD}))
ESTIMATED_COST = Schema("EstimatedCost", _record({
    "currency": {"type": "string", "const": "USD"}, "total": _MONEY, "revenue": _MONEY,
    "margin": _MONEY, "components": {"type": "object", "additionalProperties": _MONEY}}))
_RANGE = {"from": _TEXT, "to": _TEXT, "rangeHours": {"type": "integer", "minimum": 1}}
TENANT_USAGE = Schema("TenantUsage", _record({
    "tenantId": _TEXT, "tenantTier": _TIER, **_RANGE, "totals": USAGE_FIGURES,
    "activeUsers": {**_COUNT, "description": "distinct users with a request, per month the "
                    "range touches, summed (Cognito's monthly active users, as priced)"},
    "days": {"type": "array", "items": USAGE_PERIOD},
    "hours": {"anyOf": [{"type": "null"}, {"type": "array", "items": USAGE_PERIOD}],
              "description": "for a range of at most 48 hours; else null"},
    "estimatedCost": ESTIMATED_COST}))
USAGE_LISTING = Schema("UsageListing", _record({
    **_RANGE, "items": {"type": "array", "items": TENANT_USAGE_PERIOD},
    "nextToken": _MAYBE_TEXT}))
USER_DETAIL = Schema("UserDetail", _record({
    "user_name": _TEXT, "email": _TEXT,
    "user_role": {"type": "string", "enum": [role.value for role in Role]},
    "tenant_id": _TEXT, "enabled": {"type": "boolean"}, "status": _TEXT, "created": _TEXT,
    "modified": _TEXT}))


def tenant_summary(tenant: TenantRecord) -> dict[str, Any]:
    """An item of GET /tenants (the admin console's columns; never keys or pool ids)."""
    return {"tenantId": tenant.tenant_id, "tenantName": tenant.tenant_name,
            "tenantEmail": tenant.tenant_email, "tenantPhone": tenant.tenant_phone,
            "tenantAddress": tenant.tenant_address, "tenantTier": tenant.tier.value,
            "isActive": tenant.is_active, "createdAt": tenant.created_at}


def tenant_detail(tenant: TenantRecord) -> dict[str, Any]:
    """The ``message`` of GET /tenant/{id}."""
    return {"tenant_id": tenant.tenant_id, "tenant_name": tenant.tenant_name,
            "tenant_email": tenant.tenant_email, "tenant_phone": tenant.tenant_phone,
            "tenant_address": tenant.tenant_address, "tenant_tier": tenant.tier.value,
            "is_active": tenant.is_active}


def deployment_detail(row: DeploymentRecord | None) -> dict[str, Any] | None:
    """Staff's view of a tenant's deployment row: its state, the release it runs and, after a
    failure, why and what to do."""
    if row is None:
        return None
    release = row.release
    return {"deployment_id": row.deployment_id, "stack_name": row.stack_name,
            "status": row.status.value, "desired_state": row.desired_state.value,
            "api_url": row.api_url, "failure_reason": row.failure,
            "operator_action": row.operator_action, "release_id": release.release_id,
            "released_at": release.released_at,
            "release_result": release.result.value if release.result else None,
            "release_failure": release.failure, "wave": release.wave,
            "apply_latest_release": release.apply_latest_release}


def user_detail(view: UserView) -> dict[str, Any]:
    """An item of GET /users, and the ``message`` of GET /user/{name}."""
    record, cognito = view.record, view.cognito
    return {"user_name": record.user_name, "email": cognito.email if cognito else "",
            "user_role": record.role.value, "tenant_id": record.tenant_id,
            "enabled": record.enabled and bool(cognito and cognito.enabled),
            "status": cognito.status if cognito else "UNKNOWN",
            "created": (cognito.created if cognito else "") or record.created_at,
            "modified": (cognito.modified if cognito else "") or record.modified_at}


def move_detail(tenant: TenantRecord, move: TenantMove) -> dict[str, Any]:
    """A move as staff follow it: where it is, what it copied and removed, its last failure."""
    return {"tenantId": tenant.tenant_id, "moveId": move.move_id,
            "fromTier": move.from_tier.value, "toTier": move.to_tier.value,
            "step": move.step.value, "steps": [step.value for step in move.steps],
            "writesPaused": move.writes_paused, "requestedBy": move.requested_by,
            "requestedAt": move.requested_at, "updatedAt": move.updated_at,
            "finishedAt": move.finished_at or None, "copied": dict(move.copied),
            "removed": dict(move.removed), "writesPausedSeconds": move.paused_seconds,
            "attempts": move.attempts,
            "error": move.error or None}


def offboarding_detail(tenant_id: str, offboarding: TenantOffboarding) -> dict[str, Any]:
    """An offboarding as staff follow it: its audit, export and erasure report."""
    return {"tenantId": tenant_id, "offboardingId": offboarding.offboarding_id,
            "step": offboarding.step.value, "requestedBy": offboarding.requested_by,
            "requestedAt": offboarding.requested_at,
            "graceUntil": datetime.fromtimestamp(offboarding.grace_until, UTC).isoformat(
                timespec="seconds"),
            "audit": [entry.to_item() for entry in offboarding.audit],
            "exportLocation": offboarding.export_location or None,
            "exportLink": offboarding.export_link or None,
            "exportExpiresAt": offboarding.export_expires_at or None,
            "exported": dict(offboarding.exported), "erased": dict(offboarding.erased),
            "remaining": dict(offboarding.remaining), "attempts": offboarding.attempts,
            "error": offboarding.error or None}


def _measure(value: Decimal) -> int | float:
    """A JSON number: whole as an integer; else a float (halves of units, thousandths of a
    millisecond: exact enough to print as written)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _money(amount: Decimal) -> str:
    """USD to the cent, half up, as the cost model rounds (components are kept unrounded there,
    so the rounded ones shown need not add up to the total)."""
    return format(to_cents(amount), "f")


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def usage_figures(figures: UsageFigures) -> dict[str, Any]:
    """Usage over some time: requests by route and status (sorted), the rest as measured."""
    return {"requestCount": figures.request_count,
            "requests": [{"route": route, "status": status, "count": count}
                         for (route, status), count in sorted(figures.requests.items())],
            "throttled": figures.throttled, "durationMs": _measure(figures.duration_ms),
            "readUnits": _measure(figures.read_units),
            "writeUnits": _measure(figures.write_units),
            "itemDeltas": dict(sorted(figures.item_deltas.items())),
            "byteDeltas": dict(sorted(figures.byte_deltas.items()))}


def usage_period(row: UsageRow) -> dict[str, Any]:
    """One hour's or day's row of a tenant (UTC)."""
    return {"period": "hour" if row.period.granularity is Granularity.HOUR else "day",
            "start": utc_text(row.period.start), "end": utc_text(row.period.end),
            **usage_figures(row)}


def _range(wanted: UsageRange) -> dict[str, Any]:
    return {"from": utc_text(wanted.start), "to": utc_text(wanted.end),
            "rangeHours": wanted.hours}


def tenant_usage(report: TenantUsageReport) -> dict[str, Any]:
    """GET /tenant/{id}/usage: totals, days (and hours) and the estimated cost vs revenue."""
    cost, revenue = report.estimate.cost, report.estimate.revenue
    return {"tenantId": report.tenant.tenant_id, "tenantTier": report.tenant.tier.value,
            **_range(report.range), "totals": usage_figures(report.totals),
            "activeUsers": report.active_users,
            "days": [usage_period(row) for row in report.days],
            "hours": None if report.hours is None else [usage_period(row)
                                                         for row in report.hours],
            "estimatedCost": {
                "currency": "USD", "total": _money(cost.total), "revenue": _money(revenue),
                "margin": _money(margin(revenue, cost)),
                "components": {_camel(name): _money(amount)
                               for name, amount in cost.components().items()}}}


def usage_listing(listing: UsageListing) -> dict[str, Any]:
    """GET /usage: a page of every tenant's daily rows."""
    return {**_range(listing.range),
            "items": [{"tenantId": row.tenant_id, **usage_period(row)}
                      for row in listing.page.rows],
            "nextToken": listing.page.next_token}
