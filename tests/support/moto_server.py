"""moto in server mode, in-process, on a free loopback port (one per test session)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

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
    options: dict[str, Any] = {"aws_access_key_id": "local", "aws_secret_access_key": "local",
                               "region_name": REGION}
    session = (boto3.session.Session(**options) if observe is None
               else ObservedSession(observe, **options))
    return AwsClients(session, endpoint)
