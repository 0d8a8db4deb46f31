"""A command-line entry point run in-process: its exit code and the lines it wrote."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CapturedRun:
    """Filled by a ``main(argv, out=..., err=...)`` that takes its output streams as callables
    (``out=run.out.append``), so a test reads lines instead of patching ``sys.stdout``."""

    code: int
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
