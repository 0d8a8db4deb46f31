"""The emulator as ``make local`` runs it (its server, recording to a file), per test: what the
recording and compaction tests start, stop and replay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.local_cloud.emulator import Emulator, start_emulator
from pipeline.local_cloud.processes import free_port


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return tmp_path / "recording.jsonl"


@pytest.fixture
def emulator(tmp_path: Path, recording: Path) -> Iterator[Emulator]:
    started = start_emulator(free_port(), recording, tmp_path / "emulator.log")
    try:
        yield started
    finally:
        started.stop()
