"""A tenant move's data path: items moved per second and how long the tenant's writes were
paused, for 10,000 items, against a one-item-at-a-time copy in the same run and emulator.

The move is the real engine (``pipeline.lifecycle.tenant_move``) on the local platform's waits
for writes (2 s) and no routing wait; the deployment the move requests is deployed as the local
provisioner deploys one (its tables through the emulator's CloudFormation), without processes.
The baseline copies the same tenant's items the way a first attempt would: a strongly
consistent query page by page, one ``PutItem`` per item. Figures are printed, not asserted.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.lifecycle.item_copy import TenantItemCopier
from pipeline.lifecycle.tenant_move import MoveTimings, TenantMover, move_sides
from pipeline.local_cloud.provisioning.baseline_bootstrap import LocalUrls, bootstrap
from pipeline.local_cloud.provisioning.emulated_stack import deploy_tables
from tenant_context.attribute_values import to_item
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    api_name,
    data_table,
    deployment_data_tables,
)
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_moves import MoveStep, TenantMoves
from tenant_context.service.sharding import SHARDS, shard_key, shard_of
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import POOLED_DEPLOYMENT, Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.moto_server import clients_for, running_emulator
from tests.support.world import World

ITEMS = 10_000  # of the first tenant service (products); every other one: a tenth of it
BASELINE_ITEMS = 2_000  # the one-by-one copy is slow: its rate is what it is compared on
WRITE_SETTLE = 2.0  # the local platform's


def seed(clients: AwsClients, tenant_id: str, products: int) -> None:
    shards = SHARDS[Isolation.POOLED]
    for index, service in enumerate(TENANT_SERVICES):
        count = products if index == 0 else products // 10
        table = data_table(service, POOLED_DEPLOYMENT).name
        rows = [{"shardId": shard_key(tenant_id, shard_of(item_id, shards)),
                 service.id_attribute: item_id, "version": 1, "name": f"item {n}",
                 "price": Decimal(n), "sku": f"SKU-{n}", "category": "bench"}
                for n, item_id in enumerate(uuid.uuid4().hex for _ in range(count))]
        for start in range(0, len(rows), 25):
            batch: dict[str, Any] = {table: [{"PutRequest": {"Item": to_item(row)}}
                                             for row in rows[start:start + 25]]}
            while batch:
                batch = clients.dynamodb.batch_write_item(
                    RequestItems=batch).get("UnprocessedItems") or {}


def deploy_silo(clients: AwsClients, tenant_id: str) -> None:
    """What the local provisioner does for a requested deployment, without its processes."""
    deployments = Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)
    deployments.request(tenant_id)
    deploy_tables(clients.cloudformation, clients.dynamodb, stack_name(tenant_id),
                  deployment_data_tables(tenant_id))
    deployments.record_active(
        tenant_id, frozenset(api_name(tenant_id, s.name) for s in TENANT_SERVICES),
        f"http://127.0.0.1:1/{tenant_id}")


def one_by_one(clients: AwsClients, tenant_id: str) -> int:
    """The baseline: every item read by query pages and written with its own PutItem."""
    copier = TenantItemCopier(clients.dynamodb, tenant_id)
    copied = 0
    for source, target in move_sides(tenant_id, upward=True):
        for page in copier.pages(source):
            for item in page:
                clients.dynamodb.put_item(TableName=target.table,
                                          Item=copier.rekeyed(item, target))
                copied += 1
    return copied


def timed_move(clients: AwsClients, world: World, tenant_id: str) -> dict[MoveStep, float]:
    """Seconds spent in each step of a move up, advanced as fast as the engine allows."""
    moves = TenantMoves(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    mover = TenantMover(clients.dynamodb, clients.cloudformation, moves,
                        Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name),
                        TenantApiKeys(clients.apigateway,
                                      lambda: world.settings.usage_plan_ids),
                        MoveTimings(write_settle=WRITE_SETTLE, routing_settle=0.0,
                                    deployment_settle=0.0, poll=0.0))
    found = moves.record(tenant_id)
    assert found is not None
    moves.request(found[0], Tier.PLATINUM, "bench")
    spent: dict[MoveStep, float] = {}
    while True:
        move = moves.get(tenant_id)
        assert move is not None
        if move.step is MoveStep.PROVISIONING:
            deploy_silo(clients, tenant_id)
        started = time.perf_counter()
        advanced = mover.advance(tenant_id)
        if advanced.wait:
            time.sleep(advanced.wait)
        spent[move.step] = spent.get(move.step, 0.0) + time.perf_counter() - started + \
            advanced.wait
        if advanced.done:
            return spent


def main() -> None:
    with running_emulator() as url, tempfile.TemporaryDirectory() as state:
        clients = clients_for(url)
        credentials = CredentialsFile(Path(state) / "credentials.json")
        baseline = bootstrap(clients, LocalUrls("http://127.0.0.1:1/admin",
                                                "http://127.0.0.1:1/pooled"),
                             credentials, "admin@example.com")
        world = World(clients, baseline.settings, credentials)
        total = ITEMS + (len(TENANT_SERVICES) - 1) * (ITEMS // 10)
        print(f"Moving a tenant's {total} items from the pool to its own tables "
              f"(same emulator, same run)")

        slow = world.pooled_tenant(Tier.PREMIUM).tenant_id
        seed(clients, slow, BASELINE_ITEMS)
        deploy_silo(clients, slow)
        started = time.perf_counter()
        copied = one_by_one(clients, slow)
        slow_rate = copied / (time.perf_counter() - started)
        print(f"  baseline: one PutItem per item ({copied} items)  {slow_rate:10.0f} items/s")

        tenant_id = world.pooled_tenant(Tier.PREMIUM).tenant_id
        seed(clients, tenant_id, ITEMS)
        spent = timed_move(clients, world, tenant_id)
        copy_seconds = spent[MoveStep.COPYING] - WRITE_SETTLE
        rate = total / copy_seconds
        print(f"  ours: batched copy ({total} items)          {rate:10.0f} items/s"
              f"  ({rate / slow_rate:.1f}x the baseline)")
        print(f"  ours: removal from the pool ({total} items) "
              f"{total / spent[MoveStep.CLEANING]:10.0f} items/s")
        paused = spent[MoveStep.COPYING] + spent[MoveStep.SWITCHING]
        print(f"  writes paused {paused:.1f} s: {WRITE_SETTLE:.1f} s for writes in flight to "
              f"land, {copy_seconds:.1f} s copying, {spent[MoveStep.SWITCHING]:.2f} s "
              f"switching")
        print("  (on AWS the pause adds the service functions' timeout, 60 s, before the copy:"
              " see README 'Tenant moves')")


if __name__ == "__main__":
    main()
