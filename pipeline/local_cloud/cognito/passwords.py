"""ONE password store for every local path: the local credentials file
(``tenant_context.platform.invitations.CredentialsFile``, ``.local/credentials.json``), which the
control plane writes at user creation (temporary passwords) and which this endpoint and ``make
token`` update, with the emulator's own copy kept in step.

The emulator issues the tokens, so it must know the current password too; it replays
``AdminSetUserPassword`` at a restart but not a completed challenge (its session id is random),
so every new password is set with ``AdminSetUserPassword`` (which also applies the pool's
password policy, refusing a weak one as Cognito does) before the file records it.

Forgotten-password codes go where local temporary passwords go, since no email leaves the
machine: ``password-reset-codes.json`` beside the credentials file.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.local_cloud.cognito.sessions import Clock
from tenant_context.platform.invitations import CredentialsFile, locked_json_file

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

RESET_CODES_FILE = "password-reset-codes.json"
RESET_CODE_SECONDS = 3600.0  # Cognito's: a confirmation code is valid for one hour


class PasswordStore:
    def __init__(self, cognito: CognitoIdentityProviderClient,
                 credentials: CredentialsFile) -> None:
        self.cognito = cognito
        self.credentials = credentials

    def password(self, user_pool_id: str, user_name: str) -> str | None:
        """The user's current password (temporary or not), if one was ever recorded."""
        entry = self.credentials.lookup(user_pool_id, user_name)
        password = entry.get("password") if entry else None
        return password if isinstance(password, str) else None

    def set_password(self, user_pool_id: str, user_name: str, password: str) -> None:
        """The user's new permanent password, on every path (``make token``, this endpoint's
        first login, change and reset); raises the emulator's error for a password the pool's
        policy refuses, and records nothing then."""
        self.cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=user_name,
                                             Password=password, Permanent=True)
        self.credentials.record(user_pool_id, user_name, password, temporary=False)


@dataclass(frozen=True)
class ResetCode:
    code: str
    expires_at: float


class ResetCodes:
    """``{"<userPoolId>/<userName>": {"code": "123456", "expiresAt": <epoch seconds>}}``,
    written atomically under a lock, readable by the developer (it stands in for the email)."""

    def __init__(self, path: Path, clock: Clock = time.time) -> None:
        self.path = path
        self._clock = clock

    @classmethod
    def beside(cls, credentials: CredentialsFile, clock: Clock = time.time) -> ResetCodes:
        return cls(credentials.path.with_name(RESET_CODES_FILE), clock)

    def issue(self, user_pool_id: str, user_name: str) -> ResetCode:
        """A new six-digit code; the previous one stops working, as with Cognito."""
        code = ResetCode(f"{secrets.randbelow(10 ** 6):06d}", self._clock() + RESET_CODE_SECONDS)
        with locked_json_file(self.path) as entries:
            entries[f"{user_pool_id}/{user_name}"] = {"code": code.code,
                                                      "expiresAt": code.expires_at}
        return code

    def lookup(self, user_pool_id: str, user_name: str) -> ResetCode | None:
        if not self.path.exists():
            return None
        entry = json.loads(self.path.read_text()).get(f"{user_pool_id}/{user_name}")
        if not isinstance(entry, dict):
            return None
        return ResetCode(str(entry.get("code")), float(entry.get("expiresAt", 0)))

    def expired(self, code: ResetCode) -> bool:
        return self._clock() >= code.expires_at

    def discard(self, user_pool_id: str, user_name: str) -> None:
        with locked_json_file(self.path) as entries:
            entries.pop(f"{user_pool_id}/{user_name}", None)
