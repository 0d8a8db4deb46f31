"""How a new user gets a temporary password.

In AWS, Cognito emails the invitation with a password it generates. Locally no mail leaves the
machine, so when ``LOCAL_CREDENTIALS_FILE`` names a file, the platform generates the temporary
password itself, suppresses the email and records the password in that (git-ignored) file,
where ``make token`` finds it for the first login.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tenant_context.platform.definitions import TENANT_ID_ATTRIBUTE, USER_ROLE_ATTRIBUTE
from tenant_context.tenancy import Role


def temporary_password(length: int = 20) -> str:
    """Random, and always meets the pools' policy (upper, lower, digit, symbol, >= 12)."""
    pools = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#%+-=?@^_")
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice("".join(pools)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


@contextlib.contextmanager
def locked_json_file(path: Path) -> Iterator[dict[str, Any]]:
    """A JSON object file's entries to change, written back atomically (rename) under an
    exclusive lock, readable by its owner only: several processes update such files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = json.loads(path.read_text()) if path.exists() else {}
        yield entries
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(entries, indent=2, sort_keys=True))
        os.chmod(temporary, 0o600)
        temporary.replace(path)


class CredentialsFile:
    """``{"<userPoolId>/<userName>": {"password": ..., "temporary": bool}}``, written atomically
    under a lock: the platform, the registration service and ``make token`` all update it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _locked(self) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return locked_json_file(self.path)

    def record(self, user_pool_id: str, user_name: str, password: str, *,
               temporary: bool) -> None:
        with self._locked() as entries:
            entries[f"{user_pool_id}/{user_name}"] = {"password": password,
                                                      "temporary": temporary}

    def lookup(self, user_pool_id: str, user_name: str) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        entry = json.loads(self.path.read_text()).get(f"{user_pool_id}/{user_name}")
        return entry if isinstance(entry, dict) else None

    def forget(self, user_pool_id: str, user_name: str) -> None:
        """The user is gone (an offboarding's erasure): so is its password."""
        if self.path.exists():
            with self._locked() as entries:
                entries.pop(f"{user_pool_id}/{user_name}", None)


def create_user_request(user_pool_id: Any, user_name: str, email: Any, role: Role,
                        tenant_id: str, local_file: CredentialsFile | None
                        ) -> tuple[dict[str, Any], str | None]:
    """``AdminCreateUser`` parameters, and the temporary password when we chose it (locally).

    ``user_pool_id`` and ``email`` may be CloudFormation references: the template renders the
    SystemAdmin user from this same function."""
    request: dict[str, Any] = {
        "UserPoolId": user_pool_id,
        "Username": user_name,
        "UserAttributes": [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": TENANT_ID_ATTRIBUTE, "Value": tenant_id},
            {"Name": USER_ROLE_ATTRIBUTE, "Value": role.value},
        ],
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if local_file is None:
        return request, None
    password = temporary_password()
    request |= {"TemporaryPassword": password, "MessageAction": "SUPPRESS"}
    request.pop("DesiredDeliveryMediums")
    return request, password
