"""``make web-config`` against the running platform: every value resolves. The pool and its
client exist in the platform's Cognito, the region is the emulator's, each URL answers over
HTTP (the admin API its document; the Cognito endpoint a Cognito call, with JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform
from pipeline.stacks.web_config import leaves
from tenant_context.service.openapi import DOCUMENT_PATH
from tests.support.readme_commands import make

pytestmark = pytest.mark.platform


@pytest.fixture(scope="module")
def config(platform: RunningPlatform) -> dict[str, Any]:
    printed: dict[str, Any] = json.loads(make(platform.state_dir, "web-config"))
    return printed


def test_every_value_resolves_on_the_platform(platform: RunningPlatform,
                                              config: dict[str, Any]) -> None:
    admin_urls = {config["signUp"]["environment.ts"]["apiGatewayUrl"],
                  config["adminConsole"]["environment.ts"]["apiUrl"],
                  config["tenantApp"]["environment.ts"]["regApiGatewayUrl"]}
    assert admin_urls == {platform.admin_api}
    document = requests.get(f"{platform.admin_api}{DOCUMENT_PATH}", timeout=30)
    assert document.status_code == 200
    assert "/registration" in document.json()["paths"]
    exports = config["adminConsole"]["aws-exports.ts"]
    cognito = platform.aws.cognito
    client = cognito.describe_user_pool_client(
        UserPoolId=exports["aws_user_pools_id"],
        ClientId=exports["aws_user_pools_web_client_id"])["UserPoolClient"]
    assert client["ClientId"] == exports["aws_user_pools_web_client_id"]
    assert platform.token()  # the SystemAdmin signs in to that pool: it is the operations pool
    region = cognito.meta.region_name
    assert {exports["aws_project_region"], exports["aws_cognito_region"],
            config["tenantApp"]["environment.ts"]["region"]} == {region}
    assert exports["aws_user_pools_id"].startswith(f"{region}_")
    assert all(isinstance(value, str) and value for files in config.values()
               for keys in files.values() for _, value in leaves(keys))


def test_the_cognito_endpoint_answers_cognito_calls(platform: RunningPlatform,
                                                    config: dict[str, Any]) -> None:
    exports = config["adminConsole"]["aws-exports.ts"]
    if "Auth" not in exports:
        pytest.skip("the platform serves no Cognito endpoint yet (no cognitoEndpoint in "
                    "platform.json)")
    endpoint = exports["Auth"]["endpoint"]
    assert config["tenantApp"]["auth-configuration.service.ts"]["Auth"]["endpoint"] == endpoint
    answer = requests.post(endpoint, timeout=30, data=json.dumps({
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": exports["aws_user_pools_web_client_id"],
        "AuthParameters": {"USERNAME": "nobody-here", "PASSWORD": "wrong"}}), headers={
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "Content-Type": "application/x-amz-json-1.1"})
    assert "json" in answer.headers.get("Content-Type", "")
    assert isinstance(answer.json(), dict)  # Cognito's answer: an error naming its type

