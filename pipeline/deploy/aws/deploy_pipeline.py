"""``make deploy-pipeline TARGET=aws``: the tenant pipeline's stack, beside the pooled one.

It follows the pooled stack's tenant-stack-mapping and tenant-details tables (their streams),
runs the layer the pooled stack published and keeps offboardings off the pooled stack's user
pools, so all are read from the pooled stack's outputs:
the pooled stack comes first. Deploying it again updates it in place (a change set), as any
stack here. Once it is up, the working tree's release is published in its bucket, so the first
Platinum sign-up has a release to be deployed with before any rollout ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.console import Out, Summary
from pipeline.deploy.aws.deploy_tenants import recorded_deployments
from pipeline.deploy.aws.packaged import PackagedTemplates
from pipeline.deploy.aws.publish_release import publish, releases_in_use
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from pipeline.stacks.pooled_template import (
    TENANT_DETAILS_STREAM_OUTPUT,
    TENANT_STACK_MAPPING_STREAM_OUTPUT,
)
from pipeline.stacks.tenant_pipeline_template import (
    DETAILS_STREAM_ARN,
    LAYER_ARN,
    OPERATIONS_POOL_ID,
    PIPELINE_STACK_NAME,
    POOLED_POOL_ID,
    RELEASE_BUCKET_OUTPUT,
    ROLLOUT_OUTPUT,
    STREAM_ARN,
)

LAYER_OUTPUT = "TenantContextLayerArn"  # the pooled stack's


@dataclass(frozen=True)
class PipelineSettings:
    """How the pipeline rolls releases out, and where it may take them from."""

    max_concurrency: int = 4
    failure_threshold: int = 0
    approve_waves: bool = False
    repository_url: str = ""
    connection_id: str = ""
    branch: str = "main"

    def parameters(self) -> dict[str, str]:
        return {"MaxConcurrency": str(self.max_concurrency),
                "FailureThreshold": str(self.failure_threshold),
                "ApproveWaves": "true" if self.approve_waves else "false",
                "RepositoryUrl": self.repository_url, "ConnectionId": self.connection_id,
                "Branch": self.branch}


@dataclass(frozen=True)
class FirstRelease:
    """The release published once the pipeline is up (the working tree's)."""

    release_id: str
    templates: PackagedTemplates
    calls: AwsCalls
    region: str
    out: Out


def deploy_pipeline(template_file: Path, stacks: Stacks, settings: StackSettings,
                    pipeline: PipelineSettings, first: FirstRelease) -> Summary:
    pooled = stacks.outputs(POOLED_STACK_NAME)
    deployed = stacks.deploy_packaged(PIPELINE_STACK_NAME, template_file, {
        STREAM_ARN: pooled[TENANT_STACK_MAPPING_STREAM_OUTPUT],
        DETAILS_STREAM_ARN: pooled[TENANT_DETAILS_STREAM_OUTPUT], LAYER_ARN: pooled[LAYER_OUTPUT],
        # The platform's pools, which the offboarding task may never delete (same names).
        **{pool: pooled[pool] for pool in (OPERATIONS_POOL_ID, POOLED_POOL_ID)},
        **settings.silo_parameters(), **pipeline.parameters()})
    outputs = deployed.outputs
    summary = Summary("Tenant pipeline is up:" if deployed.changed
                      else "Tenant pipeline is up (unchanged: nothing to deploy):")
    summary.row("stack", PIPELINE_STACK_NAME)
    summary.row("release bucket", outputs[RELEASE_BUCKET_OUTPUT])
    summary.row("rollouts", outputs[ROLLOUT_OUTPUT])
    summary.row("notifications", outputs["NotificationTopicArn"])
    publish(first.release_id, first.templates, first.calls, outputs[RELEASE_BUCKET_OUTPUT],
            first.region, releases_in_use(recorded_deployments(first.calls)), first.out,
            source="make deploy-pipeline")
    summary.row("published", f"{first.release_id} (a Platinum sign-up's release until a "
                             f"rollout records one on the pooled deployment)")
    summary.note("A Platinum sign-up now provisions its own stack; release with make release "
                 "TARGET=aws. Subscribe staff to the notifications: aws sns subscribe "
                 "--protocol email --topic-arn <notifications> --notification-endpoint <email>")
    return summary
