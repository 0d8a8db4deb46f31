"""The admin API's usage routes through the real authorizer, with real tokens, over rows the
usage meter wrote to the session's emulator: exact figures per tenant, route, status, day and
hour; the estimated cost and revenue to the cent; who may read whose usage; every tenant's
days, paged; and every bad input refused with a 4xx naming what is wrong.

The loads sit in years of their own (2047, 2048): the emulator is shared, and GET /usage scans
every tenant's rows of its range."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest

from pipeline.project import PROJECT_ROOT
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.cost_model import TenantCost
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE, USAGE_TABLE
from tenant_context.platform.tenant_offboarding import OFFBOARDING_ATTRIBUTE
from tenant_context.platform.tenant_records import TOMBSTONE_ATTRIBUTE
from tenant_context.platform.usage_records import (
    SERVICE_FUNCTION_MEMORY_MB,
    UsageFigures,
    tenant_usage,
)
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import Role, Tier, new_tenant_id
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.support.admin_api_client import AdminApi
from tests.support.world import World

DAY = datetime(2047, 3, 10, tzinfo=UTC)
LISTED_DAY = datetime(2048, 6, 1, tzinfo=UTC)


def text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def usage_path(tenant_id: str, start: datetime | str | None = None,
               end: datetime | str | None = None) -> str:
    params = {name: text(value) if isinstance(value, datetime) else value
              for name, value in (("from", start), ("to", end)) if value is not None}
    query = "&".join(f"{name}={quote(value, safe=':')}" for name, value in params.items())
    return f"/tenant/{tenant_id}/usage" + (f"?{query}" if query else "")


def meter(world: World) -> UsageMeter:
    return UsageMeter(world.clients.dynamodb, USAGE_TABLE.name, lambda: DAY)


def record_a_and_b(world: World, a: str, b: str) -> None:
    """A: 12 requests over two days (two 429s); B: 5 requests, 8M read and 1.6M write units
    ($1.00 each at $0.125 and $0.625 a million)."""
    usage = meter(world)
    for minute in range(6):
        usage.record(a, "GET /products", 200, 12.5, read_units=0.5,
                     at=DAY + timedelta(hours=10, minutes=minute), user="ann")
    for _ in range(2):
        usage.record(a, "GET /products", 429, at=DAY + timedelta(hours=10, minutes=30))
    usage.record(a, "POST /product", 201, 30.25, write_units=1, item_deltas={"product": 1},
                 byte_deltas={"product": 120}, at=DAY + timedelta(hours=10, minutes=59),
                 user="bob")
    for _ in range(3):
        usage.record(a, "GET /products/{id}", 404, 2, read_units=0.5,
                     at=DAY + timedelta(days=1, hours=9, minutes=15), user="ann")
    for _ in range(4):
        usage.record(b, "GET /orders", 200, 5, read_units=1, at=DAY + timedelta(hours=11))
    usage.record(b, "POST /order", 201, 5, read_units=Decimal(8_000_000) - 4,
                 write_units=Decimal(1_600_000), at=DAY + timedelta(hours=11))
    assert usage.flush().ok


def figures(count: int, requests: list[tuple[str, int, int]], throttled: int, duration: float,
            read: float, write: float, items: dict[str, int] | None = None,
            sizes: dict[str, int] | None = None) -> dict[str, Any]:
    return {"requestCount": count,
            "requests": [{"route": route, "status": status, "count": n}
                         for route, status, n in requests],
            "throttled": throttled, "durationMs": duration, "readUnits": read,
            "writeUnits": write, "itemDeltas": items or {}, "byteDeltas": sizes or {}}


A_DAY_ONE = figures(9, [("GET /products", 200, 6), ("GET /products", 429, 2),
                        ("POST /product", 201, 1)], 2, 105.25, 3, 1, {"product": 1},
                    {"product": 120})
A_DAY_TWO = figures(3, [("GET /products/{id}", 404, 3)], 0, 6, 1.5, 0)
A_TOTAL = figures(12, [("GET /products", 200, 6), ("GET /products", 429, 2),
                       ("GET /products/{id}", 404, 3), ("POST /product", 201, 1)],
                  2, 111.25, 4.5, 1, {"product": 1}, {"product": 120})
COMPONENTS = {"apiGatewayRequests", "lambdaRequests", "lambdaCompute", "dynamodbReads",
              "dynamodbWrites", "dynamodbStorage", "cognitoUsers", "logsIngestion",
              "logsStorage", "platinumAlarms"}


def period(kind: str, start: datetime, length: timedelta, counted: dict[str, Any]
           ) -> dict[str, Any]:
    return {"period": kind, "start": text(start), "end": text(start + length), **counted}


def test_a_tenants_usage_exactly_for_staff_and_its_own_admin(admin_api: AdminApi,
                                                             world: World) -> None:
    a, b = world.pooled_tenant(Tier.BASIC), world.pooled_tenant(Tier.PREMIUM)
    record_a_and_b(world, a.tenant_id, b.tenant_id)
    tokens = {"SystemAdmin": world.id_token(world.operations_user(Role.SYSTEM_ADMIN)),
              "CustomerSupport": world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT)),
              "TenantAdmin": world.id_token(world.tenant_user(a, Role.TENANT_ADMIN))}
    two_days = usage_path(a.tenant_id, DAY, DAY + timedelta(days=2))

    answers = {role: admin_api.call("GET", two_days, token) for role, token in tokens.items()}

    expected = {
        "tenantId": a.tenant_id, "tenantTier": "Basic", "from": "2047-03-10T00:00:00Z",
        "to": "2047-03-12T00:00:00Z", "rangeHours": 48, "totals": A_TOTAL,
        "activeUsers": 2,  # ann and bob, in March: ann once, whatever her requests
        "days": [period("day", DAY, timedelta(days=1), A_DAY_ONE),
                 period("day", DAY + timedelta(days=1), timedelta(days=1), A_DAY_TWO)],
        "hours": [period("hour", DAY + timedelta(hours=10), timedelta(hours=1), A_DAY_ONE),
                  period("hour", DAY + timedelta(days=1, hours=9), timedelta(hours=1),
                         A_DAY_TWO)],
        # Basic is $49 a month: 2/30 of it. A's requests cost well under a cent; its two
        # monthly active users 2 x $0.015 of Cognito.
        "estimatedCost": {"currency": "USD", "total": "0.03", "revenue": "3.27",
                          "margin": "3.24", "components": {
                              **dict.fromkeys(COMPONENTS, "0.00"), "cognitoUsers": "0.03"}},
    }
    for role, answer in answers.items():
        assert answer.status_code == 200, (role, answer.body)
        assert answer.json_body == expected, role

    # B's own figures, over 30 days: no hours, Premium's month, and $2.00 of DynamoDB.
    month = admin_api.call("GET", usage_path(b.tenant_id, DAY - timedelta(days=10),
                                             DAY + timedelta(days=20)), tokens["SystemAdmin"])
    assert month.status_code == 200, month.body
    body = month.json_body
    assert (body["rangeHours"], body["hours"], body["tenantTier"]) == (720, None, "Premium")
    assert body["totals"] == figures(5, [("GET /orders", 200, 4), ("POST /order", 201, 1)],
                                     0, 25, 8_000_000, 1_600_000)
    assert [day["start"] for day in body["days"]] == ["2047-03-10T00:00:00Z"]
    cost = body["estimatedCost"]
    assert (cost["total"], cost["revenue"], cost["margin"]) == ("2.00", "499.00", "497.00")
    assert (cost["components"]["dynamodbReads"], cost["components"]["dynamodbWrites"]) == (
        "1.00", "1.00")


def test_a_range_counts_the_whole_hours_it_touches(admin_api: AdminApi, world: World) -> None:
    """10:30Z (sent as 12:30+02:00) to 10:45Z counts the hour 10:00-11:00: all of A's first
    day, and the answer says so."""
    a, b = world.pooled_tenant(), world.pooled_tenant()
    record_a_and_b(world, a.tenant_id, b.tenant_id)
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))

    answer = admin_api.call("GET", usage_path(a.tenant_id, "2047-03-10T12:30:00+02:00",
                                              "2047-03-10T10:45:00Z"), system_admin)

    assert answer.status_code == 200, answer.body
    body = answer.json_body
    assert (body["from"], body["to"], body["rangeHours"]) == (
        "2047-03-10T10:00:00Z", "2047-03-10T11:00:00Z", 1)
    assert body["totals"] == A_DAY_ONE
    assert [hour["start"] for hour in body["hours"]] == ["2047-03-10T10:00:00Z"]
    # A day from its date alone: midnight UTC to midnight UTC.
    day = admin_api.call("GET", usage_path(a.tenant_id, "2047-03-11", "2047-03-12"),
                         system_admin).json_body
    assert (day["rangeHours"], day["totals"]) == (24, A_DAY_TWO)


def test_the_default_range_is_the_last_seven_days(admin_api: AdminApi, world: World) -> None:
    tenant = world.pooled_tenant()
    now = datetime.now(UTC)
    usage = meter(world)
    usage.record(tenant.tenant_id, "GET /products", 200, 1, at=now - timedelta(hours=1))
    usage.record(tenant.tenant_id, "GET /products", 200, 1, at=now - timedelta(days=6))
    usage.record(tenant.tenant_id, "GET /products", 200, 1, at=now - timedelta(days=8))
    assert usage.flush().ok
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))

    answer = admin_api.call("GET", usage_path(tenant.tenant_id), system_admin)

    assert answer.status_code == 200, answer.body
    body = answer.json_body
    assert body["totals"]["requestCount"] == 2
    assert body["rangeHours"] in (168, 169)  # widened to whole hours
    assert datetime.fromisoformat(body["to"]) >= now
    ending = admin_api.call("GET", usage_path(tenant.tenant_id, end=DAY), system_admin)
    assert (ending.json_body["from"], ending.json_body["rangeHours"]) == (
        "2047-03-03T00:00:00Z", 168)


def test_who_may_not_read_a_tenants_usage(admin_api: AdminApi, world: World) -> None:
    a, b = world.pooled_tenant(), world.pooled_tenant()
    record_a_and_b(world, a.tenant_id, b.tenant_id)
    owner_of_a = world.id_token(world.tenant_user(a, Role.TENANT_ADMIN))
    user_of_a = world.id_token(world.tenant_user(a, Role.TENANT_USER))
    refused = {
        # The gateway refuses first: a TenantAdmin's policy names only its own tenant's paths
        # (the handler would answer 404, as for GET /tenant/{id}).
        "another tenant's, by its admin": admin_api.call("GET", usage_path(b.tenant_id),
                                                         owner_of_a),
        "its own, by a TenantUser": admin_api.call("GET", usage_path(a.tenant_id), user_of_a),
        "every tenant's, by a TenantAdmin": admin_api.call("GET", "/usage", owner_of_a),
        "no token": admin_api.call("GET", usage_path(a.tenant_id)),
    }
    statuses = {case: answer.status_code for case, answer in refused.items()}
    assert statuses == {"another tenant's, by its admin": 403, "its own, by a TenantUser": 403,
                        "every tenant's, by a TenantAdmin": 403, "no token": 401}
    for answer in refused.values():
        assert "totals" not in answer.body.decode()
        assert "items" not in answer.body.decode()


def test_bad_input_is_a_clear_4xx(admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Standard")
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    offboarded = admin_api.register("Basic")
    assert admin_api.call("POST", f"/tenant/offboarding/{offboarded.tenant_id}", system_admin,
                          {"confirmTenantName": offboarded.name}).status_code == 202
    leave_a_tombstone(world, offboarded.tenant_id)
    t = tenant.tenant_id
    cases: dict[str, tuple[str, int, list[str] | None, str]] = {
        "malformed from": (usage_path(t, "yesterday"), 400, ["from"], "from: must be"),
        "a compact date": (usage_path(t, "20470310"), 400, ["from"], "from: must be"),
        "non-ASCII digits": (usage_path(t, "\uff12\uff10\uff14\uff17-03-10"), 400,
                             ["from"], "from: must be"),
        "no such day": (usage_path(t, end="2047-02-30"), 400, ["to"], "to: not a real date"),
        "no such hour": (usage_path(t, "2047-03-10T24:00:00Z"), 400, ["from"],
                         "from: not a real date"),
        "a time without its zone": (usage_path(t, "2047-03-10T10:00:00"), 400, ["from"],
                                    "from: a date-time needs its zone"),
        "from equal to to": (usage_path(t, DAY, DAY), 400, ["from", "to"], "must be before to"),
        "from after to": (usage_path(t, DAY + timedelta(days=1), DAY), 400, ["from", "to"],
                          "must be before to"),
        "from after now, no to": (usage_path(t, datetime.now(UTC) + timedelta(days=1)), 400,
                                  ["from", "to"], "must be before to"),
        "over a year": (usage_path(t, DAY - timedelta(days=366, seconds=1), DAY), 400,
                        ["from", "to"], "more than 366 days"),
        "before 1970": (usage_path(t, "1969-12-31", "1970-01-02"), 400, ["from"],
                        "from: must lie from 1970-01-01"),
        "past datetime's years": (usage_path(t, "0001-01-01T00:00:00+01:00"), 400, ["from"],
                                  "from: must lie from 1970-01-01"),
        "in year 9999": (usage_path(t, end="9999-12-31"), 400, ["to"], "to: must lie"),
        "unknown tenant": (usage_path(new_tenant_id()), 404, None, "Tenant not found"),
        "not a tenant id": (usage_path("not-a-tenant"), 404, None, "Tenant not found"),
        "an offboarded tenant": (usage_path(offboarded.tenant_id), 404, None,
                                 "Tenant not found"),
        "limit 0": ("/usage?limit=0", 400, ["limit"], "limit: a whole number from 1 to 1000"),
        "limit 1001": ("/usage?limit=1001", 400, ["limit"], "limit: a whole number"),
        "limit not a number": ("/usage?limit=ten", 400, ["limit"], "limit: a whole number"),
        "a forged nextToken": ("/usage?nextToken=bm90LWEtdG9rZW4", 400, ["nextToken"],
                               "not a next token"),
        "an empty nextToken": ("/usage?nextToken=", 400, ["nextToken"], "nextToken: empty"),
        "/usage over a year": (f"/usage?from=2040-01-01&to={text(DAY)}", 400, ["from", "to"],
                               "more than 366 days"),
    }
    wrong = {}
    for case, (path, status, fields, says) in cases.items():
        answer = admin_api.call("GET", path, system_admin)
        body = answer.json_body
        if (answer.status_code, body.get("fields"), says in body.get("message", "")) != (
                status, fields, True):
            wrong[case] = (answer.status_code, body)
    assert wrong == {}
    # The edges allowed: exactly 366 days; the last moment before 9999.
    assert admin_api.call("GET", usage_path(t, DAY - timedelta(days=366), DAY),
                          system_admin).status_code == 200
    assert admin_api.call("GET", usage_path(t, "9998-12-31T22:30:00Z",
                                            "9998-12-31T23:59:59.999999Z"),
                          system_admin).status_code == 200


def leave_a_tombstone(world: World, tenant_id: str) -> None:
    """As the offboarder leaves a tenant it erased (as tests/shared_services/
    test_offboarding_requests.py does)."""
    dynamodb = world.clients.dynamodb
    offboarding = from_item(dynamodb.get_item(
        TableName=TENANT_DETAILS_TABLE.name, Key=to_item({"tenantId": tenant_id}),
        ConsistentRead=True)["Item"])[OFFBOARDING_ATTRIBUTE]
    dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name, Item=to_item({
        "tenantId": tenant_id, TOMBSTONE_ATTRIBUTE: "2047-03-01T00:00:00+00:00",
        "tenantNameReleased": True, "isActive": False,
        OFFBOARDING_ATTRIBUTE: offboarding | {"step": "done"}}))


def test_every_tenants_usage_paged_for_a_system_admin_only(admin_api: AdminApi,
                                                           world: World) -> None:
    """Tenants' days in 2048 (no record needed: the listing reads the usage table alone),
    one that recorded nothing, pages of at most 2 rows."""
    busy, quiet, idle = (uuid.uuid4().hex for _ in range(3))
    usage = meter(world)
    for day in range(3):
        for _ in range(day + 1):
            usage.record(busy, "GET /products", 200, 1,
                         at=LISTED_DAY + timedelta(days=day, hours=5))
    usage.record(quiet, "GET /orders", 429, at=LISTED_DAY + timedelta(days=1, hours=23))
    assert usage.flush().ok
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    support = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))
    query = f"from={text(LISTED_DAY)}&to={text(LISTED_DAY + timedelta(days=3))}"

    rows: list[dict[str, Any]] = []
    token: str | None = None
    for number in range(500):
        # Small pages first; then large ones, from the same token, through the rest of the
        # shared table (a Scan examines every tenant's rows, whatever the range).
        limit = 2 if number < 5 else 1000
        path = f"/usage?{query}&limit={limit}" + (f"&nextToken={quote(token)}" if token else "")
        page = admin_api.call("GET", path, system_admin)
        assert page.status_code == 200, page.body
        assert len(page.json_body["items"]) <= limit
        assert (page.json_body["from"], page.json_body["rangeHours"]) == (
            "2048-06-01T00:00:00Z", 72)
        rows += page.json_body["items"]
        token = page.json_body["nextToken"]
        if token is None:
            break
    assert token is None

    mine = sorted((row["tenantId"], row["start"], row["requestCount"], row["throttled"])
                  for row in rows if row["tenantId"] in {busy, quiet, idle})
    assert mine == sorted([(busy, "2048-06-01T00:00:00Z", 1, 0),
                           (busy, "2048-06-02T00:00:00Z", 2, 0),
                           (busy, "2048-06-03T00:00:00Z", 3, 0),
                           (quiet, "2048-06-02T00:00:00Z", 1, 1)])
    assert all(row["period"] == "day" for row in rows)
    assert len(admin_api.call("GET", f"/usage?{query}", system_admin).json_body["items"]) <= 100
    refused = admin_api.call("GET", f"/usage?{query}", support)
    assert refused.status_code == 403
    assert "SystemAdmin" in refused.json_body["message"]


def test_the_cost_models_usage_from_the_meters_figures() -> None:
    """The 429s are billed by neither API Gateway nor Lambda; compute is the summed time,
    rounded up to the millisecond once, times the functions' memory."""
    measured = UsageFigures(requests={("GET /products", 200): 8, ("GET /products", 429): 2},
                            throttled=2, duration_ms=Decimal("111.25"),
                            read_units=Decimal("4.5"), write_units=Decimal(1))

    priced = tenant_usage(measured, 128)

    assert (priced.api_requests, priced.lambda_invocations, priced.lambda_mb_ms) == (
        8, 8, 112 * 128)
    assert (priced.read_request_units, priced.write_request_units) == (Decimal("4.5"),
                                                                       Decimal(1))
    assert (priced.stored_byte_hours, priced.monthly_active_users,
            priced.log_bytes_ingested) == (0, 0, 0)
    assert {name.replace("_", "") for name in TenantCost.__dataclass_fields__} == {
        name.lower() for name in COMPONENTS}


@pytest.mark.parametrize("service", TENANT_SERVICES, ids=lambda service: service.name)
def test_the_services_functions_run_with_the_memory_the_cost_assumes(
        service: TenantService) -> None:
    """No stage of a tenant service sets its memory: Chalice's default, 128 MB, holds."""
    config = json.loads((PROJECT_ROOT / service.folder / ".chalice" / "config.json")
                        .read_text())
    stages = [config, *config.get("stages", {}).values()]
    sizes = {stage.get("lambda_memory_size", 128) for stage in stages}
    assert sizes == {SERVICE_FUNCTION_MEMORY_MB}
