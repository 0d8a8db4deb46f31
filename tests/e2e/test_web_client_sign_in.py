"""The web apps' own Cognito library signs in against ``make local``: amazon-cognito-identity-js
(``tests/web_client/``, run under node) does USER_SRP_AUTH against the platform's Cognito
endpoint, completes a first login's NEW_PASSWORD_REQUIRED and calls the API with the ID token.
A client we did not write is what proves the endpoint speaks Cognito; our own sign-in
(``make token``) would only prove it agrees with itself.

For a new tenant's admin (``GET /products`` on the pooled API) and for the SystemAdmin (``GET
/tenants`` on the admin API): a wrong password is refused; the temporary password plus a new
one signs in; after a restart the new password signs in with no challenge and the temporary one
is refused. One platform of its own for the module (it is restarted)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from pipeline.local_cloud.sign_in import resolve_pool
from pipeline.project import PROJECT_ROOT
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME
from tenant_context.platform.invitations import CredentialsFile, temporary_password
from tenant_context.platform.platform_settings import PoolRef

WEB_CLIENT = PROJECT_ROOT / "tests" / "web_client"
SIGN_IN_SCRIPT = WEB_CLIENT / "sign_in.mjs"
# The script's own deadline (its answer then names the calls it made) is under ours, which
# ends node whatever happens: no process outlives the test.
SCRIPT_TIMEOUT_MS = 30_000
NODE_TIMEOUT_SECONDS = 60
TENANT_NAME = "Web Client Widgets"


def node() -> str:
    """node, with the library installed: ``make test`` installs both or stops first; run
    directly, pytest fails here with what to do rather than skipping the acceptance."""
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("node is not installed: install Node.js 18+ and npm")
    if not (WEB_CLIENT / "node_modules" / "amazon-cognito-identity-js").is_dir():
        pytest.fail("the web client's npm packages are missing: make node-packages")
    return executable


def run_script(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The script's exit status and its one JSON line."""
    completed = subprocess.run([node(), str(SIGN_IN_SCRIPT)], cwd=WEB_CLIENT, text=True,
                               input=json.dumps(request), capture_output=True,
                               timeout=NODE_TIMEOUT_SECONDS)
    lines = completed.stdout.splitlines()
    assert lines, f"no answer from the script (status {completed.returncode}): {completed.stderr}"
    answer: dict[str, Any] = json.loads(lines[-1])
    return completed.returncode, answer


def shown(answer: dict[str, Any]) -> str:
    """The whole answer, every Cognito call included, for a failure's message (pytest would
    shorten the dict's repr to the part that differs)."""
    return json.dumps(answer, indent=1)


@dataclass
class Account:
    """A user the library signs in, the API call it then makes, and its passwords so far."""
    pool: PoolRef
    user_name: str
    api_url: str
    path: str
    temporary_password: str
    new_password: str | None = None  # set once a first sign-in completed

    def sign_in(self, endpoint: str, password: str, new_password: str | None = None
                ) -> tuple[int, dict[str, Any]]:
        request = {"endpoint": endpoint, "userPoolId": self.pool.user_pool_id,
                   "clientId": self.pool.app_client_id, "username": self.user_name,
                   "password": password, "apiUrl": self.api_url, "path": self.path,
                   "timeoutMs": SCRIPT_TIMEOUT_MS}
        if new_password is not None:
            request["newPassword"] = new_password
        return run_script(request)


class Restartable:
    """The module's platform, stopped and started again on the same state and ports, as a
    developer's ``make local`` is."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.ports = free_port(), free_port()
        self.stack = ExitStack()
        self.platform = self.start()
        self.restarts = 0

    def start(self) -> RunningPlatform:
        return self.stack.enter_context(running_platform(self.state_dir, *self.ports))

    def restart(self) -> RunningPlatform:
        self.stack.close()
        self.platform = self.start()
        self.restarts += 1
        return self.platform

    @property
    def cognito_endpoint(self) -> str:
        return self.platform.cognito_endpoint


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    platform = Restartable(tmp_path_factory.mktemp("web-client"))
    with platform.stack:
        yield platform


def recorded_password(platform: RunningPlatform, pool: PoolRef, user_name: str) -> str:
    """The temporary password the platform recorded in place of Cognito's invitation email."""
    entry = CredentialsFile(platform.state_dir / "credentials.json").lookup(
        pool.user_pool_id, user_name)
    assert entry is not None, f"no password recorded for {user_name}"
    assert entry["temporary"], entry
    return str(entry["password"])


@pytest.fixture(scope="module")
def accounts(restartable: Restartable) -> dict[str, Account]:
    """The SystemAdmin the platform created, and a tenant admin registered as the sign-up page
    registers one (both never signed in)."""
    platform = restartable.platform
    response = requests.post(f"{platform.admin_api}/registration", timeout=60, json={
        "tenantName": TENANT_NAME, "tenantTier": "Basic",
        "tenantEmail": "owner@web-client.example"})
    assert response.status_code == 201, response.text
    tenant_admin = response.json()["tenantAdminUserName"]
    tenant_pool = resolve_pool(platform.aws.dynamodb, TENANT_NAME)
    operations_pool = resolve_pool(platform.aws.dynamodb, None)
    return {
        "tenant admin": Account(tenant_pool, tenant_admin, platform.pooled_api,
                                "/products",
                                recorded_password(platform, tenant_pool, tenant_admin)),
        "SystemAdmin": Account(operations_pool, SYSTEM_ADMIN_USER_NAME,
                               platform.admin_api, "/tenants",
                               recorded_password(platform, operations_pool,
                                                 SYSTEM_ADMIN_USER_NAME)),
    }


def calls(answer: dict[str, Any]) -> list[str]:
    """The Cognito calls the library made, each as its operation and flow or challenge: that
    they are USER_SRP_AUTH's shows the password itself never went over the wire."""
    return [f"{call['target'].rsplit('.', 1)[-1]} "
            f"{call['request'].get('AuthFlow') or call['request'].get('ChallengeName')}"
            for call in answer["exchange"]]


def assert_refused(status: int, answer: dict[str, Any]) -> None:
    assert (status, answer["ok"]) == (1, False), shown(answer)
    assert answer["error"]["code"] == "NotAuthorizedException", shown(answer)
    # Refused at the proof, as Cognito refuses it: no server can tell sooner under SRP.
    assert calls(answer) == ["InitiateAuth USER_SRP_AUTH",
                             "RespondToAuthChallenge PASSWORD_VERIFIER"], shown(answer)
    assert "status" not in answer, "no API call without tokens"


def test_the_script_refuses_incomplete_input() -> None:
    status, answer = run_script({"endpoint": "http://127.0.0.1:9/", "username": "someone"})
    assert status == 2, shown(answer)
    assert answer["error"]["code"] == "BadInput"
    assert "userPoolId" in answer["error"]["message"]


@pytest.mark.platform
@pytest.mark.parametrize("label", ["tenant admin", "SystemAdmin"])
def test_a_wrong_password_is_refused(restartable: Restartable, accounts: dict[str, Account],
                                     label: str) -> None:
    account = accounts[label]
    assert_refused(*account.sign_in(restartable.cognito_endpoint,
                                             temporary_password()))


@pytest.mark.platform
@pytest.mark.parametrize("label", ["tenant admin", "SystemAdmin"])
def test_a_first_sign_in_sets_a_new_password_and_the_id_token_calls_the_api(
        restartable: Restartable, accounts: dict[str, Account], label: str) -> None:
    account = accounts[label]
    new_password = temporary_password()
    status, answer = account.sign_in(restartable.cognito_endpoint, account.temporary_password,
                                     new_password)
    assert answer["challenges"] == ["NEW_PASSWORD_REQUIRED"], shown(answer)
    assert calls(answer) == ["InitiateAuth USER_SRP_AUTH",
                             "RespondToAuthChallenge PASSWORD_VERIFIER",
                             "RespondToAuthChallenge NEW_PASSWORD_REQUIRED"], shown(answer)
    assert answer["tokens"] == {"id": True, "access": True, "refresh": True}, shown(answer)
    assert answer["claims"]["cognito:username"] == account.user_name
    assert (status, answer.get("status")) == (0, 200), shown(answer)
    account.new_password = new_password
    assert isinstance(json.loads(answer["body"]), list)


@pytest.mark.platform
@pytest.mark.parametrize("label", ["tenant admin", "SystemAdmin"])
def test_after_a_restart_the_new_password_signs_in_and_the_temporary_one_is_refused(
        restartable: Restartable, accounts: dict[str, Account], label: str) -> None:
    account = accounts[label]
    assert account.new_password, "the first sign-in did not complete (see its test)"
    if not restartable.restarts:
        restartable.restart()
    status, answer = account.sign_in(restartable.cognito_endpoint, account.new_password)
    assert answer["challenges"] == [], shown(answer)
    assert calls(answer) == ["InitiateAuth USER_SRP_AUTH",
                             "RespondToAuthChallenge PASSWORD_VERIFIER"], shown(answer)
    assert (status, answer.get("status")) == (0, 200), shown(answer)
    assert_refused(*account.sign_in(restartable.cognito_endpoint,
                                             account.temporary_password))
