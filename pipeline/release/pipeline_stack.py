"""The tenant pipeline's stack as the release commands reach it: its calls, its release bucket
and its rollout state machine, read from its outputs; a dry run names them as placeholders and
prints every call instead of making it."""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from pipeline.deploy.aws.calls import AwsCalls, DryRunCalls
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.placeholders import placeholder
from pipeline.deploy.aws.worlds import StacksFactory, Target, real_world
from pipeline.stacks.tenant_pipeline_template import (
    PIPELINE_STACK_NAME,
    RELEASE_BUCKET_OUTPUT,
    ROLLOUT_OUTPUT,
)


@dataclass(frozen=True)
class PipelineStack:
    calls: AwsCalls
    bucket: str
    rollout: str  # the rollout state machine's ARN
    dry_run: bool


def pipeline_stack(session: boto3.session.Session, region: str, prefix: str, out: Out,
                   stacks: StacksFactory, dry_run: bool) -> PipelineStack:
    if dry_run:
        out("Dry run: every AWS call is printed, none is made.")
        return PipelineStack(DryRunCalls(lambda service, operation, params: {}, out),
                             placeholder(PIPELINE_STACK_NAME, RELEASE_BUCKET_OUTPUT),
                             placeholder(PIPELINE_STACK_NAME, ROLLOUT_OUTPUT), dry_run=True)
    world = real_world(session, Target("-", prefix, region), out, stacks)
    outputs = world.stacks.outputs(PIPELINE_STACK_NAME)
    return PipelineStack(world.calls, outputs[RELEASE_BUCKET_OUTPUT], outputs[ROLLOUT_OUTPUT],
                         dry_run=False)
