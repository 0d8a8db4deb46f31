"""Starting, probing and stopping the platform's child processes (always by pid).

Every child runs through ``lifeline.py``, so it ends when the process that started it ends,
however that ends; should one survive anyway, the next start finds it by its command line
(``leftovers``) and stops it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
LIFELINE = Path(__file__).with_name("lifeline.py")


class PortInUse(Exception):  # noqa: N818 - a state, read as "the port is in use"
    """A port the platform needs is held by another program: the variable that moves it."""

    def __init__(self, port: int, variable: str) -> None:
        super().__init__(f"port {port} is in use by another program: stop it, or choose "
                         f"another port with {variable}=...")
        self.port = port
        self.variable = variable


def require_free(port: int, variable: str) -> None:
    if port_in_use(port):
        raise PortInUse(port, variable)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((LOOPBACK, port)) == 0


_lifeline_lock = threading.Lock()
_lifeline_read_end: int | None = None


def _lifeline() -> int:
    """The read end every child watches. The write end stays open, unused and never inherited
    (``os.pipe`` makes both ends close on exec), for as long as this process lives: its end is
    every child's end-of-file."""
    global _lifeline_read_end
    with _lifeline_lock:
        if _lifeline_read_end is None:
            _lifeline_read_end, _ = os.pipe()
        return _lifeline_read_end


def tied(command: Sequence[str], log_file: Path) -> tuple[list[str], int]:
    """``command`` (a Python script, or ``-m`` and a module) run through ``lifeline.py`` so that
    it never outlives this process, and the pipe end to pass it. Only commands started from the
    main thread ask for Linux's parent-death signal, which follows the thread that started the
    child (the provisioner's worker threads may come and go)."""
    fd = _lifeline()
    death_signal = "1" if threading.current_thread() is threading.main_thread() else "0"
    return [sys.executable, "-P", str(LIFELINE), str(fd), str(os.getpid()), death_signal,
            str(log_file.resolve()), *command], fd


def start(command: Sequence[str], *, log_file: Path, cwd: Path | None = None,
          env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A child in its own session, so a terminal's Ctrl-C reaches only the platform, which then
    stops its children in order; tied to this process (``tied``: ``command[0]`` is a Python
    script, a console script of the virtualenv), so that it never outlives it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    wrapped, fd = tied(command, log_file)
    with open(log_file, "ab") as log:
        return subprocess.Popen(wrapped, cwd=cwd, env=dict(env or os.environ), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                pass_fds=(fd,))


def command_line(pid: int) -> list[str] | None:
    """A process's arguments (``/proc`` on Linux, ``ps`` elsewhere), None if it is gone."""
    if sys.platform.startswith("linux"):
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return raw.decode(errors="replace").split("\0")[:-1] if raw else None
    listed = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True,
                            text=True, check=False)
    return listed.stdout.split() if listed.returncode == 0 and listed.stdout.strip() else None


def finished(pid: int) -> bool:
    """Whether a process has let go of everything it held: gone, or a zombie. Not "its command
    line is empty": Linux drops a dying process's memory (and so its ``cmdline``) before its
    files, so its listening sockets can outlive its command line for a moment."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return command_line(pid) is None


def parent_of(pid: int) -> int | None:
    """A process's parent now, None if it is gone."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return int(stat.rsplit(")", 1)[1].split()[1])  # after the name, which may hold spaces
    listed = subprocess.run(["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True,
                            text=True, check=False)
    return int(listed.stdout) if listed.returncode == 0 and listed.stdout.strip() else None


def _pid(name: str) -> int | None:
    """A ``/proc`` entry's pid, None for the others (``self``, ``net``, ...)."""
    try:
        return int(name)
    except ValueError:
        return None


def all_pids() -> list[int]:
    if sys.platform.startswith("linux"):
        return [pid for entry in Path("/proc").iterdir() if (pid := _pid(entry.name))]
    listed = subprocess.run(["ps", "-ax", "-o", "pid="], capture_output=True, text=True,
                            check=True)
    return [int(pid) for pid in listed.stdout.split()]


@dataclass(frozen=True)
class Leftovers:
    """Children a platform of this checkout started for one state folder: those whose parent
    is gone (``stale``: a crashed run's) and the pids of platforms still running."""

    stale: tuple[int, ...]
    running_platforms: frozenset[int]


def leftovers(state_root: Path) -> Leftovers:
    """Found by command line: this checkout's ``lifeline.py`` with a log file in the folder. A
    child whose parent is still the one it names belongs to a running platform; any other was
    left by one that died (and its lifeline did not end it). The asking process is never its
    own leftover (a test's platform runs tied to the test, with its log in the folder)."""
    root = f"{state_root.resolve()}{os.sep}"
    stale, running = [], set()
    for pid in all_pids():
        if pid == os.getpid():
            continue
        args = command_line(pid) or []
        at = args.index(str(LIFELINE)) if str(LIFELINE) in args else -1
        if at < 0 or len(args) < at + 5 or not args[at + 4].startswith(root):
            continue
        named_parent = int(args[at + 2])
        if parent_of(pid) == named_parent:
            running.add(named_parent)
        else:
            stale.append(pid)
    return Leftovers(tuple(stale), frozenset(running))


def kill_now(pids: Sequence[int]) -> None:
    """SIGKILL to each process's group (they lead their own sessions), then to the process."""
    for pid in pids:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Until the server answers anything at all (any status counts as up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before "
                               f"answering on {url}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered on {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM to the child's process group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
