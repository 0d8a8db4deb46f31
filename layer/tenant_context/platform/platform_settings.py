"""Platform-wide settings kept in the settings table: pools, the admin API, usage plans.

Written once per environment by the deployer (``pipeline``: the local bootstrap, or after the
CloudFormation stack is up in AWS) and read by the authorizer and the shared services. The
setting names live only here, in both directions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item
from tenant_context.errors import ConfigurationError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class PoolRef:
    user_pool_id: str
    app_client_id: str


ADMIN_API_IDS = "apiIds-admin"  # the admin API's ids, comma-separated


def api_key_setting(plan: str) -> str:
    """The setting holding the value of ``plan``'s shared API key. By name, so a reader that
    needs one or two settings (the authorizer) reads those items by key, not the table."""
    return f"apiKey-{plan}"


def api_ids(value: str) -> frozenset[str]:
    """The ids in a comma-separated setting (``ADMIN_API_IDS``)."""
    return frozenset(filter(None, value.split(",")))


@dataclass(frozen=True)
class PlatformSettings:
    operations_pool: PoolRef
    pooled_pool: PoolRef
    admin_api_ids: frozenset[str]
    admin_api_url: str
    api_keys: Mapping[str, str] = field(default_factory=dict)  # usage-plan name -> key value
    # usage-plan name -> plan id: where each tenant's own key goes (tenant_api_keys)
    usage_plan_ids: Mapping[str, str] = field(default_factory=dict)

    def to_values(self) -> dict[str, str]:
        values = {
            "userPoolId-operations": self.operations_pool.user_pool_id,
            "appClientId-operations": self.operations_pool.app_client_id,
            "userPoolId-pooled": self.pooled_pool.user_pool_id,
            "appClientId-pooled": self.pooled_pool.app_client_id,
            ADMIN_API_IDS: ",".join(sorted(self.admin_api_ids)),
            "apiGatewayUrl-admin": self.admin_api_url,
        }
        values |= {api_key_setting(plan): key for plan, key in self.api_keys.items()}
        values |= {f"usagePlanId-{plan}": plan_id
                   for plan, plan_id in self.usage_plan_ids.items()}
        return values

    def to_items(self) -> list[dict[str, str]]:
        return [{"settingName": name, "settingValue": value}
                for name, value in sorted(self.to_values().items())]

    @classmethod
    def from_items(cls, items: Iterable[Mapping[str, object]]) -> PlatformSettings:
        values = {str(item["settingName"]): str(item.get("settingValue", "")) for item in items}

        def need(name: str) -> str:
            if not values.get(name):
                raise ConfigurationError(f"platform setting {name} is missing: run the deployer")
            return values[name]

        return cls(
            operations_pool=PoolRef(need("userPoolId-operations"), need("appClientId-operations")),
            pooled_pool=PoolRef(need("userPoolId-pooled"), need("appClientId-pooled")),
            admin_api_ids=api_ids(need(ADMIN_API_IDS)),
            admin_api_url=need("apiGatewayUrl-admin"),
            api_keys=_prefixed(values, "apiKey-"),
            usage_plan_ids=_prefixed(values, "usagePlanId-"),
        )


def _prefixed(values: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {name.removeprefix(prefix): value for name, value in values.items()
            if name.startswith(prefix) and value}


def read_settings(dynamodb: DynamoDBClient, table_name: str) -> PlatformSettings:
    """The settings table, read whole (it holds a few dozen items)."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        response = dynamodb.scan(**request)
        items += [from_item(item) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return PlatformSettings.from_items(items)
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
