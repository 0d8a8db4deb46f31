"""What the control plane records about tenants, their users and their deployments.

``TenantRecord`` is a row of the tenant-details table, ``UserRecord`` of the tenant-user mapping
table, ``DeploymentRecord`` of the tenant-stack-mapping table (the ``pooled`` row, and one per
Platinum tenant). The authorizer reads all three: which pool may sign a tenant's tokens, whether
the user's role and status are still what the token says, and which APIs the tenant may call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tenant_context.attribute_values import from_item
from tenant_context.tenancy import Role, Tier

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


TOMBSTONE_ATTRIBUTE = "offboardedAt"  # present only on an offboarded tenant's tombstone


def is_tombstone(item: Mapping[str, Any]) -> bool:
    return TOMBSTONE_ATTRIBUTE in item


def tenant_record(item: Mapping[str, Any] | None) -> TenantRecord | None:
    """A tenant's record from its stored row (plain values): None for no row, and for the
    tombstone an offboarded tenant leaves (``tenant_context.platform.tenant_offboarding``),
    which is no tenant any more: every reader treats it as absent."""
    if not item or is_tombstone(item):
        return None
    return TenantRecord.from_item(item)


def every_tenant(dynamodb: DynamoDBClient, table_name: str) -> Iterator[TenantRecord]:
    """Every tenant's record in the tenant-details table ``table_name``, page by page (an
    offboarded tenant's tombstone is no tenant): the operator's commands' whole-fleet view."""
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        for item in page.get("Items", []):
            record = tenant_record(from_item(item))
            if record is not None:
                yield record


@dataclass(frozen=True)
class TenantRecord:
    tenant_id: str
    tenant_name: str
    tier: Tier
    is_active: bool
    user_pool_id: str
    app_client_id: str
    api_key: str
    tenant_email: str = ""
    tenant_phone: str = ""
    tenant_address: str = ""
    created_at: str = ""
    modified_at: str = ""

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> TenantRecord:
        return cls(
            tenant_id=str(item["tenantId"]),
            tenant_name=str(item.get("tenantName", "")),
            tier=Tier.parse(item.get("tenantTier")),
            is_active=item.get("isActive") is True,
            user_pool_id=str(item.get("userPoolId", "")),
            app_client_id=str(item.get("appClientId", "")),
            api_key=str(item.get("apiKey", "")),
            tenant_email=str(item.get("tenantEmail", "")),
            tenant_phone=str(item.get("tenantPhone", "")),
            tenant_address=str(item.get("tenantAddress", "")),
            created_at=str(item.get("createdAt", "")),
            modified_at=str(item.get("modifiedAt", "")),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "tenantName": self.tenant_name,
            "tenantTier": self.tier.value,
            "isActive": self.is_active,
            "userPoolId": self.user_pool_id,
            "appClientId": self.app_client_id,
            "apiKey": self.api_key,
            "tenantEmail": self.tenant_email,
            "tenantPhone": self.tenant_phone,
            "tenantAddress": self.tenant_address,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
        }


@dataclass(frozen=True)
class UserRecord:
    """A row of the tenant-user mapping table: the control plane's record of a user.

    The authorizer trusts a token's role only if it matches this record and the user is
    enabled, so a role change or a disable takes effect without waiting for tokens to expire.
    Contact details (email) live in Cognito only.
    """

    tenant_id: str  # OPERATIONS_TENANT_ID for the SaaS provider's staff
    user_name: str
    role: Role
    user_pool_id: str
    enabled: bool
    created_at: str = ""
    modified_at: str = ""
    suspended_with_tenant: bool = False  # disabled by the tenant's deactivation, not one by one

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UserRecord:
        return cls(
            tenant_id=str(item["tenantId"]),
            user_name=str(item["userName"]),
            role=Role.parse(item.get("userRole")),
            user_pool_id=str(item.get("userPoolId", "")),
            enabled=item.get("enabled") is True,
            created_at=str(item.get("createdAt", "")),
            modified_at=str(item.get("modifiedAt", "")),
            suspended_with_tenant=item.get("suspendedWithTenant") is True,
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "userName": self.user_name,
            "userRole": self.role.value,
            "userPoolId": self.user_pool_id,
            "enabled": self.enabled,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "suspendedWithTenant": self.suspended_with_tenant,
        }


class DeploymentStatus(StrEnum):
    PROVISIONING = "provisioning"  # requested by a registration, not yet up
    ACTIVE = "active"  # up: its API ids and URL are recorded
    FAILED = "failed"  # its first deployment failed: the row says why and what staff can do


class DesiredState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # the tenant is deactivated: its services stop, its data stays


class ReleaseResult(StrEnum):
    DEPLOYED = "deployed"
    UNCHANGED = "unchanged"  # the stack was already what the release asks for
    FAILED = "failed"  # rolled back: the deployment keeps serving its previous release


@dataclass(frozen=True)
class ReleaseState:
    """What the release pipeline knows of a deployment: which release it runs, how the last
    attempt went, and how staff want it treated in a rollout.

    ``wave`` None is the last wave (where a new tenant lands); ``apply_latest_release`` False
    pins the deployment to the release it runs (a rollout skips it)."""

    release_id: str = ""  # "" until a release was recorded on the row
    released_at: str = ""
    result: ReleaseResult | None = None
    wave: int | None = None
    apply_latest_release: bool = True
    failure: str = ""  # why the last release failed (it was rolled back)
    attempted: str = ""  # the release the last rollout tried (taken or not)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ReleaseState:
        wave = item.get("wave")
        result = item.get("releaseResult")
        return cls(release_id=str(item.get("releaseId", "")),
                   released_at=str(item.get("releasedAt", "")),
                   result=ReleaseResult(result) if result else None,
                   wave=int(wave) if wave is not None else None,
                   apply_latest_release=item.get("applyLatestRelease", True) is not False,
                   failure=str(item.get("releaseFailure", "")),
                   attempted=str(item.get("attemptedRelease", "")))


@dataclass(frozen=True)
class DeploymentRecord:
    """A deployment of the tenant API, and what the control plane wants of it.

    ``status`` is ``provisioning`` from the registration's request until the deployer records
    the deployment's API ids and URL (``active``), or ``failed`` when its first deployment
    failed (``failure`` says why, ``operator_action`` what staff can do; never shown to the
    tenant); ``desired_state`` is ``stopped`` while the tenant is deactivated. The deployer
    (local platform, or the aws pipeline) acts on both. ``release`` is the release pipeline's
    part of the row, written only by it and by staff's release settings.
    """

    deployment_id: str  # "pooled" or a Platinum tenant's id (the table's tenantId key)
    stack_name: str
    api_ids: frozenset[str]
    api_url: str
    status: DeploymentStatus = DeploymentStatus.ACTIVE
    desired_state: DesiredState = DesiredState.RUNNING
    failure: str = ""
    operator_action: str = ""
    release: ReleaseState = field(default_factory=ReleaseState)

    @property
    def serving(self) -> bool:
        """Its API answers the tenant's users."""
        return self.status is DeploymentStatus.ACTIVE and \
            self.desired_state is DesiredState.RUNNING

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> DeploymentRecord:
        api_ids = item.get("apiIds") or set()
        return cls(
            deployment_id=str(item["tenantId"]),
            stack_name=str(item.get("stackName", "")),
            api_ids=frozenset(str(api_id) for api_id in api_ids),
            api_url=str(item.get("apiGatewayUrl", "")),
            status=DeploymentStatus(item.get("status", DeploymentStatus.ACTIVE)),
            desired_state=DesiredState(item.get("desiredState", DesiredState.RUNNING)),
            failure=str(item.get("failureReason", "")),
            operator_action=str(item.get("operatorAction", "")),
            release=ReleaseState.from_item(item),
        )

    def to_item(self) -> dict[str, Any]:
        """The deployment's address and wanted state: what a deployer or the baseline writes.
        The release attributes are left out (written one by one by ``Deployments``), so
        writing a row's address never erases which release it runs."""
        item: dict[str, Any] = {
            "tenantId": self.deployment_id,
            "stackName": self.stack_name,
            "apiGatewayUrl": self.api_url,
            "status": self.status.value,
            "desiredState": self.desired_state.value,
        }
        if self.api_ids:
            item["apiIds"] = set(self.api_ids)  # a string set; DynamoDB rejects empty sets
        return item
