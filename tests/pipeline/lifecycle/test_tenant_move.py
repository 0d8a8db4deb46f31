"""The tenant move engine against the emulator: both ways, with the write gate closed while
items are copied, and resumed after a failure at every step (before the step's first AWS
call, and after its last one has taken effect but its answer was lost)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.lifecycle.tenant_move import MoveStepError, TenantMover
from tenant_context.errors import RetryableConflictError
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    deployment_data_tables,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.tenant_api_keys import TenantApiKeys, tenant_key_name
from tenant_context.platform.tenant_moves import (
    MoveConflict,
    MoveStep,
    TenantMoves,
)
from tenant_context.service.sharding import shard_of
from tenant_context.service.write_gate import WriteGates
from tenant_context.tenancy import POOLED_DEPLOYMENT, Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.moto_server import clients_for
from tests.support.tenant_lifecycle import (
    NO_WAIT,
    FaultyCalls,
    InjectedFaultError,
    deploy_requested_silos,
    fault_points,
    items_of,
    mover_for,
    put_items,
    run_move,
    tenant_items,
)
from tests.support.world import Tenant, World


@pytest.fixture
def clients(emulator_url: str) -> AwsClients:
    return clients_for(emulator_url)


@pytest.fixture
def bystander(world: World, clients: AwsClients) -> Iterator[Tenant]:
    """Another pooled tenant whose items must not change."""
    tenant = world.pooled_tenant(Tier.BASIC)
    put_items(clients, tenant.tenant_id, POOLED_DEPLOYMENT, 3)
    before = items_of(clients, tenant.tenant_id, POOLED_DEPLOYMENT)
    yield tenant
    assert items_of(clients, tenant.tenant_id, POOLED_DEPLOYMENT) == before


def key_names(clients: AwsClients, world: World, tenant_id: str) -> dict[str, str]:
    keys = TenantApiKeys(clients.apigateway, lambda: world.settings.usage_plan_ids)
    return {key.value: key.name for key in keys.keys_of(tenant_id)}


def test_up_and_back_down_keeps_every_item_and_version(world: World, clients: AwsClients,
                                                       bystander: Tenant) -> None:
    tenant = world.pooled_tenant(Tier.STANDARD)
    tenant_id = tenant.tenant_id
    put_items(clients, tenant_id, POOLED_DEPLOYMENT, 7)
    original = items_of(clients, tenant_id, POOLED_DEPLOYMENT)
    moves, mover = mover_for(clients, world)

    moves.request(tenant.record, Tier.PLATINUM, "admin")
    up = run_move(moves, mover, clients, tenant_id)

    assert items_of(clients, tenant_id, tenant_id) == original  # same ids, versions, fields
    assert items_of(clients, tenant_id, POOLED_DEPLOYMENT) == {s.item: {} for s in
                                                               TENANT_SERVICES}
    assert up.copied == {s.item: 7 for s in TENANT_SERVICES} == up.removed
    found = moves.record(tenant_id)
    assert found is not None
    record = found[0]
    assert record.tier is Tier.PLATINUM
    assert key_names(clients, world, tenant_id)[record.api_key] == \
        tenant_key_name(tenant_id, Tier.PLATINUM.value)
    assert record.user_pool_id == tenant.record.user_pool_id  # users stay where they are

    moves.request(record, Tier.BASIC, "admin")
    down = run_move(moves, mover, clients, tenant_id)

    assert items_of(clients, tenant_id, POOLED_DEPLOYMENT) == original
    assert down.removed == {s.item: 7 for s in TENANT_SERVICES}
    tables = clients.dynamodb.list_tables()["TableNames"]
    assert not [table.name for table in deployment_data_tables(tenant_id)
                if table.name in tables]
    assert Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name).get(tenant_id) is None
    found = moves.record(tenant_id)
    assert found is not None
    assert found[0].tier is Tier.BASIC
    assert key_names(clients, world, tenant_id)[found[0].api_key] == \
        tenant_key_name(tenant_id, Tier.BASIC.value)
    # The pooled tables take writes again (the gate the move up left is gone).
    put_items(clients, tenant_id, POOLED_DEPLOYMENT, 1)


def test_writes_are_refused_with_retry_after_while_items_are_copied(
        world: World, clients: AwsClients) -> None:
    tenant = world.pooled_tenant(Tier.BASIC)
    tenant_id = tenant.tenant_id
    put_items(clients, tenant_id, POOLED_DEPLOYMENT, 2)
    moves, mover = mover_for(clients, world)
    service = TENANT_SERVICES[0]
    writer = tenant_items(clients, tenant_id, POOLED_DEPLOYMENT, service, WriteGates(0.0))
    moves.request(tenant.record, Tier.PLATINUM, "admin")
    refusals: dict[MoveStep, str] = {}
    for _ in range(50):
        move = moves.get(tenant_id)
        assert move is not None
        if move.step is MoveStep.DONE:
            break
        if move.step is MoveStep.PROVISIONING:
            deploy_requested_silos(clients)
        if move.step in (MoveStep.COPYING, MoveStep.SETTLING):
            with pytest.raises(RetryableConflictError) as refused:
                writer.create(writer.new_key(), {"name": "late", "price": 1})
            assert refused.value.retry_after_seconds >= 1
            refusals[move.step] = str(refused.value)
        mover.advance(tenant_id)
    assert "paused" in refusals[MoveStep.COPYING]
    assert "moved" in refusals[MoveStep.SETTLING]
    assert len(items_of(clients, tenant_id, tenant_id)[service.item]) == 2  # no late write


def test_pre_move_keys_address_the_moved_items(world: World, clients: AwsClients) -> None:
    tenant = world.pooled_tenant(Tier.BASIC)
    tenant_id = tenant.tenant_id
    service = TENANT_SERVICES[0]
    pooled = tenant_items(clients, tenant_id, POOLED_DEPLOYMENT, service)
    created = [pooled.create(pooled.new_key(), {"name": f"p{n}", "price": n}) for n in range(6)]
    moves, mover = mover_for(clients, world)
    moves.request(tenant.record, Tier.PLATINUM, "admin")
    run_move(moves, mover, clients, tenant_id)
    silo = tenant_items(clients, tenant_id, tenant_id, service)
    for item in created:
        old_key = str(item.key)
        found = silo.get(silo.parse_key(old_key))
        assert (found.key.item_id, found.version) == (item.key.item_id, item.version)
        assert found.key.shard_id.endswith(f"-{shard_of(item.key.item_id, 4)}")


@pytest.mark.parametrize("upward", [True, False], ids=["up", "down"])
def test_a_move_failing_at_any_step_ends_consistent_when_run_again(
        world: World, emulator_url: str, upward: bool) -> None:
    clean = clients_for(emulator_url)
    counted = FaultyCalls()
    start_tier = Tier.BASIC if upward else Tier.PLATINUM

    def fixture() -> tuple[str, dict[str, Any]]:
        tenant = world.pooled_tenant(Tier.BASIC)
        moves, mover = mover_for(clean, world)
        put_items(clean, tenant.tenant_id, POOLED_DEPLOYMENT, 3)
        if not upward:  # first up, so the move down starts from a real silo
            moves.request(tenant.record, Tier.PLATINUM, "admin")
            run_move(moves, mover, clean, tenant.tenant_id)
        return tenant.tenant_id, items_of(clean, tenant.tenant_id, POOLED_DEPLOYMENT
                                          if upward else tenant.tenant_id)

    def request(tenant_id: str) -> None:
        moves, _ = mover_for(clean, world)
        found = moves.record(tenant_id)
        assert found is not None
        assert found[0].tier is start_tier
        moves.request(found[0], Tier.PLATINUM if upward else Tier.BASIC, "admin")

    # A clean run, counting each step's calls.
    tenant_id, _ = fixture()
    request(tenant_id)
    faulty = clients_for(emulator_url)
    counted.install(faulty)
    run_move(*mover_for(faulty, world), faulty, tenant_id, counted)
    points = fault_points(counted.calls)
    assert {step for step, _, _ in points} >= ({MoveStep.KEYING, MoveStep.PROVISIONING,
                                                MoveStep.CLEANING} if upward else
                                               {MoveStep.RETIRING}) | {
        MoveStep.PAUSING, MoveStep.COPYING, MoveStep.SWITCHING}

    for step, call, after in points:
        tenant_id, original = fixture()
        request(tenant_id)
        faults = FaultyCalls()
        faults.fail_at, faults.after = call, after
        faulty = clients_for(emulator_url)
        faults.install(faulty)
        with pytest.raises((MoveStepError, InjectedFaultError)):
            run_move(*mover_for(faulty, world), faulty, tenant_id, faults)
        # Run again (a new mover, as after a restart): it ends where a clean run ends.
        done = run_move(*mover_for(clean, world), clean, tenant_id)
        assert done.step is MoveStep.DONE
        target = tenant_id if upward else POOLED_DEPLOYMENT
        source = POOLED_DEPLOYMENT if upward else tenant_id
        assert items_of(clean, tenant_id, target) == original, (step, call, after)
        assert items_of(clean, tenant_id, source) == {s.item: {} for s in TENANT_SERVICES}
        names = key_names(clean, world, tenant_id)
        found = TenantMoves(clean.dynamodb, TENANT_DETAILS_TABLE.name).record(tenant_id)
        assert found is not None
        assert names[found[0].api_key] == tenant_key_name(
            tenant_id, (Tier.PLATINUM if upward else Tier.BASIC).value), (step, call, after)
        assert len(names) <= 2, (step, call, after)  # a failed attempt leaves no extra key


def test_moves_are_one_at_a_time(world: World, clients: AwsClients) -> None:
    tenant = world.pooled_tenant(Tier.BASIC)
    moves, _ = mover_for(clients, world)
    moves.request(tenant.record, Tier.PLATINUM, "admin")
    with pytest.raises(MoveConflict):
        moves.request(tenant.record, Tier.PLATINUM, "admin")
    with pytest.raises(MoveConflict):  # a stale record (its tier changed) is refused too
        moves.request(dataclasses.replace(tenant.record, tier=Tier.PREMIUM), Tier.PLATINUM,
                      "admin")


def test_a_copy_bounded_in_time_goes_on_where_it_stopped(world: World,
                                                        clients: AwsClients) -> None:
    """As on AWS, where each advance is a Lambda run: here every run may copy one page."""
    tenant = world.pooled_tenant(Tier.BASIC)
    tenant_id = tenant.tenant_id
    put_items(clients, tenant_id, POOLED_DEPLOYMENT, 5)
    original = items_of(clients, tenant_id, POOLED_DEPLOYMENT)
    moves, _ = mover_for(clients, world)
    ticks = iter(range(1_000_000))
    mover = TenantMover(clients.dynamodb, clients.cloudformation, moves,
                        Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name),
                        TenantApiKeys(clients.apigateway, lambda: world.settings.usage_plan_ids),
                        NO_WAIT, budget=0.5, clock=lambda: float(next(ticks)))
    moves.request(tenant.record, Tier.PLATINUM, "admin")
    runs_copying = 0
    for _ in range(100):
        move = moves.get(tenant_id)
        assert move is not None
        if move.step is MoveStep.DONE:
            break
        if move.step is MoveStep.PROVISIONING:
            deploy_requested_silos(clients)
        runs_copying += move.step is MoveStep.COPYING
        mover.advance(tenant_id)
    assert runs_copying > len(TENANT_SERVICES)  # it did stop and go on
    assert items_of(clients, tenant_id, tenant_id) == original
    done = moves.get(tenant_id)
    assert done is not None
    assert done.copied == {service.item: 5 for service in TENANT_SERVICES}
