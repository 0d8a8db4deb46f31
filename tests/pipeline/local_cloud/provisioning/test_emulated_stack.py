"""The plain-CloudFormation part of each packaged stack deploys into the emulator's
CloudFormation and creates the tables the code uses, key schemas and indexes alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from pipeline.local_cloud.provisioning.emulated_stack import deploy_stack, plain_part
from pipeline.stacks.inventory import TABLES
from tenant_context.platform.definitions import TableDefinition, deployment_data_tables
from tests.support.packaged import PARAMETERS, SILO_PARAMETERS, Packaged

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# The session's emulator already holds the local baseline in us-east-1; a region of its own
# keeps this deployment apart from it.
REGION = "eu-west-1"


def _shape(table: Mapping[str, Any], billing_mode: str) -> dict[str, Any]:
    """What the code relies on, from a DescribeTable answer or a CreateTable request."""
    return {
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": sorted(table["AttributeDefinitions"],
                                       key=lambda attribute: attribute["AttributeName"]),
        "Indexes": sorted((index["IndexName"], tuple(map(str, index["KeySchema"])),
                           index["Projection"]["ProjectionType"])
                          for index in table.get("GlobalSecondaryIndexes") or []),
        "BillingMode": billing_mode,
    }


def _described(dynamodb: DynamoDBClient, table: TableDefinition) -> dict[str, Any]:
    described = dynamodb.describe_table(TableName=table.name)["Table"]
    return _shape(described, described["BillingModeSummary"]["BillingMode"])


def _defined(table: TableDefinition) -> dict[str, Any]:
    request = table.create_table_request()
    return _shape(request, request["BillingMode"])


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_plain_part_deploys_and_creates_the_tables_the_code_uses(
        packaged: Packaged, emulator_url: str, deployment: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the SAM translator resolves ARNs
    plain = plain_part(packaged.translated(deployment))
    tenant = SILO_PARAMETERS["TenantId"]
    expected = TABLES if deployment == "pooled" else deployment_data_tables(tenant)
    assert len(plain["Resources"]) == len(expected)
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=REGION)
    cloudformation = session.client("cloudformation", endpoint_url=emulator_url)
    dynamodb = session.client("dynamodb", endpoint_url=emulator_url)
    status = deploy_stack(cloudformation, f"stack-{deployment}", plain, PARAMETERS[deployment])
    assert status == "CREATE_COMPLETE"
    for table in expected:
        assert _described(dynamodb, table) == _defined(table), table.name
    resources = cloudformation.describe_stack_resources(
        StackName=f"stack-{deployment}")["StackResources"]
    assert {resource["PhysicalResourceId"] for resource in resources} == {
        table.name for table in expected}
