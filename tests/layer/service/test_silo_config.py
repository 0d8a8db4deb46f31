"""A silo deployment cannot start without the tenant it serves, and serves no other.

(Through HTTP, with a real authorizer context: tests/order_service/test_silo_binding.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tenant_context.config import PlatformConfig
from tenant_context.errors import ConfigurationError, ForbiddenError
from tenant_context.service.context import TenantContext
from tenant_context.service.tenant_items import TenantItems
from tenant_context.service.tenant_tables import Isolation, TenantTables
from tenant_context.service.write_gate import WriteGates
from tenant_context.tenancy import Role, Tier

MINE, THEIRS = "a" * 32, "b" * 32
SILO = {"DATA_ISOLATION": "silo", "AWS_DEFAULT_REGION": "us-east-1"}


class ClientFactory:
    """Stands in for ``DynamoDBClients``: records whether any client was asked for."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, credentials: Any) -> Any:
        self.requests += 1
        return object()  # no call reaches it: what counts is whether one was asked for


def caller(tenant_id: str, tier: Tier = Tier.PLATINUM) -> TenantContext:
    return TenantContext(tenant_id, tier, "user", Role.TENANT_ADMIN, "pool", None)


@pytest.mark.parametrize("environ", [SILO, {**SILO, "SILO_TENANT_ID": " "},
                                     {**SILO, "SILO_TENANT_ID": "tenant-a"},
                                     {**SILO, "SILO_TENANT_ID": MINE.upper()}])
def test_a_silo_without_a_valid_tenant_id_is_a_configuration_fault(
        environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="SILO_TENANT_ID"):
        TenantTables.from_config(PlatformConfig(environ))


def test_a_silo_built_directly_must_name_its_tenant_too() -> None:
    with pytest.raises(ConfigurationError, match="SILO_TENANT_ID"):
        TenantTables(Isolation.SILO, ClientFactory())


def test_pooled_deployments_need_no_tenant_id() -> None:
    TenantTables.from_config(PlatformConfig({**SILO, "DATA_ISOLATION": "pooled"}))


@pytest.mark.parametrize("tier", [Tier.PLATINUM, Tier.BASIC])
def test_a_silo_refuses_other_tenants_before_asking_for_a_client(tier: Tier) -> None:
    clients = ClientFactory()
    tables = TenantTables(Isolation.SILO, clients, MINE)
    with pytest.raises(ForbiddenError, match="serves another tenant") as refused:
        TenantItems.of(tables, caller(THEIRS, tier), "products", "productId", WriteGates())
    assert refused.value.status_code == 403
    assert clients.requests == 0
    TenantItems.of(tables, caller(MINE), "products", "productId", WriteGates())
    assert clients.requests == 1


def test_from_config_binds_the_named_tenant() -> None:
    tables = TenantTables.from_config(PlatformConfig({**SILO, "SILO_TENANT_ID": MINE}))
    with pytest.raises(ForbiddenError):
        tables.table(caller(THEIRS), "products", "shardId")
    assert tables.table(caller(MINE), "products", "shardId") is not None
