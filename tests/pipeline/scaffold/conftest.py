"""The scaffold run in-process on a temporary project root holding a copy of the one file it
reads there (the registry), with its output captured and every byte of the root snapshotted,
so a test can say "nothing was written" exactly."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.project import PROJECT_ROOT
from pipeline.scaffold.cli import main
from pipeline.scaffold.registry_entry import REGISTRY_FILE
from tests.support.captured_run import CapturedRun


class Run(CapturedRun):
    @property
    def labels(self) -> list[str]:
        """What each error line is about: ``NAME=class``, ``ITEM=x (defaults to NAME)``."""
        return [line.removeprefix("error: ").split(": ", 1)[0] for line in self.err
                if line.startswith("error: ")]


@dataclass(frozen=True)
class Project:
    root: Path

    def scaffold(self, *argv: str) -> Run:
        run = Run(0)
        run.code = main(list(argv), root=self.root, out=run.out.append, err=run.err.append)
        return run

    def snapshot(self) -> dict[str, bytes | None]:
        """Every file's bytes and every folder (``None``), by path from the root."""
        return {str(path.relative_to(self.root)): path.read_bytes() if path.is_file() else None
                for path in sorted(self.root.rglob("*"))}

    @property
    def registry(self) -> Path:
        return self.root / REGISTRY_FILE


@pytest.fixture
def project(tmp_path: Path) -> Project:
    registry = tmp_path / REGISTRY_FILE
    registry.parent.mkdir(parents=True)
    shutil.copyfile(PROJECT_ROOT / REGISTRY_FILE, registry)
    return Project(tmp_path)
