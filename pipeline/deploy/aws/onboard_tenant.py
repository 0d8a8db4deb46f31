"""``make onboard-tenant TARGET=aws``: register a tenant through the deployed registration API
(exactly what the sign-up page calls), and for Platinum deploy its own stack.

The registration records a ``provisioning`` deployment row for a Platinum tenant; its stack's
custom resource marks it active with the tenant API's URL, so after the stack is up the admin
API's ``GET /tenant/init/{name}`` answers what the tenant's users sign in with. Onboarding the
same tenant again is harmless: the registration answers 200 for an identical repeat and the
stack has no changes.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.deploy.aws.account_checks import AccountChecks
from pipeline.deploy.aws.admin_api_http import Http
from pipeline.deploy.aws.change_sets import Outputs, Stacks
from pipeline.deploy.aws.console import Out, Summary
from pipeline.deploy.aws.deploy_error import DeployError
from pipeline.deploy.aws.row_claims import RowClaims, RowHeld
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.deployments import stack_name
from tenant_context.tenancy import Tier

# The silo stack's parameters that come from the pooled stack's outputs (shared layer,
# authorizer, deployment-records function).
SILO_PARAMETERS_FROM_POOLED = {
    "LayerArn": "TenantContextLayerArn",
    "AuthorizerArn": "TenantAuthorizerArn",
    "DeploymentRecordsArn": "DeploymentRecordsArn",
}
TENANT_API_OUTPUT = "TenantApiUrl"
REGISTERED = (200, 201)  # 200: an identical repeat of an earlier registration


@dataclass(frozen=True)
class TenantRequest:
    name: str
    email: str
    tier: Tier
    phone: str = ""
    address: str = ""

    def registration_body(self) -> dict[str, str]:
        body = {"tenantName": self.name, "tenantEmail": self.email, "tenantTier": self.tier.value}
        optional = {"tenantPhone": self.phone, "tenantAddress": self.address}
        return body | {key: value for key, value in optional.items() if value}


def silo_parameters(tenant_id: str, pooled: Outputs, settings: StackSettings
                    ) -> dict[str, str]:
    return {"TenantId": tenant_id, "TenantTier": Tier.PLATINUM.value,
            **{parameter: pooled[output]
               for parameter, output in SILO_PARAMETERS_FROM_POOLED.items()},
            **settings.silo_parameters()}


def register(request: TenantRequest, admin_api: str, http: Http,
             out: Out) -> tuple[dict[str, Any], bool]:
    """The registered tenant, as the registration API answers it (a refusal is its message),
    and whether this call created it (False: an identical earlier registration)."""
    out(f"Registering {request.name!r} ({request.tier.value}) at {admin_api}/registration ...")
    answer = http.request("POST", f"{admin_api}/registration", request.registration_body())
    if answer.status not in REGISTERED:
        message = answer.body.get("message") if isinstance(answer.body, dict) else answer.body
        raise DeployError(f"registration refused ({answer.status}): {message}")
    tenant = answer.body
    if not isinstance(tenant, dict) or not tenant.get("tenantId"):
        raise DeployError(f"registration answered {answer.status} without a tenant id: {tenant}")
    out(f"  registered as tenant {tenant['tenantId']}"
        f"{' (earlier, with the same name and email)' if answer.status == 200 else ''}")
    return tenant, answer.status == 201


def onboard_tenant(request: TenantRequest, silo_template: Path, http: Http, stacks: Stacks,
                   out: Out, account: AccountChecks, settings: StackSettings,
                   claims: RowClaims) -> Summary:
    pooled = stacks.outputs(POOLED_STACK_NAME)
    admin_api = pooled["AdminApiUrl"].rstrip("/")
    account.api_keys(new_keys=1)  # the tenant's own, issued by its registration
    if request.tier is Tier.PLATINUM:  # before registering: a tenant its stack cannot serve
        account.silo_concurrency(new_silos=1)
    tenant, created = register(request, admin_api, http, out)
    tenant_id = tenant["tenantId"]
    summary = Summary(f"Tenant {tenant['tenantName']!r} onboarded ({tenant['tenantTier']}):")
    summary.row("tenant id", tenant_id)
    summary.row("tenant admin", f"{tenant['tenantAdminUserName']} (Cognito emails its "
                                f"temporary password to {request.email})")
    tenant_api = ""
    # The registered tier decides, not the requested one: a repeat returns the tenant as it is.
    platinum = Tier.parse(tenant["tenantTier"]) is Tier.PLATINUM
    if platinum and not created:
        # It may have been deactivated since: its stack follows its recorded desired state,
        # which `make deploy-tenants` reads (deploying it with the default would restart it).
        summary.row("own stack", stack_name(tenant_id))
        summary.note(f"already registered: its stack is brought to its recorded state by "
                     f"make deploy-tenants TARGET=aws TENANT_ID={tenant_id}")
    elif platinum:
        summary.row("own stack", stack_name(tenant_id))
        try:
            with claims.held(tenant_id):
                deployed = stacks.deploy_packaged(stack_name(tenant_id), silo_template,
                                                  silo_parameters(tenant_id, pooled, settings))
            tenant_api = deployed.outputs[TENANT_API_OUTPUT]
        except RowHeld:  # its registration started the tenant pipeline first: it deploys it
            summary.note("its stack is being deployed by the tenant pipeline: GET /tenant/init "
                         "answers 409 provisioning until it is up (make releases TARGET=aws "
                         "shows the row)")
    init = http.request("GET", f"{admin_api}/tenant/init/"
                               f"{urllib.parse.quote(tenant['tenantName'], safe='')}")
    config = init.body if init.status == 200 and isinstance(init.body, dict) else {}
    summary.row("user pool / client",
                f"{config.get('userPoolId', '?')} / {config.get('appClientId', '?')}")
    summary.row("tenant API", tenant_api or config.get("apiGatewayUrl", "?"))
    summary.row("admin API", admin_api)
    if init.status != 200:
        summary.note(f"GET /tenant/init answered {init.status}: {init.body}")
    return summary
