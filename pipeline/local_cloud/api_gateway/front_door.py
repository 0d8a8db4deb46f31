"""The local front door: ONE base URL per deployment, as API Gateway gives one per API.

``http://127.0.0.1:<port>/<deployment>/<path>`` is forwarded to the ``chalice local`` process
serving that path (``/admin/tenants`` -> shared services; ``/pooled/products`` -> product
service, ``/pooled/orders`` -> order service). Like API Gateway's gateway responses, errors the
gateway itself produces (and ``chalice local``'s authorizer 401/403) carry CORS headers.
Routes can be added and withdrawn while it runs (a Platinum tenant's deployment coming up or
stopping).

Given an authorization step and a usage-plan enforcer, it also does what API Gateway does after
the authorizer and before the integration: meters the request against the usage plan of the API
key the authorizer named, answering 429 (or 403 for a key no plan knows) itself. A request the
authorizer refuses goes on unmetered, so the upstream answers its 401 or 403; a CORS preflight
(OPTIONS) needs no token and is never metered. Without them it only forwards.

Given a ``HandOff`` too, it hands the upstream the authorizer's decision (``handoff``), sealed
for that request, so the upstream does not authorize again. Whatever it is given, it strips
the hand-off header from every incoming request: only the front door's own seal reaches a
service.

Given a ``ThrottleMeter``, the 429s it answers are metered to the tenant the authorizer named,
under the route template (``route_templates``): the local source of throttled requests in
the tenants' usage, as the API stages' access logs are on AWS.

Given a sign-up gate, it limits ``POST /registration`` of the admin API per source address and
overall before anything else (as the pooled stack's WAF does in front of API Gateway on AWS:
``signup_limits``), answering 429 with ``Retry-After``.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from pipeline.local_cloud.api_gateway.authorization import (
    AuthorizationStep,
    Authorized,
    Decision,
    GatewayRequest,
    method_arn,
)
from pipeline.local_cloud.api_gateway.handoff import HANDOFF_HEADER, HandOff
from pipeline.local_cloud.api_gateway.route_templates import RouteTemplates
from pipeline.local_cloud.api_gateway.signup_limits import SignupGate
from pipeline.local_cloud.api_gateway.usage_plans import Refusal, UsagePlanEnforcer
from pipeline.local_cloud.processes import LOOPBACK
from tenant_context.errors import UnauthorizedError
from tenant_context.service.context import TenantContext
from tenant_context.service.responses import cors_headers
from tenant_context.service.usage_meter import THROTTLED_STATUS, UsageMeter

_log = logging.getLogger(__name__)
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                         "te", "trailers", "transfer-encoding", "upgrade", "host",
                         "content-length", "server", "date"})  # the last two: ours are sent
_NOT_FORWARDED = _HOP_BY_HOP | {HANDOFF_HEADER.lower()}  # a client's "decision" never passes


# chalice local listens with socketserver's default backlog (5 connections waiting to be
# accepted); a burst beyond it on a busy process gets connections reset. Like API Gateway in
# front of Lambda, the front door queues requests instead of passing the burst on.
MAX_IN_FLIGHT_PER_SERVICE = 5


@dataclass(frozen=True)
class Upstream:
    path_prefixes: tuple[str, ...]  # e.g. ("/product",) matches /product and /products/...
    port: int
    api_id: str  # the app's local API id (LOCAL_GATEWAY_API_ID): what its authorizer is asked
    document_path: str = ""  # its OpenAPI document: the routes a refused request is metered by
    in_flight: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_IN_FLIGHT_PER_SERVICE),
        compare=False, repr=False)
    retired: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    def retire(self, timeout: float = 60) -> None:
        """No new request goes here (one that resolved it meanwhile finds the route's new
        upstream); returns once the requests it is serving have finished."""
        self.retired.set()
        deadline = time.monotonic() + timeout
        held = 0
        while held < MAX_IN_FLIGHT_PER_SERVICE and \
                self.in_flight.acquire(timeout=max(0.0, deadline - time.monotonic())):
            held += 1
        for _ in range(held):
            self.in_flight.release()


class Route(NamedTuple):
    deployment: str  # the first path segment: the deployment's base URL
    upstream: Upstream
    path: str  # the rest: the path under that base URL


class RouteTable:
    def __init__(self) -> None:
        self._routes: dict[str, tuple[Upstream, ...]] = {}
        self._lock = threading.Lock()

    def set(self, deployment: str, upstreams: tuple[Upstream, ...]) -> tuple[Upstream, ...]:
        """Route the deployment to ``upstreams``; what it was routed to before."""
        with self._lock:
            previous = self._routes.get(deployment, ())
            self._routes[deployment] = upstreams
        return previous

    def remove(self, deployment: str) -> None:
        """Its base URL is no longer served (404), as for an API that does not exist."""
        with self._lock:
            self._routes.pop(deployment, None)

    def resolve(self, path: str) -> Route | None:
        segments = path.split("/", 2)  # ["", deployment, rest]
        deployment = segments[1] if len(segments) > 1 else ""
        rest = "/" + (segments[2] if len(segments) > 2 else "")
        with self._lock:
            upstreams = self._routes.get(deployment, ())
        for upstream in upstreams:
            if any(rest.startswith(prefix) for prefix in upstream.path_prefixes):
                return Route(deployment, upstream, rest)
        return None


@dataclass(frozen=True)
class ThrottleMeter:
    """Where the 429s the front door answers itself are metered: they never reach an app, so
    no service function records them (on AWS they come from the access logs instead)."""

    usage: UsageMeter
    routes: RouteTemplates = field(default_factory=RouteTemplates)

    def throttled(self, route: Route, method: str, decision: Decision | None) -> None:
        if not isinstance(decision, Authorized) or decision.response is None:
            return
        try:
            tenant = TenantContext.from_authorizer_context(decision.response.get("context", {}))
        except UnauthorizedError:
            return
        if not tenant.is_operations:
            self.usage.record(tenant.tenant_id,
                              self.routes.route(route.upstream, method, route.path), 429)


@dataclass(frozen=True)
class UsagePlanGate:
    authorize: AuthorizationStep
    usage_plans: UsagePlanEnforcer

    def decide(self, route: Route, method: str, authorization: str | None
               ) -> tuple[Refusal | None, Decision | None]:
        """The usage plan's refusal, if any, and the authorizer's decision (None for a
        preflight, or when the authorizer failed)."""
        if method == "OPTIONS":  # API Gateway's CORS preflight has no authorizer and no key
            return None, None
        decision = self.authorize(GatewayRequest(route.upstream.api_id, method, route.path,
                                                 authorization))
        if not isinstance(decision, Authorized):
            return None, decision
        return self.usage_plans.admit(decision.usage_key, route.deployment), decision


def _for_upstream(decision: Decision | None, target: Route, method: str) -> bool:
    """Whether the decision can be handed to ``target``: it holds the authorizer's response
    (a step that names a key only hands nothing over), made for this upstream's route (a
    release never changes an API id; if one did, the new upstream authorizes itself)."""
    if decision is None or (isinstance(decision, Authorized) and decision.response is None):
        return False
    return decision.method_arn == method_arn(
        GatewayRequest(target.upstream.api_id, method, target.path, None))


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of new connections beyond it is
    # refused and retried by the client after a second. API Gateway takes the burst (and
    # throttles it by plan), so the front door accepts it and queues.
    request_queue_size = 128
    daemon_threads = True


ChangeListener = Callable[[str], None]  # told the deployment a successful change went to
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FrontDoor:
    def __init__(self, port: int, routes: RouteTable, *,
                 authorize: AuthorizationStep | None = None,
                 usage_plans: UsagePlanEnforcer | None = None,
                 signups: SignupGate | None = None,
                 after_change: ChangeListener | None = None,
                 handoff: HandOff | None = None,
                 throttles: ThrottleMeter | None = None) -> None:
        """``after_change`` hears of every change an API accepted (2xx to POST, PUT, PATCH or
        DELETE), before the answer is sent: the local deployer acts on a registration or a
        deactivation at once instead of at its next poll. ``handoff`` seals the authorizer's
        decision for the upstream (the same secret as the upstreams' environment).
        ``throttles`` meters the 429s the usage plans answer to the tenant the authorizer
        named."""
        if (authorize is None) != (usage_plans is None):
            raise ValueError("usage plans are applied to what the authorizer returns: "
                             "give both or neither")
        if handoff is not None and authorize is None:
            raise ValueError("a hand-off carries the authorizer's decision: give the authorizer")
        self.routes = routes
        gate = UsagePlanGate(authorize, usage_plans) if authorize and usage_plans else None
        handler = type("FrontDoorHandler", (_Handler,), {
            "routes": routes, "gate": gate, "signups": signups, "handoff": handoff,
            "throttles": throttles,
            "after_change": staticmethod(after_change) if after_change else None})
        self._server = _Server((LOOPBACK, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_LENGTH = re.compile(r"[0-9]{1,9}")  # ASCII digits: "١٢" is no length
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's REST payload limit


class _Handler(BaseHTTPRequestHandler):
    routes: RouteTable
    gate: UsagePlanGate | None
    signups: SignupGate | None
    handoff: HandOff | None
    throttles: ThrottleMeter | None
    after_change: ChangeListener | None
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle's algorithm the body then waits for
    # the client's delayed ACK (~40 ms on Linux) on every request of a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the services log their own requests

    def _body_length(self) -> int | None:
        """The body's length as the request frames it, or None after answering a framing
        API Gateway also refuses (and closing: where this body ends cannot be known)."""
        raw = self.headers.get("Content-Length")
        refusal = None
        if self.headers.get("Transfer-Encoding"):
            refusal = (411, "Transfer-Encoding is not accepted: send the body with a "
                            "Content-Length")
        elif raw is not None and not _LENGTH.fullmatch(raw.strip()):
            refusal = (400, f"Content-Length {raw[:20]!r} is not a length in bytes")
        elif raw is not None and int(raw) > MAX_PAYLOAD_BYTES:
            refusal = (413, f"the body is over API Gateway's {MAX_PAYLOAD_BYTES} bytes")
        if refusal is not None:
            self.close_connection = True
            self._reply(refusal[0], {"message": refusal[1]}, {"Connection": "close"})
            return None
        return int(raw) if raw else 0

    def _forward(self) -> None:
        target = self.routes.resolve(self.path.split("?", 1)[0])
        length = self._body_length()
        if length is None:
            return
        body = self.rfile.read(length) if length else None
        if target is None:
            self._reply(404, {"message": f"No API serves {self.path}"})
            return
        if self.signups is not None:  # WAF comes before API Gateway
            limited = self.signups.refusal(target.deployment, self.command, target.path,
                                           self.client_address[0])
            if limited is not None:
                self._reply(limited.refusal.status, limited.refusal.body(), limited.headers())
                return
        decision = None
        if self.gate is not None:
            refusal, decision = self.gate.decide(target, self.command,
                                                 self.headers.get("Authorization"))
            if refusal is not None:
                if self.throttles is not None and refusal.status == THROTTLED_STATUS:
                    self.throttles.throttled(target, self.command, decision)
                self._reply(refusal.status, refusal.body(),
                            {"x-amzn-ErrorType": refusal.error_type})
                return
        query = self.path.partition("?")[2]
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in _NOT_FORWARDED}
        answer = None
        for _ in range(3):  # one retirement per release; more would be a bug, not a wait
            try:
                answer = self._exchange(target, query, body, headers, decision)
            except OSError as error:
                _log.warning("forwarding %s %s to port %d failed: %r", self.command, self.path,
                             target.upstream.port, error)
                self._reply(502, {"message": "The service behind this route is not running"})
                return
            if answer is not None:
                break
            # Retired by a release after this request found it: the route's new upstream.
            next_target = self.routes.resolve(self.path.split("?", 1)[0])
            if next_target is None:
                self._reply(404, {"message": f"No API serves {self.path}"})
                return
            target = next_target
        if answer is None:
            self._reply(502, {"message": "The service behind this route is being replaced"})
            return
        response, payload = answer
        response_headers = {name: value for name, value in response.getheaders()
                            if name.lower() not in _HOP_BY_HOP}
        if not any(name.lower() == "access-control-allow-origin" for name in response_headers):
            response_headers |= cors_headers()
        if self.after_change and self.command in _CHANGES and 200 <= response.status < 300:
            # Before the reply: whoever acts on the answer finds the deployer already told.
            self.after_change(target.deployment)
        self._send(response.status, response_headers, payload)

    def _exchange(self, target: Route, query: str, body: bytes | None,
                  headers: dict[str, str], decision: Decision | None
                  ) -> tuple[http.client.HTTPResponse, bytes] | None:
        """The upstream's response, or None if the upstream was retired. The decision is
        sealed once the upstream's slot is held, so time queued here does not age it."""
        upstream = target.upstream
        with upstream.in_flight:
            if upstream.retired.is_set():
                return None
            if self.handoff is not None and _for_upstream(decision, target, self.command):
                assert decision is not None
                headers = headers | {HANDOFF_HEADER: self.handoff.seal(
                    decision.method_arn, self.headers.get("Authorization"), decision.response)}
            connection = http.client.HTTPConnection(LOOPBACK, upstream.port, timeout=120)
            try:
                connection.request(self.command, target.path + (f"?{query}" if query else ""),
                                   body=body, headers=headers)
                response = connection.getresponse()
                return response, response.read()
            finally:
                connection.close()

    def _reply(self, status: int, body: dict[str, str],
               headers: dict[str, str] | None = None) -> None:
        self._send(status,
                   {"Content-Type": "application/json", **cors_headers(), **(headers or {})},
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
