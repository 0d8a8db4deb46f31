"""``make local``: the whole platform on loopback, in one command, until Ctrl-C.

Starts the emulator (replaying saved state), applies the baseline, starts shared services and
the pooled product and order services under ``chalice local``, puts the front door in front of
them, prints the URLs and the admin's credentials, and stops everything it started (by pid) on
Ctrl-C or SIGTERM. Running it again is safe: the bootstrap only fills in what is missing.

Configuration (environment): ``EMULATOR_PORT`` (4700), ``GATEWAY_PORT`` (4701),
``ADMIN_EMAIL``, ``LOCAL_STATE_DIR`` (``.local``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3

from pipeline.local import processes
from pipeline.local.bootstrap import BaselineResult, LocalUrls, bootstrap
from pipeline.local.emulator import Emulator, start_emulator
from pipeline.local.front_door import FrontDoor, RouteTable, Upstream
from pipeline.local.paths import StatePaths
from pipeline.local.services import (
    ORDER_SERVICE,
    PRODUCT_SERVICE,
    SHARED_SERVICES,
    ServiceApp,
    service_environment,
    start_service,
)
from tenant_context.invitations import CredentialsFile
from tenant_context.tenancy import POOLED_DEPLOYMENT

REGION = "us-east-1"
ADMIN_DEPLOYMENT = "admin"


def emulator_clients(emulator_url: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=REGION)
    return lambda service: session.client(service, endpoint_url=emulator_url)


@dataclass
class LocalPlatform:
    paths: StatePaths
    emulator_port: int
    gateway_port: int
    admin_email: str
    emulator: Emulator | None = None
    front_door: FrontDoor | None = None
    services: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    baseline: BaselineResult | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://{processes.LOOPBACK}:{self.gateway_port}"

    def urls(self) -> LocalUrls:
        return LocalUrls(admin_api=f"{self.gateway_url}/{ADMIN_DEPLOYMENT}",
                         pooled_api=f"{self.gateway_url}/{POOLED_DEPLOYMENT}")

    def start(self) -> None:
        if processes.port_in_use(self.gateway_port):
            raise RuntimeError(f"port {self.gateway_port} is already in use: is the platform "
                               f"already running? (choose another with GATEWAY_PORT=...)")
        try:
            self.emulator = start_emulator(self.emulator_port, self.paths.recording,
                                           self.paths.logs / "emulator.log")
            credentials = CredentialsFile(self.paths.credentials)
            self.baseline = bootstrap(emulator_clients(self.emulator.url), self.urls(),
                                      credentials, self.admin_email)
            routes = RouteTable()
            env = service_environment(self.emulator.url, self.paths.credentials)
            routes.set(ADMIN_DEPLOYMENT, self._start_apps([SHARED_SERVICES], env))
            routes.set(POOLED_DEPLOYMENT, self._start_apps([PRODUCT_SERVICE, ORDER_SERVICE], env))
            self.front_door = FrontDoor(self.gateway_port, routes)
            self.front_door.start()
            self._write_state()
        except BaseException:
            self.stop()
            raise

    def _start_apps(self, apps: list[ServiceApp], env: dict[str, str]) -> tuple[Upstream, ...]:
        started = []
        for app in apps:
            port = processes.free_port()
            self.services[app.directory] = start_service(
                app, port, env, self.paths.logs / f"{app.directory}.log")
            started.append((app, port))
        for app, port in started:
            processes.wait_for_http(f"http://{processes.LOOPBACK}:{port}/",
                                    self.services[app.directory])
        return tuple(Upstream(app.path_prefixes, port) for app, port in started)

    def _started(self) -> tuple[Emulator, BaselineResult]:
        if self.emulator is None or self.baseline is None:
            raise RuntimeError("the platform is not running")
        return self.emulator, self.baseline

    def _write_state(self) -> None:
        emulator, _ = self._started()
        urls = self.urls()
        state = {
            "pid": os.getpid(),
            "emulatorUrl": emulator.url,
            "adminApiUrl": urls.admin_api,
            "pooledApiUrl": urls.pooled_api,
            "pids": {"emulator": emulator.process.pid,
                     **{name: process.pid for name, process in self.services.items()}},
        }
        self.paths.platform.write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        if self.front_door:
            self.front_door.stop()
            self.front_door = None
        for process in self.services.values():
            processes.stop(process)
        self.services.clear()
        if self.emulator:
            self.emulator.stop()
            self.emulator = None
        self.paths.platform.unlink(missing_ok=True)

    def summary(self) -> str:
        emulator, baseline = self._started()
        urls = self.urls()
        password = baseline.admin_password or "(see the credentials file)"
        return "\n".join([
            "Serverless SaaS platform is running (Ctrl-C stops it):",
            f"  admin API          {urls.admin_api}",
            f"  pooled tenant API  {urls.pooled_api}   (/products, /orders)",
            f"  AWS emulator       {emulator.url}",
            f"  SystemAdmin        user '{baseline.admin_user_name}', password {password}",
            f"  credentials file   {self.paths.credentials}",
            f"  logs               {self.paths.logs}/",
            "Get an ID token:     make token                      (the SystemAdmin)",
            "                     make token USER_NAME=... TENANT=<tenant name>",
            f"Try it:             curl -H \"Authorization: Bearer $(make -s token)\" "
            f"{urls.admin_api}/tenants",
        ])


def main() -> None:
    platform = LocalPlatform(
        paths=StatePaths.from_environ(),
        emulator_port=int(os.environ.get("EMULATOR_PORT") or 4700),
        gateway_port=int(os.environ.get("GATEWAY_PORT") or 4701),
        admin_email=os.environ.get("ADMIN_EMAIL") or "admin@example.com",
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    platform.paths.root.mkdir(parents=True, exist_ok=True)
    print("Starting the local platform ...", flush=True)
    platform.start()
    try:
        print(platform.summary(), flush=True)
        while not stopping.wait(0.5):
            children = {**platform.services,
                        **({"emulator": platform.emulator.process} if platform.emulator else {})}
            dead = [name for name, process in children.items() if process.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} stopped unexpectedly; see {platform.paths.logs}/",
                      flush=True)
                break
    finally:
        print("Stopping ...", flush=True)
        platform.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
