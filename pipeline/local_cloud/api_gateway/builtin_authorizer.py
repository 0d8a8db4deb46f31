"""Local stage only: the SAME authorizer, registered as a built-in Chalice authorizer.

``chalice local`` runs only built-in authorizers, so each app's local stage hands the app this
registration by configuration (``TENANT_AUTHORIZER``, read by
``tenant_context.service.route_authorizer``), and the layer never imports the authorizer. It
plays the two parts of API Gateway that ``chalice local`` lacks:
- the API id: ``chalice local`` puts one fixed id in every ``methodArn``; here the app's own id
  (``LOCAL_GATEWAY_API_ID``) replaces it, so the authorizer can tell the admin API, the pooled
  API and a Platinum tenant's API apart exactly as it does in AWS, and the policy it returns
  is mapped back to the id ``chalice local`` checks against;
- the 401: an ``Unauthorized`` becomes ``chalice local``'s 401 response;
- one authorization per request: behind the front door, which has asked the same authorizer
  already (for the usage plan), the request carries the front door's decision sealed for it
  (``handoff``), and the answer is that decision, with no call to AWS. A request without the
  header (``chalice local`` run alone, or the front door's authorizer failed) is authorized
  here as before; one whose header does not open under this process's secret
  (``LOCAL_GATEWAY_HANDOFF_SECRET``, given by ``make local`` to its apps only), or that carries
  one where no secret was given, is refused with 401: never authorized some other way.
The authorizer reads its own configuration (``authorizer/.chalice/config.json``, stage
``local``), as its Lambda function reads the environment its template gives it. One part of that
environment a static file cannot hold: the two pools it always knows, which its template fills
with ``Ref``s and which the emulator creates with ids of its own. The stand-in plays
CloudFormation's part there: it sets them to the pools the local deployer (the bootstrap)
created and recorded in the settings table, once, when it builds a process's authorizer.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from chalice import Chalice
from chalice.app import AuthRequest, ChaliceAuthorizer
from chalice.local import NotAuthorizedError

from chalicelib.tenant_authorizer.authorizer import TenantAuthorizer
from chalicelib.tenant_authorizer.factory import build_authorizer, pool_environment
from chalicelib.tenant_authorizer.handler import handle
from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.api_gateway.handoff import HANDOFF_HEADER, ForgedHandOffError, HandOff
from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.definitions import SETTINGS_TABLE
from tenant_context.platform.platform_settings import read_settings
from tenant_context.service.route_authorizer import AUTHORIZER_NAME

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

_log = logging.getLogger(__name__)
AUTHORIZER_CONFIG = PROJECT_ROOT / "authorizer" / ".chalice" / "config.json"
LOCAL_STAGE = "local"

_lock = threading.Lock()
_local_authorizer: TenantAuthorizer | None = None


def authorizer_environment(config_file: Path = AUTHORIZER_CONFIG, stage: str = LOCAL_STAGE, *,
                           dynamodb: DynamoDBClient | None = None) -> dict[str, str]:
    """The process environment overlaid with the authorizer's own stage variables and the
    emulator's pools (see the module notes), read with ``dynamodb`` (by default a client of
    whatever ``AWS_ENDPOINT_URL`` names)."""
    config = json.loads(config_file.read_text())
    variables = {**config.get("environment_variables", {}),
                 **config.get("stages", {}).get(stage, {}).get("environment_variables", {})}
    environment = {**os.environ, **variables}
    config = PlatformConfig.from_environ(environment)
    settings = read_settings(dynamodb or boto3.client("dynamodb", region_name=config.region),
                             config.require(SETTINGS_TABLE.env_var))
    return environment | pool_environment(settings.operations_pool, settings.pooled_pool)


def local_authorizer() -> TenantAuthorizer:
    """One authorizer per process, shared by every app loaded in it (as Lambda shares one)."""
    global _local_authorizer
    with _lock:
        if _local_authorizer is None:
            _local_authorizer = build_authorizer(
                PlatformConfig.from_environ(authorizer_environment()))
        return _local_authorizer


def _with_api_id(method_arn: str, api_id: str) -> str:
    head, _, rest = method_arn.partition(":execute-api:")
    region, account, path = rest.split(":", 2)
    return f"{head}:execute-api:{region}:{account}:{api_id}/{path.split('/', 1)[1]}"


def register_builtin_authorizer(app: Chalice, config: PlatformConfig) -> ChaliceAuthorizer:
    """What an app's local stage names in ``TENANT_AUTHORIZER``: the shared authorizer, for the
    API the stage says this app is (``LOCAL_GATEWAY_API_ID``), accepting the front door's
    decisions when ``make local`` gave the process the start's secret."""
    secret = config.optional(Env.LOCAL_GATEWAY_HANDOFF_SECRET)
    return builtin_authorizer(app, config.require(Env.LOCAL_GATEWAY_API_ID),
                              handoff=HandOff(secret) if secret else None)


def _unauthorized() -> NotAuthorizedError:
    return NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"},
                              b'{"message":"Unauthorized"}')


class _LocalAuthRequest(AuthRequest):
    """Chalice's ``AuthRequest`` plus the request's headers (lower-cased, as ``chalice local``
    keeps them), where the front door's decision travels."""

    def __init__(self, auth_type: str, token: str, method_arn: str,
                 headers: dict[str, str]) -> None:
        super().__init__(auth_type, token, method_arn)
        self.headers = headers


class _WithHeaders(ChaliceAuthorizer):
    """A built-in authorizer whose function also sees the request's headers: ``chalice local``
    hands a built-in authorizer the whole event, Chalice's ``AuthRequest`` keeps only the
    token and the ARN."""

    def _transform_event(self, event: dict[str, Any]) -> AuthRequest:
        return _LocalAuthRequest(event["type"], event["authorizationToken"], event["methodArn"],
                                 dict(event.get("headers") or {}))


def builtin_authorizer(app: Chalice, api_id: str, authorizer: TenantAuthorizer | None = None,
                       *, handoff: HandOff | None = None) -> ChaliceAuthorizer:
    def decided(auth_request: AuthRequest, arn: str) -> dict[str, Any] | None:
        """The front door's decision for this request, None when it sent none; a hand-off
        that cannot be opened here raises the 401."""
        headers = getattr(auth_request, "headers", {})
        sealed = headers.get(HANDOFF_HEADER.lower())
        if sealed is None:
            return None
        if handoff is None:
            _log.warning("refused a request carrying %s: this process was given no secret to "
                         "check it with", HANDOFF_HEADER)
            raise _unauthorized()
        try:
            response = handoff.open(sealed, arn, auth_request.token)
        except ForgedHandOffError as error:  # its reason only: never the header or secret
            _log.warning("refused a request whose %s does not open: %s", HANDOFF_HEADER, error)
            raise _unauthorized() from None
        if response is None:  # the front door's authorizer said Unauthorized
            raise _unauthorized()
        return response

    def tenant_authorizer(auth_request: AuthRequest) -> dict[str, Any]:
        local_arn = auth_request.method_arn
        arn = _with_api_id(local_arn, api_id)
        response = decided(auth_request, arn)
        if response is None:
            event = {"type": "TOKEN", "authorizationToken": auth_request.token,
                     "methodArn": arn}
            try:
                response = handle(event, authorizer or local_authorizer())
            except Unauthorized:
                raise _unauthorized() from None
        local_api_id = local_arn.split(":", 5)[5].split("/", 1)[0]
        for statement in response["policyDocument"]["Statement"]:
            statement["Resource"] = [_with_api_id(arn, local_api_id)
                                     for arn in statement["Resource"]]
        return response

    registered: ChaliceAuthorizer = app.authorizer(name=AUTHORIZER_NAME)(tenant_authorizer)
    # The routes name the returned authorizer; the app keeps only its configuration.
    with_headers = _WithHeaders(registered.name, registered.func, registered.scopes)
    with_headers.config = registered.config
    return with_headers


# What each app's local stage sets ``TENANT_AUTHORIZER`` to (its ``.chalice/config.json``).
LOCAL_STAGE_AUTHORIZER = f"{__name__}:{register_builtin_authorizer.__name__}"
