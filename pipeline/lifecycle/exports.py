"""Where an offboarded tenant's export is kept and how it is handed over.

On AWS: an object in the platform's bucket under ``exports/<tenantId>/``, handed over as a
presigned GET link that expires (7 days by default, SigV4's longest); the bucket's lifecycle
rule should delete ``exports/`` objects after the same time (README "Offboarding"). Locally: a
file under ``.local/exports/`` (never the emulated S3: the emulator's recording would keep the
tenant's data, which the erasure must leave nowhere), handed over by its path.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.lifecycle.offboarding import ExportHandle

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

LINK_SECONDS = 7 * 24 * 3600  # a presigned URL lives at most 7 days


def _expiry(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


class FileExports:
    """Exports as files in a folder only the user can read (0600)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def put(self, tenant_id: str, offboarding_id: str, body: bytes) -> ExportHandle:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{tenant_id}-{offboarding_id}.json"
        written = path.with_suffix(".writing")
        descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(body)
        written.replace(path)
        return ExportHandle(str(path), str(path), "")  # kept until the user deletes it

    def read(self, location: str) -> bytes:
        return Path(location).read_bytes()


class S3Exports:
    def __init__(self, s3: S3Client, bucket: str, *, link_seconds: int = LINK_SECONDS) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._link_seconds = link_seconds

    def put(self, tenant_id: str, offboarding_id: str, body: bytes) -> ExportHandle:
        key = f"exports/{tenant_id}/{offboarding_id}.json"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body,
                            ContentType="application/json", ServerSideEncryption="AES256")
        link = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=self._link_seconds)
        return ExportHandle(f"s3://{self._bucket}/{key}", link, _expiry(self._link_seconds))

    def read(self, location: str) -> bytes:
        bucket, _, key = location.removeprefix("s3://").partition("/")
        return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
