"""``make deploy-pooled``, ``make onboard-tenant`` and ``make deploy-tenants``: one CLI for
both targets.

    python -m pipeline.deploy pooled [--target local|aws] [--bucket B] [--region R]
                                     [--admin-email E] [--prefix P] [--dist DIR] [--dry-run]
    python -m pipeline.deploy tenant --name N --email E --tier T [--phone P] [--address A]
                                     [--target local|aws] [--bucket B] [--region R] ...
    python -m pipeline.deploy tenants [--tenant-id ID ...] [--target local|aws] [--bucket B] ...
    python -m pipeline.deploy pipeline [--target local|aws] [--bucket B] [--max-concurrency N]
                                       [--failure-threshold N] [--approve-waves]
                                       [--repository-url U --connection-id C --branch B] ...
    python -m pipeline.deploy web-config [--target local|aws] [--region R] [--dry-run]

local (the default) works on the running local platform (``pipeline.deploy.local.local_release``,
``pipeline.deploy.local.local_onboarding``; its provisioner keeps Platinum tenants' deployments as
recorded by itself, so ``tenants`` releases the working tree's code to them). aws packages (or
reuses ``--dist``), uploads the artifacts to the bucket and deploys with CloudFormation;
``web-config`` deploys nothing: it prints, as JSON, what the web apps need (the running platform's
values, or the pooled stack's outputs); ``--dry-run`` prints every AWS and admin API call
instead of making it, and needs no credentials.
Exit codes: 0 done; 1 a step failed (one line says why; for ``tenants``, every failed tenant after
the others were tried); 2 the command line or the environment is not enough to start, and nothing
was done.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.calls import AwsCalls, Boto3Calls, DryRunCalls
from pipeline.deploy.aws.change_sets import DEFAULT_TIMEOUT_SECONDS, Stacks
from pipeline.deploy.aws.console import Out, echo
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.deploy_pipeline import FirstRelease, PipelineSettings, deploy_pipeline
from pipeline.deploy.aws.deploy_pooled import deploy_pooled
from pipeline.deploy.aws.deploy_tenants import deploy_tenants
from pipeline.deploy.aws.onboard_tenant import TenantRequest, onboard_tenant
from pipeline.deploy.aws.packaged import PackagedTemplates
from pipeline.deploy.aws.placeholders import DESIRED_STATE, recorded_deployment
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import CREATE, EXISTING, StackSettings
from pipeline.deploy.aws.web_config import aws_web_config, pretend_pooled_stack
from pipeline.deploy.aws.worlds import AwsWorld, StacksFactory, Target, dry_run_world, real_world
from pipeline.packaging import app_packages
from pipeline.packaging.tenant_pipeline_package import TEMPLATE_FILE, package_tenant_pipeline
from pipeline.project import PROJECT_ROOT
from pipeline.rollout.release_id import working_tree_release
from pipeline.stacks.logging_template import DEFAULT_RETENTION_DAYS, RETENTION_DAYS
from pipeline.stacks.signup_limits import WAF_MAX_LIMIT, WAF_MIN_LIMIT, WAF_WINDOWS
from pipeline.stacks.tenant_pipeline_template import PIPELINE_STACK_NAME
from tenant_context.config import (
    DEFAULT_PENDING_PLATINUM_CAP,
    DEFAULT_SIGNUP_RATE_PER_ADDRESS,
    DEFAULT_SIGNUP_RATE_TOTAL,
    DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
    SignupLimits,
)
from tenant_context.platform.definitions import PLATFORM
from tenant_context.tenancy import POOLED_DEPLOYMENT, Tier, is_tenant_id

LOCAL, AWS = "local", "aws"
WEB_CONFIG = "web-config"
USAGE_ERROR = 2


def run_local_module(module: str, args: list[str]) -> int:
    """The local target's own commands, in their own process: they own their output and exit
    code, and this CLI only routes to them."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=PROJECT_ROOT,
                          check=False).returncode


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Tools:
    """Everything ``main`` reaches the outside world through; tests pass their own."""

    session: Callable[..., boto3.session.Session] = boto3.Session
    package: Callable[[Path], list[Path]] = app_packages.package
    run_module: Callable[[str, list[str]], int] = run_local_module
    stacks: StacksFactory = Stacks
    release_id: Callable[[Path], str] = working_tree_release
    out: Out = echo
    err: Out = field(default=_stderr)


class UsageProblem(Exception):  # noqa: N818 - read as "a usage problem: <what>"
    """Found before anything is done: the run stops with exit code 2."""


def common_options() -> argparse.ArgumentParser:
    """The options every deploying command takes (``make release`` too)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--target", choices=[LOCAL, AWS], default=LOCAL,
                        help="local: the running local platform (default); aws: CloudFormation")
    common.add_argument("--bucket", default="",
                        help="aws: S3 bucket, in the stacks' region, for artifacts and templates")
    common.add_argument("--region", default="", help="aws: region (default: AWS_DEFAULT_REGION "
                                                     "or the profile's)")
    common.add_argument("--prefix", default=PLATFORM, help=f"aws: key prefix ({PLATFORM})")
    common.add_argument("--dist", type=Path, default=None,
                        help="aws: reuse this already packaged folder instead of packaging")
    common.add_argument("--dry-run", action="store_true",
                        help="aws: print every AWS and admin API call instead of making it")
    common.add_argument("--stack-timeout-minutes", type=int,
                        default=int(DEFAULT_TIMEOUT_SECONDS // 60),
                        help="aws: how long each stack may take before the run reports it "
                             f"stuck ({int(DEFAULT_TIMEOUT_SECONDS // 60)})")
    common.add_argument("--log-retention-days", type=int, default=DEFAULT_RETENTION_DAYS,
                        help=f"aws: days the stacks keep function and access logs "
                             f"({DEFAULT_RETENTION_DAYS}; CloudWatch's values: "
                             f"{', '.join(map(str, RETENTION_DAYS))})")
    return common


def rollout_options() -> argparse.ArgumentParser:
    """How a rollout goes (``make release``, ``make rollback``, the pipeline's defaults)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--max-concurrency", type=int, default=4,
                         help="stacks of one wave deploying at once (4)")
    options.add_argument("--failure-threshold", type=int, default=0,
                         help="failed stacks tolerated before the rollout stops (0)")
    options.add_argument("--approve-waves", action="store_true",
                         help="ask staff before every wave after the first")
    return options


def parser() -> argparse.ArgumentParser:
    common = common_options()
    main_parser = argparse.ArgumentParser(prog="python -m pipeline.deploy",
                                          description=__doc__.split("\n\n")[0])
    # Only ``tenants`` names tenants; only ``pooled`` may ask for the API Gateway logs role.
    main_parser.set_defaults(tenant_ids=[], api_gateway_logs_role=EXISTING, signup_waf=False,
                             signup_rate_per_address=DEFAULT_SIGNUP_RATE_PER_ADDRESS,
                             signup_rate_total=DEFAULT_SIGNUP_RATE_TOTAL,
                             signup_rate_window_seconds=DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
                             pending_platinum_cap=DEFAULT_PENDING_PLATINUM_CAP)
    commands = main_parser.add_subparsers(dest="command", required=True)
    pooled = commands.add_parser("pooled", parents=[common], help="deploy the pooled deployment")
    pooled.add_argument("--admin-email", default="",
                        help="the first SystemAdmin's email (on aws its temporary password "
                             "goes there; required for aws)")
    pooled.add_argument("--api-gateway-logs-role", choices=[EXISTING, CREATE], default=EXISTING,
                        help="aws: existing: the region's API Gateway CloudWatch role, which "
                             "access logs need, is the account's (checked first); create: the "
                             "pooled stack creates and sets it")
    pooled.add_argument("--signup-waf", action="store_true",
                        help="aws: a WAF web ACL (billed by the month and per request) limits "
                             "POST /registration per address and overall")
    pooled.add_argument("--signup-rate-per-address", type=int,
                        default=DEFAULT_SIGNUP_RATE_PER_ADDRESS,
                        help=f"aws: sign-ups per client address per window, with --signup-waf "
                             f"({DEFAULT_SIGNUP_RATE_PER_ADDRESS}; at least {WAF_MIN_LIMIT})")
    pooled.add_argument("--signup-rate-total", type=int, default=DEFAULT_SIGNUP_RATE_TOTAL,
                        help=f"aws: sign-ups from every address per window, with --signup-waf "
                             f"({DEFAULT_SIGNUP_RATE_TOTAL}; at least {WAF_MIN_LIMIT})")
    pooled.add_argument("--signup-rate-window-seconds", type=int,
                        default=DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
                        help=f"aws: the window ({DEFAULT_SIGNUP_RATE_WINDOW_SECONDS}; one of "
                             f"{', '.join(map(str, WAF_WINDOWS))})")
    pooled.add_argument("--pending-platinum-cap", type=int, default=DEFAULT_PENDING_PLATINUM_CAP,
                        help=f"aws: Platinum sign-ups still provisioning at most "
                             f"({DEFAULT_PENDING_PLATINUM_CAP})")
    tenant = commands.add_parser("tenant", parents=[common], help="onboard one tenant")
    tenant.add_argument("--name", default="")
    tenant.add_argument("--email", default="")
    tenant.add_argument("--tier", default="", help=", ".join(Tier))
    tenant.add_argument("--phone", default="")
    tenant.add_argument("--address", default="")
    pipeline = commands.add_parser(
        "pipeline", parents=[common, rollout_options()],
        help="deploy the tenant pipeline (provisioning and rollouts on AWS's engines)")
    pipeline.add_argument("--repository-url", default="",
                          help="optional: release every push to --branch of this repository")
    pipeline.add_argument("--connection-id", default="",
                          help="the CodeConnections connection to it (the end of its ARN)")
    pipeline.add_argument("--branch", default="main")
    tenants = commands.add_parser(
        "tenants", parents=[common],
        help="deploy every Platinum tenant's own stack as the control plane recorded it "
             "(a release to every silo; a deactivated tenant's services stopped)")
    tenants.add_argument("--tenant-id", dest="tenant_ids", action="append", default=[],
                         metavar="ID", help="only this Platinum tenant (repeatable; "
                                            "default: every one recorded)")
    commands.add_parser(WEB_CONFIG, parents=[common],
                        help="print what the three web apps need, as JSON (deploys nothing)")
    return main_parser


def argument_problems(args: argparse.Namespace) -> list[str]:
    """Everything wrong with the command line, all at once (each names its make variable)."""
    problems: list[str] = []
    if args.command == "tenant":
        missing = [f"--{flag} ({flag.upper()}=...)" for flag in ("name", "email", "tier")
                   if not getattr(args, flag).strip()]
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        elif args.tier.strip().lower() not in {tier.lower() for tier in Tier}:
            problems.append(f"unknown tier {args.tier!r}: one of {', '.join(Tier)}")
    if args.command == "pipeline":
        if args.max_concurrency < 1 or args.failure_threshold < 0:
            problems.append("--max-concurrency (MAX_CONCURRENCY) at least 1 and "
                            "--failure-threshold (FAILURE_THRESHOLD) 0 or more")
        if bool(args.repository_url) != bool(args.connection_id):
            problems.append("--repository-url (REPOSITORY_URL) and --connection-id "
                            "(CONNECTION_ID) go together")
    if args.command == "pooled" and args.target != LOCAL:  # locally make local reads them
        problems += signup_problems(args)
    if args.command == "tenants":
        problems += [f"--tenant-id {tenant_id!r} is not a tenant id (32 hex characters, as "
                     f"the registration answered)"
                     + (": the pooled deployment is make deploy-pooled's"
                        if tenant_id == POOLED_DEPLOYMENT else "")
                     for tenant_id in args.tenant_ids if not is_tenant_id(tenant_id)]
    return problems + common_problems(args, needs_bucket=args.command != WEB_CONFIG)


def signup_problems(args: argparse.Namespace) -> list[str]:
    """The sign-up limits as WAF and the template take them."""
    problems = [f"--{flag} {value} ({flag.upper().replace('-', '_')}): from {WAF_MIN_LIMIT} "
                f"(WAF's least) to {WAF_MAX_LIMIT}"
                for flag, value in (("signup-rate-per-address", args.signup_rate_per_address),
                                    ("signup-rate-total", args.signup_rate_total))
                if not WAF_MIN_LIMIT <= value <= WAF_MAX_LIMIT]
    if args.signup_rate_window_seconds not in WAF_WINDOWS:
        problems.append(f"--signup-rate-window-seconds {args.signup_rate_window_seconds} "
                        f"(SIGNUP_RATE_WINDOW_SECONDS): one of WAF's "
                        f"{', '.join(map(str, WAF_WINDOWS))}")
    if args.pending_platinum_cap < 1:
        problems.append(f"--pending-platinum-cap {args.pending_platinum_cap} "
                        f"(PENDING_PLATINUM_CAP): at least 1")
    return problems


def common_problems(args: argparse.Namespace, needs_bucket: bool = True) -> list[str]:
    """What is wrong with the ``common_options`` (each names its make variable).
    ``needs_bucket``: False for a command that uploads to a bucket of its own."""
    problems = []
    if args.stack_timeout_minutes < 1:
        problems.append(f"--stack-timeout-minutes {args.stack_timeout_minutes} "
                        f"(STACK_TIMEOUT_MINUTES): at least 1")
    if args.log_retention_days not in RETENTION_DAYS:
        problems.append(f"--log-retention-days {args.log_retention_days} (LOG_RETENTION_DAYS): "
                        f"one of CloudWatch's {', '.join(map(str, RETENTION_DAYS))}")
    if args.target == LOCAL:
        if args.dry_run:
            problems.append("--dry-run (DRY_RUN=1) is for --target aws (TARGET=aws) only")
        return problems
    if needs_bucket and not args.bucket:
        problems.append("missing --bucket (BUCKET=...): the S3 bucket, in the stacks' region, "
                        "that artifacts and templates are uploaded to")
    if args.command == "pooled" and not args.admin_email:
        problems.append("missing --admin-email (ADMIN_EMAIL=...): the first SystemAdmin's "
                        "email, where Cognito sends its temporary password")
    if args.dist is not None and (missing_files := PackagedTemplates.in_dist(args.dist).missing()):
        problems.append(f"--dist {args.dist}: no {', '.join(map(str, missing_files))} "
                        f"(run make package, or leave out --dist)")
    return problems


def aws_session(args: argparse.Namespace, tools: Tools) -> tuple[boto3.session.Session, str]:
    """The run's session and region; refuses before anything is done when either is missing
    (a dry run needs a region for the URLs it prints, but no credentials)."""
    try:
        session = tools.session(region_name=args.region or None)
        problems = []
        if not session.region_name:
            problems.append("no AWS region: pass --region (REGION=...) or set AWS_DEFAULT_REGION")
        if not args.dry_run and session.get_credentials() is None:
            problems.append("no AWS credentials found (environment, ~/.aws, SSO or instance "
                            "role): configure them, or use --dry-run (DRY_RUN=1), which needs "
                            "none")
    except BotoCoreError as error:  # a named profile that does not exist, a broken config
        raise UsageProblem(str(error)) from error
    if problems:
        raise UsageProblem("; ".join(problems))
    return session, session.region_name


def main(argv: list[str] | None = None, tools: Tools | None = None) -> int:
    tools = tools or Tools()
    args = parser().parse_args(argv)
    try:
        if problems := argument_problems(args):
            raise UsageProblem("; ".join(problems))
        if args.target == LOCAL:
            return run_local(args, tools)
        session, region = aws_session(args, tools)
    except UsageProblem as problem:
        tools.err(f"error: {problem}")
        return USAGE_ERROR
    try:
        run_aws(args, session, region, tools)
    except (DeployError, ClientError, BotoCoreError, subprocess.CalledProcessError) as error:
        tools.err(f"error: {said(error, args)}")
        return 1
    except KeyboardInterrupt:
        tools.err("interrupted: a stack operation already started goes on in CloudFormation "
                  "(deploy again when it is done)")
        return 130
    return 0


def run_local(args: argparse.Namespace, tools: Tools) -> int:
    if args.command == WEB_CONFIG:
        return tools.run_module("pipeline.deploy.local.local_web_config", [])
    if args.command == "pipeline":
        tools.out("Locally the tenant pipeline is make local's provisioner (it follows the "
                  "tenant-stack-mapping rows) and make release: nothing to deploy.")
        return 0
    if args.command == "tenants":
        return tools.run_module("pipeline.deploy.local.local_release", ["--tenants"])
    if args.command == "pooled":
        email = ["--admin-email", args.admin_email] if args.admin_email else []
        return tools.run_module("pipeline.deploy.local.local_release", email)
    optional = [item for flag, value in (("--phone", args.phone), ("--address", args.address))
                if value for item in (flag, value)]
    return tools.run_module("pipeline.deploy.local.local_onboarding", [
        "--name", args.name, "--email", args.email, "--tier", Tier.parse(args.tier).value,
        *optional])


def web_config(args: argparse.Namespace, session: boto3.session.Session, region: str,
               tools: Tools) -> None:
    """The JSON alone on ``out`` (a file, a script's input); a dry run's call on ``err``."""
    calls: AwsCalls = DryRunCalls(pretend_pooled_stack(), tools.err) if args.dry_run \
        else Boto3Calls(session)
    tools.out(json.dumps(aws_web_config(calls, region, tools.err).by_app(), indent=2))


def run_aws(args: argparse.Namespace, session: boto3.session.Session, region: str,
            tools: Tools) -> None:
    if args.command == WEB_CONFIG:
        web_config(args, session, region, tools)
        return
    templates = packaged_templates(args, tools)
    pipeline = _pipeline_template(args) if args.command == "pipeline" else None
    target = Target(args.bucket, args.prefix, region)
    timeout = args.stack_timeout_minutes * 60.0
    world: AwsWorld
    if args.dry_run:
        tools.out("Dry run: every AWS and admin API call is printed, none is made; <...> are "
                  "values a real run would learn.")
        # Releasing to tenants: the named tenants are taken as recorded (see the note below).
        world = dry_run_world(templates, target, tools.out,
                              pooled_stack_exists=args.command != "pooled",
                              deployment_rows=map(recorded_deployment, args.tenant_ids),
                              stacks=tools.stacks, timeout_seconds=timeout,
                              others={PIPELINE_STACK_NAME: pipeline} if pipeline else {})
    else:
        world = real_world(session, target, tools.out, tools.stacks, timeout)
    failed = ""
    account = AccountChecks(world.calls, region, tools.out)
    settings = StackSettings(args.log_retention_days, args.api_gateway_logs_role,
                             args.signup_waf, SignupLimits(
                                 args.signup_rate_per_address, args.signup_rate_total,
                                 args.signup_rate_window_seconds, args.pending_platinum_cap))
    if args.command == "pooled":
        summary = deploy_pooled(templates.pooled, args.admin_email, world.stacks, world.calls,
                                account, settings, tools.out)
    elif pipeline is not None:
        summary = deploy_pipeline(pipeline, world.stacks, settings,
                                  PipelineSettings(args.max_concurrency, args.failure_threshold,
                                                   args.approve_waves, args.repository_url,
                                                   args.connection_id, args.branch),
                                  FirstRelease(tools.release_id(PROJECT_ROOT), templates,
                                               world.calls, region, tools.out))
    elif args.command == "tenants":
        release = deploy_tenants(templates.silo, args.tenant_ids, world.calls, world.stacks,
                                 tools.out, settings, account, world.desired_state)
        summary = release.summary()
        failed = release.failure_message() if release.failures else ""
    else:
        request = TenantRequest(args.name.strip(), args.email.strip(), Tier.parse(args.tier),
                                args.phone, args.address)
        summary = onboard_tenant(request, templates.silo, world.http, world.stacks, tools.out,
                                 account, settings, RowClaims(world.calls))
    if args.dry_run:
        summary.note("(dry run: nothing was deployed)")
        if args.command == "tenants":
            summary.note(_DRY_RUN_ROWS if args.tenant_ids else _DRY_RUN_NO_ROWS)
    for line in ["", *summary.lines()]:
        tools.out(line)
    if failed:  # after the summary: the operator sees what did succeed, then why the run failed
        raise DeployError(failed)


_DRY_RUN_ROWS = (f"(each --tenant-id was taken as recorded and deployed; a real run reads its "
                 f"row and passes the row's desiredState, running or stopped, where "
                 f"{DESIRED_STATE} stands, and refuses an id without a row)")
_DRY_RUN_NO_ROWS = ("(a dry run cannot read the table, so its scan answers no rows and no "
                    "tenant's stack is shown: name tenants with --tenant-id ID (TENANT_ID=...) "
                    "to see their deployments)")


def _pipeline_template(args: argparse.Namespace) -> Path:
    if args.dist is not None:
        dist: Path = args.dist
        return dist / "cloudformation" / "tenant-pipeline" / TEMPLATE_FILE
    return package_tenant_pipeline(PROJECT_ROOT / "dist")


def packaged_templates(args: argparse.Namespace, tools: Tools) -> PackagedTemplates:
    if args.dist is not None:
        tools.out(f"Using the templates packaged in {args.dist}")
        return PackagedTemplates.in_dist(args.dist)
    dist = PROJECT_ROOT / "dist"
    tools.out(f"Packaging every app (layer, chalice package) into {dist} ...")
    pooled, silo = tools.package(dist)
    return PackagedTemplates(pooled, silo)


def said(error: Exception, args: argparse.Namespace) -> str:
    """One line an operator can act on."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "NoSuchBucket":
            return f"{error} (create it first: aws s3 mb s3://{args.bucket})"
    if isinstance(error, subprocess.CalledProcessError):
        return f"packaging failed: {error} (run make package to see its output)"
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
