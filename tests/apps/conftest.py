from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from chalice.test import Client

from pipeline.local.bootstrap import BaselineResult
from pipeline.local.paths import PROJECT_ROOT
from tests.support.apps import load_app

ClientFor = Callable[[str], Client]


@pytest.fixture
def client_for(baseline: BaselineResult) -> Iterator[ClientFor]:
    """A chalice.test.Client for an app folder; requests run the real built-in authorizer."""
    clients: list[Client] = []

    def make(directory: str) -> Client:
        client = Client(load_app(directory), stage_name="local",
                        project_dir=str(PROJECT_ROOT / directory))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
