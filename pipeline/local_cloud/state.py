"""Where the local platform keeps its state: ``.local/`` in the project (git-ignored)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env, PlatformConfig


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @classmethod
    def from_environ(cls) -> StatePaths:
        configured = PlatformConfig.from_environ().optional(Env.LOCAL_STATE_DIR)
        return cls(Path(configured or PROJECT_ROOT / ".local").resolve())

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

    @property
    def exports(self) -> Path:
        """Offboarded tenants' exports (what AWS hands over as an expiring link)."""
        return self.root / "exports"

    @property
    def release_requests(self) -> Path:
        """One empty file per Platinum deployment a release asks for, named by its tenant id;
        the platform takes (removes) them when signalled. None there: every deployment."""
        return self.root / "release-requests"

    def request_release(self, deployment_id: str) -> None:
        self.release_requests.mkdir(parents=True, exist_ok=True)
        (self.release_requests / deployment_id).touch()

    def take_release_requests(self) -> set[str]:
        """The requested deployments, each taken once (requests made meanwhile stay for the
        next signal)."""
        taken = set()
        for request in sorted(self.release_requests.glob("*")):
            request.unlink(missing_ok=True)
            taken.add(request.name)
        return taken

    def running(self) -> dict[str, Any]:
        """The running platform's URLs and pids, or ``NotRunning``."""
        if not self.platform.exists():
            raise NotRunning("The local platform is not running: start it with `make local`.")
        state: dict[str, Any] = json.loads(self.platform.read_text())
        return state


class NotRunning(Exception):  # noqa: N818 - a state, read as "the platform is not running"
    pass
