from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.packaging import package


@dataclass(frozen=True)
class Packaged:
    out: Path
    baseline: dict[str, Any]

    @property
    def baseline_file(self) -> Path:
        return self.out / "cloudformation" / "baseline" / "sam.json"


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """``make package`` into a fresh folder, once per test session."""
    out = tmp_path_factory.mktemp("dist")
    (template,) = package(out)
    return Packaged(out, json.loads(template.read_text()))
