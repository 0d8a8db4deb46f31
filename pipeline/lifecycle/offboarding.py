"""Offboarding a tenant, one idempotent step at a time (the steps and the record:
``tenant_context.platform.tenant_offboarding``): after the grace period its data is exported,
then erased everywhere the platform keeps it, then a verification pass looks for anything left
under its id. The same code on both targets: the export store and any extra check (the local
emulator's recording) are passed in.

What is exported: its record (less its API key), its users and every item, and its usage for
its final invoice: the billing events (``pipeline.usage.billing_export``) of the current and
the previous month and of every earlier month it has usage rows for, all final (its usage ends
with its erasure), under ``usage`` in the same document.

What is erased: every item under the tenant's keys in the pooled tables (its shards and any
write gate a move left), or its own deployment (tables, stack, row); its users (Cognito and
their mapping rows) and its Cognito group (pooled pool) or its own pool; its API keys; its
usage rows (every hour and day in the usage table); its name claim (the name is released); its
record, replaced by a tombstone (id, when, export location, the audit and this report).

What remains by design, with its lifetime (README "Offboarding"): DynamoDB point-in-time
recovery backups of the tables that held its items (35 days), CloudWatch log groups and API
access logs (their retention: 30 days by default), and the export itself until its link expires.

Every step is safe to run again: a step killed at any AWS call is repeated from its start;
deletions of what is already gone are what was wanted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.lifecycle.item_copy import Side, TenantItemCopier
from pipeline.lifecycle.tenant_move import remove_own_deployment
from pipeline.usage.billing_export import BillingExport, events_document
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.cost_model import Prices, published_prices
from tenant_context.platform.definitions import (
    POOLED_DATA_TABLES,
    TENANT_ID_ATTRIBUTE,
    USAGE_TABLE,
    data_table,
    deployment_data_tables,
    tenant_group,
    tenant_name_key,
    tenant_pool,
)
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.platform_settings import PlatformSettings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_offboarding import (
    OFFBOARDING_ATTRIBUTE,
    OffboardingConflict,
    OffboardingStep,
    TenantOffboarding,
    TenantOffboardings,
    tombstone,
)
from tenant_context.platform.tenant_records import TenantRecord, tenant_record, utc_timestamp
from tenant_context.platform.usage_records import UsageRecords
from tenant_context.service.sharding import SHARDS
from tenant_context.service.tenant_items import PARTITION_KEY
from tenant_context.service.tenant_tables import Isolation
from tenant_context.service.write_gate import gate_partition
from tenant_context.tenancy import POOLED_DEPLOYMENT, tenant_key_prefix
from tenant_context.tenant_services import TENANT_SERVICES

if TYPE_CHECKING:
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_dynamodb import DynamoDBClient

EXPORT_FORMAT = "serverless-saas-tenant-export/1"
STACK_DELETION_POLL_SECONDS = 30.0  # a silo's stack takes minutes to delete on AWS
# Cognito attributes handed over (never passwords, which Cognito does not give out anyway).
EXPORTED_USER_ATTRIBUTES = ("email", "email_verified", "name", "phone_number")


@dataclass(frozen=True)
class ExportHandle:
    location: str  # where it is kept (s3://bucket/key, or a file path)
    link: str  # what is handed over: expiring on AWS
    expires_at: str


class ExportStore(Protocol):
    """Where exports go: the platform's bucket on AWS (a presigned link), a folder locally."""

    def put(self, tenant_id: str, offboarding_id: str, body: bytes) -> ExportHandle: ...

    def read(self, location: str) -> bytes: ...


class RemainsCheck(Protocol):
    """An extra place to look for the tenant after erasure (locally: the emulator's
    recording), given strings only the tenant's data contains: what -> how many found."""

    def __call__(self, needles: Sequence[str]) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class OffboardingTables:
    tenant_details: str
    tenant_names: str
    tenant_user_mapping: str
    tenant_stack_mapping: str
    usage: str = USAGE_TABLE.name  # the pooled stack's, by the same name on both targets


class OffboardingStepError(Exception):
    """A step failed; the offboarding stays at its step (recorded with the reason)."""


@dataclass(frozen=True)
class Advance:
    offboarding: TenantOffboarding
    wait: float = 0.0

    @property
    def done(self) -> bool:
        return not self.offboarding.step.active


def _plain(value: Any) -> Any:
    """DynamoDB's values as JSON: numbers as numbers, sets as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(inner) for inner in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(inner) for inner in value)
    return value


class TenantOffboarder:
    def __init__(self, dynamodb: DynamoDBClient, cognito: CognitoIdentityProviderClient,
                 cloudformation: CloudFormationClient, keys: TenantApiKeys,
                 settings: Callable[[], PlatformSettings], tables: OffboardingTables,
                 exports: ExportStore, *, checks: Sequence[RemainsCheck] = (),
                 user_erased: Callable[[str, str], None] = lambda pool, user: None,
                 clock: Callable[[], float] = time.time,
                 report: Callable[[str], None] = lambda line: None,
                 prices: Prices | None = None) -> None:
        self._dynamodb = dynamodb
        self._cognito = cognito
        self._cloudformation = cloudformation
        self._keys = keys
        self._settings = settings
        self._tables = tables
        self._exports = exports
        self._checks = checks
        self._user_erased = user_erased  # what else holds a user (locally: its password)
        self._clock = clock
        self._report = report
        self._offboardings = TenantOffboardings(dynamodb, tables.tenant_details, clock=clock)
        self._deployments = Deployments(dynamodb, tables.tenant_stack_mapping)
        self._usage = UsageRecords(dynamodb, tables.usage)
        self._billing = BillingExport(
            dynamodb, tables.usage, tables.tenant_details, prices or published_prices(),
            lambda: datetime.fromtimestamp(self._clock(), UTC))

    # --- driving ------------------------------------------------------------------------------
    def run(self, tenant_id: str, *, sleep: Callable[[float], None] = time.sleep
            ) -> TenantOffboarding:
        while True:
            step = self.advance(tenant_id)
            if step.done:
                return step.offboarding
            if step.wait:
                sleep(step.wait)

    def advance(self, tenant_id: str) -> Advance:
        row = self._offboardings.read(tenant_id)
        raw = (row or {}).get(OFFBOARDING_ATTRIBUTE)
        if row is None or raw is None:
            raise LookupError(f"tenant {tenant_id} has no offboarding")
        offboarding = TenantOffboarding.from_item(raw)
        if not offboarding.step.active:
            return Advance(offboarding)
        try:
            outcome = getattr(self, f"_{offboarding.step.value}")(tenant_id, row, offboarding)
        except OffboardingConflict:
            return Advance(offboarding, 1.0)
        except Exception as error:
            failed = dataclasses.replace(offboarding, attempts=offboarding.attempts + 1,
                                         error=f"{type(error).__name__}: {error}"[:500])
            with contextlib.suppress(Exception):
                self._offboardings.update(tenant_id, offboarding, failed)
            raise OffboardingStepError(f"tenant {tenant_id}'s offboarding failed at "
                                       f"{offboarding.step}: {failed.error}") from error
        if isinstance(outcome, float):
            return Advance(offboarding, outcome)
        return Advance(outcome)

    def _next(self, tenant_id: str, offboarding: TenantOffboarding, action: str,
              **changes: Any) -> TenantOffboarding:
        changed = dataclasses.replace(offboarding, step=offboarding.next_step(), attempts=0,
                                      error="", **changes).audited("offboarder", action)
        self._report(f"tenant {tenant_id}: {action}")
        return self._offboardings.update(tenant_id, offboarding, changed)

    # --- the steps ----------------------------------------------------------------------------
    def _grace(self, tenant_id: str, row: Mapping[str, Any],
               offboarding: TenantOffboarding) -> TenantOffboarding | float:
        remaining = offboarding.grace_until - self._clock()
        if remaining > 0:
            return remaining
        return self._next(tenant_id, offboarding, "grace period over")

    def _exporting(self, tenant_id: str, row: Mapping[str, Any],
                   offboarding: TenantOffboarding) -> TenantOffboarding:
        record = tenant_record(row)
        if record is None:
            raise RuntimeError(f"tenant {tenant_id} has no record to export")
        document, counts = self._export_document(record, offboarding)
        handle = self._exports.put(tenant_id, offboarding.offboarding_id,
                                   json.dumps(document, indent=1, sort_keys=True).encode())
        return self._next(tenant_id, offboarding, f"exported to {handle.location}",
                          export_location=handle.location, export_link=handle.link,
                          export_expires_at=handle.expires_at, exported=counts)

    def _export_document(self, record: TenantRecord, offboarding: TenantOffboarding
                         ) -> tuple[dict[str, Any], dict[str, int]]:
        tenant = {key: value for key, value in record.to_item().items() if key != "apiKey"}
        users = [self._exported_user(user) for user in self._user_rows(record.tenant_id)]
        items = {side.service.item: [_plain(from_item(item)) for page in
                                     TenantItemCopier(self._dynamodb, record.tenant_id)
                                     .pages(side) for item in page]
                 for side in self._data_sides(record)}
        billing = self._billing.final_invoice(record)
        counts = {"users": len(users), **{kind: len(found) for kind, found in items.items()},
                  "usage events": len(billing)}
        exported_at = datetime.fromtimestamp(self._clock(), UTC)
        return ({"format": EXPORT_FORMAT, "offboardingId": offboarding.offboarding_id,
                 "exportedAt": utc_timestamp(), "tenant": tenant, "users": users,
                 "items": items, "usage": events_document(billing, exported_at)}, counts)

    def _exported_user(self, row: Mapping[str, Any]) -> dict[str, Any]:
        user: dict[str, Any] = {"userName": row["userName"], "role": row.get("userRole"),
                                "enabled": row.get("enabled"),
                                "createdAt": row.get("createdAt", "")}
        try:
            found = self._cognito.admin_get_user(UserPoolId=str(row["userPoolId"]),
                                                 Username=str(row["userName"]))
        except self._cognito.exceptions.UserNotFoundException:
            return user
        attributes = {entry["Name"]: entry["Value"] for entry in found["UserAttributes"]}
        return user | {name: attributes[name] for name in EXPORTED_USER_ATTRIBUTES
                       if name in attributes}

    def _erasing(self, tenant_id: str, row: Mapping[str, Any],
                 offboarding: TenantOffboarding) -> TenantOffboarding:
        record = tenant_record(row)
        if record is None:
            raise RuntimeError(f"tenant {tenant_id} has no record to erase")
        erased = self._erase_data(record) | self._erase_users(record)
        before = len(self._keys.keys_of(tenant_id))
        self._keys.remove(tenant_id)
        erased["apiKeys"] = before
        erased["usageRows"] = self._usage.remove_tenant(tenant_id)  # exported before
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.delete_item(
                TableName=self._tables.tenant_names,
                Key=to_item({"tenantNameKey": tenant_name_key(record.tenant_name)}),
                ConditionExpression="tenantId = :tenant",
                ExpressionAttributeValues=to_item({":tenant": tenant_id}))
        erased["nameClaims"] = 1
        changed = dataclasses.replace(offboarding, step=OffboardingStep.VERIFYING, attempts=0,
                                      error="", erased=erased).audited("offboarder", "erased")
        try:  # the record becomes its tombstone, with the offboarding's next state in it
            self._dynamodb.put_item(
                TableName=self._tables.tenant_details, Item=to_item(tombstone(tenant_id,
                                                                              changed)),
                ConditionExpression="#off.#id = :id AND #off.#step = :step",
                ExpressionAttributeNames={"#off": OFFBOARDING_ATTRIBUTE,
                                          "#id": "offboardingId", "#step": "step"},
                ExpressionAttributeValues=to_item({":id": offboarding.offboarding_id,
                                                   ":step": offboarding.step.value}))
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise OffboardingConflict("the offboarding changed meanwhile") from None
        self._report(f"tenant {tenant_id}: erased {erased}")
        return changed

    def _erase_data(self, record: TenantRecord) -> dict[str, int]:
        tenant_id = record.tenant_id
        erased: dict[str, int] = {}
        copier = TenantItemCopier(self._dynamodb, tenant_id)
        for side in self._sides(POOLED_DEPLOYMENT, Isolation.POOLED):
            removed = copier.remove_all(side)
            for gate in self._gate_keys(side, tenant_id):  # what a move left
                self._dynamodb.delete_item(TableName=side.table, Key=gate)
            if removed:
                erased[side.service.item] = erased.get(side.service.item, 0) + removed
        if not record.tier.is_pooled or self._deployments.get(tenant_id) is not None:
            for side in self._sides(tenant_id, Isolation.SILO):
                with contextlib.suppress(self._dynamodb.exceptions.ResourceNotFoundException):
                    erased[side.service.item] = erased.get(side.service.item, 0) + \
                        copier.count(side)
            erased["tables"] = remove_own_deployment(
                self._dynamodb, self._cloudformation, self._deployments, tenant_id)
            erased["stacks"] = 1
        return erased

    def _gate_keys(self, side: Side, tenant_id: str) -> list[dict[str, Any]]:
        found = self._dynamodb.query(
            TableName=side.table, ConsistentRead=True, KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
            ExpressionAttributeValues={":pk": {"S": gate_partition(tenant_id)}})
        return [{PARTITION_KEY: item[PARTITION_KEY],
                 side.service.id_attribute: item[side.service.id_attribute]}
                for item in found.get("Items", [])]

    def _erase_users(self, record: TenantRecord) -> dict[str, int]:
        tenant_id = record.tenant_id
        users = 0
        for row in self._user_rows(tenant_id):
            with contextlib.suppress(self._cognito.exceptions.UserNotFoundException,
                                     self._cognito.exceptions.ResourceNotFoundException):
                self._cognito.admin_delete_user(UserPoolId=str(row["userPoolId"]),
                                                Username=str(row["userName"]))
            self._user_erased(str(row["userPoolId"]), str(row["userName"]))
            self._dynamodb.delete_item(TableName=self._tables.tenant_user_mapping,
                                       Key=to_item({"tenantId": tenant_id,
                                                    "userName": row["userName"]}))
            users += 1
        pooled_pool = self._settings().pooled_pool.user_pool_id
        if record.user_pool_id == pooled_pool:
            with contextlib.suppress(self._cognito.exceptions.ResourceNotFoundException):
                self._cognito.delete_group(UserPoolId=pooled_pool,
                                           GroupName=tenant_group(tenant_id))
            return {"users": users, "groups": 1}
        with contextlib.suppress(self._cognito.exceptions.ResourceNotFoundException):
            self._cognito.delete_user_pool(UserPoolId=record.user_pool_id)
        return {"users": users, "userPools": 1}

    def _verifying(self, tenant_id: str, row: Mapping[str, Any],
                   offboarding: TenantOffboarding) -> TenantOffboarding | float:
        if self._stack_deleting(stack_name(tenant_id)):
            return STACK_DELETION_POLL_SECONDS  # CloudFormation is still at it: not a failure
        # A meter's last flush of requests recorded before the deactivation may land after the
        # erasure (within its flush interval: only a grace period shorter than that, or a Lambda
        # container frozen with counts and invoked again, lets it); those rows are removed here
        # rather than found for ever (they are not in the export).
        late = self._usage.remove_tenant(tenant_id)
        if late:
            self._report(f"tenant {tenant_id}: {late} usage rows written after the erasure "
                         f"removed")
        remaining = self.remains(tenant_id, row)
        needles = self._needles(tenant_id, offboarding)
        for check in self._checks:
            remaining |= {f"{what}": count for what, count in check(needles).items()}
        left = {what: count for what, count in remaining.items() if count}
        if left:
            changed = dataclasses.replace(offboarding, remaining=remaining,
                                          attempts=offboarding.attempts + 1,
                                          error=f"still found: {left}")
            self._offboardings.update(tenant_id, offboarding, changed)
            raise RuntimeError(f"the verification still finds {left}")
        erased = dict(offboarding.erased)
        if late:
            erased["lateUsageRows"] = erased.get("lateUsageRows", 0) + late
        return self._next(tenant_id, offboarding, "verified: nothing left", remaining=remaining,
                          erased=erased)

    def _needles(self, tenant_id: str, offboarding: TenantOffboarding) -> list[str]:
        """What only the tenant's data contains: its id, its users' names (unique in a pool)
        and its items' ids, from the export (which holds them until it expires). Not emails
        or names of people: another tenant's user may have the same, and finding theirs would
        say nothing about this tenant's erasure (its users are found by user name)."""
        needles = [tenant_id]
        with contextlib.suppress(Exception):  # no export to read: the id alone
            document = json.loads(self._exports.read(offboarding.export_location))
            for user in document.get("users", []):
                needles += [str(user["userName"])] if user.get("userName") else []
            for service in TENANT_SERVICES:
                needles += [str(item[service.id_attribute]) for item in
                            document.get("items", {}).get(service.item, [])]
        return needles

    def remains(self, tenant_id: str, row: Mapping[str, Any] | None = None) -> dict[str, int]:
        """Everything the platform holds under the tenant's id, counted (zero expected after
        erasure): the verification pass, and what a dry run reports before."""
        prefix = tenant_key_prefix(tenant_id)
        found: dict[str, int] = {}
        for table in POOLED_DATA_TABLES:  # a filtered scan: a check, not a request path
            pages = self._dynamodb.get_paginator("scan").paginate(
                TableName=table.name, Select="COUNT", ConsistentRead=True,
                FilterExpression="begins_with(#pk, :prefix)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":prefix": {"S": prefix}})
            found[f"items in {table.name}"] = sum(page.get("Count", 0) for page in pages)
        found["own tables"] = sum(self._table_exists(table.name)
                                  for table in deployment_data_tables(tenant_id))
        found["own stack"] = int(self._stack_exists(stack_name(tenant_id)))
        found["deployment row"] = int(self._deployments.get(tenant_id) is not None)
        found["user rows"] = len(list(self._user_rows(tenant_id)))
        found["pooled pool users"] = self._pooled_users(tenant_id)
        found["pooled pool group"] = int(self._group_exists(tenant_id))
        found["own user pool"] = int(self._own_pool_exists(tenant_id))
        found["api keys"] = len(self._keys.keys_of(tenant_id))
        found["name claims"] = self._name_claims(tenant_id)
        found["usage rows"] = self._usage.row_count(tenant_id)
        row = row if row is not None else self._offboardings.read(tenant_id)
        found["tenant record"] = int(tenant_record(row) is not None)
        return found

    # --- reads --------------------------------------------------------------------------------
    def _sides(self, deployment: str, isolation: Isolation) -> list[Side]:
        return [Side(service, data_table(service, deployment).name, SHARDS[isolation])
                for service in TENANT_SERVICES]

    def _data_sides(self, record: TenantRecord) -> list[Side]:
        if record.tier.is_pooled:
            return self._sides(POOLED_DEPLOYMENT, Isolation.POOLED)
        return self._sides(record.tenant_id, Isolation.SILO)

    def _user_rows(self, tenant_id: str) -> Iterator[dict[str, Any]]:
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._tables.tenant_user_mapping, ConsistentRead=True,
            KeyConditionExpression="tenantId = :tenant",
            ExpressionAttributeValues=to_item({":tenant": tenant_id}))
        for page in pages:
            yield from (from_item(item) for item in page.get("Items", []))

    def _table_exists(self, name: str) -> bool:
        """By name (no right to list every table is needed); one being deleted still counts."""
        try:
            self._dynamodb.describe_table(TableName=name)
        except self._dynamodb.exceptions.ResourceNotFoundException:
            return False
        return True

    def _stack_deleting(self, name: str) -> bool:
        try:
            stacks = self._cloudformation.describe_stacks(StackName=name)["Stacks"]
        except self._cloudformation.exceptions.ClientError:
            return False
        return any(stack["StackStatus"] == "DELETE_IN_PROGRESS" for stack in stacks)

    def _stack_exists(self, name: str) -> bool:
        try:
            stacks = self._cloudformation.describe_stacks(StackName=name)["Stacks"]
        except self._cloudformation.exceptions.ClientError:
            return False  # "does not exist"
        return any(stack["StackStatus"] != "DELETE_COMPLETE" for stack in stacks)

    def _pooled_users(self, tenant_id: str) -> int:
        pool = self._settings().pooled_pool.user_pool_id
        count = 0
        for page in self._cognito.get_paginator("list_users").paginate(UserPoolId=pool):
            for user in page.get("Users", []):
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                count += attributes.get(TENANT_ID_ATTRIBUTE) == tenant_id
        return count

    def _group_exists(self, tenant_id: str) -> bool:
        try:
            self._cognito.get_group(UserPoolId=self._settings().pooled_pool.user_pool_id,
                                    GroupName=tenant_group(tenant_id))
        except self._cognito.exceptions.ResourceNotFoundException:
            return False
        return True

    def _own_pool_exists(self, tenant_id: str) -> bool:
        name = tenant_pool(tenant_id).name
        for page in self._cognito.get_paginator("list_user_pools").paginate(
                PaginationConfig={"PageSize": 60}):
            if any(pool["Name"] == name for pool in page.get("UserPools", [])):
                return True
        return False

    def _name_claims(self, tenant_id: str) -> int:
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._tables.tenant_names, Select="COUNT", ConsistentRead=True,
            FilterExpression="tenantId = :tenant",
            ExpressionAttributeValues=to_item({":tenant": tenant_id}))
        return sum(page.get("Count", 0) for page in pages)
