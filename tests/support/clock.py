"""A clock the test moves, so time-based behaviour is checked without sleeping."""

from __future__ import annotations


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
