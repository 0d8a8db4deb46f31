"""moto in server mode, in-process, on a free loopback port (one per test session)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

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


def clients_for(endpoint: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=REGION)
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]
        return cache[service]

    return client
