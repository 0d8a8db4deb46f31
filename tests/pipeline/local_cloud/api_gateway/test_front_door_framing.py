"""Malformed HTTP framing gets an answer, never a dropped connection (real sockets, a tiny real
upstream that must hear nothing of it)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from pipeline.local_cloud.api_gateway.front_door import FrontDoor
from tests.support.echo_upstream import Upstreams, routes


@pytest.fixture
def door() -> Iterator[tuple[FrontDoor, Upstreams]]:
    upstream = Upstreams()
    upstream.thread.start()
    front_door = FrontDoor(0, routes(upstream.port))
    front_door.start()
    try:
        yield front_door, upstream
    finally:
        front_door.stop()
        upstream.server.shutdown()
        upstream.server.server_close()


def exchange(front_door: FrontDoor, request: bytes) -> tuple[int, dict[str, str]]:
    host, port = front_door.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


@pytest.mark.parametrize(("length_header", "status", "said"), [
    (b"Content-Length: abc\r\n", 400, "is not a length in bytes"),
    (b"Content-Length: -5\r\n", 400, "is not a length in bytes"),
    ("Content-Length: ١٢\r\n".encode(), 400, "is not a length in bytes"),
    (b"Content-Length: 99999999999\r\n", 400, "is not a length in bytes"),
    (b"Content-Length: 20000000\r\n", 413, "over API Gateway's"),
    (b"Transfer-Encoding: chunked\r\n", 411, "send the body with a Content-Length"),
])
def test_malformed_framing_is_answered_and_never_forwarded(
        door: tuple[FrontDoor, Upstreams], length_header: bytes, status: int,
        said: str) -> None:
    front_door, upstream = door
    request = (b"POST /admin/registration HTTP/1.1\r\nHost: x\r\n" + length_header
               + b"Connection: close\r\n\r\n{}")
    answered, body = exchange(front_door, request)
    assert answered == status
    assert said in body["message"]
    assert upstream.hits == []


def test_a_well_framed_request_still_goes_through(door: tuple[FrontDoor, Upstreams]) -> None:
    front_door, upstream = door
    answered, _ = exchange(front_door, b"POST /admin/registration HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert answered == 200
    assert upstream.hits == [("POST", "/registration")]
