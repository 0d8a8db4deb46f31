"""Which collaborators a run gets: the real ones on one boto3 session, or the dry run's, which
print every call and answer from ``pipeline.deploy.aws.placeholders``. Everything past this point is
the same code for both."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from pipeline.deploy.aws.admin_api_http import DryRunHttp, Http, UrllibHttp
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import AwsCalls, Boto3Calls, DryRunCalls
from pipeline.deploy.aws.change_sets import DEFAULT_TIMEOUT_SECONDS, Stacks
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.deploy_tenants import StateOf, recorded_state
from pipeline.deploy.aws.packaged import PackagedTemplates, output_names
from pipeline.deploy.aws.placeholders import PretendAws, placeholder_state, pretend_admin_api
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.tenant_records import DeploymentRecord

if TYPE_CHECKING:
    from boto3.session import Session

# How a run's stacks are made from its calls, bucket, output and the seconds a stack may take:
# ``Stacks``, or a test's double of the CloudFormation part (the emulator cannot run the SAM
# transform of the real templates).
StacksFactory = Callable[[AwsCalls, DeploymentBucket, Out, float], Stacks]


@dataclass(frozen=True)
class Target:
    """Where the artifacts go: the bucket (in the stacks' region) and a key prefix."""

    bucket: str
    prefix: str
    region: str


@dataclass(frozen=True)
class AwsWorld:
    calls: AwsCalls
    http: Http
    stacks: Stacks
    desired_state: StateOf  # what a tenant-stack-mapping row's desired state is deployed as


def real_world(session: Session, target: Target, out: Out, stacks: StacksFactory = Stacks,
               timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> AwsWorld:
    return _world(Boto3Calls(session), UrllibHttp(), target, out, stacks, recorded_state,
                  timeout_seconds)


def dry_run_world(templates: PackagedTemplates, target: Target, out: Out,
                  pooled_stack_exists: bool,
                  deployment_rows: Iterable[DeploymentRecord] = (),
                  stacks: StacksFactory = Stacks,
                  timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                  others: Mapping[str, Path] = MappingProxyType({})) -> AwsWorld:
    """``others``: the templates of stacks neither pooled nor a tenant's, by stack name.
    ``pooled_stack_exists``: onboarding and releasing to tenants read the pooled stack, so
    their dry runs take it as deployed; a pooled dry run shows a first deployment.
    ``deployment_rows``: what the tenant-stack-mapping table answers (a dry run cannot read
    the real rows)."""
    named = {POOLED_STACK_NAME: output_names(templates.pooled),
             **{stack: output_names(template) for stack, template in others.items()}}
    silo = output_names(templates.silo)  # every other stack is a tenant's
    pretend = PretendAws(lambda stack: named.get(stack, silo),
                         existing_stacks=[POOLED_STACK_NAME] if pooled_stack_exists else [],
                         deployment_rows=deployment_rows)
    return _world(DryRunCalls(pretend, out), DryRunHttp(pretend_admin_api, out), target, out,
                  stacks, placeholder_state, timeout_seconds)


def _world(calls: AwsCalls, http: Http, target: Target, out: Out, stacks: StacksFactory,
           desired_state: StateOf, timeout_seconds: float) -> AwsWorld:
    bucket = DeploymentBucket(calls, target.bucket, target.prefix, target.region, out)
    return AwsWorld(calls, http, stacks(calls, bucket, out, timeout_seconds), desired_state)
