"""The usage meter against the emulator's usage table: exact counts per tenant, route, status,
hour and day after a flush; a few writes per flush, never one per request; nothing lost by
threads recording at once; a failed write retried and counted once; the TTL on hours only."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import pytest

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.service.usage_meter import MAX_ATTRIBUTES_PER_WRITE, UsageMeter
from tenant_context.usage_periods import EXPIRES_AT, HOURLY_RETENTION
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# A year of its own: the session's emulator is shared, and no other test writes usage here.
T0 = datetime(2039, 3, 4, 10, 15, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Counting:
    """The real client, counting ``update_item`` calls; ``fail`` makes the next calls whose
    key matches raise before anything is sent (a throttled or refused write)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.client = client
        self.updates: list[dict[str, Any]] = []
        self.fail: set[tuple[str, str]] = set()
        self.lock = threading.Lock()

    def update_item(self, **request: Any) -> Any:
        key = from_item(request["Key"])
        if (key["tenantId"], key["period"]) in self.fail:
            raise RuntimeError("ProvisionedThroughputExceededException (injected)")
        with self.lock:
            self.updates.append(request)
        return self.client.update_item(**request)


def tenant() -> str:
    return uuid.uuid4().hex


def row(dynamodb: DynamoDBClient, tenant_id: str, period: str) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=USAGE_TABLE.name, ConsistentRead=True,
                             Key=to_item({"tenantId": tenant_id, "period": period})).get("Item")
    return from_item(item) if item else None


def meter_for(client: DynamoDBClient | Counting | LostAnswer, clock: Clock,
              **kwargs: Any) -> UsageMeter:
    return UsageMeter(cast("DynamoDBClient", client), USAGE_TABLE.name, clock, **kwargs)


def test_a_known_load_is_written_exactly_per_tenant_route_status_hour_and_day(
        world: World) -> None:
    dynamodb = world.clients.dynamodb
    counting = Counting(dynamodb)
    clock = Clock()
    meter = meter_for(counting, clock, flush_every_records=10_000)
    a, b, idle = tenant(), tenant(), tenant()
    for _ in range(30):
        meter.record(a, "GET /products", 200, 12.5, read_units=0.5)
    for _ in range(5):
        meter.record(a, "POST /products", 201, 20, write_units=1.0,
                     item_deltas={"product": 1}, byte_deltas={"product": 120})
    for _ in range(3):
        meter.record(a, "GET /products", 429)
    meter.record(a, "DELETE /products/{id}", 200, 8, write_units=1.0,
                 item_deltas={"product": -1}, byte_deltas={"product": -120})
    clock.now = T0 + timedelta(hours=1)  # 11:15: another hour of the same day
    for _ in range(7):
        meter.record(a, "GET /products", 200, 10, read_units=0.5)
    for _ in range(12):
        meter.record(b, "GET /orders", 200, 4, read_units=1.5)

    assert meter.pending_rows == 5  # a: two hours and a day; b: an hour and a day
    assert not counting.updates  # recording writes nothing
    result = meter.flush()
    assert result.ok
    assert result.writes == len(counting.updates) == 5  # one write per row, not per request

    first = row(dynamodb, a, "H#2039-03-04T10")
    assert first is not None
    assert first == {
        "tenantId": a, "period": "H#2039-03-04T10",
        "req|GET /products|200": 30, "req|POST /products|201": 5, "req|GET /products|429": 3,
        "req|DELETE /products/{id}|200": 1, "throttled": 3,
        "durationMs": Decimal("483"),  # 30 x 12.5 + 5 x 20 + 8
        "readUnits": Decimal("15"), "writeUnits": Decimal("6"),
        "items|product": 4, "bytes|product": 480,
        EXPIRES_AT: int((datetime(2039, 3, 4, 10, tzinfo=UTC) + HOURLY_RETENTION).timestamp()),
    }
    second = row(dynamodb, a, "H#2039-03-04T11")
    assert second is not None
    assert {name: value for name, value in second.items() if name != EXPIRES_AT} == {
        "tenantId": a, "period": "H#2039-03-04T11", "req|GET /products|200": 7,
        "durationMs": 70, "readUnits": Decimal("3.5")}
    day = row(dynamodb, a, "D#2039-03-04")
    assert day is not None
    assert day["req|GET /products|200"] == 37
    assert day["req|GET /products|429"] == day["throttled"] == 3
    assert day["durationMs"] == 553
    assert day["readUnits"] == Decimal("18.5")
    assert day["items|product"] == 4
    assert EXPIRES_AT not in day  # days are kept: billing needs months
    b_day = row(dynamodb, b, "D#2039-03-04")
    assert b_day is not None
    assert b_day["req|GET /orders|200"] == 12
    assert b_day["readUnits"] == 18
    assert "throttled" not in b_day  # nothing to add: no attribute
    for period in ("H#2039-03-04T10", "H#2039-03-04T11", "D#2039-03-04"):
        assert row(dynamodb, idle, period) is None

    assert meter.pending_rows == 0
    assert meter.flush().writes == 0  # forgotten once written: nothing is written twice
    assert len(counting.updates) == 5


def test_the_hour_and_the_day_boundaries_are_utc(world: World) -> None:
    dynamodb = world.clients.dynamodb
    meter = meter_for(dynamodb, Clock())
    a = tenant()
    last = datetime(2039, 5, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    meter.record(a, "GET /orders", 200, at=last)
    meter.record(a, "GET /orders", 200, at=last + timedelta(microseconds=1))
    # 01:30 at UTC+2 is 23:30 UTC the day before: the same hour as ``last``.
    meter.record(a, "GET /orders", 200,
                 at=datetime(2039, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))))
    assert meter.flush().ok
    counts = {period: found["req|GET /orders|200"] for period in (
        "H#2039-05-31T23", "H#2039-06-01T00", "D#2039-05-31", "D#2039-06-01")
        if (found := row(dynamodb, a, period))}
    assert counts == {"H#2039-05-31T23": 2, "H#2039-06-01T00": 1,
                      "D#2039-05-31": 2, "D#2039-06-01": 1}
    hour = row(dynamodb, a, "H#2039-06-01T00")
    assert hour is not None
    assert hour[EXPIRES_AT] == int(datetime(2039, 7, 6, tzinfo=UTC).timestamp())  # 35 days


def test_threads_recording_and_flushing_at_once_lose_nothing(world: World) -> None:
    dynamodb = world.clients.dynamodb
    meter = meter_for(dynamodb, Clock())
    tenants = [tenant() for _ in range(4)]
    threads_per_tenant, records_per_thread = 4, 250
    start = threading.Barrier(len(tenants) * threads_per_tenant + 1)
    done = threading.Event()

    def work(tenant_id: str) -> None:
        start.wait()
        for index in range(records_per_thread):
            meter.record(tenant_id, "GET /products", 200 if index % 5 else 404, 1.0,
                         read_units=0.5)

    def flusher() -> None:
        start.wait()
        while not done.is_set():
            assert meter.flush().ok

    workers = [threading.Thread(target=work, args=(tenant_id,))
               for tenant_id in tenants for _ in range(threads_per_tenant)]
    flushing = threading.Thread(target=flusher)
    for thread in (*workers, flushing):
        thread.start()
    for thread in workers:
        thread.join()
    done.set()
    flushing.join()
    assert meter.flush().ok
    each = threads_per_tenant * records_per_thread
    for tenant_id in tenants:
        for period in ("H#2039-03-04T10", "D#2039-03-04"):
            found = row(dynamodb, tenant_id, period)
            assert found is not None
            assert found["req|GET /products|200"] == each * 4 // 5
            assert found["req|GET /products|404"] == each // 5
            assert found["durationMs"] == each
            assert found["readUnits"] == each / 2


def test_a_failed_write_is_kept_and_counted_once_when_retried(world: World) -> None:
    dynamodb = world.clients.dynamodb
    counting = Counting(dynamodb)
    meter = meter_for(counting, Clock())
    a = tenant()
    for _ in range(10):
        meter.record(a, "GET /orders", 200, 5, write_units=1)
    counting.fail = {(a, "D#2039-03-04")}
    failed = meter.flush()
    assert (failed.writes, failed.failed) == (1, 1)
    assert "ProvisionedThroughputExceededException" in failed.errors[0]
    assert meter.pending_rows == 1  # the day's counts, back in the buffer
    assert meter.due() is False  # tried again at the flush pace, not on the next request

    for _ in range(4):  # more of the same hour and day meanwhile
        meter.record(a, "GET /orders", 200, 5, write_units=1)
    counting.fail = set()
    retried = meter.flush()
    assert (retried.writes, retried.failed) == (2, 0)
    hour, day = row(dynamodb, a, "H#2039-03-04T10"), row(dynamodb, a, "D#2039-03-04")
    assert hour is not None
    assert day is not None
    assert hour["req|GET /orders|200"] == day["req|GET /orders|200"] == 14
    assert hour["durationMs"] == day["durationMs"] == 70
    assert hour["writeUnits"] == day["writeUnits"] == 14


def test_a_row_with_very_many_routes_is_written_in_parts(world: World) -> None:
    dynamodb = world.clients.dynamodb
    counting = Counting(dynamodb)
    meter = meter_for(counting, Clock())
    a = tenant()
    routes = [f"GET /r{index}" for index in range(MAX_ATTRIBUTES_PER_WRITE + 10)]
    for route in routes:
        meter.record(a, route, 200)
    assert meter.flush().ok
    assert Counter(from_item(update["Key"])["period"] for update in counting.updates) == {
        "H#2039-03-04T10": 2, "D#2039-03-04": 2}
    day = row(dynamodb, a, "D#2039-03-04")
    assert day is not None
    assert {name for name in day if name.startswith("req|")} == {
        f"req|{route}|200" for route in routes}


def test_a_flush_is_due_after_so_many_records_or_so_much_time() -> None:
    clock = Clock()
    made: list[int] = []

    def factory() -> DynamoDBClient:
        made.append(1)
        raise AssertionError("no client is needed before a flush")

    meter = UsageMeter(factory, USAGE_TABLE.name, clock, flush_every_seconds=30,
                       flush_every_records=3)
    assert not meter.due()  # nothing to write
    clock.now += timedelta(seconds=31)
    assert not meter.due()
    meter.record("t", "GET /products", 200)
    assert meter.due()  # it has waited long enough
    other = UsageMeter(factory, USAGE_TABLE.name, clock, flush_every_seconds=30,
                       flush_every_records=3)
    other.record("t", "GET /products", 200)
    other.record("t", "GET /products", 200)
    assert not other.due()
    other.record("t", "GET /products", 200)
    assert other.due()
    assert not made


@pytest.mark.parametrize(("arguments", "message"), [
    ({"route": "GET /a|b"}, "without '|'"),
    ({"route": ""}, "non-empty"),
    ({"status": 42}, "not an HTTP status"),
    ({"duration_ms": -1.0}, "cannot be negative"),
    ({"duration_ms": float("nan")}, "not a finite number"),
    ({"at": datetime(2039, 1, 1)}, "without a zone"),  # naive: the point
    ({"tenant_id": ""}, "tenant id"),
])
def test_bad_records_are_refused_and_nothing_is_kept(arguments: dict[str, Any],
                                                     message: str) -> None:
    meter = UsageMeter(lambda: pytest.fail("no client"), USAGE_TABLE.name, Clock())
    call: dict[str, Any] = {"tenant_id": "t", "route": "GET /products", "status": 200,
                            **arguments}
    with pytest.raises(ValueError, match=message):
        meter.record(**call)
    assert meter.pending_rows == 0


def test_fractional_units_add_up_exactly(world: World) -> None:
    """Units as DynamoDB reports them (halves, and whatever a float carries) are added as
    decimals: ten reads of 0.1 are 1 unit, not 0.9999999999999999."""
    dynamodb = world.clients.dynamodb
    meter = meter_for(dynamodb, Clock())
    a = tenant()
    for _ in range(10):
        meter.record(a, "GET /orders", 200, 0.1, read_units=0.1, write_units=Decimal("0.5"))
    assert meter.flush().ok
    found = row(dynamodb, a, "D#2039-03-04")
    assert found is not None
    assert (found["readUnits"], found["writeUnits"], found["durationMs"]) == (1, 5, 1)


class LostAnswer:
    """The real client whose first ``transact_write_items`` is applied and then its answer
    lost (a timeout after sending): the retry must not count the user twice."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.client = client
        self.exceptions = client.exceptions
        self.lost = 0

    def update_item(self, **request: Any) -> Any:
        return self.client.update_item(**request)

    def transact_write_items(self, **request: Any) -> Any:
        answer = self.client.transact_write_items(**request)
        if not self.lost:
            self.lost += 1
            raise TimeoutError("read timeout (injected, after the write)")
        return answer


def test_active_users_are_counted_once_per_month_across_processes(world: World) -> None:
    dynamodb = world.clients.dynamodb
    a, b = tenant(), tenant()
    clock = Clock()
    one, other = meter_for(dynamodb, clock), meter_for(dynamodb, clock)  # two processes
    for meter in (one, other):
        for user in ("ann", "bob", "ann"):
            meter.record(a, "GET /orders", 200, user=user)
        meter.record(b, "GET /orders", 200, user="ann")  # another tenant's ann
    one.record(a, "GET /orders", 200, user="cat", at=T0 + timedelta(days=31))  # April
    one.record(a, "GET /orders", 429)  # a front door's 429: no user
    assert one.flush().ok
    assert other.flush().ok
    assert row(dynamodb, a, "M#2039-03") == {"tenantId": a, "period": "M#2039-03",
                                             "activeUsers": 2}
    assert row(dynamodb, a, "M#2039-04") == {"tenantId": a, "period": "M#2039-04",
                                             "activeUsers": 1}
    assert row(dynamodb, b, "M#2039-03") == {"tenantId": b, "period": "M#2039-03",
                                             "activeUsers": 1}
    marker = row(dynamodb, a, "U#2039-03#ann")
    assert marker is not None
    assert marker[EXPIRES_AT] == int((datetime(2039, 4, 1, tzinfo=UTC)
                                      + HOURLY_RETENTION).timestamp())

    # A user counted once is not asked about again by the same process.
    one.record(a, "GET /orders", 200, user="ann")
    assert one.flush().writes == 2  # the hour and the day, no transaction

    # An answer lost after the transaction applied: retried, refused by the marker, once.
    lossy = meter_for(LostAnswer(dynamodb), clock)
    lossy.record(a, "GET /orders", 200, user="dan")
    lost = lossy.flush()
    assert (lost.writes, lost.failed) == (2, 1)
    assert lossy.pending
    assert lossy.flush().ok
    assert not lossy.pending
    assert row(dynamodb, a, "M#2039-03") == {"tenantId": a, "period": "M#2039-03",
                                             "activeUsers": 3}
