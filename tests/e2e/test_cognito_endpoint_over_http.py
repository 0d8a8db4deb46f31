"""The local Cognito endpoint on the platform, as a browser's SRP client uses it: a new tenant
admin and the SystemAdmin sign in with USER_SRP_AUTH, complete NEW_PASSWORD_REQUIRED, call
their API with the ID token; a wrong password is refused; the new passwords still work after a
restart of the platform (its own, since it restarts)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from pycognito.aws_srp import AWSSRP

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from pipeline.local_cloud.sign_in import resolve_pool
from tenant_context.platform.definitions import SYSTEM_ADMIN_USER_NAME
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.platform_settings import PoolRef

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

TENANT_NAME = "Srp Widgets"
TENANT_PASSWORD = "Tenant-Admin-Chosen-1"
ADMIN_PASSWORD = "System-Admin-Chosen-1"


def _idp(platform: RunningPlatform) -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp", endpoint_url=platform.cognito_endpoint,
                        region_name="us-east-1", config=Config(signature_version=UNSIGNED))


def _srp(platform: RunningPlatform, pool: PoolRef, user: str, password: str) -> AWSSRP:
    return AWSSRP(user, password, pool.user_pool_id, pool.app_client_id,
                  client=_idp(platform))


def _get(url: str, id_token: str) -> int:
    return requests.get(url, headers={"Authorization": f"Bearer {id_token}"},
                        timeout=60).status_code


def test_srp_sign_in_survives_a_restart(tmp_path: Path) -> None:
    ports = (free_port(), free_port())
    with running_platform(tmp_path, *ports) as platform:
        assert platform.cognito_endpoint == f"http://127.0.0.1:{ports[1]}/cognito"
        registered = requests.post(f"{platform.admin_api}/registration", timeout=60, json={
            "tenantName": TENANT_NAME, "tenantEmail": "owner@srp.example",
            "tenantTier": "Basic"})
        assert registered.status_code == 201, registered.text
        tenant_pool = resolve_pool(platform.aws.dynamodb, TENANT_NAME)
        operations_pool = resolve_pool(platform.aws.dynamodb, None)
        credentials = CredentialsFile(tmp_path / "credentials.json")
        tenant_admin = str(registered.json()["tenantAdminUserName"])
        signed_in = []
        for pool, user, new_password, url in (
                (tenant_pool, tenant_admin, TENANT_PASSWORD, f"{platform.pooled_api}/products"),
                (operations_pool, SYSTEM_ADMIN_USER_NAME, ADMIN_PASSWORD,
                 f"{platform.admin_api}/tenants")):
            entry = credentials.lookup(pool.user_pool_id, user)
            assert entry is not None
            with pytest.raises(Exception, match="NotAuthorizedException"):
                _srp(platform, pool, user, str(entry["password"]) + "x").authenticate_user()
            tokens = _srp(platform, pool, user, str(entry["password"])
                          ).set_new_password_challenge(new_password)["AuthenticationResult"]
            assert _get(url, tokens["IdToken"]) == 200
            signed_in.append((pool, user, new_password, url, str(entry["password"])))
    with running_platform(tmp_path, *ports) as platform:
        for pool, user, new_password, url, temporary in signed_in:
            tokens = _srp(platform, pool, user, new_password).authenticate_user()
            assert _get(url, tokens["AuthenticationResult"]["IdToken"]) == 200
            with pytest.raises(Exception, match="NotAuthorizedException"):
                _srp(platform, pool, user, temporary).authenticate_user()
