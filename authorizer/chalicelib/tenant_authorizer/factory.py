"""Builds the authorizer from configuration: the one place that creates its collaborators.

Tests build it the same way with their own clocks, clients and key-client factory, so every
cache and counter is observable without patching.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt

from chalicelib.tenant_authorizer.authorizer import TenantAuthorizer
from chalicelib.tenant_authorizer.credential_vendor import CredentialVendor
from chalicelib.tenant_authorizer.directory import Directory, DirectoryTables
from chalicelib.tenant_authorizer.tokens import KnownPools, PoolKeys, TokenVerifier
from chalicelib.tenant_authorizer.ttl_cache import TtlCache
from tenant_context.config import Env, PlatformConfig
from tenant_context.errors import ConfigurationError
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)
from tenant_context.platform.platform_settings import PoolRef
from tenant_context.platform.session_policies import PolicyResources, session_policy
from tenant_context.tenancy import Role

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_sts import STSClient

# Defaults of the caches whose TTLs bound how soon a tier move is seen (the directory's notes);
# the tenant movers wait them out.
TENANT_TTL_SECONDS = 30.0
DEPLOYMENT_TTL_SECONDS = 60.0


def policy_resources(config: PlatformConfig) -> PolicyResources:
    """Table ARNs for the session policies; partition and account come from the role's ARN."""
    role_arn = config.require(Env.TENANT_ACCESS_ROLE_ARN)
    parts = role_arn.split(":")
    if len(parts) != 6 or parts[2] != "iam" or not parts[4]:
        raise ConfigurationError(
            f"{Env.TENANT_ACCESS_ROLE_ARN} is not an IAM role ARN: {role_arn!r}")
    return PolicyResources.for_tables(
        f"arn:{parts[1]}:dynamodb:{config.region}:{parts[4]}",
        settings=config.require(SETTINGS_TABLE.env_var),
        tenant_details=config.require(TENANT_DETAILS_TABLE.env_var),
        tenant_names=config.require(TENANT_NAMES_TABLE.env_var),
        tenant_user_mapping=config.require(TENANT_USER_MAPPING_TABLE.env_var),
        tenant_stack_mapping=config.require(TENANT_STACK_MAPPING_TABLE.env_var),
    )


def configured_pools(config: PlatformConfig) -> KnownPools:
    """The operations and pooled pools, from the function's configuration: in AWS its template
    fills them with Refs to the pools of the same stack; locally the stand-in sets them from the
    emulator's pools (``pipeline.local_cloud.api_gateway.builtin_authorizer``). Nothing falls
    back to the settings table: a missing one is a configuration error, found on the first
    authorization rather than hidden behind a read on every cold start."""
    return KnownPools(
        operations=PoolRef(config.require(Env.OPERATIONS_USER_POOL_ID),
                           config.require(Env.OPERATIONS_APP_CLIENT_ID)),
        pooled=PoolRef(config.require(Env.POOLED_USER_POOL_ID),
                       config.require(Env.POOLED_APP_CLIENT_ID)),
    )


def pool_environment(operations: PoolRef, pooled: PoolRef) -> dict[str, str]:
    """The variables ``configured_pools`` reads, for these pools (what a deployer sets)."""
    return {Env.OPERATIONS_USER_POOL_ID: operations.user_pool_id,
            Env.OPERATIONS_APP_CLIENT_ID: operations.app_client_id,
            Env.POOLED_USER_POOL_ID: pooled.user_pool_id,
            Env.POOLED_APP_CLIENT_ID: pooled.app_client_id}


def build_authorizer(config: PlatformConfig, *, dynamodb: DynamoDBClient | None = None,
                     sts: STSClient | None = None,
                     clock: Callable[[], float] = time.monotonic,
                     wall_clock: Callable[[], float] = time.time,
                     key_client_factory: Callable[[str], jwt.PyJWKClient] | None = None,
                     ) -> TenantAuthorizer:
    if dynamodb is None or sts is None:
        import boto3

        dynamodb = dynamodb or boto3.client("dynamodb", region_name=config.region)
        sts = sts or boto3.client("sts", region_name=config.region)
    resources = policy_resources(config)
    pools = configured_pools(config)
    directory = Directory(
        dynamodb,
        DirectoryTables(
            settings=config.require(SETTINGS_TABLE.env_var),
            tenant_details=config.require(TENANT_DETAILS_TABLE.env_var),
            tenant_user_mapping=config.require(TENANT_USER_MAPPING_TABLE.env_var),
            tenant_stack_mapping=config.require(TENANT_STACK_MAPPING_TABLE.env_var),
        ),
        settings_cache=TtlCache(config.seconds(Env.AUTHORIZER_SETTINGS_TTL_SECONDS, 300),
                                clock=clock),
        tenant_cache=TtlCache(config.seconds(Env.AUTHORIZER_TENANT_TTL_SECONDS,
                                             TENANT_TTL_SECONDS), clock=clock),
        unknown_tenant_cache=TtlCache(
            config.seconds(Env.AUTHORIZER_UNKNOWN_TENANT_TTL_SECONDS, 5), clock=clock,
            max_entries=1024),
        user_cache=TtlCache(config.seconds(Env.AUTHORIZER_USER_TTL_SECONDS, 30), clock=clock),
        deployment_cache=TtlCache(config.seconds(Env.AUTHORIZER_DEPLOYMENT_TTL_SECONDS,
                                                 DEPLOYMENT_TTL_SECONDS), clock=clock),
    )

    def policy_for(role: Role, tenant_id: str, pooled_data: bool) -> dict[str, Any]:
        return session_policy(role, tenant_id, pooled_data=pooled_data, resources=resources)

    return TenantAuthorizer(
        TokenVerifier(directory, pools, PoolKeys(config.cognito_jwks_url, key_client_factory),
                      config.cognito_issuer),
        directory,
        CredentialVendor(sts, config.require(Env.TENANT_ACCESS_ROLE_ARN), policy_for,
                         clock=wall_clock),
    )
