"""The write gate a tenant move closes (``tenant_context.service.write_gate``), against the real
emulator: absent, paused, moved, the cache's expiry, and the gate item never served as an item.

The gate is read through the tenant's own ``TenantTable`` (key guard included), so each test
builds the table the way a deployment does; time is a clock the test moves, never a sleep.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tenant_context.attribute_values import to_item
from tenant_context.errors import (
    BadRequestError,
    ConflictError,
    RetryableConflictError,
    TenantIsolationError,
)
from tenant_context.platform.definitions import POOLED_DATA_TABLES, data_table
from tenant_context.service.sharding import SHARDS, shard_of
from tenant_context.service.tenant_items import TenantItems
from tenant_context.service.tenant_tables import Isolation, TenantKeyGuard, TenantTable
from tenant_context.service.write_gate import (
    GATE_ITEM_ID,
    GATE_STATE_ATTRIBUTE,
    MOVED_TO_ATTRIBUTE,
    RETRY_AFTER_ATTRIBUTE,
    GateState,
    WriteGates,
    gate_item,
    gate_key,
    gate_partition,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT, new_tenant_id
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.clock import FakeClock
from tests.support.tenant_api import Customer
from tests.support.world import World

TABLE = POOLED_DATA_TABLES[0].name  # a tenant service's pooled table (products)
ID = "productId"


class Subject:
    """One tenant's items in the pooled table, with their own gate cache and clock."""

    def __init__(self, baseline: object, ttl: float = 1.0) -> None:
        self.tenant_id = new_tenant_id()
        self.dynamodb = boto3.client("dynamodb")
        self.clock = FakeClock(100.0)
        self.gates = WriteGates(ttl, clock=self.clock)
        table = TenantTable(self.dynamodb, TABLE, "shardId", TenantKeyGuard(self.tenant_id))
        self.items = TenantItems(table, self.tenant_id, ID, SHARDS[Isolation.POOLED],
                                 self.gates.of(table, TABLE, self.tenant_id, ID))

    def close_gate(self, state: GateState, retry_after: int = 7,
                   moved_to: str = "Platinum") -> None:
        """What the move engine writes, built from the module's own helpers."""
        self.dynamodb.put_item(TableName=TABLE, Item=to_item(gate_item(
            self.tenant_id, ID, state, retry_after_seconds=retry_after, moved_to=moved_to)))

    def open_gate(self) -> None:
        self.dynamodb.delete_item(TableName=TABLE, Key=to_item(gate_key(self.tenant_id, ID)))

    def refused(self, write: Any) -> RetryableConflictError:
        with pytest.raises(RetryableConflictError) as refused:
            write()
        return refused.value


@pytest.fixture
def subject(baseline: object) -> Subject:
    return Subject(baseline)


def test_the_gate_items_shape_is_the_contract(subject: Subject) -> None:
    """The engine builds the item from these helpers; its shape is what the services read."""
    tenant = subject.tenant_id
    assert gate_partition(tenant) == f"{tenant}-gate"
    assert gate_key(tenant, "orderId") == {"shardId": f"{tenant}-gate", "orderId": "writes"}
    assert gate_item(tenant, ID, GateState.PAUSED, retry_after_seconds=3, moved_to="Basic") == {
        "shardId": f"{tenant}-gate", ID: GATE_ITEM_ID, GATE_STATE_ATTRIBUTE: "paused",
        RETRY_AFTER_ATTRIBUTE: 3, MOVED_TO_ATTRIBUTE: "Basic"}
    # The key guard (and LeadingKeys' <tenantId>-*) admit the gate; another tenant's, never.
    assert TenantKeyGuard(tenant).check(gate_partition(tenant)) == f"{tenant}-gate"
    with pytest.raises(TenantIsolationError):
        TenantKeyGuard(tenant).check(gate_partition(new_tenant_id()))


def test_no_gate_writes_as_usual(subject: Subject) -> None:
    items = subject.items
    created = items.create(items.new_key(), {"name": "a"})
    replaced = items.replace(created.key, {"name": "b"}, None)
    assert replaced.version == 2
    items.delete(created.key, 2)
    assert items.all() == []


def test_a_paused_gate_refuses_every_write_with_retry_after(subject: Subject) -> None:
    items = subject.items
    kept = items.create(items.new_key(), {"name": "kept"})
    subject.close_gate(GateState.PAUSED, retry_after=7, moved_to="Platinum")
    subject.clock.advance(1.0)  # the cached "open" has expired
    for write in (lambda: items.create(items.new_key(), {"name": "new"}),
                  lambda: items.replace(kept.key, {"name": "changed"}, None),
                  lambda: items.replace(kept.key, {"name": "changed"}, 1),
                  lambda: items.delete(kept.key, None)):
        refused = subject.refused(write)
        assert isinstance(refused, ConflictError)
        assert refused.status_code == 409
        assert refused.headers() == {"Retry-After": "7"}
        assert refused.message == (f"writes paused: tenant {subject.tenant_id} is moving to "
                                   "Platinum; retry in 7 s")
    # Nothing was applied, and reads go on.
    assert [(item.key, item.version, item.attributes) for item in items.all()] == [
        (kept.key, 1, {"name": "kept"})]
    assert items.get(kept.key).attributes == {"name": "kept"}
    assert items.page(10, None) == ([items.get(kept.key)], None)


def test_a_moved_gate_sends_the_client_to_its_new_deployment(subject: Subject) -> None:
    items = subject.items
    subject.close_gate(GateState.MOVED, retry_after=2, moved_to="Basic")
    refused = subject.refused(lambda: items.create(items.new_key(), {"name": "late"}))
    assert refused.status_code == 409
    assert refused.headers() == {"Retry-After": "2"}
    assert refused.message == ("tenant moved to its Basic deployment: read GET "
                               "/tenant/init/<name> again for its API")
    assert items.all() == []


def test_an_unknown_gate_state_fails_closed(subject: Subject) -> None:
    """A state this code does not know (a newer engine's) is never an open gate."""
    subject.dynamodb.put_item(TableName=TABLE, Item=to_item({
        **gate_key(subject.tenant_id, ID), GATE_STATE_ATTRIBUTE: "draining"}))
    refused = subject.refused(lambda: subject.items.create(subject.items.new_key(), {}))
    assert refused.headers() == {"Retry-After": "5"}
    assert refused.message.startswith("writes paused")


def test_the_cache_picks_up_a_new_gate_once_its_entry_expires(subject: Subject) -> None:
    """Within the TTL the cached answer stands (one read per tenant and table per TTL); from
    the TTL on, a gate written meanwhile refuses, and one removed lets writes through again."""
    items = subject.items
    items.create(items.new_key(), {"name": "before"})  # caches "open" at t=100
    subject.close_gate(GateState.PAUSED)
    subject.clock.advance(0.5)
    items.create(items.new_key(), {"name": "inside the ttl"})  # the cached answer
    subject.clock.advance(0.5)  # t=101: the entry, read at t=100, is 1 s old
    subject.refused(lambda: items.create(items.new_key(), {"name": "refused"}))
    subject.open_gate()
    subject.clock.advance(0.9)
    subject.refused(lambda: items.create(items.new_key(), {"name": "still cached"}))
    subject.clock.advance(0.1)
    items.create(items.new_key(), {"name": "after"})
    assert sorted(item.attributes["name"] for item in items.all()) == [
        "after", "before", "inside the ttl"]


def test_the_ttl_is_the_constructors(baseline: object) -> None:
    subject = Subject(baseline, ttl=5.0)
    items = subject.items
    items.create(items.new_key(), {})
    subject.close_gate(GateState.PAUSED)
    subject.clock.advance(4.9)
    items.create(items.new_key(), {})
    subject.clock.advance(0.1)
    subject.refused(lambda: items.create(items.new_key(), {}))


def test_gates_are_per_table_and_per_tenant(baseline: object) -> None:
    """One tenant's gate holds none of another tenant's writes, nor its own in another table
    (the engine writes one gate per table it moves)."""
    moving, staying = Subject(baseline), Subject(baseline)
    moving.close_gate(GateState.PAUSED)
    subject_items = moving.items
    with pytest.raises(RetryableConflictError):
        subject_items.create(subject_items.new_key(), {})
    # The same process-wide cache serves the other tenant and the other table.
    table = TenantTable(staying.dynamodb, TABLE, "shardId", TenantKeyGuard(staying.tenant_id))
    others = TenantItems(table, staying.tenant_id, ID, 2,
                         moving.gates.of(table, TABLE, staying.tenant_id, ID))
    others.create(others.new_key(), {"name": "unaffected"})
    orders = TENANT_SERVICES.named("order")
    orders_table = data_table(orders, POOLED_DEPLOYMENT).name
    order_table = TenantTable(moving.dynamodb, orders_table, "shardId",
                              TenantKeyGuard(moving.tenant_id))
    own_orders = TenantItems(order_table, moving.tenant_id, orders.id_attribute, 2,
                             moving.gates.of(order_table, orders_table, moving.tenant_id,
                                             orders.id_attribute))
    own_orders.create(own_orders.new_key(), {"name": "its orders' gate is open"})


def test_the_gate_item_is_never_listed_nor_paged(subject: Subject) -> None:
    items = subject.items
    created = [items.create(items.new_key(), {"n": n}) for n in range(5)]
    subject.close_gate(GateState.PAUSED)
    listed = items.all()
    assert sorted(item.key.item_id for item in listed) == sorted(
        item.key.item_id for item in created)
    paged: list[str] = []
    token: str | None = None
    while True:
        page, token = items.page(2, token)
        paged += [item.key.item_id for item in page]
        if token is None:
            break
    assert sorted(paged) == sorted(item.key.item_id for item in created)
    # Nor can a client name it: its shard part is not a number.
    for raw in (f"{subject.tenant_id}-gate:{GATE_ITEM_ID}",
                f"{subject.tenant_id}-gate:{created[0].key.item_id}"):
        with pytest.raises(BadRequestError):
            items.parse_key(raw)


def test_through_the_app_a_gate_answers_409_with_retry_after_and_reads_go_on(
        customers: dict[str, Customer], world: World) -> None:
    """The real app (its authorizer, its error middleware, CORS): the gate's 409 carries
    ``Retry-After``, exposed to browsers, and the gate is never listed."""
    customer = customers["A"]
    tenant_id = customer.tenant.tenant_id
    # Seeded straight into the table: a write through the app would cache "open" for 1 s.
    item_id = new_tenant_id()  # any uuid4 hex
    shard_id = f"{tenant_id}-{shard_of(item_id, 2)}"
    world.clients.dynamodb.put_item(TableName=TABLE, Item=to_item({
        "shardId": shard_id, ID: item_id, "version": 1, "name": "kept", "price": 1}))
    kept = {"key": f"{shard_id}:{item_id}"}
    world.clients.dynamodb.put_item(TableName=TABLE, Item=to_item(gate_item(
        tenant_id, ID, GateState.PAUSED, retry_after_seconds=3, moved_to="Platinum")))
    refused = customer.api.call("POST", "/product", customer.token, {"name": "x", "price": 1})
    assert refused.status_code == 409
    assert refused.headers["Retry-After"] == "3"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert refused.json_body["message"].startswith(
        f"writes paused: tenant {customer.tenant.tenant_id} is moving to Platinum")
    for method in ("PUT", "DELETE"):
        answer = customer.api.call(method, f"/product/{kept['key']}", customer.token,
                                   {"name": "y", "price": 2} if method == "PUT" else None)
        assert answer.status_code == 409, method
    listed = customer.api.call("GET", "/products", customer.token)
    assert listed.status_code == 200
    assert [product["name"] for product in listed.json_body] == ["kept"]
    paged = customer.api.call("GET", "/products?limit=10", customer.token).json_body
    assert [product["name"] for product in paged["items"]] == ["kept"]
    assert customer.api.call("GET", f"/product/{kept['key']}", customer.token
                             ).status_code == 200
