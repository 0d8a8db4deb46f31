"""``make deploy-pipeline TARGET=aws``: the tenant pipeline's stack, beside the pooled one.

It follows the pooled stack's tenant-stack-mapping table (its stream) and runs the layer the
pooled stack published, so both are read from the pooled stack's outputs: the pooled stack comes
first. Deploying it again updates it in place (a change set), as any stack here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.console import Summary
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from pipeline.stacks.pooled_template import TENANT_STACK_MAPPING_STREAM_OUTPUT
from pipeline.stacks.tenant_pipeline_template import (
    LAYER_ARN,
    PIPELINE_STACK_NAME,
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


def deploy_pipeline(template_file: Path, stacks: Stacks, settings: StackSettings,
                    pipeline: PipelineSettings) -> Summary:
    pooled = stacks.outputs(POOLED_STACK_NAME)
    deployed = stacks.deploy_packaged(PIPELINE_STACK_NAME, template_file, {
        STREAM_ARN: pooled[TENANT_STACK_MAPPING_STREAM_OUTPUT], LAYER_ARN: pooled[LAYER_OUTPUT],
        **settings.silo_parameters(), **pipeline.parameters()})
    outputs = deployed.outputs
    summary = Summary("Tenant pipeline is up:" if deployed.changed
                      else "Tenant pipeline is up (unchanged: nothing to deploy):")
    summary.row("stack", PIPELINE_STACK_NAME)
    summary.row("release bucket", outputs[RELEASE_BUCKET_OUTPUT])
    summary.row("rollouts", outputs[ROLLOUT_OUTPUT])
    summary.row("notifications", outputs["NotificationTopicArn"])
    summary.note("A Platinum sign-up now provisions its own stack; release with make release "
                 "TARGET=aws. Subscribe staff to the notifications: aws sns subscribe "
                 "--protocol email --topic-arn <notifications> --notification-endpoint <email>")
    return summary
