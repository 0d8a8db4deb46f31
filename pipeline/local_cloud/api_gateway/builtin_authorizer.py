"""Local stage only: the SAME authorizer, registered as a built-in Chalice authorizer.

``chalice local`` runs only built-in authorizers, so each app's local stage hands the app this
registration by configuration (``TENANT_AUTHORIZER``, read by
``tenant_context.service.route_authorizer``), and the layer never imports the authorizer. It
plays the two parts of API Gateway that ``chalice local`` lacks:
- the API id: ``chalice local`` puts one fixed id in every ``methodArn``; here the app's own id
  (``LOCAL_GATEWAY_API_ID``) replaces it, so the authorizer can tell the admin API, the pooled
  API and a Platinum tenant's API apart exactly as it does in AWS, and the policy it returns
  is mapped back to the id ``chalice local`` checks against;
- the 401: an ``Unauthorized`` becomes ``chalice local``'s 401 response.
The authorizer reads its own configuration (``authorizer/.chalice/config.json``, stage
``local``), as its Lambda function reads the environment its template gives it. One part of that
environment a static file cannot hold: the two pools it always knows, which its template fills
with ``Ref``s and which the emulator creates with ids of its own. The stand-in plays
CloudFormation's part there: it sets them to the pools the local deployer (the bootstrap)
created and recorded in the settings table, once, when it builds a process's authorizer.
"""

from __future__ import annotations

import json
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
from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.definitions import SETTINGS_TABLE
from tenant_context.platform.platform_settings import read_settings
from tenant_context.service.route_authorizer import AUTHORIZER_NAME

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

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
    API the stage says this app is (``LOCAL_GATEWAY_API_ID``)."""
    return builtin_authorizer(app, config.require(Env.LOCAL_GATEWAY_API_ID))


def builtin_authorizer(app: Chalice, api_id: str,
                       authorizer: TenantAuthorizer | None = None) -> ChaliceAuthorizer:
    def tenant_authorizer(auth_request: AuthRequest) -> dict[str, Any]:
        local_arn = auth_request.method_arn
        event = {"type": "TOKEN", "authorizationToken": auth_request.token,
                 "methodArn": _with_api_id(local_arn, api_id)}
        try:
            response = handle(event, authorizer or local_authorizer())
        except Unauthorized:
            raise NotAuthorizedError(
                {"x-amzn-ErrorType": "UnauthorizedException"},
                b'{"message":"Unauthorized"}') from None
        local_api_id = local_arn.split(":", 5)[5].split("/", 1)[0]
        for statement in response["policyDocument"]["Statement"]:
            statement["Resource"] = [_with_api_id(arn, local_api_id)
                                     for arn in statement["Resource"]]
        return response

    registered: ChaliceAuthorizer = app.authorizer(name=AUTHORIZER_NAME)(tenant_authorizer)
    return registered


# What each app's local stage sets ``TENANT_AUTHORIZER`` to (its ``.chalice/config.json``).
LOCAL_STAGE_AUTHORIZER = f"{__name__}:{register_builtin_authorizer.__name__}"
