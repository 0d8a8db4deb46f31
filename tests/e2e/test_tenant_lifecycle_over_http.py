"""The issue's acceptance for a tenant's lifecycle on the running platform, with the README's
commands (one platform for the module).

Moves (``make migrate-tenant``):
a pooled tenant with 1,000 products and 200 orders moves to Platinum (``make migrate-tenant``)
while its own client keeps reading and writing and another tenant keeps calling; then it moves
back. Afterwards every item (and every acknowledged write) is served by the tenant's new
deployment with identical content, the old deployment's tables hold nothing of it, and the
other tenant saw only successes.

The client behaves as the web app would: a write answered 409 with ``Retry-After`` (paused while
copying) is retried after that many seconds; an answer saying the tenant moved (409 ``moved``, or
the old deployment's 403 once the authorizer knows) sends it to ``GET /tenant/init`` for the
tenant's API again; its token stays valid, since the tenant's users stay in their pool.

Offboarding (``make offboard-tenant``): the export holds every item and user, the verification
finds nothing of the tenant (in the tables, Cognito, API Gateway, CloudFormation, the local
password store and the emulator's recording after compaction), another tenant is untouched,
the name can be registered again; an undo within the grace period restores the tenant.

The platform here keeps the authorizer's tenant and deployment caches 3 s (its default is 30 s
and 60 s), so the move's waits for them are short, and a grace period of 5 s (its default is 3
days); nothing else differs.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from pipeline.local_cloud.recording_compaction import compact_now, recording_mentions
from tenant_context.attribute_values import to_item
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    TENANT_USER_MAPPING_TABLE,
    data_table,
    deployment_data_tables,
)
from tenant_context.service.sharding import SHARDS, shard_key, shard_of
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.readme_commands import call, create_product, make, onboarded, products
from tests.support.signup_settings import MANY_SIGNUPS

pytestmark = pytest.mark.platform

PRODUCTS, ORDERS = 1000, 200
SETTINGS = {Env.AUTHORIZER_TENANT_TTL_SECONDS.value: "3",
            Env.AUTHORIZER_DEPLOYMENT_TTL_SECONDS.value: "3",
            Env.OFFBOARDING_GRACE_SECONDS.value: "5"}
PRODUCT = TENANT_SERVICES.named("product")  # what the live client creates, as a user does
OTHERS = [service for service in TENANT_SERVICES if service is not PRODUCT]


def bulk_load(platform: RunningPlatform, tenant_id: str) -> None:
    """The fixture's items written straight to the pooled tables, as the services store them
    (1,200 requests through the tenant's usage plan would only slow the test)."""
    dynamodb = platform.aws.dynamodb
    shards = SHARDS[Isolation.POOLED]
    product_ids = [uuid.uuid4().hex for _ in range(PRODUCTS)]
    items = {PRODUCT: [{"shardId": shard_key(tenant_id, shard_of(pid, shards)),
                        PRODUCT.id_attribute: pid, "version": 1, "name": f"product {n}",
                        "price": Decimal(n), "sku": f"SKU-{n}", "category": "bulk"}
                       for n, pid in enumerate(product_ids)],
             **{other: [{"shardId": shard_key(tenant_id, shard_of(oid, shards)),
                         other.id_attribute: oid, "version": 1 + n % 3, "note": f"item {n}",
                         "lines": [{PRODUCT.id_attribute: product_ids[n], "price": 1,
                                    "quantity": 2}]}
                        for n, oid in enumerate(uuid.uuid4().hex for _ in range(ORDERS))]
                for other in OTHERS}}
    for service, rows in items.items():
        table = data_table(service, POOLED_DEPLOYMENT).name
        for start in range(0, len(rows), 25):
            dynamodb.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": to_item(row)}} for row in rows[start:start + 25]]})


@dataclass
class Client:
    """One tenant's user calling its API in a loop, as the web app does."""

    admin_api: str
    tenant_name: str
    token: str
    api: str
    statuses: Counter[int] = field(default_factory=Counter)
    created: list[str] = field(default_factory=list)  # acknowledged writes (201)
    reinits: int = 0
    paused: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    failures: list[str] = field(default_factory=list)

    def reinit(self) -> None:
        """``GET /tenant/init``: where the tenant's API is now (the sign-in page's call)."""
        self.reinits += 1
        init = requests.get(f"{self.admin_api}/tenant/init/{self.tenant_name}", timeout=30)
        if init.status_code == 200:
            self.api = init.json()["apiGatewayUrl"]

    def run(self) -> None:
        serial = 0
        while not self.stopping.is_set():
            serial += 1
            try:
                listed = call("GET", f"{self.api}/products", self.token)
                self.statuses[listed.status_code] += 1
                if listed.status_code == 403:
                    self.reinit()
                    continue
                if listed.status_code != 200:
                    self.failures.append(f"GET {listed.status_code} {listed.text[:200]}")
                self.write(serial)
            except requests.RequestException as error:
                self.failures.append(f"{type(error).__name__}: {error}")
            time.sleep(0.05)

    def write(self, serial: int) -> None:
        body = {"name": f"live {serial}", "price": serial, "sku": "LIVE", "category": "live"}
        for _ in range(100):
            created = call("POST", f"{self.api}/product", self.token, body)
            self.statuses[created.status_code] += 1
            if created.status_code == 201:
                self.created.append(created.json()[PRODUCT.id_attribute])
                return
            if created.status_code == 409 and "moved" in created.json()["message"]:
                self.reinit()
            elif created.status_code == 409 and created.headers.get("Retry-After"):
                self.paused += 1
                time.sleep(min(1.0, float(created.headers["Retry-After"])))
            elif created.status_code == 403:
                self.reinit()
            else:
                self.failures.append(f"POST {created.status_code} {created.text[:200]}")
                return
        self.failures.append("a write was never accepted")


def tenant_items(platform: RunningPlatform, tenant_id: str, deployment: str
                 ) -> dict[str, dict[str, dict[str, Any]]]:
    """Item kind -> id -> the stored item without its partition key, read from the tables."""
    dynamodb = platform.aws.dynamodb
    isolation = Isolation.POOLED if deployment == POOLED_DEPLOYMENT else Isolation.SILO
    found: dict[str, dict[str, dict[str, Any]]] = {}
    existing = set(dynamodb.list_tables()["TableNames"])
    for service in TENANT_SERVICES:
        table = data_table(service, deployment).name
        found[service.item] = {}
        if table not in existing:
            continue
        for shard in range(SHARDS[isolation]):
            pages = dynamodb.get_paginator("query").paginate(
                TableName=table, KeyConditionExpression="shardId = :s",
                ExpressionAttributeValues={":s": {"S": shard_key(tenant_id, shard)}})
            for page in pages:
                for item in page["Items"]:
                    item.pop("shardId")
                    found[service.item][item[service.id_attribute]["S"]] = item
    return found


def moved(state_dir: Path, tenant_id: str, tier: str) -> str:
    output = make(state_dir, "migrate-tenant", f"TENANT_ID={tenant_id}", f"TIER={tier}")
    assert f"Moved to {tier}" in output, output
    return output


@pytest.fixture(scope="module")
def lifecycle_platform(tmp_path_factory: pytest.TempPathFactory
                       ) -> Iterator[tuple[RunningPlatform, Path]]:
    state_dir = tmp_path_factory.mktemp("lifecycle")
    with running_platform(state_dir, free_port(), free_port(),
                          environment=MANY_SIGNUPS | SETTINGS) as platform:
        yield platform, state_dir


def test_a_live_tenant_moves_to_platinum_and_back_with_nothing_lost(
        lifecycle_platform: tuple[RunningPlatform, Path]) -> None:
    platform, tmp_path = lifecycle_platform
    mover = onboarded(tmp_path, "Moving Co", "Premium")
    other = onboarded(tmp_path, "Staying Co", "Standard")
    tenant_id = mover["tenant id"]
    bulk_load(platform, tenant_id)
    original = tenant_items(platform, tenant_id, POOLED_DEPLOYMENT)
    other_before = tenant_items(platform, other["tenant id"], POOLED_DEPLOYMENT)
    dry = make(tmp_path, "migrate-tenant", f"TENANT_ID={tenant_id}", "TIER=Platinum",
               "DRY_RUN=1")
    assert f"{PRODUCTS} product, " in dry, dry
    clients = [Client(platform.admin_api, name, platform.token(summary["tenant admin"],
                                                               name), platform.pooled_api)
               for name, summary in (("Moving Co", mover), ("Staying Co", other))]
    threads = [threading.Thread(target=client.run, daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        up = moved(tmp_path, tenant_id, "Platinum")
        up_seconds = time.monotonic() - started
        time.sleep(1)  # the client's next round on the new deployment
        client = clients[0]
        assert client.api == platform.tenant_api(tenant_id), (client.api, up)
        created_up = list(client.created)
        in_silo = tenant_items(platform, tenant_id, tenant_id)
        for kind, items in original.items():
            assert {key: in_silo[kind][key] for key in items} == items, kind
        assert set(created_up) <= set(in_silo[PRODUCT.item])
        left = tenant_items(platform, tenant_id, POOLED_DEPLOYMENT)
        assert left == {s.item: {} for s in TENANT_SERVICES}  # nothing under its id
        served = call("GET", f"{client.api}/products", client.token)
        assert served.status_code == 200
        assert {p[PRODUCT.id_attribute] for p in served.json()} >= \
            set(original[PRODUCT.item]) | set(created_up)
        started = time.monotonic()
        down = moved(tmp_path, tenant_id, "Premium")
        down_seconds = time.monotonic() - started
        time.sleep(1)
    finally:
        for each in clients:
            each.stopping.set()
        for thread in threads:
            thread.join(timeout=60)
    mine, theirs = clients
    assert not mine.failures, mine.failures[:5]
    assert not theirs.failures, theirs.failures[:5]
    # The other tenant noticed nothing: only successes.
    assert set(theirs.statuses) <= {200, 201}, theirs.statuses
    # Every item back in the pool as it was, and every acknowledged write with them.
    after = tenant_items(platform, tenant_id, POOLED_DEPLOYMENT)
    for kind, items in original.items():
        assert {key: after[kind][key] for key in items} == items, kind
    assert set(mine.created) <= set(after[PRODUCT.item]), "an acknowledged write was lost"
    assert len(after[PRODUCT.item]) == PRODUCTS + len(mine.created)
    assert all(len(after[other.item]) == ORDERS for other in OTHERS)
    assert tenant_items(platform, tenant_id, tenant_id) == {s.item: {} for s in
                                                            TENANT_SERVICES}
    existing = set(platform.aws.dynamodb.list_tables()["TableNames"])
    assert not existing & {table.name for table in deployment_data_tables(tenant_id)}
    assert tenant_items(platform, other["tenant id"], POOLED_DEPLOYMENT) == other_before | {
        PRODUCT.item: {**other_before[PRODUCT.item],
                       **{pid: item for pid, item in tenant_items(
                           platform, other["tenant id"], POOLED_DEPLOYMENT)[PRODUCT.item]
                          .items() if pid in theirs.created}}}
    assert mine.paused > 0 or mine.reinits > 0  # the client did go through the move
    assert created_up  # writes were acknowledged during the first move's run
    print(f"\nmove up {up_seconds:.1f} s, down {down_seconds:.1f} s; client: "
          f"{dict(mine.statuses)}, {len(mine.created)} writes acknowledged, "
          f"{mine.paused} paused answers, {mine.reinits} re-inits\n{up}\n{down}")


def users_of(platform: RunningPlatform, tenant_id: str) -> list[dict[str, Any]]:
    return platform.aws.dynamodb.query(
        TableName=TENANT_USER_MAPPING_TABLE.name, KeyConditionExpression="tenantId = :t",
        ExpressionAttributeValues={":t": {"S": tenant_id}})["Items"]


def test_an_offboarded_tenant_is_exported_and_leaves_nothing_behind(
        lifecycle_platform: tuple[RunningPlatform, Path]) -> None:
    platform, state_dir = lifecycle_platform
    leaving = onboarded(state_dir, "Leaving Co", "Basic")
    staying = onboarded(state_dir, "Remaining Co", "Standard")
    tenant_id = leaving["tenant id"]
    token = platform.token(leaving["tenant admin"], "Leaving Co")
    product_ids = [create_product(platform.pooled_api, token) for _ in range(3)]
    user = call("POST", f"{platform.admin_api}/user", token, {
        "userName": "leaving-user", "userEmail": "leaving-user@leaving.example",
        "userRole": "TenantUser"})
    assert user.status_code == 201, user.text
    staying_token = platform.token(staying["tenant admin"], "Remaining Co")
    create_product(platform.pooled_api, staying_token)
    staying_before = (tenant_items(platform, staying["tenant id"], POOLED_DEPLOYMENT),
                      users_of(platform, staying["tenant id"]))
    dry = make(state_dir, "offboard-tenant", f"TENANT_ID={tenant_id}", "DRY_RUN=1")
    assert re.search(r"\b3\s+items in serverless-saas-product-pooled", dry), dry

    output = make(state_dir, "offboard-tenant", f"TENANT_ID={tenant_id}",
                  "CONFIRM=Leaving Co")

    assert "Offboarded in" in output, output
    assert re.search(r"left +0 ", output), output
    [export] = (state_dir / "exports").glob(f"{tenant_id}-*.json")
    document = json.loads(export.read_text())
    assert {item[PRODUCT.id_attribute] for item in document["items"][PRODUCT.item]} == \
        set(product_ids)
    assert {user["userName"] for user in document["users"]} == {leaving["tenant admin"],
                                                               "leaving-user"}
    # Gone from the API, from sign-in, from the tables, Cognito and keys (the verification
    # counted those), from the password store and the recording, checked here again.
    system_admin = platform.token()
    assert call("GET", f"{platform.admin_api}/tenant/{tenant_id}", system_admin
                ).status_code == 404
    assert call("GET", f"{platform.pooled_api}/products", token).status_code == 401
    needles = [tenant_id, leaving["tenant admin"], "leaving-user",
               "leaving-user@leaving.example", *product_ids]
    assert not any(needle in (state_dir / "credentials.json").read_text()
                   for needle in needles)
    compact_now(platform.state["emulatorUrl"])
    mentions = recording_mentions(state_dir / "emulator" / "recording.jsonl", needles[1:])
    assert not any(mentions.values()), mentions
    assert (tenant_items(platform, staying["tenant id"], POOLED_DEPLOYMENT),
            users_of(platform, staying["tenant id"])) == staying_before
    # The name is free again.
    assert onboarded(state_dir, "Leaving Co", "Basic")["tenant id"] != tenant_id


def test_an_offboarding_undone_within_its_grace_period_restores_the_tenant(
        lifecycle_platform: tuple[RunningPlatform, Path]) -> None:
    platform, state_dir = lifecycle_platform
    tenant = onboarded(state_dir, "Hesitant Co", "Basic")
    tenant_id = tenant["tenant id"]
    token = platform.token(tenant["tenant admin"], "Hesitant Co")
    product = create_product(platform.pooled_api, token)
    system_admin = platform.token()
    route = f"{platform.admin_api}/tenant/offboarding/{tenant_id}"

    requested = call("POST", route, system_admin, {"confirmTenantName": "Hesitant Co"})
    undone = make(state_dir, "offboard-tenant", f"TENANT_ID={tenant_id}", "UNDO=1")

    assert requested.status_code == 202, requested.text
    assert "undone" in undone
    time.sleep(6)  # past the grace period and the authorizer's cache: nothing more happens
    assert call("GET", route, system_admin).json()["step"] == "cancelled"
    assert products(platform.pooled_api, token) == [product]
