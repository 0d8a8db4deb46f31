"""The local platform as a child process, for tests and benchmarks: started as ``make local``
starts it, stopped as Ctrl-C stops it, and checked to leave no process behind.

Platinum deployments come and go while the platform runs, and the platform rewrites
``platform.json`` each time; so the pids checked at the end are those listed at start plus
those listed just before the platform is stopped.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.local_cloud import processes
from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.sign_in import resolve_pool, sign_in
from pipeline.project import PROJECT_ROOT, source_path
from tenant_context.config import Env
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.invitations import CredentialsFile


@dataclass
class RunningPlatform:
    state: dict[str, Any]  # platform.json: URLs and pids
    state_dir: Path

    @property
    def admin_api(self) -> str:
        return str(self.state["adminApiUrl"])

    @property
    def pooled_api(self) -> str:
        return str(self.state["pooledApiUrl"])

    @property
    def cognito_endpoint(self) -> str:
        """The local Cognito endpoint (``platform.json``'s ``cognitoEndpoint``)."""
        return str(self.state["cognitoEndpoint"])

    def tenant_api(self, tenant_id: str) -> str | None:
        """A Platinum tenant's own URL while its deployment runs (from the current state)."""
        url = self.current_state().get("tenantApiUrls", {}).get(tenant_id)
        return str(url) if url else None

    def current_state(self) -> dict[str, Any]:
        """``platform.json`` as the platform last wrote it (it changes with deployments)."""
        state: dict[str, Any] = json.loads((self.state_dir / "platform.json").read_text())
        return state

    @functools.cached_property
    def aws(self) -> AwsClients:
        """Clients of the platform's emulator."""
        return emulator_clients(self.state["emulatorUrl"])

    def token(self, user_name: str = "admin", tenant_name: str | None = None) -> str:
        return sign_in(self.aws.cognito, resolve_pool(self.aws.dynamodb, tenant_name),
                       user_name, CredentialsFile(self.state_dir / "credentials.json")
                       )["IdToken"]


def alive(pid: int) -> bool:
    """Whether a process with this pid is still there."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def platform_environment(state_dir: Path, emulator_port: int, gateway_port: int,
                         root: Path = PROJECT_ROOT,
                         environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """What ``make local`` would find in the shell, with this state folder and these ports."""
    env: dict[str, str] = {
        **os.environ, **(environment or {}), Env.LOCAL_STATE_DIR: str(state_dir),
        Env.EMULATOR_PORT: str(emulator_port), Env.GATEWAY_PORT: str(gateway_port),
        Env.PYTHONPATH: source_path(root)}
    for name in (Env.AWS_ENDPOINT_URL, Env.TENANT_AUTHORIZER, Env.LOCAL_GATEWAY_API_ID):
        env.pop(name, None)  # the platform gives its processes what they need
    return env


def wait_until_started(process: subprocess.Popen[Any], state_dir: Path,
                       timeout: float = 90) -> RunningPlatform:
    """Until this platform wrote ``platform.json`` (it is up: one a crashed run left names
    another pid); fails if it exits first."""
    state_file = state_dir / "platform.json"
    deadline = time.monotonic() + timeout
    while True:
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        if state.get("pid") == process.pid:
            return RunningPlatform(state, state_dir)
        if process.poll() is not None:
            raise RuntimeError(f"the platform exited: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the platform did not start within {timeout:.0f} s")
        time.sleep(0.2)


@contextmanager
def running_platform(state_dir: Path, emulator_port: int, gateway_port: int,
                     start_timeout: float = 90, root: Path = PROJECT_ROOT,
                     environment: Mapping[str, str] | None = None
                     ) -> Iterator[RunningPlatform]:
    """``root``: the checkout whose platform runs (another one shares this virtualenv);
    ``environment``: settings as ``make local`` reads them from the shell (sign-up limits a
    suite registering many tenants raises, for example)."""
    env = platform_environment(state_dir, emulator_port, gateway_port, root, environment)
    # Tied to this process: a test run killed (a CI timeout) takes its platform down with it.
    command, fd = processes.tied(["-m", "pipeline.local_cloud"], state_dir / "platform.log")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, pass_fds=(fd,))
    state_file = state_dir / "platform.json"
    pids = [process.pid]
    try:
        running = wait_until_started(process, state_dir, start_timeout)
        pids += list(running.state["pids"].values())
        yield running
    finally:
        if state_file.exists():
            pids += list(json.loads(state_file.read_text())["pids"].values())
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in pids if alive(pid)]
        if left or "Stopped." not in output or state_file.exists():
            raise RuntimeError(f"the platform did not stop cleanly (left {left}): {output}")
