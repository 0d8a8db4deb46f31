"""The baseline as CloudFormation: linted, translated, and checked against the definitions."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from pipeline.baseline import TABLES, USER_POOLS
from pipeline.baseline_template import AUTHORIZER_FUNCTION, LAYER
from tenant_context.resources import TENANT_ID_ATTRIBUTE, USER_ROLE_ATTRIBUTE
from tests.packaging.conftest import Packaged
from tests.support.apps import local_stage_environment


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: resource for name, resource in template["Resources"].items()
            if resource["Type"] == kind}


def test_cfn_lint_reports_nothing(packaged: Packaged) -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")),
                             str(packaged.baseline_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""  # no errors and no warnings


class _NoAwsPolicies:
    def load(self) -> dict[str, str]:
        return {}


def test_sam_translates_it(packaged: Packaged, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the translator resolves ARNs
    template = copy.deepcopy(packaged.baseline)
    for resource in template["Resources"].values():  # what `aws cloudformation package` does
        for uri in ("CodeUri", "ContentUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = f"s3://artifacts/{resource['Properties'][uri]}"
    translated = transform(template, {"AdminEmail": "admin@example.com"}, _NoAwsPolicies())
    kinds = {resource["Type"] for resource in translated["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::DynamoDB::Table",
            "AWS::Cognito::UserPool"} <= kinds
    assert "Transform" not in translated


def test_every_table_of_the_definitions_is_retained_with_point_in_time_recovery(
        packaged: Packaged) -> None:
    tables = resources_of(packaged.baseline, "AWS::DynamoDB::Table")
    assert set(tables) == {table.logical_id for table in TABLES}
    for table in TABLES:
        resource = tables[table.logical_id]
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
        properties = resource["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True}
        assert properties["TableName"] == table.name
        assert properties["KeySchema"] == table.create_table_request()["KeySchema"]


def test_pools_are_retained_and_users_cannot_write_tenant_or_role(packaged: Packaged) -> None:
    pools = resources_of(packaged.baseline, "AWS::Cognito::UserPool")
    assert set(pools) == {pool.logical_id for pool in USER_POOLS}
    for pool in pools.values():
        assert pool["DeletionPolicy"] == "Retain"
    for client in resources_of(packaged.baseline, "AWS::Cognito::UserPoolClient").values():
        writable = client["Properties"]["WriteAttributes"]
        assert TENANT_ID_ATTRIBUTE not in writable
        assert USER_ROLE_ATTRIBUTE not in writable
        assert client["Properties"]["GenerateSecret"] is False


def test_the_authorizer_function_uses_the_shared_layer_and_the_same_settings(
        packaged: Packaged) -> None:
    functions = resources_of(packaged.baseline, "AWS::Serverless::Function")
    assert set(functions) == {AUTHORIZER_FUNCTION}  # packaged as a Lambda, never built-in
    properties = functions[AUTHORIZER_FUNCTION]["Properties"]
    assert properties["Layers"] == [{"Ref": LAYER}]
    aws_variables = set(properties["Environment"]["Variables"]) - {"POWERTOOLS_SERVICE_NAME"}
    local_variables = set(local_stage_environment("authorizer")) - {"AWS_DEFAULT_REGION"}
    assert aws_variables == local_variables


def test_no_iam_statement_allows_every_action(packaged: Packaged) -> None:
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

    all_statements = statements(packaged.baseline["Resources"])
    assert all_statements
    for statement in all_statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) \
            else [statement["Action"]]
        assert "*" not in actions, json.dumps(statement)
        assert not any(action.endswith(":*") for action in actions), json.dumps(statement)
