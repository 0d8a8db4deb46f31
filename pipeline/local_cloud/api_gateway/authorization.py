"""What API Gateway learns from the tenant authorizer before applying a usage plan: whether the
caller may call this route and, if so, the API key that meters it (``usageIdentifierKey``).

Usage plans are applied after authorization, so the front door asks the SAME authorizer (built by
``chalicelib.tenant_authorizer.factory`` from the authorizer's own local stage variables) with the
same TOKEN event the ``chalice local`` process behind the route builds (``builtin_authorizer``): the
route's local API id in ``methodArn``, and ``chalice local``'s own rule for whether the policy
allows the route. The decision (``Authorized`` or ``Refused``, with the authorizer's whole
response) is what the front door hands the upstream (``handoff``), whose built-in authorizer then
answers from it, 200, 401 or 403, without asking AWS again: one authorization per request.

It calls ``TenantAuthorizer.authorize`` rather than the Lambda entry point ``handler.handle``,
whose only addition is a log line for a refused token: the upstream's authorizer writes that
line to the service's log already, and here it would go to the ``make local`` terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    # The authorizer's response for ``method_arn``, handed to the upstream (None: nothing to hand
    # over, the upstream authorizes itself). Not part of equality: the key is the decision.
    response: Mapping[str, Any] | None = field(default=None, compare=False)
    method_arn: str = field(default="", compare=False)


@dataclass(frozen=True)
class Refused:
    """Not authorized for this route: ``response`` None is the authorizer's ``Unauthorized``
    (401), otherwise its policy, which does not allow the route (403). Not metered; handed to the
    upstream, which answers the refusal."""
    response: Mapping[str, Any] | None
    method_arn: str


Decision = Authorized | Refused
# None: no decision (the authorizer failed); the request goes on unmetered, with nothing handed
# over, and the upstream's own authorizer meets the failure and answers it.
AuthorizationStep = Callable[[GatewayRequest], Decision | None]


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
    def authorize(request: GatewayRequest) -> Decision | None:
        arn = method_arn(request)
        event = {"type": "TOKEN", "authorizationToken": request.authorization,
                 "methodArn": arn}
        try:
            response = authorizer.authorize(event)
        except Unauthorized:
            return Refused(None, arn)
        except Exception:
            # The upstream's authorizer meets the same failure and answers it; a usage plan
            # cannot be applied without a key, so the request goes on unmetered.
            _log.warning("authorizing %s %s for its usage plan failed", request.method, arn,
                         exc_info=True)
            return None
        if not allows(response, arn):
            return Refused(response, arn)
        key = response.get("usageIdentifierKey")
        return Authorized(key if isinstance(key, str) and key else None, response, arn)

    return authorize


def emulator_authorizer(emulator_url: str, clients: AwsClients) -> TenantAuthorizer:
    """The authorizer as every ``chalice local`` process builds it, but pointed at the emulator
    by configuration and clients passed in, leaving this process's environment untouched."""
    config = PlatformConfig.from_environ(
        {**authorizer_environment(dynamodb=clients.dynamodb), Env.AWS_ENDPOINT_URL: emulator_url})
    return build_authorizer(config, dynamodb=clients.dynamodb, sts=clients.sts)
