"""Runs a Python script as a child of the platform that ends when the platform ends, however
the platform ends (``processes.start`` runs every child through it).

The platform's children run in sessions of their own (so a terminal's Ctrl-C reaches only the
platform, which stops them in order); a platform killed hard (SIGKILL, a crash) therefore used
to leave them running, holding their ports. Here the child watches the read end of a pipe whose
only write end the platform holds: when the platform is gone, however it went, the read returns
end-of-file and the child takes its own process group down (SIGTERM, then SIGKILL if anything is
left after a grace period). This works on Linux and macOS. On Linux the child also asks for
SIGTERM when its parent dies (``PR_SET_PDEATHSIG``) - when the parent asks for it: the signal
follows the THREAD that started the child, so only children of a long-lived thread may have it.

Run as ``python -P lifeline.py <fd> <parent pid> <0|1: parent-death signal> <log file> <script>
[args...]`` (or ``-m <module> [args...]`` in place of the script: a test's platform): the script
(a console script of the virtualenv: ``chalice``, ``moto_server``) runs in this very process, so
the pid the platform records is the server's own. The parent's pid and the
log file (in the state folder) stay in the command line: a later start recognizes by them what a
crashed run left (``processes.leftovers``).
Standard library only, and ``-P``: nothing of this folder may shadow what the script imports.
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys
import threading
import time

GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


def _end_the_group() -> None:
    group = os.getpgrp()
    os.killpg(group, signal.SIGTERM)
    time.sleep(GRACE_SECONDS)  # only reached if this process ignores or handles SIGTERM
    os.killpg(group, signal.SIGKILL)


def _watch(fd: int) -> None:
    while os.read(fd, 1):  # the platform never writes; anything but EOF is ignored
        pass
    _end_the_group()


def _parent_death_signal(parent_pid: int) -> None:
    """Linux only; a no-op elsewhere (the pipe does the work)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        _end_the_group()


def main(argv: list[str]) -> None:
    fd, parent_pid, death_signal, _log_file, script, *args = argv
    if death_signal == "1":
        _parent_death_signal(int(parent_pid))
    threading.Thread(target=_watch, args=(int(fd),), name="lifeline", daemon=True).start()
    if script == "-m":  # a module, as ``python -m`` runs it (the platform itself, for a test)
        module, *args = args
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as running the script would
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
