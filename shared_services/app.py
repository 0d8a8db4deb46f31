"""Shared services: the admin API (control plane). Routes only: parse, call a module, return."""

from __future__ import annotations

import functools

from chalice import Response

from chalicelib.tenant_management.tenants import TenantCatalog
from tenant_context.context import request_tenant
from tenant_context.http import CORS, json_response
from tenant_context.resources import TENANT_DETAILS_TABLE
from tenant_context.storage import DynamoDBClients
from tenant_context.wiring import platform_app

platform = platform_app("shared-services")
app = platform.app


@functools.cache
def tenant_catalog() -> TenantCatalog:
    config = platform.config
    return TenantCatalog(config.require(TENANT_DETAILS_TABLE.env_var),
                         DynamoDBClients(config.region))


@app.route("/tenants", methods=["GET"], authorizer=platform.authorizer, cors=CORS)
def list_tenants() -> Response:
    caller = request_tenant(app.current_request)
    return json_response(list(tenant_catalog().all_tenants(caller)))
