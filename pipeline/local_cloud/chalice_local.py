"""The Chalice apps under ``chalice local``, as the local platform runs them.

Each app runs with a local stage of its own ``.chalice/config.json``, which registers the
shared tenant authorizer in-process. The ``local`` stage is complete (admin API, pooled
deployment): only the emulator's URL and the local credentials file come from the platform.
The ``local-silo`` stage holds what every Platinum tenant's deployment shares; ``chalice
local`` lays a stage's variables OVER the process environment, so the per-tenant values (table
names, API id) can only come from the environment when the stage leaves them out; so do the
usage table and how often usage is written (``USAGE_FLUSH_SECONDS``, 10 s here unless the
environment says otherwise), which every app, pooled or silo, shares. Real AWS
credentials in the caller's shell are dropped so nothing can reach an account by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.local_cloud import processes
from pipeline.project import PROJECT_ROOT, source_path
from tenant_context.config import REAL_ACCOUNT_VARIABLES, Env
from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.tenant_services import TENANT_SERVICES, TenantService

LOCAL_STAGE = "local"
SILO_STAGE = "local-silo"
# Usage reaches the usage table within 10 s locally (a developer watches it), 60 s by default.
LOCAL_USAGE_FLUSH = "10"


@dataclass(frozen=True)
class ServiceApp:
    directory: str  # the Chalice project folder
    path_prefixes: tuple[str, ...]  # what it serves under its deployment's base URL
    document_path: str  # its OpenAPI document, under those (the front door reads its routes)


SHARED_SERVICES = ServiceApp("shared_services", ("/",), "/openapi.json")


def tenant_service_app(service: TenantService) -> ServiceApp:
    """A registered tenant service: its folder, serving every path under its route prefix."""
    return ServiceApp(service.folder, (service.route_prefix,), service.document_path)


TENANT_SERVICE_APPS = tuple(tenant_service_app(service) for service in TENANT_SERVICES)


def service_environment(emulator_url: str, credentials_file: Path,
                        base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in (base or os.environ).items()
           if key not in REAL_ACCOUNT_VARIABLES}
    return env | {Env.USAGE_FLUSH_SECONDS: env.get(Env.USAGE_FLUSH_SECONDS, LOCAL_USAGE_FLUSH),
                  Env.USAGE_TABLE: USAGE_TABLE.name,
                  Env.AWS_ENDPOINT_URL: emulator_url,
                  Env.LOCAL_CREDENTIALS_FILE: str(credentials_file),
                  Env.AWS_EC2_METADATA_DISABLED: "true",
                  Env.PYTHONPATH: source_path(),
                  Env.PYTHONUNBUFFERED: "1"}


def start_service(app: ServiceApp, port: int, env: Mapping[str, str], log_file: Path,
                  stage: str = LOCAL_STAGE) -> subprocess.Popen[bytes]:
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "local", "--stage", stage, "--host", processes.LOOPBACK,
               "--port", str(port), "--no-autoreload"]
    return processes.start(command, cwd=PROJECT_ROOT / app.directory, env=env,
                           log_file=log_file)


@dataclass(frozen=True)
class ServiceLaunch:
    app: ServiceApp
    env: Mapping[str, str]
    log_file: Path
    stage: str = LOCAL_STAGE


@dataclass(frozen=True)
class RunningService:
    app: ServiceApp
    port: int
    process: subprocess.Popen[bytes]


def start_services(launches: Sequence[ServiceLaunch]) -> tuple[RunningService, ...]:
    """Starts every app before waiting for any, so they boot in parallel (each ``chalice local``
    takes seconds to import its app). All or nothing: if one does not come up, the ones
    started are stopped before the error is raised."""
    started: list[RunningService] = []
    try:
        for launch in launches:
            port = processes.free_port()
            started.append(RunningService(launch.app, port, start_service(
                launch.app, port, launch.env, launch.log_file, launch.stage)))
        for service in started:
            processes.wait_for_http(f"http://{processes.LOOPBACK}:{service.port}/",
                                    service.process)
    except BaseException:
        for service in started:
            processes.stop(service.process)
        raise
    return tuple(started)
