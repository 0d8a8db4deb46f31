"""REST conventions of the tenant API, shared by its services.

- Versions travel as ETags: every item response carries ``ETag: "<version>"``; a client may
  send ``If-Match: "<version>"`` on PUT/DELETE to change the item only if it is still that
  version (409 otherwise). Without If-Match (the web app) the service checks against the
  version it reads just before writing, which still detects a concurrent change.
- ``?limit=N[&nextToken=...]`` asks for a page ``{items, nextToken}``; without them a listing
  is the complete array.
- Numbers leave as JSON numbers: whole numbers as integers, others as floats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from chalice import Response

from tenant_context.errors import BadRequestError
from tenant_context.http import json_response
from tenant_context.items import StoredItem

_ETAG = re.compile(r'(?:W/)?"?(\d{1,18})"?')


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
    """(limit, next_token) when the client asks for pages, None for the complete list."""
    query = query or {}
    if "limit" not in query and "nextToken" not in query:
        return None
    raw = query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise BadRequestError("limit: a whole number from 1 to 1000", fields=["limit"])
    return int(raw), query.get("nextToken")


def listing(views: list[dict[str, Any]], next_token: str | None, paged: bool) -> Response:
    if not paged:
        return json_response(json_numbers(views))
    return json_response({"items": json_numbers(views), "nextToken": next_token})
