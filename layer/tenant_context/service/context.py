"""Who is calling: the tenant context the authorizer attaches to every request.

API Gateway hands a Lambda authorizer's ``context`` to the integration with every value turned
into a string; ``chalice local`` does not. Both directions of that mapping live here, so the
authorizer (``to_authorizer_context``) and the services (``from_authorizer_context``) cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenant_context.errors import UnauthorizedError
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, Tier, is_tenant_id


@dataclass(frozen=True)
class ScopedCredentials:
    """Short-lived STS credentials limited by the caller's session policy."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: str  # ISO 8601, as STS returns it


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    tier: Tier | None  # None for SaaS-provider staff (operations users)
    user_name: str
    role: Role
    user_pool_id: str
    credentials: ScopedCredentials | None

    @property
    def is_operations(self) -> bool:
        return self.role.is_operations

    @property
    def deployment(self) -> str | None:
        """The deployment (pooled or the tenant's silo) whose tenant API this caller may use."""
        return None if self.tier is None else self.tier.deployment_for(self.tenant_id)

    def to_authorizer_context(self) -> dict[str, str]:
        context = {
            "tenantId": self.tenant_id,
            "tier": self.tier.value if self.tier else "",
            "userName": self.user_name,
            "userRole": self.role.value,
            "userPoolId": self.user_pool_id,
        }
        if self.credentials:
            context |= {
                "accessKeyId": self.credentials.access_key_id,
                "secretAccessKey": self.credentials.secret_access_key,
                "sessionToken": self.credentials.session_token,
                "credentialsExpiration": self.credentials.expiration,
            }
        return context

    @classmethod
    def from_authorizer_context(cls, context: Mapping[str, Any]) -> TenantContext:
        """Rebuild the context; anything malformed means the request was not authorized by us."""
        try:
            role = Role.parse(context.get("userRole"))
            tenant_id = _text(context, "tenantId")
            tier_value = _text(context, "tier", required=False)
            if role.is_operations:
                valid_tenant = tenant_id == OPERATIONS_TENANT_ID and not tier_value
            else:
                valid_tenant = is_tenant_id(tenant_id) and bool(tier_value)
            if not valid_tenant:
                raise ValueError("tenant does not match role")
            credentials = None
            if context.get("accessKeyId"):
                credentials = ScopedCredentials(
                    access_key_id=_text(context, "accessKeyId"),
                    secret_access_key=_text(context, "secretAccessKey"),
                    session_token=_text(context, "sessionToken"),
                    expiration=_text(context, "credentialsExpiration"),
                )
            return cls(
                tenant_id=tenant_id,
                tier=Tier.parse(tier_value) if tier_value else None,
                user_name=_text(context, "userName"),
                role=role,
                user_pool_id=_text(context, "userPoolId"),
                credentials=credentials,
            )
        except ValueError as error:
            raise UnauthorizedError("Unauthorized") from error


def _text(context: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = context.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"authorizer context lacks {key}")
    return value


def request_tenant(request: Any) -> TenantContext:
    """The tenant context of a Chalice request (``app.current_request``)."""
    context = getattr(request, "context", None) or {}
    authorizer = context.get("authorizer")
    if not isinstance(authorizer, Mapping):
        raise UnauthorizedError("Unauthorized")
    return TenantContext.from_authorizer_context(authorizer)
