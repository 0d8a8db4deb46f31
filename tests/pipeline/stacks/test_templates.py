"""The packaged stacks (pooled, and one Platinum tenant's silo): linted, translated, and checked
against the definitions the code and the local platform use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.project import PROJECT_ROOT
from pipeline.stacks.baseline_template import (
    AUTHORIZER_FUNCTION,
    AUTHORIZER_ROLE,
    LAYER,
    TENANT_ACCESS_ROLE,
)
from pipeline.stacks.cloudformation import ARN_PREFIX, CUSTOM_RESOURCE_TIMEOUT_SECONDS
from pipeline.stacks.inventory import TABLES, USER_POOLS
from pipeline.stacks.pooled_template import pooled_prefix, pooled_rest_api
from pipeline.stacks.safe_release import ALIAS, CANARY, STAGE, alias_of
from pipeline.stacks.silo_template import TENANT_ID, silo_prefix
from tenant_context.config import Env
from tenant_context.platform.definitions import (
    OPERATIONS_POOL,
    POOLED_TENANT_POOL,
    TENANT_ACCESS_ROLE_NAME,
    TENANT_ID_ATTRIBUTE,
    USAGE_PLANS,
    USAGE_TABLE,
    USER_ROLE_ATTRIBUTE,
    deployment_data_tables,
    service_tables,
)
from tenant_context.service.responses import cors_headers
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.support.chalice_apps import local_stage_environment
from tests.support.packaged import Packaged, resources_of

DEPLOYMENTS = ("pooled", "silo")
PREFIX = {"pooled": pooled_prefix, "silo": silo_prefix}  # a service's resources in each stack


def handler(deployment: str, service: TenantService) -> str:
    return f"{PREFIX[deployment](service)}APIHandler"

LOCAL_ONLY = {"AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
              "TENANT_AUTHORIZER", "LOCAL_GATEWAY_API_ID"}


pytestmark = pytest.mark.usefixtures("sam_region")


def test_cfn_lint_reports_nothing(packaged: Packaged) -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")),
                             *(str(packaged.file(name)) for name in DEPLOYMENTS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""  # no errors and no warnings


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_sam_translates_it(packaged: Packaged, deployment: str) -> None:
    translated = packaged.translated(deployment)
    kinds = {resource["Type"] for resource in translated["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::DynamoDB::Table",
            "AWS::ApiGateway::UsagePlan", "AWS::ApiGatewayV2::Api"} <= kinds
    assert "Transform" not in translated


def test_the_pooled_stack_holds_every_app_and_the_baseline(packaged: Packaged) -> None:
    translated = packaged.translated("pooled")
    functions = set(resources_of(translated, "AWS::Lambda::Function"))
    assert functions == {AUTHORIZER_FUNCTION, "AdminAPIHandler", "AdminDeploymentRecords",
                         "AdminAccessLogUsage",
                         *(handler("pooled", service) for service in TENANT_SERVICES)}
    assert set(resources_of(translated, "AWS::ApiGateway::RestApi")) == {
        "AdminRestAPI", *(pooled_rest_api(service) for service in TENANT_SERVICES)}
    assert len(resources_of(translated, "AWS::Lambda::LayerVersion")) == 1
    assert set(resources_of(translated, "Custom::PlatformSettings")) == {"PlatformSettings"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_function_uses_the_one_shared_layer(packaged: Packaged, deployment: str) -> None:
    functions = resources_of(packaged.templates[deployment], "AWS::Serverless::Function")
    assert functions
    layer = {"Ref": LAYER} if deployment == "pooled" else {"Ref": "LayerArn"}
    for name, function in functions.items():
        assert function["Properties"]["Layers"] == [layer], name
        assert function["Properties"]["Tracing"] == "Active", name


@pytest.mark.parametrize(("deployment", "function", "app"), [
    ("pooled", AUTHORIZER_FUNCTION, "authorizer"),
    ("pooled", "AdminAPIHandler", "shared_services"),
    *((deployment, handler(deployment, service), service.folder)
      for deployment in DEPLOYMENTS for service in TENANT_SERVICES),
])
def test_each_function_reads_the_settings_its_local_stage_has(
        packaged: Packaged, deployment: str, function: str, app: str) -> None:
    """The same variables in both worlds (values differ: references here, names locally)."""
    properties = packaged.templates[deployment]["Resources"][function]["Properties"]
    aws = set(properties["Environment"]["Variables"]) - {"POWERTOOLS_SERVICE_NAME"}
    local = set(local_stage_environment(app)) - LOCAL_ONLY
    if deployment == "silo":
        local.add(Env.SILO_TENANT_ID)  # locally the silo launcher sets it, per tenant
    if app == "shared_services":  # locally from make local's environment (default if unset)
        local.add(Env.PENDING_PLATINUM_CAP)
    if app != "authorizer":  # locally from make local's environment, for every app alike
        local.add(Env.USAGE_TABLE)
    if app == "authorizer":  # locally the stand-in sets them to the emulator's pools
        pools = {Env.OPERATIONS_USER_POOL_ID: OPERATIONS_POOL.logical_id,
                 Env.OPERATIONS_APP_CLIENT_ID: OPERATIONS_POOL.client_logical_id,
                 Env.POOLED_USER_POOL_ID: POOLED_TENANT_POOL.logical_id,
                 Env.POOLED_APP_CLIENT_ID: POOLED_TENANT_POOL.client_logical_id}
        local |= set(pools)
        for variable, pool in pools.items():
            assert properties["Environment"]["Variables"][variable] == {"Ref": pool}
    assert aws == local
    if deployment == "silo":
        assert properties["Environment"]["Variables"]["DATA_ISOLATION"] == "silo"
        assert properties["Environment"]["Variables"][Env.SILO_TENANT_ID] == {"Ref": "TenantId"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_table_is_retained_with_point_in_time_recovery(packaged: Packaged,
                                                             deployment: str) -> None:
    tables = resources_of(packaged.templates[deployment], "AWS::DynamoDB::Table")
    expected = TABLES if deployment == "pooled" else deployment_data_tables(TENANT_ID)
    assert set(tables) == {table.logical_id for table in expected}
    for table in expected:
        resource = tables[table.logical_id]
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
        properties = resource["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True}
        assert properties["KeySchema"] == table.create_table_request()["KeySchema"]
        time_to_live = table.time_to_live_request()  # the usage table's hourly rows expire
        assert properties.get("TimeToLiveSpecification") == (
            time_to_live["TimeToLiveSpecification"] if time_to_live else None)
        name = properties["TableName"]
        assert name == (table.name if deployment == "pooled" else {"Fn::Sub": table.name})


def test_pools_are_retained_and_users_cannot_write_tenant_or_role(packaged: Packaged) -> None:
    pooled = packaged.templates["pooled"]
    pools = resources_of(pooled, "AWS::Cognito::UserPool")
    assert set(pools) == {pool.logical_id for pool in USER_POOLS}
    for pool in pools.values():
        assert pool["DeletionPolicy"] == "Retain"
    for client in resources_of(pooled, "AWS::Cognito::UserPoolClient").values():
        writable = client["Properties"]["WriteAttributes"]
        assert TENANT_ID_ATTRIBUTE not in writable
        assert USER_ROLE_ATTRIBUTE not in writable
        assert not [name for name in writable if "tier" in name.lower()]
        assert client["Properties"]["GenerateSecret"] is False


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_rest_api_is_recorded_and_metered(packaged: Packaged, deployment: str) -> None:
    """Whatever the registry holds: each REST API of the stack is in the deployment's recorded
    API ids (the authorizer refuses, 403, an API missing there) and on a usage plan (API
    Gateway refuses, 403, a key on an API no plan of the key covers); pooled tier plans cover
    every pooled API, a silo's own plan every API of the silo."""
    translated = packaged.translated(deployment)
    apis = set(resources_of(translated, "AWS::ApiGateway::RestApi"))
    assert len(apis) == len(TENANT_SERVICES) + (deployment == "pooled")
    kind = "Custom::PlatformSettings" if deployment == "pooled" else "Custom::TenantDeployment"
    (record,) = resources_of(translated, kind).values()
    lists = ("AdminApiIds", "PooledApiIds") if deployment == "pooled" else ("ApiIds",)
    recorded = [ref["Ref"] for name in lists for ref in record["Properties"][name]]
    assert sorted(recorded) == sorted(apis)
    plans = {name: {stage["ApiId"]["Ref"] for stage in plan["Properties"]["ApiStages"]}
             for name, plan in resources_of(translated, "AWS::ApiGateway::UsagePlan").items()}
    assert set().union(*plans.values()) == apis
    covering = [name for name in plans if not name.startswith(("SystemAdmin", "Platinum"))]
    assert covering
    for name in covering:
        assert plans[name] == apis, name


def test_usage_plans_have_the_tier_numbers_and_cover_the_right_apis(
        packaged: Packaged) -> None:
    translated = packaged.translated("pooled")
    plans = {plan["Properties"]["UsagePlanName"]: plan["Properties"]
             for plan in resources_of(translated, "AWS::ApiGateway::UsagePlan").values()}
    expected = {"Basic": (1000, 50, 50), "Standard": (3000, 75, 100),
                "Premium": (5000, 100, 200), "Platinum": (10000, 300, 300),
                "SystemAdmin": (10000, 500, 5000)}
    assert set(USAGE_PLANS) == set(expected)
    assert set(plans) == {f"serverless-saas-{name}" for name in expected}
    for name, (quota, rate, burst) in expected.items():
        plan = plans[f"serverless-saas-{name}"]
        assert plan["Quota"] == {"Limit": quota, "Period": "DAY"}
        assert plan["Throttle"] == {"RateLimit": rate, "BurstLimit": burst}
        apis = {stage["ApiId"]["Ref"] for stage in plan["ApiStages"]}
        pooled_tier = name in ("Basic", "Standard", "Premium")
        assert apis == ({"AdminRestAPI", *(pooled_rest_api(service) for service in TENANT_SERVICES)}
                        if pooled_tier else {"AdminRestAPI"})
    # One shared key, the staff's; each tenant's own key is issued at registration onto the
    # plan whose id the settings resource records for its tier.
    (staff_key,) = resources_of(translated, "AWS::ApiGateway::ApiKey")
    (staff_link,) = resources_of(translated, "AWS::ApiGateway::UsagePlanKey").values()
    assert staff_link["Properties"]["KeyId"] == {"Ref": staff_key}
    assert staff_link["Properties"]["UsagePlanId"] == {"Ref": "SystemAdminUsagePlan"}
    (settings,) = resources_of(translated, "Custom::PlatformSettings").values()
    assert settings["Properties"]["UsagePlanIds"] == {
        name: {"Ref": f"{name}UsagePlan"} for name in expected}
    silo = packaged.translated("silo")
    (tenant_plan,) = resources_of(silo, "AWS::ApiGateway::UsagePlan").values()
    assert tenant_plan["Properties"]["Throttle"] == {"RateLimit": 300, "BurstLimit": 300}
    assert tenant_plan["Properties"]["Quota"] == {"Limit": 10000, "Period": "DAY"}


def test_each_platinum_tenant_has_its_own_key_on_two_plans_only(packaged: Packaged) -> None:
    """API Gateway takes at most 10 usage plans per key, and one key per tenant is its fair
    share. A Platinum tenant's own key (issued at registration, on the pooled Platinum plan for
    the admin API) is found by the tenant's stack and added to its own plan; the stack creates
    no key, and its APIs are announced only once the key is on its plan."""
    pooled = packaged.templates["pooled"]
    assert "PlatinumApiKey" not in pooled["Resources"]
    silo = packaged.translated("silo")
    assert resources_of(silo, "AWS::ApiGateway::ApiKey") == {}
    (finder_id, finder), = resources_of(silo, "Custom::TenantApiKey").items()
    assert finder["Properties"]["TenantId"] == {"Ref": "TenantId"}
    (tenant_plan,) = resources_of(silo, "AWS::ApiGateway::UsagePlan")
    (link_id, link), = resources_of(silo, "AWS::ApiGateway::UsagePlanKey").items()
    assert link["Properties"]["UsagePlanId"] == {"Ref": tenant_plan}
    assert link["Properties"]["KeyId"] == {"Fn::GetAtt": [finder_id, "ApiKeyId"]}
    (recorder,) = resources_of(silo, "Custom::TenantDeployment").values()
    assert recorder["Properties"]["ApiKeyId"] == {"Fn::GetAtt": [finder_id, "ApiKeyId"]}
    assert recorder["DependsOn"] == [link_id]  # named on the record once on the plan


EVERY_API_S_AUTHORIZER = {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                      "${AWS::AccountId}:*/authorizers/*"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_api_takes_keys_from_the_shared_authorizer_it_may_invoke(
        packaged: Packaged, deployment: str) -> None:
    """ONE permission, in the pooled stack, lets every API of the account and region call the
    shared authorizer (a silo adds none: per-API statements would outgrow Lambda's 20 KB
    resource policy at about 25 Platinum tenants)."""
    translated = packaged.translated(deployment)
    apis = resources_of(translated, "AWS::ApiGateway::RestApi")
    pooled_permissions = [permission["Properties"] for permission in resources_of(
        packaged.translated("pooled"), "AWS::Lambda::Permission").values()]
    # The alias every API calls; the unqualified function for silos deployed before it.
    for function in ({"Ref": alias_of(AUTHORIZER_FUNCTION)},
                     {"Fn::GetAtt": [AUTHORIZER_FUNCTION, "Arn"]}):
        (authorizer_permission,) = [permission for permission in pooled_permissions
                                    if permission["FunctionName"] == function]
        assert authorizer_permission["Principal"] == "apigateway.amazonaws.com"
        assert authorizer_permission["SourceArn"] == EVERY_API_S_AUTHORIZER
    if deployment == "silo":
        assert not [permission for permission
                    in resources_of(translated, "AWS::Lambda::Permission").values()
                    if permission["Properties"]["FunctionName"] == {"Ref": "AuthorizerArn"}]
    for name, api in apis.items():
        body = api["Properties"]["Body"]
        assert body["x-amazon-apigateway-api-key-source"] == "AUTHORIZER"
        uri = json.dumps(body["securityDefinitions"]["TenantAuthorizer"]
                         ["x-amazon-apigateway-authorizer"]["authorizerUri"])
        assert "000000000000" not in uri  # chalice's placeholder was replaced
        # ... by the authorizer's alias (the silo's parameter is the alias's ARN).
        assert (f"${{{alias_of(AUTHORIZER_FUNCTION)}}}" if deployment == "pooled"
                else "${AuthorizerArn}") in uri, name
        methods = [(path, verb, method) for path, item in body["paths"].items()
                   for verb, method in item.items() if verb != "options"]
        assert methods
        for path, verb, method in methods:
            security = {next(iter(entry)) for entry in method.get("security", [])}
            public = (path, verb) in {("/registration", "post"),
                                      ("/tenant/init/{tenant_name}", "get"),
                                      ("/openapi.json", "get"),  # the API's documents
                                      *((service.document_path, "get")
                                        for service in TENANT_SERVICES)}
            assert security == (set() if public else {"TenantAuthorizer", "api_key"}), \
                (name, path, verb)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_rest_api_is_regional(packaged: Packaged, deployment: str) -> None:
    """The APIs sit behind the regional HTTP API edge: an edge-optimized API would add a
    CloudFront hop and count against the 120 edge-optimized APIs per region."""
    apis = resources_of(packaged.translated(deployment), "AWS::ApiGateway::RestApi")
    assert apis
    for name, api in apis.items():
        assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}, name


def rest_api_name(api: dict[str, Any], app_folder: str) -> Any:
    """What API Gateway names a REST API (and its metrics): the body's title where the stack
    sets one (a silo's), else the Chalice app's name."""
    title = api["DefinitionBody"].get("info", {}).get("title")
    config = json.loads((PROJECT_ROOT / app_folder / ".chalice" / "config.json").read_text())
    return title or config["app_name"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_function_behind_an_api_releases_by_canary_with_both_alarms(
        packaged: Packaged, deployment: str) -> None:
    """The pooled stack as every silo: one bad release of a shared service must not reach
    every tenant at once."""
    template = packaged.templates[deployment]
    functions = resources_of(template, "AWS::Serverless::Function")
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    behind_apis = {handler(deployment, service) for service in TENANT_SERVICES} | (
        {"AdminAPIHandler"} if deployment == "pooled" else set())
    assert {name for name in functions if name.endswith("APIHandler")} == behind_apis
    app_folders = {handler(deployment, service): service.folder for service in TENANT_SERVICES}
    app_folders["AdminAPIHandler"] = "shared_services"
    for name in behind_apis:
        properties = functions[name]["Properties"]
        assert properties["AutoPublishAlias"] == ALIAS
        preference = properties["DeploymentPreference"]
        assert preference["Type"] == CANARY == "Canary10Percent5Minutes"
        errors, server_errors = (alarms[alarm["Ref"]]["Properties"]
                                 for alarm in preference["Alarms"])
        assert errors["MetricName"] == "Errors"
        assert {"Name": "FunctionName", "Value": {"Ref": name}} in errors["Dimensions"]
        # A release answering 500 to everything raises no Lambda error (the middleware turns
        # exceptions into responses): the API's 5xx roll it back too.
        api = template["Resources"][name.replace("APIHandler", "RestAPI")]["Properties"]
        assert (server_errors["Namespace"], server_errors["MetricName"]) == (
            "AWS/ApiGateway", "5XXError")
        assert server_errors["Dimensions"] == [
            {"Name": "ApiName", "Value": rest_api_name(api, app_folders[name])},
            {"Name": "Stage", "Value": api["StageName"]}]
        assert STAGE == api["StageName"] == "api"
        assert server_errors["Threshold"] == 0
        if deployment == "silo":
            assert properties["ReservedConcurrentExecutions"] == {
                "Fn::If": ["Stopped", 0, {"Ref": "ReservedConcurrency"}]}
    translated = packaged.translated(deployment)
    groups = resources_of(translated, "AWS::CodeDeploy::DeploymentGroup")
    assert len(groups) == len(behind_apis) + (deployment == "pooled")  # + the authorizer
    for api in resources_of(translated, "AWS::ApiGateway::RestApi").values():
        uris = {json.dumps(method["x-amazon-apigateway-integration"]["uri"])
                for item in api["Properties"]["Body"]["paths"].values()
                for verb, method in item.items() if verb != "options"}
        assert uris
        assert all("Aliaslive}" in uri for uri in uris)


def test_the_shared_authorizer_releases_by_canary_rolled_back_by_its_failures(
        packaged: Packaged) -> None:
    """Its refusals are Lambda errors (a 401 is an exception), so its alarm counts what it
    logs at ERROR (an unexpected failure), through a metric filter on its log group."""
    template = packaged.templates["pooled"]
    properties = template["Resources"][AUTHORIZER_FUNCTION]["Properties"]
    assert properties["AutoPublishAlias"] == ALIAS
    (alarm,) = properties["DeploymentPreference"]["Alarms"]
    metric = template["Resources"][alarm["Ref"]]["Properties"]
    (metric_filter,) = resources_of(template, "AWS::Logs::MetricFilter").values()
    assert metric_filter["Properties"]["LogGroupName"] == properties["LoggingConfig"]["LogGroup"]
    assert metric_filter["Properties"]["FilterPattern"] == '{ $.level = "ERROR" }'
    (transformation,) = metric_filter["Properties"]["MetricTransformations"]
    assert (metric["Namespace"], metric["MetricName"]) == (
        transformation["MetricNamespace"], transformation["MetricName"])
    assert template["Outputs"]["TenantAuthorizerArn"] == {"Value": {
        "Ref": alias_of(AUTHORIZER_FUNCTION)}}  # what silos' APIs call


def test_silo_apis_are_named_for_their_tenant(packaged: Packaged) -> None:
    """API Gateway's metrics are per API name: each silo API's name is its own (the tenant id
    in it), never the app's name, which the pooled API and every other silo's have too."""
    translated = packaged.translated("silo")
    titles = [api["Properties"]["Body"]["info"]["title"] for api
              in resources_of(translated, "AWS::ApiGateway::RestApi").values()]
    assert sorted(titles, key=json.dumps) == sorted(
        ({"Fn::Sub": f"{service.app_name}-${{TenantId}}"} for service in TENANT_SERVICES),
        key=json.dumps)
    assert all("Name" not in api["Properties"] for api
               in resources_of(translated, "AWS::ApiGateway::RestApi").values())


def test_the_silo_stack_takes_its_tenant_as_parameters_and_outputs_its_url(
        packaged: Packaged) -> None:
    template = packaged.templates["silo"]
    assert {"TenantId", "TenantTier", "LayerArn", "AuthorizerArn", "DeploymentRecordsArn",
            "ReservedConcurrency", "DesiredState"} <= set(template["Parameters"])
    assert "TenantApiUrl" in template["Outputs"]
    (recorder,) = resources_of(template, "Custom::TenantDeployment").values()
    assert recorder["Properties"]["TenantId"] == {"Ref": "TenantId"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_one_base_url_serves_every_tenant_service(packaged: Packaged, deployment: str) -> None:
    """Each route of the edge goes to the app serving it, at the same path under its stage."""
    template = packaged.templates[deployment]
    integrations = resources_of(template, "AWS::ApiGatewayV2::Integration")
    targets = {}
    for route in resources_of(template, "AWS::ApiGatewayV2::Route").values():
        integration = route["Properties"]["Target"]["Fn::Sub"].removeprefix(
            "integrations/${").removesuffix("}")
        targets[route["Properties"]["RouteKey"]] = \
            integrations[integration]["Properties"]["IntegrationUri"]["Fn::Sub"]
    expected = {}
    for service in TENANT_SERVICES:
        item = service.route_prefix
        for path in (f"{item}s", item, f"{item}/{{proxy+}}", service.document_path):
            expected[f"ANY {path}"] = (
                f"https://${{{PREFIX[deployment](service)}RestAPI}}.execute-api."
                f"${{AWS::Region}}.${{AWS::URLSuffix}}/api{path.replace('{proxy+}', '{proxy}')}")
    assert targets == expected
    assert template["Outputs"]["PooledApiUrl" if deployment == "pooled" else "TenantApiUrl"] == {
        "Value": {"Fn::Sub": "https://${Edge}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_no_iam_statement_allows_every_action(packaged: Packaged, deployment: str) -> None:
    def statements(node: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if isinstance(node, dict):
            if "Statement" in node and isinstance(node["Statement"], list):
                found += node["Statement"]
            for value in node.values():
                found += statements(value)
        elif isinstance(node, list):
            for value in node:
                found += statements(value)
        return found

    all_statements = statements(packaged.translated(deployment)["Resources"])
    assert all_statements
    for statement in all_statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) \
            else [statement["Action"]]
        assert "*" not in actions, json.dumps(statement)
        assert not any(action.endswith(":*") for action in actions), json.dumps(statement)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_api_gateways_own_answers_carry_the_apps_cors_headers(packaged: Packaged,
                                                              deployment: str) -> None:
    """A 401 from the authorizer or a 429 from a usage plan must reach the web app as such,
    not as a CORS failure (the local front door adds the same headers)."""
    expected = {f"gatewayresponse.header.{name}": f"'{value}'"
                for name, value in cors_headers().items()}
    apis = resources_of(packaged.translated(deployment), "AWS::ApiGateway::RestApi")
    assert apis
    for name, api in apis.items():
        responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
            assert responses[kind]["responseParameters"] == expected, (name, kind)


def test_tenant_functions_reach_only_their_own_data(packaged: Packaged) -> None:
    """Pooled tenant service functions have no data rights of their own (only the caller's
    scoped credentials reach items; their one right, adding to the usage table, is no tenant's
    data); a silo's functions write only their own table of that tenant and read only the
    tenant's tables their registry entry lists in ``reads`` (and add to the usage table)."""
    pooled = packaged.templates["pooled"]["Resources"]
    for service in TENANT_SERVICES:
        role = f"{handler('pooled', service)}Role"
        (policy,) = pooled[role]["Properties"]["Policies"]
        assert policy["PolicyDocument"]["Statement"] == [{
            "Effect": "Allow", "Action": ["dynamodb:UpdateItem"],
            "Resource": [{"Fn::Sub": f"{ARN_PREFIX}:table/{USAGE_TABLE.name}"}]}], role
        assert pooled[handler("pooled", service)]["Properties"]["Role"] == {
            "Fn::GetAtt": [role, "Arn"]}
    silo = packaged.templates["silo"]["Resources"]
    for service in TENANT_SERVICES:
        own, *read = (f"table/{table.name}" for table in service_tables(service, TENANT_ID))
        (policy,) = silo[f"{handler('silo', service)}Role"]["Properties"]["Policies"]
        reached: dict[str, set[str]] = {}
        for statement in policy["PolicyDocument"]["Statement"]:
            assert all(action.startswith("dynamodb:") for action in statement["Action"])
            for resource in statement["Resource"]:
                table = resource["Fn::Sub"].rsplit(":", 1)[1].removesuffix("/index/*")
                reached.setdefault(table, set()).update(statement["Action"])
        assert reached.pop(f"table/{USAGE_TABLE.name}") == {"dynamodb:UpdateItem"}
        assert set(reached) == {own, *read}, service.name
        assert "dynamodb:PutItem" in reached[own]
        for table in read:
            assert reached[table] == {"dynamodb:GetItem", "dynamodb:BatchGetItem",
                                      "dynamodb:Query"}, (service.name, table)


def test_custom_resources_give_up_after_minutes_not_an_hour(packaged: Packaged) -> None:
    """A custom resource whose function never answers (it cannot even load) holds the stack
    for ServiceTimeout seconds, an hour when unset."""
    for deployment, kind in (("pooled", "Custom::PlatformSettings"),
                             ("silo", "Custom::TenantDeployment")):
        (resource,) = resources_of(packaged.templates[deployment], kind).values()
        assert resource["Properties"]["ServiceTimeout"] == CUSTOM_RESOURCE_TIMEOUT_SECONDS
        assert 0 < CUSTOM_RESOURCE_TIMEOUT_SECONDS <= 600


def test_the_access_role_s_name_is_regional_and_the_authorizer_assumes_that_role(
        packaged: Packaged) -> None:
    """IAM role names are global to the account: a fixed name would fail the pooled stack of a
    second region. The authorizer's rights and its TENANT_ACCESS_ROLE_ARN follow the role."""
    resources = packaged.templates["pooled"]["Resources"]
    name = {"Fn::Sub": f"{TENANT_ACCESS_ROLE_NAME}-${{AWS::Region}}"}
    assert resources[TENANT_ACCESS_ROLE]["Properties"]["RoleName"] == name
    (policy,) = resources[AUTHORIZER_ROLE]["Properties"]["Policies"]
    (assume,) = [statement for statement in policy["PolicyDocument"]["Statement"]
                 if statement["Action"] == ["sts:AssumeRole"]]
    assert assume["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:"
                                              f"role/{name['Fn::Sub']}"}]
    environment = resources[AUTHORIZER_FUNCTION]["Properties"]["Environment"]["Variables"]
    assert environment[Env.TENANT_ACCESS_ROLE_ARN] == {"Fn::GetAtt": [TENANT_ACCESS_ROLE, "Arn"]}
