"""A background pass run every few seconds, or at once when nudged: how the local stand-ins
for AWS's event-driven parts (the tenant pipeline's stream, its state machines) notice work,
since nothing calls them.

A pass answers how soon another is useful (None: at the next interval); ``stop`` waits for
the pass under way, so whatever it started is left consistent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

MIN_WAIT_SECONDS = 0.05  # a pass that wants to go on at once still yields the thread


class Poller:
    def __init__(self, name: str, run_pass: Callable[[], float | None]) -> None:
        self._name = name
        self._run_pass = run_pass
        self.stopping = threading.Event()
        self._nudged = threading.Event()
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """Run a pass now rather than at the next interval (work may be waiting)."""
        self._nudged.set()

    def start(self, interval: float) -> None:
        def poll() -> None:
            wait = interval
            while True:
                self._nudged.wait(wait)
                self._nudged.clear()
                if self.stopping.is_set():
                    return
                soonest = self._run_pass()
                wait = interval if soonest is None else min(interval,
                                                            max(MIN_WAIT_SECONDS, soonest))

        self._thread = threading.Thread(target=poll, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the pass under way."""
        self.stopping.set()
        self._nudged.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
