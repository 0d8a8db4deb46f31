"""Applies the baseline definitions to the emulator, idempotently.

Each step looks before it writes, so running it against a replayed emulator changes nothing (and
records nothing). The definitions are the ones ``pipeline.stacks.cloudformation`` renders for AWS.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.local_cloud.provisioning.emulated_stack import (
    apply_time_to_live,
    deploy_tables,
    table_names,
)
from pipeline.local_cloud.provisioning.tenant_key_restore import restore_tenant_keys
from pipeline.stacks.inventory import ADMIN_API_NAMES, POOLED_API_NAMES, POOLED_STACK_NAME, TABLES
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.baseline_records import record_baseline
from tenant_context.platform.definitions import (
    OPERATIONS_PLAN_NAME,
    OPERATIONS_POOL,
    POOLED_TENANT_POOL,
    SETTINGS_TABLE,
    SYSTEM_ADMIN_USER_NAME,
    TENANT_ACCESS_ROLE_NAME,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    USAGE_PLANS,
    TableDefinition,
    UsagePlan,
    UserPoolDefinition,
)
from tenant_context.platform.invitations import CredentialsFile, create_user_request
from tenant_context.platform.platform_settings import PlatformSettings, PoolRef
from tenant_context.platform.session_policies import PolicyResources, access_role_policy
from tenant_context.platform.tenant_api_keys import api_key_pages, ensure_on_plan
from tenant_context.platform.tenant_records import DeploymentRecord
from tenant_context.tenancy import OPERATIONS_TENANT_ID, POOLED_DEPLOYMENT, Role

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_cognito_idp.type_defs import UserPoolDescriptionTypeTypeDef
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_iam import IAMClient

LOCAL_ACCOUNT = "123456789012"  # the emulator's default account


@dataclass(frozen=True)
class LocalUrls:
    admin_api: str
    pooled_api: str


@dataclass(frozen=True)
class BaselineResult:
    settings: PlatformSettings
    admin_user_name: str
    admin_password: str | None  # what the credentials file holds for the admin now
    keys_restored: int = 0  # tenants' API keys put back after a replay (tenant_key_restore)


def bootstrap(clients: AwsClients, urls: LocalUrls, credentials: CredentialsFile,
              admin_email: str) -> BaselineResult:
    dynamodb = clients.dynamodb
    deploy_tables(clients.cloudformation, dynamodb, POOLED_STACK_NAME, TABLES)
    ensure_access_role(clients.iam)
    cognito = clients.cognito
    operations = ensure_user_pool(cognito, OPERATIONS_POOL)
    pooled = ensure_user_pool(cognito, POOLED_TENANT_POOL)
    ensure_system_admin(cognito, operations.user_pool_id, admin_email, credentials)
    plans = ensure_usage_plans(clients.apigateway, USAGE_PLANS.values())
    settings = PlatformSettings(operations_pool=operations, pooled_pool=pooled,
                                admin_api_ids=frozenset(ADMIN_API_NAMES),
                                admin_api_url=urls.admin_api, api_keys=plans.api_keys,
                                usage_plan_ids=plans.plan_ids)
    record_baseline(dynamodb, settings, DeploymentRecord(
        POOLED_DEPLOYMENT, POOLED_STACK_NAME, frozenset(POOLED_API_NAMES), urls.pooled_api))
    restored = restore_tenant_keys(clients.apigateway, dynamodb, plans.plan_ids)
    entry = credentials.lookup(operations.user_pool_id, SYSTEM_ADMIN_USER_NAME)
    return BaselineResult(settings, SYSTEM_ADMIN_USER_NAME,
                          entry["password"] if entry else None, restored)


def ensure_tables(dynamodb: DynamoDBClient, tables: Iterable[TableDefinition]) -> None:
    tables = list(tables)
    existing = set(table_names(dynamodb))
    for table in tables:
        if table.name not in existing:
            dynamodb.create_table(**table.create_table_request())
    apply_time_to_live(dynamodb, tables)


def local_policy_resources() -> PolicyResources:
    return PolicyResources.for_tables(
        f"arn:aws:dynamodb:us-east-1:{LOCAL_ACCOUNT}",
        settings=SETTINGS_TABLE.name, tenant_details=TENANT_DETAILS_TABLE.name,
        tenant_names=TENANT_NAMES_TABLE.name, tenant_user_mapping=TENANT_USER_MAPPING_TABLE.name,
        tenant_stack_mapping=TENANT_STACK_MAPPING_TABLE.name)


def ensure_access_role(iam: IAMClient) -> None:
    """The role the authorizer assumes; locally any principal of the account may assume it."""
    try:
        iam.get_role(RoleName=TENANT_ACCESS_ROLE_NAME)
        return
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{LOCAL_ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=TENANT_ACCESS_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=TENANT_ACCESS_ROLE_NAME, PolicyName="tenant-data-access",
                        PolicyDocument=json.dumps(access_role_policy(local_policy_resources())))


def ensure_user_pool(cognito: CognitoIdentityProviderClient, pool: UserPoolDefinition) -> PoolRef:
    pool_id = next((listed["Id"] for listed in _user_pools(cognito)
                    if listed["Name"] == pool.name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(**pool.create_user_pool_request())["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = next((client["ClientId"] for client in clients["UserPoolClients"]
                      if client["ClientName"] == pool.client_name), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            **pool.create_client_request(pool_id))["UserPoolClient"]["ClientId"]
    return PoolRef(pool_id, client_id)


def _user_pools(cognito: CognitoIdentityProviderClient) -> list[UserPoolDescriptionTypeTypeDef]:
    pools: list[UserPoolDescriptionTypeTypeDef] = []
    request: dict[str, Any] = {"MaxResults": 60}
    while True:
        response = cognito.list_user_pools(**request)
        pools += response.get("UserPools", [])
        if not response.get("NextToken"):
            return pools
        request["NextToken"] = response["NextToken"]


def ensure_system_admin(cognito: CognitoIdentityProviderClient, pool_id: str, email: str,
                        credentials: CredentialsFile) -> None:
    """The first SystemAdmin's Cognito user (its user record comes with the baseline's)."""
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=SYSTEM_ADMIN_USER_NAME)
    except cognito.exceptions.UserNotFoundException:
        request, password = create_user_request(pool_id, SYSTEM_ADMIN_USER_NAME, email,
                                                Role.SYSTEM_ADMIN, OPERATIONS_TENANT_ID,
                                                credentials)
        cognito.admin_create_user(**request)
        if password:
            credentials.record(pool_id, SYSTEM_ADMIN_USER_NAME, password, temporary=True)


@dataclass(frozen=True)
class UsagePlans:
    plan_ids: dict[str, str]  # plan name -> id
    api_keys: dict[str, str]  # plan name -> value of the plan's shared key (staff only)


def ensure_usage_plans(apigateway: APIGatewayClient, plans: Iterable[UsagePlan],
                       shared_key_plans: Iterable[str] = (OPERATIONS_PLAN_NAME,)) -> UsagePlans:
    """One usage plan per plan name, and a shared key on the plans named (the staff's: every
    tenant has a key of its own, issued at registration)."""
    existing_plans = {plan["name"]: plan["id"] for plan in
                      _pages(apigateway.get_usage_plans, "items", "position", "position")}
    existing_keys = {key["name"]: key for key in api_key_pages(apigateway)}
    plan_ids: dict[str, str] = {}
    for plan in plans:
        plan_id = existing_plans.get(plan.name)
        if plan_id is None:
            plan_id = apigateway.create_usage_plan(
                name=plan.name,
                throttle={"rateLimit": plan.rate_per_second, "burstLimit": plan.burst},
                quota={"limit": plan.quota_per_day, "period": "DAY"})["id"]
        plan_ids[plan.name] = plan_id
    values: dict[str, str] = {}
    for name in shared_key_plans:
        key = existing_keys.get(f"{name}-key")
        if key is None:
            # We choose the value: a replayed emulator then recreates the same key, and the
            # value copied into the settings stays valid.
            key = dict(apigateway.create_api_key(name=f"{name}-key", enabled=True,
                                                 value=secrets.token_hex(20)))
        ensure_on_plan(apigateway, plan_ids[name], key["id"])
        values[name] = key["value"]
    return UsagePlans(plan_ids, values)


def _pages(call: Callable[..., Any], items: str, request_token: str, response_token: str,
           **kwargs: Any) -> list[Any]:
    results: list[Any] = []
    while True:
        response = call(**kwargs)
        results += response.get(items, [])
        token = response.get(response_token)
        if not token:
            return results
        kwargs[request_token] = token
