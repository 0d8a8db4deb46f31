"""What metering costs a request: the product service with its usage meter and without, in one
run, on one emulator, through Chalice's local gateway with the real authorizer, alternating
rounds so that drift in the machine falls on both alike.

Metering adds per request: ``ReturnConsumedCapacity`` (and ``ALL_OLD`` on writes) on every
DynamoDB call, the middleware's record into memory under a lock, and, once a flush is due, one
``UpdateItem`` per (tenant, hour) and (tenant, day) row. The flushes are timed apart and
spread over the requests they covered. Figures are printed, not asserted; the goal is an
overhead under 5% of a request's p50.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.local_cloud.provisioning.baseline_bootstrap import LocalUrls, bootstrap
from tenant_context.attribute_values import to_item
from tenant_context.config import Env
from tenant_context.platform.definitions import USAGE_TABLE, data_table
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.service.usage_meter import DEFAULT_FLUSH_RECORDS, UsageMeter
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.chalice_apps import load_app, loaded_module
from tests.support.moto_server import clients_for, running_emulator
from tests.support.tenant_api import ConcurrentCaller
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

ROUNDS = 10
REQUESTS_PER_ROUND = 30  # per app and kind of request, in each round (a flush ends a round)
SEED_PRODUCTS = 20


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    with running_emulator() as url, tempfile.TemporaryDirectory() as state:
        os.environ.update({Env.AWS_ENDPOINT_URL: url, Env.AWS_DEFAULT_REGION: "us-east-1",
                           Env.POWERTOOLS_LOG_LEVEL: "WARNING",
                           Env.AWS_ACCESS_KEY_ID: "local", Env.AWS_SECRET_ACCESS_KEY: "local",
                           Env.LOCAL_CREDENTIALS_FILE: str(Path(state) / "credentials.json")})
        credentials = CredentialsFile(Path(state) / "credentials.json")
        baseline = bootstrap(clients_for(url), LocalUrls("http://x/admin", "http://x/pooled"),
                             credentials, "admin@example.com")
        world = World(clients_for(url), baseline.settings, credentials)
        product = TENANT_SERVICES.serving("product")
        plain = ConcurrentCaller(load_app(product.folder, name="bench-plain"))
        metered = ConcurrentCaller(load_app(product.folder, name="bench-metered", overrides={
            Env.USAGE_TABLE: USAGE_TABLE.name, Env.USAGE_FLUSH_SECONDS: "3600"}))
        meter: UsageMeter = loaded_module("bench-metered").platform.usage
        lister, creator = (world.id_token(world.tenant_user(world.pooled_tenant(),
                                                            Role.TENANT_USER))
                           for _ in range(2))
        for number in range(SEED_PRODUCTS):  # the listed tenant's items stay as they are
            plain("POST", "/product", lister, {"name": f"p{number}", "price": number})
        kinds: dict[str, Callable[[ConcurrentCaller], object]] = {
            "GET /products": lambda call: call("GET", "/products", lister),
            "POST /product": lambda call: call("POST", "/product", creator,
                                               {"name": "new", "price": 1})}
        times: dict[tuple[str, str], list[float]] = {
            (kind, app): [] for kind in kinds for app in ("off", "on")}
        for call in (plain, metered):  # warm both: first-request imports and clients
            for request in kinds.values():
                request(call)
        meter.flush()
        flush_seconds: list[float] = []
        metered_requests = 0
        for _ in range(ROUNDS):
            for number in range(REQUESTS_PER_ROUND):
                # Off and on one request apart, in turn first: drift (a growing table, the
                # machine) falls on both alike.
                pair = (("off", plain), ("on", metered))
                for kind, request in kinds.items():
                    for app, call in pair if number % 2 else pair[::-1]:
                        started = time.perf_counter()
                        request(call)
                        times[kind, app].append(time.perf_counter() - started)
                metered_requests += len(kinds)
            started = time.perf_counter()
            result = meter.flush()
            flush_seconds.append(time.perf_counter() - started)
            assert result.ok, result.errors
        flush_per_request = sum(flush_seconds) / metered_requests
        at_default = p50_ms(flush_seconds) / DEFAULT_FLUSH_RECORDS
        print(f"Metering overhead per request ({ROUNDS} rounds x {REQUESTS_PER_ROUND} requests "
              f"per app and route, alternating, same emulator)")
        for kind in kinds:
            off, on = p50_ms(times[kind, "off"]), p50_ms(times[kind, "on"])
            print(f"  {kind:<15} metering off  p50 {off:7.2f} ms")
            print(f"  {kind:<15} metering on   p50 {on:7.2f} ms   in the request "
                  f"{on - off:+.2f} ms ({(on - off) / off * 100:+.1f}% of p50)   with the flush "
                  f"{(on - off) / off * 100 + at_default / off * 100:+.1f}%")
        print(f"  a flush (4 rows: two tenants' hour and day): p50 {p50_ms(flush_seconds):.1f} ms;"
              f" spread over the {DEFAULT_FLUSH_RECORDS} requests a flush follows by default"
              f" {at_default:.3f} ms/request (here every round: "
              f"{flush_per_request * 1000:.3f} ms/request)")
        asked, plain_put = emulators_share(world.clients.dynamodb)
        print(f"  of which the emulator's: a PutItem asking for its capacity p50 {asked:.2f} ms, "
              f"without {plain_put:.2f} ms ({asked - plain_put:+.2f} ms, which DynamoDB does "
              f"not charge in time)")


def emulators_share(dynamodb: DynamoDBClient) -> tuple[float, float]:
    """p50 of a PutItem with ``ReturnConsumedCapacity`` and without, alternating, straight to
    the emulator: the part of the overhead that is moto computing what it reports."""
    table = data_table(TENANT_SERVICES.serving("product"), POOLED_DEPLOYMENT).name
    times: dict[bool, list[float]] = {True: [], False: []}
    for number in range(2 * ROUNDS * REQUESTS_PER_ROUND):
        asked = bool(number % 2)
        item = to_item({"shardId": f"{'0' * 32}-0", "productId": uuid.uuid4().hex,
                        "name": "new", "price": 1, "version": 1})
        extra: dict[str, str] = {"ReturnConsumedCapacity": "TOTAL"} if asked else {}
        started = time.perf_counter()
        dynamodb.put_item(TableName=table, Item=item, **extra)  # type: ignore[arg-type]
        times[asked].append(time.perf_counter() - started)
    return p50_ms(times[True]), p50_ms(times[False])


if __name__ == "__main__":
    main()
