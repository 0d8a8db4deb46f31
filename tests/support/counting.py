"""Counting real calls (AWS API calls, JWKS fetches) without replacing anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:
    from botocore.client import BaseClient


class CallCounter:
    """Counts one AWS operation on a real boto3 client via botocore's event hooks."""

    def __init__(self, client: BaseClient, service: str, operation: str) -> None:
        self.count = 0
        client.meta.events.register(f"before-call.{service}.{operation}", self._seen)

    def _seen(self, **_: Any) -> None:
        self.count += 1


class CountingKeyClients:
    """A PyJWKClient factory whose clients count real JWKS fetches."""

    def __init__(self) -> None:
        self.fetches = 0
        counter = self

        class CountingClient(jwt.PyJWKClient):
            def fetch_data(self) -> Any:
                counter.fetches += 1
                return super().fetch_data()

        self._client_class = CountingClient

    def factory(self, **options: Any) -> Callable[[str], jwt.PyJWKClient]:
        settings = {"lifespan": 3600, "cooldown_duration": 60, "timeout": 5, **options}
        return lambda url: self._client_class(url, **settings)
