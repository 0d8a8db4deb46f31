"""What the usage report's tests feed it: tenant records and daily rows made in memory, and a
known load of three tenants of different tiers written through the real usage meter into the
session emulator's usage table (its tenants created as every test creates them)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.platform.usage_records import UsageRow
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import Tier
from tenant_context.usage_periods import Granularity, Period
from tests.support.world import World

ROUTE = "GET /products"




def tenant(name: str, tier: Tier) -> TenantRecord:
    """A tenant record as the control plane keeps it (a fresh id)."""
    return TenantRecord(uuid.uuid4().hex, name, tier, True, "pool", "client", "key")


def day_row(tenant_id: str, day: date, requests: Mapping[tuple[str, int], int], *,
            duration_ms: Decimal = Decimal(0), read_units: Decimal = Decimal(0),
            write_units: Decimal = Decimal(0),
            byte_deltas: Mapping[str, int] | None = None) -> UsageRow:
    """A daily row as the usage table holds it (its ``throttled``: the 429s among
    ``requests``)."""
    throttled = sum(count for (_, status), count in requests.items() if status == 429)
    return UsageRow(tenant_id=tenant_id,
                    period=Period(Granularity.DAY, datetime.combine(day, datetime.min.time(),
                                                                    tzinfo=UTC)),
                    requests=dict(requests), throttled=throttled, duration_ms=duration_ms,
                    read_units=read_units, write_units=write_units,
                    byte_deltas=dict(byte_deltas or {}))


@dataclass(frozen=True)
class LoadedTenant:
    record: TenantRecord
    per_day: int  # requests a day, 429s included
    throttled_per_day: int


@dataclass(frozen=True)
class Load:
    """Three tenants' days in the usage table: ``first`` to ``first + days - 1``."""

    first: date
    days: int
    basic: LoadedTenant  # busy: above half its plan's daily quota every day
    standard: LoadedTenant  # light
    platinum: LoadedTenant  # busier still, but with a silo already

    @property
    def tenants(self) -> tuple[LoadedTenant, ...]:
        return (self.basic, self.standard, self.platinum)

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)


def load_usage(world: World, first: date, days: int = 6) -> Load:
    """Tenants made as the control plane makes them, and their requests recorded by the usage
    meter (``at=`` each day) and flushed: ``first`` must be a range no other test writes (the
    session's emulator is shared, and the report reads every tenant's days)."""
    basic, standard = world.pooled_tenant(Tier.BASIC), world.pooled_tenant(Tier.STANDARD)
    platinum = world.platinum_tenant()
    load = Load(first, days, LoadedTenant(basic.record, 640, 40),
                LoadedTenant(standard.record, 150, 3),
                LoadedTenant(platinum.record, 5200, 10))
    meter = UsageMeter(world.clients.dynamodb, USAGE_TABLE.name,
                       lambda: datetime.combine(first, datetime.min.time(), tzinfo=UTC))
    for offset in range(days):
        for index, loaded in enumerate(load.tenants):
            # Days vary a little (so the lines are lines), and stay above or below the
            # criterion's thresholds for every tenant.
            per_day = loaded.per_day + (offset * (index + 3)) % 7 * 5
            moment = datetime.combine(first + timedelta(days=offset), datetime.min.time(),
                                      tzinfo=UTC) + timedelta(hours=9)
            for request in range(per_day):
                throttled = request < loaded.throttled_per_day
                meter.record(loaded.record.tenant_id, ROUTE, 429 if throttled else 200,
                             0 if throttled else 12.5, read_units=0 if throttled else 0.5,
                             at=moment)
    assert meter.flush().ok
    return load
