"""CloudFormation custom resources that tell the control plane what a stack deployed.

A stack knows its pools, API ids, URLs and API key ids only once it is created; the code reads
them from tables. Rather than a deployer writing them after the fact (and forgetting to, or
writing a stale copy on the next update), each stack carries a custom resource whose handler
(this module, behind the shared-services app's ``deployment_records`` function) records them:

- ``Custom::PlatformSettings`` in the pooled stack: the platform settings, the first SystemAdmin's
  user record and the pooled deployment's row (``tenant_context.platform.baseline_records``, which
  the local bootstrap uses too);
- ``Custom::TenantDeployment`` in a Platinum tenant's stack: the value of the tenant's own API
  key on its tenant record (``apiKey``, what the authorizer returns as ``usageIdentifierKey``),
  then its API ids and URL on the row its registration requested
  (``Deployments.record_active``). A stack for a tenant nobody registered fails instead of
  inventing a row.

Deleting either resource removes nothing: the stacks retain their data, and so do the records.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import to_item
from tenant_context.platform.baseline_records import record_baseline
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.platform_settings import PlatformSettings, PoolRef
from tenant_context.platform.tenant_records import DeploymentRecord
from tenant_context.tenancy import POOLED_DEPLOYMENT

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_dynamodb import DynamoDBClient

PLATFORM_SETTINGS = "Custom::PlatformSettings"
TENANT_DEPLOYMENT = "Custom::TenantDeployment"

Properties = Mapping[str, Any]
Put = Callable[[str, bytes], None]


class DeploymentRecords:
    def __init__(self, dynamodb: DynamoDBClient, apigateway: APIGatewayClient,
                 deployments: Deployments, tenant_details: str = TENANT_DETAILS_TABLE.name
                 ) -> None:
        self._dynamodb = dynamodb
        self._apigateway = apigateway
        self._deployments = deployments
        self._tenant_details = tenant_details

    def apply(self, resource_type: str, properties: Properties) -> str:
        """Record what the resource describes; returns its physical id."""
        if resource_type == PLATFORM_SETTINGS:
            return self._platform_settings(properties)
        if resource_type == TENANT_DEPLOYMENT:
            return self._tenant_deployment(properties)
        raise ValueError(f"unknown custom resource type {resource_type}")

    def _key_value(self, key_id: str) -> str:
        """Stacks know key ids; API Gateway meters the value the authorizer returns."""
        value: str = self._apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"]
        return value

    def _platform_settings(self, properties: Properties) -> str:
        key_values = {plan: self._key_value(key_id)
                      for plan, key_id in properties["ApiKeyIds"].items()}
        settings = PlatformSettings(
            operations_pool=PoolRef(properties["OperationsUserPoolId"],
                                    properties["OperationsAppClientId"]),
            pooled_pool=PoolRef(properties["PooledUserPoolId"], properties["PooledAppClientId"]),
            admin_api_ids=frozenset(properties["AdminApiIds"]),
            admin_api_url=properties["AdminApiUrl"], api_keys=key_values)
        record_baseline(self._dynamodb, settings, DeploymentRecord(
            POOLED_DEPLOYMENT, properties["StackName"], frozenset(properties["PooledApiIds"]),
            properties["PooledApiUrl"]))
        return f"platform-settings-{POOLED_DEPLOYMENT}"

    def _tenant_deployment(self, properties: Properties) -> str:
        tenant_id = properties["TenantId"]
        if self._deployments.get(tenant_id) is None:
            raise LookupError(f"no deployment was requested for tenant {tenant_id}: "
                              f"register the tenant before deploying its stack")
        # The key first: once the row is active the tenant's API is called, and by then its
        # record must name the key that the tenant's own plan knows.
        try:
            self._dynamodb.update_item(
                TableName=self._tenant_details, Key=to_item({"tenantId": tenant_id}),
                UpdateExpression="SET apiKey = :key",
                ConditionExpression="attribute_exists(tenantId)",
                ExpressionAttributeValues=to_item({
                    ":key": self._key_value(properties["ApiKeyId"])}))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise LookupError(f"tenant {tenant_id} has a deployment row but no tenant record: "
                              f"register the tenant before deploying its stack") from None
        self._deployments.record_active(tenant_id, frozenset(properties["ApiIds"]),
                                        properties["ApiUrl"])
        return f"tenant-deployment-{tenant_id}"


def handle_custom_resource(event: Mapping[str, Any], records: Callable[[], DeploymentRecords],
                           put: Put | None = None) -> dict[str, Any]:
    """CloudFormation's custom-resource protocol: do the work, then PUT the outcome to the
    presigned ``ResponseURL``. Without that PUT the stack waits for the resource's
    ``ServiceTimeout`` (an hour by default), so everything that can fail runs inside the try,
    building ``records`` (configuration, clients) included: any failure is a FAILED response
    with its reason. A Delete needs no records at all (deleting records nothing away), so it
    succeeds even when they cannot be built, and a stack can always be deleted."""
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    response = {"Status": "SUCCESS", "Reason": "", "PhysicalResourceId": physical_id,
                "StackId": event["StackId"], "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"], "Data": {}}
    try:
        if event["RequestType"] in ("Create", "Update"):
            response["PhysicalResourceId"] = records().apply(event["ResourceType"],
                                                             event["ResourceProperties"])
    except Exception as error:
        response |= {"Status": "FAILED", "Reason": f"{type(error).__name__}: {error}"}
    (put or _put)(event["ResponseURL"], json.dumps(response).encode())
    return response


def _put(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": ""})  # as presigned
    with urllib.request.urlopen(request, timeout=30):
        pass
