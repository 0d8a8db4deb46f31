"""The one source of resource definitions, and the places that must agree with it.

Chalice stage configuration is JSON and cannot import Python, so the local stages repeat table
names; this test is what keeps them equal to the definitions.
"""

from __future__ import annotations

import pytest

from pipeline.local_cloud.api_gateway.builtin_authorizer import LOCAL_STAGE_AUTHORIZER
from pipeline.local_cloud.chalice_local import SILO_STAGE
from pipeline.stacks.inventory import ADMIN_API_NAMES
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    CONTROL_PLANE_TABLES,
    POOLED_TENANT_POOL,
    TENANT_ACCESS_ROLE_NAME,
    TENANT_ID_ATTRIBUTE,
    USER_ROLE_ATTRIBUTE,
    api_name,
    deployment_data_tables,
    service_tables,
    tenant_pool,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.support.chalice_apps import local_stage_environment
from tests.support.moto_server import ACCOUNT


def test_authorizer_local_stage_matches_the_definitions() -> None:
    env = local_stage_environment("authorizer")
    for table in CONTROL_PLANE_TABLES:
        assert env[table.env_var] == table.name
    # Its session policies name the pooled data tables by the platform's rule, not by name.
    assert not {table.env_var for table in deployment_data_tables(POOLED_DEPLOYMENT)} & set(env)
    assert env["TENANT_ACCESS_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT}:role/{TENANT_ACCESS_ROLE_NAME}"


def test_shared_services_local_stage_matches_the_definitions() -> None:
    env = local_stage_environment("shared_services")
    for table in CONTROL_PLANE_TABLES:
        assert env[table.env_var] == table.name
    assert env[Env.TENANT_AUTHORIZER] == LOCAL_STAGE_AUTHORIZER
    assert env["LOCAL_GATEWAY_API_ID"] in ADMIN_API_NAMES


@pytest.mark.parametrize("service", TENANT_SERVICES, ids=lambda service: service.name)
def test_pooled_service_local_stages_match_the_registry(service: TenantService) -> None:
    """Its own table and exactly the tables its entry reads, its API id, pooled isolation."""
    env = local_stage_environment(service.folder)
    tables = service_tables(service, POOLED_DEPLOYMENT)
    assert {name: value for name, value in env.items() if name.endswith("_TABLE")} == {
        table.env_var: table.name for table in tables}
    assert env["DATA_ISOLATION"] == "pooled"
    assert env[Env.TENANT_AUTHORIZER] == LOCAL_STAGE_AUTHORIZER
    assert env["LOCAL_GATEWAY_API_ID"] == api_name(POOLED_DEPLOYMENT, service.name)


@pytest.mark.parametrize("service", TENANT_SERVICES, ids=lambda service: service.name)
def test_silo_stages_leave_every_per_tenant_value_to_the_platform(
        service: TenantService) -> None:
    """``chalice local`` lays the stage's variables over the process environment: a table
    name or API id pinned here would replace the one the platform gives each tenant."""
    env = local_stage_environment(service.folder, SILO_STAGE)
    assert env["DATA_ISOLATION"] == "silo"
    assert env[Env.TENANT_AUTHORIZER] == LOCAL_STAGE_AUTHORIZER
    per_tenant = {*(table.env_var for table in deployment_data_tables("t")),
                  Env.LOCAL_GATEWAY_API_ID}
    assert per_tenant.isdisjoint(env)


@pytest.mark.parametrize("pool", [POOLED_TENANT_POOL, tenant_pool("f" * 32)])
def test_tenant_pools_never_let_users_write_their_tenant_role_or_tier(pool: object) -> None:
    client = pool.create_client_request("pool-id")  # type: ignore[attr-defined]
    writable = set(client["WriteAttributes"])
    assert TENANT_ID_ATTRIBUTE not in writable
    assert USER_ROLE_ATTRIBUTE not in writable
    assert not any("tier" in attribute.lower() for attribute in writable)
    assert client["GenerateSecret"] is False
    schema = {attribute["Name"]: attribute for attribute in
              pool.create_user_pool_request()["Schema"]}  # type: ignore[attr-defined]
    assert schema["tenantId"]["Mutable"] is False
    assert not any("tier" in name.lower() for name in schema)
