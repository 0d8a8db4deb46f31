"""A platform killed hard leaves nothing running and loses no acknowledged write; what a crashed
run did leave is stopped by the next start, which says so and comes up (issue #16).

The platform runs as ``make local`` runs it (``python -m pipeline.local_cloud``), in a process
group this module starts, with its own ports and state folder. One crash (SIGKILL to the group
during a write load) serves both tests, so the module starts the platform twice in all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from pipeline.local_cloud import processes
from pipeline.local_cloud.platform_runner import (
    RunningPlatform,
    alive,
    platform_environment,
    wait_until_started,
)
from pipeline.project import PROJECT_ROOT

pytestmark = pytest.mark.platform

TENANT = "Crash Co"
WRITERS = 4
LOAD_SECONDS = 1.5


@contextmanager
def platform_group(state_dir: Path, emulator_port: int, gateway_port: int, output: Path
                   ) -> Iterator[tuple[subprocess.Popen[bytes], RunningPlatform]]:
    """The platform in a process group of its own; whatever happens, nothing it started (in
    this state folder) is left running afterwards."""
    with ExitStack() as stack, open(output, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.local_cloud"], cwd=PROJECT_ROOT,
            env=platform_environment(state_dir, emulator_port, gateway_port),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(_leave_nothing, process, state_dir)
        yield process, wait_until_started(process, state_dir)


def _leave_nothing(process: subprocess.Popen[bytes], state_dir: Path) -> None:
    processes.kill_now([process.pid])
    process.wait()
    found = processes.leftovers(state_dir)
    processes.kill_now([*found.stale, *found.running_platforms])


@dataclass
class Crash:
    state_dir: Path
    emulator_port: int
    gateway_port: int
    output: Path
    pids: list[int]  # the platform's and every child's it listed
    acknowledged: set[str]  # products created with a 201
    tenant_admin: str
    seconds_to_clean: float | None  # None: something was left 5 s after the kill


def _write_load(platform: RunningPlatform, token: str, acknowledged: set[str],
                stop: threading.Event) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            try:
                created = session.post(f"{platform.pooled_api}/product", timeout=10,
                                       headers={"Authorization": f"Bearer {token}"},
                                       json={"name": "Load", "price": 1, "sku": "L",
                                             "category": "c"})
            except requests.RequestException:
                continue  # the platform is gone: not acknowledged
            if created.status_code == 201:
                acknowledged.add(created.json()["productId"])


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> Crash:
    state_dir = tmp_path_factory.mktemp("crash")
    emulator_port, gateway_port = processes.free_port(), processes.free_port()
    output = state_dir.parent / f"{state_dir.name}-output.txt"
    acknowledged: set[str] = set()
    stop = threading.Event()
    with platform_group(state_dir, emulator_port, gateway_port, output) as (process, platform):
        registered = requests.post(f"{platform.admin_api}/registration", timeout=30,
                                   json={"tenantName": TENANT, "tenantTier": "premium",
                                         "tenantEmail": "owner@crash.example"})
        assert registered.status_code == 201, registered.text
        tenant_admin = registered.json()["tenantAdminUserName"]
        token = platform.token(tenant_admin, TENANT)
        writers = [threading.Thread(target=_write_load, args=(platform, token, acknowledged,
                                                               stop)) for _ in range(WRITERS)]
        for writer in writers:
            writer.start()
        try:
            time.sleep(LOAD_SECONDS)
            pids = [process.pid, *platform.current_state()["pids"].values()]
            os.killpg(process.pid, signal.SIGKILL)  # as a hard kill of `make local`
            seconds = _seconds_until_gone(pids, (emulator_port, gateway_port), limit=5)
        finally:
            stop.set()
            for writer in writers:
                writer.join()
    return Crash(state_dir, emulator_port, gateway_port, output, pids, set(acknowledged),
                 tenant_admin, seconds)


def _seconds_until_gone(pids: list[int], ports: tuple[int, ...], limit: float) -> float | None:
    """Until no pid runs (a zombie has no command line) and no port answers; None past
    ``limit``."""
    started = time.monotonic()
    while (any(processes.command_line(pid) for pid in pids)
           or any(processes.port_in_use(port) for port in ports)):
        if time.monotonic() - started > limit:
            return None
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_platform_killed_hard_leaves_no_process_and_no_port(crash: Crash) -> None:
    running = [pid for pid in crash.pids if processes.command_line(pid)]
    held = [port for port in (crash.emulator_port, crash.gateway_port)
            if processes.port_in_use(port)]
    assert crash.seconds_to_clean is not None, f"5 s after: running {running}, held {held}"
    assert crash.acknowledged  # the kill came during the load


def test_the_next_start_stops_what_a_crashed_run_left_and_loses_no_acknowledged_write(
        crash: Crash) -> None:
    """What a lifeline could not end (here: an emulator started as the platform starts one,
    on a pipe this test holds, naming a parent that is gone) holds the emulator's port."""
    gone = subprocess.Popen(["true"])  # the parent it names
    gone.wait()
    read_end, write_end = os.pipe()
    with ExitStack() as stack:
        stack.callback(os.close, write_end)
        stack.callback(os.close, read_end)
        moto_server = Path(sys.executable).with_name("moto_server")
        stale = subprocess.Popen(
            [sys.executable, "-P", str(processes.LIFELINE), str(read_end), str(gone.pid), "0",
             str(crash.state_dir / "logs" / "emulator.log"), str(moto_server),
             "-H", processes.LOOPBACK, "-p", str(crash.emulator_port)],
            pass_fds=(read_end,), start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        stack.callback(stale.wait)
        stack.callback(processes.kill_now, [stale.pid])
        processes.wait_for_http(f"http://{processes.LOOPBACK}:{crash.emulator_port}/", stale)
        started = crash.output.stat().st_size
        with platform_group(crash.state_dir, crash.emulator_port, crash.gateway_port,
                            crash.output) as (process, platform):
            printed = crash.output.read_bytes()[started:].decode()
            assert (f"Stopped 1 processes left by a crashed run of this platform "
                    f"(pids {stale.pid}); starting cleanly.") in printed
            assert stale.poll() == -signal.SIGKILL
            token = platform.token(crash.tenant_admin, TENANT)
            listed = requests.get(f"{platform.pooled_api}/products", timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200, listed.text
            lost = crash.acknowledged - {product["productId"] for product in listed.json()}
            assert not lost, f"{len(lost)} of {len(crash.acknowledged)} acknowledged lost"
            process.send_signal(signal.SIGINT)  # Ctrl-C: stops cleanly, nothing left
            assert process.wait(timeout=60) == 0
            assert "Stopped." in crash.output.read_text()
            assert processes.leftovers(crash.state_dir) == processes.Leftovers((), frozenset())


def test_a_test_run_killed_takes_its_platform_down(tmp_path: Path) -> None:
    """``running_platform`` ties the platform to the test process (as the platform ties its
    own children): a test run killed (a CI timeout, kill -9) leaves no platform behind."""
    emulator_port, gateway_port = processes.free_port(), processes.free_port()
    script = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from pipeline.local_cloud.platform_runner import running_platform\n"
        f"with running_platform(Path({str(tmp_path)!r}), {emulator_port}, {gateway_port})"
        " as platform:\n"
        "    print(json.dumps(platform.state['pids']), flush=True)\n"
        "    time.sleep(600)\n")
    runner = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert runner.stdout is not None
        started = json.loads(runner.stdout.readline())
        assert started, "the platform did not start"
        runner.kill()  # SIGKILL: no finally, no cleanup of its own
        runner.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (
                any(processes_alive(started.values()))
                or processes.port_in_use(gateway_port) or processes.port_in_use(emulator_port)):
            time.sleep(0.2)
        assert not any(processes_alive(started.values())), started
        assert not processes.port_in_use(gateway_port)
        assert not processes.port_in_use(emulator_port)
    finally:
        found = processes.leftovers(tmp_path)
        processes.kill_now([*found.stale, *found.running_platforms])


def processes_alive(pids: Iterable[int]) -> list[bool]:
    return [alive(int(pid)) for pid in pids]
