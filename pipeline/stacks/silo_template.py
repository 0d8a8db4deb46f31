"""A Platinum tenant's own deployment as ONE stack (``stack-<tenantId>``), from the same code.

Every registered tenant service's app (``chalice package``, prefixed with the service's logical
name: ``Product``, ``Order`` ...) in silo mode, on the tenant's own tables, with their own roles
(CRUD on the service's own table, reads of the tables it declares it reads, nothing else).
Releases are safe: a canary per function, rolled back by alarm (``pipeline.stacks.safe_release``,
as in the pooled stack). Reads are protected from a noisy neighbour by reserved concurrency (Chalice
serves all of an app's routes from one function, so it is the function's);
``DesiredState=stopped`` sets it to 0, which is how a deactivated tenant's services stop while
its tables stay. The tenant has its OWN API key, on its own usage plan (the Platinum numbers,
its own API) and on the pooled Platinum plan (the admin API), so each Platinum tenant has its
own rate and quota everywhere and a key is on two plans whatever the number of tenants; the
stack's ``Custom::TenantDeployment`` records the key's value on the tenant's record, which is
what the authorizer returns as ``usageIdentifierKey``. The shared layer, the shared authorizer,
the deployment-records function and the pooled Platinum plan come from the pooled stack as
parameters.
"""

from __future__ import annotations

from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.merge import Template
from pipeline.stacks.safe_release import with_canary
from pipeline.stacks.service_template import (
    REST_API,
    ServiceWiring,
    crud_statements,
    service_merge_template,
)
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    PLATFORM,
    USAGE_PLANS,
    TableDefinition,
    deployment_data_tables,
    service_tables,
)
from tenant_context.platform.tenant_records import DesiredState
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import Tier
from tenant_context.tenant_services import TENANT_SERVICES, TenantService

TENANT_API_KEY = "TenantApiKey"
STOPPED = "Stopped"
TENANT_ID = "${TenantId}"
READ_ONLY = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")

PARAMETERS: dict[str, Any] = {
    "TenantId": {"Type": "String", "AllowedPattern": "^[0-9a-f]{32}$",
                 "Description": "The Platinum tenant's id (from its registration)"},
    "TenantTier": {"Type": "String", "AllowedValues": [Tier.PLATINUM.value],
                   "Default": Tier.PLATINUM.value},
    "LayerArn": {"Type": "String", "Description": "TenantContextLayerArn of the pooled stack"},
    "AuthorizerArn": {"Type": "String",
                      "Description": "TenantAuthorizerArn of the pooled stack"},
    "DeploymentRecordsArn": {"Type": "String",
                             "Description": "DeploymentRecordsArn of the pooled stack"},
    "ReservedConcurrency": {"Type": "Number", "Default": 50, "MinValue": 1,
                            "Description": "Concurrent executions kept for each function"},
    "DesiredState": {"Type": "String", "AllowedValues": [state.value for state in DesiredState],
                     "Default": DesiredState.RUNNING.value,
                     "Description": "stopped: no function runs (a deactivated tenant)"},
}


def _table(definition: TableDefinition) -> dict[str, Any]:
    resource = cfn.table(definition)
    resource["Properties"]["TableName"] = {"Fn::Sub": definition.name}
    return resource


def api_name(service: str) -> dict[str, str]:
    """The REST API's name: Chalice names it after the app (``product-service``), the same in
    the pooled stack and every silo, and API Gateway's metrics are per name, so a silo's alarm
    would count every tenant's 5xx. The tenant id makes it the silo's own."""
    return {"Fn::Sub": f"{service}-{TENANT_ID}"}


def _silo_merge_template(service: str, environment: dict[str, Any],
                         statements: list[dict[str, Any]]) -> Template:
    return with_canary(service_merge_template(ServiceWiring(
        service_name=service, layer=cfn.ref("LayerArn"),
        authorizer_arn_variable="AuthorizerArn", environment=environment, statements=statements,
        api_title=api_name(service),
        function={
            "ReservedConcurrentExecutions": {"Fn::If": [STOPPED, 0,
                                                        cfn.ref("ReservedConcurrency")]},
            "Tags": {"tenant-id": cfn.ref("TenantId"), "tier": cfn.ref("TenantTier")},
        })), api_name(service))


def silo_prefix(service: TenantService) -> str:
    """The prefix of a tenant service's resources in a silo stack (``Product``)."""
    return service.logical_name


def silo_rest_api(service: TenantService) -> str:
    return f"{silo_prefix(service)}{REST_API}"


def silo_service_merge_template(service: TenantService) -> Template:
    """The service's function on the tenant's tables: its own table with every data action,
    those it reads (an order's products) with reads only."""
    own, *read = service_tables(service, TENANT_ID)
    statements = crud_statements([own.name])
    if read:
        statements += crud_statements([table.name for table in read], READ_ONLY)
    return _silo_merge_template(service.app_name, {
        Env.DATA_ISOLATION: Isolation.SILO.value, Env.SILO_TENANT_ID: cfn.ref("TenantId"),
        **{table.env_var: cfn.ref(table.logical_id) for table in (own, *read)}}, statements)


def silo_stack_resources(edge_routes: dict[str, str]) -> Template:
    apis = [silo_rest_api(service) for service in TENANT_SERVICES]
    plan = USAGE_PLANS[Tier.PLATINUM.value]
    resources: dict[str, Any] = {
        **{table.logical_id: _table(table) for table in deployment_data_tables(TENANT_ID)},
        "TenantUsagePlan": cfn.usage_plan(plan, {"Fn::Sub": f"{PLATFORM}-{plan.name}-{TENANT_ID}"},
                                          apis),
        # The tenant's own key, issued at its registration (on the pooled Platinum plan, for
        # the admin API): the stack finds it and adds it to the plan of the tenant's own API.
        TENANT_API_KEY: cfn.custom_resource("Custom::TenantApiKey",
                                            cfn.ref("DeploymentRecordsArn"),
                                            {"TenantId": cfn.ref("TenantId")}),
        "TenantUsagePlanKey": cfn.usage_plan_key(cfn.ref("TenantUsagePlan"),
                                                 cfn.get_att(TENANT_API_KEY, "ApiKeyId")),
        **cfn.http_edge({"Fn::Sub": f"{PLATFORM}-{TENANT_ID}"}, edge_routes),
        "TenantDeployment": {
            **cfn.custom_resource("Custom::TenantDeployment", cfn.ref("DeploymentRecordsArn"), {
                "TenantId": cfn.ref("TenantId"),
                "ApiIds": [cfn.ref(api) for api in apis],
                "ApiUrl": cfn.edge_url(),
                "ApiKeyId": cfn.get_att(TENANT_API_KEY, "ApiKeyId")}),
            # The key is on the tenant's plan before its record names it and its APIs are
            # announced: the authorizer never returns a key API Gateway does not know for the
            # tenant's APIs.
            "DependsOn": ["TenantUsagePlanKey"]},
    }
    outputs = {
        "TenantApiUrl": {"Value": cfn.edge_url()},
        **{f"{silo_prefix(service)}ApiId": {"Value": cfn.ref(silo_rest_api(service))}
           for service in TENANT_SERVICES},
    }
    return {"Parameters": PARAMETERS,
            "Conditions": {STOPPED: {"Fn::Equals": [cfn.ref("DesiredState"),
                                                      DesiredState.STOPPED.value]}},
            "Resources": resources, "Outputs": outputs}

