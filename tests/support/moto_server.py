"""moto in server mode, in-process, on a free loopback port (one per test session)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from pipeline.local_cloud.local_platform import emulator_clients, emulator_session
from tenant_context.platform.aws_clients import AwsClients
from tests.support.observed_session import Observe, ObservedSession

REGION = "us-east-1"
ACCOUNT = "123456789012"


@contextmanager
def running_emulator() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY"] = "HASH"
    os.environ["MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY"] = "HASH"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def clients_for(endpoint: str, observe: Observe | None = None) -> AwsClients:
    """Fresh clients of the emulator at ``endpoint`` (``observe``: see ``ObservedSession``)."""
    if observe is None:
        return emulator_clients(endpoint)
    return emulator_clients(endpoint, emulator_session(functools.partial(ObservedSession,
                                                                          observe)))
