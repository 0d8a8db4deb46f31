"""The embedded AWS: moto in server mode on loopback, its state kept across restarts.

moto keeps state in memory; its recorder appends requests to a file and can replay that file
into a fresh server. Our server (``emulator_server.py``) records only the requests that may
change state, so reads, polls, logins and credential vending never reach the file. On start we
(1) compact the recording, dropping any request that changed nothing (recordings of older
runs); (2) replay it with recording off; (3) rewrite its DynamoDB item writes as the items the
replay left, one PutItem per live item (an item written a thousand times is one line, a deleted
item none: offboarding's erasure relies on this); (4) switch recording on. The recording is
thus proportional to the live state plus the writes since the last start, never to the
traffic. Cognito ids are derived from request content (HASH strategy) so replayed pools and
clients keep their ids.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipeline.local_cloud import processes
from pipeline.local_cloud.emulator_server import (
    changes_state,
    collapse_items,
    decoded_body,
    entry_of,
    replace_file,
)
from tenant_context.config import Env

# The recording is compacted while running each time it doubled, and grew by at least this.
COMPACT_FLOOR = 1024 * 1024


def _changes_state(entry: dict[str, object]) -> bool:
    return changes_state(entry.get("method"), entry.get("headers"), decoded_body(entry))


def compact_recording(recording: Path) -> tuple[int, int]:
    """Rewrite the recording without its read-only requests; returns (before, after)."""
    lines = recording.read_text().splitlines()
    kept = []
    for line in lines:
        entry = entry_of(line)
        if entry is not None and _changes_state(entry):
            kept.append(line)
    replace_file(recording, kept)
    return len(lines), len(kept)


def collapse_recorded_items(recording: Path, url: str) -> tuple[int, int]:
    """After the replay, before recording starts: the recording's DynamoDB item writes become
    the items the emulator at ``url`` holds (``emulator_server.collapse_items``). Returns
    (lines before, lines after)."""
    def send(headers: dict[str, str], body: bytes) -> bytes:
        request = urllib.request.Request(f"{url}/", data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return bytes(response.read())

    lines = recording.read_text().splitlines()
    kept = collapse_items(lines, send, f"{url}/")
    replace_file(recording, kept)
    return len(lines), len(kept)


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[bytes]

    def post(self, path: str) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=b"", method="POST")
        urllib.request.urlopen(request, timeout=600).close()

    def stop(self) -> None:
        processes.stop(self.process)


def start_emulator(port: int, recording: Path, log_file: Path) -> Emulator:
    if processes.port_in_use(port):
        raise RuntimeError(f"port {port} is already in use: is the platform already running? "
                           f"(choose another with EMULATOR_PORT=...)")
    recording.parent.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if key != Env.MOTO_ENABLE_RECORDING}  # any value, even "False", would switch it on
    env |= {Env.MOTO_RECORDER_FILEPATH: str(recording),
            Env.MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY: "HASH",
            Env.MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY: "HASH"}
    server = Path(__file__).with_name("emulator_server.py")
    process = processes.start([str(server), "-H", processes.LOOPBACK, "-p", str(port),
                               "--compact-floor", str(COMPACT_FLOOR)],
                              log_file=log_file, env=env)
    emulator = Emulator(f"http://{processes.LOOPBACK}:{port}", process)
    try:
        processes.wait_for_http(f"{emulator.url}/moto-api/", process)
        if recording.exists() and recording.stat().st_size:
            compact_recording(recording)
            emulator.post("/moto-api/recorder/replay-recording")
            collapse_recorded_items(recording, emulator.url)
        emulator.post("/moto-api/recorder/start-recording")
    except BaseException:
        emulator.stop()
        raise
    return emulator
