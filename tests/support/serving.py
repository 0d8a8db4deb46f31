"""The shared-services app served with collaborators a test chose, through its real routes,
authorizer and error mapping: a client that fails (fault injection over HTTP) or one that
counts calls. Only the clients differ from production wiring; the ControlPlane is the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tenant_context.config import PlatformConfig
from tenant_context.service.context import ScopedCredentials
from tests.support.control_plane_parts import SERVING, ControlPlane
from tests.support.moto_server import clients_for


@contextmanager
def served_with(client: Callable[[str], Any], *,
                scoped: Callable[[ScopedCredentials | None], Any] | None = None
                ) -> Iterator[ControlPlane]:
    """Requests handled inside the block use ``client`` for the function's own AWS clients and
    ``scoped`` (default: the production factory) for the caller's scoped DynamoDB clients.

    Call it after the app is loaded (the ``admin_api`` fixture): the configuration is the
    environment the app's local stage set up.
    """
    plane = ControlPlane(PlatformConfig.from_environ(), client=client, scoped_clients=scoped)
    with SERVING.use(plane):
        yield plane


def replacing(emulator_url: str, service: str,
              wrap: Callable[[Any], Any]) -> Callable[[str], Any]:
    """A client factory on fresh emulator clients where ``service``'s client is ``wrap``-ped
    (fresh, so a test's wrappers and counters never reach other tests' clients)."""
    clients = clients_for(emulator_url)
    wrapped: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name != service:
            return clients(name)
        if name not in wrapped:
            wrapped[name] = wrap(clients(name))
        return wrapped[name]

    return client
