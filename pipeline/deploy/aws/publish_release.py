"""Publishing a release where the tenant pipeline deploys it from: what the release build does
after the unit tests pass (``python -m pipeline.release publish``) and ``make deploy-pipeline``
once the pipeline is up (so a first Platinum sign-up has a release). The packaged templates'
artifacts uploaded once, the templates and manifest under ``releases/<id>/``, older releases
pruned (``pipeline.deploy.aws.release_store``). Publishing the same id again republishes the
same content: zips are content-addressed and reproducible."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.packaged import PackagedTemplates
from pipeline.deploy.aws.release_store import ARTIFACTS, KEEP_RELEASES, ReleaseStore
from tenant_context.platform.tenant_records import DeploymentRecord


def publish(release_id: str, templates: PackagedTemplates, calls: AwsCalls, bucket: str,
            region: str, in_use: set[str], out: Out, source: str,
            keep: int = KEEP_RELEASES) -> list[str]:
    """Publishes the release; the ids of the releases pruned after it. ``in_use``: the
    releases deployments run or last tried (kept however old)."""
    stacks = Stacks(calls, DeploymentBucket(calls, bucket, ARTIFACTS, region, out), out)
    store = ReleaseStore(calls, bucket)
    uploaded = {"pooled": stacks.uploaded(templates.pooled),
                "silo": stacks.uploaded(templates.silo)}
    # To the microsecond: retention keeps the newest, and releases may follow within a second.
    published_at = datetime.now(UTC).isoformat(timespec="microseconds")
    store.publish(release_id, uploaded, {"publishedAt": published_at, "source": source})
    out(f"Published release {release_id} in s3://{bucket}/releases/{release_id}/")
    pruned = store.prune(in_use | {release_id}, keep)
    out(f"Kept the newest {keep} releases and every one a deployment runs"
        + (f"; pruned {', '.join(pruned)}" if pruned else "; nothing to prune"))
    return pruned


def releases_in_use(rows: Iterable[DeploymentRecord]) -> set[str]:
    return {release for row in rows
            for release in (row.release.release_id, row.release.attempted) if release}
