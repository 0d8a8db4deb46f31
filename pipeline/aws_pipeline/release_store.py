"""Releases as the pipeline keeps them: ``releases/<id>/`` in the pipeline's bucket holds the
release's templates, already naming their uploaded artifacts (``pooled.json``, ``silo.json``),
and its manifest (``release.json``: the id, when it was published, from which source). The
build publishes a release once; provisioning and every rollout deploy from it by id, so what a
row records is what can be deployed again (a rollback is a rollout of an earlier id)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.deploy_error import DeployError

RELEASES = "releases"
TEMPLATES = ("pooled", "silo")


class UnknownRelease(DeployError):  # noqa: N818 - read as "unknown release: <which>"
    pass


@dataclass(frozen=True)
class ReleaseStore:
    calls: AwsCalls
    bucket: str

    def key(self, release_id: str, name: str) -> str:
        return f"{RELEASES}/{release_id}/{name}"

    def publish(self, release_id: str, templates: dict[str, dict[str, Any]],
                manifest: dict[str, Any]) -> None:
        """The templates first, the manifest last: a release is complete once it is listed."""
        for name in TEMPLATES:
            self._put(self.key(release_id, f"{name}.json"), templates[name])
        self._put(self.key(release_id, "release.json"), {"releaseId": release_id, **manifest})

    def manifest(self, release_id: str) -> dict[str, Any]:
        """The release's manifest, or ``UnknownRelease`` naming where it was looked for."""
        return self._get(release_id, "release.json")

    def template(self, release_id: str, name: str) -> dict[str, Any]:
        self.manifest(release_id)  # an unpublished (half uploaded) release is unknown
        return self._get(release_id, f"{name}.json")

    def _put(self, key: str, body: dict[str, Any]) -> None:
        self.calls.call("s3", "put_object", Bucket=self.bucket, Key=key,
                        Body=json.dumps(body, separators=(",", ":")).encode(),
                        ContentType="application/json")

    def _get(self, release_id: str, name: str) -> dict[str, Any]:
        key = self.key(release_id, name)
        try:
            answer = self.calls.call("s3", "get_object", Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise UnknownRelease(f"no release {release_id!r}: s3://{self.bucket}/{key} "
                                     f"does not exist (publish it with make release "
                                     f"TARGET=aws, or name a published one)") from None
            raise
        content: dict[str, Any] = json.loads(answer["Body"].read())
        return content
