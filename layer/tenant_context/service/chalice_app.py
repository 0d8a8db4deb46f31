"""One call that gives a Chalice app the platform's cross-cutting behaviour.

Errors map to the contract's responses (``tenant_context.service.responses``); the Powertools
decorators run as Chalice middleware; each authorized request binds its tenant to logs and
traces, and a tenant's request is metered (``request_metering``); views read their own request
from ``PlatformApp.request`` (never ``app.current_request``, see there).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from chalice import Chalice, ConvertToMiddleware, Response
from chalice.app import Request

from tenant_context.config import PlatformConfig
from tenant_context.errors import UnauthorizedError
from tenant_context.service.context import request_tenant
from tenant_context.service.observability import Observability
from tenant_context.service.request_metering import (
    PeriodicFlush,
    meter_from_config,
    metering_middleware,
)
from tenant_context.service.responses import CORS, error_middleware
from tenant_context.service.route_authorizer import route_authorizer
from tenant_context.service.usage_meter import UsageMeter

# The request this thread is handling. Chalice keeps ``app.current_request`` on the app object,
# shared by every thread: ``chalice local`` serves requests on concurrent threads, where a view
# reading it could act on another request (another tenant's: seen as 44 wrong answers in 400
# concurrent listings). Middleware is handed each call's own request; it is kept here.
_current_request: ContextVar[Request | None] = ContextVar("current_request", default=None)


def _remember_request(event: Request, get_response: Callable[[Request], Response]) -> Response:
    token = _current_request.set(event)
    try:
        return get_response(event)
    finally:
        _current_request.reset(token)


def wire(app: Chalice, observability: Observability, usage: UsageMeter | None = None) -> None:
    logger, tracer = observability.logger, observability.tracer
    app.register_middleware(ConvertToMiddleware(
        functools.partial(logger.inject_lambda_context, clear_state=True)))
    if tracer:
        app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))

    def bind_tenant(event: Any, get_response: Callable[[Any], Response]) -> Response:
        with contextlib.suppress(UnauthorizedError):  # a public route: no tenant to bind
            observability.bind(request_tenant(event))
        try:
            return get_response(event)
        finally:
            observability.unbind()

    app.register_middleware(bind_tenant, "http")
    if usage is not None:  # outside the error mapping: it records the status sent
        app.register_middleware(metering_middleware(usage), "http")
    app.register_middleware(error_middleware, "http")
    app.register_middleware(_remember_request, "http")


@dataclass(frozen=True)
class PlatformApp:
    """What every service app starts from; ``app.py`` then only declares routes."""

    app: Chalice
    config: PlatformConfig
    observability: Observability
    authorizer: Any  # the route authorizer: the shared tenant authorizer, in both worlds
    usage: UsageMeter | None = None  # what tenants' requests consume (None: no usage table)

    @staticmethod
    def request() -> Request:
        """The request being handled by this thread (see ``_current_request``)."""
        request = _current_request.get()
        if request is None:
            raise RuntimeError("no request is being handled")
        return request

    @property
    def authorized(self) -> dict[str, Any]:
        """Route options of every authenticated route: the tenant authorizer, CORS, and the
        usage plan of the key the authorizer returns (API Gateway meters and throttles a
        route only when it requires an API key; the key source is the authorizer)."""
        return {"authorizer": self.authorizer, "cors": CORS, "api_key_required": True}


def platform_app(name: str, config: PlatformConfig | None = None) -> PlatformApp:
    config = config or PlatformConfig.from_environ()
    # Chalice's own log (its errors) goes to the logger named after the app, which Powertools
    # configures as JSON; Chalice adding its plain-text handler there would mix the two.
    app = Chalice(app_name=name, configure_logs=False)
    observability = Observability(service=name)
    usage = meter_from_config(config)
    wire(app, observability, usage)
    if usage is not None:
        PeriodicFlush(usage, usage.flush_every_seconds).start()
    return PlatformApp(app, config, observability, route_authorizer(app, config), usage)
