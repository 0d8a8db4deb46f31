"""How an app's routes are authorized: by the ONE shared tenant authorizer, in both worlds.

In AWS (no ``TENANT_AUTHORIZER``) routes name a ``CustomAuthorizer``: the shared authorizer
Lambda, whose invocation URI the packaged template fills in (``AUTHORIZER_URI_PLACEHOLDER`` is
replaced by a CloudFormation reference). ``chalice local`` runs no such authorizer, only
built-in ones, so an app's local stage names, in ``TENANT_AUTHORIZER``, the callable that
registers the very same authorizer function as a built-in one (the local stand-in for API
Gateway provides it: ``pipeline.local_cloud.api_gateway.builtin_authorizer``). The layer knows
neither the authorizer nor the local stand-in: it is handed the callable by configuration, and
nothing else differs; there is no bypass.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from typing import Any, cast

from chalice import Chalice, CustomAuthorizer

from tenant_context.config import Env, PlatformConfig
from tenant_context.errors import ConfigurationError

AUTHORIZER_NAME = "TenantAuthorizer"
AUTHORIZER_TTL_SECONDS = 60  # API Gateway's per-token cache of the authorizer's policy
AUTHORIZER_URI_PLACEHOLDER = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:tenant-authorizer/invocations")

# Registers a built-in authorizer on the app and returns it (what ``app.authorizer()`` gives).
RegisterAuthorizer = Callable[[Chalice, PlatformConfig], Any]


def route_authorizer(app: Chalice, config: PlatformConfig) -> Any:
    """The authorizer every authenticated route of ``app`` names."""
    local = config.optional(Env.TENANT_AUTHORIZER)
    if local:
        return _registrar(local)(app, config)
    return CustomAuthorizer(AUTHORIZER_NAME, header="Authorization",
                            authorizer_uri=AUTHORIZER_URI_PLACEHOLDER,
                            ttl_seconds=AUTHORIZER_TTL_SECONDS)


def _registrar(name: str) -> RegisterAuthorizer:
    try:
        registrar = pkgutil.resolve_name(name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigurationError(f"{Env.TENANT_AUTHORIZER}={name!r} names no importable "
                                 f"callable ('module:callable'): {error}") from error
    if not callable(registrar):
        raise ConfigurationError(f"{Env.TENANT_AUTHORIZER}={name!r} is not callable")
    return cast(RegisterAuthorizer, registrar)
