"""The aws target's deployer for a rollout: CloudFormation change sets (``change_sets.Stacks``),
one stack per deployment, each through its own canary.

The pooled stack is deployed with the parameters it was last deployed with (its SystemAdmin's
email among them) and the run's stack settings; a Platinum tenant's stack with the pooled
stack's current outputs (the layer version the pooled deployment now runs) and its row's
desired state, exactly as ``make deploy-tenants`` and onboarding deploy it. Each stack's row
is claimed while it is deployed (``row_claims``: never alongside the tenant pipeline). A stack
that fails (a change set refused, a rollback, a canary's alarm, a stack stuck past the
timeout, a row someone else holds) is a ``StackFailure`` with CloudFormation's reasons: the
runner records it and decides whether the rollout goes on. Rows are recorded through the run's
calls, so a dry run prints them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Deployed, Outputs
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.deploy_tenants import DESIRED_STATE_PARAMETER, StateOf
from pipeline.deploy.aws.onboard_tenant import silo_parameters
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.rollout.release_plan import Target
from pipeline.rollout.rollout import StackFailure
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import release_update
from tenant_context.platform.tenant_records import ReleaseResult
from tenant_context.tenancy import POOLED_DEPLOYMENT


class ReleaseStacks(Protocol):
    def outputs(self, name: str) -> Outputs: ...

    def current_parameters(self, name: str) -> Mapping[str, str] | None: ...

    def deploy(self, name: str, template: dict[str, Any],
               parameters: Mapping[str, str]) -> Deployed: ...


class AwsDeployer:
    def __init__(self, stacks: ReleaseStacks, pooled_template: dict[str, Any],
                 silo_template: dict[str, Any], settings: StackSettings,
                 state_of: StateOf, claims: RowClaims) -> None:
        """Templates already uploaded (``Stacks.uploaded``): one upload per release."""
        self._stacks = stacks
        self._claims = claims
        self._pooled_template = pooled_template
        self._silo_template = silo_template
        self._settings = settings
        self._state_of = state_of

    def deploy(self, target: Target, release_id: str) -> ReleaseResult:
        try:
            with self._claims.held(target.deployment_id):
                if target.deployment_id == POOLED_DEPLOYMENT:
                    deployed = self._stacks.deploy(POOLED_STACK_NAME, self._pooled_template,
                                                   self._pooled_parameters())
                else:
                    deployed = self._stacks.deploy(target.stack, self._silo_template, {
                        **silo_parameters(target.deployment_id,
                                          self._stacks.outputs(POOLED_STACK_NAME),
                                          self._settings),
                        DESIRED_STATE_PARAMETER: self._state_of(target.row)})
        except (DeployError, ClientError, BotoCoreError) as error:
            raise StackFailure(str(error)) from error
        return ReleaseResult.DEPLOYED if deployed.changed else ReleaseResult.UNCHANGED

    def _pooled_parameters(self) -> dict[str, str]:
        return pooled_release_parameters(self._stacks, self._pooled_template, self._settings)


def pooled_release_parameters(stacks: ReleaseStacks, template: dict[str, Any],
                              settings: StackSettings) -> dict[str, str]:
    """The pooled stack's parameters for a release: those it was last deployed with that the
    release's template still takes, and the settings every stack takes; its own choices (its
    API Gateway role, its SystemAdmin's email) stay as deployed: a release is not the place
    to change them."""
    current = stacks.current_parameters(POOLED_STACK_NAME)
    if current is None:
        raise DeployError(f"stack {POOLED_STACK_NAME} does not exist: a release updates the "
                          f"platform; make deploy-pooled TARGET=aws creates it")
    known = template.get("Parameters", {})
    return {**{key: value for key, value in current.items() if key in known},
            **settings.silo_parameters()}


class CallsRecorder:
    """Each stack's outcome on its row, through the run's calls (printed by a dry run)."""

    def __init__(self, calls: AwsCalls, table: str = TENANT_STACK_MAPPING_TABLE.name) -> None:
        self._calls = calls
        self._table = table

    def record_release(self, deployment_id: str, release_id: str, result: ReleaseResult,
                       at: str, reason: str = "") -> None:
        self._calls.call("dynamodb", "update_item", **release_update(
            self._table, deployment_id, release_id, result, at, reason))
