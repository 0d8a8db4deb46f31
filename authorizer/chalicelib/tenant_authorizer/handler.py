"""The Lambda entry point. The authorizer is built on the first event, not at import, so a
cold start pays for configuration only when it is actually invoked."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.tenant_authorizer.authorizer import TenantAuthorizer
from chalicelib.tenant_authorizer.factory import build_authorizer
from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from tenant_context.config import PlatformConfig

logger = Logger(service="tenant-authorizer")
_authorizer: TenantAuthorizer | None = None


def shared_authorizer() -> TenantAuthorizer:
    global _authorizer
    if _authorizer is None:
        _authorizer = build_authorizer(PlatformConfig.from_environ())
    return _authorizer


def handle(event: dict[str, Any], authorizer: TenantAuthorizer | None = None) -> dict[str, Any]:
    """Raises ``Unauthorized`` (message "Unauthorized": API Gateway's 401) for a bad token.

    Anything else is logged at ERROR: a refusal is an error to Lambda too, so the release's
    rollback alarm counts these log lines, not Lambda's ``Errors``
    (``pipeline.stacks.safe_release``)."""
    try:
        return (authorizer or shared_authorizer()).authorize(event)
    except Unauthorized as denial:
        logger.info("request not authorized", extra={"reason": denial.reason})
        raise
    except Exception:
        logger.exception("the authorizer failed")
        raise
