"""The embedded AWS: moto in server mode on loopback, its state kept across restarts.

moto keeps state in memory; its recorder appends every request it serves to a file and can
replay that file into a fresh server. On start we (1) compact the recording, dropping requests
that changed nothing (reads, logins, credential vending), so start-up time tracks the amount of
data rather than the amount of traffic; (2) replay it with recording off; (3) switch recording
on. Cognito ids are derived from request content (HASH strategy) so replayed pools and clients
keep their ids.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipeline.local_cloud import processes
from tenant_context.config import Env

# Requests that change no state: not worth replaying.
_READ_TARGETS = frozenset({
    "DynamoDB_20120810.GetItem", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.Query",
    "DynamoDB_20120810.Scan", "DynamoDB_20120810.TransactGetItems",
    "DynamoDB_20120810.DescribeTable", "DynamoDB_20120810.ListTables",
    "DynamoDB_20120810.DescribeContinuousBackups", "DynamoDB_20120810.DescribeTimeToLive",
    "AWSCognitoIdentityProviderService.InitiateAuth",
    "AWSCognitoIdentityProviderService.AdminInitiateAuth",
    # Fails on replay anyway (its session id is random); the login tool also sets the new
    # password with AdminSetUserPassword, which replays.
    "AWSCognitoIdentityProviderService.RespondToAuthChallenge",
    "AWSCognitoIdentityProviderService.AdminRespondToAuthChallenge",
    "AWSCognitoIdentityProviderService.GetUser",
    "AWSCognitoIdentityProviderService.AdminGetUser",
    "AWSCognitoIdentityProviderService.ListUsers",
    "AWSCognitoIdentityProviderService.ListUsersInGroup",
    "AWSCognitoIdentityProviderService.ListGroups",
    "AWSCognitoIdentityProviderService.AdminListGroupsForUser",
    "AWSCognitoIdentityProviderService.ListUserPools",
    "AWSCognitoIdentityProviderService.DescribeUserPool",
    "AWSCognitoIdentityProviderService.ListUserPoolClients",
    "AWSCognitoIdentityProviderService.DescribeUserPoolClient",
})
_READ_QUERY_ACTIONS = (b"Action=AssumeRole", b"Action=GetCallerIdentity", b"Action=GetRole",
                       b"Action=ListRoles", b"Action=GetRolePolicy", b"Action=DescribeStacks",
                       b"Action=DescribeStackResources", b"Action=DescribeStackEvents",
                       b"Action=ListStacks", b"Action=GetTemplate")


def _changes_state(entry: dict[str, object]) -> bool:
    if entry.get("method") in ("GET", "HEAD", "OPTIONS"):
        return False
    headers = entry.get("headers")
    if isinstance(headers, dict) and headers.get("X-Amz-Target") in _READ_TARGETS:
        return False
    body = entry.get("body") or ""
    raw = base64.b64decode(str(body)) if entry.get("body_encoded") else str(body).encode()
    return not raw.startswith(_READ_QUERY_ACTIONS)


def _entry(line: str) -> dict[str, object] | None:
    """A recorded request, or None for a line torn by a hard kill mid-write."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def compact_recording(recording: Path) -> tuple[int, int]:
    """Rewrite the recording without its read-only requests; returns (before, after)."""
    lines = recording.read_text().splitlines()
    kept = []
    for line in lines:
        entry = _entry(line)
        if entry is not None and _changes_state(entry):
            kept.append(line)
    temporary = recording.with_suffix(".compacting")
    temporary.write_text("".join(f"{line}\n" for line in kept))
    temporary.replace(recording)
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
    moto_server = Path(sys.executable).with_name("moto_server")
    process = processes.start([str(moto_server), "-H", processes.LOOPBACK, "-p", str(port)],
                              log_file=log_file, env=env)
    emulator = Emulator(f"http://{processes.LOOPBACK}:{port}", process)
    try:
        processes.wait_for_http(f"{emulator.url}/moto-api/", process)
        if recording.exists() and recording.stat().st_size:
            compact_recording(recording)
            emulator.post("/moto-api/recorder/replay-recording")
        emulator.post("/moto-api/recorder/start-recording")
    except BaseException:
        emulator.stop()
        raise
    return emulator
