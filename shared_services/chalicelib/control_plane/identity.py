"""Cognito, as the control plane uses it: a group or a pool per tenant, and users.

Deletes are idempotent (a missing group, pool or user is not an error) because they undo
registrations, possibly twice. New users get a temporary password: emailed by Cognito in AWS,
written to the local credentials file when one is configured (no mail leaves the machine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenant_context.errors import ConflictError
from tenant_context.platform.definitions import USER_ROLE_ATTRIBUTE, tenant_group, tenant_pool
from tenant_context.platform.invitations import CredentialsFile, create_user_request
from tenant_context.platform.platform_settings import PoolRef
from tenant_context.tenancy import Role

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_cognito_idp.type_defs import (
        AttributeTypeTypeDef,
        ListUsersInGroupResponseTypeDef,
        ListUsersResponseTypeDef,
    )


@dataclass(frozen=True)
class CognitoUser:
    user_name: str
    email: str
    status: str  # FORCE_CHANGE_PASSWORD, CONFIRMED, ...
    enabled: bool
    created: str
    modified: str


def _user(raw: Mapping[str, Any]) -> CognitoUser:
    """A user as ListUsers lists it or as AdminGetUser describes it: the same fields, but the
    attributes under two names."""
    attributes = {attribute["Name"]: attribute["Value"]
                  for attribute in raw.get("Attributes") or raw.get("UserAttributes") or []}
    return CognitoUser(
        user_name=raw["Username"], email=attributes.get("email", ""),
        status=raw.get("UserStatus", ""), enabled=bool(raw.get("Enabled", False)),
        created=str(raw["UserCreateDate"].isoformat()) if raw.get("UserCreateDate") else "",
        modified=(str(raw["UserLastModifiedDate"].isoformat())
                  if raw.get("UserLastModifiedDate") else ""))


class Identity:
    def __init__(self, cognito: CognitoIdentityProviderClient,
                 credentials_file: CredentialsFile | None) -> None:
        self._cognito = cognito
        self._credentials_file = credentials_file

    # --- tenants ------------------------------------------------------------------------------
    def create_tenant_group(self, pool_id: str, tenant_id: str) -> str:
        group = tenant_group(tenant_id)
        self._cognito.create_group(UserPoolId=pool_id, GroupName=group,
                                   Description=f"Users of tenant {tenant_id}")
        return group

    def delete_tenant_group(self, pool_id: str, tenant_id: str) -> None:
        with contextlib.suppress(self._cognito.exceptions.ResourceNotFoundException):
            self._cognito.delete_group(UserPoolId=pool_id, GroupName=tenant_group(tenant_id))

    def create_tenant_pool(self, tenant_id: str) -> PoolRef:
        """A Platinum tenant's own pool and app client, from the shared definition."""
        definition = tenant_pool(tenant_id)
        pool_id = self._cognito.create_user_pool(
            **definition.create_user_pool_request())["UserPool"]["Id"]
        client_id = self._cognito.create_user_pool_client(
            **definition.create_client_request(pool_id))["UserPoolClient"]["ClientId"]
        return PoolRef(pool_id, client_id)

    def find_tenant_pool(self, tenant_id: str) -> str | None:
        """A tenant pool's id by name (for undoing a registration whose pool id was lost)."""
        name = tenant_pool(tenant_id).name
        request: dict[str, Any] = {"MaxResults": 60}
        while True:
            response = self._cognito.list_user_pools(**request)
            for pool in response.get("UserPools", []):
                if pool["Name"] == name:
                    return str(pool["Id"])
            if not response.get("NextToken"):
                return None
            request["NextToken"] = response["NextToken"]

    def delete_pool(self, pool_id: str) -> None:
        with contextlib.suppress(self._cognito.exceptions.ResourceNotFoundException):
            self._cognito.delete_user_pool(UserPoolId=pool_id)

    # --- users --------------------------------------------------------------------------------
    def create_user(self, pool_id: str, user_name: str, email: str, role: Role, tenant_id: str,
                    group: str | None = None) -> None:
        request, password = create_user_request(pool_id, user_name, email, role, tenant_id,
                                                self._credentials_file)
        try:
            self._cognito.admin_create_user(**request)
        except self._cognito.exceptions.UsernameExistsException:
            raise ConflictError(f"userName: {user_name!r} already exists",
                                fields=["userName"]) from None
        if password and self._credentials_file:
            self._credentials_file.record(pool_id, user_name, password, temporary=True)
        if group:
            self._cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user_name,
                                                  GroupName=group)

    def delete_user(self, pool_id: str, user_name: str) -> None:
        with contextlib.suppress(self._cognito.exceptions.UserNotFoundException,
                                 self._cognito.exceptions.ResourceNotFoundException):
            self._cognito.admin_delete_user(UserPoolId=pool_id, Username=user_name)

    def set_enabled(self, pool_id: str, user_name: str, enabled: bool) -> None:
        if enabled:
            self._cognito.admin_enable_user(UserPoolId=pool_id, Username=user_name)
        else:
            self._cognito.admin_disable_user(UserPoolId=pool_id, Username=user_name)

    def update_user(self, pool_id: str, user_name: str, *, email: str | None = None,
                    email_verified: bool = False, role: Role | None = None) -> None:
        """Change attributes. ``email_verified`` only when an administrator vouches for the new
        address; otherwise Cognito asks the address's owner to confirm it."""
        attributes: list[AttributeTypeTypeDef] = []
        if email is not None:
            attributes += [{"Name": "email", "Value": email},
                           {"Name": "email_verified", "Value": str(email_verified).lower()}]
        if role is not None:
            attributes.append({"Name": USER_ROLE_ATTRIBUTE, "Value": role.value})
        if attributes:
            self._cognito.admin_update_user_attributes(UserPoolId=pool_id, Username=user_name,
                                                       UserAttributes=attributes)

    def describe_user(self, pool_id: str, user_name: str) -> CognitoUser | None:
        try:
            return _user(self._cognito.admin_get_user(UserPoolId=pool_id, Username=user_name))
        except self._cognito.exceptions.UserNotFoundException:
            return None

    def users(self, pool_id: str, group: str | None = None) -> Iterator[CognitoUser]:
        """Every user of a pool, or of one tenant's group in the shared pool, page by page."""
        request: dict[str, Any] = {"UserPoolId": pool_id}
        response: ListUsersInGroupResponseTypeDef | ListUsersResponseTypeDef
        while True:
            if group:
                response = self._cognito.list_users_in_group(GroupName=group, Limit=60,
                                                             **request)
            else:
                response = self._cognito.list_users(Limit=60, **request)
            yield from (_user(raw) for raw in response.get("Users", []))
            token = response.get("NextToken") or response.get("PaginationToken")
            if not token:
                return
            request["NextToken" if group else "PaginationToken"] = token
