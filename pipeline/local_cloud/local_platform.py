"""``make local``: the whole platform on loopback, in one command, until Ctrl-C.

Starts the emulator (replaying saved state), applies the baseline, starts shared services and
every registered tenant service (pooled) under ``chalice local``, puts the front door in front of
them, prints the URLs and the admin's credentials, and stops everything it started (by pid) on
Ctrl-C or SIGTERM. Running it again is safe: the bootstrap only fills in what is missing.

It is also the deployer of Platinum tenants
(``pipeline.local_cloud.provisioning.tenant_provisioner``): each one's own tenant services
come up at ``<gateway>/<tenantId>`` soon after its registration, stop when it is
deactivated (its tables and data stay) and come back with its activation or the next start.
``platform.json`` lists every process, those of Platinum deployments included, and is rewritten
whenever a deployment starts or stops.

A release (``make deploy-pooled``: SIGHUP; ``make deploy-tenants``: SIGUSR1) replaces the
processes of the admin and pooled deployments, or of every Platinum deployment, with new ones
running the working tree's code; the new ones take each route over before the old ones stop,
so no request fails.

Configuration (environment): ``EMULATOR_PORT`` (4700), ``GATEWAY_PORT`` (4701),
``ADMIN_EMAIL``, ``LOCAL_STATE_DIR`` (``.local``); the sign-up limits (``SignupLimits``:
``SIGNUP_RATE_PER_ADDRESS``, ``SIGNUP_RATE_TOTAL``, ``SIGNUP_RATE_WINDOW_SECONDS``, applied by
the front door, and ``PENDING_PLATINUM_CAP``, which the admin API's process reads from the same
environment).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from pipeline.local_cloud import processes
from pipeline.local_cloud.api_gateway.authorization import authorizer_step, emulator_authorizer
from pipeline.local_cloud.api_gateway.front_door import (
    FrontDoor,
    RouteTable,
    ThrottleMeter,
    Upstream,
)
from pipeline.local_cloud.api_gateway.handoff import HandOff, new_secret
from pipeline.local_cloud.api_gateway.signup_limits import SignupGate, SignupLimiter
from pipeline.local_cloud.api_gateway.usage_plans import GatewayKeyPlans, UsagePlanEnforcer
from pipeline.local_cloud.chalice_local import (
    SHARED_SERVICES,
    TENANT_SERVICE_APPS,
    ServiceApp,
    ServiceLaunch,
    service_environment,
    start_services,
)
from pipeline.local_cloud.cognito.endpoint import CognitoEndpoint, local_cognito_endpoint
from pipeline.local_cloud.cognito.passwords import ResetCodes
from pipeline.local_cloud.emulator import Emulator, start_emulator
from pipeline.local_cloud.provisioning.baseline_bootstrap import (
    BaselineResult,
    LocalUrls,
    bootstrap,
)
from pipeline.local_cloud.provisioning.lifecycle_runner import (
    LifecycleRunner,
    LocalStateCheck,
    local_mover,
    local_offboarder,
    local_timings,
    offboarding_work,
)
from pipeline.local_cloud.provisioning.silo_launcher import SiloDeployment, SiloLauncher
from pipeline.local_cloud.provisioning.tenant_provisioner import Provisioner
from pipeline.local_cloud.state import StatePaths
from pipeline.stacks.inventory import ADMIN_API_NAMES, LISTING_PATHS, POOLED_API_NAMES
from pipeline.stacks.web_config import WebConfig
from tenant_context.config import Env, PlatformConfig, SignupLimits
from tenant_context.errors import ConfigurationError
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE, USAGE_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.platform_settings import PoolRef
from tenant_context.service.request_metering import PeriodicFlush
from tenant_context.service.usage_meter import DEFAULT_FLUSH_SECONDS, UsageMeter
from tenant_context.tenancy import POOLED_DEPLOYMENT

REGION = "us-east-1"
ADMIN_DEPLOYMENT = "admin"
# The local Cognito endpoint's base path on the front door (no tenant id or deployment is
# named so): <gateway>/cognito.
COGNITO_ROUTE = "cognito"
# Changes through the admin API nudge the provisioner at once; the poll catches the others
# (an app run alone, a script writing the table) and bounds how much idle polling the
# emulator records (about 1 KB a poll).
PROVISIONER_POLL_SECONDS = 5.0
# The deployments the platform itself runs (a Platinum tenant's are the provisioner's): each
# app with its API id.
BASELINE_DEPLOYMENTS: dict[str, list[tuple[ServiceApp, str]]] = {
    ADMIN_DEPLOYMENT: [(SHARED_SERVICES, ADMIN_API_NAMES[0])],
    POOLED_DEPLOYMENT: list(zip(TENANT_SERVICE_APPS, POOLED_API_NAMES, strict=True)),
}
# ``make deploy-pooled``, ``make deploy-tenants`` and ``make release`` ask the running platform
# for a release (for Platinum deployments, those named in ``StatePaths.release_requests``).
RELEASE_POOLED = signal.SIGHUP
RELEASE_TENANTS = signal.SIGUSR1


def emulator_session(make: Callable[..., boto3.session.Session] = boto3.session.Session
                     ) -> boto3.session.Session:
    """A session for the emulator, which takes any credentials: these reach no account."""
    session: boto3.session.Session = make(aws_access_key_id="local",
                                          aws_secret_access_key="local", region_name=REGION)
    return session


def emulator_clients(emulator_url: str, session: boto3.session.Session | None = None
                     ) -> AwsClients:
    return AwsClients(session or emulator_session(), emulator_url)


def local_web_config(state: Mapping[str, Any], operations_pool: PoolRef) -> WebConfig:
    """What the web apps need from the running platform: ``state`` is its ``platform.json``
    (the URLs; the Cognito endpoint once the platform serves one), the pool the bootstrap
    recorded. Stable across restarts: the ports are the same settings, and the emulator
    derives pool and client ids from their definitions."""
    return WebConfig(admin_api_url=str(state["adminApiUrl"]), region=REGION,
                     operations_user_pool_id=operations_pool.user_pool_id,
                     operations_app_client_id=operations_pool.app_client_id,
                     cognito_endpoint=state.get("cognitoEndpoint"))


@dataclass
class LocalPlatform:
    paths: StatePaths
    emulator_port: int
    gateway_port: int
    admin_email: str
    signup_limits: SignupLimits = field(default_factory=SignupLimits)
    emulator: Emulator | None = None
    front_door: FrontDoor | None = None
    cognito: CognitoEndpoint | None = None
    services: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    baseline: BaselineResult | None = None
    provisioner: Provisioner[SiloDeployment] | None = None
    lifecycle: LifecycleRunner | None = None
    throttle_flush: PeriodicFlush | None = None
    routes: RouteTable = field(default_factory=RouteTable)
    # The apps' environment, which holds this start's hand-off secret: never printed or written.
    service_env: dict[str, str] = field(default_factory=dict, repr=False)
    # The main thread (a release) and the provisioner's both rewrite platform.json.
    _state_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def gateway_url(self) -> str:
        return f"http://{processes.LOOPBACK}:{self.gateway_port}"

    @property
    def cognito_url(self) -> str:
        """The local Cognito endpoint, as the web apps' ``Auth.endpoint`` names it."""
        return f"{self.gateway_url}/{COGNITO_ROUTE}"

    def urls(self) -> LocalUrls:
        return LocalUrls(admin_api=f"{self.gateway_url}/{ADMIN_DEPLOYMENT}",
                         pooled_api=f"{self.gateway_url}/{POOLED_DEPLOYMENT}")

    def start(self) -> None:
        processes.require_free(self.gateway_port, Env.GATEWAY_PORT)
        processes.require_free(self.emulator_port, Env.EMULATOR_PORT)
        try:
            self.emulator = start_emulator(self.emulator_port, self.paths.recording,
                                           self.paths.logs / "emulator.log")
            credentials = CredentialsFile(self.paths.credentials)
            clients = emulator_clients(self.emulator.url)
            self.baseline = bootstrap(clients, self.urls(),
                                      credentials, self.admin_email)
            routes = self.routes
            self.cognito = local_cognito_endpoint(clients.cognito, credentials,
                                                  self.emulator.url)
            self.cognito.start()
            routes.set(COGNITO_ROUTE, (Upstream(("/",), self.cognito.port, COGNITO_ROUTE),))
            # One authorization per request: the front door hands its decision to the apps
            # under a secret of this start, which only their environment carries.
            handoff = HandOff(new_secret())
            env = self.service_env = service_environment(self.emulator.url,
                                                         self.paths.credentials) | {
                Env.LOCAL_GATEWAY_HANDOFF_SECRET: handoff.secret}
            for deployment, apps in BASELINE_DEPLOYMENTS.items():
                routes.set(deployment, self._start_apps(apps, env))
            self.provisioner = Provisioner(
                Deployments(clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name), routes,
                SiloLauncher(clients.dynamodb, clients.cloudformation, env,
                             self.paths.logs), self.gateway_url)
            self.provisioner.reconcile()  # Platinum deployments are up when the URLs print
            self.front_door = FrontDoor(
                self.gateway_port, routes,
                authorize=authorizer_step(emulator_authorizer(self.emulator.url, clients)),
                usage_plans=UsagePlanEnforcer(GatewayKeyPlans(clients.apigateway),
                                              shared_deployments=(ADMIN_DEPLOYMENT,
                                                                  POOLED_DEPLOYMENT)),
                signups=SignupGate(SignupLimiter(self.signup_limits), ADMIN_DEPLOYMENT),
                after_change=self._changed, handoff=handoff,
                throttles=ThrottleMeter(self._throttle_meter(clients, env)))
            self.front_door.start()
            self._write_state()
            self.provisioner.start_polling(PROVISIONER_POLL_SECONDS, self._write_state)
            self.lifecycle = LifecycleRunner([
                local_mover(clients, local_timings(PlatformConfig.from_environ())),
                offboarding_work(clients, local_offboarder(
                    clients, self.paths.exports, credentials, checks=[LocalStateCheck(
                        self.emulator.url, self.paths.recording,
                        [credentials.path, ResetCodes.beside(credentials).path])]))])
            self.lifecycle.start_polling(PROVISIONER_POLL_SECONDS)
        except BaseException:
            self.stop()
            raise

    def _start_apps(self, apps: list[tuple[ServiceApp, str]], env: dict[str, str]
                    ) -> tuple[Upstream, ...]:
        """Apps of one deployment, each with its API id."""
        running = start_services([ServiceLaunch(app, env, self.paths.logs / f"{app.directory}.log")
                                  for app, _ in apps])
        self.services.update({service.app.directory: service.process for service in running})
        return tuple(Upstream(service.app.path_prefixes, service.port, api_id,
                              service.app.document_path)
                     for service, (_, api_id) in zip(running, apps, strict=True))

    def release(self) -> None:
        """``make deploy-pooled``: the admin and pooled deployments get new processes (the
        working tree's code) without failing a request: the new ones take the route over, the
        old ones finish what they are serving, then stop (a local blue/green)."""
        for deployment, apps in BASELINE_DEPLOYMENTS.items():
            old = [self.services[app.directory] for app, _ in apps]
            for upstream in self.routes.set(deployment, self._start_apps(apps, self.service_env)):
                upstream.retire()
            for process in old:
                processes.stop(process)
        self._write_state()

    def _throttle_meter(self, clients: AwsClients, env: Mapping[str, str]) -> UsageMeter:
        """The front door's meter of the 429s it answers, written as often as the apps'."""
        seconds = PlatformConfig.from_environ(env).seconds(Env.USAGE_FLUSH_SECONDS,
                                                           DEFAULT_FLUSH_SECONDS)
        meter = UsageMeter(clients.dynamodb, USAGE_TABLE.name, flush_every_seconds=seconds)
        self.throttle_flush = PeriodicFlush(meter, seconds).start(exit_hooks=False)
        return meter

    def _changed(self, deployment: str) -> None:
        if deployment == ADMIN_DEPLOYMENT and self.provisioner:
            self.provisioner.nudge()  # registrations and (de)activations reach it at once
        if deployment == ADMIN_DEPLOYMENT and self.lifecycle:
            self.lifecycle.nudge()  # a move or an offboarding requested

    def _started(self) -> tuple[Emulator, BaselineResult]:
        if self.emulator is None or self.baseline is None:
            raise RuntimeError("the platform is not running")
        return self.emulator, self.baseline

    def _write_state(self) -> None:
        """Replaced whole (write, then rename), so a reader never sees half a file; one writer
        at a time, so an older picture never replaces a newer one."""
        emulator, _ = self._started()
        urls = self.urls()
        silos = self.provisioner
        with self._state_lock:
            state = {
                "pid": os.getpid(),
                "emulatorUrl": emulator.url,
                "adminApiUrl": urls.admin_api,
                "pooledApiUrl": urls.pooled_api,
                "cognitoEndpoint": self.cognito_url,
                "tenantApiUrls": silos.urls() if silos else {},  # Platinum tenant id -> URL
                "pids": {"emulator": emulator.process.pid,
                         **{name: process.pid for name, process in self.services.items()},
                         **(silos.pids() if silos else {})},
            }
            written = self.paths.platform.with_suffix(".writing")
            written.write_text(json.dumps(state, indent=2))
            written.replace(self.paths.platform)

    def stop(self) -> None:
        if self.lifecycle:  # before the provisioner a move waits on
            self.lifecycle.stop()
            self.lifecycle = None
        if self.provisioner:  # first: its thread may still rewrite platform.json
            self.provisioner.stop()
            self.provisioner = None
        if self.front_door:
            self.front_door.stop()
            self.front_door = None
        if self.throttle_flush:  # after the front door: its last 429s are written too
            self.throttle_flush.stop()
            self.throttle_flush = None
        if self.cognito:
            self.cognito.stop()
            self.cognito = None
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
            f"  pooled tenant API  {urls.pooled_api}   ({', '.join(LISTING_PATHS)})",
            f"  Platinum tenants   {self.gateway_url}/<tenantId>   (each its own deployment)",
            f"  AWS emulator       {emulator.url}",
            f"  Cognito endpoint   {self.cognito_url}   (the web apps' Auth.endpoint)",
            f"  SystemAdmin        user '{baseline.admin_user_name}', password {password}",
            f"  credentials file   {self.paths.credentials}",
            f"  logs               {self.paths.logs}/",
            "Web apps (the same as JSON: make web-config):",
            *local_web_config(json.loads(self.paths.platform.read_text()),
                              baseline.settings.operations_pool).lines(),
            "Get an ID token:     make token                      (the SystemAdmin)",
            "                     make token USER_NAME=... TENANT=<tenant name>",
            f"Try it:             curl -H \"Authorization: Bearer $(make -s token)\" "
            f"{urls.admin_api}/tenants",
        ])


class AlreadyRunning(Exception):  # noqa: N818 - a state, read as "already running"
    pass


def stop_leftovers(paths: StatePaths, grace: float = 5.0) -> str | None:
    """What a crashed run of this checkout left for this state folder (``processes.leftovers``)
    is stopped, so this start finds its ports free; a platform still running refuses it
    (``AlreadyRunning``). Returns what it did, for the user, or None if nothing was left."""
    found = processes.leftovers(paths.root)
    if found.running_platforms:
        pids = ", ".join(str(pid) for pid in sorted(found.running_platforms))
        raise AlreadyRunning(f"the platform is already running (pid {pids}) with the state "
                             f"folder {paths.root}: stop it first")
    if not found.stale:
        return None
    processes.kill_now(found.stale)
    deadline = time.monotonic() + grace
    while (not all(processes.finished(pid) for pid in found.stale)
           and time.monotonic() < deadline):
        time.sleep(0.05)
    paths.platform.unlink(missing_ok=True)  # the crashed run's
    return (f"Stopped {len(found.stale)} processes left by a crashed run of this platform "
            f"(pids {', '.join(str(pid) for pid in found.stale)}); starting cleanly.")


def main() -> None:
    config = PlatformConfig.from_environ()
    try:
        platform = LocalPlatform(
            paths=StatePaths.from_environ(),
            emulator_port=config.port(Env.EMULATOR_PORT, 4700),
            gateway_port=config.port(Env.GATEWAY_PORT, 4701),
            admin_email=config.optional(Env.ADMIN_EMAIL, "admin@example.com"),
            signup_limits=SignupLimits.from_config(config),  # the Platinum cap too: checked now
        )
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    stopping = threading.Event()
    releases = {RELEASE_POOLED: threading.Event(), RELEASE_TENANTS: threading.Event()}

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    def request_release(signum: int, frame: object) -> None:
        releases[signal.Signals(signum)].set()

    logging.basicConfig(format="%(message)s", stream=sys.stdout)
    logging.getLogger("pipeline.local_cloud").setLevel(logging.INFO)  # deployments coming and going
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    for release_signal in releases:
        signal.signal(release_signal, request_release)
    platform.paths.root.mkdir(parents=True, exist_ok=True)
    try:
        cleaned = stop_leftovers(platform.paths)
        if cleaned:
            print(cleaned, flush=True)
        print("Starting the local platform ...", flush=True)
        platform.start()
    except (processes.PortInUse, AlreadyRunning) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        print(platform.summary(), flush=True)
        while not stopping.wait(0.5):
            if releases[RELEASE_POOLED].is_set():
                releases[RELEASE_POOLED].clear()
                print("Releasing the admin and pooled deployments ...", flush=True)
                platform.release()
                print("Released: new processes serve the admin and pooled APIs.", flush=True)
            if releases[RELEASE_TENANTS].is_set() and platform.provisioner:
                releases[RELEASE_TENANTS].clear()
                platform.provisioner.release(platform.paths.take_release_requests() or None)
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
