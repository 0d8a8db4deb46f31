"""What API Gateway does with an authorizer's answer, for tests that call it directly."""

from __future__ import annotations

import re
from typing import Any

from tests.support.moto_server import ACCOUNT, REGION

STAGE = "api"


def method_arn(api_id: str, method: str, path: str) -> str:
    return (f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{STAGE}/{method}/"
            f"{path.lstrip('/')}")


def token_event(token: str | None, api_id: str, method: str = "GET",
                path: str = "/tenants") -> dict[str, Any]:
    event: dict[str, Any] = {"type": "TOKEN", "methodArn": method_arn(api_id, method, path)}
    if token is not None:
        event["authorizationToken"] = f"Bearer {token}"
    return event


def _matches(pattern: str, arn: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, arn) is not None


def allows(response: dict[str, Any], arn: str) -> bool:
    """API Gateway's rule: some Allow statement matches and no Deny statement does."""
    statements = response["policyDocument"]["Statement"]

    def matching(effect: str) -> bool:
        return any(statement["Effect"] == effect and
                   any(_matches(resource, arn) for resource in statement["Resource"])
                   for statement in statements)

    return matching("Allow") and not matching("Deny")
