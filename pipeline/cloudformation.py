"""The resource definitions rendered as CloudFormation (the aws target's half of ONE source).

``pipeline.local.bootstrap`` renders the same definitions as API calls against the emulator.
Every table and user pool is retained when its stack is deleted or replaced: tenant data and
identities outlive deployments.
"""

from __future__ import annotations

from typing import Any

from tenant_context.invitations import create_user_request
from tenant_context.policies import PolicyResources, access_role_policy
from tenant_context.resources import (
    POOLED_ORDER_TABLE,
    POOLED_PRODUCT_TABLE,
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    TableDefinition,
    UserPoolDefinition,
)
from tenant_context.tenancy import Role

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
LAYER_RUNTIME = "python3.11"
ARN_PREFIX = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"

Resource = dict[str, Any]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def table(definition: TableDefinition) -> Resource:
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": {
        **definition.create_table_request(),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }}


def user_pool(definition: UserPoolDefinition) -> Resource:
    properties = definition.create_user_pool_request()
    properties["UserPoolName"] = properties.pop("PoolName")
    return {"Type": "AWS::Cognito::UserPool", **RETAIN, "Properties": properties}


def user_pool_client(definition: UserPoolDefinition) -> Resource:
    return {"Type": "AWS::Cognito::UserPoolClient",
            "Properties": definition.create_client_request(ref(definition.logical_id))}


def user(pool: UserPoolDefinition, user_name: str, email: Any, role: Role,
         tenant_id: str) -> Resource:
    """Cognito emails the temporary password (no password ever appears in the template)."""
    properties, _ = create_user_request(ref(pool.logical_id), user_name, email, role,
                                        tenant_id, local_file=None)
    return {"Type": "AWS::Cognito::UserPoolUser", "Properties": properties}


def policy_resources() -> PolicyResources:
    """Session-policy ARNs with CloudFormation substitutions for partition, region, account."""
    return PolicyResources.for_tables(
        ARN_PREFIX, settings=SETTINGS_TABLE.name, tenant_details=TENANT_DETAILS_TABLE.name,
        tenant_names=TENANT_NAMES_TABLE.name, tenant_user_mapping=TENANT_USER_MAPPING_TABLE.name,
        tenant_stack_mapping=TENANT_STACK_MAPPING_TABLE.name,
        pooled_product=POOLED_PRODUCT_TABLE.name, pooled_order=POOLED_ORDER_TABLE.name)


def substituted(document: dict[str, Any]) -> dict[str, Any]:
    """A policy document whose Resource strings hold ``${AWS::...}``, wrapped in Fn::Sub."""
    return {**document, "Statement": [
        {**statement, "Resource": [{"Fn::Sub": resource} for resource in statement["Resource"]]}
        for statement in document["Statement"]]}


def lambda_role(statements: list[dict[str, Any]], policy_name: str) -> Resource:
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": [
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole"},
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}],
        "Policies": [{"PolicyName": policy_name,
                      "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
    }}


def tenant_access_role(trusted_role: str, role_name: str) -> Resource:
    """The role the authorizer assumes; only the authorizer's own role may assume it."""
    return {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": role_name,
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": get_att(trusted_role, "Arn")},
            "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "tenant-data-access",
                      "PolicyDocument": substituted(access_role_policy(policy_resources()))}],
    }}


def layer_version(content_uri: str, name: Any) -> Resource:
    return {"Type": "AWS::Serverless::LayerVersion", "Properties": {
        "LayerName": name, "ContentUri": content_uri,
        "CompatibleRuntimes": [LAYER_RUNTIME], "CompatibleArchitectures": ["x86_64"],
        "RetentionPolicy": "Retain",
        "Description": "tenant_context and its dependencies, shared by every function"}}
