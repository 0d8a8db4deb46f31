"""``make web-config``: the local target runs its module; the aws target reads the pooled
stack's outputs (one DescribeStacks), and its dry run makes no connection."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.deploy.aws.calls import DRY_RUN, Answer
from pipeline.deploy.aws.placeholders import placeholder
from pipeline.deploy.aws.web_config import aws_web_config
from pipeline.stacks.inventory import POOLED_STACK_NAME
from pipeline.stacks.web_config import POOLED_OUTPUTS
from tests.pipeline.deploy.conftest import Cli, Connections

OUTPUTS = {"AdminApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/api",
           "OperationsUserPoolId": "eu-west-1_Ops", "OperationsUserPoolClientId": "opsclient",
           "PooledApiUrl": "https://edge.example"}


class StackCalls:
    """CloudFormation's answer for a deployed pooled stack."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Mapping[str, Any]]] = []

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        self.calls.append((service, operation, params))
        return {"Stacks": [{"StackName": POOLED_STACK_NAME, "StackStatus": "UPDATE_COMPLETE",
                            "Outputs": [{"OutputKey": key, "OutputValue": value}
                                        for key, value in OUTPUTS.items()]}]}


def test_aws_values_come_from_the_pooled_stacks_outputs() -> None:
    calls = StackCalls()
    config = aws_web_config(calls, "eu-west-1", print).by_app()
    assert calls.calls == [("cloudformation", "describe_stacks",
                            {"StackName": POOLED_STACK_NAME})]
    assert config["signUp"]["environment.ts"]["apiGatewayUrl"] == OUTPUTS["AdminApiUrl"]
    exports = config["adminConsole"]["aws-exports.ts"]
    assert (exports["aws_user_pools_id"], exports["aws_user_pools_web_client_id"]) == (
        "eu-west-1_Ops", "opsclient")
    assert exports["aws_cognito_region"] == "eu-west-1"
    assert exports["Auth"] == {"endpoint": "https://cognito-idp.eu-west-1.amazonaws.com/"}


def test_aws_dry_run_prints_the_one_call_apart_from_the_json(cli: Cli,
                                                              no_aws: Connections) -> None:
    run = cli(["web-config", "--target", "aws", "--region", "eu-west-1", "--dry-run"])
    assert run.code == 0, run.err
    assert run.err == [f"{DRY_RUN} cloudformation.describe_stacks StackName={POOLED_STACK_NAME}"]
    config = json.loads("\n".join(run.out))  # stdout holds the JSON alone
    assert config["tenantApp"]["environment.ts"] == {
        "regApiGatewayUrl": placeholder(POOLED_STACK_NAME, POOLED_OUTPUTS["admin_api_url"]),
        "region": "eu-west-1"}
    assert no_aws.attempted == []


def test_aws_needs_a_region_but_no_bucket(cli: Cli, no_aws: Connections) -> None:
    run = cli(["web-config", "--target", "aws", "--dry-run"])
    assert run.code == 2
    assert run.err == ["error: no AWS region: pass --region (REGION=...) or set "
                       "AWS_DEFAULT_REGION"]


def test_local_runs_its_module(cli: Cli) -> None:
    ran: list[tuple[str, list[str]]] = []

    def run_module(module: str, args: list[str]) -> int:
        ran.append((module, args))
        return 0

    run = cli(["web-config"], run_module=run_module)
    assert (run.code, ran) == (0, [("pipeline.deploy.local.local_web_config", [])])
