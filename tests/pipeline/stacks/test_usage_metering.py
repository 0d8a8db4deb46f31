"""The AWS side of per-tenant usage in the packaged stacks: every service function (pooled and
silo) and the admin function meter into the ONE usage table with exactly the rights they need;
every REST API access-log group sends its 429 lines to the ONE access-log-usage function, whose
own group is not subscribed; the pooled stack's dashboard is valid, complete and adds no
per-tenant metric."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pipeline.stacks.cloudformation import ARN_PREFIX
from pipeline.stacks.logging_template import (
    ACCESS_LOG_USAGE_FUNCTION_NAME,
    THROTTLED_LINES,
    access_log_usage_arn,
)
from pipeline.stacks.usage_dashboard import DASHBOARD
from tenant_context.config import Env
from tenant_context.platform.definitions import USAGE_TABLE
from tests.support.packaged import Packaged, resources_of

pytestmark = pytest.mark.usefixtures("sam_region")

DEPLOYMENTS = ("pooled", "silo")
USAGE_ARN = {"Fn::Sub": f"{ARN_PREFIX}:table/{USAGE_TABLE.name}"}
ACCESS_LOG_USAGE = "AdminAccessLogUsage"
ADMIN = "AdminAPIHandler"


def usage_actions(template: dict[str, Any], function: str) -> list[set[str]]:
    """The actions of each statement of the function's role that names the usage table (or
    gives DynamoDB actions on any resource wider than one table, which would reach it too)."""
    role = function_role(template, function)
    found = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            resources = json.dumps(statement["Resource"])
            wide = re.search(r"table/\*|\"\*\"", resources) and any(
                action.startswith("dynamodb:") for action in statement["Action"])
            if USAGE_TABLE.name in resources or wide:
                assert statement["Resource"] == [USAGE_ARN], (function, statement)
                found.append(set(statement["Action"]))
    return found


def function_role(template: dict[str, Any], function: str) -> dict[str, Any]:
    role_name = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    role: dict[str, Any] = template["Resources"][role_name]
    return role


def service_functions(template: dict[str, Any]) -> list[str]:
    """The functions behind the stack's REST APIs, found from the APIs (not from a list)."""
    return sorted(name for name in resources_of(template, "AWS::Serverless::Function")
                  if name.endswith("APIHandler"))


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_service_function_may_only_add_to_the_usage_table(packaged: Packaged,
                                                                 deployment: str) -> None:
    template = packaged.templates[deployment]
    functions = service_functions(template)
    apis = resources_of(template, "AWS::Serverless::Api")
    assert len(functions) == len(apis) > 0
    # Pooled: a Ref (the stack holds the table); silo: its fixed name (the pooled stack's).
    expected = {"Ref": USAGE_TABLE.logical_id} if deployment == "pooled" else USAGE_TABLE.name
    for function in functions:
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables[Env.USAGE_TABLE] == expected, function
        want = ({"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}
                if function == ADMIN else {"dynamodb:UpdateItem"})
        assert usage_actions(template, function) == [want], function
    if deployment == "pooled":
        assert ADMIN in functions
        assert template["Resources"][USAGE_TABLE.logical_id]["Properties"]["TableName"] == \
            USAGE_TABLE.name  # the name the silos' ARNs are built from


def test_the_access_log_usage_function_only_adds_to_the_usage_table(
        packaged: Packaged) -> None:
    template = packaged.templates["pooled"]
    properties = template["Resources"][ACCESS_LOG_USAGE]["Properties"]
    assert properties["Handler"] == "app.access_log_usage"
    assert properties["FunctionName"] == ACCESS_LOG_USAGE_FUNCTION_NAME
    assert properties["Environment"]["Variables"][Env.USAGE_TABLE] == {
        "Ref": USAGE_TABLE.logical_id}
    role = function_role(template, ACCESS_LOG_USAGE)
    (policy,) = role["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": [USAGE_ARN]}]
    assert "AutoPublishAlias" not in properties  # CloudWatch Logs calls it by its own name
    assert template["Outputs"]["AccessLogUsageArn"] == {"Value": access_log_usage_arn()}


def subscriptions(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Subscription filters by the logical id of the log group they read."""
    found = {}
    for subscription in resources_of(translated, "AWS::Logs::SubscriptionFilter").values():
        found[subscription["Properties"]["LogGroupName"]["Ref"]] = subscription
    return found


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_rest_api_access_log_sends_its_429s_to_the_one_function(
        packaged: Packaged, deployment: str) -> None:
    """After the SAM transform: each REST API stage's access log group has the 429 filter to
    access-log-usage; no other group (functions', the edge's: no loop) has one."""
    translated = packaged.translated(deployment)
    stages = resources_of(translated, "AWS::ApiGateway::Stage")
    assert len(stages) == len(resources_of(translated, "AWS::ApiGateway::RestApi")) > 0
    access_groups = {stage["Properties"]["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
                     for stage in stages.values()}
    subscribed = subscriptions(translated)
    assert set(subscribed) == access_groups
    for group, subscription in subscribed.items():
        properties = subscription["Properties"]
        assert properties["FilterPattern"] == THROTTLED_LINES, group
        assert properties["DestinationArn"] == access_log_usage_arn(), group
    pooled = packaged.translated("pooled")
    function_groups = {function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
                       for function in resources_of(translated, "AWS::Lambda::Function").values()}
    assert not function_groups & set(subscribed)
    assert "AdminAccessLogUsageLogGroup" in {
        function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for function in resources_of(pooled, "AWS::Lambda::Function").values()}
    # The ARN every stack builds names the pooled stack's function.
    name = pooled["Resources"][ACCESS_LOG_USAGE]["Properties"]["FunctionName"]
    assert access_log_usage_arn()["Fn::Sub"].endswith(f":function:{name}")


def test_one_permission_lets_cloudwatch_logs_deliver_every_stack_s_access_logs(
        packaged: Packaged) -> None:
    """In the pooled stack only (a statement per silo would outgrow Lambda's 20 KB resource
    policy); it covers access-log groups (``.../access``) of any stack, and no function's."""
    pooled = packaged.translated("pooled")
    (permission_id, permission), = [
        (name, resource) for name, resource in resources_of(
            pooled, "AWS::Lambda::Permission").items()
        if resource["Properties"]["Principal"] == "logs.amazonaws.com"]
    properties = permission["Properties"]
    assert properties["FunctionName"] == access_log_usage_arn()
    source = properties["SourceArn"]["Fn::Sub"]
    assert source.endswith(":log-group:/serverless-saas/*/access:*")
    pattern = re.escape(source.split(":log-group:")[1]).replace(r"\*", ".*")
    for stage in resources_of(pooled, "AWS::ApiGateway::Stage").values():
        group = stage["Properties"]["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
        name = pooled["Resources"][group]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert re.fullmatch(pattern, f"{name}:*"), name
    for function in resources_of(pooled, "AWS::Lambda::Function").values():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        name = pooled["Resources"][group]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert not re.fullmatch(pattern, f"{name}:*"), name
    for subscription in resources_of(pooled, "AWS::Logs::SubscriptionFilter").values():
        assert subscription["DependsOn"] == [permission_id]
    silo = packaged.translated("silo")
    assert not [resource for resource in resources_of(silo, "AWS::Lambda::Permission").values()
                if resource["Properties"]["Principal"] == "logs.amazonaws.com"]


def dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    """The body with every ``${...}`` substituted by a placeholder, checked to name a
    pseudo-parameter or a resource of the stack."""
    text = template["Resources"][DASHBOARD]["Properties"]["DashboardBody"]["Fn::Sub"]
    for name in re.findall(r"\$\{([^}]*)\}", text):
        assert name in {"AWS::Region", "AWS::StackName"} or name in template["Resources"], name
    body: dict[str, Any] = json.loads(placeholder(text))
    return body


def placeholder(text: str) -> str:
    return re.sub(r"\$\{[^}]*\}", "x", text)


def test_the_dashboard_shows_tiers_and_top_tenants_without_per_tenant_metrics(
        packaged: Packaged) -> None:
    template = packaged.templates["pooled"]
    dashboard = template["Resources"][DASHBOARD]
    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    widgets = dashboard_body(template)["widgets"]
    titles = {widget["properties"].get("title") for widget in widgets}
    assert {"Requests by tier", "4xx and 5xx by tier", "429s by tier",
            "Pooled tiers: requests per API", "Pooled tiers: 5xx per API",
            "Platinum tier: Count of every silo", "Lambda duration p99 per function",
            "Lambda throttles per function", "DynamoDB consumed read units per table",
            "DynamoDB consumed write units per table", "Top tenants by requests",
            "Top tenants by 429s", "Top tenants by handled events (services' logs)"} <= titles
    queries = {widget["properties"]["title"]: widget["properties"]["query"]
               for widget in widgets if widget["type"] == "log"}
    assert queries["Top tenants by requests"].endswith(
        "| stats count(*) as requests by tenantId | sort requests desc | limit 10")
    assert 'filter status = "429"' in queries["Top tenants by 429s"]
    access_groups = {placeholder(resource["Properties"]["LogGroupName"]["Fn::Sub"])
                     for name, resource
                     in resources_of(template, "AWS::Logs::LogGroup").items()
                     if name.endswith("RestAPIAccessLogGroup")}
    assert len(access_groups) == len(resources_of(template, "AWS::Serverless::Api"))
    assert set(re.findall(r"SOURCE '([^']*)'", queries["Top tenants by requests"])) == \
        access_groups
    # Metrics: AWS's own, on dimensions that do not grow with tenants.
    dimensions = set()
    for widget in widgets:
        for metric in widget["properties"].get("metrics", []):
            if isinstance(metric[0], dict):  # a SEARCH over the silos' APIs, summed
                assert metric[0]["expression"].startswith("SUM(SEARCH(")
                continue
            namespace, _, *pairs = metric
            assert namespace.startswith("AWS/")
            dimensions |= set(pairs[::2])
    assert dimensions == {"ApiName", "Stage", "FunctionName", "TableName"}
    assert USAGE_TABLE.name in json.dumps(widgets)
