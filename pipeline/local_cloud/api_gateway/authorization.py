"""What API Gateway learns from the tenant authorizer before applying a usage plan: whether the
caller may call this route and, if so, the API key that meters it (``usageIdentifierKey``).

Usage plans are applied after authorization, so the front door asks the SAME authorizer (built by
``chalicelib.tenant_authorizer.factory`` from the authorizer's own local stage variables) with the
same TOKEN event the ``chalice local`` process behind the route builds (``builtin_authorizer``): the
route's local API id in ``methodArn``, and ``chalice local``'s own rule for whether the policy
allows the route. Both therefore reach the same decision; the upstream still makes its own and
answers a 401 or 403 exactly as without the front door's check.

It calls ``TenantAuthorizer.authorize`` rather than the Lambda entry point ``handler.handle``,
whose only addition is a log line for a refused token: the upstream's authorizer writes that
line to the service's log already, and here it would go to the ``make local`` terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.local import ARNMatcher, LocalARNBuilder

from chalicelib.tenant_authorizer.authorizer import TenantAuthorizer
from chalicelib.tenant_authorizer.factory import build_authorizer
from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.api_gateway.builtin_authorizer import authorizer_environment
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.aws_clients import AwsClients

_log = logging.getLogger(__name__)
_ARNS = LocalARNBuilder()


@dataclass(frozen=True)
class GatewayRequest:
    api_id: str  # the local API id of the app serving the route (LOCAL_GATEWAY_API_ID)
    method: str
    path: str  # under the API's base URL, e.g. "/products"
    authorization: str | None  # the Authorization header


@dataclass(frozen=True)
class Authorized:
    usage_key: str | None  # None: the authorizer named no key (the usage plan refuses it)


# None: not authorized; the request goes on and the upstream answers its 401 or 403.
AuthorizationStep = Callable[[GatewayRequest], Authorized | None]


def method_arn(request: GatewayRequest) -> str:
    """``chalice local``'s ARN for the request with the route's API id, as
    ``builtin_authorizer`` hands it to the authorizer."""
    local = _ARNS.build_arn(request.method, request.path)
    return local.replace(f":{LocalARNBuilder.LOCAL_API_ID}/", f":{request.api_id}/", 1)


def allows(response: Mapping[str, Any], arn: str) -> bool:
    """``chalice local``'s check of an authorizer's policy: some Allow statement for
    ``execute-api:Invoke`` names a resource matching the route."""
    resources: list[str] = []
    for statement in response.get("policyDocument", {}).get("Statement", []):
        action = statement.get("Action")
        if statement.get("Effect") == "Allow" and (
                action == "execute-api:Invoke" or "execute-api:Invoke" in action):
            resources += statement.get("Resource", [])
    return bool(ARNMatcher(arn).does_any_resource_match(resources))


def authorizer_step(authorizer: TenantAuthorizer) -> AuthorizationStep:
    def authorize(request: GatewayRequest) -> Authorized | None:
        arn = method_arn(request)
        event = {"type": "TOKEN", "authorizationToken": request.authorization,
                 "methodArn": arn}
        try:
            response = authorizer.authorize(event)
        except Unauthorized:
            return None
        except Exception:
            # The upstream's authorizer meets the same failure and answers it; a usage plan
            # cannot be applied without a key, so the request goes on unmetered.
            _log.warning("authorizing %s %s for its usage plan failed", request.method, arn,
                         exc_info=True)
            return None
        if not allows(response, arn):
            return None
        key = response.get("usageIdentifierKey")
        return Authorized(key if isinstance(key, str) and key else None)

    return authorize


def emulator_authorizer(emulator_url: str, clients: AwsClients) -> TenantAuthorizer:
    """The authorizer as every ``chalice local`` process builds it, but pointed at the emulator
    by configuration and clients passed in, leaving this process's environment untouched."""
    config = PlatformConfig.from_environ(
        {**authorizer_environment(dynamodb=clients.dynamodb), Env.AWS_ENDPOINT_URL: emulator_url})
    return build_authorizer(config, dynamodb=clients.dynamodb, sts=clients.sts)
