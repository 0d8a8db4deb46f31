"""``make bench``: what metering by usage plan adds to a request through the local front door.

The front door authorizes each request to learn the caller's API key, then admits or refuses
it by plan. Same process, same
loopback upstream (a tiny echo server, so the front door's own cost is what shows), same
kept-alive HTTP session, alternating runs:
- baseline: the front door forwarding only;
- metered: the real authorizer (warm caches, against the emulator) + the usage-plan check.
A SystemAdmin token is used: its plan's burst (5,000) admits every request of the run.

Then one authorization per request (``handoff``): ``GET /admin/tenants`` through the metered
front door to a Chalice app served by ``chalice local``'s own server with the real built-in
authorizer (each side a fresh authorizer of its own, as two processes have), the app authorizing
again (before) or answering from the front door's sealed decision (after): the AWS calls of the
first request, then p50 of warm requests.
Figures are printed, not asserted.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
from pathlib import Path

import requests
from chalice import Chalice
from chalice.config import Config
from chalice.local import create_local_server

from benchmarks.bench_authorizer import report, timed
from pipeline.local_cloud.api_gateway.authorization import authorizer_step, emulator_authorizer
from pipeline.local_cloud.api_gateway.builtin_authorizer import builtin_authorizer
from pipeline.local_cloud.api_gateway.front_door import FrontDoor, RouteTable, Upstream
from pipeline.local_cloud.api_gateway.handoff import HandOff, new_secret
from pipeline.local_cloud.api_gateway.usage_plans import GatewayKeyPlans, UsagePlanEnforcer
from pipeline.local_cloud.processes import LOOPBACK, free_port
from pipeline.local_cloud.provisioning.baseline_bootstrap import LocalUrls, bootstrap
from tenant_context.config import Env
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.tenancy import Role
from tests.support.counting import OperationLog
from tests.support.echo_upstream import Upstreams
from tests.support.moto_server import clients_for, running_emulator
from tests.support.world import World

REQUESTS = 1000
ROUNDS = 2  # baseline and metered alternate, so drift on a busy machine hits both


def main() -> None:
    with running_emulator() as url, tempfile.TemporaryDirectory() as state:
        os.environ.update({Env.AWS_ENDPOINT_URL: url, Env.AWS_DEFAULT_REGION: "us-east-1",
                           Env.AWS_ACCESS_KEY_ID: "local", Env.AWS_SECRET_ACCESS_KEY: "local"})
        clients = clients_for(url)
        credentials = CredentialsFile(Path(state) / "credentials.json")
        baseline = bootstrap(clients, LocalUrls("http://x/admin", "http://x/pooled"),
                             credentials, "admin@example.com")
        world = World(clients, baseline.settings, credentials)
        token = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
        upstream = Upstreams()
        upstream.thread.start()
        routes = RouteTable()
        routes.set("admin", (Upstream(("/",), upstream.port, "admin"),))
        authorize = authorizer_step(emulator_authorizer(url, clients))
        samples: dict[str, list[float]] = {"baseline": [], "metered": []}
        try:
            for _ in range(ROUNDS):
                for name in samples:
                    metered = name == "metered"
                    front_door = FrontDoor(
                        0, routes, authorize=authorize if metered else None,
                        usage_plans=UsagePlanEnforcer(
                            GatewayKeyPlans(clients.apigateway),
                            shared_deployments=("admin", "pooled")) if metered else None)
                    front_door.start()
                    session = requests.Session()
                    session.headers["Authorization"] = f"Bearer {token}"

                    def call(target: str = f"{front_door.url}/admin/tenants",
                             http: requests.Session = session) -> None:
                        answer = http.get(target, timeout=10)
                        assert answer.status_code == 200, answer.text

                    timed(call, 50)  # warm: connection, caches
                    samples[name] += timed(call, REQUESTS // ROUNDS)
                    front_door.stop()
        finally:
            upstream.server.shutdown()
            upstream.server.server_close()
        print("Local front door, GET through to a loopback echo upstream (kept-alive session)")
        baseline_p50 = statistics.median(samples["baseline"]) * 1000
        report("baseline: forwarding only", samples["baseline"])
        report("metered: authorizer + usage plan", samples["metered"], baseline_p50)
        print("Through the front door to a chalice local app (its built-in authorizer)")
        for name, handoff in (("authorized twice", None), ("handed off", HandOff(new_secret()))):
            calls, warm = _through_an_app(url, token, handoff)
            report(f"{name}: {calls} AWS calls first", warm)


def _through_an_app(url: str, token: str, handoff: HandOff | None) -> tuple[int, list[float]]:
    """(AWS calls of the first request, warm samples) with cold authorizers on both sides."""
    aws = OperationLog()
    front_clients, app_clients = clients_for(url), clients_for(url)
    front, behind = emulator_authorizer(url, front_clients), emulator_authorizer(url, app_clients)
    for client in (front_clients.dynamodb, front_clients.sts, app_clients.dynamodb,
                   app_clients.sts):
        aws.watch(client)
    app = Chalice("bench-handoff")
    authorizer = builtin_authorizer(app, "admin", behind, handoff=handoff)

    @app.route("/tenants", authorizer=authorizer)
    def tenants() -> list[str]:
        return []

    port = free_port()
    server = create_local_server(app, Config.create(chalice_app=app), LOOPBACK, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    routes = RouteTable()
    routes.set("admin", (Upstream(("/",), port, "admin"),))
    front_door = FrontDoor(0, routes, authorize=authorizer_step(front),
                           usage_plans=UsagePlanEnforcer(GatewayKeyPlans(front_clients.apigateway),
                                                         shared_deployments=("admin",)),
                           handoff=handoff)
    front_door.start()
    try:
        def call() -> None:
            # A new connection per request, as chalice local needs (see platform-facts).
            answer = requests.get(f"{front_door.url}/admin/tenants", timeout=10,
                                  headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text

        aws.take()
        call()
        first = len(aws.take())
        timed(call, 20)
        return first, timed(call, REQUESTS // 5)
    finally:
        front_door.stop()
        server.shutdown()
        server.server.server_close()


if __name__ == "__main__":
    main()
