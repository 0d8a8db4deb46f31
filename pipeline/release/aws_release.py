"""``make release TARGET=aws``: a release rolled out to the account's fleet from the operator's
machine, by the same runner and plan as every other target.

The release's templates are packaged (or taken from ``--dist``) and uploaded once; the rows are
read (consistently) and planned; the pooled stack goes first through its canary, then the
Platinum tenants' stacks wave by wave (``pipeline.deploy.aws.aws_rollout``). A dry run reads
no rows: the tenants named with ``--tenant-id`` stand for the recorded ones (in the last
wave), and every call, each row's record included, is printed instead of made.
"""

from __future__ import annotations

import argparse

import boto3

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.aws_rollout import AwsDeployer, CallsRecorder
from pipeline.deploy.aws.deploy_tenants import recorded_deployments
from pipeline.deploy.aws.placeholders import recorded_deployment
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.deploy.aws.worlds import AwsWorld, Target, dry_run_world, real_world
from pipeline.deploy.cli import Tools, packaged_templates
from pipeline.rollout.release_plan import plan_rollout
from pipeline.rollout.rollout import Approval, Rollout, RolloutReport, RolloutSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import DesiredState
from tenant_context.tenancy import POOLED_DEPLOYMENT


def rollout_on_aws(args: argparse.Namespace, session: boto3.session.Session, region: str,
                   release_id: str, settings: RolloutSettings, approve: Approval,
                   tools: Tools) -> RolloutReport:
    templates = packaged_templates(args, tools)
    target = Target(args.bucket, args.prefix, region)
    timeout = args.stack_timeout_minutes * 60.0
    world: AwsWorld
    if args.dry_run:
        tools.out("Dry run: every AWS call is printed, none is made; <...> are values a real "
                  "run would learn; the rows are the pooled one and each --tenant-id.")
        rows = [recorded_deployment(row_id) for row_id in [POOLED_DEPLOYMENT, *args.tenant_ids]]
        world = dry_run_world(templates, target, tools.out, pooled_stack_exists=True,
                              deployment_rows=rows, stacks=tools.stacks,
                              timeout_seconds=timeout)
    else:
        world = real_world(session, target, tools.out, tools.stacks, timeout)
    plan = plan_rollout(recorded_deployments(world.calls), release_id)
    for line in plan.lines():
        tools.out(line)
    new_running = sum(1 for row_target in plan.targets
                      if row_target.deployment_id != POOLED_DEPLOYMENT
                      and world.desired_state(row_target.row) != DesiredState.STOPPED.value
                      and world.stacks.current_parameters(stack_name(
                          row_target.deployment_id)) is None)
    AccountChecks(world.calls, region, tools.out).silo_concurrency(new_silos=new_running)
    stack_settings = StackSettings(args.log_retention_days)
    deployer = AwsDeployer(world.stacks, world.stacks.uploaded(templates.pooled),
                           world.stacks.uploaded(templates.silo), stack_settings,
                           world.desired_state, RowClaims(world.calls))
    tools.out(f"Rolling {release_id} out (pooled: {POOLED_STACK_NAME}) ...")
    return Rollout(deployer, CallsRecorder(world.calls), tools.out, settings,
                   approve=approve).run(plan)
