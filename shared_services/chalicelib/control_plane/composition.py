"""Builds the control plane's services from configuration: the one place that decides which
credentials each collaborator uses.

- Records a caller reads or changes (tenants, users) go through the caller's scoped STS
  credentials: their session policy confines a TenantAdmin to its own rows (and to their
  contact attributes) and a CustomerSupport user to reading, whatever a handler does. The
  writes that policy keeps from a TenantAdmin (the active flag, users' roles and enabled
  flags, user records) and a TenantUser's read of its own record use the function's own role,
  after the service's checks.
- Cognito, API keys, deployment requests and registration (which has no caller) use the
  function's own role.
- The usage table is read with the function's own role, after the usage routes' checks: no
  caller's session policy names it (``usage_requests``).

Clients are passed in (``clients``, ``scoped_clients``) and the app reaches its ControlPlane
through ``SERVING``, so a test can serve the real routes and authorizer with collaborators it
chose (a client that fails, or one that counts calls) without patching anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.control_plane.deployment_records import DeploymentRecords
from chalicelib.control_plane.identity import Identity
from chalicelib.control_plane.offboarding_requests import (
    DEFAULT_GRACE_SECONDS,
    OffboardingRequests,
)
from chalicelib.control_plane.registration import Registrar
from chalicelib.control_plane.tenant_management import TenantManagement
from chalicelib.control_plane.tenant_store import TenantStore
from chalicelib.control_plane.usage_requests import UsageRequests
from chalicelib.control_plane.user_management import UserAccounts
from chalicelib.control_plane.user_store import UserStore
from tenant_context.config import Env, PlatformConfig, SignupLimits
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.cost_model import published_prices
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    USAGE_TABLE,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.platform_settings import PlatformSettings, read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_moves import TenantMoves
from tenant_context.platform.tenant_offboarding import TenantOffboardings
from tenant_context.platform.usage_records import UsageRecords
from tenant_context.service.context import TenantContext
from tenant_context.service.tenant_tables import ClientFactory, DynamoDBClients

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


class ControlPlane:
    def __init__(self, config: PlatformConfig, *, clients: AwsClients | None = None,
                 scoped_clients: ClientFactory | None = None) -> None:
        self._config = config
        self._own = clients or AwsClients.in_region(config.region)  # each built on first use
        self._dynamodb_clients = scoped_clients or DynamoDBClients(config.region)

    @functools.cached_property
    def identity(self) -> Identity:
        path = self._config.optional(Env.LOCAL_CREDENTIALS_FILE)
        return Identity(self._own.cognito, CredentialsFile(Path(path)) if path else None)

    @functools.cached_property
    def deployments(self) -> Deployments:
        return Deployments(self._own.dynamodb,
                           self._config.require(TENANT_STACK_MAPPING_TABLE.env_var))

    def settings(self) -> PlatformSettings:
        return read_settings(self._own.dynamodb, self._config.require(SETTINGS_TABLE.env_var))

    def _tenant_store(self, dynamodb: DynamoDBClient) -> TenantStore:
        return TenantStore(dynamodb, self._config.require(TENANT_DETAILS_TABLE.env_var),
                           self._config.require(TENANT_NAMES_TABLE.env_var))

    def _user_store(self, dynamodb: DynamoDBClient) -> UserStore:
        return UserStore(dynamodb, self._config.require(TENANT_USER_MAPPING_TABLE.env_var))

    def deployment_records(self) -> DeploymentRecords:
        return DeploymentRecords(self._own.dynamodb, self._own.apigateway, self.deployments)

    @functools.cached_property
    def api_keys(self) -> TenantApiKeys:
        return TenantApiKeys(self._own.apigateway, lambda: self.settings().usage_plan_ids)

    def registrar(self) -> Registrar:
        return Registrar(self._tenant_store(self._own.dynamodb),
                         self._user_store(self._own.dynamodb), self.identity, self.api_keys,
                         self.deployments, self.settings,
                         pending_platinum_cap=SignupLimits.from_config(
                             self._config).pending_platinum_cap)

    def public_tenants(self) -> TenantStore:
        """For the unauthenticated tenant-config lookup (reads only)."""
        return self._tenant_store(self._own.dynamodb)

    def users(self, caller: TenantContext) -> UserAccounts:
        scoped = self._dynamodb_clients(caller.credentials)
        return UserAccounts(caller, self._user_store(scoped), self._user_store(self._own.dynamodb),
                            self._tenant_store(scoped), self.identity, self.settings)

    def offboarding(self, caller: TenantContext) -> OffboardingRequests:
        return OffboardingRequests(
            caller, self.tenants(caller),
            TenantOffboardings(self._own.dynamodb,
                               self._config.require(TENANT_DETAILS_TABLE.env_var)),
            self._config.seconds(Env.OFFBOARDING_GRACE_SECONDS, DEFAULT_GRACE_SECONDS))

    @functools.cached_property
    def usage_records(self) -> UsageRecords:
        return UsageRecords(self._own.dynamodb, self._config.require(USAGE_TABLE.env_var))

    def usage(self, caller: TenantContext) -> UsageRequests:
        return UsageRequests(caller, self.tenants(caller), self.usage_records, published_prices,
                             _utc_now)

    def tenants(self, caller: TenantContext) -> TenantManagement:
        scoped = self._dynamodb_clients(caller.credentials)
        return TenantManagement(caller, self._tenant_store(scoped),
                                self._tenant_store(self._own.dynamodb), self.users(caller),
                                self.api_keys, self.deployments,
                                TenantMoves(self._own.dynamodb,
                                            self._config.require(TENANT_DETAILS_TABLE.env_var)))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Serving:
    """The ControlPlane the app's routes use: one per process, built on first use.

    ``use`` serves another one until its block ends. The routes, the authorizer and the error
    mapping stay the real ones; only the collaborators differ, which is how fault injection and
    call counting reach the HTTP layer.
    """

    def __init__(self) -> None:
        self._current: ControlPlane | None = None
        self._override: ControlPlane | None = None

    def plane(self, build: Callable[[], ControlPlane]) -> ControlPlane:
        if self._override is not None:
            return self._override
        if self._current is None:
            self._current = build()
        return self._current

    @contextmanager
    def use(self, plane: ControlPlane) -> Iterator[ControlPlane]:
        previous, self._override = self._override, plane
        try:
            yield plane
        finally:
            self._override = previous


SERVING = Serving()
