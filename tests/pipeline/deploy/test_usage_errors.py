"""What is missing is said before anything is done: exit code 2, one message naming the problem
(and its make variable), no packaging, no local module, no connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.deploy.cli import main
from tests.pipeline.deploy.conftest import Cli, Connections

AWS = ["--target", "aws", "--bucket", "artifacts", "--region", "eu-west-1"]
TENANT = ["--name", "Acme", "--email", "owner@acme.example"]


@pytest.mark.parametrize(("argv", "message"), [
    (["pooled", "--target", "aws", "--region", "eu-west-1", "--admin-email", "a@example.com",
      "--dry-run"], "missing --bucket (BUCKET=...)"),
    (["tenant", "--target", "aws", "--region", "eu-west-1", *TENANT, "--tier", "Basic"],
     "missing --bucket (BUCKET=...)"),
    (["pooled", *AWS, "--admin-email", "a@example.com"], "no AWS credentials found"),
    (["tenant", *AWS, *TENANT, "--tier", "Platinum"], "no AWS credentials found"),
    (["pooled", *AWS, "--dry-run"], "missing --admin-email (ADMIN_EMAIL=...)"),
    (["pooled", "--target", "aws", "--bucket", "artifacts", "--admin-email", "a@example.com",
      "--dry-run"], "no AWS region: pass --region (REGION=...)"),
    (["tenant", *AWS, *TENANT, "--dry-run"], "missing --tier (TIER=...)"),
    (["tenant", *TENANT], "missing --tier (TIER=...)"),  # the local target too
    (["tenant", "--tier", "Basic"], "missing --name (NAME=...), --email (EMAIL=...)"),
    (["tenant", *TENANT, "--tier", "Gold"], "unknown tier 'Gold'"),
    (["tenant", *TENANT, "--tier", "Basic", "--dry-run"], "--dry-run (DRY_RUN=1) is for"),
    (["tenants", "--target", "aws", "--region", "eu-west-1", "--dry-run"],
     "missing --bucket (BUCKET=...)"),
    (["tenants", *AWS], "no AWS credentials found"),
    (["tenants", *AWS, "--dry-run", "--tenant-id", "pooled"],
     "--tenant-id 'pooled' is not a tenant id (32 hex characters, as the registration "
     "answered): the pooled deployment is make deploy-pooled's"),
    (["tenants", *AWS, "--dry-run", "--tenant-id", "a" * 32, "--tenant-id", "Acme"],
     "--tenant-id 'Acme' is not a tenant id"),
    (["tenants", "--dry-run"], "--dry-run (DRY_RUN=1) is for"),
    (["pooled", *AWS, "--admin-email", "a@example.com", "--dry-run", "--log-retention-days",
      "8"], "--log-retention-days 8 (LOG_RETENTION_DAYS): one of CloudWatch's 1, 3, 5, 7, 14"),
    (["tenants", *AWS, "--dry-run", "--stack-timeout-minutes", "0"],
     "--stack-timeout-minutes 0 (STACK_TIMEOUT_MINUTES): at least 1"),
])
def test_refused_before_anything_is_done(cli: Cli, no_aws: Connections, argv: list[str],
                                         message: str) -> None:
    run = cli(argv)  # packaging or a local module would fail the test

    assert run.code == 2
    assert run.out == []
    (error,) = run.err
    assert error.startswith("error: ")
    assert message in error
    assert no_aws.attempted == []


def test_every_problem_is_named_at_once(cli: Cli, no_aws: Connections) -> None:
    run = cli(["pooled", "--target", "aws"])

    assert run.code == 2
    assert "missing --bucket" in run.err[0]
    assert "missing --admin-email" in run.err[0]


def test_a_dist_folder_without_templates_is_refused(cli: Cli, no_aws: Connections,
                                                    tmp_path: Path) -> None:
    run = cli(["pooled", *AWS, "--admin-email", "a@example.com", "--dry-run",
               "--dist", str(tmp_path)])

    assert run.code == 2
    assert f"--dist {tmp_path}: no {tmp_path}/cloudformation/pooled/template.json" in run.err[0]


@pytest.mark.parametrize(("argv", "message"), [
    (["pooled", "--target", "gcp"], "argument --target: invalid choice: 'gcp'"),
    (["deploy-everything"], "invalid choice: 'deploy-everything'"),
    ([], "the following arguments are required: command"),
])
def test_an_unknown_target_or_command_is_a_usage_error(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
