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

from pipeline.aws.artifacts import relative_artifacts
from pipeline.aws.packaged import PackagedTemplates
from pipeline.aws.placeholders import TENANT_ID, placeholder
from pipeline.aws.tenants import SILO_PARAMETERS_FROM_POOLED
from pipeline.baseline import POOLED_STACK_NAME
from tenant_context.deployments import stack_name
from tests.deploy.conftest import Cli, Connections, Run

BUCKET, REGION, PREFIX = "deploy-artifacts", "eu-west-1", "serverless-saas"
AWS = ["--target", "aws", "--bucket", BUCKET, "--region", REGION, "--dry-run"]
UPLOAD = ["s3.list_objects_v2", "s3.put_object"]
EXISTS = ["cloudformation.describe_stacks"]  # exists? (no: CREATE); then the template
CHANGE_SET_DEPLOY = [
    "cloudformation.create_change_set",
    "cloudformation.describe_change_set",    # ready, or nothing to change
    "cloudformation.describe_stack_events",  # the events before ours
    "cloudformation.execute_change_set",
    "cloudformation.describe_stacks",        # status (complete) and outputs
    "cloudformation.describe_stack_events",  # what happened, printed
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
    assert len(artifacts) == 5  # authorizer, layer, admin, product, order: each once
    assert run.calls == (UPLOAD * len(artifacts) + EXISTS + _template_uploads(run)
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
        {"ParameterKey": "AdminEmail", "ParameterValue": "ops@example.com"}]
    assert _param(create, "TemplateURL") == (
        f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{puts[-1]}")  # the template just uploaded
    assert _row(run, "admin API") == placeholder(POOLED_STACK_NAME, "AdminApiUrl")
    assert _row(run, "stack") == POOLED_STACK_NAME


def test_onboard_platinum_dry_run_registers_then_deploys_its_stack(
        cli: Cli, no_aws: Connections, packaged_dist: Path) -> None:
    run = cli(["tenant", *AWS, "--name", "Acme Widgets", "--email", "owner@acme.example",
               "--tier", "platinum", "--dist", str(packaged_dist)])

    assert (run.code, run.err) == (0, [])
    silo = PackagedTemplates.in_dist(packaged_dist).silo
    artifacts = _artifact_keys(silo)
    assert len(artifacts) == 2  # product, order
    assert run.calls == [
        "cloudformation.describe_stacks",  # the pooled stack's outputs
        "POST",
        *UPLOAD * len(artifacts), *EXISTS, *_template_uploads(run), *CHANGE_SET_DEPLOY,
        "GET",
    ]
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
                         for parameter, output in SILO_PARAMETERS_FROM_POOLED.items()}}
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
    assert run.calls == ["cloudformation.describe_stacks", "POST", "GET"]
    assert no_aws.attempted == []
    assert f'"tenantTier":"{tier.capitalize()}"' in run.call_lines("POST")[0]
