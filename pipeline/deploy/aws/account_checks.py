"""What the account must allow, read before anything is deployed.

A deployment that runs into an account limit fails inside CloudFormation, minutes in, with part
of the stack made and rolled back; a read answers in a second, and its refusal can name the
numbers and the fix. Each check reads through the run's calls, so a dry run prints the read and
a test passes the account it wants (the emulator has neither Lambda's account settings nor API
Gateway's CloudWatch role). The local target has no such limits and checks nothing.
"""

from __future__ import annotations

from typing import Any

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.stacks.silo_template import PARAMETERS as SILO_PARAMETERS
from tenant_context.tenant_services import TENANT_SERVICES

# Lambda refuses a reservation that would leave fewer unreserved concurrent executions.
LAMBDA_MIN_UNRESERVED = 100
# API Gateway's default quota of API keys per account and region (raisable in Service Quotas).
# Every tenant holds one (two for a while after a tier move), the staff one more.
API_KEYS_PER_REGION = 10_000
API_KEYS_WARN_SHARE = 0.8  # past this share of the quota, say so while there is room
_KEYS_PAGE = 500


def silo_reservation(per_function: int | None = None) -> int:
    """Concurrent executions one Platinum tenant's stack reserves: ``ReservedConcurrency`` for
    each of its functions, one per registered tenant service."""
    if per_function is None:
        per_function = int(SILO_PARAMETERS["ReservedConcurrency"]["Default"])
    return per_function * len(TENANT_SERVICES)


class AccountChecks:
    """The reads, through one run's calls, in one region."""

    def __init__(self, calls: AwsCalls, region: str, out: Out) -> None:
        self._calls = calls
        self._region = region
        self._out = out

    def silo_concurrency(self, new_silos: int) -> None:
        """Refuses ``new_silos`` new Platinum stacks the account's unreserved concurrency
        cannot hold (an updated stack keeps the reservation it has)."""
        if new_silos <= 0:
            return
        limit = self._calls.call("lambda", "get_account_settings").get("AccountLimit", {})
        unreserved = _count(limit.get("UnreservedConcurrentExecutions"))
        needed = new_silos * silo_reservation()
        if unreserved is None:  # a dry run learns no figure
            self._out(f"  account: {new_silos} new Platinum stack(s) reserve {needed} concurrent "
                      f"executions; a real run compares them with the account's unreserved ones")
            return
        if unreserved - needed < LAMBDA_MIN_UNRESERVED:
            per = silo_reservation() // len(TENANT_SERVICES)
            raise DeployError(
                f"not enough Lambda concurrency in {self._region}: {new_silos} new Platinum "
                f"stack(s) reserve {needed} concurrent executions ({per} for each of "
                f"{len(TENANT_SERVICES)} functions), the account has {unreserved} unreserved, "
                f"and Lambda keeps {LAMBDA_MIN_UNRESERVED} unreserved; raise the account's quota "
                f"(Service Quotas: Lambda, Concurrent executions) or lower ReservedConcurrency "
                f"in pipeline/stacks/silo_template.py. Nothing was deployed.")
        self._out(f"  account: {unreserved} unreserved concurrent executions in "
                  f"{self._region}, {needed} to reserve: enough")

    def api_keys(self, new_keys: int, quota: int = API_KEYS_PER_REGION) -> None:
        """Refuses to onboard when the region's API keys are used up (registration would
        answer 503 and keep nothing); warns from 80 % on, while there is time to raise it."""
        used, position = 0, None
        while True:
            page = self._calls.call("apigateway", "get_api_keys", limit=_KEYS_PAGE,
                                    **({"position": position} if position else {}))
            if "items" not in page:  # a dry run learns no figure
                self._out(f"  account: {new_keys} new API key(s); a real run counts the "
                          f"region's keys against API Gateway's quota ({quota:,})")
                return
            used += len(page["items"])
            position = page.get("position")
            if not position:
                break
        if used + new_keys > quota:
            raise DeployError(
                f"API Gateway in {self._region} holds {used:,} API keys of the account's "
                f"{quota:,}: every tenant needs one of its own, so registration would be "
                f"refused. Raise the quota (Service Quotas: API Gateway, API keys) and retry. "
                f"Nothing was registered or deployed.")
        warning = (" (past 80 %: ask for a higher quota now)"
                   if used + new_keys > quota * API_KEYS_WARN_SHARE else "")
        self._out(f"  account: {used:,} of {quota:,} API keys used in {self._region}, "
                  f"{new_keys} to add{warning}")

    def api_gateway_logs_role(self, create: bool) -> None:
        """The APIs' access logs need the region's API Gateway CloudWatch role; when the stack
        is not asked to set one (``create``), the account must have it."""
        if create:
            self._out(f"  account: the pooled stack sets API Gateway's CloudWatch role in "
                      f"{self._region}")
            return
        role = self._calls.call("apigateway", "get_account").get("cloudwatchRoleArn")
        if not role:
            raise DeployError(
                f"API Gateway in {self._region} has no CloudWatch role, which the APIs' access "
                f"logs need (one per account and region): deploy with "
                f"API_GATEWAY_LOGS_ROLE=create (--api-gateway-logs-role create) to have the "
                f"pooled stack create and set one, or set the account's own (aws apigateway "
                f"update-account --patch-operations op=replace,path=/cloudwatchRoleArn,"
                f"value=<role ARN>). Nothing was deployed.")
        self._out(f"  account: API Gateway's CloudWatch role in {self._region} is {role}")


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) else None
