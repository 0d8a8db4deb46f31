"""Which collaborators a run gets: the real ones on one boto3 session, or the dry run's, which
print every call and answer from ``pipeline.aws.placeholders``. Everything past this point is
the same code for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.aws.artifacts import DeploymentBucket
from pipeline.aws.calls import AwsCalls, Boto3Calls, DryRunCalls
from pipeline.aws.console import Out
from pipeline.aws.http import DryRunHttp, Http, UrllibHttp
from pipeline.aws.packaged import PackagedTemplates, output_names
from pipeline.aws.placeholders import PretendAws, pretend_admin_api
from pipeline.aws.stacks import Stacks
from pipeline.baseline import POOLED_STACK_NAME


@dataclass(frozen=True)
class Target:
    """Where the artifacts go: the bucket (in the stacks' region) and a key prefix."""

    bucket: str
    prefix: str
    region: str


@dataclass(frozen=True)
class AwsWorld:
    http: Http
    stacks: Stacks


def real_world(session: Any, target: Target, out: Out) -> AwsWorld:
    return _world(Boto3Calls(session), UrllibHttp(), target, out)


def dry_run_world(templates: PackagedTemplates, target: Target, out: Out,
                  pooled_stack_exists: bool) -> AwsWorld:
    """``pooled_stack_exists``: onboarding reads the pooled stack, so its dry run takes it as
    deployed; a pooled dry run shows a first deployment."""
    pooled, silo = output_names(templates.pooled), output_names(templates.silo)
    pretend = PretendAws(lambda stack: pooled if stack == POOLED_STACK_NAME else silo,
                         existing_stacks=[POOLED_STACK_NAME] if pooled_stack_exists else [])
    return _world(DryRunCalls(pretend, out), DryRunHttp(pretend_admin_api, out), target, out)


def _world(calls: AwsCalls, http: Http, target: Target, out: Out) -> AwsWorld:
    bucket = DeploymentBucket(calls, target.bucket, target.prefix, target.region, out)
    return AwsWorld(http, Stacks(calls, bucket, out))
