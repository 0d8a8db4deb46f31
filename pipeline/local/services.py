"""The Chalice apps under ``chalice local``, as the local platform runs them.

Each app runs with its own ``local`` stage (``.chalice/config.json``), which registers the
shared tenant authorizer in-process; only the emulator's URL and the local credentials file
come from the platform. Real AWS credentials in the caller's shell are dropped so nothing can
reach an account by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.local import processes
from pipeline.local.paths import PROJECT_ROOT

_UNSAFE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@dataclass(frozen=True)
class ServiceApp:
    directory: str  # the Chalice project folder
    path_prefixes: tuple[str, ...]  # what it serves under its deployment's base URL


SHARED_SERVICES = ServiceApp("shared_services", ("/",))
PRODUCT_SERVICE = ServiceApp("product_service", ("/product",))
ORDER_SERVICE = ServiceApp("order_service", ("/order",))


def service_environment(emulator_url: str, credentials_file: Path,
                        base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in (base or os.environ).items() if key not in _UNSAFE}
    return env | {"AWS_ENDPOINT_URL": emulator_url,
                  "LOCAL_CREDENTIALS_FILE": str(credentials_file),
                  "AWS_EC2_METADATA_DISABLED": "true",
                  "PYTHONUNBUFFERED": "1"}


def start_service(app: ServiceApp, port: int, env: Mapping[str, str],
                  log_file: Path) -> subprocess.Popen[bytes]:
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "local", "--stage", "local", "--host", processes.LOOPBACK,
               "--port", str(port), "--no-autoreload"]
    return processes.start(command, cwd=PROJECT_ROOT / app.directory, env=env,
                           log_file=log_file)
