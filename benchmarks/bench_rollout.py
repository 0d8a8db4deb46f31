"""A release over 50 Platinum tenants in 3 waves, by the real deployer against the emulator,
next to today's one-by-one ``deploy-tenants`` under the same deployment times.

Both runs use the real code: the change sets of ``pipeline.deploy.aws.change_sets.Stacks``
against the emulator's CloudFormation (stacks of one SSM parameter that names the release, so
every release is a real update), the rows in its DynamoDB; the rollout through
``pipeline.rollout`` with ``AwsDeployer``, the baseline through ``deploy_tenants``. What the
emulator cannot give is a stack's real duration (it completes at once), so every stack is
reported in progress for ``STACK_SECONDS`` simulated seconds after its change set runs, and
the deployer's clock and sleep are simulated: ``SCALE`` simulated seconds pass per real second,
so a 5-minute canary takes half a second here. The emulator's own time counts too (scaled): it
is the deployer's real overhead.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.aws_rollout import AwsDeployer, CallsRecorder
from pipeline.deploy.aws.calls import Answer, AwsCalls, Boto3Calls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.deploy_tenants import deploy_tenants, recorded_state
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.local_cloud.local_platform import emulator_session
from pipeline.local_cloud.provisioning.baseline_bootstrap import ensure_tables
from pipeline.rollout.release_plan import plan_rollout
from pipeline.rollout.rollout import Rollout, RolloutSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.config import Env
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments, ReleaseSettings, stack_name
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.support.moto_server import running_emulator
from tests.support.plain_stacks import pooled_stack, silo_stack

TENANTS = 50
WAVES = {1: 5, 2: 15}  # wave -> tenants; the other 30 are in the last wave
MAX_CONCURRENCY = 10
STACK_SECONDS = 300.0  # simulated: a canary of 5 minutes
SCALE = 600.0  # simulated seconds per real second
POLL_SECONDS = 5.0  # simulated, as the deployer polls CloudFormation


def clock() -> float:
    return time.monotonic() * SCALE


def sleep(seconds: float) -> None:
    time.sleep(seconds / SCALE)


class TimedCloudFormation:
    """The emulator's answers, except that a stack whose change set was executed less than
    ``STACK_SECONDS`` ago is still in progress (and its change set still executing)."""

    def __init__(self, calls: AwsCalls) -> None:
        self._calls = calls
        self._busy_until: dict[str, float] = {}

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        answer = self._calls.call(service, operation, **params)
        name = params.get("StackName", "")
        if service != "cloudformation":
            return answer
        if operation == "execute_change_set":
            self._busy_until[name] = clock() + STACK_SECONDS
        elif clock() < self._busy_until.get(name, 0.0):
            if operation == "describe_stacks":
                answer["Stacks"][0]["StackStatus"] = "UPDATE_IN_PROGRESS"
            elif operation == "describe_change_set":
                answer["ExecutionStatus"] = "EXECUTE_IN_PROGRESS"
        return answer


def main() -> None:
    with running_emulator() as url, tempfile.TemporaryDirectory() as folder:
        os.environ.update({Env.AWS_ENDPOINT_URL: url, Env.AWS_DEFAULT_REGION: "us-east-1",
                           Env.AWS_ACCESS_KEY_ID: "local", Env.AWS_SECRET_ACCESS_KEY: "local"})
        session = emulator_session()
        dynamodb = session.client("dynamodb", endpoint_url=url)
        ensure_tables(dynamodb, [TENANT_STACK_MAPPING_TABLE])
        session.client("s3", endpoint_url=url).create_bucket(Bucket="bench")
        deployments = Deployments(dynamodb, TENANT_STACK_MAPPING_TABLE.name)
        real = Boto3Calls(session)
        timed = TimedCloudFormation(real)
        quiet: list[str] = []
        bucket = DeploymentBucket(timed, "bench", "bench", "us-east-1", quiet.append)
        stacks = Stacks(timed, bucket, quiet.append, sleep=sleep, clock=clock,
                        poll_seconds=POLL_SECONDS)
        dynamodb.put_item(TableName=TENANT_STACK_MAPPING_TABLE.name,
                          Item={"tenantId": {"S": POOLED_DEPLOYMENT},
                                "stackName": {"S": POOLED_STACK_NAME}})
        tenants = [secrets.token_hex(16) for _ in range(TENANTS)]
        waves = [wave for wave, count in WAVES.items() for _ in range(count)]
        for index, tenant_id in enumerate(tenants):
            deployments.request(tenant_id)
            deployments.record_active(tenant_id, frozenset({"api"}), "https://bench")
            if index < len(waves):
                deployments.set_release_settings(tenant_id, ReleaseSettings(wave=waves[index]))
        # Release r0 creates every stack, untimed: both timed runs below are updates. (Created
        # directly: the emulator keeps no outputs of a stack created by a change set.)
        cloudformation = session.client("cloudformation", endpoint_url=url)
        cloudformation.create_stack(StackName=POOLED_STACK_NAME, TemplateBody=json.dumps(
            pooled_stack("r0")))
        for tenant_id in tenants:
            cloudformation.create_stack(StackName=stack_name(tenant_id), TemplateBody=json.dumps(
                silo_stack("r0")))

        plan = plan_rollout(deployments.all(), "r1")
        deployer = AwsDeployer(stacks, pooled_stack("r1"),
                               silo_stack("r1"), StackSettings(),
                               recorded_state, RowClaims(real))
        started = clock()
        report = Rollout(deployer, CallsRecorder(real), quiet.append,
                         RolloutSettings(max_concurrency=MAX_CONCURRENCY),
                         clock=clock).run(plan)
        rollout_seconds = clock() - started
        if report.stopped or len(report.outcomes) != TENANTS + 1:
            raise RuntimeError(f"the rollout did not deploy every stack: {report.stopped}")

        silo_file = Path(folder) / "silo.json"
        silo_file.write_text(json.dumps(silo_stack("r2")))
        started = clock()
        sequential = deploy_tenants(silo_file, (), timed, stacks, quiet.append, StackSettings(),
                                    AccountChecks(timed, "us-east-1", quiet.append))
        sequential_seconds = clock() - started
        if sequential.failures or len(sequential.outcomes) != TENANTS:
            raise RuntimeError(f"deploy-tenants did not deploy every stack: "
                               f"{sequential.failure_message()}")

    print(f"Rollout of one release over {TENANTS} Platinum stacks (+ the pooled one), "
          f"{STACK_SECONDS:.0f} s per stack (simulated), against the emulator:")
    print(f"  waves: pooled, then {', '.join(f'{len(wave.targets)}' for wave in plan.waves)} "
          f"stacks; up to {MAX_CONCURRENCY} at once")
    print(f"  rollout (pooled + {len(plan.waves)} waves)          "
          f"{rollout_seconds / 60:7.1f} min simulated")
    print(f"  make deploy-tenants, one by one       {sequential_seconds / 60:7.1f} min simulated"
          f"   (Platinum only, no pooled stack)")
    rounds = 1 + sum(math.ceil(len(wave.targets) / MAX_CONCURRENCY) for wave in plan.waves)
    print(f"  speed-up                              {sequential_seconds / rollout_seconds:7.1f}x"
          f"   (ideal: {TENANTS / rounds:.1f}x: {rounds} rounds of {STACK_SECONDS:.0f} s "
          f"against {TENANTS}, with no overhead)")
    print(f"  (every stack took {STACK_SECONDS:.0f} s; simulated time runs {SCALE:.0f}x real, "
          f"so the emulator's own latency counts {SCALE:.0f}x too)")


if __name__ == "__main__":
    main()
