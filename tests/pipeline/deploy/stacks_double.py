"""A double of the CloudFormation part of ``Stacks`` for releases: the real uploads, the
stacks' deployments recorded (the emulator cannot run the SAM transform of the real templates)
and failed on demand, as a stack that rolled back fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Deployed, Outputs, Stacks
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.onboard_tenant import SILO_PARAMETERS_FROM_POOLED, TENANT_API_OUTPUT
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.deployments import stack_name

Parameters = dict[str, str]


@dataclass
class CloudFormation:
    """What the double was asked to deploy, and which stacks it fails (as a stack that rolled
    back fails)."""

    failing: set[str] = field(default_factory=set)
    deployed: list[tuple[str, Parameters]] = field(default_factory=list)

    def stacks(self, calls: AwsCalls, bucket: DeploymentBucket, out: Out,
               timeout_seconds: float) -> Stacks:
        return RecordingStacks(calls, bucket, out, self)

    def of(self, tenant_id: str) -> list[Parameters]:
        return [parameters for name, parameters in self.deployed
                if name == stack_name(tenant_id)]


class RecordingStacks(Stacks):
    """The real uploads (``uploaded``), a double for the CloudFormation calls."""

    def __init__(self, calls: AwsCalls, bucket: DeploymentBucket, out: Out,
                 cloudformation: CloudFormation) -> None:
        super().__init__(calls, bucket, out)
        self._bucket_name = bucket.name
        self._cloudformation = cloudformation

    def outputs(self, name: str) -> Outputs:
        assert name == POOLED_STACK_NAME
        return Outputs(name, {output: f"arn:pooled:{output}"
                              for output in SILO_PARAMETERS_FROM_POOLED.values()})

    def current_parameters(self, name: str) -> dict[str, str] | None:
        """Every tenant's stack exists in the double (a release updates it), so no account
        read is made: the emulator has no Lambda account settings
        (``test_failures`` checks a release that creates stacks)."""
        return {}

    def deploy(self, name: str, template: dict[str, Any],
               parameters: Mapping[str, str]) -> Deployed:
        code = {resource["Properties"]["CodeUri"] for resource in template["Resources"].values()
                if resource["Type"] == "AWS::Serverless::Function"}
        assert code  # the one upload's template, naming the zips in the bucket
        assert all(uri.startswith(f"s3://{self._bucket_name}/") for uri in code)
        self._cloudformation.deployed.append((name, dict(parameters)))
        if name in self._cloudformation.failing:
            raise DeployError(f"stack {name} ended UPDATE_ROLLBACK_COMPLETE: "
                              f"ProductAPIHandler: Resource limit exceeded")
        return Deployed(Outputs(name, {TENANT_API_OUTPUT: f"https://{name}.example"}),
                        changed=True)
