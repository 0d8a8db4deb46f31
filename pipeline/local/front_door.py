"""The local front door: ONE base URL per deployment, as API Gateway gives one per API.

``http://127.0.0.1:<port>/<deployment>/<path>`` is forwarded to the ``chalice local`` process
serving that path (``/admin/tenants`` -> shared services; ``/pooled/products`` -> product
service, ``/pooled/orders`` -> order service). Like API Gateway's gateway responses, errors the
gateway itself produces (and ``chalice local``'s authorizer 401/403) carry CORS headers.
Routes can be added while it runs (a Platinum tenant's deployment coming up).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.local.processes import LOOPBACK
from tenant_context.http import cors_headers

_log = logging.getLogger(__name__)
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                         "te", "trailers", "transfer-encoding", "upgrade", "host",
                         "content-length", "server", "date"})  # the last two: ours are sent


# chalice local listens with socketserver's default backlog (5 connections waiting to be
# accepted); a burst beyond it on a busy process gets connections reset. Like API Gateway in
# front of Lambda, the front door queues requests instead of passing the burst on.
MAX_IN_FLIGHT_PER_SERVICE = 5


@dataclass(frozen=True)
class Upstream:
    path_prefixes: tuple[str, ...]  # e.g. ("/product",) matches /product and /products/...
    port: int
    in_flight: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_IN_FLIGHT_PER_SERVICE),
        compare=False, repr=False)


class RouteTable:
    def __init__(self) -> None:
        self._routes: dict[str, tuple[Upstream, ...]] = {}
        self._lock = threading.Lock()

    def set(self, deployment: str, upstreams: tuple[Upstream, ...]) -> None:
        with self._lock:
            self._routes[deployment] = upstreams

    def resolve(self, path: str) -> tuple[Upstream, str] | None:
        segments = path.split("/", 2)  # ["", deployment, rest]
        deployment = segments[1] if len(segments) > 1 else ""
        rest = "/" + (segments[2] if len(segments) > 2 else "")
        with self._lock:
            upstreams = self._routes.get(deployment, ())
        for upstream in upstreams:
            if any(rest.startswith(prefix) for prefix in upstream.path_prefixes):
                return upstream, rest
        return None


class FrontDoor:
    def __init__(self, port: int, routes: RouteTable) -> None:
        self.routes = routes
        handler = type("FrontDoorHandler", (_Handler,), {"routes": routes})
        self._server = ThreadingHTTPServer((LOOPBACK, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    routes: RouteTable
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the services log their own requests

    def _forward(self) -> None:
        target = self.routes.resolve(self.path.split("?", 1)[0])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if target is None:
            self._reply(404, {"message": f"No API serves {self.path}"})
            return
        upstream, path = target
        query = self.path.partition("?")[2]
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(LOOPBACK, upstream.port, timeout=120)
        try:
            with upstream.in_flight:
                connection.request(self.command, path + (f"?{query}" if query else ""),
                                   body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
        except OSError as error:
            _log.warning("forwarding %s %s to port %d failed: %r", self.command, self.path,
                         upstream.port, error)
            self._reply(502, {"message": "The service behind this route is not running"})
            return
        finally:
            connection.close()
        response_headers = {name: value for name, value in response.getheaders()
                            if name.lower() not in _HOP_BY_HOP}
        if not any(name.lower() == "access-control-allow-origin" for name in response_headers):
            response_headers |= cors_headers()
        self._send(response.status, response_headers, payload)

    def _reply(self, status: int, body: dict[str, str]) -> None:
        self._send(status, {"Content-Type": "application/json", **cors_headers()},
                   json.dumps(body).encode())

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    # BaseHTTPRequestHandler dispatches on these exact names.
    do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815
    do_PATCH = do_OPTIONS = do_HEAD = _forward  # noqa: N815
