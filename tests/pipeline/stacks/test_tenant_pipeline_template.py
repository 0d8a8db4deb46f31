"""The tenant pipeline's stack as ``make package`` writes it: cfn-lint clean (the state
machine's definition included), SAM-translatable, no IAM statement that allows every action of
a service, CloudFormation driven only on the platform's tenant stacks, a definition whose every
state is reachable and leads somewhere, and functions that import from their zip and the layer
alone, as Lambda lays them out. The offboarding task's exact rights and the export bucket's
properties too."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from pipeline.lifecycle.exports import LINK_SECONDS
from pipeline.lifecycle.tenant_move import AWS_ROUTING_SETTLE_SECONDS, AWS_WRITE_SETTLE_SECONDS
from pipeline.packaging.tenant_pipeline_package import package_tenant_pipeline
from pipeline.stacks.baseline_template import LAYER_ZIP
from pipeline.stacks.state_machines import (
    deploy_stack_definition,
    rollout_definition,
    tenant_move_definition,
    tenant_offboarding_definition,
)
from pipeline.stacks.tenant_pipeline_template import (
    DEPLOYER_PERMISSIONS,
    EXPORT_DAYS,
    GRACE_OFFBOARDING_FILTER,
    MOVE_SETTLE_PARAMETERS,
    REQUESTED_MOVE_FILTER,
)
from tenant_context.config import Env
from tests.support.lambda_runtime import (
    LambdaFunction,
    functions,
    lambda_environment,
    runtime_packages,
    unpacked,
)
from tests.support.packaged import Packaged

pytestmark = pytest.mark.usefixtures("sam_region")
PARAMETERS = {"TenantStackMappingStreamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/"
                                             "t/stream/2026-12-01T00:00:00.000",
              "TenantDetailsStreamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/"
                                        "d/stream/2026-12-01T00:00:00.000",
              "LayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:tenant-context:1",
              "OperationsUserPoolId": "us-east-1_operations",
              "PooledTenantUserPoolId": "us-east-1_pooled"}


class _NoAwsPolicies:
    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def packaged_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package_tenant_pipeline(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def translated(packaged_pipeline: Path) -> Iterator[dict[str, Any]]:
    """As CloudFormation sees it (the SAM translator resolves ARNs in a default region)."""
    template = json.loads(packaged_pipeline.read_text())
    for resource in template["Resources"].values():
        if "CodeUri" in resource.get("Properties", {}):
            local = resource["Properties"]["CodeUri"]
            assert (packaged_pipeline.parent / local).is_file(), local
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{local.removeprefix('./')}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(Env.AWS_DEFAULT_REGION, "us-east-1")
        yield transform(template, PARAMETERS, _NoAwsPolicies())


def test_cfn_lint_reports_nothing(packaged_pipeline: Path) -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")),
                             str(packaged_pipeline)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def _statements(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            for statement in node["Statement"]:  # a conditional one: either branch
                branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
                found += [branch for branch in branches if "Effect" in branch]
        for value in node.values():
            found += _statements(value)
    elif isinstance(node, list):
        for value in node:
            found += _statements(value)
    return found


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_sam_translates_it_into_aws_own_engines(translated: dict[str, Any]) -> None:
    kinds = {resource["Type"] for resource in translated["Resources"].values()}
    assert {"AWS::StepFunctions::StateMachine", "AWS::Lambda::Function",
            "AWS::Lambda::EventSourceMapping", "AWS::S3::Bucket", "AWS::SQS::Queue"} <= kinds
    mappings = {resource["Properties"]["FunctionName"]["Ref"]: resource["Properties"]
                for resource in translated["Resources"].values()
                if resource["Type"] == "AWS::Lambda::EventSourceMapping"}
    assert {name: mapping["EventSourceArn"] for name, mapping in mappings.items()} == {
        "StreamFunction": {"Ref": "TenantStackMappingStreamArn"},
        "MoveStreamFunction": {"Ref": "TenantDetailsStreamArn"},
        # A second reader of the tenant-details stream (its own place in it): the most a
        # DynamoDB stream serves without throttling.
        "OffboardingStreamFunction": {"Ref": "TenantDetailsStreamArn"}}
    assert mappings["StreamFunction"]["FilterCriteria"] == {"Filters": [
        {"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]}
    assert mappings["MoveStreamFunction"]["FilterCriteria"] == {
        "Filters": [{"Pattern": REQUESTED_MOVE_FILTER}]}
    assert mappings["OffboardingStreamFunction"]["FilterCriteria"] == {
        "Filters": [{"Pattern": GRACE_OFFBOARDING_FILTER}]}
    for mapping in mappings.values():
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] == 10
    assert "Transform" not in translated


def test_no_allow_statement_grants_every_action(translated: dict[str, Any]) -> None:
    allowed = [statement for statement in _statements(translated["Resources"])
               if statement.get("Effect") == "Allow"]
    assert len(allowed) > 10
    for statement in allowed:
        for action in _listed(statement["Action"]):
            assert not action.endswith("*"), json.dumps(statement)


def test_cloudformation_is_driven_only_on_the_platforms_stacks(
        translated: dict[str, Any]) -> None:
    """The functions' rights: change sets on ``stack-*`` (tenants' stacks) and a read of the
    pooled stack; everything the stacks' resources need is CloudFormation's own role's."""
    driving = [statement for statement in _statements(translated["Resources"])
               if any(str(action).startswith("cloudformation:")
                      for action in _listed(statement["Action"]))]
    assert driving
    for statement in driving:
        for resource in _listed(statement["Resource"]):
            text = json.dumps(resource)
            assert ":stack/stack-*/*" in text or ":stack/stack-pooled/*" in text, text
            if ":stack/stack-pooled/*" in text:
                assert _listed(statement["Action"]) == ["cloudformation:DescribeStacks"]


def _check_graph(machine: dict[str, Any]) -> None:
    states = machine["States"]
    targets = {machine["StartAt"]}
    for state in states.values():
        nexts = [state.get("Next"), state.get("Default"),
                 *(rule["Next"] for rule in state.get("Choices", [])),
                 *(catch["Next"] for catch in state.get("Catch", []))]
        for target in filter(None, nexts):
            assert target in states, target
            targets.add(target)
        ends = state["Type"] in ("Succeed", "Fail") or state.get("End") is True
        assert ends or state.get("Next") or state.get("Default"), state
        if "ItemProcessor" in state:
            _check_graph(state["ItemProcessor"])
    assert targets == set(states)


@pytest.mark.parametrize("definition", [deploy_stack_definition, rollout_definition,
                                        tenant_move_definition, tenant_offboarding_definition])
def test_every_state_leads_somewhere_and_is_reached(
        definition: Callable[[], dict[str, Any]]) -> None:
    _check_graph(definition())


def test_the_functions_import_from_their_zip_and_the_layer_alone(
        packaged_pipeline: Path, packaged: Packaged, tmp_path: Path) -> None:
    layer = unpacked(packaged.out / "layer" / LAYER_ZIP, tmp_path / "layer") / "python"
    runtime = runtime_packages(tmp_path / "runtime")
    template = json.loads(packaged_pipeline.read_text())
    found = functions(template)
    assert {properties["Handler"].rsplit(".", 1)[1] for _, properties in found} == {
        "stack_task", "stream_handler", "rollout_task", "move_task", "move_stream_handler",
        "offboarding_task", "offboarding_stream_handler"}
    for name, properties in found:
        code = unpacked(packaged_pipeline.parent / properties["CodeUri"], tmp_path / name)
        result = LambdaFunction(code, layer, runtime, properties["Handler"],
                                lambda_environment(properties, {})).load()
        assert result["callable"], name
        assert result["compiled"] == [], name


# Resource types' services as IAM names them (CloudFormation's own types need no right).
IAM_SERVICE = {"ApiGateway": "apigateway", "ApiGatewayV2": "apigateway",
               "CloudWatch": "cloudwatch", "Cognito": "cognito-idp", "DynamoDB": "dynamodb",
               "IAM": "iam", "Lambda": "lambda", "Logs": "logs", "CodeDeploy": "codedeploy",
               "WAFv2": "wafv2", "CloudFormation": None}


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_cloudformations_role_covers_every_resource_type_it_deploys(
        packaged: Packaged, deployment: str) -> None:
    """The pipeline deploys the pooled stack (a rollout) and tenants' stacks with
    CloudFormation's role: each resource type's service has its rights there."""
    kinds = {resource["Type"] for resource in packaged.translated(deployment)[
        "Resources"].values() if not resource["Type"].startswith("Custom::")}
    services = {kind.split("::")[1] for kind in kinds}
    assert services <= set(IAM_SERVICE), services - set(IAM_SERVICE)
    assert {IAM_SERVICE[service] for service in services} - {None} <= set(DEPLOYER_PERMISSIONS)


def _role_statements(translated: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = translated["Resources"][f"{function}Role"]["Properties"]
    return _statements(role.get("Policies", []))


def _allowed(statements: list[dict[str, Any]], action: str) -> list[str]:
    """Every resource (as JSON text) an Allow statement grants the action on."""
    return [json.dumps(resource) for statement in statements
            if statement["Effect"] == "Allow" and action in _listed(statement["Action"])
            for resource in _listed(statement["Resource"])]


def test_the_move_task_may_move_a_tenant_and_nothing_more(translated: dict[str, Any]) -> None:
    """What ``TenantMover`` calls, on the platform's names: the tenant record, the deployment
    rows, the settings (the plans' ids), the tenant services' tables (a silo's deleted, never
    the pool's), the tenant's API keys and their plans, tenants' stacks deleted."""
    statements = _role_statements(translated, "MoveTasksFunction")
    granted: dict[str, set[str]] = {}
    for statement in statements:
        for resource in _listed(statement["Resource"]):
            for action in _listed(statement["Action"]):
                if statement["Effect"] == "Allow" and action.startswith("dynamodb:"):
                    table = json.dumps(resource).split(":table/")[1].removesuffix('"}')
                    granted.setdefault(table, set()).add(action.removeprefix("dynamodb:"))
    items = {"Query", "GetItem", "PutItem", "DeleteItem", "BatchGetItem", "BatchWriteItem",
             "DeleteTable"}
    assert granted == {
        "serverless-saas-tenant-details": {"GetItem", "UpdateItem"},
        "serverless-saas-tenant-stack-mapping": {"GetItem", "PutItem", "UpdateItem",
                                                 "DeleteItem"},
        "serverless-saas-settings": {"Scan"},
        "serverless-saas-product-*": items, "serverless-saas-order-*": items}
    (denied,) = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert denied["Action"] == ["dynamodb:DeleteTable"]
    assert sorted(json.dumps(resource).split("table/")[1] for resource in denied["Resource"]
                  ) == ['serverless-saas-order-pooled"}', 'serverless-saas-product-pooled"}']
    for verb in ("GET", "POST", "DELETE"):
        assert sorted(resource.split("}::")[1] for resource in _allowed(
            statements, f"apigateway:{verb}")) == [
            '/apikeys"}', '/apikeys/*"}', '/usageplans/*/keys"}', '/usageplans/*/keys/*"}']
    assert not _allowed(statements, "apigateway:PATCH")
    assert _allowed(statements, "cloudformation:DeleteStack") == [json.dumps(
        {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:"
                    "stack/stack-*/*"})]
    assert not _allowed(statements, "iam:PassRole")  # the stack's own role deletes it
    actions = {action for statement in statements for action in _listed(statement["Action"])}
    assert not {action for action in actions if action.startswith(("states:", "s3:", "lambda:"))}


def test_the_move_task_runs_a_step_with_aws_settle_times(translated: dict[str, Any]) -> None:
    function = translated["Resources"]["MoveTasksFunction"]["Properties"]
    assert function["Timeout"] == 900  # a copy of every item is one step
    variables = function["Environment"]["Variables"]
    assert variables[Env.TENANT_DETAILS_TABLE] == "serverless-saas-tenant-details"
    assert variables[Env.TENANT_STACK_MAPPING_TABLE] == "serverless-saas-tenant-stack-mapping"
    assert variables[Env.SETTINGS_TABLE] == "serverless-saas-settings"
    defaults = {variable: float(translated["Parameters"][parameter]["Default"])
                for parameter, (variable, _) in MOVE_SETTLE_PARAMETERS.items()}
    assert defaults == {Env.MOVE_WRITE_SETTLE_SECONDS: AWS_WRITE_SETTLE_SECONDS,
                        Env.MOVE_ROUTING_SETTLE_SECONDS: AWS_ROUTING_SETTLE_SECONDS}
    for parameter, (variable, _) in MOVE_SETTLE_PARAMETERS.items():
        assert variables[variable] == {"Ref": parameter}


def test_the_move_state_machine_starts_only_from_the_move_stream_function(
        translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    machine = resources["TenantMoveStateMachine"]["Properties"]
    assert machine["DefinitionSubstitutions"] == {
        "MoveTasksFunctionArn": {"Fn::GetAtt": ["MoveTasksFunction", "Arn"]}}
    starters = {name.removesuffix("Role") for name, resource in resources.items()
                if resource["Type"] == "AWS::IAM::Role" and json.dumps(
                    {"Ref": "TenantMoveStateMachine"}) in _allowed(
                    _statements(resource["Properties"].get("Policies", [])),
                    "states:StartExecution")}
    assert starters == {"MoveStreamFunction"}
    stream = resources["MoveStreamFunction"]["Properties"]
    assert stream["Environment"]["Variables"] == {
        Env.TENANT_MOVE_STATE_MACHINE_ARN: {"Ref": "TenantMoveStateMachine"}}
    assert translated["Outputs"]["TenantMoveStateMachineArn"] == {
        "Value": {"Ref": "TenantMoveStateMachine"}}


def _user_pool(pool: str) -> str:
    return json.dumps({"Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:"
                                  f"${{AWS::AccountId}}:userpool/{pool}"})


def test_the_offboarding_task_may_erase_a_tenant_and_nothing_more(
        translated: dict[str, Any]) -> None:
    """What ``TenantOffboarder`` calls, on the platform's names: the tenant record (and its
    tombstone), its name claim, user rows and deployment row, the settings, its usage rows
    (read for its final invoice, deleted, counted), the tenant
    services' tables (read everywhere, items deleted and scanned only in the pool's, a silo's
    tables deleted, never the pool's), users, groups and a silo's pool (never the platform's
    pools), the tenant's API keys, tenants' stacks, and its exports."""
    statements = _role_statements(translated, "OffboardingTasksFunction")
    granted: dict[str, set[str]] = {}
    for statement in statements:
        for resource in _listed(statement["Resource"]):
            for action in _listed(statement["Action"]):
                if statement["Effect"] == "Allow" and action.startswith("dynamodb:") and \
                        resource != "*":
                    table = json.dumps(resource).split(":table/")[1].removesuffix('"}')
                    granted.setdefault(table, set()).add(action.removeprefix("dynamodb:"))
    pooled = {"Query", "DeleteTable", "BatchWriteItem", "DeleteItem", "Scan"}
    assert granted == {
        "serverless-saas-tenant-details": {"GetItem", "UpdateItem", "PutItem"},
        "serverless-saas-tenant-names": {"DeleteItem", "Scan"},
        "serverless-saas-tenant-user-mapping": {"Query", "DeleteItem"},
        "serverless-saas-tenant-stack-mapping": {"GetItem", "DeleteItem"},
        "serverless-saas-settings": {"Scan"},
        "serverless-saas-tenant-usage": {"Query", "BatchWriteItem"},
        "serverless-saas-product-*": {"Query", "DeleteTable", "DescribeTable"},
        "serverless-saas-order-*": {"Query", "DeleteTable", "DescribeTable"},
        "serverless-saas-product-pooled": pooled - {"Query", "DeleteTable", "DescribeTable"},
        "serverless-saas-order-pooled": pooled - {"Query", "DeleteTable", "DescribeTable"}}
    assert _allowed(statements, "dynamodb:ListTables") == []  # tables are looked for by name
    denied = {(action, json.dumps(resource)) for statement in statements
              if statement["Effect"] == "Deny" for action in _listed(statement["Action"])
              for resource in _listed(statement["Resource"])}
    pooled_tables = {json.dumps({"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:"
                                            f"${{AWS::AccountId}}:table/{name}"})
                     for name in ("serverless-saas-product-pooled",
                                  "serverless-saas-order-pooled")}
    operations, pooled_pool = _user_pool("${OperationsUserPoolId}"), _user_pool(
        "${PooledTenantUserPoolId}")
    assert denied == {("dynamodb:DeleteTable", table) for table in pooled_tables} | {
        ("cognito-idp:DeleteUserPool", operations),
        ("cognito-idp:DeleteUserPool", pooled_pool),
        ("cognito-idp:AdminDeleteUser", operations), ("cognito-idp:DeleteGroup", operations)}
    for action in ("AdminGetUser", "AdminDeleteUser", "ListUsers", "GetGroup", "DeleteGroup",
                   "DeleteUserPool"):
        assert _allowed(statements, f"cognito-idp:{action}") == [_user_pool("*")], action
    assert _allowed(statements, "cognito-idp:ListUserPools") == ['"*"']
    assert [resource.split("}::")[1] for resource in _allowed(statements, "apigateway:GET")
            ] == ['/apikeys"}']
    assert [resource.split("}::")[1]
            for resource in _allowed(statements, "apigateway:DELETE")] == ['/apikeys/*"}']
    for action in ("DeleteStack", "DescribeStacks"):
        assert _allowed(statements, f"cloudformation:{action}") == [json.dumps(
            {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:"
                        "${AWS::AccountId}:stack/stack-*/*"})]
    exports = [json.dumps({"Fn::Sub": "${ExportBucket.Arn}/exports/*"})]
    assert _allowed(statements, "s3:PutObject") == exports
    assert _allowed(statements, "s3:GetObject") == exports
    actions = {action for statement in statements if statement["Effect"] == "Allow"
               for action in _listed(statement["Action"])}
    assert actions == {
        *(f"dynamodb:{action}" for action in (
            "GetItem", "UpdateItem", "PutItem", "DeleteItem", "Scan", "Query", "DeleteTable",
            "BatchWriteItem", "DescribeTable")),
        *(f"cognito-idp:{action}" for action in (
            "AdminGetUser", "AdminDeleteUser", "ListUsers", "GetGroup", "DeleteGroup",
            "DeleteUserPool", "ListUserPools")),
        "apigateway:GET", "apigateway:DELETE", "cloudformation:DeleteStack",
        "cloudformation:DescribeStacks", "s3:PutObject", "s3:GetObject"}


def test_the_offboarding_task_runs_a_step_with_the_platforms_names(
        translated: dict[str, Any]) -> None:
    function = translated["Resources"]["OffboardingTasksFunction"]["Properties"]
    assert function["Timeout"] == 900  # the export and the erasure are a step each
    assert function["MemorySize"] == 1024  # the export is one document in memory
    assert function["Handler"] == "pipeline.aws_pipeline.lambda_entry.offboarding_task"
    assert function["Environment"]["Variables"] == {
        Env.TENANT_DETAILS_TABLE: "serverless-saas-tenant-details",
        Env.TENANT_NAMES_TABLE: "serverless-saas-tenant-names",
        Env.TENANT_USER_MAPPING_TABLE: "serverless-saas-tenant-user-mapping",
        Env.TENANT_STACK_MAPPING_TABLE: "serverless-saas-tenant-stack-mapping",
        Env.SETTINGS_TABLE: "serverless-saas-settings",
        Env.EXPORT_BUCKET: {"Ref": "ExportBucket"}}


def test_the_export_bucket_keeps_exports_only_as_long_as_their_links(
        translated: dict[str, Any]) -> None:
    """Unversioned (an expired export leaves no old version behind), encrypted, never public,
    ACLs off, TLS only, ``exports/`` expiring when the longest presigned link does, kept if the
    stack goes (its rule goes on deleting)."""
    assert EXPORT_DAYS * 24 * 3600 == LINK_SECONDS
    resources = translated["Resources"]
    bucket = resources["ExportBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = bucket["Properties"]
    assert "VersioningConfiguration" not in properties
    assert properties["BucketEncryption"] == {"ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rules = {rule["Id"]: rule for rule in properties["LifecycleConfiguration"]["Rules"]}
    assert rules["exports"] == {"Id": "exports", "Status": "Enabled", "Prefix": "exports/",
                                "ExpirationInDays": 7}
    assert rules["unfinished-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1}
    (tls,) = resources["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert tls == {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [{"Fn::GetAtt": ["ExportBucket", "Arn"]},
                                {"Fn::Sub": "${ExportBucket.Arn}/*"}],
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    readers = {name.removesuffix("Role") for name, resource in resources.items()
               if resource["Type"] == "AWS::IAM::Role" and "ExportBucket" in json.dumps(
                   resource["Properties"].get("Policies", []))}
    assert readers == {"OffboardingTasksFunction"}
    assert translated["Outputs"]["ExportBucketName"] == {"Value": {"Ref": "ExportBucket"}}


def test_the_offboarding_state_machine_starts_only_from_its_stream_function(
        translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    machine = resources["TenantOffboardingStateMachine"]["Properties"]
    assert machine["DefinitionSubstitutions"] == {
        "OffboardingTasksFunctionArn": {"Fn::GetAtt": ["OffboardingTasksFunction", "Arn"]}}
    assert machine["StateMachineType"] == "STANDARD"  # waits of days; express ones last 5 min
    starters = {name.removesuffix("Role"): _allowed(
                    _statements(resource["Properties"].get("Policies", [])),
                    "states:StartExecution")
                for name, resource in resources.items() if resource["Type"] == "AWS::IAM::Role"}
    assert {name for name, arns in starters.items() if json.dumps(
        {"Ref": "TenantOffboardingStateMachine"}) in arns} == {"OffboardingStreamFunction"}
    assert starters["OffboardingStreamFunction"] == [
        json.dumps({"Ref": "TenantOffboardingStateMachine"})]  # and no other machine
    stream = resources["OffboardingStreamFunction"]["Properties"]
    assert stream["Environment"]["Variables"] == {
        Env.TENANT_OFFBOARDING_STATE_MACHINE_ARN: {"Ref": "TenantOffboardingStateMachine"}}
    invoked = _allowed(_statements(resources["TenantOffboardingStateMachineRole"][
        "Properties"]["Policies"]), "lambda:InvokeFunction")
    assert invoked == [json.dumps({"Fn::GetAtt": ["OffboardingTasksFunction", "Arn"]}),
                       json.dumps({"Fn::Sub": "${OffboardingTasksFunction.Arn}:*"})]
    assert translated["Outputs"]["TenantOffboardingStateMachineArn"] == {
        "Value": {"Ref": "TenantOffboardingStateMachine"}}
    for pool in ("OperationsUserPoolId", "PooledTenantUserPoolId"):
        assert translated["Parameters"][pool]["Type"] == "String"
