"""The web apps' configuration: the contract's keys, grouped by app and file, and on AWS read
from outputs the pooled stack really has."""

from __future__ import annotations

from pipeline.stacks.web_config import POOLED_OUTPUTS, WebConfig, aws_cognito_endpoint, leaves
from tests.support.packaged import Packaged

VALUES = WebConfig(admin_api_url="http://127.0.0.1:4701/admin", region="us-east-1",
                   operations_user_pool_id="us-east-1_abc", operations_app_client_id="client1",
                   cognito_endpoint="http://127.0.0.1:4702")


def test_each_app_gets_the_keys_its_own_files_read() -> None:
    """``api-contract.md``, "How the web apps are configured"."""
    admin, region = VALUES.admin_api_url, VALUES.region
    endpoint = {"Auth": {"endpoint": "http://127.0.0.1:4702"}}
    assert VALUES.by_app() == {
        "signUp": {"environment.ts": {"apiGatewayUrl": admin}},
        "adminConsole": {
            "environment.ts": {"apiUrl": admin},
            "aws-exports.ts": {"aws_project_region": region, "aws_cognito_region": region,
                               "aws_user_pools_id": "us-east-1_abc",
                               "aws_user_pools_web_client_id": "client1", **endpoint}},
        "tenantApp": {"environment.ts": {"regApiGatewayUrl": admin, "region": region},
                      "auth-configuration.service.ts": endpoint},
    }


def test_an_unknown_cognito_endpoint_is_left_out_not_printed_empty() -> None:
    config = WebConfig(VALUES.admin_api_url, VALUES.region, "pool", "client").by_app()
    assert "Auth" not in config["adminConsole"]["aws-exports.ts"]
    assert "auth-configuration.service.ts" not in config["tenantApp"]
    assert all(value for files in config.values() for keys in files.values()
               for _, value in leaves(keys))


def test_the_terminal_lines_show_every_value_once_with_its_file_and_key() -> None:
    lines = VALUES.lines()
    shown = [value for files in VALUES.by_app().values() for keys in files.values()
             for _, value in leaves(keys)]
    assert len(lines) == len(shown)
    assert all(line.rstrip().endswith(value) for line, value in zip(lines, shown, strict=True))
    assert lines[0].split() == ["sign-up", "page", "environment.ts", "apiGatewayUrl",
                                VALUES.admin_api_url]
    assert any(line.split()[-2:] == ["Auth.endpoint", "http://127.0.0.1:4702"] for line in lines)


def test_on_aws_the_values_are_outputs_of_the_pooled_stack(packaged: Packaged) -> None:
    outputs = packaged.templates["pooled"]["Outputs"]
    assert set(POOLED_OUTPUTS.values()) <= set(outputs)
    assert aws_cognito_endpoint("eu-west-1") == "https://cognito-idp.eu-west-1.amazonaws.com/"
