"""A child of the platform never outlives it, what one left is found again, and a port held by
another program is one line naming the variable that moves it (issue #16)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pipeline.local_cloud import processes
from pipeline.project import PROJECT_ROOT, source_path
from tenant_context.config import Env

_PARENT = """
import sys, threading, time
from pathlib import Path
from pipeline.local_cloud import processes
def start():
    child = processes.start([sys.argv[1]], log_file=Path(sys.argv[2]))
    print(child.pid, flush=True)
if sys.argv[3] == "thread":  # pipe only: no parent-death signal (what macOS gets)
    threading.Thread(target=start).start()
else:
    start()
time.sleep(60)
"""


def _sleeper(tmp_path: Path) -> Path:
    script = tmp_path / "sleeper.py"
    script.write_text("import time\ntime.sleep(60)\n")
    return script


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while processes.command_line(pid) is not None:  # a zombie has no command line
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _env() -> dict[str, str]:
    return {**os.environ, Env.PYTHONPATH: source_path()}


@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_a_child_ends_when_its_parent_is_killed_hard(tmp_path: Path, started_from: str) -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(_sleeper(tmp_path)),
                               str(tmp_path / "logs" / "sleeper.log"), started_from],
                              stdout=subprocess.PIPE, text=True, env=_env(), cwd=PROJECT_ROOT)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert processes.parent_of(child) == parent.pid
        parent.kill()
        parent.wait()
        assert _gone_within(child, 3)
    finally:
        parent.kill()
        parent.wait()
        if child:
            processes.kill_now([child])


@pytest.fixture
def held_pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    try:
        yield read_end, write_end
    finally:
        os.close(read_end)
        os.close(write_end)


def test_leftovers_are_the_children_whose_parent_is_gone(
        tmp_path: Path, held_pipe: tuple[int, int]) -> None:
    """Started as ``processes.start`` starts a child, but on a pipe this test holds, so that
    the lifeline does not end them: one names a parent that is gone, one names this test."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    read_end = held_pipe[0]
    state = tmp_path / "state"
    with ExitStack() as stack:
        started = {}
        for name, parent in (("stale", dead.pid), ("ours", os.getpid())):
            command = [sys.executable, "-P", str(processes.LIFELINE), str(read_end), str(parent),
                       "0", str(state / "logs" / f"{name}.log"), str(_sleeper(tmp_path))]
            child = subprocess.Popen(command, pass_fds=(read_end,), start_new_session=True)
            stack.callback(child.wait)
            stack.callback(processes.kill_now, [child.pid])
            started[name] = child.pid
        elsewhere = processes.leftovers(tmp_path / "another state folder")
        deadline = time.monotonic() + 5
        expected = processes.Leftovers((started["stale"],), frozenset({os.getpid()}))
        while (found := processes.leftovers(state)) != expected:
            assert time.monotonic() < deadline, found  # until both have their command lines
            time.sleep(0.05)
        assert elsewhere.stale == ()
        assert not elsewhere.running_platforms


@pytest.mark.parametrize("variable", [Env.GATEWAY_PORT, Env.EMULATOR_PORT])
def test_a_port_held_by_another_program_is_one_line_naming_its_variable(
        tmp_path: Path, variable: Env) -> None:
    with socket.socket() as holder:
        holder.bind((processes.LOOPBACK, 0))
        holder.listen()
        held = holder.getsockname()[1]
        ports: dict[str, str] = {Env.EMULATOR_PORT: str(processes.free_port()),
                                 Env.GATEWAY_PORT: str(processes.free_port()),
                                 variable: str(held)}
        run = subprocess.run([sys.executable, "-m", "pipeline.local_cloud"], cwd=PROJECT_ROOT,
                             env={**_env(), **ports, Env.LOCAL_STATE_DIR: str(tmp_path)},
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run
    assert run.stderr.splitlines() == [
        f"error: port {held} is in use by another program: stop it, or choose another port "
        f"with {variable}=..."]
    assert not (tmp_path / "platform.json").exists()
