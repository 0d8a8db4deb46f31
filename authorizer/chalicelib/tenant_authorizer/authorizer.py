"""The authorizer's one decision: a TOKEN event in, an API Gateway policy response out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayRouteArn,
    parse_api_gateway_arn,
)

from chalicelib.tenant_authorizer.credential_vendor import CredentialVendor
from chalicelib.tenant_authorizer.directory import Directory
from chalicelib.tenant_authorizer.route_rules import ApiKind, allowed_routes
from chalicelib.tenant_authorizer.tokens import TokenVerifier, bearer_token
from chalicelib.tenant_authorizer.unauthorized import TenantDeactivated, Unauthorized
from tenant_context.service.context import TenantContext


class TenantAuthorizer:
    def __init__(self, verifier: TokenVerifier, directory: Directory,
                 credentials: CredentialVendor) -> None:
        self._verifier = verifier
        self._directory = directory
        self._credentials = credentials

    def authorize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Raises ``Unauthorized`` (401); a policy without the requested route means 403."""
        method_arn = _method_arn(event.get("methodArn"))
        try:
            caller = self._verifier.verify(bearer_token(event.get("authorizationToken")))
        except TenantDeactivated as refused:
            self._credentials.forget(refused.tenant_id)
            raise
        api = self._api_kind(method_arn.api_id, caller)
        rules = allowed_routes(api, caller)
        response = APIGatewayAuthorizerResponse(
            principal_id=f"{caller.user_pool_id}/{caller.user_name}",
            region=method_arn.region,
            aws_account_id=method_arn.aws_account_id,
            api_id=method_arn.api_id,
            stage=method_arn.stage,
            partition=method_arn.partition,
        )
        if not rules:
            response.deny_all_routes()
            return response.asdict()
        for rule in rules:
            response.allow_route(rule.method, rule.path)
        credentials = self._credentials.credentials_for(
            caller.tenant_id, caller.role, bool(caller.tier and caller.tier.is_pooled))
        response.context = dataclasses.replace(
            caller, credentials=credentials).to_authorizer_context()
        response.usage_identifier_key = self._usage_key(caller) or None
        return response.asdict()

    def _api_kind(self, api_id: str, caller: TenantContext) -> ApiKind:
        if api_id in self._directory.settings().admin_api_ids:
            return ApiKind.ADMIN
        if caller.deployment is None:
            return ApiKind.OTHER
        deployment = self._directory.deployment(caller.deployment)
        if deployment is not None and api_id in deployment.api_ids:
            return ApiKind.OWN_TENANT_API
        return ApiKind.OTHER

    def _usage_key(self, caller: TenantContext) -> str:
        """The API key whose usage plan throttles this caller (tier's or tenant's own)."""
        if caller.is_operations:
            return self._directory.settings().operations_api_key
        tenant = self._directory.tenant(caller.tenant_id)
        return tenant.api_key if tenant else ""


def _method_arn(value: object) -> APIGatewayRouteArn:
    if not isinstance(value, str) or not value.startswith("arn:") or value.count("/") < 3:
        raise Unauthorized("malformed methodArn")
    try:
        return parse_api_gateway_arn(value)
    except (IndexError, ValueError) as error:
        raise Unauthorized("malformed methodArn") from error
