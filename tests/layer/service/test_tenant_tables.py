"""Tenant-scoped storage against real DynamoDB, with real scoped credentials.

The emulator does not enforce IAM conditions, so the guard is what stops a pooled tenant from
touching another tenant's partitions here; it must refuse BEFORE any call is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.tenant_authorizer.handler import handle
from tenant_context.errors import ConfigurationError, ForbiddenError, TenantIsolationError
from tenant_context.platform.definitions import POOLED_DATA_TABLES
from tenant_context.service.context import TenantContext
from tenant_context.service.sharding import shard_key
from tenant_context.service.tenant_tables import (
    DynamoDBClients,
    Isolation,
    TenantKeyGuard,
    TenantTables,
)
from tenant_context.tenancy import Role
from tests.support.authorizer_under_test import build
from tests.support.counting import CallCounter
from tests.support.gateway_policy import token_event
from tests.support.observed_session import ObservedSession
from tests.support.world import Tenant, World

TABLE = POOLED_DATA_TABLES[0].name  # any tenant service's pooled table


def caller(world: World, tenant: Tenant) -> TenantContext:
    """The context the real authorizer produces for a real user of the tenant."""
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    response = handle(token_event(token, "pooled-product", "GET", "/products"),
                      build().authorizer)
    return TenantContext.from_authorizer_context(response["context"])


@pytest.fixture
def two_tenants(world: World) -> tuple[TenantContext, TenantContext]:
    return caller(world, world.pooled_tenant()), caller(world, world.pooled_tenant())


def counted_clients(region: str) -> tuple[DynamoDBClients, list[CallCounter]]:
    counters: list[CallCounter] = []

    def count(client: Any) -> Any:
        counters.extend(CallCounter(client, "dynamodb", operation)
                        for operation in ("GetItem", "PutItem", "DeleteItem", "Query",
                                          "BatchGetItem"))
        return client

    return DynamoDBClients(region, session_factory=lambda: ObservedSession(count)), counters


def test_pooled_tables_use_the_scoped_credentials(
        two_tenants: tuple[TenantContext, TenantContext]) -> None:
    mine, theirs = two_tenants
    clients = DynamoDBClients("us-east-1")
    tables = TenantTables(Isolation.POOLED, clients)
    table = tables.table(mine, TABLE, "shardId")
    assert mine.credentials is not None
    signed_with: list[str] = []
    clients(mine.credentials).meta.events.register(
        "before-send.dynamodb",
        lambda request, **_: signed_with.append(request.headers["Authorization"].decode()))
    assert clients(mine.credentials) is clients(mine.credentials)  # reused while valid
    assert clients(mine.credentials) is not clients(theirs.credentials)
    table.put({"shardId": f"{mine.tenant_id}-3", "productId": "p1", "name": "mine"})
    assert table.get({"shardId": f"{mine.tenant_id}-3", "productId": "p1"}) == {
        "shardId": f"{mine.tenant_id}-3", "productId": "p1", "name": "mine"}
    listed = list(table.query(f"{mine.tenant_id}-3"))
    assert [item["productId"] for item in listed] == ["p1"]
    assert signed_with
    assert all(f"Credential={mine.credentials.access_key_id}/" in header
                               for header in signed_with)
    assert mine.credentials.access_key_id.startswith("ASIA")  # temporary STS credentials


def test_another_tenants_keys_are_refused_before_any_call(
        two_tenants: tuple[TenantContext, TenantContext]) -> None:
    mine, theirs = two_tenants
    clients, counters = counted_clients("us-east-1")
    their_table = TenantTables(Isolation.POOLED, clients).table(theirs, TABLE, "shardId")
    their_key = {"shardId": f"{theirs.tenant_id}-1", "productId": "secret"}
    their_table.put({**their_key, "name": "theirs"})
    calls_before = sum(counter.count for counter in counters)

    my_table = TenantTables(Isolation.POOLED, clients).table(mine, TABLE, "shardId")
    attempts: list[Callable[[], object]] = [
        lambda: my_table.get(their_key),
        lambda: my_table.put({**their_key, "name": "overwritten"}),
        lambda: my_table.delete(their_key),
        lambda: list(my_table.query(f"{theirs.tenant_id}-1")),
        lambda: my_table.get_many([their_key]),
        # One foreign key among the caller's own refuses the whole batch.
        lambda: my_table.get_many([{"shardId": f"{mine.tenant_id}-1", "productId": "a"},
                                   their_key]),
        # A continuation key is a key too: paging must not resume inside another partition.
        lambda: my_table.query_page(f"{mine.tenant_id}-1", start_key=their_key),
        lambda: my_table.query_page(f"{mine.tenant_id}-1", limit=1,
                                    start_key={"productId": "secret"}),
        lambda: my_table.get({"shardId": mine.tenant_id, "productId": "x"}),  # no shard
        lambda: my_table.get({"shardId": f"{mine.tenant_id}-", "productId": "x"}),
        lambda: my_table.get({"productId": "x"}),
        lambda: my_table.put({"shardId": 5, "productId": "x"}),
    ]
    for attempt in attempts:
        with pytest.raises(TenantIsolationError):
            attempt()
    assert sum(counter.count for counter in counters) == calls_before  # nothing was sent
    assert their_table.get(their_key) == {**their_key, "name": "theirs"}
    # The counters do see these operations when they are allowed: the zero above is real.
    own_key = {"shardId": f"{mine.tenant_id}-1", "productId": "a"}
    my_table.put({**own_key, "name": "mine"})
    calls_before = sum(counter.count for counter in counters)
    assert my_table.get_many([own_key]) == [{**own_key, "name": "mine"}]
    assert my_table.query_page(f"{mine.tenant_id}-1", start_key=own_key) == ([], None)
    assert sum(counter.count for counter in counters) == calls_before + 2


def test_guard_prefix_is_exact() -> None:
    guard = TenantKeyGuard("ab" + "0" * 30)
    guard.check("ab" + "0" * 30 + "-7")
    for other in ["ab" + "0" * 29 + "1-7", "ab" + "0" * 30 + "7", "AB" + "0" * 30 + "-7"]:
        with pytest.raises(TenantIsolationError):
            guard.check(other)


def test_shard_keys_carry_the_tenant_prefix() -> None:
    assert [shard_key("c" * 32, shard) for shard in range(3)] == [
        f"{'c' * 32}-0", f"{'c' * 32}-1", f"{'c' * 32}-2"]


def test_pooled_access_without_credentials_is_a_configuration_fault(world: World) -> None:
    tenant = world.pooled_tenant()
    bare = TenantContext(tenant.tenant_id, tenant.record.tier, "u", Role.TENANT_USER, "p", None)
    with pytest.raises(ConfigurationError):
        TenantTables(Isolation.POOLED, DynamoDBClients("us-east-1")).table(bare, TABLE,
                                                                           "shardId")


def test_silo_uses_the_deployments_own_role_and_still_guards(
        two_tenants: tuple[TenantContext, TenantContext]) -> None:
    mine, theirs = two_tenants
    tables = TenantTables(Isolation.SILO, DynamoDBClients("us-east-1"), mine.tenant_id)
    table = tables.table(mine, TABLE, "shardId")
    table.put({"shardId": f"{mine.tenant_id}-0", "productId": "silo"})
    with pytest.raises(TenantIsolationError):
        table.get({"shardId": f"{theirs.tenant_id}-0", "productId": "silo"})
    with pytest.raises(ForbiddenError):  # my silo's role would reach my tables for them
        tables.table(theirs, TABLE, "shardId")
