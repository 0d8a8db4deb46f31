"""Where the repository's folders are, for the code that builds, deploys and runs them."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def source_path(root: Path = PROJECT_ROOT) -> str:
    """``PYTHONPATH`` for the processes the pipeline starts (``chalice package``, ``chalice
    local``, the platform): the checkout's project root, layer and authorizer, as the
    virtualenv's .pth file lists them for the checkout that created it. Set explicitly, so a
    second checkout sharing that virtualenv (a scaffolded copy, a worktree) runs its own code."""
    return os.pathsep.join(str(root / folder) for folder in (".", "layer", "authorizer"))
