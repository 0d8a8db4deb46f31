"""A dry run prints every AWS and admin API call, in order, with what it would send, and makes
none: no credentials exist, the endpoint is a closed port, and any socket connect would be
recorded. The operation sequences are spelled out: a call added or lost shows here."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.artifacts import relative_artifacts
from pipeline.deploy.aws.deploy_tenants import DESIRED_STATE_PARAMETER, deploy_tenants
from pipeline.deploy.aws.onboard_tenant import SILO_PARAMETERS_FROM_POOLED
from pipeline.deploy.aws.packaged import PackagedTemplates
from pipeline.deploy.aws.placeholders import DESIRED_STATE, TENANT_ID, placeholder
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.deploy.aws.worlds import Target, dry_run_world
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import DeploymentRecord, DeploymentStatus, DesiredState
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES
from tests.pipeline.deploy.conftest import Cli, Connections, Run

BUCKET, REGION, PREFIX = "deploy-artifacts", "eu-west-1", "serverless-saas"
AWS = ["--target", "aws", "--bucket", BUCKET, "--region", REGION, "--dry-run"]
UPLOAD = ["s3.list_objects_v2", "s3.put_object"]
CLAIM = UNCLAIM = ["dynamodb.update_item"]  # a tenant's row, held while its stack deploys
EXISTS = ["cloudformation.describe_stacks"]  # exists? (no: CREATE); then the template
CHANGE_SET_DEPLOY = [
    "cloudformation.create_change_set",
    "cloudformation.describe_change_set",    # ready, or nothing to change
    "cloudformation.describe_stack_events",  # the events before ours
    "cloudformation.execute_change_set",
    "cloudformation.describe_stacks",        # status (complete) and outputs
    "cloudformation.describe_stack_events",  # what happened, printed
    "cloudformation.describe_change_set",    # and OUR change set is what ran
]


def _template(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _artifact_keys(template_file: Path) -> list[str]:
    """The content-addressed key of every distinct file the template names, in template order."""
    keys = [f"{PREFIX}/{hashlib.sha256((template_file.parent / local).read_bytes()).hexdigest()}"
            f"{Path(local).suffix}" for _, _, local in relative_artifacts(_template(template_file))]
    return list(dict.fromkeys(keys))


def _param(line: str, name: str) -> str:
    match = re.search(rf" {name}=(\S+)", line)
    assert match, f"{name} not in {line}"
    return match.group(1)


def _row(run: Run, label: str) -> str:
    """The value of one row of the summary (after the blank line: ``  label   value``)."""
    summary = run.out[len(run.out) - run.out[::-1].index(""):]
    (value,) = [match.group(1) for line in summary
                if (match := re.fullmatch(rf"  {re.escape(label)} +(.+)", line))]
    return value


def _template_uploads(run: Run) -> list[str]:
    """The template goes by URL (uploaded just before) only when too big to send inline."""
    (create,) = run.call_lines("cloudformation.create_change_set")
    return UPLOAD if " TemplateURL=" in create else []


def test_deploy_pooled_dry_run_prints_every_call_and_makes_none(
        cli: Cli, no_aws: Connections, packaged_dist: Path) -> None:
    run = cli(["pooled", *AWS, "--admin-email", "ops@example.com", "--dist", str(packaged_dist)])

    assert (run.code, run.err) == (0, [])
    pooled = PackagedTemplates.in_dist(packaged_dist).pooled
    artifacts = _artifact_keys(pooled)
    # authorizer, layer, admin and every tenant service: each once
    assert len(artifacts) == 3 + len(TENANT_SERVICES)
    assert run.calls == (["apigateway.get_account",  # access logs need the region's role
                          "cloudformation.describe_stacks"]  # its AdminEmail, if it exists
                         + UPLOAD * len(artifacts) + EXISTS + _template_uploads(run)
                         + CHANGE_SET_DEPLOY)
    assert no_aws.attempted == []
    puts = [_param(line, "Key") for line in run.call_lines("s3.put_object")]
    assert puts[:len(artifacts)] == artifacts
    (create,) = run.call_lines("cloudformation.create_change_set")
    assert _param(create, "StackName") == POOLED_STACK_NAME
    assert _param(create, "ChangeSetType") == "CREATE"
    assert json.loads(_param(create, "Capabilities")) == [
        "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert json.loads(_param(create, "Parameters")) == [
        {"ParameterKey": "AdminEmail", "ParameterValue": "ops@example.com"},
        {"ParameterKey": "LogRetentionDays", "ParameterValue": "30"},
        {"ParameterKey": "ApiGatewayCloudWatchRole", "ParameterValue": "existing"},
        # Sign-up limits: no WAF unless asked (it is billed), the documented defaults.
        {"ParameterKey": "SignupWaf", "ParameterValue": "disabled"},
        {"ParameterKey": "SignupRatePerAddress", "ParameterValue": "10"},
        {"ParameterKey": "SignupRateTotal", "ParameterValue": "100"},
        {"ParameterKey": "SignupRateWindowSeconds", "ParameterValue": "300"},
        {"ParameterKey": "PendingPlatinumCap", "ParameterValue": "10"}]
    assert _param(create, "TemplateURL") == (
        f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{puts[-1]}")  # the template just uploaded
    # A failed first deployment must leave no retained, fixed-name table behind to block the
    # next attempt ("already exists").
    (execute,) = run.call_lines("cloudformation.execute_change_set")
    assert _param(execute, "RetainExceptOnCreate") == "true"
    assert _row(run, "admin API") == placeholder(POOLED_STACK_NAME, "AdminApiUrl")
    assert _row(run, "stack") == POOLED_STACK_NAME


def test_onboard_platinum_dry_run_registers_then_deploys_its_stack(
        cli: Cli, no_aws: Connections, packaged_dist: Path) -> None:
    run = cli(["tenant", *AWS, "--name", "Acme Widgets", "--email", "owner@acme.example",
               "--tier", "platinum", "--dist", str(packaged_dist)])

    assert (run.code, run.err) == (0, [])
    silo = PackagedTemplates.in_dist(packaged_dist).silo
    artifacts = _artifact_keys(silo)
    assert len(artifacts) == len(TENANT_SERVICES)  # one zip each
    assert run.calls == [
        "cloudformation.describe_stacks",  # the pooled stack's outputs
        "apigateway.get_api_keys",  # room for the tenant's own API key
        "lambda.get_account_settings",  # room for the stack's reserved concurrency
        "POST",
        *CLAIM, *UPLOAD * len(artifacts), *EXISTS, *_template_uploads(run),
        *CHANGE_SET_DEPLOY, *UNCLAIM,
        "GET",
    ]
    claim, unclaim = run.call_lines("dynamodb.update_item")
    assert "claimedBy = :owner" in claim
    assert "REMOVE claimedBy" in unclaim
    assert no_aws.attempted == []
    admin_api = placeholder(POOLED_STACK_NAME, "AdminApiUrl")
    (register,) = run.call_lines("POST")
    assert register == (f"[dry-run] POST {admin_api}/registration "
                        '{"tenantName":"Acme Widgets","tenantEmail":"owner@acme.example",'
                        '"tenantTier":"Platinum"}')
    (create,) = run.call_lines("cloudformation.create_change_set")
    assert _param(create, "StackName") == stack_name(TENANT_ID)
    passed = {item["ParameterKey"]: item["ParameterValue"]
              for item in json.loads(_param(create, "Parameters"))}
    assert passed == {"TenantId": TENANT_ID, "TenantTier": "Platinum",
                      **{parameter: placeholder(POOLED_STACK_NAME, output)
                         for parameter, output in SILO_PARAMETERS_FROM_POOLED.items()},
                      "LogRetentionDays": "30"}
    # Every parameter the silo template has no default for is passed, and nothing else.
    declared = _template(silo)["Parameters"]
    required = {name for name, spec in declared.items() if "Default" not in spec}
    assert required <= set(passed) <= set(declared)
    # ... and every pooled output it reads exists in the pooled template.
    pooled_outputs = _template(PackagedTemplates.in_dist(packaged_dist).pooled)["Outputs"]
    assert set(SILO_PARAMETERS_FROM_POOLED.values()) <= set(pooled_outputs)
    assert _row(run, "tenant API") == placeholder(stack_name(TENANT_ID), "TenantApiUrl")
    assert _row(run, "own stack") == stack_name(TENANT_ID)
    assert _row(run, "tenant id") == TENANT_ID
    (init,) = run.call_lines("GET")
    assert init == f"[dry-run] GET {admin_api}/tenant/init/Acme%20Widgets"


@pytest.mark.parametrize("tier", ["Basic", "standard", "PREMIUM"])
def test_onboard_pooled_tier_dry_run_registers_and_deploys_nothing(
        cli: Cli, no_aws: Connections, packaged_dist: Path, tier: str) -> None:
    run = cli(["tenant", *AWS, "--name", "Acme", "--email", "owner@acme.example",
               "--tier", tier, "--dist", str(packaged_dist)])

    assert (run.code, run.err) == (0, [])
    assert run.calls == ["cloudformation.describe_stacks", "apigateway.get_api_keys", "POST",
                         "GET"]
    assert no_aws.attempted == []
    assert f'"tenantTier":"{tier.capitalize()}"' in run.call_lines("POST")[0]


READ_POOLED_AND_ROWS = ["cloudformation.describe_stacks", "dynamodb.scan"]


def _parameters(create: str) -> dict[str, str]:
    return {item["ParameterKey"]: item["ParameterValue"]
            for item in json.loads(_param(create, "Parameters"))}


def _each_stack_s_template(run: Run, stacks: int) -> list[list[str]]:
    """Inline, or by URL: then uploaded for the first stack and found (listed) by the rest."""
    creates = run.call_lines("cloudformation.create_change_set")
    if all(" TemplateBody=" in create for create in creates):
        return [[]] * stacks
    return [UPLOAD, *[["s3.list_objects_v2"]] * (stacks - 1)]


def _release_calls(run: Run, artifacts: int, stacks: int, created: int = 0,
                   described: int | None = None) -> list[str]:
    """Read the pooled stack and the rows, which stacks exist (those to run: room for the
    concurrency of the ones to create), upload the silo artifacts ONCE, then one change-set
    deployment per tenant stack."""
    return [*READ_POOLED_AND_ROWS, *EXISTS * (stacks if described is None else described),
            *(["lambda.get_account_settings"] if created else []), *UPLOAD * artifacts,
            *(call for template in _each_stack_s_template(run, stacks)
              for call in [*CLAIM, *EXISTS, *template, *CHANGE_SET_DEPLOY, *UNCLAIM])]


def test_deploy_tenants_dry_run_takes_the_named_tenants_as_recorded(
        cli: Cli, no_aws: Connections, packaged_dist: Path) -> None:
    first, second = "a" * 32, "b" * 32
    run = cli(["tenants", *AWS, "--dist", str(packaged_dist), "--tenant-id", second,
               "--tenant-id", first])

    assert (run.code, run.err) == (0, [])
    silo = PackagedTemplates.in_dist(packaged_dist).silo
    artifacts = _artifact_keys(silo)
    assert run.calls == _release_calls(run, len(artifacts), stacks=2)
    assert no_aws.attempted == []
    (scan,) = run.call_lines("dynamodb.scan")
    assert scan == (f"[dry-run] dynamodb.scan TableName={TENANT_STACK_MAPPING_TABLE.name} "
                    f"ConsistentRead=true")
    assert [_param(line, "Key") for line in run.call_lines("s3.put_object")][:2] == artifacts
    creates = run.call_lines("cloudformation.create_change_set")
    assert [_param(create, "StackName") for create in creates] == [
        stack_name(second), stack_name(first)]  # in the order named
    for tenant_id, create in zip([second, first], creates, strict=True):
        assert _param(create, "ChangeSetType") == "UPDATE"  # taken as deployed: a release
        assert _parameters(create) == {
            "TenantId": tenant_id, "TenantTier": "Platinum",
            **{parameter: placeholder(POOLED_STACK_NAME, output)
               for parameter, output in SILO_PARAMETERS_FROM_POOLED.items()},
            "LogRetentionDays": "30",
            DESIRED_STATE_PARAMETER: DESIRED_STATE}  # the row's, which only a real run reads
    assert _row(run, first).split() == [stack_name(first), DESIRED_STATE, "deployed",
                                        placeholder(stack_name(first), "TenantApiUrl")]
    assert any(DESIRED_STATE in line and "a real run reads its row" in line
               for line in run.out)


def test_deploy_tenants_dry_run_without_tenant_ids_shows_the_scan_and_deploys_nothing(
        cli: Cli, no_aws: Connections, packaged_dist: Path) -> None:
    run = cli(["tenants", *AWS, "--dist", str(packaged_dist)])

    assert (run.code, run.err) == (0, [])
    assert run.calls == READ_POOLED_AND_ROWS  # no row known: no upload, no stack
    assert no_aws.attempted == []
    assert any("a dry run cannot read the table, so its scan answers no rows" in line
               and "--tenant-id ID (TENANT_ID=...)" in line for line in run.out)


def test_deploy_tenants_deploys_every_silo_row_with_its_desired_state(
        no_aws: Connections, packaged_dist: Path) -> None:
    """The release itself, over the dry run's calls, with rows as the table would hold them:
    what each recorded state turns into."""
    running, stopped, requested = "1" * 32, "2" * 32, "3" * 32
    rows = [
        DeploymentRecord(POOLED_DEPLOYMENT, POOLED_STACK_NAME, frozenset({"x"}), "https://p"),
        DeploymentRecord(stopped, stack_name(stopped), frozenset({"p", "o"}), "https://s",
                         status=DeploymentStatus.ACTIVE, desired_state=DesiredState.STOPPED),
        DeploymentRecord(requested, stack_name(requested), frozenset(), "",
                         status=DeploymentStatus.PROVISIONING, desired_state=DesiredState.RUNNING),
        DeploymentRecord(running, stack_name(running), frozenset({"p", "o"}), "https://r",
                         status=DeploymentStatus.ACTIVE, desired_state=DesiredState.RUNNING),
    ]
    templates = PackagedTemplates.in_dist(packaged_dist)
    run = Run(0)
    world = dry_run_world(templates, Target(BUCKET, PREFIX, REGION), run.out.append,
                          pooled_stack_exists=True, deployment_rows=rows)

    release = deploy_tenants(templates.silo, [], world.calls, world.stacks, run.out.append,
                             StackSettings(), AccountChecks(world.calls, REGION, run.out.append))

    assert run.calls == _release_calls(run, len(_artifact_keys(templates.silo)), stacks=3,
                                       created=1, described=2)  # a stopped one reserves none
    assert no_aws.attempted == []
    creates = run.call_lines("cloudformation.create_change_set")
    deployed = {_param(create, "StackName"): (_param(create, "ChangeSetType"),
                                              _parameters(create)[DESIRED_STATE_PARAMETER])
                for create in creates}
    assert deployed == {  # the pooled row is deploy-pooled's; a requested one is created
        stack_name(running): ("UPDATE", "running"),
        stack_name(stopped): ("UPDATE", "stopped"),
        stack_name(requested): ("CREATE", "running"),
    }
    # Creations and updates alike: what a failed operation created is removed on rollback.
    executes = run.call_lines("cloudformation.execute_change_set")
    assert [_param(execute, "RetainExceptOnCreate") for execute in executes] == ["true"] * 3
    assert [(outcome.tenant_id, outcome.desired_state, outcome.result)
            for outcome in release.outcomes] == [
        (running, "running", "deployed"), (stopped, "stopped", "deployed"),
        (requested, "running", "deployed")]
    assert release.failures == []


def test_the_silo_template_takes_the_rows_desired_states(packaged_dist: Path) -> None:
    declared = _template(PackagedTemplates.in_dist(packaged_dist).silo)["Parameters"]
    assert declared[DESIRED_STATE_PARAMETER]["AllowedValues"] == [DesiredState.RUNNING,
                                                                  DesiredState.STOPPED]
