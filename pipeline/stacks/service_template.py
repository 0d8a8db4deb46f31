"""The merge template every API app gets from ``chalice package``, whatever its deployment.

Chalice emits the app's function (``APIHandler``) and REST API (``RestAPI``); this adds what
Chalice cannot know: the function's own role (``manage_iam_role`` is off), the ONE shared layer,
the environment the code reads, active tracing, the shared authorizer's invocation URI, and API
keys taken from the authorizer (``usageIdentifierKey``) so the usage plans meter and throttle
per tier, and CORS headers on API Gateway's own answers. Every app's function meters its tenants'
requests into the ONE usage table (the pooled stack's, ``USAGE_TABLE``) with its own role:
``USAGE_TABLE`` in its environment and ``UpdateItem`` on that table alone (the admin function
also reads it, for the usage routes). The table's ARN is built from its fixed name, region and
account, so a Platinum tenant's stack, which does not hold the table, writes to it the same
way. The permission to call the authorizer
is not per app: the pooled stack grants it once for every API
(``cfn.authorizer_invoke_permission``).
Logical ids here are the app's own; the deployment's template prefixes them
(``pipeline.stacks.merge``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.stacks import cloudformation as cfn
from tenant_context.config import Env
from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.service.responses import cors_headers

API_FUNCTION = "APIHandler"  # Chalice's logical ids
REST_API = "RestAPI"
API_ROLE = "APIHandlerRole"
USAGE_WRITE = ("dynamodb:UpdateItem",)  # the meter's flush: ADD to a row, nothing else
USAGE_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan")  # the usage routes


@dataclass(frozen=True)
class ServiceWiring:
    """How one app is wired in one deployment."""

    service_name: str  # POWERTOOLS_SERVICE_NAME and the role's policy name
    layer: Any  # the shared layer's ARN (a Ref)
    authorizer_arn_variable: str  # the shared authorizer's ARN, as a ${...} variable for Fn::Sub
    environment: dict[str, Any]
    statements: list[dict[str, Any]]  # the role's own rights, beyond logs and traces
    function: dict[str, Any] = field(default_factory=dict)  # more function properties
    api_title: Any = None  # the REST API's name, when Chalice's (the app name) is not unique
    # The usage table as the function's USAGE_TABLE: a Ref where the stack holds the table (the
    # function then waits for it), else its name; and what the function may do on it.
    usage_table: Any = USAGE_TABLE.name
    usage_actions: tuple[str, ...] = USAGE_WRITE


def service_merge_template(wiring: ServiceWiring) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "x-amazon-apigateway-api-key-source": "AUTHORIZER",
        "securityDefinitions": {"TenantAuthorizer": {"x-amazon-apigateway-authorizer": {
            "authorizerUri": cfn.authorizer_uri(wiring.authorizer_arn_variable)}}},
    }
    if wiring.api_title is not None:
        # The body's title is the REST API's name (no Name property is set).
        definition["info"] = {"title": wiring.api_title}
    return {"Resources": {
        API_FUNCTION: {"Properties": {
            "Layers": [wiring.layer],
            "Role": cfn.get_att(API_ROLE, "Arn"),
            "Tracing": "Active",
            "Environment": {"Variables": {**wiring.environment,
                                          Env.USAGE_TABLE: wiring.usage_table,
                                          Env.POWERTOOLS_SERVICE_NAME: wiring.service_name}},
            **wiring.function,
        }},
        API_ROLE: cfn.lambda_role([*wiring.statements, usage_statement(wiring.usage_actions)],
                                  wiring.service_name),
        REST_API: {"Properties": {"GatewayResponses": gateway_responses(),
                                  "DefinitionBody": definition}},
    }}


def gateway_responses() -> dict[str, Any]:
    """What API Gateway answers itself (401 from the authorizer, 403, 429 from a usage plan,
    5xx) carries the same CORS headers as the app's answers; without them a browser reports a
    CORS failure instead of the status, and the web app cannot tell "sign in again" from "slow
    down"."""
    headers = {name: f"'{value}'" for name, value in cors_headers().items()}
    return {response: {"ResponseParameters": {"Headers": headers}}
            for response in ("DEFAULT_4XX", "DEFAULT_5XX")}


def usage_statement(actions: tuple[str, ...]) -> dict[str, Any]:
    """``actions`` on the usage table itself (it has no index), in any stack of the account and
    region: its name is fixed, so its ARN needs no reference to the pooled stack."""
    return {"Effect": "Allow", "Action": list(actions),
            "Resource": [cfn.table_arns(USAGE_TABLE.name)[0]]}


def crud_statements(tables: list[Any], actions: tuple[str, ...] = (
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"),
) -> list[dict[str, Any]]:
    return [{"Effect": "Allow", "Action": list(actions),
             "Resource": [arn for table in tables for arn in cfn.table_arns(table)]}]
