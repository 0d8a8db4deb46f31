"""``make deploy-tenants TARGET=aws``: every Platinum tenant's own stack brought to what the
control plane recorded.

The tenant-stack-mapping table is the hand-off (``tenant_context.platform.deployments``):
registration writes a tenant's row, deactivation and activation set its ``desiredState``. Locally
the platform's provisioner follows the rows by itself; in AWS nothing watches them, so this is the
step that acts on them, and the release step for Platinum tenants at once: each tenant's stack is
deployed from the current silo template with ``DesiredState`` from its row. A deactivated tenant's
functions then get no concurrency (its services stop, its tables stay); an activated one's get it
back; and new code reaches every silo through each stack's own canary.

One tenant's failure must not hold back the others (a release would otherwise stop at the
first broken stack, and a deactivation behind it would never take effect), so every tenant is
tried and every failure is reported at the end. What cannot be right for anyone (no pooled
stack, an unknown tenant id, an upload) stops the run before any tenant's stack is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Deployed, Outputs
from pipeline.deploy.aws.console import Out, Summary
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.onboard_tenant import TENANT_API_OUTPUT, silo_parameters
from pipeline.deploy.aws.row_claims import RowClaims
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.attribute_values import from_item
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import DeploymentRecord, DesiredState
from tenant_context.tenancy import POOLED_DEPLOYMENT

DESIRED_STATE_PARAMETER = "DesiredState"  # the silo template's; its values are the rows' own
# What a row's desired state is passed as (a dry run shows a placeholder instead).
StateOf = Callable[[DeploymentRecord], str]


class Result(StrEnum):
    DEPLOYED = "deployed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


def recorded_state(row: DeploymentRecord) -> str:
    """The row's desired state, one of the silo template's ``DesiredState`` values."""
    return row.desired_state.value

_COLUMNS = ("stack", "desired", "result", "tenant API")


class SiloStacks(Protocol):
    """The CloudFormation part (``pipeline.deploy.aws.change_sets.Stacks``): one upload of the silo
    template's artifacts, then one deployment per tenant."""

    def outputs(self, name: str) -> Outputs: ...

    def current_parameters(self, name: str) -> Mapping[str, str] | None: ...

    def uploaded(self, template_file: Path) -> dict[str, Any]: ...

    def deploy(self, name: str, template: dict[str, Any],
               parameters: Mapping[str, str]) -> Deployed: ...


def recorded_deployments(calls: AwsCalls,
                         table: str = TENANT_STACK_MAPPING_TABLE.name) -> list[DeploymentRecord]:
    """Every row, every page. Read consistently: a deactivation made just before the run must
    be what the run deploys."""
    rows: list[DeploymentRecord] = []
    start: dict[str, Any] = {}
    while True:
        answer = calls.call("dynamodb", "scan", TableName=table, ConsistentRead=True, **start)
        rows += [DeploymentRecord.from_item(from_item(item)) for item in answer.get("Items", [])]
        if not answer.get("LastEvaluatedKey"):
            return rows
        start = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}


def silo_rows(rows: Sequence[DeploymentRecord],
              tenant_ids: Sequence[str] = ()) -> list[DeploymentRecord]:
    """The Platinum tenants' rows (the ``pooled`` row is ``make deploy-pooled``'s), or only the
    named ones, in the order named. An id without a row is refused as a whole: a mistyped id
    must not pass for "done" while the other tenants are deployed."""
    silos = {row.deployment_id: row for row in rows if row.deployment_id != POOLED_DEPLOYMENT}
    if not tenant_ids:
        return [silos[tenant_id] for tenant_id in sorted(silos)]
    unknown = [tenant_id for tenant_id in tenant_ids if tenant_id not in silos]
    if unknown:
        raise DeployError(f"no Platinum deployment recorded for tenant "
                          f"{', '.join(unknown)} in {TENANT_STACK_MAPPING_TABLE.name} (nothing "
                          f"was deployed; a pooled tier's tenant has no stack of its own)")
    return [silos[tenant_id] for tenant_id in dict.fromkeys(tenant_ids)]


@dataclass(frozen=True)
class TenantOutcome:
    tenant_id: str
    stack: str
    desired_state: str
    result: Result
    tenant_api: str = "-"
    reason: str = ""


@dataclass(frozen=True)
class Release:
    outcomes: list[TenantOutcome]

    @property
    def failures(self) -> list[TenantOutcome]:
        return [outcome for outcome in self.outcomes if outcome.result is Result.FAILED]

    def failure_message(self) -> str:
        """The run's one error line: every failed tenant with its reason."""
        return (f"{len(self.failures)} of {len(self.outcomes)} Platinum tenant stacks failed: "
                + "; ".join(f"{failure.stack}: {failure.reason}" for failure in self.failures))

    def summary(self) -> Summary:
        if not self.outcomes:
            return Summary(f"No Platinum tenant is recorded in {TENANT_STACK_MAPPING_TABLE.name}"
                           f": no stack to deploy.")
        counts = {result: sum(outcome.result is result for outcome in self.outcomes)
                  for result in Result}
        summary = Summary(f"Platinum tenants' stacks: "
                          f"{', '.join(f'{count} {result}' for result, count in counts.items())}:")
        cells = [(outcome.stack, outcome.desired_state, outcome.result.value, outcome.tenant_api)
                 for outcome in self.outcomes]
        widths = [max(len(row[column]) for row in [_COLUMNS, *cells]) for column in range(3)]

        def aligned(row: tuple[str, str, str, str]) -> str:
            *padded, last = row
            return "  ".join([*(cell.ljust(width) for cell, width
                                in zip(padded, widths, strict=True)), last])

        summary.row("tenant id", aligned(_COLUMNS))
        for outcome, row in zip(self.outcomes, cells, strict=True):
            summary.row(outcome.tenant_id, aligned(row))
        return summary


def deploy_tenants(silo_template: Path, tenant_ids: Sequence[str], calls: AwsCalls,
                   stacks: SiloStacks, out: Out, settings: StackSettings,
                   account: AccountChecks, state_of: StateOf = recorded_state) -> Release:
    """Everything shared is read and checked first (pooled outputs, rows, the named ids), so a
    mistake there costs no upload and touches no tenant; then each tenant on its own."""
    pooled = stacks.outputs(POOLED_STACK_NAME)
    out(f"Reading the Platinum tenants' deployments from {TENANT_STACK_MAPPING_TABLE.name} ...")
    rows = silo_rows(recorded_deployments(calls), tenant_ids)
    # Every parameter before any deployment: a pooled stack without an output fails once.
    parameters = {row.deployment_id: {**silo_parameters(row.deployment_id, pooled, settings),
                                      DESIRED_STATE_PARAMETER: state_of(row)}
                  for row in rows}
    out(f"  {len(rows)} Platinum tenant stack{'' if len(rows) == 1 else 's'} to deploy")
    if not rows:
        return Release([])
    # A stack created running reserves its concurrency; an existing one keeps what it has.
    account.silo_concurrency(new_silos=sum(
        1 for row in rows if state_of(row) != DesiredState.STOPPED.value
        and stacks.current_parameters(stack_name(row.deployment_id)) is None))
    template = stacks.uploaded(silo_template)
    outcomes = []
    for number, row in enumerate(rows, start=1):
        tenant_id, name = row.deployment_id, stack_name(row.deployment_id)
        state = state_of(row)
        out(f"[{number}/{len(rows)}] tenant {tenant_id}: {name}, DesiredState={state} "
            f"(recorded {row.status})")
        try:
            with RowClaims(calls).held(tenant_id):  # never alongside the tenant pipeline
                deployed = stacks.deploy(name, template, parameters[tenant_id])
            outcome = TenantOutcome(tenant_id, name, state,
                                    Result.DEPLOYED if deployed.changed else Result.UNCHANGED,
                                    deployed.outputs[TENANT_API_OUTPUT])
        except (DeployError, ClientError, BotoCoreError) as error:
            reason = " ".join(str(error).split())
            out(f"  {name}: FAILED: {reason} (going on with the other tenants)")
            outcome = TenantOutcome(tenant_id, name, state, Result.FAILED, reason=reason)
        outcomes.append(outcome)
    return Release(outcomes)
