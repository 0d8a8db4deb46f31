"""Logs with a retention for every function, access logs for every API stage (who, what, how it
ended), the region's API Gateway CloudWatch role only when asked for, and the templates after
the SAM transform as clean for cfn-lint as before it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.stacks.logging_template import (
    API_GATEWAY_ACCOUNT,
    API_GATEWAY_ACCOUNT_READY,
    API_GATEWAY_ROLE,
    DEFAULT_RETENTION_DAYS,
    LOG_RETENTION,
)
from tests.support.packaged import Packaged, resources_of

DEPLOYMENTS = ("pooled", "silo")


pytestmark = pytest.mark.usefixtures("sam_region")


def retained_group(template: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The log group a Ref or GetAtt names, checked to keep logs for the stack's retention."""
    name = reference["Ref"] if "Ref" in reference else reference["Fn::GetAtt"][0]
    group: dict[str, Any] = template["Resources"][name]
    assert group["Type"] == "AWS::Logs::LogGroup", name
    assert group["Properties"]["RetentionInDays"] == {"Ref": LOG_RETENTION}, name
    assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith(
        "/serverless-saas/${AWS::StackName}/"), name
    return group


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_function_logs_to_a_group_kept_for_the_retention(packaged: Packaged,
                                                                deployment: str) -> None:
    template = packaged.templates[deployment]
    assert template["Parameters"][LOG_RETENTION]["Default"] == DEFAULT_RETENTION_DAYS == 30
    functions = resources_of(template, "AWS::Serverless::Function")
    assert functions
    groups = [retained_group(template, function["Properties"]["LoggingConfig"]["LogGroup"])
              for function in functions.values()]
    assert len({json.dumps(group) for group in groups}) == len(functions)  # one each


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_api_stage_writes_json_access_logs_naming_the_tenant(packaged: Packaged,
                                                                   deployment: str) -> None:
    template = packaged.templates[deployment]
    apis = resources_of(template, "AWS::Serverless::Api")
    assert apis
    for api in apis.values():
        setting = api["Properties"]["AccessLogSetting"]
        retained_group(template, setting["DestinationArn"])
        line = json.loads(setting["Format"])
        assert {"tenantId": "$context.authorizer.tenantId",
                "apiKeyId": "$context.identity.apiKeyId", "status": "$context.status",
                "error": "$context.error.responseType", "route": "$context.resourcePath",
                "latencyMs": "$context.responseLatency"}.items() <= line.items()
    (edge,) = resources_of(template, "AWS::ApiGatewayV2::Stage").values()
    settings = edge["Properties"]["AccessLogSettings"]
    retained_group(template, settings["DestinationArn"])
    assert json.loads(settings["Format"])["sourceIp"] == "$context.identity.sourceIp"
    # After the SAM transform: every REST API stage has it.
    stages = resources_of(packaged.translated(deployment), "AWS::ApiGateway::Stage")
    assert len(stages) == len(apis)
    assert all("AccessLogSetting" in stage["Properties"] for stage in stages.values())


def test_the_regions_api_gateway_role_is_set_only_when_asked(packaged: Packaged) -> None:
    """``AWS::ApiGateway::Account`` is one per account and region: the stack never takes it
    over unless ``ApiGatewayCloudWatchRole=create``, and the APIs wait for it when it does."""
    template = packaged.templates["pooled"]
    assert template["Parameters"][API_GATEWAY_ROLE]["Default"] == "existing"
    account = template["Resources"][API_GATEWAY_ACCOUNT]
    assert account["Condition"] in template["Conditions"]
    for name, api in resources_of(template, "AWS::Serverless::Api").items():
        assert API_GATEWAY_ACCOUNT_READY in api["DependsOn"], name
    assert API_GATEWAY_ACCOUNT not in packaged.templates["silo"]["Resources"]


def test_the_translated_templates_lint_clean(packaged: Packaged, tmp_path: Path) -> None:
    """What CloudFormation runs after the SAM transform: cfn-lint reports nothing there
    either (the packaged templates' own lint is in ``test_templates``)."""
    files = []
    for deployment in DEPLOYMENTS:
        path = tmp_path / f"{deployment}.json"
        path.write_text(json.dumps(packaged.translated(deployment)))
        files.append(str(path))
    done = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), *files],
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout.strip()) == (0, ""), done.stdout + done.stderr
