"""The tenant pipeline's stack (``serverless-saas-tenant-pipeline``): what provisions a Platinum
tenant with no operator and rolls releases out to the fleet, on AWS's own engines.

- The tenant-stack-mapping table's stream (the pooled stack's output) triggers the stream
  function, which starts one deploy-stack execution per wanted change (filtered to INSERT and
  MODIFY before Lambda is even invoked; a batch that keeps failing goes to a dead-letter queue
  after ten tries, bisected to find the record).
- The deploy-stack state machine (Step Functions, standard: a stack takes minutes) runs the
  stack-tasks function between its waits; its log group keeps every execution's history.
- CloudFormation deploys tenants' stacks with its own service role, so the stack-tasks
  function may only drive CloudFormation on the platform's tenant stacks (``stack-<32 hex>``:
  the name pattern IAM can express is ``stack-*``), read the pooled stack's outputs, pass
  that role, and read and write the tenant-stack-mapping rows and the release bucket.
- The rollout state machine rolls a published release out (plan, the pooled stack, the waves
  as nested deploy-stack executions); a stopped rollout, and every wave waiting for approval,
  is published on the notification topic (subscribe staff's addresses to it).
- The tenant-details table's stream (the pooled stack's output) triggers the move stream
  function, which starts one tenant-move execution per move the admin API recorded (filtered
  to records whose new image holds a move at ``requested``). The tenant-move state machine
  runs the move-tasks function (one step of ``pipeline.lifecycle.tenant_move`` a call) between
  the waits the steps ask for. That function moves the tenant's items, so it may read and
  write the tenant services' tables (``serverless-saas-<item>-*``; delete only a silo's, never
  the pooled ones), the tenant record, the deployment rows and the settings; issue and delete
  API keys and link them to plans; and delete tenants' stacks (``stack-*``), which
  CloudFormation deletes with the role the stack was deployed with (no ``iam:PassRole``
  needed for a role already on the stack).
- The same stream triggers the offboarding stream function (a reader of its own: see
  ``pipeline.aws_pipeline.lifecycle_events``), which starts one tenant-offboarding execution
  per offboarding the admin API recorded (filtered to records whose new image holds an
  offboarding at ``grace``). That machine runs the offboarding-tasks function (one step of
  ``pipeline.lifecycle.offboarding`` a call) and waits out the grace period in one Wait state.
  The function erases a tenant, so it may: read and write the tenant record (and replace it by
  its tombstone); delete the tenant's name claim, user rows and deployment row; read the
  settings; read the tenant services' tables and delete a silo's (never the pool's), and query,
  scan (the verification) and delete items in the pooled ones; delete users, the tenant's group
  and a silo's pool in Cognito (never the operations pool's staff, group or pool, nor the
  pooled pool: stack parameters name both); list and delete API keys; delete tenants' stacks;
  and put and read exports under ``exports/`` in the export bucket.
- The release bucket keeps published releases (``releases/<id>/``) and large templates;
  versioned, encrypted, never public.
- The export bucket keeps offboarded tenants' exports (``exports/<tenantId>/<offboardingId>
  .json``) for ``EXPORT_DAYS``, the longest a presigned link to one can live. A bucket of its
  own rather than a prefix of the release bucket: the release bucket is versioned (a deleted
  or expired export would stay on as a noncurrent version, a copy of a tenant's data the
  erasure promised away) and read by the release build and CloudFormation's role, while this
  one is unversioned (expired means gone), read by the offboarding task alone, and its one
  lifecycle rule is the export's lifetime. Encrypted, never public, TLS only, ACLs off; kept
  if the stack is deleted (an export not yet handed over outlives it, and its lifecycle rule
  goes on deleting).
"""

from __future__ import annotations

from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.cloudformation import LAYER_RUNTIME
from pipeline.stacks.inventory import POOLED_STACK_NAME
from pipeline.stacks.logging_template import DEFAULT_RETENTION_DAYS, LOG_RETENTION, RETENTION_DAYS
from pipeline.stacks.state_machines import (
    deploy_stack_definition,
    rollout_definition,
    tenant_move_definition,
    tenant_offboarding_definition,
)
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    OPERATIONS_POOL,
    PLATFORM,
    POOLED_TENANT_POOL,
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    USAGE_TABLE,
    TableDefinition,
    data_table,
)
from tenant_context.platform.tenant_moves import MOVE_ATTRIBUTE, MoveStep
from tenant_context.platform.tenant_offboarding import OFFBOARDING_ATTRIBUTE, OffboardingStep
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES

PIPELINE_STACK_NAME = f"{PLATFORM}-tenant-pipeline"
RELEASE_BUCKET_OUTPUT, ROLLOUT_OUTPUT = "ReleaseBucketName", "RolloutStateMachineArn"
FUNCTIONS_ZIP = "./tenant-pipeline-functions.zip"
TENANT_STACKS = "stack-*"  # every Platinum tenant's stack (and, for reading, the pooled one)
STREAM_ARN, LAYER_ARN = "TenantStackMappingStreamArn", "LayerArn"
DETAILS_STREAM_ARN = "TenantDetailsStreamArn"
MOVE_OUTPUT = "TenantMoveStateMachineArn"
# The tenant-move settle times on AWS (``pipeline.lifecycle.tenant_move``'s AWS defaults; a
# test keeps them equal): parameters, so an account with other cache lifetimes can set them.
MOVE_SETTLE_PARAMETERS = {"MoveWriteSettleSeconds": (Env.MOVE_WRITE_SETTLE_SECONDS, 61),
                          "MoveRoutingSettleSeconds": (Env.MOVE_ROUTING_SETTLE_SECONDS, 90)}
# Only records whose new image holds a requested move reach the move stream function.
REQUESTED_MOVE_FILTER = ('{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"'
                         + MOVE_ATTRIBUTE + '": {"M": {"step": {"S": ["'
                         + MoveStep.REQUESTED.value + '"]}}}}}}')
# Only records whose new image holds an offboarding in its grace period reach the offboarding
# stream function (a new one among them: the function compares the old image's id).
GRACE_OFFBOARDING_FILTER = ('{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"'
                            + OFFBOARDING_ATTRIBUTE + '": {"M": {"step": {"S": ["'
                            + OffboardingStep.GRACE.value + '"]}}}}}}')
OFFBOARDING_OUTPUT, EXPORT_BUCKET_OUTPUT = "TenantOffboardingStateMachineArn", "ExportBucketName"
EXPORTS_PREFIX = "exports/"  # ``pipeline.lifecycle.exports``' keys
EXPORT_DAYS = 7  # a presigned link's longest life (SigV4); a test keeps them equal
# The pooled stack's pools (its outputs of the same names): the offboarding task may delete a
# silo's pool and users, never the platform's own pools (nor staff).
OPERATIONS_POOL_ID = f"{OPERATIONS_POOL.logical_id}Id"
POOLED_POOL_ID = f"{POOLED_TENANT_POOL.logical_id}Id"
DEPLOYER_ROLE = "StackDeployerRole"  # CloudFormation's, for the stacks the pipeline deploys
Template = dict[str, Any]


def _stack_arn(name: str) -> dict[str, str]:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:"
                       f"${{AWS::AccountId}}:stack/{name}/*"}


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


# What CloudFormation needs to create, update and roll back the platform's stacks, a Platinum
# tenant's (tables, functions behind aliases with CodeDeploy canaries, REST and HTTP APIs, usage
# plans and keys, roles, log groups, alarms, a custom resource) and the pooled one a rollout
# updates (also pools and their first user, the layer, metric filters, API Gateway's account
# settings). Named one by one (no "service:*"), on the platform's names where IAM can say them:
# CloudFormation names a stack's roles and functions after the stack (``stack-*``); tables,
# the layer and named roles carry the platform's prefix. A test checks every resource type of
# both stacks has its service here.
_ARN = "arn:${AWS::Partition}"
_IN_ACCOUNT = "${AWS::Region}:${AWS::AccountId}"
DEPLOYER_PERMISSIONS: dict[str, tuple[list[str], list[str]]] = {
    "dynamodb": (["CreateTable", "UpdateTable", "DeleteTable", "DescribeTable",
                  "DescribeContinuousBackups", "UpdateContinuousBackups", "DescribeTimeToLive",
                  "TagResource", "UntagResource", "ListTagsOfResource"],
                 [f"{_ARN}:dynamodb:{_IN_ACCOUNT}:table/{PLATFORM}-*"]),
    "lambda": (["CreateFunction", "DeleteFunction", "GetFunction", "GetFunctionConfiguration",
                "UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion",
                "ListVersionsByFunction", "CreateAlias", "UpdateAlias", "DeleteAlias",
                "GetAlias", "AddPermission", "RemovePermission", "PutFunctionConcurrency",
                "DeleteFunctionConcurrency", "TagResource", "UntagResource", "ListTags",
                "InvokeFunction", "PublishLayerVersion", "DeleteLayerVersion",
                "GetLayerVersion"],
               [f"{_ARN}:lambda:{_IN_ACCOUNT}:function:{TENANT_STACKS}",
                f"{_ARN}:lambda:{_IN_ACCOUNT}:layer:{PLATFORM}-*"]),
    "iam": (["CreateRole", "DeleteRole", "GetRole", "UpdateAssumeRolePolicy", "PutRolePolicy",
             "GetRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
             "TagRole", "UntagRole", "PassRole"],
            [f"{_ARN}:iam::${{AWS::AccountId}}:role/{TENANT_STACKS}",
             f"{_ARN}:iam::${{AWS::AccountId}}:role/{PLATFORM}-*"]),
    "apigateway": (["GET", "POST", "PUT", "PATCH", "DELETE", "SetWebACL"], ["*"]),
    # The pooled stack's opt-in sign-up WAF (a rollout deploys the pooled stack too).
    "wafv2": (["CreateWebACL", "UpdateWebACL", "DeleteWebACL", "GetWebACL",
               "AssociateWebACL", "DisassociateWebACL", "GetWebACLForResource",
               "TagResource", "UntagResource", "ListTagsForResource"],
              [f"{_ARN}:wafv2:{_IN_ACCOUNT}:regional/webacl/{PLATFORM}-signups-*/*",
               f"{_ARN}:apigateway:${{AWS::Region}}::/restapis/*/stages/*"]),
    "cognito-idp": (["CreateUserPool", "UpdateUserPool", "DeleteUserPool", "DescribeUserPool",
                     "CreateUserPoolClient", "UpdateUserPoolClient", "DeleteUserPoolClient",
                     "DescribeUserPoolClient", "AdminCreateUser", "AdminDeleteUser",
                     "AdminGetUser", "AdminUpdateUserAttributes", "TagResource",
                     "UntagResource", "ListTagsForResource"], ["*"]),
    "logs": (["CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy",
              "DeleteRetentionPolicy", "PutMetricFilter", "DeleteMetricFilter",
              "DescribeMetricFilters", "TagResource", "UntagResource", "ListTagsForResource",
              "CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery",
              "ListLogDeliveries", "PutResourcePolicy", "DescribeResourcePolicies"], ["*"]),
    "cloudwatch": (["PutMetricAlarm", "DeleteAlarms", "DescribeAlarms", "TagResource"], ["*"]),
    "codedeploy": (["CreateApplication", "DeleteApplication", "GetApplication",
                    "CreateDeploymentGroup", "UpdateDeploymentGroup", "DeleteDeploymentGroup",
                    "GetDeploymentGroup", "CreateDeployment", "GetDeployment",
                    "GetDeploymentConfig", "RegisterApplicationRevision", "StopDeployment",
                    "TagResource"], ["*"]),
}


def deployer_role() -> Template:
    """CloudFormation's role for the platform's stacks; ``iam:PassRole`` of it is the
    functions'."""
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": [f"{service}:{action}" for action in actions],
         "Resource": [_sub(resource) if "${" in resource else resource
                      for resource in resources]}
        for service, (actions, resources) in DEPLOYER_PERMISSIONS.items()]
    statements.append({"Effect": "Allow", "Action": ["s3:GetObject"],
                       "Resource": _sub("${ReleaseBucket.Arn}/*")})
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
            "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "deploy-platform-stacks",
                      "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}}


def _function(handler: str, description: str, environment: dict[str, Any],
              statements: list[dict[str, Any]], **extra: Any) -> Template:
    return {"Type": "AWS::Serverless::Function", "Properties": {
        "Runtime": LAYER_RUNTIME, "Handler": handler, "CodeUri": FUNCTIONS_ZIP,
        "Description": description, "MemorySize": 512, "Timeout": 60,
        "Layers": [cfn.ref(LAYER_ARN)], "Tracing": "Active",
        "Environment": {"Variables": environment},
        "Policies": [{"Version": "2012-10-17", "Statement": statements}], **extra}}


def _buildspec() -> str:
    """The release build: the unit tests, then ``make package`` and publish (the release
    CLI's ``publish``), then the rollout of what was published. The release id is the
    ``RELEASE_ID`` file ``make release TARGET=aws`` zips in, or the commit a repository's push
    built."""
    variables = {"bucket": Env.RELEASE_BUCKET, "machine": Env.ROLLOUT_STATE_MACHINE_ARN,
                 "concurrency": Env.ROLLOUT_MAX_CONCURRENCY,
                 "threshold": Env.ROLLOUT_FAILURE_THRESHOLD,
                 "approve": Env.ROLLOUT_APPROVE_WAVES}
    rollout_input = ('{\\"releaseId\\": \\"$RELEASE_ID\\", \\"settings\\": '
                     '{\\"maxConcurrency\\": ${concurrency}, \\"failureThreshold\\": '
                     '${threshold}, \\"approveWaves\\": ${approve}}}')
    commands = [
        'RELEASE_ID="$(cat RELEASE_ID 2>/dev/null || echo "$CODEBUILD_RESOLVED_SOURCE_VERSION" '
        '| cut -c1-12)"',
        'echo "Release $RELEASE_ID"',
        "make unit",
        '.venv/bin/python -m pipeline.release publish --target aws --release-id "$RELEASE_ID" '
        '--bucket "${bucket}" --source "$CODEBUILD_SOURCE_VERSION"',
        'aws stepfunctions start-execution --state-machine-arn "${machine}" --name '
        '"release-$(echo "$RELEASE_ID" | tr -c "A-Za-z0-9_-\\n" -)-$CODEBUILD_BUILD_NUMBER" '
        f'--input "{rollout_input}"',
    ]
    lines = ["version: 0.2", "phases:", "  install:", "    runtime-versions:",
             '      python: "3.11"', "  build:", "    commands:",
             *(f"      - '{command.replace(chr(39), chr(39) * 2)}'" for command in commands)]
    text = "\n".join(lines) + "\n"
    for name, variable in variables.items():
        text = text.replace("${" + name + "}", f"${variable.value}")
    return text


def _release_build(name: str, source: dict[str, Any], triggers: dict[str, Any] | None = None,
                   **extra: Any) -> dict[str, Any]:
    return {"Type": "AWS::CodeBuild::Project", **extra, "Properties": {
        **({"Triggers": triggers} if triggers else {}),
        "Description": "Tests, packages and publishes a release, then starts its rollout",
        "ServiceRole": cfn.get_att("ReleaseBuildRole", "Arn"),
        "Artifacts": {"Type": "NO_ARTIFACTS"}, "Source": {**source, "BuildSpec": _buildspec()},
        "TimeoutInMinutes": 60,
        "Environment": {"Type": "LINUX_CONTAINER", "ComputeType": "BUILD_GENERAL1_MEDIUM",
                        "Image": "aws/codebuild/standard:7.0", "EnvironmentVariables": [
                            {"Name": Env.RELEASE_BUCKET.value, "Value": cfn.ref("ReleaseBucket")},
                            {"Name": Env.ROLLOUT_STATE_MACHINE_ARN.value,
                             "Value": cfn.ref("RolloutStateMachine")},
                            {"Name": Env.ROLLOUT_MAX_CONCURRENCY.value,
                             "Value": cfn.ref("MaxConcurrency")},
                            {"Name": Env.ROLLOUT_FAILURE_THRESHOLD.value,
                             "Value": cfn.ref("FailureThreshold")},
                            {"Name": Env.ROLLOUT_APPROVE_WAVES.value,
                             "Value": cfn.ref("ApproveWaves")}]},
        "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED",
                                          "GroupName": cfn.ref("ReleaseBuildLogs")}}}}


def _connection_arn() -> dict[str, str]:
    return _sub("arn:${AWS::Partition}:codeconnections:${AWS::Region}:${AWS::AccountId}:"
                "connection/${ConnectionId}")


def _release_resources() -> dict[str, Any]:
    """The release build, started by a source ``make release`` puts in the bucket (the bucket's
    event, through EventBridge) or, when a repository connection is given, by a push."""
    build_arns = [_sub("arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}:"
                       "project/${ReleaseBuild}")]
    return {
        "ReleaseBuildLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": _sub("/serverless-saas/${AWS::StackName}/release-build"),
            "RetentionInDays": cfn.ref(LOG_RETENTION)}},
        "ReleaseBuildRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "release-build", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                     "Resource": [cfn.get_att("ReleaseBuildLogs", "Arn")]},
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject",
                                                   "s3:DeleteObject"],
                     "Resource": [_sub("${ReleaseBucket.Arn}/*")]},
                    {"Effect": "Allow", "Action": ["s3:ListBucket"],
                     "Resource": [cfn.get_att("ReleaseBucket", "Arn")]},
                    {"Effect": "Allow", "Action": ["dynamodb:Scan"],
                     "Resource": [_table_arn()]},
                    {"Effect": "Allow", "Action": ["states:StartExecution"],
                     "Resource": [cfn.ref("RolloutStateMachine")]},
                    {"Fn::If": ["FromRepository", {
                        "Effect": "Allow", "Action": ["codeconnections:UseConnection",
                                                      "codeconnections:GetConnectionToken"],
                        "Resource": [_connection_arn()]}, cfn.ref("AWS::NoValue")]}]}}]}},
        "ReleaseBuild": _release_build("ReleaseBuild", {
            "Type": "S3", "Location": _sub("${ReleaseBucket}/source/latest.zip")}),
        "RepositoryBuild": _release_build("RepositoryBuild", {
            "Type": "GITHUB", "Location": cfn.ref("RepositoryUrl"),
            "Auth": {"Type": "CODECONNECTIONS", "Resource": _connection_arn()}},
            triggers={"Webhook": True, "FilterGroups": [[
                {"Type": "EVENT", "Pattern": "PUSH"},
                {"Type": "HEAD_REF", "Pattern": _sub("^refs/heads/${Branch}$")}]]},
            Condition="FromRepository"),
        "ReleaseSourceRule": {"Type": "AWS::Events::Rule", "Properties": {
            "Description": "A release's source put by make release TARGET=aws",
            "EventPattern": {"source": ["aws.s3"], "detail-type": ["Object Created"],
                             "detail": {"bucket": {"name": [cfn.ref("ReleaseBucket")]},
                                        "object": {"key": [{"prefix": "source/"}]}}},
            "Targets": [{"Id": "release-build", "Arn": build_arns[0],
                         "RoleArn": cfn.get_att("ReleaseSourceRuleRole", "Arn"),
                         "InputTransformer": {
                             "InputPathsMap": {"bucket": "$.detail.bucket.name",
                                               "key": "$.detail.object.key"},
                             "InputTemplate": '{"sourceLocationOverride": '
                                              '"<bucket>/<key>"}'}}]}},
        "ReleaseSourceRuleRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "start-release-build", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": ["codebuild:StartBuild"],
                    "Resource": build_arns}]}}]}},
    }


def _state_machine(name: str, definition: dict[str, Any], substitutions: dict[str, Any],
                   statements: list[dict[str, Any]]) -> dict[str, Any]:
    """A plain state machine (not SAM's: cfn-lint validates a plain one's definition), its role
    and its log group (every execution's history, kept as long as the stacks' logs)."""
    return {
        f"{name}Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": _sub(f"/serverless-saas/${{AWS::StackName}}/{name}"),
            "RetentionInDays": cfn.ref(LOG_RETENTION)}},
        f"{name}StateMachineRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": f"run-{name}", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [*statements, {
                    # Log delivery and tracing name no resource (as AWS documents them).
                    "Effect": "Allow", "Action": [
                        "logs:CreateLogDelivery", "logs:GetLogDelivery",
                        "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                        "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
                        "xray:PutTraceSegments", "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules", "xray:GetSamplingTargets"],
                    "Resource": "*"}]}}]}},
        f"{name}StateMachine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineType": "STANDARD", "Definition": definition,
            "DefinitionSubstitutions": substitutions,
            "RoleArn": cfn.get_att(f"{name}StateMachineRole", "Arn"),
            "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": True,
                                     "Destinations": [{"CloudWatchLogsLogGroup": {
                                         "LogGroupArn": cfn.get_att(f"{name}Logs", "Arn")}}]},
            "TracingConfiguration": {"Enabled": True}}},
    }


def _table_arn(name: str = TENANT_STACK_MAPPING_TABLE.name) -> dict[str, str]:
    return _sub(f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:"
                f"table/{name}")


def _tables(definitions: list[TableDefinition]) -> list[dict[str, str]]:
    return [_table_arn(definition.name) for definition in definitions]


def _apigateway_arn(path: str) -> dict[str, str]:
    return _sub(f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::{path}")


def move_tasks_statements() -> list[dict[str, Any]]:
    """The move-tasks function's rights: what ``TenantMover`` calls, on the platform's names."""
    pooled_data = [data_table(service, POOLED_DEPLOYMENT) for service in TENANT_SERVICES]
    every_data_table = [_table_arn(f"{PLATFORM}-{service.item}-*") for service in TENANT_SERVICES]
    return [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
         "Resource": _tables([TENANT_DETAILS_TABLE])},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem",
                                       "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
         "Resource": _tables([TENANT_STACK_MAPPING_TABLE])},
        {"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": _tables([SETTINGS_TABLE])},
        # The tenant's items in the pool's tables and its own (and a silo's tables deleted
        # once its items are back in the pool) ...
        {"Effect": "Allow", "Action": [
            "dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
            "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable"],
         "Resource": every_data_table},
        # ... never the pool's own tables.
        {"Effect": "Deny", "Action": ["dynamodb:DeleteTable"], "Resource": _tables(pooled_data)},
        {"Effect": "Allow", "Action": ["apigateway:GET", "apigateway:POST", "apigateway:DELETE"],
         "Resource": [_apigateway_arn("/apikeys"), _apigateway_arn("/apikeys/*"),
                      _apigateway_arn("/usageplans/*/keys"),
                      _apigateway_arn("/usageplans/*/keys/*")]},
        {"Effect": "Allow", "Action": ["cloudformation:DeleteStack",
                                       "cloudformation:DescribeStacks"],
         "Resource": [_stack_arn(TENANT_STACKS)]},
    ]


def _user_pool_arn(pool_id: str) -> dict[str, str]:
    return _sub(f"arn:${{AWS::Partition}}:cognito-idp:${{AWS::Region}}:${{AWS::AccountId}}:"
                f"userpool/{pool_id}")


def offboarding_tasks_statements() -> list[dict[str, Any]]:
    """The offboarding-tasks function's rights: what ``TenantOffboarder`` calls, on the
    platform's names."""
    pooled_data = _tables([data_table(service, POOLED_DEPLOYMENT) for service in TENANT_SERVICES])
    every_data_table = [_table_arn(f"{PLATFORM}-{service.item}-*") for service in TENANT_SERVICES]
    return [
        # The record (its offboarding's steps, then its tombstone) ...
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem",
                                       "dynamodb:PutItem"],
         "Resource": _tables([TENANT_DETAILS_TABLE])},
        # ... its name claim (released; the scan: the verification's count of claims left) ...
        {"Effect": "Allow", "Action": ["dynamodb:DeleteItem", "dynamodb:Scan"],
         "Resource": _tables([TENANT_NAMES_TABLE])},
        # ... its users' rows, its deployment row, the settings (the pools and plans).
        {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:DeleteItem"],
         "Resource": _tables([TENANT_USER_MAPPING_TABLE])},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:DeleteItem"],
         "Resource": _tables([TENANT_STACK_MAPPING_TABLE])},
        {"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": _tables([SETTINGS_TABLE])},
        # Its usage rows: read for its final invoice's billing events, deleted (25 a batch),
        # counted by the verification (Query, Select COUNT).
        {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:BatchWriteItem"],
         "Resource": _tables([USAGE_TABLE])},
        # The tenant's items read for the export wherever they are, a silo's tables deleted
        # (and looked for by name in the verification) ...
        {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:DeleteTable",
                                       "dynamodb:DescribeTable"],
         "Resource": every_data_table},
        # ... its items deleted from the pool's (and the verification's filtered scans) ...
        {"Effect": "Allow", "Action": ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
                                       "dynamodb:Scan"],
         "Resource": pooled_data},
        # ... never the pool's tables themselves.
        {"Effect": "Deny", "Action": ["dynamodb:DeleteTable"], "Resource": pooled_data},
        # Users, the tenant's group in the pooled pool, a silo's pool: pools have generated
        # ids, so every pool of the account and region, less the platform's own below.
        {"Effect": "Allow", "Action": [
            "cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser", "cognito-idp:ListUsers",
            "cognito-idp:GetGroup", "cognito-idp:DeleteGroup", "cognito-idp:DeleteUserPool"],
         "Resource": [_user_pool_arn("*")]},
        {"Effect": "Allow", "Action": ["cognito-idp:ListUserPools"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["cognito-idp:DeleteUserPool"],
         "Resource": [_user_pool_arn(f"${{{OPERATIONS_POOL_ID}}}"),
                      _user_pool_arn(f"${{{POOLED_POOL_ID}}}")]},
        {"Effect": "Deny", "Action": ["cognito-idp:AdminDeleteUser", "cognito-idp:DeleteGroup"],
         "Resource": [_user_pool_arn(f"${{{OPERATIONS_POOL_ID}}}")]},
        {"Effect": "Allow", "Action": ["apigateway:GET"],
         "Resource": [_apigateway_arn("/apikeys")]},
        {"Effect": "Allow", "Action": ["apigateway:DELETE"],
         "Resource": [_apigateway_arn("/apikeys/*")]},
        {"Effect": "Allow", "Action": ["cloudformation:DeleteStack",
                                       "cloudformation:DescribeStacks"],
         "Resource": [_stack_arn(TENANT_STACKS)]},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": [_sub(f"${{ExportBucket.Arn}}/{EXPORTS_PREFIX}*")]},
    ]


def _offboarding_resources() -> dict[str, Any]:
    """Offboardings: the export bucket, the tenant-details stream's second function, the state
    machine, its task."""
    executions = _sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                      "execution:${TenantOffboardingStateMachine.Name}:*")
    bucket_arn = cfn.get_att("ExportBucket", "Arn")
    return {
        "ExportBucket": {"Type": "AWS::S3::Bucket", **cfn.RETAIN, "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "exports", "Status": "Enabled", "Prefix": EXPORTS_PREFIX,
                 "ExpirationInDays": EXPORT_DAYS},
                {"Id": "unfinished-uploads", "Status": "Enabled", "Prefix": "",
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}}},
        "ExportBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": cfn.ref("ExportBucket"), "PolicyDocument": {"Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [bucket_arn, _sub("${ExportBucket.Arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
        "OffboardingTasksFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.offboarding_task",
            "The tenant-offboarding state machine's task: one step of a tenant's offboarding", {
                Env.TENANT_DETAILS_TABLE.value: TENANT_DETAILS_TABLE.name,
                Env.TENANT_NAMES_TABLE.value: TENANT_NAMES_TABLE.name,
                Env.TENANT_USER_MAPPING_TABLE.value: TENANT_USER_MAPPING_TABLE.name,
                Env.TENANT_STACK_MAPPING_TABLE.value: TENANT_STACK_MAPPING_TABLE.name,
                Env.SETTINGS_TABLE.value: SETTINGS_TABLE.name,
                Env.EXPORT_BUCKET.value: cfn.ref("ExportBucket")},
            offboarding_tasks_statements(), Timeout=900, MemorySize=1024),
        "OffboardingStreamFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.offboarding_stream_handler",
            "Starts a tenant-offboarding execution for each offboarding the admin API records",
            {Env.TENANT_OFFBOARDING_STATE_MACHINE_ARN.value:
                cfn.ref("TenantOffboardingStateMachine")},
            [{"Effect": "Allow", "Action": ["states:StartExecution"],
              "Resource": [cfn.ref("TenantOffboardingStateMachine")]},
             {"Effect": "Allow", "Action": ["states:DescribeExecution"],
              "Resource": [executions]},
             {"Effect": "Allow", "Action": ["sqs:SendMessage"],
              "Resource": [cfn.get_att("StreamFailures", "Arn")]}],
            Events={"TenantOffboardings": {"Type": "DynamoDB", "Properties": {
                "Stream": cfn.ref(DETAILS_STREAM_ARN), "StartingPosition": "LATEST",
                "BatchSize": 10, "MaximumRetryAttempts": 10,
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {
                    "Destination": cfn.get_att("StreamFailures", "Arn")}},
                "FilterCriteria": {"Filters": [{"Pattern": GRACE_OFFBOARDING_FILTER}]}}}}),
        **_state_machine("TenantOffboarding", tenant_offboarding_definition(), {
            "OffboardingTasksFunctionArn": cfn.get_att("OffboardingTasksFunction", "Arn")}, [
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
             "Resource": [cfn.get_att("OffboardingTasksFunction", "Arn"),
                          _sub("${OffboardingTasksFunction.Arn}:*")]}]),
    }


def _move_resources() -> dict[str, Any]:
    """Tenant moves: the tenant-details stream's function, the state machine, its task."""
    move_executions = _sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                           "execution:${TenantMoveStateMachine.Name}:*")
    return {
        "MoveTasksFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.move_task",
            "The tenant-move state machine's task: one step of a tenant's move", {
                Env.TENANT_DETAILS_TABLE.value: TENANT_DETAILS_TABLE.name,
                Env.TENANT_STACK_MAPPING_TABLE.value: TENANT_STACK_MAPPING_TABLE.name,
                Env.SETTINGS_TABLE.value: SETTINGS_TABLE.name,
                **{variable.value: cfn.ref(parameter)
                   for parameter, (variable, _) in MOVE_SETTLE_PARAMETERS.items()}},
            move_tasks_statements(), Timeout=900, MemorySize=1024),
        "MoveStreamFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.move_stream_handler",
            "Starts a tenant-move execution for each move the admin API records",
            {Env.TENANT_MOVE_STATE_MACHINE_ARN.value: cfn.ref("TenantMoveStateMachine")},
            [{"Effect": "Allow", "Action": ["states:StartExecution"],
              "Resource": [cfn.ref("TenantMoveStateMachine")]},
             {"Effect": "Allow", "Action": ["states:DescribeExecution"],
              "Resource": [move_executions]},
             {"Effect": "Allow", "Action": ["sqs:SendMessage"],
              "Resource": [cfn.get_att("StreamFailures", "Arn")]}],
            Events={"TenantRecords": {"Type": "DynamoDB", "Properties": {
                "Stream": cfn.ref(DETAILS_STREAM_ARN), "StartingPosition": "LATEST",
                "BatchSize": 10, "MaximumRetryAttempts": 10,
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {
                    "Destination": cfn.get_att("StreamFailures", "Arn")}},
                "FilterCriteria": {"Filters": [{"Pattern": REQUESTED_MOVE_FILTER}]}}}}),
        **_state_machine("TenantMove", tenant_move_definition(), {
            "MoveTasksFunctionArn": cfn.get_att("MoveTasksFunction", "Arn")}, [
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
             "Resource": [cfn.get_att("MoveTasksFunction", "Arn"),
                          _sub("${MoveTasksFunction.Arn}:*")]}]),
    }


def pipeline_template() -> Template:
    stack_tasks_statements = [
        {"Effect": "Allow", "Action": [
            "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
            "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
            "cloudformation:DeleteStack", "cloudformation:ContinueUpdateRollback"],
         "Resource": [_stack_arn(TENANT_STACKS)]},
        {"Effect": "Allow", "Action": ["cloudformation:DescribeStacks"],
         "Resource": [_stack_arn(POOLED_STACK_NAME)]},
        {"Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": [cfn.get_att(DEPLOYER_ROLE, "Arn")]},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
         "Resource": [_table_arn()]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": [_sub("${ReleaseBucket.Arn}/*")]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [cfn.get_att("ReleaseBucket", "Arn")]},
    ]
    execution_arns = _sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                          "execution:${DeployStackStateMachine.Name}:*")
    resources: dict[str, Any] = {
        **_release_resources(),
        **_move_resources(),
        **_offboarding_resources(),
        "ReleaseBucket": {"Type": "AWS::S3::Bucket", **cfn.RETAIN, "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "NotificationConfiguration": {"EventBridgeConfiguration": {
                "EventBridgeEnabled": True}},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "old-versions", "Status": "Enabled",
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
                {"Id": "large-templates", "Status": "Enabled", "Prefix": "templates/",
                 "ExpirationInDays": 30},
                {"Id": "sources", "Status": "Enabled", "Prefix": "source/",
                 "ExpirationInDays": 90}]}}},
        "ReleaseBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": cfn.ref("ReleaseBucket"), "PolicyDocument": {"Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [cfn.get_att("ReleaseBucket", "Arn"),
                             _sub("${ReleaseBucket.Arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
        DEPLOYER_ROLE: deployer_role(),
        "StackTasksFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.stack_task",
            "The deploy-stack state machine's tasks", {
                Env.RELEASE_BUCKET.value: cfn.ref("ReleaseBucket"),
                Env.TENANT_STACK_MAPPING_TABLE.value: TENANT_STACK_MAPPING_TABLE.name,
                Env.CLOUDFORMATION_ROLE_ARN.value: cfn.get_att(DEPLOYER_ROLE, "Arn"),
                Env.LOG_RETENTION_DAYS.value: cfn.ref(LOG_RETENTION)},
            stack_tasks_statements),
        "StreamFailures": {"Type": "AWS::SQS::Queue", "Properties": {
            "MessageRetentionPeriod": 1_209_600, "SqsManagedSseEnabled": True}},
        "StreamFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.stream_handler",
            "Starts a deployment for each wanted change of a tenant's row",
            {Env.DEPLOY_STACK_STATE_MACHINE_ARN.value: cfn.ref("DeployStackStateMachine")},
            [{"Effect": "Allow", "Action": ["states:StartExecution"],
              "Resource": [cfn.ref("DeployStackStateMachine")]},
             {"Effect": "Allow", "Action": ["states:DescribeExecution"],
              "Resource": [execution_arns]},
             {"Effect": "Allow", "Action": ["sqs:SendMessage"],
              "Resource": [cfn.get_att("StreamFailures", "Arn")]}],
            Events={"TenantRows": {"Type": "DynamoDB", "Properties": {
                "Stream": cfn.ref(STREAM_ARN), "StartingPosition": "LATEST", "BatchSize": 10,
                "MaximumRetryAttempts": 10, "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {
                    "Destination": cfn.get_att("StreamFailures", "Arn")}},
                "FilterCriteria": {"Filters": [
                    {"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]}}}}),
        **_state_machine("DeployStack", deploy_stack_definition(), {
            "StackTasksFunctionArn": cfn.get_att("StackTasksFunction", "Arn")}, [
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
             "Resource": [cfn.get_att("StackTasksFunction", "Arn"),
                          _sub("${StackTasksFunction.Arn}:*")]}]),
        "RolloutTasksFunction": _function(
            "pipeline.aws_pipeline.lambda_entry.rollout_task",
            "The rollout state machine's tasks", {
                Env.RELEASE_BUCKET.value: cfn.ref("ReleaseBucket"),
                Env.TENANT_STACK_MAPPING_TABLE.value: TENANT_STACK_MAPPING_TABLE.name},
            [{"Effect": "Allow", "Action": ["dynamodb:Scan", "dynamodb:GetItem"],
              "Resource": [_table_arn()]},
             {"Effect": "Allow", "Action": ["s3:GetObject"],
              "Resource": [_sub("${ReleaseBucket.Arn}/releases/*")]}]),
        "NotificationTopic": {"Type": "AWS::SNS::Topic", "Properties": {
            "DisplayName": "Serverless SaaS rollouts", "KmsMasterKeyId": "alias/aws/sns"}},
        **_state_machine("Rollout", rollout_definition(), {
            "RolloutTasksFunctionArn": cfn.get_att("RolloutTasksFunction", "Arn"),
            "DeployStackStateMachineArn": cfn.ref("DeployStackStateMachine"),
            "NotificationTopicArn": cfn.ref("NotificationTopic")}, [
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
             "Resource": [cfn.get_att("RolloutTasksFunction", "Arn"),
                          _sub("${RolloutTasksFunction.Arn}:*")]},
            {"Effect": "Allow", "Action": ["states:StartExecution"],
             "Resource": [cfn.ref("DeployStackStateMachine")]},
            {"Effect": "Allow", "Action": ["states:DescribeExecution", "states:StopExecution"],
             "Resource": [execution_arns]},
            # How a nested execution is waited for (.sync), as AWS documents it.
            {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule",
                                           "events:DescribeRule"],
             "Resource": [_sub("arn:${AWS::Partition}:events:${AWS::Region}:"
                               "${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctions"
                               "ExecutionRule")]},
            {"Effect": "Allow", "Action": ["sns:Publish"],
             "Resource": [cfn.ref("NotificationTopic")]}]),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Serverless SaaS tenant pipeline: Platinum tenants' stacks provisioned "
                       "from the tenant-stack-mapping table, tenant moves and offboardings "
                       "from the tenant-details table",
        "Parameters": {
            STREAM_ARN: {"Type": "String", "Description": "The pooled stack's "
                                                          "TenantStackMappingStreamArn output"},
            DETAILS_STREAM_ARN: {"Type": "String", "Description": "The pooled stack's "
                                                                  "TenantDetailsStreamArn output"},
            LAYER_ARN: {"Type": "String", "Description": "The pooled stack's "
                                                         "TenantContextLayerArn output"},
            **{pool: {"Type": "String", "Description": f"The pooled stack's {pool} output "
                                                       f"(an offboarding never deletes it)"}
               for pool in (OPERATIONS_POOL_ID, POOLED_POOL_ID)},
            **{parameter: {"Type": "Number", "Default": str(seconds), "MinValue": 0,
                           "Description": f"A tenant move's {variable.value}"}
               for parameter, (variable, seconds) in MOVE_SETTLE_PARAMETERS.items()},
            LOG_RETENTION: {"Type": "Number", "Default": str(DEFAULT_RETENTION_DAYS),
                            "AllowedValues": [str(days) for days in RETENTION_DAYS]},
            "MaxConcurrency": {"Type": "Number", "Default": "4", "MinValue": 1,
                               "Description": "Stacks of one wave a rollout deploys at once"},
            "FailureThreshold": {"Type": "Number", "Default": "0", "MinValue": 0,
                                 "Description": "Failed stacks a rollout tolerates"},
            "ApproveWaves": {"Type": "String", "Default": "false",
                             "AllowedValues": ["true", "false"],
                             "Description": "Ask staff (the notification topic) before "
                                            "every wave after the first"},
            "RepositoryUrl": {"Type": "String", "Default": "",
                              "Description": "Optional: a repository whose pushes to Branch "
                                             "are released (with ConnectionId)"},
            "ConnectionId": {"Type": "String", "Default": "",
                             "Description": "Optional: the id of the CodeConnections "
                                            "connection to it (the end of its ARN)"},
            "Branch": {"Type": "String", "Default": "main"},
        },
        "Conditions": {"FromRepository": {"Fn::Not": [{"Fn::Equals": [
            cfn.ref("RepositoryUrl"), ""]}]}},
        "Resources": resources,
        "Outputs": {
            RELEASE_BUCKET_OUTPUT: {"Value": cfn.ref("ReleaseBucket")},
            "DeployStackStateMachineArn": {"Value": cfn.ref("DeployStackStateMachine")},
            ROLLOUT_OUTPUT: {"Value": cfn.ref("RolloutStateMachine")},
            "NotificationTopicArn": {"Value": cfn.ref("NotificationTopic")},
            MOVE_OUTPUT: {"Value": cfn.ref("TenantMoveStateMachine")},
            OFFBOARDING_OUTPUT: {"Value": cfn.ref("TenantOffboardingStateMachine")},
            EXPORT_BUCKET_OUTPUT: {"Value": cfn.ref("ExportBucket")},
        },
    }
