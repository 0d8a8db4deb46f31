"""The emulator's saved state: compaction keeps every change and drops what changed nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from pipeline.local_cloud.emulator import compact_recording


def entry(method: str, target: str | None = None, body: bytes = b"{}") -> str:
    headers = {"X-Amz-Target": target} if target else {}
    return json.dumps({"headers": headers, "method": method, "url": "http://127.0.0.1:1/",
                       "body": base64.b64encode(body).decode(), "body_encoded": True})


def test_compaction_keeps_writes_and_drops_reads_and_torn_lines(tmp_path: Path) -> None:
    kept = [entry("POST", "DynamoDB_20120810.CreateTable"),
            entry("POST", "DynamoDB_20120810.PutItem"),
            entry("POST", "AWSCognitoIdentityProviderService.AdminCreateUser"),
            entry("POST", "AWSCognitoIdentityProviderService.AdminSetUserPassword"),
            entry("POST", body=b"Action=CreateRole&Version=2010-05-08")]
    dropped = [entry("POST", "DynamoDB_20120810.Query"),
               entry("POST", "DynamoDB_20120810.GetItem"),
               entry("POST", "AWSCognitoIdentityProviderService.InitiateAuth"),
               entry("POST", "AWSCognitoIdentityProviderService.RespondToAuthChallenge"),
               entry("POST", body=b"Action=AssumeRole&Version=2011-06-15"),
               entry("GET"), '{"headers": {"X-Amz-Tar']  # the last: torn by kill -9
    recording = tmp_path / "recording.jsonl"
    recording.write_text("\n".join([kept[0], dropped[0], kept[1], *dropped[1:4], kept[2],
                                    dropped[4], kept[3], dropped[5], kept[4], dropped[6]]))
    assert compact_recording(recording) == (12, 5)
    assert recording.read_text().splitlines() == kept  # in the original order
