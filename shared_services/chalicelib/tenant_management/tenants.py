"""Reading tenant records, with the caller's scoped credentials.

The SystemAdmin and CustomerSupport session policies allow reading the tenant table; a
CustomerSupport caller's credentials cannot write it, whatever a handler does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tenant_context.context import ScopedCredentials, TenantContext
from tenant_context.dynamo import from_item

# What GET /tenants returns of each record (the admin console's columns).
PUBLIC_FIELDS = ("tenantId", "tenantName", "tenantEmail", "tenantPhone", "tenantAddress",
                 "tenantTier", "isActive", "apiGatewayUrl")


class TenantCatalog:
    def __init__(self, table_name: str,
                 clients: Callable[[ScopedCredentials | None], Any]) -> None:
        self._table_name = table_name
        self._clients = clients

    def all_tenants(self, caller: TenantContext) -> Iterator[dict[str, Any]]:
        """Every tenant, following the scan to its last page."""
        client = self._clients(caller.credentials)
        request: dict[str, Any] = {"TableName": self._table_name}
        while True:
            response = client.scan(**request)
            for item in response.get("Items", []):
                record = from_item(item)
                yield {field: record[field] for field in PUBLIC_FIELDS if field in record}
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
