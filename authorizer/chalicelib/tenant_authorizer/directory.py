"""Cached reads of what the control plane knows: settings, tenants and deployments.

TTLs (defaults; environment variables override):
- tenant records: 30 s (``AUTHORIZER_TENANT_TTL_SECONDS``). A deactivated tenant's tokens
  therefore keep working for at most 30 s in a warm authorizer, plus API Gateway's authorizer
  result cache (60 s, keyed by token) on AWS: at most 90 s in all.
- tenant ids with no record: 5 s (``AUTHORIZER_UNKNOWN_TENANT_TTL_SECONDS``), in a cache of
  their own. A token from a pool that is not always known (perhaps a Platinum tenant's) names
  its tenant before its signature can be checked, so unknown ids may be junk: remembering them
  briefly stops repeats from driving reads, and keeping them apart means junk can never evict
  a real tenant's record (a new tenant is found at most 5 s after its record is written).
- user records: 30 s (``AUTHORIZER_USER_TTL_SECONDS``): the same bound for a disabled user, or
  for a user whose role changed (their old tokens carry the old role and stop matching).
- deployments (which APIs serve a tenant): 60 s (``AUTHORIZER_DEPLOYMENT_TTL_SECONDS``).
- platform settings (pools, admin API, keys): 300 s (``AUTHORIZER_SETTINGS_TTL_SECONDS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.tenant_authorizer.ttl_cache import TtlCache
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.platform_settings import PlatformSettings, read_settings
from tenant_context.platform.tenant_records import DeploymentRecord, TenantRecord, UserRecord

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class DirectoryTables:
    settings: str
    tenant_details: str
    tenant_user_mapping: str
    tenant_stack_mapping: str


class Directory:
    def __init__(self, dynamodb: DynamoDBClient, tables: DirectoryTables, *,
                 settings_cache: TtlCache[str, PlatformSettings],
                 tenant_cache: TtlCache[str, TenantRecord | None],
                 unknown_tenant_cache: TtlCache[str, bool],
                 user_cache: TtlCache[tuple[str, str], UserRecord | None],
                 deployment_cache: TtlCache[str, DeploymentRecord | None]) -> None:
        self._dynamodb = dynamodb
        self._tables = tables
        self._settings_cache = settings_cache
        self._tenant_cache = tenant_cache
        self._unknown_tenants = unknown_tenant_cache
        self._user_cache = user_cache
        self._deployment_cache = deployment_cache

    def settings(self) -> PlatformSettings:
        return self._settings_cache.get_or_load("settings", self._load_settings)

    def tenant(self, tenant_id: str) -> TenantRecord | None:
        """The tenant's record, or None. Only records that exist enter the tenant cache;
        ids without one go to the (short-lived) unknown-tenant cache (see the module notes)."""
        if self._unknown_tenants.fresh(tenant_id):
            return None
        record = self._tenant_cache.get_or_load(tenant_id, lambda: self._load_tenant(tenant_id),
                                                keep=lambda found: found is not None)
        if record is None:
            self._unknown_tenants.put(tenant_id, True)
        return record

    def user(self, tenant_id: str, user_name: str) -> UserRecord | None:
        return self._user_cache.get_or_load((tenant_id, user_name),
                                            lambda: self._load_user(tenant_id, user_name))

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        return self._deployment_cache.get_or_load(
            deployment_id, lambda: self._load_deployment(deployment_id))

    def _load_settings(self) -> PlatformSettings:
        return read_settings(self._dynamodb, self._tables.settings)

    def _get(self, table: str, key: str, **more_key: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=table,
                                           Key=to_item({"tenantId": key, **more_key}),
                                           ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def _load_tenant(self, tenant_id: str) -> TenantRecord | None:
        item = self._get(self._tables.tenant_details, tenant_id)
        return TenantRecord.from_item(item) if item else None

    def _load_user(self, tenant_id: str, user_name: str) -> UserRecord | None:
        item = self._get(self._tables.tenant_user_mapping, tenant_id, userName=user_name)
        return UserRecord.from_item(item) if item else None

    def _load_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        item = self._get(self._tables.tenant_stack_mapping, deployment_id)
        return DeploymentRecord.from_item(item) if item else None
