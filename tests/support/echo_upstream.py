"""A tiny real upstream for the front door's tests and benchmark: one loopback HTTP server
standing in for every app, and the route table that points the deployments at it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.local_cloud.api_gateway.front_door import RouteTable, Upstream
from pipeline.local_cloud.chalice_local import tenant_service_app
from pipeline.local_cloud.local_platform import BASELINE_DEPLOYMENTS
from pipeline.local_cloud.processes import LOOPBACK
from tenant_context.platform.definitions import api_name
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES


class Upstreams:
    """One loopback HTTP server standing in for every app: it answers 200 with what it got."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []
        hits = self.hits

        class Echo(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def answer(self) -> None:
                hits.append((self.command, self.path))
                body = json.dumps({"method": self.command, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_OPTIONS = answer  # noqa: N815

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Echo)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


def routes(port: int) -> RouteTable:
    table = RouteTable()
    table.set("admin", (Upstream(("/",), port, "admin"),))
    table.set("pooled", tuple(Upstream(app.path_prefixes, port, api_id)
                              for app, api_id in BASELINE_DEPLOYMENTS[POOLED_DEPLOYMENT]))
    first = TENANT_SERVICES[0]  # a deployment serving one service only
    table.set("tenant-x", (Upstream(tenant_service_app(first).path_prefixes, port,
                                    api_name("tenant-x", first.name)),))
    return table
