"""``make rollback TARGET=aws``: a published release rolled out again by the tenant pipeline
(an earlier one: a rollback), started in its rollout state machine. A release never published,
or pruned, starts nothing: the rollout would stop at its plan anyway, and the operator should
hear it now."""

from __future__ import annotations

import json

from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.release.pipeline_stack import PipelineStack
from pipeline.rollout.rollout import RolloutSettings
from tenant_context.platform.tenant_records import utc_timestamp

EXECUTION_NAME_LIMIT = 80


def start_rollout(stack: PipelineStack, release_id: str, settings: RolloutSettings,
                  approve_waves: bool, out: Out) -> str:
    """The execution's name. ``UnknownRelease`` (nothing started) for an unpublished id."""
    if not stack.dry_run:
        ReleaseStore(stack.calls, stack.bucket).manifest(release_id)
    stamp = utc_timestamp()[:19].replace(":", "")
    name = f"rollout-{release_id.replace('.', '-')}-{stamp}"[:EXECUTION_NAME_LIMIT]
    stack.calls.call("stepfunctions", "start_execution", stateMachineArn=stack.rollout,
                     name=name, input=json.dumps({"releaseId": release_id, "settings": {
                         "maxConcurrency": settings.max_concurrency,
                         "failureThreshold": settings.failure_threshold,
                         "approveWaves": approve_waves}}))
    out(f"Rollout of release {release_id} started ({name}): follow it in Step Functions; make "
        f"releases TARGET=aws shows what each deployment runs")
    return name
