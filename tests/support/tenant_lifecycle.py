"""Tenant lifecycle helpers for tests and benchmarks: a tenant's items written and read with the
layer's own data access, requested silos deployed as the local provisioner deploys them (without
processes), the move engine built on the emulator, and AWS faults injected by call."""

from __future__ import annotations

import uuid
from typing import Any

from pipeline.lifecycle.tenant_move import MoveTimings, TenantMover
from pipeline.local_cloud.provisioning.emulated_stack import deploy_tables
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    api_name,
    data_table,
    deployment_data_tables,
)
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_moves import MoveStep, TenantMove, TenantMoves
from tenant_context.service.sharding import SHARDS
from tenant_context.service.tenant_items import TenantItems
from tenant_context.service.tenant_tables import Isolation, TenantKeyGuard, TenantTable
from tenant_context.service.write_gate import WriteGates
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.support.world import World

NO_WAIT = MoveTimings(write_settle=0.0, routing_settle=0.0, deployment_settle=0.0, poll=0.0)


class InjectedFaultError(Exception):
    """An AWS call that failed (or whose answer was lost)."""


class FaultyCalls:
    """Counts every AWS call of the clients it is installed on (paginated ones too, through
    botocore's events), by the step of the work at the time (``step``, set by the driver);
    fails one of them on request, before it is sent or after it took effect."""

    def __init__(self) -> None:
        self.step = ""
        self.calls: list[str] = []
        self.fail_at: int | None = None  # index into calls
        self.after = False  # the call takes effect, then its answer is lost

    def install(self, clients: AwsClients) -> None:
        for client in (clients.dynamodb, clients.apigateway, clients.cloudformation,
                       clients.cognito):
            client.meta.events.register("before-call.*.*", self._before)
            client.meta.events.register("after-call.*.*", self._after)

    def _before(self, **_: Any) -> None:
        self.calls.append(self.step)
        if self.fail_at == len(self.calls) - 1 and not self.after:
            raise InjectedFaultError(f"injected before call {self.fail_at} ({self.step})")

    def _after(self, **_: Any) -> None:
        if self.fail_at == len(self.calls) - 1 and self.after:
            raise InjectedFaultError(f"injected after call {self.fail_at} ({self.step})")




def fault_points(calls: list[str]) -> list[tuple[str, int, bool]]:
    """Per step of a clean run's calls: its first call failing before it is sent, and its
    last one failing after it took effect (the answer lost, as when a process is killed)."""
    points: list[tuple[str, int, bool]] = []
    for step in dict.fromkeys(calls):
        indexes = [index for index, at in enumerate(calls) if at == step]
        points += [(step, indexes[0], False), (step, indexes[-1], True)]
    return points


def mover_for(clients: AwsClients, world: World) -> tuple[TenantMoves, TenantMover]:
    moves = TenantMoves(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    keys = TenantApiKeys(clients.apigateway, lambda: world.settings.usage_plan_ids)
    return moves, TenantMover(clients.dynamodb, clients.cloudformation, moves,
                              Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name),
                              keys, NO_WAIT)


def deploy_silo(clients: AwsClients, tenant_id: str) -> None:
    """A tenant's own deployment as the provisioner deploys it (its tables through the
    emulator's CloudFormation, its row active), without starting the services' processes."""
    deploy_tables(clients.cloudformation, clients.dynamodb, stack_name(tenant_id),
                  deployment_data_tables(tenant_id))
    Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name).record_active(
        tenant_id, frozenset(api_name(tenant_id, service.name) for service in TENANT_SERVICES),
        f"http://127.0.0.1:1/{tenant_id}")


def deploy_requested_silos(clients: AwsClients) -> None:
    """What the provisioner does for every requested row."""
    deployments = Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)
    for row in deployments.all():
        if row.deployment_id != POOLED_DEPLOYMENT and not row.serving:
            deploy_silo(clients, row.deployment_id)


def tenant_items(clients: AwsClients, tenant_id: str, deployment: str,
                 service: TenantService, gates: WriteGates | None = None) -> TenantItems:
    """The layer's own data access to the tenant's items in a deployment's table (with the
    admin client: what the scoped credentials would allow, the key guard enforces)."""
    isolation = Isolation.POOLED if deployment == POOLED_DEPLOYMENT else Isolation.SILO
    name = data_table(service, deployment).name
    table = TenantTable(clients.dynamodb, name, "shardId", TenantKeyGuard(tenant_id))
    return TenantItems(table, tenant_id, service.id_attribute, SHARDS[isolation],
                       (gates or WriteGates()).of(table, name, tenant_id, service.id_attribute))


def items_of(clients: AwsClients, tenant_id: str, deployment: str
             ) -> dict[str, dict[str, tuple[int, dict[str, Any]]]]:
    """Item kind -> id -> (version, attributes), read with the layer's own data access."""
    found: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
    for service in TENANT_SERVICES:
        items = tenant_items(clients, tenant_id, deployment, service)
        try:
            found[service.item] = {stored.key.item_id: (stored.version, stored.attributes)
                                   for stored in items.all()}
        except clients.dynamodb.exceptions.ResourceNotFoundException:
            found[service.item] = {}
    return found


def put_items(clients: AwsClients, tenant_id: str, deployment: str, count: int) -> None:
    """``count`` items of every kind, one of them replaced once (version 2). Their ids start
    0, 1, 2 ...: the shards they land in (and so the calls a move makes) are the same in every
    run, which the fault injection below relies on."""
    for service in TENANT_SERVICES:
        items = tenant_items(clients, tenant_id, deployment, service, WriteGates(0.0))
        for index in range(count):
            item_id = f"{index:08x}{uuid.uuid4().hex[8:]}"
            stored = items.create(items.key_of(item_id), {"name": f"{service.item} {index}",
                                                          "price": index})
            if index == 0:
                items.replace(stored.key, {"name": "changed", "price": 1}, 1)




def run_move(moves: TenantMoves, mover: TenantMover, clients: AwsClients, tenant_id: str,
             faults: FaultyCalls | None = None) -> TenantMove:
    for _ in range(200):
        move = moves.get(tenant_id)
        assert move is not None
        if faults:
            faults.step = move.step
        if move.step is MoveStep.PROVISIONING:
            deploy_requested_silos(clients)
        advanced = mover.advance(tenant_id)
        if advanced.done:
            return advanced.move
    raise AssertionError("the move never finished")
