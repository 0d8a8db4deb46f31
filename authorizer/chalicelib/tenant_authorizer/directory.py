"""Cached reads of what the control plane knows: gateway settings, tenants, users, deployments.

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
- gateway settings (the admin API's ids, the Operations plan's key value): 300 s
  (``AUTHORIZER_SETTINGS_TTL_SECONDS``).

The two pools the authorizer always knows are not here: they come from its configuration
(``factory.configured_pools``), which CloudFormation fills from the pools themselves. The admin
API's ids cannot (the admin API refers to the authorizer, so the authorizer's configuration
referring to the admin API would be a dependency cycle) and neither can a key's value (a
template's ``Ref`` of an API key is its id): those two stay in the settings table, read by key.

Once a token is verified, ``read_ahead`` fetches every record the decision will need that no
cache holds fresh (the tenant's record, the user's, the deployment's row, the gateway settings)
in ONE ``BatchGetItem``, and files each in its own cache with its own TTL: a cold authorization
costs one read, not four, and a warm one whose entries expire together still costs one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.tenant_authorizer.ttl_cache import TtlCache
from tenant_context.attribute_values import from_item, to_item
from tenant_context.errors import ConfigurationError
from tenant_context.platform.definitions import OPERATIONS_PLAN_NAME
from tenant_context.platform.platform_settings import ADMIN_API_IDS, api_ids, api_key_setting
from tenant_context.platform.tenant_records import (
    DeploymentRecord,
    TenantRecord,
    UserRecord,
    tenant_record,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

SETTINGS_KEY = "gateway"  # the one entry of the gateway-settings cache
OPERATIONS_KEY_SETTING = api_key_setting(OPERATIONS_PLAN_NAME)


@dataclass(frozen=True)
class DirectoryTables:
    settings: str
    tenant_details: str
    tenant_user_mapping: str
    tenant_stack_mapping: str


@dataclass(frozen=True)
class GatewaySettings:
    """What the authorizer takes from the settings table (see the module notes for why)."""

    admin_api_ids: frozenset[str]
    operations_api_key: str  # "" when the deployer recorded none: the caller gets no key

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> GatewaySettings:
        if not values.get(ADMIN_API_IDS):
            raise ConfigurationError(
                f"platform setting {ADMIN_API_IDS} is missing: run the deployer")
        return cls(api_ids(values[ADMIN_API_IDS]), values.get(OPERATIONS_KEY_SETTING, ""))


Key = tuple[str, tuple[tuple[str, str], ...]]  # a table, and its key attributes in order


def _key(table: str, attributes: Mapping[str, str]) -> Key:
    return table, tuple(sorted(attributes.items()))


class Directory:
    def __init__(self, dynamodb: DynamoDBClient, tables: DirectoryTables, *,
                 settings_cache: TtlCache[str, GatewaySettings],
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

    def settings(self) -> GatewaySettings:
        return self._settings_cache.get_or_load(SETTINGS_KEY, self._load_settings)

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

    def cached_tenant(self, tenant_id: str) -> TenantRecord | None:
        """The tenant's record if the cache holds it fresh; None otherwise. Never reads."""
        return self._tenant_cache.peek(tenant_id)

    def user(self, tenant_id: str, user_name: str) -> UserRecord | None:
        return self._user_cache.get_or_load((tenant_id, user_name),
                                            lambda: self._load_user(tenant_id, user_name))

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        return self._deployment_cache.get_or_load(
            deployment_id, lambda: self._load_deployment(deployment_id))

    def read_ahead(self, *, user: tuple[str, str], tenant_id: str | None = None,
                   deployment_ids: Sequence[str] = ()) -> None:
        """Fill every cache these lookups (and the gateway settings) would miss, with ONE batch
        read; what is fresh is not read again. Only for what a VERIFIED token says: the getters
        then answer from the caches, with their usual semantics (an id with no tenant record
        goes to the unknown-tenant cache, never to the tenant cache).

        Several deployment rows may be asked for when which one serves the tenant depends on
        the tenant record read in the same batch (a pooled-pool user: its tenant may have moved
        up to Platinum). Of several, an absent row is NOT filed as absent: that guess must not
        hide, for a whole deployment TTL, a silo row written moments later (the tenant's silo
        provisioned during its move); ``deployment`` reads it if the decision needs it."""
        tables = self._tables
        stale_settings = not self._settings_cache.fresh(SETTINGS_KEY)
        wanted = self._settings_keys() if stale_settings else []
        user_key = _key(tables.tenant_user_mapping, {"tenantId": user[0], "userName": user[1]})
        if not self._user_cache.fresh(user):
            wanted.append(user_key)
        tenant_key: Key | None = None
        deployment_keys: dict[str, Key] = {}
        if tenant_id is not None and not (self._unknown_tenants.fresh(tenant_id)
                                          or self._tenant_cache.fresh(tenant_id)):
            tenant_key = _key(tables.tenant_details, {"tenantId": tenant_id})
            wanted.append(tenant_key)
        for deployment_id in dict.fromkeys(deployment_ids):
            if not self._deployment_cache.fresh(deployment_id):
                deployment_keys[deployment_id] = _key(tables.tenant_stack_mapping,
                                                      {"tenantId": deployment_id})
                wanted.append(deployment_keys[deployment_id])
        if not wanted:
            return
        items = self._read(wanted)
        if stale_settings:
            self._settings_cache.put(SETTINGS_KEY, self._settings_from(items))
        if user_key in wanted:
            found = items[user_key]
            self._user_cache.put(user, UserRecord.from_item(found) if found else None)
        if tenant_key is not None and tenant_id is not None:
            record = tenant_record(items[tenant_key])
            if record is not None:
                self._tenant_cache.put(tenant_id, record)
            else:  # none, or an offboarded tenant's tombstone
                self._unknown_tenants.put(tenant_id, True)
        for deployment_id, deployment_key in deployment_keys.items():
            found = items[deployment_key]
            if found or len(deployment_ids) == 1:
                self._deployment_cache.put(deployment_id,
                                           DeploymentRecord.from_item(found) if found else None)

    def _settings_keys(self) -> list[Key]:
        return [_key(self._tables.settings, {"settingName": name})
                for name in (ADMIN_API_IDS, OPERATIONS_KEY_SETTING)]

    def _settings_from(self, items: Mapping[Key, dict[str, Any] | None]) -> GatewaySettings:
        values: dict[str, str] = {}
        for key in self._settings_keys():
            item = items.get(key)
            if item:
                values[str(item["settingName"])] = str(item.get("settingValue", ""))
        return GatewaySettings.from_values(values)

    def _load_settings(self) -> GatewaySettings:
        return self._settings_from(self._read(self._settings_keys()))

    def _read(self, keys: list[Key]) -> dict[Key, dict[str, Any] | None]:
        """Every key's item (None: there is none), in ONE ``BatchGetItem`` of consistent reads
        (as the single reads are). A key DynamoDB leaves unprocessed (it may, under throttling)
        is read on its own afterwards, where botocore's retries and back-off apply."""
        request: dict[str, Any] = {}
        names: dict[str, tuple[str, ...]] = {}
        for table, attributes in keys:
            names[table] = tuple(name for name, _ in attributes)
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(
                to_item(dict(attributes)))
        response = self._dynamodb.batch_get_item(RequestItems=request)
        items: dict[Key, dict[str, Any] | None] = dict.fromkeys(keys)
        for table, found in response.get("Responses", {}).items():
            for raw in found:
                item = from_item(raw)
                items[_key(table, {name: str(item[name]) for name in names[table]})] = item
        for table, unprocessed in response.get("UnprocessedKeys", {}).items():
            for raw_key in unprocessed["Keys"]:
                named = {name: str(value) for name, value in from_item(raw_key).items()}
                single = self._dynamodb.get_item(TableName=table, Key=raw_key,
                                                 ConsistentRead=True).get("Item")
                items[_key(table, named)] = from_item(single) if single else None
        return items

    def _get(self, table: str, key: str, **more_key: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=table,
                                           Key=to_item({"tenantId": key, **more_key}),
                                           ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def _load_tenant(self, tenant_id: str) -> TenantRecord | None:
        return tenant_record(self._get(self._tables.tenant_details, tenant_id))

    def _load_user(self, tenant_id: str, user_name: str) -> UserRecord | None:
        item = self._get(self._tables.tenant_user_mapping, tenant_id, userName=user_name)
        return UserRecord.from_item(item) if item else None

    def _load_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        item = self._get(self._tables.tenant_stack_mapping, deployment_id)
        return DeploymentRecord.from_item(item) if item else None
