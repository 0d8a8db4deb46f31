"""``make deploy-pipeline``: locally there is nothing to deploy (the platform's provisioner and
``make release`` are the pipeline); on aws a dry run shows the pipeline's stack deployed from the
pooled stack's outputs, with every call printed and none made."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.deploy.aws.calls import DRY_RUN
from pipeline.packaging.tenant_pipeline_package import package_tenant_pipeline
from tests.pipeline.deploy.conftest import Cli, Connections


@pytest.fixture
def dist(packaged_dist: Path, tmp_path: Path) -> Path:
    """The session's package, with the pipeline's stack beside it."""
    for deployment in ("pooled", "silo"):
        (tmp_path / "cloudformation").mkdir(exist_ok=True)
        (tmp_path / "cloudformation" / deployment).symlink_to(
            packaged_dist / "cloudformation" / deployment)
    package_tenant_pipeline(tmp_path)
    return tmp_path


def test_locally_there_is_nothing_to_deploy(cli: Cli) -> None:
    run = cli(["pipeline"])
    assert run.code == 0
    assert "nothing to deploy" in run.out[0]


def test_a_dry_run_deploys_it_from_the_pooled_stacks_outputs(
        cli: Cli, no_aws: Connections, dist: Path) -> None:
    run = cli(["pipeline", "--target", "aws", "--bucket", "artifacts", "--region", "eu-west-1",
               "--dist", str(dist), "--dry-run", "--max-concurrency", "8", "--approve-waves"],
              release_id=lambda root: "abc123def456")
    assert (run.code, run.err) == (0, []), run.out
    assert no_aws.attempted == []
    (change_set,) = run.call_lines("cloudformation.create_change_set")
    assert "StackName=serverless-saas-tenant-pipeline" in change_set
    for parameter in ('"ParameterKey":"TenantStackMappingStreamArn","ParameterValue":'
                      '"<stack-pooled.TenantStackMappingStreamArn>"',
                      '"ParameterKey":"LayerArn","ParameterValue":'
                      '"<stack-pooled.TenantContextLayerArn>"',
                      # The platform's pools, which an offboarding may never delete.
                      '"ParameterKey":"OperationsUserPoolId","ParameterValue":'
                      '"<stack-pooled.OperationsUserPoolId>"',
                      '"ParameterKey":"PooledTenantUserPoolId","ParameterValue":'
                      '"<stack-pooled.PooledTenantUserPoolId>"',
                      '"ParameterKey":"MaxConcurrency","ParameterValue":"8"',
                      '"ParameterKey":"ApproveWaves","ParameterValue":"true"'):
        assert parameter in change_set, change_set
    assert any(line.startswith(f"{DRY_RUN} s3.put_object") and ".zip" in line
               for line in run.out)  # the functions' zip
    assert "Tenant pipeline is up:" in run.out
    # Then the working tree's release is published there: a first sign-up's release.
    (manifest,) = [line for line in run.call_lines("s3.put_object")
                   if "Key=releases/abc123def456/release.json" in line]
    assert "Bucket=<serverless-saas-tenant-pipeline.ReleaseBucketName>" in manifest
    assert any(line.strip().startswith("published") and "abc123def456" in line
               for line in run.out)


@pytest.mark.parametrize(("argv", "said"), [
    (["--repository-url", "https://github.com/o/r"], "go together"),
    (["--max-concurrency", "0"], "at least 1"),
])
def test_settings_that_cannot_work_are_refused(cli: Cli, argv: list[str], said: str) -> None:
    run = cli(["pipeline", "--target", "aws", "--bucket", "b", "--dry-run", *argv])
    assert run.code == 2
    assert said in run.err[0]
