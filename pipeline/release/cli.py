"""``make release``, ``make releases`` and ``make release-settings``: rolling the code out to the
fleet, and what each deployment runs.

    python -m pipeline.release rollout [--target local|aws] [--release-id ID]
                                       [--max-concurrency N] [--failure-threshold N]
                                       [--approve-waves] [--admin-email E]
                                       [aws: --bucket B --region R --dist DIR --dry-run
                                        --tenant-id ID ...]
    python -m pipeline.release rollback --target aws --release-id ID [--dry-run] ...
    python -m pipeline.release publish --target aws --release-id ID --bucket B [--dist DIR]
    python -m pipeline.release status [--target local|aws] [--region R]
    python -m pipeline.release settings --tenant-id ID [--wave N|last]
                                        [--apply-latest-release true|false] [--target ...]

local (the default) works on the running ``make local``: the working tree's code is the
release (its id from git, ``pipeline.rollout.release_id``), rolled out by the rollout runner
(``pipeline.rollout``) with the local deployer (``pipeline.deploy.local.local_rollout``). aws
hands the release to the tenant pipeline (``pipeline.release.handoff``: its source to the
pipeline's bucket; AWS builds, tests, publishes and rolls it out), or with ``--from-here``
rolls the packaged release out from this machine (``pipeline.release.aws_release``);
``--release-id`` names it (default: from git). Every row records the release it runs. A
rollout that stops prints why (locally its report is also kept in ``.local/rollouts/``).
Exit codes: 0 done; 1 the rollout stopped (its table says where and why) or a step failed;
2 nothing was done (the command line, the platform, the release id or the rows).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipeline.deploy import cli as deploy_cli
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.publish_release import publish, releases_in_use
from pipeline.deploy.aws.release_store import UnknownRelease
from pipeline.deploy.aws.worlds import Target, real_world
from pipeline.deploy.local.local_rollout import LocalDeployer
from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.state import NotRunning, StatePaths
from pipeline.project import PROJECT_ROOT
from pipeline.release.aws_release import rollout_on_aws
from pipeline.release.handoff import hand_over
from pipeline.release.pipeline_stack import PipelineStack, pipeline_stack
from pipeline.release.rollback import start_rollout
from pipeline.rollout.release_id import ReleaseIdError, checked, working_tree_release
from pipeline.rollout.release_plan import PlanError, Wave, plan_rollout
from pipeline.rollout.release_tables import fleet_lines, rollout_lines
from pipeline.rollout.rollout import (
    Approval,
    Rollout,
    RolloutReport,
    RolloutSettings,
    always,
)
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings
from tenant_context.platform.tenant_records import utc_timestamp
from tenant_context.tenancy import is_tenant_id

LOCAL, AWS = deploy_cli.LOCAL, deploy_cli.AWS
USAGE_ERROR = 2


class UsageProblem(Exception):  # noqa: N818 - read as "a usage problem: <what>"
    """Found before anything is done: exit code 2."""


@dataclass(frozen=True)
class Tools:
    """What ``main`` reaches the outside through; tests pass their own."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    ask: Callable[[str], str] = input
    release_id: Callable[[Path], str] = working_tree_release
    deploy: deploy_cli.Tools = field(default_factory=deploy_cli.Tools)


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--target", choices=[LOCAL, AWS], default=LOCAL,
                        help="local: the running local platform (default); aws: the account")
    common.add_argument("--region", default="", help="aws: region (default: "
                                                     "AWS_DEFAULT_REGION or the profile's)")
    main_parser = argparse.ArgumentParser(prog="python -m pipeline.release",
                                          description=__doc__.split("\n\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True)
    rollout = commands.add_parser("rollout", parents=[deploy_cli.common_options(),
                                                      deploy_cli.rollout_options()],
                                  help="roll a release out: pooled first, then wave by wave")
    rollout.add_argument("--release-id", default="",
                         help="aws: the release's id (default: from git); locally the "
                              "working tree is the release")
    rollout.add_argument("--admin-email", default="admin@example.com",
                         help="local: the first SystemAdmin's address (used only when it is "
                              "created)")
    rollout.add_argument("--from-here", action="store_true",
                         help="aws: roll out from this machine (the same runner) instead of "
                              "handing the release to the tenant pipeline")
    rollout.add_argument("--tenant-id", dest="tenant_ids", action="append", default=[],
                         metavar="ID", help="aws dry run: a recorded Platinum tenant to show "
                                            "(repeatable; a dry run reads no rows)")
    rollback = commands.add_parser(
        "rollback", parents=[deploy_cli.common_options(), deploy_cli.rollout_options()],
        help="aws: roll a published release out again (a rollback is an earlier one)")
    rollback.add_argument("--release-id", required=True)
    publish_command = commands.add_parser(
        "publish", parents=[deploy_cli.common_options()],
        help="aws: package the release and publish it in the bucket (the release build's step)")
    publish_command.add_argument("--release-id", required=True)
    publish_command.add_argument("--source", default="a checkout",
                                 help="where the release was built from (its manifest says so)")
    commands.add_parser("status", parents=[common], help="what each deployment runs now")
    settings = commands.add_parser("settings", parents=[common],
                                   help="a Platinum tenant's wave and pin")
    settings.add_argument("--tenant-id", default="")
    settings.add_argument("--wave", default="", help="1-100, or last")
    settings.add_argument("--apply-latest-release", default="", choices=["", "true", "false"],
                          help="false pins the tenant to the release it runs")
    return main_parser


def release_settings(args: argparse.Namespace) -> ReleaseSettings:
    problems = []
    if not is_tenant_id(args.tenant_id):
        problems.append(f"--tenant-id {args.tenant_id!r} (TENANT_ID=...): a Platinum tenant's "
                        f"id, 32 hex characters")
    wave: int | None = None
    if args.wave and args.wave != "last":
        if not re.fullmatch("[0-9]{1,3}", args.wave) or not 1 <= int(args.wave) <= 100:
            problems.append(f"--wave {args.wave!r} (WAVE=...): 1-100, or last")
        else:
            wave = int(args.wave)
    follows = {"": None, "true": True, "false": False}[args.apply_latest_release]
    if not args.wave and follows is None:
        problems.append("nothing to change: give --wave (WAVE=...) or --apply-latest-release "
                        "(APPLY_LATEST_RELEASE=true|false)")
    if problems:
        raise UsageProblem("; ".join(problems))
    return ReleaseSettings(wave=wave, last_wave=args.wave == "last",
                           apply_latest_release=follows)


def main(argv: list[str] | None = None, tools: Tools | None = None) -> int:
    tools = tools or Tools()
    args = parser().parse_args(argv)
    try:
        if args.command == "rollout":
            return _rollout(args, tools)
        if args.command == "publish":
            return _publish(args, tools)
        if args.command == "rollback":
            return _rollback(args, tools)
        deployments = _deployments(args, tools)
        if args.command == "status":
            print("\n".join(fleet_lines(deployments.all())), file=tools.out)
            return 0
        return _settings(args, deployments, tools)
    except (UsageProblem, deploy_cli.UsageProblem, NotRunning, ReleaseIdError,
            PlanError) as problem:
        print(f"error: {problem}", file=tools.err)
        return USAGE_ERROR
    except (DeployError, ClientError, BotoCoreError, subprocess.CalledProcessError) as error:
        print(f"error: {' '.join(str(error).split())}", file=tools.err)
        return 1


def _publish(args: argparse.Namespace, tools: Tools) -> int:
    if args.target != AWS or args.dry_run:
        raise UsageProblem("publish is for --target aws (TARGET=aws), for real: a release is "
                           "published where the pipeline deploys it from")
    if problems := deploy_cli.common_problems(args):
        raise UsageProblem("; ".join(problems))
    release_id = checked(args.release_id)
    session, region = deploy_cli.aws_session(args, tools.deploy)
    aws = _aws_tools(tools)
    templates = deploy_cli.packaged_templates(args, aws)
    world = real_world(session, Target(args.bucket, args.prefix, region), aws.out, aws.stacks)
    rows = Deployments(session.client("dynamodb"), TENANT_STACK_MAPPING_TABLE.name).all()
    publish(release_id, templates, world.calls, args.bucket, region, releases_in_use(rows),
            aws.out, args.source)
    return 0


def _rollback(args: argparse.Namespace, tools: Tools) -> int:
    if args.target != AWS:
        raise UsageProblem("rollback is for --target aws (TARGET=aws): locally, check out the "
                           "release's commit and run make release")
    settings = _rollout_settings(args)
    release_id = checked(args.release_id)
    session, region = deploy_cli.aws_session(args, tools.deploy)
    stack = _pipeline(args, session, region, tools)
    try:
        start_rollout(stack, release_id, settings, args.approve_waves, _aws_tools(tools).out)
    except UnknownRelease as unknown:
        raise UsageProblem(f"{unknown}; nothing was started") from unknown
    return 0


def _pipeline(args: argparse.Namespace, session: boto3.session.Session, region: str,
              tools: Tools) -> PipelineStack:
    aws = _aws_tools(tools)
    return pipeline_stack(session, region, args.prefix, aws.out, aws.stacks, args.dry_run)


def _deployments(args: argparse.Namespace, tools: Tools) -> Deployments:
    """The rows, on the running platform's emulator or in the account."""
    if args.target == AWS:
        session = tools.deploy.session(region_name=args.region or None)
        client = session.client("dynamodb")
    else:
        client = emulator_clients(StatePaths.from_environ().running()["emulatorUrl"]).dynamodb
    return Deployments(client, TENANT_STACK_MAPPING_TABLE.name)


def _rollout(args: argparse.Namespace, tools: Tools) -> int:
    settings = _rollout_settings(args)
    # Handing a release to the pipeline uploads to the pipeline's own bucket.
    problems = deploy_cli.common_problems(args, needs_bucket=args.from_here)
    if problems:
        raise UsageProblem("; ".join(problems))
    approve = _asking(tools) if args.approve_waves else always
    if args.target == AWS:
        session, region = deploy_cli.aws_session(args, tools.deploy)
        release_id = checked(args.release_id or tools.release_id(PROJECT_ROOT))
        if not args.from_here:
            hand_over(_pipeline(args, session, region, tools), release_id, PROJECT_ROOT,
                      args.tenant_ids, _aws_tools(tools).out)
            return 0
        report = rollout_on_aws(args, session, region, release_id, settings, approve,
                                _aws_tools(tools))
        return _reported(report, tools, None)
    if args.release_id:
        raise UsageProblem("--release-id (RELEASE_ID=...) names a release on aws; locally "
                           "the release is the working tree: check out the release's commit "
                           "and run make release")
    if args.tenant_ids:
        raise UsageProblem("--tenant-id is for an aws dry run: locally every row is read")
    paths = StatePaths.from_environ()
    deployments = Deployments(emulator_clients(paths.running()["emulatorUrl"]).dynamodb,
                              TENANT_STACK_MAPPING_TABLE.name)
    release_id = checked(tools.release_id(PROJECT_ROOT))
    plan = plan_rollout(deployments.all(), release_id)
    print("\n".join(plan.lines()), file=tools.out, flush=True)
    report = Rollout(LocalDeployer(paths, args.admin_email), deployments,
                     lambda line: print(line, file=tools.out, flush=True), settings,
                     approve=approve).run(plan)
    return _reported(report, tools, paths)


def _aws_tools(tools: Tools) -> deploy_cli.Tools:
    """The deploy tools, printing where this command prints."""
    def out(line: str) -> None:
        print(line, file=tools.out, flush=True)

    deploy = tools.deploy
    return deploy_cli.Tools(session=deploy.session, package=deploy.package,
                            run_module=deploy.run_module, stacks=deploy.stacks, out=out,
                            err=deploy.err)


def _reported(report: RolloutReport, tools: Tools, paths: StatePaths | None) -> int:
    print("\n".join(["", *rollout_lines(report)]), file=tools.out, flush=True)
    if not report.stopped:
        return 0
    where = f"; its report is in {_recorded(paths, report)}" if paths else ""
    print(f"The rollout stopped{where}", file=tools.err)
    return 1


def _rollout_settings(args: argparse.Namespace) -> RolloutSettings:
    try:
        return RolloutSettings(args.max_concurrency, args.failure_threshold)
    except ValueError as error:
        raise UsageProblem(f"{error} (--max-concurrency MAX_CONCURRENCY, --failure-threshold "
                           f"FAILURE_THRESHOLD)") from error


def _settings(args: argparse.Namespace, deployments: Deployments, tools: Tools) -> int:
    settings = release_settings(args)
    row = deployments.get(args.tenant_id)
    if row is None:
        raise UsageProblem(f"no Platinum deployment recorded for tenant {args.tenant_id} (a "
                           f"pooled tier's tenant runs the pooled deployment's release)")
    deployments.set_release_settings(args.tenant_id, settings)
    changed = deployments.get(args.tenant_id)
    assert changed is not None
    print("\n".join(fleet_lines([changed])), file=tools.out)
    return 0


def _asking(tools: Tools) -> Approval:
    def approve(wave: Wave) -> bool:
        answer = tools.ask(f"Start wave {wave.number} ({len(wave.targets)} stacks)? [y/N] ")
        return answer.strip().lower() in {"y", "yes"}

    return approve


def _recorded(paths: StatePaths, report: RolloutReport) -> Path:
    """A stopped rollout's report, kept (locally the notification is this file and the
    printout)."""
    folder = paths.root / "rollouts"
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{utc_timestamp().replace(':', '')}-{report.release_id}.json"
    record.write_text(json.dumps({
        "releaseId": report.release_id, "stopped": report.stopped, "seconds": report.seconds,
        "outcomes": [{"deployment": outcome.target.deployment_id,
                      "stack": outcome.target.stack, "wave": outcome.target.wave,
                      "fromRelease": outcome.target.from_release, "result": outcome.result,
                      "seconds": outcome.seconds, "reason": outcome.reason}
                     for outcome in report.outcomes]}, indent=2))
    return record
