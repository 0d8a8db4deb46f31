"""The shared-services app served with collaborators a test chose, through its real routes,
authorizer and error mapping: a client that fails (fault injection over HTTP) or one that
counts calls. Only the clients differ from production wiring; the ControlPlane is the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tenant_context.config import PlatformConfig
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.service.tenant_tables import ClientFactory
from tests.support.control_plane_parts import SERVING, ControlPlane
from tests.support.moto_server import clients_for


@contextmanager
def served_with(clients: AwsClients, *,
                scoped: ClientFactory | None = None) -> Iterator[ControlPlane]:
    """Requests handled inside the block use ``clients`` for the function's own AWS clients and
    ``scoped`` (default: the production factory) for the caller's scoped DynamoDB clients.

    Call it after the app is loaded (the ``admin_api`` fixture): the configuration is the
    environment the app's local stage set up.
    """
    plane = ControlPlane(PlatformConfig.from_environ(), clients=clients, scoped_clients=scoped)
    with SERVING.use(plane):
        yield plane


def replacing(emulator_url: str, service: str, wrap: Callable[[Any], Any]) -> AwsClients:
    """Fresh emulator clients where ``service``'s client (boto3's name for it) is ``wrap``-ped
    (fresh, so a test's wrappers and counters never reach other tests' clients)."""
    def observe(client: Any) -> Any:
        return wrap(client) if client.meta.service_model.service_name == service else client

    return clients_for(emulator_url, observe)
