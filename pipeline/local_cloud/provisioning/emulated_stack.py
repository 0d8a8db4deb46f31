"""The plain-CloudFormation part of a deployment, deployed through the emulator's CloudFormation.

The emulator's CloudFormation creates DynamoDB tables faithfully but skips Cognito and usage plans,
runs no SAM transform and mishandles layers (platform-facts.md). So locally a stack holds what it
can hold, the tables, rendered by the same ``pipeline.stacks.cloudformation`` functions as the
packaged templates; the rest is applied through API calls
(``pipeline.local_cloud.provisioning.baseline_bootstrap``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.stacks import cloudformation as cfn
from tenant_context.platform.definitions import TableDefinition

if TYPE_CHECKING:
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_dynamodb import DynamoDBClient

Template = dict[str, Any]
PLAIN_TYPES = frozenset({"AWS::DynamoDB::Table"})
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


class StackError(RuntimeError):
    pass


def plain_part(template: Template) -> Template:
    """The resources of ``template`` the emulator's CloudFormation deploys as AWS would (with
    the template's parameters and conditions, which they may use)."""
    return {"AWSTemplateFormatVersion": "2010-09-09",
            **{section: template[section] for section in ("Parameters", "Conditions")
               if section in template},
            "Resources": {name: resource for name, resource in template["Resources"].items()
                          if resource["Type"] in PLAIN_TYPES}}


def tables_template(tables: Iterable[TableDefinition]) -> Template:
    return plain_part({"Resources": {table.logical_id: cfn.table(table) for table in tables}})


def deploy_tables(cloudformation: CloudFormationClient, dynamodb: DynamoDBClient, stack_name: str,
                  tables: Iterable[TableDefinition]) -> None:
    """Create or update ``stack_name`` with the tables. A table that already exists outside the
    stack (a state folder from before stacks were used) is left as it is: CloudFormation cannot
    adopt it, and replacing it would lose data."""
    tables = list(tables)
    owned = _stack_tables(cloudformation, stack_name)
    existing = set(table_names(dynamodb))
    wanted = [table for table in tables if table.name in owned or table.name not in existing]
    if wanted:
        deploy_stack(cloudformation, stack_name, tables_template(wanted))
    apply_time_to_live(dynamodb, tables)


def apply_time_to_live(dynamodb: DynamoDBClient, tables: Iterable[TableDefinition]) -> None:
    """Each table's time to live, as the template's ``TimeToLiveSpecification`` sets it on AWS:
    the emulator's CloudFormation ignores that property. Looks before it writes (a read is never
    recorded), so a restart records nothing. The emulator deletes no expired item: the
    attribute is there, the deletion is AWS's."""
    for table in tables:
        request = table.time_to_live_request()
        if request is None:
            continue
        status = dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
        if (status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING")
                or status.get("AttributeName") != table.time_to_live):
            dynamodb.update_time_to_live(**request)


def deploy_stack(cloudformation: CloudFormationClient, stack_name: str, template: Template,
                 parameters: dict[str, str] | None = None, timeout: float = 60) -> str:
    request: dict[str, Any] = {  # CreateStack's and UpdateStack's parameters alike
        "StackName": stack_name, "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": key, "ParameterValue": value}
                       for key, value in (parameters or {}).items()]}
    if _stack_status(cloudformation, stack_name) is None:
        cloudformation.create_stack(**request)
    elif _deployed_as(cloudformation, stack_name) != (template, parameters or {}):
        try:
            cloudformation.update_stack(**request)
        except cloudformation.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    deadline = time.monotonic() + timeout
    while True:
        status = _stack_status(cloudformation, stack_name) or "MISSING"
        if status in _DONE:
            return status
        if status.endswith("FAILED") or "ROLLBACK" in status or time.monotonic() > deadline:
            raise StackError(f"stack {stack_name} is {status}")
        time.sleep(0.2)


def _deployed_as(cloudformation: CloudFormationClient, stack_name: str
                 ) -> tuple[Template, dict[str, str]]:
    """The template and parameters the stack has now. The emulator never answers "No updates
    are to be performed": an unchanged stack is left alone here instead, so starting the
    platform again records no change (and the recording it replays does not grow)."""
    body = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return (json.loads(body) if isinstance(body, str) else body,
            {parameter["ParameterKey"]: parameter["ParameterValue"]
             for parameter in stack.get("Parameters", [])})


def _stack_status(cloudformation: CloudFormationClient, stack_name: str) -> str | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _stack_tables(cloudformation: CloudFormationClient, stack_name: str) -> set[str]:
    if _stack_status(cloudformation, stack_name) is None:
        return set()
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {resource["PhysicalResourceId"] for resource in resources
            if resource["ResourceType"] == "AWS::DynamoDB::Table"}


def table_names(dynamodb: DynamoDBClient) -> list[str]:
    return [name for page in dynamodb.get_paginator("list_tables").paginate()
            for name in page.get("TableNames", [])]
