"""A changed ADMIN_EMAIL on a later deploy-pooled moves the existing SystemAdmin to it, in the
emulator's Cognito, and deploys with the stack's previous AdminEmail (which would otherwise
make CloudFormation replace the user: it creates the new ``admin`` first and fails)."""

from __future__ import annotations

from collections.abc import Mapping

import boto3

from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.change_sets import Outputs
from pipeline.deploy.aws.system_admin import (
    ADMIN_EMAIL_PARAMETER,
    OPERATIONS_POOL_OUTPUT,
    admin_email_parameter,
)
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.local_cloud.sign_in import sign_in
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME
from tests.support.world import World


class DeployedPooledStack:
    """The pooled stack as deployed before: its AdminEmail and its operations pool."""

    def __init__(self, admin_email: str | None, pool_id: str) -> None:
        self._parameters = None if admin_email is None else {ADMIN_EMAIL_PARAMETER: admin_email}
        self._pool_id = pool_id

    def current_parameters(self, name: str) -> Mapping[str, str] | None:
        assert name == POOLED_STACK_NAME
        return self._parameters

    def outputs(self, name: str) -> Outputs:
        return Outputs(name, {OPERATIONS_POOL_OUTPUT: self._pool_id})


def admin(world: World, pool_id: str) -> dict[str, str]:
    user = world.clients.cognito.admin_get_user(UserPoolId=pool_id,
                                                Username=SYSTEM_ADMIN_USER_NAME)
    return {attribute["Name"]: attribute["Value"] for attribute in user["UserAttributes"]}


def test_a_changed_admin_email_moves_the_user_and_keeps_the_stacks_parameter(
        world: World, baseline: BaselineResult) -> None:
    pool = baseline.settings.operations_pool
    before = admin(world, pool.user_pool_id)
    old = before["email"]
    lines: list[str] = []

    kept = admin_email_parameter("new-ops@example.com",
                                 DeployedPooledStack(old, pool.user_pool_id),
                                 Boto3Calls(boto3.Session()), lines.append)

    assert kept == old  # the stack's parameter: the user resource is not replaced
    after = admin(world, pool.user_pool_id)
    assert after["email"] == "new-ops@example.com"
    assert after["sub"] == before["sub"]  # the same user
    token = sign_in(world.clients.cognito, pool, SYSTEM_ADMIN_USER_NAME, world.credentials)
    assert token["IdToken"]  # its password and sign-in are as they were
    assert any("email changed from" in line for line in lines)
    # Back, for the session's other tests (and to show the move works both ways).
    assert admin_email_parameter(old, DeployedPooledStack("new-ops@example.com",
                                                          pool.user_pool_id),
                                 Boto3Calls(boto3.Session()), lines.append) == \
        "new-ops@example.com"
    assert admin(world, pool.user_pool_id)["email"] == old


def test_a_first_or_unchanged_deployment_touches_no_user(baseline: BaselineResult) -> None:
    class NoCalls:
        def call(self, service: str, operation: str, **params: object) -> dict[str, object]:
            raise AssertionError(f"{service}.{operation} was called")

    pool_id = baseline.settings.operations_pool.user_pool_id
    for deployed in (None, "ops@example.com"):
        assert admin_email_parameter("ops@example.com", DeployedPooledStack(deployed, pool_id),
                                     NoCalls(), print) == "ops@example.com"
