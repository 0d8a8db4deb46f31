"""``make release TARGET=aws VIA=here`` (``python -m pipeline.release rollout --target aws
--from-here``) for real against the emulator: the rows are the session's tenant-stack-mapping
table, the uploads real; only CloudFormation's part is the double of ``stacks_double`` (the SAM
templates cannot run in the emulator). The pooled stack goes first, then the waves; a failed
stack stops the rollout and every finished stack's row says what it runs. A dry run needs no
credentials; handing a release to the pipeline is one upload."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import boto3
import pytest

from pipeline.deploy.aws.calls import DRY_RUN
from pipeline.deploy.cli import Tools as DeployTools
from pipeline.deploy.local.local_release import ReleaseError
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.release.cli import Tools, main
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings, stack_name
from tests.pipeline.deploy.conftest import Connections
from tests.pipeline.deploy.stacks_double import CloudFormation
from tests.support.moto_server import REGION


class Run:
    def __init__(self, cloudformation: CloudFormation, *, from_here: bool = True) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.cloudformation = cloudformation
        self.how = ["--from-here"] if from_here else []

    def __call__(self, *argv: str) -> int:
        def refuse(*args: object) -> list[Path]:
            raise ReleaseError(f"packaging was asked for: {args}")

        deploy = DeployTools(package=refuse, stacks=self.cloudformation.stacks,
                             err=lambda line: print(line, file=self.err))
        return main(["rollout", "--target", "aws", "--region", REGION, *self.how, *argv],
                     Tools(self.out, self.err, release_id=lambda root: "from-git",
                           deploy=deploy))

    @property
    def stacks(self) -> list[str]:
        return [name for name, _ in self.cloudformation.deployed]


@pytest.fixture
def deployments(baseline: BaselineResult) -> Deployments:
    return Deployments(boto3.client("dynamodb"), TENANT_STACK_MAPPING_TABLE.name)


def platinum(deployments: Deployments, wave: int | None = None) -> str:
    tenant_id = secrets.token_hex(16)
    deployments.request(tenant_id)
    deployments.record_active(tenant_id, frozenset({"api"}), f"https://{tenant_id}.example")
    if wave is not None:
        deployments.set_release_settings(tenant_id, ReleaseSettings(wave=wave))
    return tenant_id


def release_of(deployments: Deployments, tenant_id: str) -> tuple[str, str]:
    row = deployments.get(tenant_id)
    assert row is not None
    return row.release.release_id, row.release.result.value if row.release.result else ""


def test_a_release_reaches_pooled_then_the_waves_and_stops_at_a_failed_stack(
        deployments: Deployments, bucket_name: str, packaged_dist: Path) -> None:
    # Wave numbers of their own: other tests' rows share the table (and the last wave).
    first, failing = sorted(platinum(deployments, 61) for _ in range(2))  # a wave's order
    never = platinum(deployments, 62)
    pinned = platinum(deployments, 61)
    deployments.set_release_settings(pinned, ReleaseSettings(apply_latest_release=False))
    cloudformation = CloudFormation(failing={stack_name(failing)})
    release = f"rel-{secrets.token_hex(4)}"
    run = Run(cloudformation)

    code = run("--bucket", bucket_name, "--dist", str(packaged_dist), "--release-id", release,
               "--max-concurrency", "1")

    assert code == 1, run.err.getvalue()
    assert run.stacks[0] == POOLED_STACK_NAME
    assert stack_name(failing) in run.stacks
    assert stack_name(never) not in run.stacks  # wave 62 never started
    assert stack_name(pinned) not in run.stacks
    assert release_of(deployments, failing) == ("", "failed")
    assert release_of(deployments, never) == ("", "")
    assert release_of(deployments, first) == (release, "deployed")
    out = run.out.getvalue()
    assert f"Release {release}:" in out
    assert "STOPPED: 1 stack failed (tolerated: 0); wave 61 stopped" in out
    assert "Resource limit exceeded" in out
    assert run.err.getvalue().strip() == "The rollout stopped"
    silo_parameters = dict(cloudformation.of(failing)[0])
    assert silo_parameters["TenantId"] == failing
    assert silo_parameters["DesiredState"] == "running"
    assert silo_parameters["LayerArn"] == "arn:pooled:TenantContextLayerArn"


def test_a_dry_run_prints_the_plan_and_every_call_and_needs_no_credentials(
        no_aws: Connections, packaged_dist: Path) -> None:
    tenant = secrets.token_hex(16)
    run = Run(CloudFormation())
    code = run("--bucket", "releases", "--dist", str(packaged_dist), "--dry-run",
               "--tenant-id", tenant)
    out = run.out.getvalue()
    assert code == 0, run.err.getvalue() + out
    assert no_aws.attempted == []
    assert "Release from-git:" in out  # the id from git, as a real run would take it
    assert f"wave 1   1 stack: {stack_name(tenant)}" in out
    records = [line for line in out.splitlines()
               if line.startswith(f"{DRY_RUN} dynamodb.update_item ") and "releasedAt" in line]
    assert len(records) == 2  # the pooled row and the tenant's, each after its stack
    assert "releaseId = :release" in records[1]


@pytest.mark.parametrize(("argv", "said"), [
    (["--bucket", "b", "--dist", "/nowhere"], "--dist /nowhere: no "),
    (["--dist", "/nowhere"], "missing --bucket"),
    (["--bucket", "b", "--release-id", "no spaces allowed"], "release id 'no spaces allowed'"),
    (["--bucket", "b", "--max-concurrency", "0"], "at least 1"),
])
def test_what_cannot_work_is_said_before_any_stack_is_touched(
        no_aws: Connections, argv: list[str], said: str) -> None:
    cloudformation = CloudFormation()
    run = Run(cloudformation)
    assert run(*argv, "--dry-run") == 2
    assert said in run.err.getvalue()
    assert cloudformation.deployed == []
    assert run.out.getvalue() == ""


def test_a_release_handed_to_the_pipeline_is_one_upload_and_needs_no_bucket(
        no_aws: Connections) -> None:
    run = Run(CloudFormation(), from_here=False)
    tenant = secrets.token_hex(16)
    assert run("--dry-run", "--release-id", "abc123", "--tenant-id", tenant) == 0, \
        run.err.getvalue()
    out = run.out.getvalue()
    assert f"wave 1   1 stack: {stack_name(tenant)}" in out  # the plan it would roll out
    (upload,) = [line for line in out.splitlines() if line.startswith(f"{DRY_RUN} s3.")]
    assert upload.startswith(f"{DRY_RUN} s3.put_object Bucket=<serverless-saas-tenant-pipeline"
                             f".ReleaseBucketName> Key=source/abc123.zip Body=<")
    assert "is the tenant pipeline's now" in out
    assert no_aws.attempted == []
