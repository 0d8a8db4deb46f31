"""Where the deployer's progress lines go: a function taking one line, so tests capture them
and a dry run's call lines interleave with the progress in the order things happen."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Out = Callable[[str], None]
LONG = 300


def echo(line: str) -> None:
    """Flushed at once: a deployment runs for minutes and the operator watches it happen."""
    print(line, flush=True)


def shown(params: Mapping[str, Any]) -> str:
    """``Key=value`` pairs a reader can check at a glance: bodies and template texts as their
    size (a 6 MB layer or a 50 KB template is not something to read in a terminal), strings bare
    unless they hold spaces, the rest as JSON."""
    def one(value: Any) -> str:
        if isinstance(value, bytes | bytearray):
            return f"<{len(value)} bytes>"
        if isinstance(value, str) and len(value) > LONG:
            return f"<{len(value)} characters>"
        if isinstance(value, str) and value and not any(char.isspace() for char in value):
            return value
        return json.dumps(value, separators=(",", ":"), default=str)

    return " ".join(f"{key}={one(value)}" for key, value in params.items())


class Summary:
    """What the operator keeps from a run: a title, then aligned ``label  value`` rows (the
    same layout ``make local`` prints), then notes."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def row(self, label: str, value: str) -> Summary:
        self.rows.append((label, value))
        return self

    def note(self, text: str) -> Summary:
        self.notes.append(text)
        return self

    def lines(self) -> list[str]:
        width = max((len(label) for label, _ in self.rows), default=0)
        return [self.title, *(f"  {label:<{width}}  {value}" for label, value in self.rows),
                *self.notes]
