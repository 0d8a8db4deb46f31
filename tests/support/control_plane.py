"""The control plane's modules for tests that drive them directly (fault injection, load).

Tests import them from here: this module first puts ``shared_services/`` on ``sys.path``, as
``chalice local`` does for the app (without importing the app itself).
"""

from __future__ import annotations

import sys
from typing import Any

from pipeline.local.paths import PROJECT_ROOT

if str(PROJECT_ROOT / "shared_services") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "shared_services"))

from chalicelib.control_plane.composition import ControlPlane
from chalicelib.control_plane.deployment_records import DeploymentRecords, handle_custom_resource
from chalicelib.control_plane.identity import Identity
from chalicelib.control_plane.registration import (
    Registrar,
    RegistrationRequest,
    tenant_admin_name,
)
from chalicelib.control_plane.tenant_store import PENDING, NameClaim, TenantStore
from chalicelib.control_plane.tenants import TenantChanges
from chalicelib.control_plane.user_store import UserStore
from tenant_context.deployments import Deployments
from tenant_context.invitations import CredentialsFile
from tenant_context.platform_settings import read_settings
from tenant_context.resources import (
    SETTINGS_TABLE,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
)

__all__ = [
    "PENDING",
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
    """A collaborator whose ``method`` fails as a real outage would; the rest is untouched."""

    def __init__(self, target: Any, method: str) -> None:
        self._target = target
        self._method = method

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name != self._method:
            return attribute

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError(f"injected failure in {name}")

        return fail


def registrar_parts(clients: Any, credentials: CredentialsFile | None) -> dict[str, Any]:
    """The collaborators the shared-services app wires up, against the emulator."""
    dynamodb = clients("dynamodb")
    return {
        "tenants": TenantStore(dynamodb, TENANT_DETAILS_TABLE.name, TENANT_NAMES_TABLE.name),
        "users": UserStore(dynamodb, TENANT_USER_MAPPING_TABLE.name),
        "identity": Identity(clients("cognito-idp"), credentials),
        "deployments": Deployments(dynamodb, TENANT_STACK_MAPPING_TABLE.name),
        "settings": lambda: read_settings(dynamodb, SETTINGS_TABLE.name),
    }
