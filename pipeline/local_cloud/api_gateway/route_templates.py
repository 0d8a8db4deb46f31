"""Which route a request is for, as API Gateway knows it (``$context.resourcePath``).

A request the front door refuses itself (a usage plan's 429) never reaches the app, so nobody
else names its route template; the usage it is metered under must still be ``GET
/product/{key}``, never the concrete path (one name per id would grow without bound). API
Gateway knows its resources because they are built from the app's routes; the front door
learns the same routes from the app's own OpenAPI document, which lists every route as Chalice
routes it, fetched from the app once and matched as ``chalice local`` matches (its
``RouteMatcher``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.request
from typing import Protocol

from chalice.local import RouteMatcher

from pipeline.local_cloud.processes import LOOPBACK

UNKNOWN_ROUTE = "(no route)"  # a path no route of the app matches (API Gateway: 403, not 429)
_FETCH_SECONDS = 5.0


class RoutedUpstream(Protocol):
    @property
    def port(self) -> int: ...

    @property
    def document_path(self) -> str: ...


class RouteTemplates:
    """Route templates per app, read from its document on first need and kept."""

    def __init__(self, fetch_seconds: float = _FETCH_SECONDS) -> None:
        self._fetch_seconds = fetch_seconds
        self._matchers: dict[tuple[int, str], RouteMatcher | None] = {}
        self._lock = threading.Lock()

    def route(self, upstream: RoutedUpstream, method: str, path: str) -> str:
        """``GET /product/{key}`` for ``GET /product/abc`` (path under the deployment's base
        URL); ``GET (no route)`` if the app has no such route or its document is unreadable."""
        matcher = self._matcher(upstream)
        template = UNKNOWN_ROUTE
        if matcher is not None:
            with contextlib.suppress(ValueError):
                template = matcher.match_route(path.split("?", 1)[0]).route
        return f"{method} {template}"

    def _matcher(self, upstream: RoutedUpstream) -> RouteMatcher | None:
        key = (upstream.port, upstream.document_path)
        with self._lock:
            if key in self._matchers:
                return self._matchers[key]
        matcher = self._read(upstream)
        with self._lock:
            if matcher is not None:  # an app still starting is asked again next time
                self._matchers[key] = matcher
        return matcher

    def _read(self, upstream: RoutedUpstream) -> RouteMatcher | None:
        if not upstream.document_path:
            return None
        url = f"http://{LOOPBACK}:{upstream.port}{upstream.document_path}"
        try:
            with urllib.request.urlopen(url, timeout=self._fetch_seconds) as answer:
                document = json.load(answer)
        except (OSError, ValueError):
            return None
        paths = document.get("paths") if isinstance(document, dict) else None
        return RouteMatcher(list(paths)) if isinstance(paths, dict) and paths else None
