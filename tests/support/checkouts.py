"""Another checkout of this repository beside the session's: a copy of the files git knows of,
run with this virtualenv and its own code first on the path (no second install)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pipeline.project import PROJECT_ROOT, source_path
from tenant_context.config import Env


def copy_of_the_checkout(destination: Path, *, mtime: float | None = None) -> Path:
    """The files git knows of (committed or not, ignored ones aside). Their times are kept, so
    the Makefile sees this virtualenv as up to date, unless ``mtime`` gives them all another."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=PROJECT_ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
            if mtime is not None:
                os.utime(destination / name, (mtime, mtime))
    return destination


def committed(checkout: Path) -> Path:
    """The copy as one commit of its own, so ``git status`` shows what changes after."""
    git = ["git", "-c", "user.name=builder", "-c", "user.email=builder@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "clone"]):
        subprocess.run([*git, *command], cwd=checkout, check=True, capture_output=True)
    return checkout


def checkout_environment(root: Path) -> dict[str, str]:
    """This process's environment with ``root``'s code first on the path."""
    return {**os.environ, Env.PYTHONPATH: source_path(root)}
