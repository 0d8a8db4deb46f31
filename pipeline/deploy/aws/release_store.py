"""Releases as the pipeline keeps them: ``releases/<id>/`` in the pipeline's bucket holds the
release's templates, already naming their uploaded artifacts (``pooled.json``, ``silo.json``;
the zips under ``artifacts/``, named by their content, so releases share unchanged ones), and
its manifest (``release.json``: the id, when it was published, from which source). The build
publishes a release once; provisioning and every rollout deploy from it by id, so what a row
records is what can be deployed again (a rollback is a rollout of an earlier id).

Retention: the newest ``KEEP_RELEASES`` releases are kept, and so is every release a deployment
still runs or last tried (a pinned tenant's, however old); the others are pruned after each
publication, with the artifacts no kept release names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.deploy_error import DeployError

RELEASES = "releases"
ARTIFACTS = "artifacts"
TEMPLATES = ("pooled", "silo")
KEEP_RELEASES = 10


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

    def published(self) -> list[dict[str, Any]]:
        """Every published release's manifest, oldest first."""
        manifests = [self._get(key.split("/")[1], "release.json")
                     for key in self._keys(f"{RELEASES}/") if key.endswith("/release.json")]
        return sorted(manifests, key=lambda manifest: str(manifest.get("publishedAt", "")))

    def prune(self, in_use: set[str], keep: int = KEEP_RELEASES) -> list[str]:
        """Delete the releases beyond the newest ``keep`` that no deployment runs or tried,
        then the artifacts no kept release names; the ids pruned."""
        releases = [str(manifest["releaseId"]) for manifest in self.published()]
        kept = set(releases[-keep:]) | in_use
        pruned = [release for release in releases if release not in kept]
        for release in pruned:
            for key in self._keys(f"{RELEASES}/{release}/"):
                self.calls.call("s3", "delete_object", Bucket=self.bucket, Key=key)
        named = {uri for release in kept & set(releases) for name in TEMPLATES
                 for uri in _code_uris(self._get(release, f"{name}.json"))}
        for key in self._keys(f"{ARTIFACTS}/"):
            if f"s3://{self.bucket}/{key}" not in named:
                self.calls.call("s3", "delete_object", Bucket=self.bucket, Key=key)
        return pruned

    def _keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        token: dict[str, str] = {}
        while True:
            answer = self.calls.call("s3", "list_objects_v2", Bucket=self.bucket,
                                     Prefix=prefix, **token)
            keys += [item["Key"] for item in answer.get("Contents", [])]
            if not answer.get("IsTruncated"):
                return keys
            token = {"ContinuationToken": answer["NextContinuationToken"]}

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


def _code_uris(template: dict[str, Any]) -> set[str]:
    """The S3 URIs a published template names (function code, the layer)."""
    return {str(resource["Properties"][uri]) for resource in template.get("Resources", {}).values()
            for uri in ("CodeUri", "ContentUri")
            if isinstance(resource.get("Properties", {}).get(uri), str)}
