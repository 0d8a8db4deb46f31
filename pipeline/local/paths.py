"""Where the local platform keeps its state: ``.local/`` in the project (git-ignored)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @classmethod
    def from_environ(cls) -> StatePaths:
        return cls(Path(os.environ.get("LOCAL_STATE_DIR") or PROJECT_ROOT / ".local").resolve())

    @property
    def recording(self) -> Path:
        """Every state-changing request made to the emulator, replayed on the next start."""
        return self.root / "emulator" / "recording.jsonl"

    @property
    def credentials(self) -> Path:
        """Temporary and changed passwords of local users (no email leaves the machine)."""
        return self.root / "credentials.json"

    @property
    def platform(self) -> Path:
        """URLs, ports and pids of the running platform (removed when it stops)."""
        return self.root / "platform.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"
