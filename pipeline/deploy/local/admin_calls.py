"""The local commands' calls to the running platform's admin API, as staff make them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.sign_in import LoginError, resolve_pool, sign_in
from pipeline.local_cloud.state import NotRunning, StatePaths
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.tenancy import is_tenant_id


class CommandError(Exception):
    """What a local command tells its user (on stderr) before it exits with ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def running_platform_for(tenant_id: str) -> tuple[StatePaths, dict[str, Any]]:
    """The running platform (its state folder and ``platform.json``) for a command about
    ``tenant_id``: a malformed id or no platform running is a ``CommandError`` (exit 2)."""
    if not is_tenant_id(tenant_id):
        raise CommandError(f"TENANT_ID: {tenant_id!r} is not a tenant id (32 hexadecimal "
                           f"characters)", 2)
    paths = StatePaths.from_environ()
    try:
        return paths, paths.running()
    except NotRunning as error:
        raise CommandError(str(error), 2) from None


def call(method: str, url: str, token: str | None = None, body: dict[str, Any] | None = None
         ) -> tuple[int, Any]:
    """(status, JSON body): an error status is an answer too, never an exception."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def system_admin_token(paths: StatePaths, state: dict[str, Any]) -> str:
    """The SystemAdmin's ID token (a ``CommandError`` when it cannot sign in)."""
    clients = emulator_clients(state["emulatorUrl"])
    try:
        return sign_in(clients.cognito, resolve_pool(clients.dynamodb, None),
                       SYSTEM_ADMIN_USER_NAME, CredentialsFile(paths.credentials))["IdToken"]
    except LoginError as error:
        raise CommandError(str(error), 1) from None
