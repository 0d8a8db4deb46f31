"""What the control plane records about tenants and their deployments.

``TenantRecord`` is a row of the tenant-details table, ``DeploymentRecord`` a row of the
tenant-stack-mapping table (the ``pooled`` row, and one per Platinum tenant). The authorizer
reads both to decide which pool may sign a tenant's tokens and which APIs the tenant may call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenant_context.tenancy import Tier


@dataclass(frozen=True)
class TenantRecord:
    tenant_id: str
    tenant_name: str
    tier: Tier
    is_active: bool
    user_pool_id: str
    app_client_id: str
    api_key: str

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> TenantRecord:
        return cls(
            tenant_id=str(item["tenantId"]),
            tenant_name=str(item.get("tenantName", "")),
            tier=Tier.parse(item.get("tenantTier")),
            is_active=item.get("isActive") is True,
            user_pool_id=str(item.get("userPoolId", "")),
            app_client_id=str(item.get("appClientId", "")),
            api_key=str(item.get("apiKey", "")),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "tenantName": self.tenant_name,
            "tenantNameKey": self.tenant_name.strip().lower(),
            "tenantTier": self.tier.value,
            "isActive": self.is_active,
            "userPoolId": self.user_pool_id,
            "appClientId": self.app_client_id,
            "apiKey": self.api_key,
        }


@dataclass(frozen=True)
class DeploymentRecord:
    deployment_id: str  # "pooled" or a Platinum tenant's id (the table's tenantId key)
    stack_name: str
    api_ids: frozenset[str]
    api_url: str

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> DeploymentRecord:
        api_ids = item.get("apiIds") or set()
        return cls(
            deployment_id=str(item["tenantId"]),
            stack_name=str(item.get("stackName", "")),
            api_ids=frozenset(str(api_id) for api_id in api_ids),
            api_url=str(item.get("apiGatewayUrl", "")),
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "tenantId": self.deployment_id,
            "stackName": self.stack_name,
            "apiGatewayUrl": self.api_url,
        }
        if self.api_ids:
            item["apiIds"] = set(self.api_ids)  # a string set; DynamoDB rejects empty sets
        return item
