"""``make release TARGET=aws``: the release handed to the tenant pipeline on AWS.

The checkout's files (those git knows of, as they are now) and a ``RELEASE_ID`` file are zipped
reproducibly and put at ``source/<release id>.zip`` in the pipeline's release bucket; the
bucket's event starts the release build (unit tests, ``make package``, publish), which starts
the rollout. Nothing else runs on the operator's machine: the fleet is rolled out by AWS, and
the machine may be closed as soon as the upload is done.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.placeholders import recorded_deployment
from pipeline.packaging.reproducible_zip import FILE_MODE, FIXED_TIME
from pipeline.release.pipeline_stack import PipelineStack
from pipeline.rollout.release_plan import plan_rollout
from pipeline.stacks.tenant_pipeline_template import PIPELINE_STACK_NAME, ROLLOUT_OUTPUT
from tenant_context.tenancy import POOLED_DEPLOYMENT

SOURCE_PREFIX = "source/"
RELEASE_ID_FILE = "RELEASE_ID"


def source_zip(root: Path, release_id: str) -> bytes:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=root, capture_output=True,
                            check=True).stdout.decode().split("\0")
    files = {name: (root / name).read_bytes() for name in filter(None, listed)
             if (root / name).is_file()}
    files[RELEASE_ID_FILE] = f"{release_id}\n".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def hand_to_pipeline(calls: AwsCalls, bucket: str, release_id: str, root: Path,
                     out: Out) -> str:
    """The key the release's source was put at."""
    key = f"{SOURCE_PREFIX}{release_id}.zip"
    body = source_zip(root, release_id)
    out(f"Handing release {release_id} to the tenant pipeline: s3://{bucket}/{key} "
        f"({len(body) // 1024} KiB) ...")
    calls.call("s3", "put_object", Bucket=bucket, Key=key, Body=body,
               ContentType="application/zip")
    return key


def hand_over(stack: PipelineStack, release_id: str, root: Path, tenant_ids: list[str],
              out: Out) -> None:
    """The release handed over, and what happens next; a dry run also shows the plan the
    rollout would follow (it reads no rows: the pooled one and ``tenant_ids``)."""
    if stack.dry_run:
        out("The rollout the pipeline would then run (a dry run reads no rows: the pooled one "
            "and each --tenant-id, in the last wave):")
        rows = [recorded_deployment(row_id) for row_id in [POOLED_DEPLOYMENT, *tenant_ids]]
        for line in plan_rollout(rows, release_id).lines():
            out(f"  {line}")
    key = hand_to_pipeline(stack.calls, stack.bucket, release_id, root, out)
    out("\n".join([
        f"Release {release_id} is the tenant pipeline's now (s3://{stack.bucket}/{key}):",
        "  the release build runs the unit tests, packages and publishes it, then starts the "
        "rollout",
        f"  follow it: the CodeBuild project of stack {PIPELINE_STACK_NAME}, then its "
        f"{ROLLOUT_OUTPUT} in Step Functions; make releases TARGET=aws shows what each "
        f"deployment runs"]))
    if stack.dry_run:
        out("(dry run: nothing was uploaded, so nothing was released)")
