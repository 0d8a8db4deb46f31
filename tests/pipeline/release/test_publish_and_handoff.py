"""Publishing a release where the pipeline deploys it from, with its retention, and handing a
release to the pipeline, against the emulator's S3 and the session's rows."""

from __future__ import annotations

import io
import secrets
import zipfile
from pathlib import Path

import boto3
import pytest

from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.packaged import PackagedTemplates
from pipeline.deploy.aws.publish_release import publish, releases_in_use
from pipeline.deploy.aws.release_store import ReleaseStore, UnknownRelease
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.project import PROJECT_ROOT
from pipeline.release.handoff import hand_to_pipeline, source_zip
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.tenant_records import ReleaseResult


@pytest.fixture
def bucket(baseline: BaselineResult) -> str:
    name = f"releases-{secrets.token_hex(4)}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def keys(bucket: str, prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_published_releases_are_kept_while_newest_or_in_use(
        bucket: str, packaged_dist: Path) -> None:
    calls = Boto3Calls(boto3.Session())
    deployments = Deployments(boto3.client("dynamodb"), TENANT_STACK_MAPPING_TABLE.name)
    templates = PackagedTemplates.in_dist(packaged_dist)
    said: list[str] = []
    pinned, old, newer, newest = (f"rel-{secrets.token_hex(3)}-{n}" for n in range(4))
    tenant = secrets.token_hex(16)
    deployments.request(tenant)
    deployments.record_release(tenant, pinned, ReleaseResult.DEPLOYED, "t")  # it runs this one

    for release in (pinned, old, newer):
        publish(release, templates, calls, bucket, "us-east-1",
                releases_in_use(deployments.all()), said.append, source="test", keep=5)
    store = ReleaseStore(calls, bucket)
    manifest = store.manifest(newer)
    assert manifest["releaseId"] == newer
    silo = store.template(newer, "silo")
    code = {resource["Properties"]["CodeUri"] for resource in silo["Resources"].values()
            if resource["Type"] == "AWS::Serverless::Function"}
    assert code
    assert all(uri.startswith(f"s3://{bucket}/artifacts/") for uri in code)
    artifacts_before = set(keys(bucket, "artifacts/"))
    # Reproducible zips: three releases of one commit share their artifacts.
    assert len(artifacts_before) == len({uri for name in ("pooled", "silo") for uri in (
        resource["Properties"].get("CodeUri") or resource["Properties"].get("ContentUri")
        for resource in store.template(newer, name)["Resources"].values()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"))
        if uri})

    pruned = publish(newest, templates, calls, bucket, "us-east-1",
                     releases_in_use(deployments.all()), said.append, source="test", keep=1)

    assert pruned == [old, newer]  # the pinned tenant's release stays, however old
    assert [manifest["releaseId"] for manifest in store.published()] == [pinned, newest]
    with pytest.raises(UnknownRelease, match=old):
        store.template(old, "silo")
    assert set(keys(bucket, "artifacts/")) == artifacts_before  # still named by kept ones
    assert any("pruned" in line for line in said)


def test_a_release_is_handed_to_the_pipeline_as_its_source_and_its_id(bucket: str) -> None:
    said: list[str] = []
    key = hand_to_pipeline(Boto3Calls(boto3.Session()), bucket, "abc123def456", PROJECT_ROOT,
                           said.append)
    assert key == "source/abc123def456.zip"
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        assert archive.read("RELEASE_ID") == b"abc123def456\n"
    assert {"Makefile", "README.md", "pipeline/release/handoff.py"} <= set(names)
    assert not any(name.startswith((".venv/", ".local/", "dist/")) for name in names)
    assert source_zip(PROJECT_ROOT, "abc123def456") == body  # the same tree, the same bytes
    assert said[0].startswith("Handing release abc123def456 to the tenant pipeline")
