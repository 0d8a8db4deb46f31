"""Tenant records and tenant names in DynamoDB.

A name claim (tenant-names table) is written with a condition before anything else of a
registration exists, so of two registrations of one name exactly one proceeds. A claim stays
``pending`` until the registration completes, and then maps the name to the tenant. A complete
claim's copy of the name, email and tier is rewritten by a rename; a TenantAdmin's contact
change cannot write the names table (its session policy), so readers that need the tenant's
current email or tier take them from the tenant record, never from the claim.
"""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from tenant_context.attribute_values import from_item, set_clause, to_item
from tenant_context.errors import BadRequestError, ConflictError
from tenant_context.platform.definitions import tenant_name_key
from tenant_context.platform.tenant_records import TenantRecord, tenant_record
from tenant_context.tenancy import Tier

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class ClaimStatus(StrEnum):
    PENDING = "pending"  # a registration is under way (or died: see STALE_AFTER_SECONDS)
    COMPLETE = "complete"  # the name belongs to a registered tenant


@dataclass(frozen=True)
class NameClaim:
    name_key: str
    tenant_id: str
    tenant_name: str
    tenant_email: str
    tier: Tier
    status: ClaimStatus
    started_at: float  # epoch seconds: a pending claim older than the function timeout is stale
    user_pool_id: str = ""  # a Platinum tenant's pool, once created (undo needs its id)

    def to_item(self) -> dict[str, Any]:
        return {"tenantNameKey": self.name_key, "tenantId": self.tenant_id,
                "tenantName": self.tenant_name, "tenantEmail": self.tenant_email,
                "tenantTier": self.tier.value, "status": self.status.value,
                "startedAt": str(self.started_at), "userPoolId": self.user_pool_id}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> NameClaim:
        return cls(str(item["tenantNameKey"]), str(item["tenantId"]), str(item["tenantName"]),
                   str(item.get("tenantEmail", "")), Tier.parse(item.get("tenantTier")),
                   ClaimStatus(item["status"]), float(item.get("startedAt", 0)),
                   str(item.get("userPoolId", "")))


class NameTaken(Exception):  # noqa: N818 - an outcome, not a fault
    def __init__(self, claim: NameClaim) -> None:
        super().__init__(claim.name_key)
        self.claim = claim


class TenantStore:
    def __init__(self, dynamodb: DynamoDBClient, details_table: str, names_table: str) -> None:
        self._dynamodb = dynamodb
        self._details = details_table
        self._names = names_table

    # --- names --------------------------------------------------------------------------------
    def claim_name(self, claim: NameClaim, *, replacing: NameClaim | None = None) -> None:
        """Claim a free name, or take over ``replacing`` if it is still what is stored."""
        if replacing is None:
            condition: dict[str, Any] = {
                "ConditionExpression": "attribute_not_exists(tenantNameKey)"}
        else:
            condition = {"ConditionExpression": "tenantId = :old",
                         "ExpressionAttributeValues": to_item({":old": replacing.tenant_id})}
        try:
            self._dynamodb.put_item(TableName=self._names, Item=to_item(claim.to_item()),
                                    **condition)
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            current = self.read_claim(claim.name_key)
            if current is None:  # released in between: try once more
                self.claim_name(claim)
                return
            raise NameTaken(current) from None

    def read_claim(self, name_key: str) -> NameClaim | None:
        item = self._dynamodb.get_item(TableName=self._names,
                                       Key=to_item({"tenantNameKey": name_key}),
                                       ConsistentRead=True).get("Item")
        return NameClaim.from_item(from_item(item)) if item else None

    def update_claim(self, name_key: str, tenant_id: str, **values: str) -> None:
        clause = set_clause(values)
        clause["ExpressionAttributeValues"] |= to_item({":tenant": tenant_id})
        self._dynamodb.update_item(TableName=self._names,
                                   Key=to_item({"tenantNameKey": name_key}),
                                   ConditionExpression="tenantId = :tenant", **clause)

    def release_name(self, name_key: str, tenant_id: str) -> None:
        # Not ours (any more): nothing to release.
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.delete_item(TableName=self._names,
                                       Key=to_item({"tenantNameKey": name_key}),
                                       ConditionExpression="tenantId = :tenant",
                                       ExpressionAttributeValues=to_item({":tenant": tenant_id}))

    # --- records ------------------------------------------------------------------------------
    def create(self, record: TenantRecord) -> None:
        self._dynamodb.put_item(TableName=self._details, Item=to_item(record.to_item()),
                                ConditionExpression="attribute_not_exists(tenantId)")

    def delete(self, tenant_id: str) -> None:
        """Only to undo a registration: tenants are deactivated, never deleted."""
        self._dynamodb.delete_item(TableName=self._details, Key=to_item({"tenantId": tenant_id}))

    def get(self, tenant_id: str) -> TenantRecord | None:
        item = self._dynamodb.get_item(TableName=self._details,
                                       Key=to_item({"tenantId": tenant_id}),
                                       ConsistentRead=True).get("Item")
        return tenant_record(from_item(item) if item else None)

    def by_name(self, name: str) -> TenantRecord | None:
        claim = self.read_claim(tenant_name_key(name))
        if claim is None or claim.status is not ClaimStatus.COMPLETE:
            return None
        return self.get(claim.tenant_id)

    def update(self, tenant_id: str, values: dict[str, Any]) -> None:
        """Set attributes of an existing tenant (never creates one)."""
        self._dynamodb.update_item(TableName=self._details, Key=to_item({"tenantId": tenant_id}),
                                   ConditionExpression="attribute_exists(tenantId)",
                                   **set_clause(values))

    def rename(self, record: TenantRecord, new_name: str, values: dict[str, Any]) -> None:
        """Move (or, for a change of case or spacing, rewrite) the name claim and update the
        record in one transaction: the claim always carries the name as the record spells it,
        with the tenant's email and tier as they are after the change."""
        old_key, new_key = tenant_name_key(record.tenant_name), tenant_name_key(new_name)
        claim = {"tenantNameKey": new_key, "tenantId": record.tenant_id,
                 "tenantName": new_name, "tenantEmail": values.get("tenantEmail",
                                                                   record.tenant_email),
                 "tenantTier": values.get("tenantTier", record.tier.value),
                 "status": ClaimStatus.COMPLETE.value, "startedAt": "0",
                 "userPoolId": "" if record.tier.is_pooled else record.user_pool_id}
        ours = {"ConditionExpression": "tenantId = :tenant",
                "ExpressionAttributeValues": to_item({":tenant": record.tenant_id})}
        if new_key == old_key:
            claim_items: list[dict[str, Any]] = [
                {"Put": {"TableName": self._names, "Item": to_item(claim), **ours}}]
        else:
            claim_items = [
                {"Put": {"TableName": self._names, "Item": to_item(claim),
                         "ConditionExpression": "attribute_not_exists(tenantNameKey)"}},
                {"Delete": {"TableName": self._names, "Key": to_item({"tenantNameKey": old_key}),
                            **ours}}]
        items = [*claim_items,
                 {"Update": {"TableName": self._details,
                             "Key": to_item({"tenantId": record.tenant_id}),
                             "ConditionExpression": "attribute_exists(tenantId)",
                             **set_clause(values)}}]
        try:
            # Spread from our attribute-value helpers' dicts, which the stubs cannot follow.
            self._dynamodb.transact_write_items(
                TransactItems=cast("list[TransactWriteItemTypeDef]", items))
        except self._dynamodb.exceptions.TransactionCanceledException:
            if new_key == old_key:
                raise ConflictError("tenantName: the tenant changed meanwhile; please retry",
                                    fields=["tenantName"]) from None
            raise ConflictError(f"tenantName: {new_name!r} is already taken",
                                fields=["tenantName"]) from None

    def scan(self, *, limit: int | None = None, next_token: str | None = None
             ) -> tuple[list[TenantRecord], str | None]:
        """One page (``limit`` given) or every tenant; the token continues a page."""
        request: dict[str, Any] = {"TableName": self._details}
        if next_token:
            request["ExclusiveStartKey"] = _decode_token(next_token)
        tenants: list[TenantRecord] = []
        while True:
            if limit:
                request["Limit"] = limit - len(tenants)
            response = self._dynamodb.scan(**request)
            tenants += [record for record in (tenant_record(from_item(item))
                                              for item in response.get("Items", []))
                        if record is not None]  # an offboarded tenant's tombstone is none
            last_key = response.get("LastEvaluatedKey")
            if not last_key or (limit and len(tenants) >= limit):
                return tenants, _encode_token(last_key) if last_key else None
            request["ExclusiveStartKey"] = last_key


def _encode_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_token(token: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
        tenant_id = key["tenantId"]["S"]
    except (ValueError, KeyError, TypeError):
        raise BadRequestError("nextToken: not a token this API returned",
                              fields=["nextToken"]) from None
    return {"tenantId": {"S": str(tenant_id)}}
