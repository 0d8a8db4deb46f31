"""Where the repository's folders are, for the code that builds, deploys and runs them."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
