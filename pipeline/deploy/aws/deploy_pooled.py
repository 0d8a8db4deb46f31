"""``make deploy-pooled TARGET=aws``: the pooled stack (baseline, admin API, pooled tenant API).

Nothing is written after the stack is up: its own custom resource records the settings the code
reads, and Cognito emails the first SystemAdmin its temporary password.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.console import Out, Summary
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.deploy.aws.system_admin import ADMIN_EMAIL_PARAMETER, admin_email_parameter
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME

# (summary label, pooled stack output)
SHOWN_OUTPUTS = (
    ("admin API", "AdminApiUrl"),
    ("pooled tenant API", "PooledApiUrl"),
    ("operations pool", "OperationsUserPoolId"),
    ("pooled tenant pool", "PooledTenantUserPoolId"),
)


def deploy_pooled(template_file: Path, admin_email: str, stacks: Stacks, calls: AwsCalls,
                  account: AccountChecks, settings: StackSettings, out: Out) -> Summary:
    account.api_gateway_logs_role(create=settings.creates_api_gateway_role)
    email = admin_email_parameter(admin_email, stacks, calls, out)
    deployed = stacks.deploy_packaged(POOLED_STACK_NAME, template_file, {
        ADMIN_EMAIL_PARAMETER: email, **settings.pooled_parameters()})
    summary = Summary("Pooled deployment is up:" if deployed.changed
                      else "Pooled deployment is up (unchanged: nothing to deploy):")
    summary.row("stack", POOLED_STACK_NAME)
    for label, output in SHOWN_OUTPUTS:
        summary.row(label, deployed.outputs[output])
    summary.row("SystemAdmin", f"user '{SYSTEM_ADMIN_USER_NAME}': Cognito emails its temporary "
                               f"password to {admin_email} (first deployment)")
    return summary.note("Onboard a tenant: make onboard-tenant TARGET=aws BUCKET=... "
                        "NAME=... EMAIL=... TIER=...")
