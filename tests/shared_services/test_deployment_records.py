"""The custom resources through which a deployed stack tells the control plane what it built:
real DynamoDB and API Gateway calls (the emulator, in a region of their own so the session's
baseline stays as it is), and the outcome PUT over real HTTP as CloudFormation expects it, even
when the handler's collaborators cannot be built."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest

from pipeline.local_cloud.provisioning.baseline_bootstrap import ensure_tables
from pipeline.stacks.inventory import TABLES
from tenant_context.attribute_values import from_item, to_item
from tenant_context.errors import ConfigurationError
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    USAGE_PLANS,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.platform_settings import read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_records import DeploymentStatus, TenantRecord
from tenant_context.tenancy import Tier
from tests.support.chalice_apps import ClientFor, load_app
from tests.support.control_plane_parts import DeploymentRecords, handle_custom_resource

REGION = "eu-central-1"


class _CloudFormation(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "body": json.loads(body),
                              "content_type": self.headers.get("Content-Type")})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_CloudFormation,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/response", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def aws(emulator_url: str) -> dict[str, Any]:
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=REGION)
    clients: dict[str, Any] = {name: session.client(name, endpoint_url=emulator_url)
                               for name in ("dynamodb", "apigateway")}
    ensure_tables(clients["dynamodb"], TABLES)
    return clients


def _records(aws: dict[str, Any]) -> Callable[[], DeploymentRecords]:
    """What the app's handler passes: the records, built when the request needs them."""
    return lambda: DeploymentRecords(aws["dynamodb"], aws["apigateway"],
                                     Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name))


def _event(request_type: str, resource_type: str, properties: dict[str, Any], url: str,
           physical_id: str | None = None) -> dict[str, Any]:
    event = {"RequestType": request_type, "ResponseURL": url, "StackId": "stack-id",
             "RequestId": "request-1", "LogicalResourceId": "Records",
             "ResourceType": resource_type, "ResourceProperties": properties}
    return event | ({"PhysicalResourceId": physical_id} if physical_id else {})


def _plan_ids(aws: dict[str, Any]) -> dict[str, str]:
    """The region's usage plans, one per plan name (made once, as the pooled stack does)."""
    existing = {plan["name"]: plan["id"]
                for plan in aws["apigateway"].get_usage_plans()["items"]}
    return {name: existing.get(name) or aws["apigateway"].create_usage_plan(name=name)["id"]
            for name in USAGE_PLANS}


def _settings_properties(aws: dict[str, Any], pooled_url: str) -> dict[str, Any]:
    key_ids = {"SystemAdmin": aws["apigateway"].create_api_key(
        name=f"records-SystemAdmin-{pooled_url[-1]}", enabled=True)["id"]}
    return {"ServiceToken": "arn:records", "StackName": "stack-pooled",
            "OperationsUserPoolId": "us-east-1_ops", "OperationsAppClientId": "ops-client",
            "PooledUserPoolId": "us-east-1_pooled", "PooledAppClientId": "pooled-client",
            "AdminApiIds": ["adminapi01"], "AdminApiUrl": "https://admin.example/api",
            "PooledApiIds": ["productapi", "orderapi"], "PooledApiUrl": pooled_url,
            "ApiKeyIds": key_ids, "UsagePlanIds": _plan_ids(aws)}


def _keys(aws: dict[str, Any]) -> TenantApiKeys:
    return TenantApiKeys(aws["apigateway"], lambda: _plan_ids(aws))


def _plans_of(aws: dict[str, Any], key_id: str) -> list[str]:
    return sorted(plan["name"] for plan in aws["apigateway"].get_usage_plans()["items"]
                  if any(key["id"] == key_id for key in aws["apigateway"].get_usage_plan_keys(
                      usagePlanId=plan["id"])["items"]))


def test_platform_settings_are_recorded_and_follow_stack_updates(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    records = _records(aws)
    properties = _settings_properties(aws, "https://edge.example/1")
    handle_custom_resource(_event("Create", "Custom::PlatformSettings", properties, url),
                           records)
    (response,) = received
    assert response["content_type"] == ""  # what the presigned URL was signed for
    assert response["body"]["Status"] == "SUCCESS", response
    physical_id = response["body"]["PhysicalResourceId"]
    settings = read_settings(aws["dynamodb"], SETTINGS_TABLE.name)
    assert settings.operations_pool.user_pool_id == "us-east-1_ops"
    assert settings.admin_api_ids == frozenset({"adminapi01"})
    key_values = {plan: aws["apigateway"].get_api_key(apiKey=key_id, includeValue=True)["value"]
                  for plan, key_id in properties["ApiKeyIds"].items()}
    assert dict(settings.api_keys) == key_values  # values, as the authorizer returns them
    assert dict(settings.usage_plan_ids) == properties["UsagePlanIds"]
    pooled = Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name).get("pooled")
    assert pooled is not None
    assert pooled.api_url == "https://edge.example/1"
    assert pooled.api_ids == frozenset({"productapi", "orderapi"})
    admin_key = to_item({"tenantId": "operations", "userName": "admin"})
    admin = from_item(aws["dynamodb"].get_item(TableName=TENANT_USER_MAPPING_TABLE.name,
                                               Key=admin_key)["Item"])
    assert admin["userRole"] == "SystemAdmin"

    # An admin's later change to the first SystemAdmin survives a stack update.
    aws["dynamodb"].update_item(TableName=TENANT_USER_MAPPING_TABLE.name, Key=admin_key,
                                UpdateExpression="SET enabled = :off",
                                ExpressionAttributeValues=to_item({":off": False}))
    updated = properties | {"PooledApiUrl": "https://edge.example/2"}
    handle_custom_resource(_event("Update", "Custom::PlatformSettings", updated, url,
                                  physical_id), records)
    assert received[-1]["body"]["Status"] == "SUCCESS"
    assert received[-1]["body"]["PhysicalResourceId"] == physical_id  # no replacement
    pooled = Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name).get("pooled")
    assert pooled is not None
    assert pooled.api_url == "https://edge.example/2"
    assert from_item(aws["dynamodb"].get_item(TableName=TENANT_USER_MAPPING_TABLE.name,
                                              Key=admin_key)["Item"])["enabled"] is False

    # Deleting the resource (or the stack) keeps every record.
    before = read_settings(aws["dynamodb"], SETTINGS_TABLE.name)
    handle_custom_resource(_event("Delete", "Custom::PlatformSettings", updated, url,
                                  physical_id), records)
    assert received[-1]["body"]["Status"] == "SUCCESS"
    assert read_settings(aws["dynamodb"], SETTINGS_TABLE.name) == before
    assert Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name).get("pooled") == pooled


def _tenant(aws: dict[str, Any], tenant_id: str, api_key: str,
            tier: Tier = Tier.PLATINUM) -> None:
    record = TenantRecord(tenant_id, f"tenant {tenant_id[:4]}", tier, True,
                          "pool", "client", api_key)
    aws["dynamodb"].put_item(TableName=TENANT_DETAILS_TABLE.name, Item=to_item(record.to_item()))


def _tenant_api_key(aws: dict[str, Any], tenant_id: str) -> str:
    item = aws["dynamodb"].get_item(TableName=TENANT_DETAILS_TABLE.name,
                                    Key=to_item({"tenantId": tenant_id}))["Item"]
    return TenantRecord.from_item(from_item(item)).api_key


def test_a_tenant_stack_finds_the_tenants_own_key(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    """What the silo stack adds to its own plan: the key registration issued (by id, which
    only API Gateway knows), the same on every update; none for a tenant never registered."""
    url, received = response_url
    registered, unknown = "e" * 32, "f" * 32
    own = _keys(aws).issue(registered, Tier.PLATINUM.value)
    _tenant(aws, registered, own.value)
    properties = {"ServiceToken": "arn:records", "TenantId": registered}
    for request in ("Create", "Update"):
        handle_custom_resource(_event(request, "Custom::TenantApiKey", properties, url),
                               _records(aws))
        answer = received[-1]["body"]
        assert answer["Status"] == "SUCCESS", answer
        assert answer["Data"] == {"ApiKeyId": own.key_id}
    assert _tenant_api_key(aws, registered) == own.value
    assert len(_keys(aws).keys_of(registered)) == 1

    # A tenant from before per-tenant keys: its stack's key. It gets one of its own, the same
    # on a retry, and its record keeps the old key until the deployment resource names it.
    legacy = "9" * 32
    _tenant(aws, legacy, "its-stack-made-this-key-0000000")
    ids = []
    for request in ("Create", "Update"):
        handle_custom_resource(_event(request, "Custom::TenantApiKey",
                                      properties | {"TenantId": legacy}, url), _records(aws))
        ids.append(received[-1]["body"]["Data"]["ApiKeyId"])
    (issued,) = _keys(aws).keys_of(legacy)
    assert ids == [issued.key_id] * 2
    assert _plans_of(aws, issued.key_id) == [Tier.PLATINUM.value]
    assert _tenant_api_key(aws, legacy) == "its-stack-made-this-key-0000000"

    handle_custom_resource(_event("Create", "Custom::TenantApiKey",
                                  properties | {"TenantId": unknown}, url), _records(aws))
    assert received[-1]["body"]["Status"] == "FAILED"
    assert "no tenant record" in received[-1]["body"]["Reason"]
    assert _keys(aws).keys_of(unknown) == []


def test_tenants_from_before_own_keys_get_one_on_their_tiers_plan(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    """A pooled stack update deletes the tier keys tenants used to share: before it does, the
    settings resource gives each such tenant its own key (and leaves an own key alone)."""
    url, received = response_url
    legacy, current = "1" * 32, "2" * 32
    _tenant(aws, legacy, "shared-standard-key-value-0000", Tier.STANDARD)
    own = _keys(aws).issue(current, Tier.BASIC.value)
    _tenant(aws, current, own.value, Tier.BASIC)
    handle_custom_resource(_event("Update", "Custom::PlatformSettings",
                                  _settings_properties(aws, "https://edge.example/3"), url,
                                  "platform-settings-pooled"), _records(aws))
    assert received[-1]["body"]["Status"] == "SUCCESS", received[-1]
    (issued,) = _keys(aws).keys_of(legacy)
    assert _tenant_api_key(aws, legacy) == issued.value
    assert _plans_of(aws, issued.key_id) == [Tier.STANDARD.value]
    assert [key.value for key in _keys(aws).keys_of(current)] == [own.value]
    assert _tenant_api_key(aws, current) == own.value


def test_a_tenant_stack_records_its_url_on_the_requested_row_only(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    records = _records(aws)
    deployments = Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name)
    requested, unknown = "a" * 32, "b" * 32
    deployments.request(requested)
    row = deployments.get(requested)
    assert row is not None
    assert row.status == DeploymentStatus.PROVISIONING
    _tenant(aws, requested, "pooled-platinum-key-value")
    own = _keys(aws).issue(requested, Tier.PLATINUM.value)
    properties = {"ServiceToken": "arn:records", "ServiceTimeout": "300",
                  "ApiIds": ["p1", "o1"], "ApiUrl": "https://tenant.example",
                  "ApiKeyId": own.key_id}
    handle_custom_resource(_event("Create", "Custom::TenantDeployment",
                                  properties | {"TenantId": requested}, url), records)
    assert received[-1]["body"]["Status"] == "SUCCESS", received[-1]
    row = deployments.get(requested)
    assert row is not None
    assert (row.status, row.api_url, row.api_ids) == (DeploymentStatus.ACTIVE, "https://tenant.example",
                                                      frozenset({"p1", "o1"}))
    # The key's VALUE (what the authorizer returns as usageIdentifierKey) is on the record.
    assert _tenant_api_key(aws, requested) == own.value

    handle_custom_resource(_event("Create", "Custom::TenantDeployment",
                                  properties | {"TenantId": unknown}, url), records)
    failed = received[-1]["body"]
    assert failed["Status"] == "FAILED"
    assert unknown in failed["Reason"]
    assert deployments.get(unknown) is None  # no row invented


def test_an_unknown_resource_type_fails_with_a_reason(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    handle_custom_resource(_event("Create", "Custom::Other", {}, url),
                           _records(aws))
    assert received[-1]["body"]["Status"] == "FAILED"
    assert "Custom::Other" in received[-1]["body"]["Reason"]


def test_the_app_s_handler_answers_failed_when_its_records_cannot_be_built(
        client_for: ClientFor, monkeypatch: pytest.MonkeyPatch,
        response_url: tuple[str, list[dict[str, Any]]]) -> None:
    """The shared-services function CloudFormation calls: a failure while building the control
    plane (configuration, clients) is still a FAILED answer with the reason, never silence
    that leaves the stack waiting; a Delete, which records nothing, still succeeds."""
    url, received = response_url
    client = client_for("shared_services")
    # The function as registered (chalice wraps it once for its event adapter): its module's
    # ``control``, which builds the control plane, is made to fail as a missing setting does.
    handler: Any = load_app("shared_services").handler_map["deployment_records"]
    app_module = handler.func._original_func.__globals__

    def broken() -> Any:
        raise ConfigurationError("environment variable SETTINGS_TABLE is not set")

    monkeypatch.setitem(app_module, "control", broken)
    properties = {"ServiceToken": "arn:records", "TenantId": "d" * 32}

    answer = client.lambda_.invoke("deployment_records", _event(
        "Create", "Custom::TenantDeployment", properties, url)).payload

    (response,) = received
    assert response["body"] == answer
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == ("ConfigurationError: environment variable SETTINGS_TABLE is "
                                "not set")
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("request-1", "Records")

    client.lambda_.invoke("deployment_records", _event(
        "Delete", "Custom::TenantDeployment", properties, url, "tenant-deployment-d"))
    assert received[-1]["body"]["Status"] == "SUCCESS"
    assert received[-1]["body"]["PhysicalResourceId"] == "tenant-deployment-d"


def test_a_deployment_row_without_its_tenant_fails_and_stays_provisioning(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    deployments = Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name)
    orphan = "c" * 32
    deployments.request(orphan)
    key = aws["apigateway"].create_api_key(name="orphan-key", enabled=True)
    handle_custom_resource(_event("Create", "Custom::TenantDeployment", {
        "ServiceToken": "arn:records", "TenantId": orphan, "ApiIds": ["p2"],
        "ApiUrl": "https://orphan.example", "ApiKeyId": key["id"]}, url), _records(aws))
    failed = received[-1]["body"]
    assert failed["Status"] == "FAILED"
    assert "no tenant record" in failed["Reason"]
    row = deployments.get(orphan)
    assert row is not None
    assert row.status == DeploymentStatus.PROVISIONING
    assert aws["dynamodb"].get_item(TableName=TENANT_DETAILS_TABLE.name,
                                    Key=to_item({"tenantId": orphan})).get("Item") is None
