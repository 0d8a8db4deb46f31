"""The pooled stack's baseline: the authorizer app's ``chalice package`` merge template.

``chalice package`` of the authorizer app emits its function; this template adds what the
baseline needs around it (tables, pools, the SystemAdmin user, roles, the ONE layer) and wires
the function to them. It is the unprefixed part of the pooled stack: the other apps' parts
(``pipeline.stacks.pooled_template``) refer to these logical ids.
"""

from __future__ import annotations

from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.inventory import TABLES, USER_POOLS
from pipeline.stacks.logging_template import log_group_id
from pipeline.stacks.safe_release import alias_of, canary, logged_failures_alarm
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    CONTROL_PLANE_TABLES,
    OPERATIONS_POOL,
    PLATFORM,
    POOLED_TENANT_POOL,
    SETTINGS_TABLE,
    SYSTEM_ADMIN_USER_NAME,
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    regional_tenant_access_role_name,
)
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role

LAYER_ZIP = "tenant-context-layer.zip"
LAYER = "TenantContextLayer"
AUTHORIZER_FUNCTION = "TenantAuthorizer"  # chalice's logical id for @lambda_function
AUTHORIZER_ROLE = "TenantAuthorizerRole"
TENANT_ACCESS_ROLE = "TenantAccessRole"
# Account-global name, so the region is in it (a second region's pooled stack must not clash).
TENANT_ACCESS_ROLE_NAME_IN_STACK = regional_tenant_access_role_name("${AWS::Region}")
AUTHORIZER_PERMISSION = "TenantAuthorizerInvokePermission"
AUTHORIZER_ALIAS_PERMISSION = "TenantAuthorizerAliasInvokePermission"
SYSTEM_ADMIN_USER = "SystemAdminUser"


def _authorizer_statements() -> list[dict[str, Any]]:
    """The authorizer reads settings, tenants, users and deployments by key (one batch for a
    verified token, single reads otherwise), and assumes the access role."""
    def table_arn(name: str) -> dict[str, str]:
        return {"Fn::Sub": f"{cfn.ARN_PREFIX}:table/{name}"}

    return [
        {"Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem"],
         "Resource": [table_arn(SETTINGS_TABLE.name),
                      table_arn(TENANT_DETAILS_TABLE.name),
                      table_arn(TENANT_USER_MAPPING_TABLE.name),
                      table_arn(TENANT_STACK_MAPPING_TABLE.name)]},
        # By name, not GetAtt: the access role's trust policy already refers to this role.
        {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": [{
            "Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/"
                       f"{TENANT_ACCESS_ROLE_NAME_IN_STACK}"}]},
    ]


def baseline_merge_template() -> dict[str, Any]:
    resources: dict[str, Any] = {table.logical_id: cfn.table(table) for table in TABLES}
    for pool in USER_POOLS:
        resources[pool.logical_id] = cfn.user_pool(pool)
        resources[pool.client_logical_id] = cfn.user_pool_client(pool)
    resources[SYSTEM_ADMIN_USER] = cfn.user(
        OPERATIONS_POOL, SYSTEM_ADMIN_USER_NAME, cfn.ref("AdminEmail"), Role.SYSTEM_ADMIN,
        OPERATIONS_TENANT_ID)
    resources[AUTHORIZER_ROLE] = cfn.lambda_role(_authorizer_statements(), "tenant-authorizer")
    resources[TENANT_ACCESS_ROLE] = cfn.tenant_access_role(
        AUTHORIZER_ROLE, {"Fn::Sub": TENANT_ACCESS_ROLE_NAME_IN_STACK})
    # APIs call the authorizer's alias (its canary). The unqualified function keeps its
    # permission for silo stacks deployed before the alias existed, until deploy-tenants
    # gives them the alias too.
    resources[AUTHORIZER_PERMISSION] = cfn.authorizer_invoke_permission(
        cfn.get_att(AUTHORIZER_FUNCTION, "Arn"))
    resources[AUTHORIZER_ALIAS_PERMISSION] = cfn.authorizer_invoke_permission(
        cfn.ref(alias_of(AUTHORIZER_FUNCTION)))
    resources |= logged_failures_alarm(AUTHORIZER_FUNCTION, log_group_id(AUTHORIZER_FUNCTION))
    resources[LAYER] = cfn.layer_version(f"./{LAYER_ZIP}", f"{PLATFORM}-tenant-context")
    resources[AUTHORIZER_FUNCTION] = {"Properties": {
        "Layers": [cfn.ref(LAYER)],
        "Role": cfn.get_att(AUTHORIZER_ROLE, "Arn"),
        "Tracing": "Active",
        **canary([f"{AUTHORIZER_FUNCTION}FailuresAlarm"]),
        "Environment": {"Variables": {
            **{table.env_var: cfn.ref(table.logical_id) for table in CONTROL_PLANE_TABLES},
            Env.TENANT_ACCESS_ROLE_ARN: cfn.get_att(TENANT_ACCESS_ROLE, "Arn"),
            # The pools it always knows, from the pools themselves: no settings read on a cold
            # start. (The admin API's ids cannot come this way: that API refers to this
            # function, so a Ref back would be a cycle. They stay in the settings table.)
            Env.OPERATIONS_USER_POOL_ID: cfn.ref(OPERATIONS_POOL.logical_id),
            Env.OPERATIONS_APP_CLIENT_ID: cfn.ref(OPERATIONS_POOL.client_logical_id),
            Env.POOLED_USER_POOL_ID: cfn.ref(POOLED_TENANT_POOL.logical_id),
            Env.POOLED_APP_CLIENT_ID: cfn.ref(POOLED_TENANT_POOL.client_logical_id),
            Env.POWERTOOLS_SERVICE_NAME: "tenant-authorizer",
        }},
    }}
    outputs = {
        # Its alias: every API (a silo's too) calls the authorizer through its canary.
        "TenantAuthorizerArn": {"Value": cfn.ref(alias_of(AUTHORIZER_FUNCTION))},
        "TenantContextLayerArn": {"Value": cfn.ref(LAYER)},
        **{f"{pool.logical_id}Id": {"Value": cfn.ref(pool.logical_id)} for pool in USER_POOLS},
        **{f"{pool.client_logical_id}Id": {"Value": cfn.ref(pool.client_logical_id)}
           for pool in USER_POOLS},
    }
    return {
        "Parameters": {"AdminEmail": {
            "Type": "String", "AllowedPattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            "Description": "Email address of the first SystemAdmin (receives its password)"}},
        "Resources": resources,
        "Outputs": outputs,
    }
