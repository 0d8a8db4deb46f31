"""Each tenant's own API key on its tier's usage plan: the fair share of a tier.

API Gateway applies a usage plan's throttle and quota per API KEY: tenants sharing one key per
tier would share one quota, and one noisy tenant could exhaust its whole tier for the day. So
every tenant gets a key of its own at registration, on its tier's plan (a Platinum tenant's key
also goes on its own deployment's plan, by its stack). The authorizer returns the tenant's key
(``usageIdentifierKey``, key source AUTHORIZER); tenants never see or choose it.

Keys are found by NAME (``<platform>-tenant-<tenant id>-<tier>``), never by a stored id: the
name is the tenant's, and the local emulator gives a key a new id each time it replays its
recording. We choose each key's value for the same reason (a replayed key keeps it).

A tier move cannot move a key: API Gateway refuses a key on two plans that share an API stage,
and taking it off the old plan first leaves a moment with no plan (403). So a move issues a new
key on the new plan and keeps the previous one on its old plan: the authorizer's tenant cache
and API Gateway's authorizer cache may hand out the previous key for a while (90 s at most), and
it must still be metered, not refused. The move after that deletes it: a tenant holds at most
two keys.

Limits (default quotas per region): 10,000 API keys (about 5,000 tenants if all of them moved
tier once; raisable) and 10 plans per key (a key here is on at most two). At the key limit
``issue`` raises ``ApiKeyLimitError`` and creates nothing.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenant_context.platform.definitions import PLATFORM

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient

_KEY_PREFIX = f"{PLATFORM}-tenant-"
_VALUE_BYTES = 20  # 40 hex characters; API Gateway wants at least 20
_PAGE = 500  # the largest page API Gateway's GetApiKeys serves


class ApiKeyLimitError(Exception):
    """The account's API key quota in this region is used up: nobody else can be onboarded
    until it is raised (Service Quotas) or keys are freed."""


def tenant_key_prefix(tenant_id: str) -> str:
    return f"{_KEY_PREFIX}{tenant_id}-"


def tenant_key_name(tenant_id: str, plan: str) -> str:
    return f"{tenant_key_prefix(tenant_id)}{plan}"


def key_tenant_and_plan(name: str) -> tuple[str, str] | None:
    """(tenant id, plan) from a tenant key's name; None for any other key."""
    if not name.startswith(_KEY_PREFIX):
        return None
    tenant_id, _, plan = name.removeprefix(_KEY_PREFIX).partition("-")
    return (tenant_id, plan) if tenant_id and plan else None


@dataclass(frozen=True)
class TenantKey:
    key_id: str
    name: str
    value: str
    enabled: bool


def api_key_pages(apigateway: APIGatewayClient, **query: Any) -> Iterator[dict[str, Any]]:
    """Every API key (with its value) that the query selects."""
    pages = apigateway.get_paginator("get_api_keys").paginate(
        includeValues=True, PaginationConfig={"PageSize": _PAGE}, **query)
    for page in pages:
        yield from (dict(key) for key in page.get("items", []))


def ensure_on_plan(apigateway: APIGatewayClient, plan_id: str, key_id: str) -> bool:
    """Link the key to the plan unless it already is (linking twice is an error); True when
    it had to."""
    pages = apigateway.get_paginator("get_usage_plan_keys").paginate(
        usagePlanId=plan_id, PaginationConfig={"PageSize": _PAGE})
    if any(linked["id"] == key_id for page in pages for linked in page.get("items", [])):
        return False
    apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    return True


class TenantApiKeys:
    """Issues, moves, switches off and removes tenants' keys. ``plan_ids`` maps a usage plan's
    name (a tier's value) to its id, read when needed (the deployer records them)."""

    def __init__(self, apigateway: APIGatewayClient,
                 plan_ids: Callable[[], Mapping[str, str]]) -> None:
        self._apigateway = apigateway
        self._plan_ids = plan_ids

    def issue(self, tenant_id: str, plan: str) -> TenantKey:
        """A new enabled key on the plan. Nothing is left behind when linking it fails."""
        plan_id = self._plan_ids().get(plan)
        if not plan_id:
            raise LookupError(f"usage plan {plan} is not recorded: run the deployer")
        try:
            created = self._apigateway.create_api_key(
                name=tenant_key_name(tenant_id, plan), enabled=True,
                value=secrets.token_hex(_VALUE_BYTES))
        except self._apigateway.exceptions.LimitExceededException as limit:
            raise ApiKeyLimitError(
                "the account's API key quota in this region is used up") from limit
        key = TenantKey(created["id"], created["name"], created["value"], enabled=True)
        try:
            self._apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key.key_id,
                                                   keyType="API_KEY")
        except Exception:
            self._apigateway.delete_api_key(apiKey=key.key_id)
            raise
        return key

    def keys_of(self, tenant_id: str) -> list[TenantKey]:
        prefix = tenant_key_prefix(tenant_id)
        return [TenantKey(key["id"], key["name"], key.get("value", ""),
                          bool(key.get("enabled")))
                for key in api_key_pages(self._apigateway, nameQuery=prefix)
                if str(key.get("name", "")).startswith(prefix)]

    def move(self, tenant_id: str, current_value: str, plan: str) -> TenantKey:
        """A key on the new plan; the current one is kept (see the module's docstring), any
        older one is deleted first."""
        for key in self.keys_of(tenant_id):
            if key.value != current_value:
                self._delete(key.key_id)
        return self.issue(tenant_id, plan)

    def set_enabled(self, tenant_id: str, enabled: bool) -> None:
        """API Gateway refuses a disabled key (403) before the authorizer's answer is used."""
        for key in self.keys_of(tenant_id):
            if key.enabled != enabled:
                self._apigateway.update_api_key(apiKey=key.key_id, patchOperations=[
                    {"op": "replace", "path": "/enabled", "value": str(enabled).lower()}])

    def remove(self, tenant_id: str, *, keep: str | None = None) -> None:
        """Delete the tenant's keys (all, or all but the one with value ``keep``)."""
        for key in self.keys_of(tenant_id):
            if key.value != keep:
                self._delete(key.key_id)

    def discard(self, key: TenantKey) -> None:
        """Undo an ``issue`` whose record was never written."""
        self._delete(key.key_id)

    def _delete(self, key_id: str) -> None:
        with contextlib.suppress(self._apigateway.exceptions.NotFoundException):
            self._apigateway.delete_api_key(apiKey=key_id)  # already gone: what we wanted
