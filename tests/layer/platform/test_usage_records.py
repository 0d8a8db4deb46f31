"""The usage table read back: a known load of three tenants flushed by the meter and read
exactly per tenant, route, status, hour and day; ranges across days and months; totals from
days and the hours of partial days; every tenant's days, paged; nothing for a tenant that
recorded nothing; bad ranges and tokens refused as 400s. And the table itself: its TTL on the
emulator as in the template, and no grant on it in any tenant's session policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from pipeline.local_cloud.provisioning.baseline_bootstrap import local_policy_resources
from pipeline.local_cloud.provisioning.emulated_stack import apply_time_to_live
from pipeline.stacks import cloudformation as cfn
from tenant_context.errors import BadRequestError
from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.platform.session_policies import session_policy
from tenant_context.platform.usage_records import UsageRecords, UsageRow, total
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import Role
from tenant_context.usage_periods import (
    Granularity,
    day_key,
    hour_key,
    is_usage_key,
    parse_period,
)
from tests.support.iam_evaluation import Access, allowed
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# Years of their own: the session's emulator is shared, and every-tenant listings scan it.
LOAD_DAY = datetime(2040, 1, 31, tzinfo=UTC)  # the load spans the month's end
PAGED_DAY = datetime(2041, 6, 1, tzinfo=UTC)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


def meter(dynamodb: DynamoDBClient) -> UsageMeter:
    return UsageMeter(dynamodb, USAGE_TABLE.name, lambda: LOAD_DAY)


@pytest.fixture(scope="module")
def load(world: World) -> dict[str, str]:
    """Three tenants of a known load over 22:00 Jan 31 to 01:59 Feb 1 (UTC), and one that
    recorded nothing. Each tenant: 300, 120 and 40 requests."""
    names = {name: uuid.uuid4().hex for name in ("big", "mid", "small", "idle")}
    usage = meter(world.clients.dynamodb)
    for index in range(300):  # 22:00-01:59: 75 an hour, one 429 in five
        moment = at(LOAD_DAY, 22, (index * 240 // 300) % 60) + timedelta(
            hours=(index * 4 // 300))
        usage.record(names["big"], "GET /products", 429 if index % 5 == 0 else 200, 10,
                     read_units=0.5, at=moment)
    for index in range(120):  # 23:xx: 100 reads, 20 writes of 100 bytes each
        if index < 100:
            usage.record(names["mid"], "GET /orders", 200, 4, read_units=1, at=at(LOAD_DAY, 23))
        else:
            usage.record(names["mid"], "POST /orders", 201, 9, write_units=1,
                         item_deltas={"order": 1}, byte_deltas={"order": 100},
                         at=at(LOAD_DAY, 23, 30))
    for _ in range(40):  # 01:xx on Feb 1
        usage.record(names["small"], "GET /products/{id}", 404, 2, read_units=0.5,
                     at=at(LOAD_DAY, 25, 10))
    assert usage.flush().ok
    return names


def test_hours_and_days_hold_exactly_what_was_recorded(world: World,
                                                       load: dict[str, str]) -> None:
    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    start, end = at(LOAD_DAY, 22), at(LOAD_DAY, 26)
    big = records.hours(load["big"], start, end)
    assert [row.period.key for row in big] == [
        "H#2040-01-31T22", "H#2040-01-31T23", "H#2040-02-01T00", "H#2040-02-01T01"]
    assert all(row.request_count == 75 and row.throttled == 15 for row in big)
    assert all(row.requests == {("GET /products", 200): 60, ("GET /products", 429): 15}
               for row in big)
    assert [row.read_units for row in big] == [Decimal("37.5")] * 4
    assert [row.duration_ms for row in big] == [Decimal(750)] * 4

    mid = records.hours(load["mid"], start, end)
    assert len(mid) == 1
    assert mid[0] == UsageRow(
        tenant_id=load["mid"], period=parse_period("H#2040-01-31T23"),
        requests={("GET /orders", 200): 100, ("POST /orders", 201): 20}, throttled=0,
        duration_ms=Decimal(580), read_units=Decimal(100), write_units=Decimal(20),
        item_deltas={"order": 20}, byte_deltas={"order": 2000})

    days = {name: records.days(load[name], LOAD_DAY, LOAD_DAY + timedelta(days=2))
            for name in ("big", "mid", "small")}
    assert {name: [(row.period.key, row.request_count) for row in rows]
            for name, rows in days.items()} == {
        "big": [("D#2040-01-31", 150), ("D#2040-02-01", 150)],
        "mid": [("D#2040-01-31", 120)],
        "small": [("D#2040-02-01", 40)]}
    assert days["big"][0].requests_by_route() == {"GET /products": 150}
    assert days["small"][0].requests == {("GET /products/{id}", 404): 40}
    assert all(row.period.granularity is Granularity.DAY for rows in days.values()
               for row in rows)


def test_nothing_is_attributed_to_a_tenant_that_recorded_nothing(
        world: World, load: dict[str, str]) -> None:
    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    idle = load["idle"]
    assert records.hours(idle, LOAD_DAY, LOAD_DAY + timedelta(days=2)) == []
    assert records.days(idle, LOAD_DAY, LOAD_DAY + timedelta(days=2)) == []
    assert records.totals(idle, LOAD_DAY, LOAD_DAY + timedelta(days=2)).request_count == 0
    page = records.tenants_days(LOAD_DAY, LOAD_DAY + timedelta(days=2), limit=1000)
    assert page.next_token is None
    assert {row.tenant_id for row in page.rows} == {load["big"], load["mid"], load["small"]}


def test_a_range_counts_whole_periods_from_start_to_before_end(
        world: World, load: dict[str, str]) -> None:
    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    big = load["big"]
    # 23:30 to 00:00 exactly: the hour holding the start, never the hour starting at the end.
    assert [row.period.key for row in records.hours(big, at(LOAD_DAY, 23, 30),
                                                    at(LOAD_DAY, 24))] == ["H#2040-01-31T23"]
    # Across the month's end, by days.
    assert [row.period.key for row in records.days(big, at(LOAD_DAY, 12), at(LOAD_DAY, 25))
            ] == ["D#2040-01-31", "D#2040-02-01"]
    assert records.days(big, LOAD_DAY + timedelta(days=2), LOAD_DAY + timedelta(days=30)) == []


def test_totals_read_whole_days_and_the_hours_of_partial_ones(
        world: World, load: dict[str, str]) -> None:
    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    big = load["big"]
    whole = records.totals(big, LOAD_DAY, LOAD_DAY + timedelta(days=2))
    assert (whole.request_count, whole.throttled, whole.read_units) == (300, 60, Decimal(150))
    assert whole.requests == {("GET /products", 200): 240, ("GET /products", 429): 60}
    # 23:00 Jan 31 to 01:00 Feb 1: two hours, no whole day.
    assert records.totals(big, at(LOAD_DAY, 23), at(LOAD_DAY, 25)).request_count == 150
    # 23:00 Jan 31 to Feb 2: the hour 23 plus the whole of Feb 1.
    assert records.totals(big, at(LOAD_DAY, 23),
                          LOAD_DAY + timedelta(days=2)).request_count == 75 + 150
    mid = records.totals(load["mid"], LOAD_DAY - timedelta(days=3), LOAD_DAY + timedelta(days=3))
    assert (mid.item_deltas, mid.byte_deltas, mid.write_units) == (
        {"order": 20}, {"order": 2000}, Decimal(20))
    assert total([whole, mid]).request_count == 420


def test_every_tenants_days_come_in_pages_that_add_up(world: World) -> None:
    usage = meter(world.clients.dynamodb)
    tenants = [uuid.uuid4().hex for _ in range(4)]
    expected: dict[tuple[str, str], int] = {}
    for number, tenant_id in enumerate(tenants, start=1):
        for day in range(3):  # three days each, and a fourth outside the range
            moment = PAGED_DAY + timedelta(days=day, hours=number)
            for _ in range(number + day):
                usage.record(tenant_id, "GET /products", 200, at=moment)
            expected[(tenant_id, day_key(moment))] = number + day
        usage.record(tenant_id, "GET /products", 200, at=PAGED_DAY + timedelta(days=5))
    assert usage.flush().ok
    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    seen: dict[tuple[str, str], int] = {}
    token: str | None = None
    pages = 0
    while True:
        page = records.tenants_days(PAGED_DAY, PAGED_DAY + timedelta(days=3), limit=5,
                                    next_token=token)
        pages += 1
        assert len(page.rows) <= 5
        for row in page.rows:
            assert (row.tenant_id, row.period.key) not in seen
            seen[(row.tenant_id, row.period.key)] = row.request_count
        token = page.next_token
        if token is None:
            break
    assert seen == expected
    assert pages >= 3  # 12 rows, 5 at most a page
    assert not any(key.startswith("H#") for _, key in seen)  # days only


@pytest.mark.parametrize("call", [
    lambda records: records.hours("t", PAGED_DAY, PAGED_DAY),
    lambda records: records.days("t", PAGED_DAY, PAGED_DAY - timedelta(days=1)),
    lambda records: records.totals("t", PAGED_DAY + timedelta(hours=1), PAGED_DAY),
    lambda records: records.hours("t", datetime(2041, 1, 1), PAGED_DAY),  # naive
    lambda records: records.tenants_days(PAGED_DAY, PAGED_DAY + timedelta(days=1), limit=0),
    lambda records: records.tenants_days(PAGED_DAY, PAGED_DAY + timedelta(days=1),
                                         next_token="not-a-token"),
    lambda records: records.tenants_days(PAGED_DAY, PAGED_DAY + timedelta(days=1),
                                         next_token="WyJ0IiwgIkgjMjA0MSJd"),  # ["t", "H#2041"]
], ids=["empty", "reversed", "reversed-totals", "naive", "limit", "token", "token-period"])
def test_bad_ranges_and_tokens_are_the_callers_mistake(world: World, call: object) -> None:
    records = UsageRecords(world.clients.dynamodb, USAGE_TABLE.name)
    with pytest.raises(BadRequestError):
        call(records)  # type: ignore[operator]


def test_the_table_expires_hourly_rows_on_both_targets(world: World) -> None:
    dynamodb = world.clients.dynamodb
    described = dynamodb.describe_time_to_live(TableName=USAGE_TABLE.name)
    assert described["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED",
                                                  "AttributeName": "expiresAt"}
    assert cfn.table(USAGE_TABLE)["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiresAt", "Enabled": True}
    assert "TimeToLiveSpecification" not in USAGE_TABLE.create_table_request()

    class Watching:
        updates = 0

        def describe_time_to_live(self, **request: str) -> object:
            return dynamodb.describe_time_to_live(**request)

        def update_time_to_live(self, **request: object) -> None:
            self.updates += 1

    watching = Watching()
    apply_time_to_live(watching, [USAGE_TABLE])  # type: ignore[arg-type]
    assert watching.updates == 0  # applied already: a restart writes (and records) nothing


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("pooled", [True, False])
def test_no_tenant_credentials_reach_the_usage_table(role: Role, pooled: bool) -> None:
    """Usage is read by staff through the admin API; a tenant's scoped credentials never reach
    it, not even its own rows (they would show other figures than the API's checks allow)."""
    tenant_id = uuid.uuid4().hex
    document = session_policy(role, tenant_id, pooled_data=pooled,
                              resources=local_policy_resources())
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{USAGE_TABLE.name}"
    for action in ("GetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                   "BatchGetItem", "BatchWriteItem"):
        assert not allowed(document, Access(f"dynamodb:{action}", USAGE_TABLE.name, None,
                                            (tenant_id,)), arn)


def test_keys_are_the_utc_hour_and_day() -> None:
    moment = datetime(2026, 12, 1, 19, 59, tzinfo=UTC)
    assert (hour_key(moment), day_key(moment)) == ("H#2026-12-01T19", "D#2026-12-01")
    assert parse_period("H#2026-12-01T19").start == datetime(2026, 12, 1, 19, tzinfo=UTC)
    for bad in ("H#2026-12-01T7", "D#2026-12-1", "X#2026-12-01", "H#2026-12-01", "D#"):
        with pytest.raises(ValueError, match="not a usage period"):
            parse_period(bad)


def test_monthly_active_users_are_summed_over_the_months_a_range_touches(
        world: World) -> None:
    dynamodb = world.clients.dynamodb
    tenant_id = uuid.uuid4().hex
    meter = UsageMeter(dynamodb, USAGE_TABLE.name)
    late_may = datetime(2041, 5, 30, 12, tzinfo=UTC)
    for user, moment in (("ann", late_may), ("bob", late_may), ("ann", late_may.replace(day=2)),
                         ("ann", late_may + timedelta(days=5)),  # June
                         ("cat", late_may + timedelta(days=40))):  # July
        meter.record(tenant_id, "GET /products", 200, at=moment, user=user)
    assert meter.flush().ok
    records = UsageRecords(dynamodb, USAGE_TABLE.name)
    june = datetime(2041, 6, 1, tzinfo=UTC)
    assert records.active_users(tenant_id, datetime(2041, 5, 1, tzinfo=UTC), june) == 2
    assert records.active_users(tenant_id, late_may, june + timedelta(days=1)) == 3  # + June
    assert records.active_users(tenant_id, june, june + timedelta(days=30)) == 1
    assert records.active_users(tenant_id, late_may, datetime(2041, 8, 1, tzinfo=UTC)) == 4
    assert records.active_users(uuid.uuid4().hex, late_may, june) == 0
    # The month's rows and the user markers are no day: range reads never meet them.
    assert [row.period.key for row in records.days(tenant_id, late_may, june)] == [
        "D#2041-05-30"]
    with pytest.raises(BadRequestError):
        records.active_users(tenant_id, june, late_may)


@pytest.mark.parametrize(("key", "ours"), [
    ("H#2026-12-01T19", True), ("D#2026-12-01", True), ("M#2026-12", True),
    ("U#2026-12#ann", True), ("U#2026-12#", False), ("M#2026-12#ann", False),
    ("M#2026-1", False), ("X#2026-12", False), ("D#2026-12-1", False)])
def test_a_listing_token_may_stop_on_any_row_the_writers_write(key: str, ours: bool) -> None:
    assert is_usage_key(key) is ours


def test_stored_byte_hours_add_up_every_change_from_the_first_row(world: World) -> None:
    dynamodb = world.clients.dynamodb
    tenant_id = uuid.uuid4().hex
    meter = UsageMeter(dynamodb, USAGE_TABLE.name)
    gib = 2**30
    first = datetime(2043, 7, 1, 9, tzinfo=UTC)
    meter.record(tenant_id, "POST /product", 201, byte_deltas={"product": gib}, at=first)
    meter.record(tenant_id, "POST /order", 201, byte_deltas={"order": gib},
                 at=first + timedelta(days=2))  # July 3rd: 2 GiB from then on
    meter.record(tenant_id, "DELETE /product/{key}", 200, byte_deltas={"product": -3 * gib},
                 at=first + timedelta(days=4))  # July 5th: below 0 counts as 0
    assert meter.flush().ok
    records = UsageRecords(dynamodb, USAGE_TABLE.name)
    july = datetime(2043, 7, 1, tzinfo=UTC)
    # A day's storage is what it holds at its end, for each of its hours in the range.
    assert records.stored_byte_hours(tenant_id, july + timedelta(hours=10),
                                     july + timedelta(days=1)) == 14 * gib
    assert records.stored_byte_hours(tenant_id, july + timedelta(days=1),
                                     july + timedelta(days=1, hours=12)) == 12 * gib
    assert records.stored_byte_hours(tenant_id, july, july + timedelta(days=5)) == \
        (24 + 24 + 2 * 24 + 2 * 24 + 0) * gib
    assert records.stored_byte_hours(tenant_id, july - timedelta(days=3), july) == 0
    with pytest.raises(BadRequestError):
        records.stored_byte_hours(tenant_id, july, july)
