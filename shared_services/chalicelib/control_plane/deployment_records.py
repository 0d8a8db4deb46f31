"""CloudFormation custom resources that tell the control plane what a stack deployed.

A stack knows its pools, API ids, URLs and API key ids only once it is created; the code reads
them from tables. Rather than a deployer writing them after the fact (and forgetting to, or
writing a stale copy on the next update), each stack carries a custom resource whose handler
(this module, behind the shared-services app's ``deployment_records`` function) records them:

- ``Custom::PlatformSettings`` in the pooled stack: the platform settings (usage plan ids
  included: registration puts each tenant's own key on its tier's plan), the first SystemAdmin's
  user record and the pooled deployment's row (``tenant_context.platform.baseline_records``, which
  the local bootstrap uses too). A pooled-tier tenant registered before per-tenant keys gets its
  own key here (named on its record), before the stack update deletes the tier keys it shared;
- ``Custom::TenantApiKey`` in a Platinum tenant's stack: the id of the tenant's own API key
  (``ApiKeyId``; issued at registration and found by name, or issued now for a tenant from before
  per-tenant keys), which the stack adds to the plan of the tenant's own API;
- ``Custom::TenantDeployment`` in a Platinum tenant's stack, once that key is on the plan: the
  key's value on the tenant's record (``apiKey``, what the authorizer returns as
  ``usageIdentifierKey``), then its API ids and URL on the row its registration requested
  (``Deployments.record_active``). A stack for a tenant nobody registered fails instead of
  inventing a row.

Deleting either resource removes nothing: the stacks retain their data, and so do the records.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.baseline_records import record_baseline
from tenant_context.platform.definitions import SETTINGS_TABLE, TENANT_DETAILS_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.platform_settings import PlatformSettings, PoolRef, read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys, TenantKey
from tenant_context.platform.tenant_records import DeploymentRecord, TenantRecord, tenant_record
from tenant_context.tenancy import POOLED_DEPLOYMENT

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_dynamodb import DynamoDBClient

PLATFORM_SETTINGS = "Custom::PlatformSettings"
TENANT_API_KEY = "Custom::TenantApiKey"
TENANT_DEPLOYMENT = "Custom::TenantDeployment"

Properties = Mapping[str, Any]
Put = Callable[[str, bytes], None]


@dataclass(frozen=True)
class Applied:
    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)  # what Fn::GetAtt reads


class DeploymentRecords:
    def __init__(self, dynamodb: DynamoDBClient, apigateway: APIGatewayClient,
                 deployments: Deployments, tenant_details: str = TENANT_DETAILS_TABLE.name
                 ) -> None:
        self._dynamodb = dynamodb
        self._apigateway = apigateway
        self._deployments = deployments
        self._tenant_details = tenant_details

    def apply(self, resource_type: str, properties: Properties) -> Applied:
        """Record what the resource describes."""
        if resource_type == PLATFORM_SETTINGS:
            return Applied(self._platform_settings(properties))
        if resource_type == TENANT_API_KEY:
            return self._tenant_api_key(properties)
        if resource_type == TENANT_DEPLOYMENT:
            return Applied(self._tenant_deployment(properties))
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
            admin_api_url=properties["AdminApiUrl"], api_keys=key_values,
            usage_plan_ids=dict(properties.get("UsagePlanIds", {})))
        record_baseline(self._dynamodb, settings, DeploymentRecord(
            POOLED_DEPLOYMENT, properties["StackName"], frozenset(properties["PooledApiIds"]),
            properties["PooledApiUrl"]))
        keys = TenantApiKeys(self._apigateway, lambda: settings.usage_plan_ids)
        for record in self._tenant_records():
            if record.tier.is_pooled:  # (a Platinum tenant's own stack does its own)
                own = self._own_key(keys, record)
                if own.value != record.api_key:
                    self._name_key(record.tenant_id, own.value)
        return f"platform-settings-{POOLED_DEPLOYMENT}"

    def _tenant_api_key(self, properties: Properties) -> Applied:
        tenant_id = properties["TenantId"]
        record = self._tenant_record(tenant_id)
        if record is None:
            raise LookupError(f"tenant {tenant_id} has no tenant record: register the tenant "
                              f"before deploying its stack")
        keys = TenantApiKeys(self._apigateway, lambda: read_settings(
            self._dynamodb, SETTINGS_TABLE.name).usage_plan_ids)
        return Applied(f"tenant-api-key-{tenant_id}",
                       {"ApiKeyId": self._own_key(keys, record).key_id})

    @staticmethod
    def _own_key(keys: TenantApiKeys, record: TenantRecord) -> TenantKey:
        """The key the record names if it is the tenant's own, else an own key the tenant
        already has, else a new one (a tenant from before per-tenant keys). Not named on the
        record here: that waits until the key is on every plan the tenant's calls need."""
        held = keys.keys_of(record.tenant_id)
        return (next((key for key in held if key.value == record.api_key), None)
                or (held[0] if held else keys.issue(record.tenant_id, record.tier.value)))

    def _name_key(self, tenant_id: str, value: str) -> None:
        """The tenant's record names the key the authorizer returns for it."""
        try:
            self._dynamodb.update_item(
                TableName=self._tenant_details, Key=to_item({"tenantId": tenant_id}),
                UpdateExpression="SET apiKey = :key",
                ConditionExpression="attribute_exists(tenantId)",
                ExpressionAttributeValues=to_item({":key": value}))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise LookupError(f"tenant {tenant_id} has a deployment row but no tenant record: "
                              f"register the tenant before deploying its stack") from None

    def _tenant_record(self, tenant_id: str) -> TenantRecord | None:
        item = self._dynamodb.get_item(TableName=self._tenant_details,
                                       Key=to_item({"tenantId": tenant_id}),
                                       ConsistentRead=True).get("Item")
        return tenant_record(from_item(item) if item else None)

    def _tenant_records(self) -> Iterator[TenantRecord]:
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._tenant_details, ConsistentRead=True)
        for page in pages:
            for item in page["Items"]:
                record = tenant_record(from_item(item))
                if record is not None:  # not an offboarded tenant's tombstone
                    yield record

    def _tenant_deployment(self, properties: Properties) -> str:
        tenant_id = properties["TenantId"]
        if self._deployments.get(tenant_id) is None:
            raise LookupError(f"no deployment was requested for tenant {tenant_id}: "
                              f"register the tenant before deploying its stack")
        # The key first: once the row is active the tenant's API is called, and by then its
        # record must name the key that the tenant's own plan knows.
        self._name_key(tenant_id, self._key_value(properties["ApiKeyId"]))
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
            applied = records().apply(event["ResourceType"], event["ResourceProperties"])
            response |= {"PhysicalResourceId": applied.physical_id, "Data": dict(applied.data)}
    except Exception as error:
        response |= {"Status": "FAILED", "Reason": f"{type(error).__name__}: {error}"}
    (put or _put)(event["ResponseURL"], json.dumps(response).encode())
    return response


def _put(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": ""})  # as presigned
    with urllib.request.urlopen(request, timeout=30):
        pass
