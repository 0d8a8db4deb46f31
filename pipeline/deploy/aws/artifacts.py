"""The deployment bucket, and a packaged template rewritten to point into it.

``pipeline.packaging.app_packages`` leaves each template beside the zips it names by relative paths
(``CodeUri: ./authorizer.zip``), the input ``aws cloudformation package`` expects. This does
that step: each file goes to ``s3://<bucket>/<prefix>/<sha256><suffix>`` and the template
names it there. Keys are content-addressed, so an unchanged zip is never uploaded twice (a
re-deploy or a second Platinum tenant uploads nothing new) and a changed one never overwrites
what a running stack still uses.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.deploy_error import DeployError

# The SAM properties that take a local path, which the transform accepts as ``s3://`` URIs.
ARTIFACT_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    region: str

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def https_url(self) -> str:
        """The form CloudFormation's ``TemplateURL`` takes (the bucket is in the stack's
        region, as Lambda requires of code buckets anyway)."""
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{self.key}"


class DeploymentBucket:
    def __init__(self, calls: AwsCalls, bucket: str, prefix: str, region: str,
                 out: Out) -> None:
        self._calls = calls
        self.name = bucket
        self._prefix = prefix.strip("/")
        self._region = region
        self._out = out

    def store(self, data: bytes, suffix: str, label: str) -> StoredObject:
        """Upload unless an object with this content is already there."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{self._prefix}/{digest}{suffix}" if self._prefix else f"{digest}{suffix}"
        stored = StoredObject(self.name, key, self._region)
        if self._exists(key):
            self._out(f"  {label}: already in {stored.s3_uri}")
        else:
            self._calls.call("s3", "put_object", Bucket=self.name, Key=key, Body=data)
            self._out(f"  {label}: uploaded to {stored.s3_uri} ({_size(len(data))})")
        return stored

    def _exists(self, key: str) -> bool:
        # A listing, not head_object: without s3:ListBucket a missing key answers 403, which
        # cannot be told from a refusal; with it, the listing is one call either way.
        answer = self._calls.call("s3", "list_objects_v2", Bucket=self.name, Prefix=key,
                                  MaxKeys=1)
        return any(item.get("Key") == key for item in answer.get("Contents", []))


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 1_000_000 else f"{count / 1000:.0f} KB"


def relative_artifacts(template: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(logical id, property, local path) of every artifact still named by a local path."""
    for logical_id, resource in template.get("Resources", {}).items():
        prop = ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        value = resource.get("Properties", {}).get(prop) if prop else None
        if prop and isinstance(value, str) and "://" not in value:
            yield logical_id, prop, value


def with_uploaded_artifacts(template: dict[str, Any], base_dir: Path,
                            bucket: DeploymentBucket) -> dict[str, Any]:
    """A copy of ``template`` whose artifacts are in the bucket (each file uploaded once, however
    many functions share it)."""
    rewritten = copy.deepcopy(template)
    stored: dict[Path, StoredObject] = {}
    for logical_id, prop, local in relative_artifacts(template):
        path = (base_dir / local).resolve()
        if path not in stored:
            if not path.is_file():
                raise DeployError(f"{logical_id}: {prop} {local} is not a file beside the "
                                  f"template in {base_dir} (package again: make package)")
            stored[path] = bucket.store(path.read_bytes(), path.suffix, local)
        rewritten["Resources"][logical_id]["Properties"][prop] = stored[path].s3_uri
    return rewritten
