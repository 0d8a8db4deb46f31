"""The custom resources through which a deployed stack tells the control plane what it built:
real DynamoDB and API Gateway calls (the emulator, in a region of their own so the session's
baseline stays as it is), and the outcome PUT over real HTTP as CloudFormation expects it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest

from pipeline.baseline import TABLES
from pipeline.local.bootstrap import ensure_tables
from tenant_context.deployments import ACTIVE, PROVISIONING, Deployments
from tenant_context.dynamo import from_item, to_item
from tenant_context.platform_settings import read_settings
from tenant_context.resources import (
    SETTINGS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)
from tests.support.control_plane import DeploymentRecords, handle_custom_resource

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
    clients = {name: session.client(name, endpoint_url=emulator_url)
               for name in ("dynamodb", "apigateway")}
    ensure_tables(clients["dynamodb"], TABLES)
    return clients


def _records(aws: dict[str, Any]) -> DeploymentRecords:
    return DeploymentRecords(aws["dynamodb"], aws["apigateway"],
                             Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name))


def _event(request_type: str, resource_type: str, properties: dict[str, Any], url: str,
           physical_id: str | None = None) -> dict[str, Any]:
    event = {"RequestType": request_type, "ResponseURL": url, "StackId": "stack-id",
             "RequestId": "request-1", "LogicalResourceId": "Records",
             "ResourceType": resource_type, "ResourceProperties": properties}
    return event | ({"PhysicalResourceId": physical_id} if physical_id else {})


def _settings_properties(aws: dict[str, Any], pooled_url: str) -> dict[str, Any]:
    key_ids = {plan: aws["apigateway"].create_api_key(name=f"records-{plan}-{pooled_url[-1]}",
                                                      enabled=True)["id"]
               for plan in ("Basic", "SystemAdmin")}
    return {"ServiceToken": "arn:records", "StackName": "stack-pooled",
            "OperationsUserPoolId": "us-east-1_ops", "OperationsAppClientId": "ops-client",
            "PooledUserPoolId": "us-east-1_pooled", "PooledAppClientId": "pooled-client",
            "AdminApiIds": ["adminapi01"], "AdminApiUrl": "https://admin.example/api",
            "PooledApiIds": ["productapi", "orderapi"], "PooledApiUrl": pooled_url,
            "ApiKeyIds": key_ids}


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


def test_a_tenant_stack_records_its_url_on_the_requested_row_only(
        aws: dict[str, Any], response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    records = _records(aws)
    deployments = Deployments(aws["dynamodb"], TENANT_STACK_MAPPING_TABLE.name)
    requested, unknown = "a" * 32, "b" * 32
    deployments.request(requested)
    row = deployments.get(requested)
    assert row is not None
    assert row.status == PROVISIONING
    properties = {"ServiceToken": "arn:records", "ApiIds": ["p1", "o1"],
                  "ApiUrl": "https://tenant.example"}
    handle_custom_resource(_event("Create", "Custom::TenantDeployment",
                                  properties | {"TenantId": requested}, url), records)
    assert received[-1]["body"]["Status"] == "SUCCESS"
    row = deployments.get(requested)
    assert row is not None
    assert (row.status, row.api_url, row.api_ids) == (ACTIVE, "https://tenant.example",
                                                      frozenset({"p1", "o1"}))

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
