"""Releases that shift traffic by canary and roll back by alarm: every function behind an API,
in the pooled stack as in every Platinum tenant's, and the shared authorizer.

Each such function publishes a version on every release (its zip or the layer changed:
``AutoPublishCodeSha256``) under a ``live`` alias that its API calls; CodeDeploy moves 10% of
the traffic to the new version, waits 5 minutes, then moves the rest, and rolls back when
either alarm fires: the function's Lambda ``Errors`` (an unhandled error, a crash) or its API's
``5XXError`` (the error middleware and Chalice turn exceptions into 500 responses, which Lambda
counts as successes). One bad release of the pooled services or of the shared authorizer would
otherwise break every tenant at once, Platinum included.

The authorizer is different: it answers a refused token by raising (API Gateway's 401), so its
``Errors`` count every bad token and cannot be a rollback signal. Its alarm counts what it logs
as an ERROR instead (an unexpected failure: ``tenant_authorizer.handler``), through a metric
filter on its log group. Same canary: an authorizer that fails on 10% of requests for 5 minutes
is rolled back before it fails on all of them.
"""

from __future__ import annotations

from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.merge import Template
from pipeline.stacks.service_template import API_FUNCTION, REST_API

ALIAS = "live"
CANARY = "Canary10Percent5Minutes"
ERRORS_ALARM = "APIHandlerErrorsAlarm"
SERVER_ERRORS_ALARM = "RestAPI5XXErrorAlarm"
STAGE = "api"  # the apps' api_gateway_stage
METRICS_NAMESPACE = "ServerlessSaaS"


def alias_of(function: str) -> str:
    """SAM's logical id of a function's ``live`` alias (a ``Ref`` gives the alias's ARN)."""
    return f"{function}Alias{ALIAS}"


def canary(alarms: list[str]) -> dict[str, Any]:
    """The function properties of a canary release rolled back by ``alarms``."""
    return {"AutoPublishAlias": ALIAS, "DeploymentPreference": {
        "Type": CANARY, "Alarms": [cfn.ref(alarm) for alarm in alarms]}}


def with_canary(template: Template, api_name: Any) -> Template:
    """An app's merge template (``service_template``) whose API function releases by canary;
    ``api_name``: its REST API's name, which names the API's metrics."""
    resources = template["Resources"]
    resources[API_FUNCTION]["Properties"].update(canary([ERRORS_ALARM, SERVER_ERRORS_ALARM]))
    resources[ERRORS_ALARM] = cfn.errors_alarm(API_FUNCTION, ALIAS)
    resources[SERVER_ERRORS_ALARM] = cfn.server_errors_alarm(api_name, STAGE)
    # API Gateway calls the alias, so the canary's traffic shifting applies to the API.
    resources[f"{API_FUNCTION}InvokePermission"] = {"Properties": {
        "FunctionName": cfn.ref(f"{API_FUNCTION}.Alias")}}
    return template


def through_alias(template: Template, prefix: str) -> Template:
    """Chalice points every route at ``${APIHandler.Arn}``; the canary needs the alias."""
    function = f"{prefix}{API_FUNCTION}"

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return node.replace(f"${{{function}.Arn}}", f"${{{alias_of(function)}}}")
        return node

    rest_api = template["Resources"][f"{prefix}{REST_API}"]
    rest_api["Properties"]["DefinitionBody"]["paths"] = walk(
        rest_api["Properties"]["DefinitionBody"]["paths"])
    return template


def logged_failures_alarm(function: str, log_group: str) -> dict[str, Any]:
    """A metric of what ``function`` logs at ERROR (Powertools' JSON ``level``), and the alarm
    on it that rolls its canary back: ``{function}Failures`` and ``{function}FailuresAlarm``."""
    metric = f"{function}Failures"
    return {
        f"{function}FailuresFilter": {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": cfn.ref(log_group), "FilterPattern": '{ $.level = "ERROR" }',
            "MetricTransformations": [{"MetricNamespace": METRICS_NAMESPACE,
                                       "MetricName": metric, "MetricValue": "1"}]}},
        f"{function}FailuresAlarm": cfn.rollback_alarm(
            f"Failures {function} logs roll a canary deployment back", METRICS_NAMESPACE,
            metric, []),
    }
