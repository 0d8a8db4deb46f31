"""A short soak of the running platform: mixed requests over a live state that stays the same
size, and neither the emulator's memory nor its recording grows with the traffic (both
plateau: at most a few MiB over the second half). ``make bench`` runs a longer one. One
platform of its own (its recording is measured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.local_cloud.platform_runner import running_platform
from pipeline.local_cloud.processes import free_port
from tests.support.soak import MIB, Sample, Soak

pytestmark = pytest.mark.platform

REQUESTS = 2000
EVERY = 500
PLATEAU = 4 * MIB  # growth allowed over the second half (measured: 2-2.5 MiB)


def test_memory_and_recording_plateau_under_sustained_traffic(tmp_path: Path) -> None:
    with running_platform(tmp_path, free_port(), free_port()) as platform:
        soak = Soak(platform)
        soak.register()
        samples = soak.run(REQUESTS, EVERY, lambda sample: print(sample.line()))
    second_half = [sample for sample in samples if sample.requests >= REQUESTS // 2]
    middle: Sample = second_half[0]
    assert max(s.emulator for s in second_half) - middle.emulator <= PLATEAU, samples
    assert max(s.recording for s in second_half) - middle.recording <= PLATEAU, samples
    assert max(s.recording for s in samples) <= 2 * PLATEAU, samples  # compacted meanwhile
