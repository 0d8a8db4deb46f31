"""Logs kept for a set time, and a record of every request: what every deployment's stack adds
around its functions and APIs once ``chalice package`` has emitted them.

- Every function logs to a group its stack creates, with a retention (``LogRetentionDays``,
  30 days by default), through Lambda's ``LoggingConfig``. The group Lambda creates by itself
  (``/aws/lambda/<function>``) keeps logs, and their cost, forever; and a stack cannot take
  over that group once a function has run (it exists already, so creating it fails the
  update), so the stack's group has a name of its own: ``/serverless-saas/<stack>/<function>``.
- Every REST API stage writes an access log line per request, JSON: who (the tenant and tier
  the authorizer named, the API key id), what (method, route, path), how it ended (status,
  API Gateway's own error type such as ``THROTTLED`` or ``QUOTA_EXCEEDED``, latencies). These
  lines are the only record of requests API Gateway refuses before any function runs (a usage
  plan's 429s). The edge (the HTTP API in front) logs too: it is where client addresses are
  seen.
- Every REST API access-log group sends its 429 lines (a usage plan's throttling, which no
  function sees) to ONE function, the pooled stack's ``access-log-usage``, through a
  subscription filter: that function meters them per tenant
  (``shared_services/chalicelib/control_plane/access_log_usage``). A Platinum tenant's stack points
  its filters at the same function, by its fixed name (region and account from the stack):
  no parameter to pass. The pooled stack's ONE permission lets CloudWatch Logs invoke it for
  the access-log groups of every stack of the account and region (a permission per silo
  would grow the function's resource policy towards Lambda's 20 KB limit, as with the
  authorizer). No function's own group is subscribed, that function's included (no loop).
- REST API access logs need the region's API Gateway CloudWatch role, ONE per account and
  region (``AWS::ApiGateway::Account``). Taking it over would break another application's
  logging, so the pooled stack sets it only when asked: ``ApiGatewayCloudWatchRole=create``;
  the default ``existing`` leaves the account's own, which the deployer checks before
  deploying (``pipeline.deploy.aws``).
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.merge import Template
from tenant_context.platform.definitions import PLATFORM

LOG_RETENTION = "LogRetentionDays"
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)  # what CloudWatch Logs accepts
DEFAULT_RETENTION_DAYS = 30
API_GATEWAY_ROLE = "ApiGatewayCloudWatchRole"  # the parameter
API_GATEWAY_LOGS_ROLE = "ApiGatewayCloudWatchLogsRole"  # the role it may create
API_GATEWAY_ACCOUNT = "ApiGatewayAccount"
# Always created: DependsOn may not name a resource whose condition is false, so the REST APIs
# wait on this, which refers to the account's setting only when the stack makes it.
API_GATEWAY_ACCOUNT_READY = "ApiGatewayAccountReady"
CREATE_API_GATEWAY_ROLE = "CreateApiGatewayCloudWatchRole"  # the condition
REST_ACCESS_LOG = {
    "requestId": "$context.requestId", "time": "$context.requestTimeEpoch",
    "tenantId": "$context.authorizer.tenantId", "tier": "$context.authorizer.tier",
    "userRole": "$context.authorizer.userRole", "apiKeyId": "$context.identity.apiKeyId",
    "method": "$context.httpMethod", "route": "$context.resourcePath", "path": "$context.path",
    "status": "$context.status", "error": "$context.error.responseType",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integration.latency",
}
EDGE_ACCESS_LOG = {
    "requestId": "$context.requestId", "time": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp", "userAgent": "$context.identity.userAgent",
    "route": "$context.routeKey", "path": "$context.path", "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
}
ACCESS_LOG_USAGE_FUNCTION_NAME = f"{PLATFORM}-access-log-usage"  # fixed: silos build its ARN
ACCESS_LOG_USAGE_PERMISSION = "AccessLogUsageInvokePermission"  # the pooled stack's, only
# A usage plan's answer. The line's status is a JSON string ("429", the format quotes it); a
# numeric comparison alone may not match a quoted value, so both forms are matched.
THROTTLED_LINES = '{ ($.status = "429") || ($.status = 429) }'
PARAMETERS: dict[str, Any] = {LOG_RETENTION: {
    "Type": "Number", "Default": DEFAULT_RETENTION_DAYS, "AllowedValues": list(RETENTION_DAYS),
    "Description": "Days every function's logs and every API's access logs are kept"}}


def log_group(name: Any) -> dict[str, Any]:
    return {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": name, "RetentionInDays": cfn.ref(LOG_RETENTION)}}


def log_group_id(function: str) -> str:
    """The logical id of the log group a function of the stack logs to."""
    return f"{function}LogGroup"


def log_group_name(logical_id: str) -> str:
    """The name of the group a function (its logical id) logs to, with ``${AWS::StackName}``
    for Fn::Sub; ``<api>/access`` names a REST API's access log group."""
    return f"/{PLATFORM}/${{AWS::StackName}}/{logical_id}"


def access_log_group_name(rest_api: str) -> str:
    return log_group_name(f"{rest_api}/access")


def _group_name(logical_id: str) -> dict[str, str]:
    return {"Fn::Sub": log_group_name(logical_id)}


def access_log_usage_arn() -> dict[str, str]:
    """The ONE access-log-usage function, in the pooled stack of this account and region."""
    return {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:"
                       f"function:{ACCESS_LOG_USAGE_FUNCTION_NAME}"}


def access_log_usage_permission() -> dict[str, Any]:
    """CloudWatch Logs may invoke the access-log-usage function for the REST API access-log
    groups of any stack of the account and region (``/serverless-saas/<stack>/<api>/access``):
    ONE statement, whatever the number of Platinum tenants. It subscribes nothing by itself."""
    return {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": access_log_usage_arn(),
        "Principal": "logs.amazonaws.com",
        "SourceAccount": cfn.ref("AWS::AccountId"),
        "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                                 f"log-group:/{PLATFORM}/*/access:*"}}}


def throttled_lines_filter(access_log_group: str, after: list[str]) -> dict[str, Any]:
    """A REST API access-log group's 429 lines, sent to the access-log-usage function."""
    resource: dict[str, Any] = {"Type": "AWS::Logs::SubscriptionFilter", "Properties": {
        "LogGroupName": cfn.ref(access_log_group), "FilterPattern": THROTTLED_LINES,
        "DestinationArn": access_log_usage_arn()}}
    if after:
        resource["DependsOn"] = after
    return resource


def with_logs(template: Template) -> Template:
    """``template`` with a retained log group for each function, and access logs for each
    REST API stage and the edge's stage (after the account's CloudWatch role, where the stack
    may set it), each REST API's access log subscribed for its 429s (after the permission to
    invoke the function, where the stack grants it: the pooled stack)."""
    resources = template["Resources"]
    permission = [ACCESS_LOG_USAGE_PERMISSION] if ACCESS_LOG_USAGE_PERMISSION in resources else []
    for name, resource in list(resources.items()):
        kind, properties = resource["Type"], resource.setdefault("Properties", {})
        if kind == "AWS::Serverless::Function":
            resources[log_group_id(name)] = log_group(_group_name(name))
            properties["LoggingConfig"] = {"LogGroup": cfn.ref(log_group_id(name))}
        elif kind == "AWS::Serverless::Api":
            resources[f"{name}AccessLogGroup"] = log_group(_group_name(f"{name}/access"))
            resources[f"{name}ThrottledLines"] = throttled_lines_filter(
                f"{name}AccessLogGroup", permission)
            properties["AccessLogSetting"] = {
                "DestinationArn": cfn.get_att(f"{name}AccessLogGroup", "Arn"),
                "Format": json.dumps(REST_ACCESS_LOG, separators=(",", ":"))}
            if API_GATEWAY_ACCOUNT_READY in resources:
                resource["DependsOn"] = [*_list(resource.get("DependsOn")),
                                         API_GATEWAY_ACCOUNT_READY]
        elif kind == "AWS::ApiGatewayV2::Stage":
            resources[f"{name}AccessLogGroup"] = log_group(_group_name(f"{name}/access"))
            properties["AccessLogSettings"] = {
                "DestinationArn": cfn.get_att(f"{name}AccessLogGroup", "Arn"),
                "Format": json.dumps(EDGE_ACCESS_LOG, separators=(",", ":"))}
    template.setdefault("Parameters", {}).update(PARAMETERS)
    return template


def _list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def api_gateway_account() -> Template:
    """The pooled stack's part: the region's CloudWatch role for API Gateway, set only when
    the ``ApiGatewayCloudWatchRole`` parameter says ``create``."""
    logs_role = {"Type": "AWS::IAM::Role", "Condition": CREATE_API_GATEWAY_ROLE, "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                          "AmazonAPIGatewayPushToCloudWatchLogs"}]}}
    account = {"Type": "AWS::ApiGateway::Account", "Condition": CREATE_API_GATEWAY_ROLE,
               "Properties": {"CloudWatchRoleArn": cfn.get_att(API_GATEWAY_LOGS_ROLE, "Arn")}}
    ready = {"Type": "AWS::CloudFormation::WaitConditionHandle", "Metadata": {
        "Account": {"Fn::If": [CREATE_API_GATEWAY_ROLE, cfn.ref(API_GATEWAY_ACCOUNT), ""]}}}
    return {
        "Parameters": {API_GATEWAY_ROLE: {
            "Type": "String", "AllowedValues": ["existing", "create"], "Default": "existing",
            "Description": "existing: the account's API Gateway CloudWatch role (one per "
                           "region) is kept; create: this stack creates and sets one"}},
        "Conditions": {CREATE_API_GATEWAY_ROLE: {"Fn::Equals": [cfn.ref(API_GATEWAY_ROLE),
                                                                "create"]}},
        "Resources": {API_GATEWAY_LOGS_ROLE: logs_role, API_GATEWAY_ACCOUNT: account,
                      API_GATEWAY_ACCOUNT_READY: ready},
    }
