"""A changed ``ADMIN_EMAIL`` on a later ``deploy-pooled``: the first SystemAdmin's email is
changed where it lives, and the user stays.

The pooled stack creates the SystemAdmin (``AWS::Cognito::UserPoolUser``) from its
``AdminEmail`` parameter, and CloudFormation can change that resource's attributes only by
replacing it: it creates the new ``admin`` first, which fails because the name is taken, and
the whole update rolls back. So when the stack already exists with another email, the run
changes the existing user's email in Cognito (its password, its sign-in and its ``sub`` stay)
and deploys with the stack's previous ``AdminEmail``, which is only ever read to create the
user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Outputs
from pipeline.deploy.aws.console import Out
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME

ADMIN_EMAIL_PARAMETER = "AdminEmail"
OPERATIONS_POOL_OUTPUT = "OperationsUserPoolId"


class PooledStack(Protocol):
    """What is read of the deployed pooled stack (``pipeline.deploy.aws.change_sets.Stacks``)."""

    def current_parameters(self, name: str) -> Mapping[str, str] | None: ...

    def outputs(self, name: str) -> Outputs: ...


def admin_email_parameter(admin_email: str, stack: PooledStack, calls: AwsCalls,
                          out: Out) -> str:
    """The ``AdminEmail`` to deploy with, after moving an existing SystemAdmin to
    ``admin_email`` when it differs."""
    previous = (stack.current_parameters(POOLED_STACK_NAME) or {}).get(ADMIN_EMAIL_PARAMETER)
    if not previous or previous == admin_email:
        return admin_email
    pool = stack.outputs(POOLED_STACK_NAME)[OPERATIONS_POOL_OUTPUT]
    calls.call("cognito-idp", "admin_update_user_attributes", UserPoolId=pool,
               Username=SYSTEM_ADMIN_USER_NAME,
               UserAttributes=[{"Name": "email", "Value": admin_email},
                               {"Name": "email_verified", "Value": "true"}])
    out(f"SystemAdmin '{SYSTEM_ADMIN_USER_NAME}': email changed from {previous} to "
        f"{admin_email} in Cognito (the user, its password and sign-in stay; the stack keeps "
        f"{ADMIN_EMAIL_PARAMETER}={previous}, which is read only to create the user)")
    return previous
