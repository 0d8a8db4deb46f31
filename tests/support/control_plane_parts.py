"""The control plane's modules for tests that drive them directly (fault injection, load).

Tests import them from here: this module first puts ``shared_services/`` on ``sys.path``, as
``chalice local`` does for the app (without importing the app itself).
"""

from __future__ import annotations

import sys
from typing import Any

from pipeline.project import PROJECT_ROOT
from tenant_context.config import PlatformConfig, SignupLimits
from tenant_context.platform.aws_clients import AwsClients

if str(PROJECT_ROOT / "shared_services") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "shared_services"))

from chalicelib.control_plane.composition import SERVING, ControlPlane
from chalicelib.control_plane.deployment_records import DeploymentRecords, handle_custom_resource
from chalicelib.control_plane.identity import Identity
from chalicelib.control_plane.registration import (
    PENDING_PLATINUM_RETRY_SECONDS,
    Registrar,
    RegistrationRequest,
    tenant_admin_name,
)
from chalicelib.control_plane.tenant_management import TenantChanges
from chalicelib.control_plane.tenant_store import ClaimStatus, NameClaim, TenantStore
from chalicelib.control_plane.user_store import UserStore
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.platform_settings import read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys

__all__ = [
    "PENDING_PLATINUM_RETRY_SECONDS",
    "SERVING",
    "ClaimStatus",
    "ControlPlane",
    "DeploymentRecords",
    "Failing",
    "Identity",
    "NameClaim",
    "Registrar",
    "RegistrationRequest",
    "TenantChanges",
    "TenantStore",
    "UserStore",
    "handle_custom_resource",
    "registrar_parts",
    "tenant_admin_name",
]


class Failing:
    """A collaborator whose ``method`` fails as a real outage would; the rest is untouched.

    ``call``: fail only that call of the method (1 = the first; None: every call), for a
    method a flow calls more than once. ``after``: make the call first, then fail, as when the
    step's effect happened but its answer was lost (a timeout, a dropped connection).
    ``calls`` keeps the arguments of every call of the method (to find what a failed attempt
    named, e.g. the tenant id in a user name).
    """

    def __init__(self, target: Any, method: str, *, call: int | None = None,
                 after: bool = False) -> None:
        self._target = target
        self._method = method
        self._call = call
        self._after = after
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name != self._method:
            return attribute

        def fail(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((args, kwargs))
            if self._call is not None and len(self.calls) != self._call:
                return attribute(*args, **kwargs)
            if self._after:
                attribute(*args, **kwargs)
            raise ConnectionError(f"injected failure in {name}"
                                  + (" after it took effect" if self._after else ""))

        return fail


def registrar_parts(clients: AwsClients, credentials: CredentialsFile | None) -> dict[str, Any]:
    """The collaborators the shared-services app wires up, against the emulator."""
    dynamodb = clients.dynamodb
    return {
        "tenants": TenantStore(dynamodb, TENANT_DETAILS_TABLE.name, TENANT_NAMES_TABLE.name),
        "users": UserStore(dynamodb, TENANT_USER_MAPPING_TABLE.name),
        "identity": Identity(clients.cognito, credentials),
        "keys": TenantApiKeys(clients.apigateway,
                              lambda: read_settings(dynamodb, SETTINGS_TABLE.name).usage_plan_ids),
        "deployments": Deployments(dynamodb, TENANT_STACK_MAPPING_TABLE.name),
        "settings": lambda: read_settings(dynamodb, SETTINGS_TABLE.name),
        # From the configuration, as the app's composition reads it (the session raises it).
        "pending_platinum_cap": SignupLimits.from_config(
            PlatformConfig.from_environ()).pending_platinum_cap,
    }
