from __future__ import annotations

import pytest

from tests.support.admin_api_client import AdminApi
from tests.support.chalice_apps import ClientFor
from tests.support.world import World


@pytest.fixture
def admin_api(client_for: ClientFor, world: World) -> AdminApi:
    return AdminApi(client_for("shared_services"), world)
