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


class OperationLog:
    """Every AWS operation the watched boto3 clients send, in order (``"dynamodb.GetItem"``),
    via botocore's event hooks: what a cold path costs, counted rather than timed."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def watch(self, client: BaseClient) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.service_id.hyphenize()}.{model.name}")

    def take(self) -> list[str]:
        """The operations since the last ``take``."""
        taken, self.calls = self.calls, []
        return taken


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
