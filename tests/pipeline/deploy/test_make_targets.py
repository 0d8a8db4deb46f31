"""The three deploy commands as the README runs them (``make ... TARGET=aws DRY_RUN=1``): the
Makefile's variables reach the CLI (``python -m pipeline.deploy``), which plans every call of a
first deployment without credentials. ``DIST`` reuses the session's package, so nothing is
packaged twice; ``test_dry_run`` checks the calls themselves."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pipeline.project import PROJECT_ROOT
from tenant_context.config import REAL_ACCOUNT_VARIABLES, Env

TENANT_ID = "0123456789abcdef0123456789abcdef"
COMMON = ["TARGET=aws", "BUCKET=deploy-artifacts", "REGION=eu-west-1", "DRY_RUN=1"]


def make(dist: Path, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    unset = {*REAL_ACCOUNT_VARIABLES, Env.AWS_ACCESS_KEY_ID, Env.AWS_SECRET_ACCESS_KEY,
             Env.AWS_ENDPOINT_URL, Env.AWS_DEFAULT_REGION, Env.AWS_REGION}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env |= {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"), Env.AWS_EC2_METADATA_DISABLED: "true"}
    return subprocess.run(["make", "-s", *arguments, *COMMON, f"DIST={dist}"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize(("arguments", "stack"), [
    (("deploy-pooled", "ADMIN_EMAIL=ops@example.com"), "stack-pooled"),
    (("onboard-tenant", "NAME=Acme Widgets", "EMAIL=owner@acme.example", "TIER=Platinum"),
     "stack-<tenantId>"),
    (("deploy-tenants", f"TENANT_ID={TENANT_ID}"), f"stack-{TENANT_ID}"),
], ids=["deploy-pooled", "onboard-tenant", "deploy-tenants"])
def test_a_make_dry_run_plans_its_stack(packaged_dist: Path, tmp_path: Path,
                                        arguments: tuple[str, ...], stack: str) -> None:
    done = make(packaged_dist, tmp_path, *arguments)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[dry-run] cloudformation.create_change_set StackName={stack} " in done.stdout
    assert "(dry run: nothing was deployed)" in done.stdout
