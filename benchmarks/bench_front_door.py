"""``make bench``: what metering by usage plan adds to a request through the local front door.

The front door authorizes each request a second time (the services' built-in authorizer does
it again) to learn the caller's API key, then admits or refuses it by plan. Same process, same
loopback upstream (a tiny echo server, so the front door's own cost is what shows), same
kept-alive HTTP session, alternating runs:
- baseline: the front door forwarding only;
- metered: the real authorizer (warm caches, against the emulator) + the usage-plan check.
A SystemAdmin token is used: its plan's burst (5,000) admits every request of the run.
Figures are printed, not asserted.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

import requests

from benchmarks.bench_authorizer import report, timed
from pipeline.local_cloud.api_gateway.authorization import authorizer_step, emulator_authorizer
from pipeline.local_cloud.api_gateway.front_door import FrontDoor, RouteTable, Upstream
from pipeline.local_cloud.api_gateway.usage_plans import GatewayKeyPlans, UsagePlanEnforcer
from pipeline.local_cloud.provisioning.baseline_bootstrap import LocalUrls, bootstrap
from tenant_context.config import Env
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.tenancy import Role
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


if __name__ == "__main__":
    main()
