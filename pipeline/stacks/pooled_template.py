"""The pooled deployment as ONE stack (``stack-pooled``): baseline, admin API, pooled tenant API.

Parts, each a ``chalice package`` of one app with its merge template, joined by
``pipeline.stacks.merge``:
- the authorizer app (no prefix): the shared authorizer and the baseline around it (tables,
  pools, the first SystemAdmin, roles, the ONE layer; ``pipeline.stacks.baseline_template``);
- shared services (``Admin``): the admin API, the function behind the stack's
  ``Custom::PlatformSettings`` (settings, the SystemAdmin's record, the pooled deployment row),
  and ``access-log-usage``, which meters the usage plans' 429s from every stack's REST API
  access logs (``pipeline.stacks.logging_template``);
- every registered tenant service in pooled mode (``Pooled<Service>``: ``PooledProduct`` ...).
Around them: one usage plan per tier with its API key, ONE permission for API Gateway to call
the shared authorizer (every API's, Platinum tenants' included), and ONE base URL for every
tenant service's routes (``cfn.http_edge``), ONE permission for CloudWatch Logs to deliver
every stack's 429 lines to ``access-log-usage``, and the usage dashboard
(``pipeline.stacks.usage_dashboard``).

Pooled tiers' API keys are per tier, not per tenant: a tier's plan then caps the tier, as the
architecture we re-create defines it; registration needs no API Gateway write (nothing to undo
when it fails); and the account's limits (10,000 API keys and 300 usage plans per region) never
cap the number of pooled tenants. The cost is that tenants of one pooled tier share its rate and
quota; a tenant that needs its own gets Platinum. A Platinum tenant's stack has its OWN key, on
its own plan (its API) and on the pooled Platinum plan (the admin API): two plans per key,
whereas one shared Platinum key would join a plan per tenant and hit API Gateway's limit of 10
usage plans per API key at the tenth Platinum tenant. The pooled Platinum key serves a Platinum
tenant only until its stack is up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.baseline_template import AUTHORIZER_FUNCTION, LAYER
from pipeline.stacks.inventory import TABLES
from pipeline.stacks.logging_template import (
    ACCESS_LOG_USAGE_FUNCTION_NAME,
    ACCESS_LOG_USAGE_PERMISSION,
    access_log_usage_arn,
    access_log_usage_permission,
    api_gateway_account,
)
from pipeline.stacks.merge import Template, combined
from pipeline.stacks.safe_release import alias_of, with_canary
from pipeline.stacks.service_template import (
    API_FUNCTION,
    REST_API,
    USAGE_READ,
    USAGE_WRITE,
    ServiceWiring,
    crud_statements,
    service_merge_template,
    usage_statement,
)
from pipeline.stacks.signup_limits import PENDING_PLATINUM_CAP, signup_limits
from pipeline.stacks.usage_dashboard import DashboardApi, usage_dashboard
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    CONTROL_PLANE_TABLES,
    OPERATIONS_PLAN_NAME,
    OPERATIONS_POOL,
    PLATFORM,
    POOLED_TENANT_POOL,
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    USAGE_PLANS,
    USAGE_TABLE,
    service_tables,
)
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import POOLED_DEPLOYMENT, Tier
from tenant_context.tenant_services import TENANT_SERVICES, TenantService

ADMIN = "Admin"
ADMIN_APP_NAME = "shared-services"  # its Chalice app's name, which names its REST API
DEPLOYMENT_RECORDS_FUNCTION = "DeploymentRecords"  # chalice's id for deployment_records
DEPLOYMENT_RECORDS_ROLE = "DeploymentRecordsRole"
ACCESS_LOG_USAGE_FUNCTION = "AccessLogUsage"  # chalice's id for access_log_usage
ACCESS_LOG_USAGE_ROLE = "AccessLogUsageRole"
PLATFORM_SETTINGS = "PlatformSettings"
POOLED_TIERS = (Tier.BASIC, Tier.STANDARD, Tier.PREMIUM)


def _wiring(service: str, environment: dict[str, Any], statements: list[dict[str, Any]],
            usage_actions: tuple[str, ...] = USAGE_WRITE) -> ServiceWiring:
    return ServiceWiring(service_name=service, layer=cfn.ref(LAYER),
                         authorizer_arn_variable=alias_of(AUTHORIZER_FUNCTION),
                         environment=environment, statements=statements,
                         usage_table=cfn.ref(USAGE_TABLE.logical_id),
                         usage_actions=usage_actions)


def _control_plane_statements() -> list[dict[str, Any]]:
    """Registration (no caller) and Cognito work use the function's own role; records a caller
    reads or changes go through the caller's scoped credentials."""
    cognito_pools = {"Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:"
                                "${AWS::AccountId}:userpool/*"}
    return [
        *crud_statements([table.name for table in CONTROL_PLANE_TABLES],
                         ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                          "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan",
                          "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem")),
        # A Platinum tenant's pool is created at registration: its ARN is not known here.
        {"Effect": "Allow", "Action": ["cognito-idp:CreateUserPool", "cognito-idp:ListUserPools"],
         "Resource": ["*"]},
        {"Effect": "Allow", "Action": [
            "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminDeleteUser", "cognito-idp:AdminDisableUser",
            "cognito-idp:AdminEnableUser", "cognito-idp:AdminGetUser",
            "cognito-idp:AdminUpdateUserAttributes", "cognito-idp:CreateGroup",
            "cognito-idp:CreateUserPoolClient", "cognito-idp:DeleteGroup",
            "cognito-idp:DeleteUserPool", "cognito-idp:DescribeUserPool",
            "cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup"],
         "Resource": [cognito_pools]},
        *tenant_api_key_statements(),
    ]


def tenant_api_key_statements() -> list[dict[str, Any]]:
    """Each tenant's own API key: created, listed, enabled or disabled and deleted at
    registration, tier moves and deactivation, and linked to a usage plan. API Gateway names
    keys by generated ids, so the keys are not known here; plans are the pooled stack's."""
    def arn(path: str) -> dict[str, str]:
        return {"Fn::Sub": f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::{path}"}

    return [
        {"Effect": "Allow", "Action": ["apigateway:GET", "apigateway:POST"],
         "Resource": [arn("/apikeys"), arn("/usageplans/*/keys")]},
        {"Effect": "Allow", "Action": ["apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
         "Resource": [arn("/apikeys/*")]},
    ]


def _table_environment(*tables: Any) -> dict[str, Any]:
    return {table.env_var: cfn.ref(table.logical_id) for table in tables}


def admin_merge_template() -> Template:
    # The cap on pending Platinum provisionings registration enforces (a stack parameter).
    environment = {**_table_environment(*CONTROL_PLANE_TABLES),
                   Env.PENDING_PLATINUM_CAP: cfn.ref(PENDING_PLATINUM_CAP)}
    # The admin API also reads the usage table: its usage routes.
    template = service_merge_template(_wiring(ADMIN_APP_NAME, environment,
                                              _control_plane_statements(),
                                              (*USAGE_WRITE, *USAGE_READ)))
    # Not behind the API: CloudFormation calls it by its own ARN (no alias, no canary).
    template["Resources"][DEPLOYMENT_RECORDS_FUNCTION] = {"Properties": {
        **template["Resources"][API_FUNCTION]["Properties"],
        "Role": cfn.get_att(DEPLOYMENT_RECORDS_ROLE, "Arn"),
    }}
    # CloudWatch Logs calls it with every stack's 429 lines, by its fixed name (silo stacks
    # build its ARN from it); it only adds to the usage table.
    template["Resources"][ACCESS_LOG_USAGE_FUNCTION] = {"Properties": {
        **template["Resources"][API_FUNCTION]["Properties"],
        "FunctionName": ACCESS_LOG_USAGE_FUNCTION_NAME,
        "Role": cfn.get_att(ACCESS_LOG_USAGE_ROLE, "Arn"),
    }}
    template["Resources"][ACCESS_LOG_USAGE_ROLE] = cfn.lambda_role(
        [usage_statement(USAGE_WRITE)], "access-log-usage")
    template["Resources"][DEPLOYMENT_RECORDS_ROLE] = cfn.lambda_role([
        *crud_statements([SETTINGS_TABLE.name, TENANT_USER_MAPPING_TABLE.name,
                          TENANT_STACK_MAPPING_TABLE.name],
                         ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")),
        *crud_statements([SETTINGS_TABLE.name], ("dynamodb:Scan",)),
        # A tenant from before per-tenant keys gets its own key, named on its record.
        *crud_statements([TENANT_DETAILS_TABLE.name],
                         ("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateItem")),
        *tenant_api_key_statements(),
    ], "deployment-records")
    return with_canary(template, ADMIN_APP_NAME)


def pooled_prefix(service: TenantService) -> str:
    """The prefix of a tenant service's resources in the pooled stack (``PooledProduct``)."""
    return f"Pooled{service.logical_name}"


def pooled_rest_api(service: TenantService) -> str:
    return f"{pooled_prefix(service)}{REST_API}"


def pooled_service_merge_template(service: TenantService) -> Template:
    # No data rights of its own: every item is read and written with the caller's scoped
    # credentials, whose session policy confines them to the caller's tenant.
    return with_canary(service_merge_template(_wiring(service.app_name, {
        Env.DATA_ISOLATION: Isolation.POOLED.value,
        **_table_environment(*service_tables(service, POOLED_DEPLOYMENT))}, [])),
        service.app_name)


def _plan_apis(plan: str) -> list[str]:
    admin = [f"{ADMIN}{REST_API}"]
    if plan in {tier.value for tier in POOLED_TIERS}:
        return [*admin, *(pooled_rest_api(service) for service in TENANT_SERVICES)]
    # SystemAdmin; Platinum: the admin API only. A Platinum tenant's own key is on this plan
    # from its registration (for the admin API); its stack adds the key to a plan of its own.
    return admin


TENANT_STACK_MAPPING_STREAM_OUTPUT = "TenantStackMappingStreamArn"
TENANT_DETAILS_STREAM_OUTPUT = "TenantDetailsStreamArn"


def api_key_logical_id(plan: str) -> str:
    return f"{plan}ApiKey"


def usage_plan_logical_id(plan: str) -> str:
    return f"{plan}UsagePlan"


def pooled_stack_resources() -> Template:
    """What the pooled stack holds besides the apps: plans, the staff's key, the edge, the
    settings. Tenants' keys are not here: each tenant gets its own at registration."""
    resources: dict[str, Any] = {}
    for plan in USAGE_PLANS.values():
        resources[usage_plan_logical_id(plan.name)] = cfn.usage_plan(
            plan, f"{PLATFORM}-{plan.name}", _plan_apis(plan.name))
    staff_plan = OPERATIONS_PLAN_NAME
    resources[api_key_logical_id(staff_plan)] = cfn.api_key(f"{PLATFORM}-{staff_plan}-key")
    resources[f"{staff_plan}UsagePlanKey"] = cfn.usage_plan_key(
        cfn.ref(usage_plan_logical_id(staff_plan)), cfn.ref(api_key_logical_id(staff_plan)))
    resources |= cfn.http_edge(f"{PLATFORM}-pooled", edge_routes(pooled_prefix))
    resources[PLATFORM_SETTINGS] = cfn.custom_resource(
        "Custom::PlatformSettings", cfn.get_att(f"{ADMIN}{DEPLOYMENT_RECORDS_FUNCTION}", "Arn"), {
        "StackName": cfn.ref("AWS::StackName"),
        "OperationsUserPoolId": cfn.ref(OPERATIONS_POOL.logical_id),
        "OperationsAppClientId": cfn.ref(OPERATIONS_POOL.client_logical_id),
        "PooledUserPoolId": cfn.ref(POOLED_TENANT_POOL.logical_id),
        "PooledAppClientId": cfn.ref(POOLED_TENANT_POOL.client_logical_id),
        "AdminApiIds": [cfn.ref(f"{ADMIN}{REST_API}")],
        "AdminApiUrl": cfn.rest_api_url(f"{ADMIN}{REST_API}"),
        "PooledApiIds": [cfn.ref(pooled_rest_api(service)) for service in TENANT_SERVICES],
        "PooledApiUrl": cfn.edge_url(),
        "ApiKeyIds": {staff_plan: cfn.ref(api_key_logical_id(staff_plan))},
        "UsagePlanIds": {plan: cfn.ref(usage_plan_logical_id(plan)) for plan in USAGE_PLANS},
    })
    outputs = {
        "AdminApiUrl": {"Value": cfn.rest_api_url(f"{ADMIN}{REST_API}")},
        "PooledApiUrl": {"Value": cfn.edge_url()},
        "DeploymentRecordsArn": {"Value": cfn.get_att(f"{ADMIN}{DEPLOYMENT_RECORDS_FUNCTION}",
                                                      "Arn")},
        # What the tenant pipeline's stack follows to provision Platinum tenants.
        TENANT_STACK_MAPPING_STREAM_OUTPUT: {"Value": cfn.get_att(
            TENANT_STACK_MAPPING_TABLE.logical_id, "StreamArn")},
        # ... and to carry out the tenant moves the admin API records.
        TENANT_DETAILS_STREAM_OUTPUT: {"Value": cfn.get_att(
            TENANT_DETAILS_TABLE.logical_id, "StreamArn")},
    }
    resources[ACCESS_LOG_USAGE_PERMISSION] = {
        **access_log_usage_permission(),
        "DependsOn": [f"{ADMIN}{ACCESS_LOG_USAGE_FUNCTION}"]}  # named, not referred to
    outputs["AccessLogUsageArn"] = {"Value": access_log_usage_arn()}
    return combined({"Resources": resources, "Outputs": outputs}, api_gateway_account(),
                    signup_limits(), usage_dashboard(
                        apis=[DashboardApi(f"{ADMIN}{REST_API}", ADMIN_APP_NAME),
                              *(DashboardApi(pooled_rest_api(service), service.app_name)
                                for service in TENANT_SERVICES)],
                        functions=[AUTHORIZER_FUNCTION, f"{ADMIN}{API_FUNCTION}",
                                   *(f"{pooled_prefix(service)}{API_FUNCTION}"
                                     for service in TENANT_SERVICES),
                                   f"{ADMIN}{ACCESS_LOG_USAGE_FUNCTION}"],
                        service_functions=[f"{ADMIN}{API_FUNCTION}",
                                           *(f"{pooled_prefix(service)}{API_FUNCTION}"
                                             for service in TENANT_SERVICES)],
                        tables=[table.name for table in TABLES],
                        silo_api_names=[service.app_name for service in TENANT_SERVICES]))


def edge_routes(prefix: Callable[[TenantService], str]) -> dict[str, str]:
    """Every tenant service's paths under the deployment's one base URL, and the REST API
    (``prefix(service)`` + ``RestAPI``) serving them: ``/products``, ``/product``,
    ``/product/{proxy+}`` and its OpenAPI document ``/products/openapi.json`` for the product
    service, and so on for each registered one."""
    routes: dict[str, str] = {}
    for service in TENANT_SERVICES:
        rest_api, path = f"{prefix(service)}{REST_API}", service.route_prefix
        routes |= {f"{path}s": rest_api, path: rest_api, f"{path}/{{proxy+}}": rest_api,
                   service.document_path: rest_api}
    return routes

