"""The resource definitions rendered as CloudFormation (the aws target's half of ONE source).

``pipeline.local_cloud.provisioning.baseline_bootstrap`` renders the same definitions as API calls
against the emulator. Every table and user pool is retained when its stack is deleted or replaced:
tenant data and identities outlive deployments.
"""

from __future__ import annotations

from typing import Any

from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    TableDefinition,
    UsagePlan,
    UserPoolDefinition,
)
from tenant_context.platform.invitations import create_user_request
from tenant_context.platform.session_policies import PolicyResources, access_role_policy
from tenant_context.tenancy import Role

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
LAYER_RUNTIME = "python3.11"
ARN_PREFIX = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"

Resource = dict[str, Any]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def table(definition: TableDefinition) -> Resource:
    properties = definition.create_table_request()
    if definition.stream:  # CloudFormation names only the view type
        properties["StreamSpecification"] = {"StreamViewType": definition.stream}
    time_to_live = definition.time_to_live_request()
    if time_to_live:  # a property of the table here, a call of its own locally
        properties["TimeToLiveSpecification"] = time_to_live["TimeToLiveSpecification"]
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": {
        **properties,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }}


def user_pool(definition: UserPoolDefinition) -> Resource:
    properties = definition.create_user_pool_request()
    properties["UserPoolName"] = properties.pop("PoolName")
    return {"Type": "AWS::Cognito::UserPool", **RETAIN, "Properties": properties}


def user_pool_client(definition: UserPoolDefinition) -> Resource:
    return {"Type": "AWS::Cognito::UserPoolClient",
            "Properties": definition.create_client_request(ref(definition.logical_id))}


def user(pool: UserPoolDefinition, user_name: str, email: Any, role: Role,
         tenant_id: str) -> Resource:
    """Cognito emails the temporary password (no password ever appears in the template)."""
    properties, _ = create_user_request(ref(pool.logical_id), user_name, email, role,
                                        tenant_id, local_file=None)
    return {"Type": "AWS::Cognito::UserPoolUser", "Properties": properties}


def policy_resources() -> PolicyResources:
    """Session-policy ARNs with CloudFormation substitutions for partition, region, account."""
    return PolicyResources.for_tables(
        ARN_PREFIX, settings=SETTINGS_TABLE.name, tenant_details=TENANT_DETAILS_TABLE.name,
        tenant_names=TENANT_NAMES_TABLE.name, tenant_user_mapping=TENANT_USER_MAPPING_TABLE.name,
        tenant_stack_mapping=TENANT_STACK_MAPPING_TABLE.name)


def substituted(document: dict[str, Any]) -> dict[str, Any]:
    """A policy document whose Resource strings hold ``${AWS::...}``, wrapped in Fn::Sub."""
    return {**document, "Statement": [
        {**statement, "Resource": [{"Fn::Sub": resource} for resource in statement["Resource"]]}
        for statement in document["Statement"]]}


def lambda_role(statements: list[dict[str, Any]], policy_name: str) -> Resource:
    """A function's own role: logs, traces, and ``statements`` (none for a pooled tenant
    service, whose data access goes through the caller's scoped credentials only)."""
    properties: dict[str, Any] = {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": [
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole"},
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}],
    }
    if statements:
        properties["Policies"] = [{"PolicyName": policy_name, "PolicyDocument": {
            "Version": "2012-10-17", "Statement": statements}}]
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def table_arns(name: Any) -> list[dict[str, Any]]:
    """A table and its indexes; ``name`` may hold ``${...}`` substitutions."""
    return [{"Fn::Sub": f"{ARN_PREFIX}:table/{name}"},
            {"Fn::Sub": f"{ARN_PREFIX}:table/{name}/index/*"}]


def authorizer_invoke_permission(authorizer_arn: Any) -> Resource:
    """API Gateway may call the shared authorizer as an authorizer of any REST API of this
    account and region (Chalice adds no permission for an external authorizer).

    ONE statement for every API, the pooled ones and every Platinum tenant's: a statement per
    API would grow the function's resource policy with each tenant stack until Lambda's 20 KB
    policy limit stops onboarding (at about 25 Platinum tenants). Being named an authorizer
    grants nothing by itself: the authorizer allows a caller only on the APIs its deployment
    row lists."""
    return {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": authorizer_arn,
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                 "${AWS::AccountId}:*/authorizers/*"}}}


def authorizer_uri(authorizer_arn_variable: str) -> dict[str, str]:
    return {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                       f"2015-03-31/functions/${{{authorizer_arn_variable}}}/invocations"}


def rest_api_url(rest_api: str, stage: str = "api") -> dict[str, str]:
    return {"Fn::Sub": f"https://${{{rest_api}}}.execute-api.${{AWS::Region}}"
                       f".${{AWS::URLSuffix}}/{stage}"}


def usage_plan(plan: UsagePlan, name: Any, rest_apis: list[str]) -> Resource:
    """API Gateway meters, throttles and caps each API key of the plan on these APIs."""
    return {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {
        "UsagePlanName": name,
        "Throttle": {"RateLimit": plan.rate_per_second, "BurstLimit": plan.burst},
        "Quota": {"Limit": plan.quota_per_day, "Period": "DAY"},
        "ApiStages": [{"ApiId": ref(api), "Stage": ref(f"{api}.Stage")} for api in rest_apis],
    }}


def api_key(name: Any) -> Resource:
    return {"Type": "AWS::ApiGateway::ApiKey", "Properties": {"Name": name, "Enabled": True}}


def usage_plan_key(plan_id: Any, key_id: Any) -> Resource:
    return {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
        "KeyId": key_id, "KeyType": "API_KEY", "UsagePlanId": plan_id}}


def http_edge(name: Any, routes: dict[str, str], stage: str = "api") -> dict[str, Resource]:
    """ONE base URL for a deployment's tenant API: an HTTP API whose routes (``/products``,
    ``/product/{proxy+}``, ...) proxy to the REST API (one per Chalice app) serving them, at the
    same path under its stage (a greedy ``{proxy+}`` becomes ``{proxy}`` in the integration
    URI). Authorization, usage plans and CORS stay with the REST APIs behind it."""
    resources: dict[str, Resource] = {"Edge": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
        "Name": name, "ProtocolType": "HTTP",
        "Description": "One base URL for the deployment's tenant services"}}}
    resources["EdgeStage"] = {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
        "ApiId": ref("Edge"), "StageName": "$default", "AutoDeploy": True}}
    for index, (route, rest_api) in enumerate(sorted(routes.items())):
        target = route.replace("{proxy+}", "{proxy}")
        resources[f"EdgeIntegration{index}"] = {
            "Type": "AWS::ApiGatewayV2::Integration", "Properties": {
                "ApiId": ref("Edge"), "IntegrationType": "HTTP_PROXY",
                "IntegrationMethod": "ANY", "PayloadFormatVersion": "1.0",
                "IntegrationUri": {"Fn::Sub": f"https://${{{rest_api}}}.execute-api."
                                              f"${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"
                                              f"{target}"}}}
        resources[f"EdgeRoute{index}"] = {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": ref("Edge"), "RouteKey": f"ANY {route}",
            "Target": {"Fn::Sub": f"integrations/${{EdgeIntegration{index}}}"}}}
    return resources


def edge_url() -> dict[str, str]:
    return {"Fn::Sub": "https://${Edge}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}


def rollback_alarm(description: str, namespace: str, metric: str,
                   dimensions: list[dict[str, Any]]) -> Resource:
    """Any occurrence in a minute while the canary runs: CodeDeploy rolls back."""
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric,
        "Statistic": "Sum", **({"Dimensions": dimensions} if dimensions else {}),
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"}}


def errors_alarm(function: str, alias: str) -> Resource:
    """Invocations of the function that raised (an unhandled error or a crash)."""
    return rollback_alarm(
        f"Errors of {function} ({alias}) roll a canary deployment back", "AWS/Lambda", "Errors",
        [{"Name": "Resource", "Value": {"Fn::Sub": f"${{{function}}}:{alias}"}},
         {"Name": "FunctionName", "Value": ref(function)}])


def server_errors_alarm(api_name: Any, stage: str = "api") -> Resource:
    """5xx answers of the API. The function's ``Errors`` miss most failures: the layer's error
    middleware and Chalice turn an exception into a 500 response, a successful invocation to
    Lambda, so a release answering 500 to everything would never roll back on ``Errors``
    alone. API Gateway's metrics are per API *name* (and stage): ``api_name`` must be the
    name this API alone has in the account and region."""
    return rollback_alarm(
        "5xx answers of the API roll a canary deployment back", "AWS/ApiGateway", "5XXError",
        [{"Name": "ApiName", "Value": api_name}, {"Name": "Stage", "Value": stage}])


CUSTOM_RESOURCE_TIMEOUT_SECONDS = 300
"""How long CloudFormation waits for a custom resource's answer (``ServiceTimeout``; an hour
without it). The handler answers in seconds, FAILED included; only a function that never runs
(it cannot even be loaded) leaves the stack waiting, and then for 5 minutes, not 60."""


def custom_resource(kind: str, service_token: Any, properties: dict[str, Any]) -> Resource:
    return {"Type": kind, "Properties": {
        "ServiceToken": service_token, "ServiceTimeout": CUSTOM_RESOURCE_TIMEOUT_SECONDS,
        **properties}}


def tenant_access_role(trusted_role: str, role_name: Any) -> Resource:
    """The role the authorizer assumes; only the authorizer's own role may assume it."""
    return {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": role_name,
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": get_att(trusted_role, "Arn")},
            "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "tenant-data-access",
                      "PolicyDocument": substituted(access_role_policy(policy_resources()))}],
    }}


def layer_version(content_uri: str, name: Any) -> Resource:
    return {"Type": "AWS::Serverless::LayerVersion", "Properties": {
        "LayerName": name, "ContentUri": content_uri,
        "CompatibleRuntimes": [LAYER_RUNTIME], "CompatibleArchitectures": ["x86_64"],
        "RetentionPolicy": "Retain",
        "Description": "tenant_context and its dependencies, shared by every function"}}
