"""The billing export against the emulator: usage written by the real meter, read back per UTC
month to the exact quantity and the cent (the month's first and last second in, the next
month's first out), events whose idempotency keys are the same on every run and differ between
tenants, months and meters, a running month marked not final, and bad months refused by the
command with exit code 2 and nothing written.

Months of 2042: the session's emulator is shared, and no other test writes usage there."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.deploy.billing_export import Tools, main
from pipeline.local_cloud.state import StatePaths
from pipeline.usage.billing_export import (
    CSV_COLUMNS,
    EVENT_SCHEMA,
    BadMonthError,
    BillingExport,
    BillingLine,
    BillingMonth,
    csv_text,
    events_document,
)
from tenant_context.platform.cost_model import published_prices
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE, USAGE_TABLE
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import Tier
from tests.support.moto_server import clients_for
from tests.support.world import Tenant, World

NOW = datetime(2042, 12, 5, 9, 30, tzinfo=UTC)  # November is over, December runs
NOVEMBER, DECEMBER = BillingMonth(2042, 11), BillingMonth(2042, 12)
GIB = 2**30


@pytest.fixture(scope="module")
def tenants(world: World) -> dict[str, Tenant]:
    """A Standard tenant with usage around November's edges, and a Platinum one with none.

    standard: 1 GiB stored in October (so all of November's 720 hours), a read of 40,000 units
    and 2,400 s of handling at November's first moment, a 429 mid-month, a write of 16,000 units
    and 2,400 s more at its last second (both by ann: one active user), and a call by bob at
    December's first moment (not November's)."""
    found = {"standard": world.pooled_tenant(Tier.STANDARD), "platinum": world.platinum_tenant()}
    standard = found["standard"].tenant_id
    meter = UsageMeter(world.clients.dynamodb, USAGE_TABLE.name, lambda: NOW)
    meter.record(standard, "POST /products", 201, 5, write_units=1,
                 item_deltas={"product": 1}, byte_deltas={"product": GIB},
                 at=datetime(2042, 10, 15, 8, tzinfo=UTC))
    meter.record(standard, "GET /products", 200, 2_400_000, read_units=40_000,
                 at=datetime(2042, 11, 1, tzinfo=UTC), user="ann")
    meter.record(standard, "GET /products", 429, at=datetime(2042, 11, 10, 12, tzinfo=UTC))
    meter.record(standard, "POST /products", 201, 2_400_000, write_units=16_000,
                 at=datetime(2042, 11, 30, 23, 59, 59, tzinfo=UTC), user="ann")
    meter.record(standard, "GET /products", 200, 1_000_000, read_units=1_000_000,
                 at=datetime(2042, 12, 1, tzinfo=UTC), user="bob")
    assert meter.flush().ok
    return found


def export(world: World, now: datetime = NOW) -> BillingExport:
    return BillingExport(world.clients.dynamodb, USAGE_TABLE.name, TENANT_DETAILS_TABLE.name,
                         published_prices(), lambda: now)


def rows(lines: list[BillingLine]) -> list[tuple[str, ...]]:
    """CSV rows less the key (checked on its own)."""
    return [tuple(row[:-1]) for row in csv.reader(io.StringIO(csv_text(lines)))][1:]


def test_a_month_is_exact_to_the_unit_and_the_cent(world: World,
                                                   tenants: dict[str, Tenant]) -> None:
    standard, platinum = (tenants[name].record for name in ("standard", "platinum"))
    lines = export(world).month(NOVEMBER, standard.tenant_id)

    head = ("2042-11", standard.tenant_id, standard.tenant_name, "Standard")
    # Requests: 2 answered (the 429 is billed by neither API Gateway nor Lambda), $0.0000074.
    # Lambda: ceil(4,800,000 ms) x 128 MB = 600 GB-s, $0.01000002. Reads: 40,000 at $0.125 a
    # million, $0.005, half up $0.01. Writes: 16,000 at $0.625, $0.01. Storage: 1 GiB for
    # 720 hours is one GB-month, $0.25. One active user (ann, twice): $0.015, half up $0.02.
    # Total: $0.29000742, $0.29. Tier: Standard, $199.
    assert rows(lines) == [
        (*head, "requests", "2", "requests", "0.00", "199.00", "true"),
        (*head, "throttled_requests", "1", "requests", "0.00", "199.00", "true"),
        (*head, "lambda_gb_seconds", "600", "GB-seconds", "0.01", "199.00", "true"),
        (*head, "dynamodb_read_units", "40000", "read request units", "0.01", "199.00",
         "true"),
        (*head, "dynamodb_write_units", "16000", "write request units", "0.01", "199.00",
         "true"),
        (*head, "dynamodb_stored_byte_hours", str(GIB * 720), "byte-hours", "0.25", "199.00",
         "true"),
        (*head, "monthly_active_users", "1", "users", "0.02", "199.00", "true"),
        (*head, "estimated_cost_total", "0.29", "USD", "0.29", "199.00", "true")]
    assert next(csv.reader(io.StringIO(csv_text(lines)))) == list(CSV_COLUMNS)

    idle = export(world).month(NOVEMBER, platinum.tenant_id)
    by_meter = {line.meter.value: (line.quantity, line.estimated_cost) for line in idle}
    assert by_meter["platinum_alarms"] == (Decimal(4), Decimal("0.40"))  # 4 x $0.10, 30/30
    assert by_meter["estimated_cost_total"] == (Decimal("0.40"), Decimal("0.40"))
    assert by_meter["requests"] == (Decimal(0), Decimal("0.00"))
    assert {line.tier_price for line in idle} == {Decimal("1999.00")}


def test_the_events_are_documented_exact_and_keyed_for_good(
        world: World, tenants: dict[str, Tenant]) -> None:
    standard, platinum = (tenants[name].tenant_id for name in ("standard", "platinum"))
    first = export(world).month(NOVEMBER, standard)
    again = export(world, datetime(2043, 3, 1, tzinfo=UTC)).month(NOVEMBER, standard)
    assert [line.idempotency_key for line in first] == \
        [line.idempotency_key for line in again]  # the same on every run
    every = first + export(world).month(NOVEMBER, platinum) + \
        export(world).month(DECEMBER, standard)
    assert len({line.idempotency_key for line in every}) == len(every)  # never shared

    document = events_document(first, NOW)
    assert json.loads(json.dumps(document)) == document  # plain JSON
    reads = document["events"][3]
    assert reads == {
        "schema": EVENT_SCHEMA, "idempotencyKey": first[3].idempotency_key,
        "tenantId": standard, "tenantName": tenants["standard"].record.tenant_name,
        "tier": "Standard", "month": "2042-11", "periodStart": "2042-11-01T00:00:00Z",
        "periodEnd": "2042-12-01T00:00:00Z", "meter": "dynamodb_read_units",
        "quantity": "40000", "unit": "read request units", "estimatedCostUsd": "0.01",
        "tierPriceUsd": "199.00", "currency": "USD", "final": True,
        "generatedAt": "2042-12-05T09:30:00Z"}


def test_the_next_months_first_moment_is_the_next_months_and_a_running_month_is_not_final(
        world: World, tenants: dict[str, Tenant]) -> None:
    lines = export(world).month(DECEMBER, tenants["standard"].tenant_id)
    by_meter = {line.meter.value: line for line in lines}
    assert by_meter["requests"].quantity == 1
    assert by_meter["dynamodb_read_units"].quantity == 1_000_000
    assert not any(line.final for line in lines)
    # Within the hour after its end a month is not final yet (a late flush may still land).
    settling = export(world, datetime(2042, 12, 1, 0, 30, tzinfo=UTC)).month(
        NOVEMBER, tenants["standard"].tenant_id)
    assert not any(line.final for line in settling)


def test_every_tenant_is_in_a_months_export(world: World, tenants: dict[str, Tenant]) -> None:
    lines = export(world).month(NOVEMBER)
    ids = [line.tenant_id for line in lines]
    assert {tenant.tenant_id for tenant in tenants.values()} <= set(ids)
    assert ids == sorted(ids)


@pytest.mark.parametrize("text", ["2042-13", "2042-1", "42-11", "2042-11-01", "2042/11", "",
                                  "\uff12\uff10\uff14\uff12-11", "2042-00"])
def test_a_malformed_month_is_refused(text: str) -> None:
    with pytest.raises(BadMonthError):
        BillingMonth.parse(text)


def test_months_not_begun_and_unknown_tenants_are_refused(world: World) -> None:
    with pytest.raises(BadMonthError, match="has not begun"):
        export(world).month(BillingMonth(2043, 1))
    with pytest.raises(LookupError):
        export(world).month(NOVEMBER, "0" * 32)


def command(world: World, emulator_url: str, state: Path, now: datetime = NOW
            ) -> tuple[Tools, io.StringIO, io.StringIO]:
    state.mkdir(exist_ok=True)
    (state / "platform.json").write_text(json.dumps({"emulatorUrl": emulator_url}))
    out, err = io.StringIO(), io.StringIO()
    return Tools(paths=lambda: StatePaths(state), clients=clients_for, now=lambda: now,
                 out=out, err=err), out, err


def test_the_command_writes_private_files_of_the_month(
        world: World, emulator_url: str, tenants: dict[str, Tenant], tmp_path: Path) -> None:
    tools, out, _ = command(world, emulator_url, tmp_path / "state")
    standard = tenants["standard"].tenant_id
    assert main(["--month", "2042-11", "--tenant-id", standard], tools) == 0
    folder = tmp_path / "state" / "exports" / "billing"
    written = sorted(path.name for path in folder.iterdir())
    assert written == [f"billing-2042-11-{standard}.csv", f"billing-2042-11-{standard}.json"]
    assert {(path.stat().st_mode & 0o777) for path in folder.iterdir()} == {0o600}
    expected = export(world).month(NOVEMBER, standard)
    assert (folder / written[0]).read_text() == csv_text(expected)
    events = json.loads((folder / written[1]).read_text())["events"]
    assert [event["idempotencyKey"] for event in events] == \
        [line.idempotency_key for line in expected]
    assert "1 tenants, 8 lines, final" in out.getvalue()
    assert main(["--month", "2042-11", "--tenant-id", standard, "--format", "json",
                 "--out", str(tmp_path / "json")], tools) == 0
    assert [path.name for path in (tmp_path / "json").iterdir()] == [written[1]]


@pytest.mark.parametrize(("argv", "said"), [
    (["--month", "2042-13"], "is not a month"),
    (["--month", "2043-01"], "has not begun"),
    ([], "--month (MONTH=...) is required"),
    (["--month", "2042-11", "--tenant-id", "nope"], "is not a tenant id"),
    (["--month", "2042-11", "--tenant-id", "0" * 32], "no tenant"),
])
def test_bad_input_exits_2_and_writes_nothing(world: World, emulator_url: str,
                                              tmp_path: Path, argv: list[str],
                                              said: str) -> None:
    tools, _, err = command(world, emulator_url, tmp_path / "state")
    assert main([*argv, "--out", str(tmp_path / "out")], tools) == 2
    assert said in err.getvalue()
    assert "nothing written" in err.getvalue()
    assert not (tmp_path / "out").exists()


def test_no_running_platform_exits_2(tmp_path: Path) -> None:
    err = io.StringIO()
    tools = Tools(paths=lambda: StatePaths(tmp_path), now=lambda: NOW, err=err)
    assert main(["--month", "2042-11"], tools) == 2
    assert "not running" in err.getvalue()
