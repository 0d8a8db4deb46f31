"""Cached reads of what the control plane knows: settings, tenants and deployments.

TTLs (defaults; environment variables override):
- tenant records: 30 s (``AUTHORIZER_TENANT_TTL_SECONDS``). A deactivated tenant's tokens
  therefore keep working for at most 30 s in a warm authorizer, plus API Gateway's authorizer
  result cache (60 s, keyed by token) on AWS: at most 90 s in all.
- deployments (which APIs serve a tenant): 60 s (``AUTHORIZER_DEPLOYMENT_TTL_SECONDS``).
- platform settings (pools, admin API, keys): 300 s (``AUTHORIZER_SETTINGS_TTL_SECONDS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenant_authorizer.caching import TtlCache
from tenant_context.dynamo import from_item, to_item
from tenant_context.platform_settings import PlatformSettings
from tenant_context.tenant_records import DeploymentRecord, TenantRecord


@dataclass(frozen=True)
class DirectoryTables:
    settings: str
    tenant_details: str
    tenant_stack_mapping: str


class Directory:
    def __init__(self, dynamodb: Any, tables: DirectoryTables, *,
                 settings_cache: TtlCache[str, PlatformSettings],
                 tenant_cache: TtlCache[str, TenantRecord | None],
                 deployment_cache: TtlCache[str, DeploymentRecord | None]) -> None:
        self._dynamodb = dynamodb
        self._tables = tables
        self._settings_cache = settings_cache
        self._tenant_cache = tenant_cache
        self._deployment_cache = deployment_cache

    def settings(self) -> PlatformSettings:
        return self._settings_cache.get_or_load("settings", self._load_settings)

    def tenant(self, tenant_id: str) -> TenantRecord | None:
        return self._tenant_cache.get_or_load(tenant_id, lambda: self._load_tenant(tenant_id))

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        return self._deployment_cache.get_or_load(
            deployment_id, lambda: self._load_deployment(deployment_id))

    def _load_settings(self) -> PlatformSettings:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self._tables.settings, "ConsistentRead": True}
        while True:
            response = self._dynamodb.scan(**request)
            items += [from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return PlatformSettings.from_items(items)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=table, Key=to_item({"tenantId": key}),
                                           ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def _load_tenant(self, tenant_id: str) -> TenantRecord | None:
        item = self._get(self._tables.tenant_details, tenant_id)
        return TenantRecord.from_item(item) if item else None

    def _load_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        item = self._get(self._tables.tenant_stack_mapping, deployment_id)
        return DeploymentRecord.from_item(item) if item else None
