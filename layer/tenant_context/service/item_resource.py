"""REST conventions of the tenant API, and ``ItemResource``: its handlers for one kind of item.

- Versions travel as ETags: every item response carries ``ETag: "<version>"``; a client may
  send ``If-Match: "<version>"`` on PUT/DELETE to change the item only if it is still that
  version (409 otherwise). Without If-Match (the web app) the service checks against the
  version it reads just before writing, which still detects a concurrent change.
- ``?limit=N[&nextToken=...]`` asks for a page ``{items, nextToken}``; without them a listing
  is the complete array.
- Numbers leave as JSON numbers: whole numbers as integers, others as floats.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalice import Response
from chalice.app import Request

from tenant_context.errors import BadRequestError, ConfigurationError
from tenant_context.service import openapi
from tenant_context.service.chalice_app import PlatformApp
from tenant_context.service.context import TenantContext, request_tenant
from tenant_context.service.openapi import ApiDescription, Operation, Parameter, Reply, Schema
from tenant_context.service.responses import json_response
from tenant_context.service.tenant_items import StoredItem, TenantItems
from tenant_context.service.tenant_tables import TenantTables
from tenant_context.service.validation import (
    MAX_PAGE_SIZE,
    BodySchema,
    parse_json_object,
    whole_number,
)
from tenant_context.service.write_gate import WRITE_GATES, WriteGates
from tenant_context.tenant_services import TenantService

_ETAG = re.compile(r'(?:W/)?"?([0-9]{1,18})"?')


def json_numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [json_numbers(element) for element in value]
    if isinstance(value, dict):
        return {key: json_numbers(element) for key, element in value.items()}
    return value


def expected_version(headers: Mapping[str, str]) -> int | None:
    raw = headers.get("if-match")
    if raw is None:
        return None
    match = _ETAG.fullmatch(raw.strip())
    if not match:
        raise BadRequestError('If-Match: expected an ETag this API returned, like "3"',
                              fields=["If-Match"])
    return int(match.group(1))


def item_response(body: dict[str, Any], stored: StoredItem, status: int = 200) -> Response:
    return json_response(json_numbers(body), status, {"ETag": f'"{stored.version}"'})


def paging(query: Mapping[str, str] | None) -> tuple[int, str | None] | None:
    """(limit, next_token) when the client asks for pages, None for the complete list.

    ``limit`` is read by ``whole_number`` (ASCII digits, bounded). An empty ``nextToken`` is
    refused rather than read as "start again", which would silently hand a client looping over
    pages the first page forever.
    """
    query = query or {}
    if "limit" not in query and "nextToken" not in query:
        return None
    limit = whole_number(query.get("limit", "100"), "limit", 1, MAX_PAGE_SIZE)
    next_token = query.get("nextToken")
    if next_token is not None and not next_token:
        raise BadRequestError("nextToken: empty; leave it out to start at the first page",
                              fields=["nextToken"])
    return limit, next_token


def listing(views: list[dict[str, Any]], next_token: str | None, paged: bool) -> Response:
    if not paged:
        return json_response(json_numbers(views))
    return json_response({"items": json_numbers(views), "nextToken": next_token})


BodyReader = Callable[[dict[str, Any], TenantContext, "ItemResource"], dict[str, Any]]


@dataclass(frozen=True)
class ItemResource:
    """The tenant API's handling of one kind of item (products, orders ...), behind thin
    routes: read the caller and the body, act on the tenant's items, answer, measure."""

    platform: PlatformApp
    service: TenantService  # its registry entry: item kind, id attribute, what it reads
    view: Callable[[StoredItem], dict[str, Any]]
    read_body: BodyReader  # validated attributes from a request body, or a 400
    write_gates: WriteGates = WRITE_GATES  # the process's one cache of tenants' write gates

    @functools.cached_property
    def _tables(self) -> TenantTables:
        # Read on the first request, not at import: ``chalice package`` imports the app
        # without the deployment's variables. A silo missing SILO_TENANT_ID answers 500.
        return TenantTables.from_config(self.platform.config)

    def items_for(self, tenant: TenantContext, kind: TenantService | None = None
                  ) -> TenantItems:
        """The caller's items of this kind, or of a kind the service's entry says it reads
        (an order's products): its silo role may read no other table, so neither may it."""
        kind = kind or self.service
        if kind is not self.service and kind.item not in self.service.reads:
            raise ConfigurationError(f"{self.service.name} reads {kind.item} items, but its "
                                     "registry entry does not list them in reads")
        table_name = self.platform.config.require(kind.table_variable)
        return TenantItems.of(self._tables, tenant, table_name, kind.id_attribute,
                              self.write_gates, kind=kind.item)

    def _request(self) -> tuple[Request, TenantContext, TenantItems]:
        request = self.platform.request()
        tenant = request_tenant(request)
        return request, tenant, self.items_for(tenant)

    def _body(self, request: Request, tenant: TenantContext) -> dict[str, Any]:
        return self.read_body(parse_json_object(request.raw_body), tenant, self)

    def _observe(self, tenant: TenantContext, event: str, done: str,
                 count: int | None = None) -> None:
        """One log line and one metric (``ProductCreated`` ...), as every handler of ours."""
        noun = self.service.noun
        self.platform.observability.observe(f"{noun}{event}", f"{noun.lower()}{done}",
                                            tenant.tenant_id, tenant.tier, count=count)

    def list(self) -> Response:
        request, tenant, items = self._request()
        page = paging(request.query_params)
        found, next_token = items.page(*page) if page else (items.all(), None)
        self._observe(tenant, "sListed", "s listed", len(found))
        return listing([self.view(item) for item in found], next_token, page is not None)

    def create(self) -> Response:
        request, tenant, items = self._request()
        created = items.create(items.new_key(), self._body(request, tenant))
        self._observe(tenant, "Created", " created")
        return item_response(self.view(created), created, 201)

    def get(self, key: str) -> Response:
        _, _, items = self._request()
        item = items.get(items.parse_key(key))
        return item_response(self.view(item), item)

    def replace(self, key: str) -> Response:
        request, tenant, items = self._request()
        item_key = items.parse_key(key)  # another tenant's key: 404 before the body is read
        updated = items.replace(item_key, self._body(request, tenant),
                                expected_version(request.headers))
        self._observe(tenant, "Updated", " updated")
        return item_response(self.view(updated), updated)

    def delete(self, key: str) -> Response:
        request, tenant, items = self._request()
        items.delete(items.parse_key(key), expected_version(request.headers))
        self._observe(tenant, "Deleted", " deleted")
        return json_response({"message": f"{self.service.noun} deleted"})

    def item_schema(self, body: BodySchema[Any]) -> Schema:
        """An item as its view answers it: key, shard and id, then the body's fields (as
        stored: their types, not the rules a request must meet)."""
        key = {"type": "string", "description": "shardId:id, as the item's URL takes it"}
        view = openapi.body_schema(body, strict=False)
        return Schema(self.service.noun, {
            "type": "object",
            "required": ["key", "shardId", self.service.id_attribute, *view["properties"]],
            "properties": {"key": key, "shardId": {"type": "string"},
                           self.service.id_attribute: {"type": "string"},
                           **view["properties"]}})

    def operations(self, body: BodySchema[Any]) -> openapi.Operations:
        """The five routes every tenant service has (``/<item>s``, ``/<item>``,
        ``/<item>/{key}``), as ``tenant_context.service.openapi`` documents them."""
        prefix, noun, item = self.service.route_prefix, self.service.noun, self.item_schema(body)
        versioned = {"ETag": 'the version: "<n>", for If-Match'}
        found = Reply(f"the {noun.lower()}", item, versioned)
        if_match = (Parameter("If-Match", {"type": "string"},
                              'act only on this version ("<n>", from ETag): else 409'),)
        gated = Reply("the tenant's writes are paused while its items move, or it moved to "
                      "another deployment (the message says which): retry after Retry-After",
                      headers={"Retry-After": "seconds"})
        conflict = {409: Reply("the item changed since the version given (or read); or, with "
                               "Retry-After, the tenant's writes are paused while its items "
                               "move (or it moved): retry after Retry-After",
                               headers={"Retry-After": "seconds, when writes are paused"})}
        malformed = {400: Reply("key: not a key this API returned (or a malformed If-Match)")}
        key = (Parameter("key", {"type": "string"}, "shardId:id, the item's key"),)
        return {
            ("GET", f"{prefix}s"): Operation(
                f"the tenant's {noun.lower()}s", {200: Reply("every item, or a page",
                                                             openapi.listing(item))},
                query=openapi.paging_parameters(MAX_PAGE_SIZE)),
            ("POST", prefix): Operation(f"create one {noun.lower()}",
                                        {201: Reply("created", item, versioned), 409: gated},
                                        body=body),
            ("GET", f"{prefix}/{{key}}"): Operation(f"read one {noun.lower()}",
                                                    {200: found, **malformed}, path=key),
            ("PUT", f"{prefix}/{{key}}"): Operation(
                f"replace one {noun.lower()} (never an upsert)", {200: found, **conflict},
                body=body, headers=if_match, path=key),
            ("DELETE", f"{prefix}/{{key}}"): Operation(
                f"delete one {noun.lower()}",
                {200: Reply("deleted", openapi.MESSAGE), **malformed, **conflict},
                headers=if_match, path=key),
        }

    def publish_document(self, body: BodySchema[Any]) -> None:
        """Serves the service's OpenAPI document at its registry's ``document_path``
        (``/products/openapi.json``: under the routes the deployment's base URL sends to it)."""
        openapi.serve_document(self.platform, ApiDescription(
            f"{self.service.noun} service",
            f"The tenant API's {self.service.noun.lower()}s (one part of a deployment's tenant "
            "API; every tenant service publishes its own).", self.operations(body)),
            self.service.document_path)
