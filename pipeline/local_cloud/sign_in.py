"""``make token``: a user's Cognito ID token from the local platform, for curl and tests.

Signs in with USER_PASSWORD_AUTH using the password in the local credentials file (or one
given), and completes the first-login NEW_PASSWORD_REQUIRED step with a new random password,
which it records in the file. The emulator cannot replay a completed challenge (its session id
is random), so the new password is also set with AdminSetUserPassword, which it can replay: the
password store's one path for a new password (``cognito.passwords``), which the local Cognito
endpoint takes too.

    python -m pipeline.local_cloud.sign_in [--tenant NAME] [--password PASSWORD] [USER_NAME]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.local_cloud.cognito.passwords import PasswordStore
from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.state import NotRunning, StatePaths
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import (
    SETTINGS_TABLE,
    SYSTEM_ADMIN_USER_NAME,
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    tenant_name_key,
)
from tenant_context.platform.invitations import CredentialsFile, temporary_password
from tenant_context.platform.platform_settings import PoolRef, read_settings
from tenant_context.platform.tenant_records import tenant_record

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_cognito_idp.type_defs import AuthenticationResultTypeTypeDef
    from types_boto3_dynamodb import DynamoDBClient


class LoginError(Exception):
    pass


def sign_in(cognito: CognitoIdentityProviderClient, pool: PoolRef, user_name: str,
            credentials: CredentialsFile, password: str | None = None
            ) -> AuthenticationResultTypeTypeDef:
    """Cognito's AuthenticationResult (IdToken, AccessToken, ...) for the user."""
    if password is None:
        entry = credentials.lookup(pool.user_pool_id, user_name)
        if entry is None:
            raise LoginError(f"no password recorded for {user_name!r} in {credentials.path}; "
                             f"pass --password")
        password = str(entry["password"])
    try:
        response = cognito.initiate_auth(
            ClientId=pool.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user_name, "PASSWORD": password})
    except (cognito.exceptions.NotAuthorizedException,
            cognito.exceptions.UserNotFoundException) as error:
        raise LoginError(f"sign-in refused for {user_name!r}: {error}") from error
    if response.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        new_password = temporary_password()
        response = cognito.respond_to_auth_challenge(
            ClientId=pool.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=response["Session"],
            ChallengeResponses={"USERNAME": user_name, "NEW_PASSWORD": new_password})
        # The one path every new password takes (the Cognito endpoint's too).
        PasswordStore(cognito, credentials).set_password(pool.user_pool_id, user_name,
                                                         new_password)
    if "AuthenticationResult" not in response:
        raise LoginError(f"unexpected challenge {response.get('ChallengeName')!r}")
    return response["AuthenticationResult"]


def resolve_pool(dynamodb: DynamoDBClient, tenant_name: str | None) -> PoolRef:
    """The operations pool, or the pool recorded for the named tenant."""
    if tenant_name is None:
        return read_settings(dynamodb, SETTINGS_TABLE.name).operations_pool
    claim = dynamodb.get_item(TableName=TENANT_NAMES_TABLE.name, ConsistentRead=True,
                              Key=to_item({"tenantNameKey": tenant_name_key(tenant_name)}))
    tenant_id = from_item(claim["Item"]).get("tenantId") if "Item" in claim else None
    tenant: Mapping[str, Any] = dynamodb.get_item(
        TableName=TENANT_DETAILS_TABLE.name, ConsistentRead=True,
        Key=to_item({"tenantId": tenant_id})) if tenant_id else {}
    record = tenant_record(from_item(tenant["Item"]) if "Item" in tenant else None)
    if record is None:
        raise LoginError(f"no tenant named {tenant_name!r}")
    return PoolRef(record.user_pool_id, record.app_client_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("user_name", nargs="?", default=SYSTEM_ADMIN_USER_NAME)
    parser.add_argument("--tenant", help="tenant name (default: the operations pool)")
    parser.add_argument("--password", help="default: the password in the credentials file")
    args = parser.parse_args(argv)
    paths = StatePaths.from_environ()
    try:
        clients = emulator_clients(paths.running()["emulatorUrl"])
    except NotRunning as error:
        print(error, file=sys.stderr)
        return 2
    try:
        pool = resolve_pool(clients.dynamodb, args.tenant)
        result = sign_in(clients.cognito, pool, args.user_name,
                         CredentialsFile(paths.credentials), args.password)
    except LoginError as error:
        print(error, file=sys.stderr)
        return 1
    print(result["IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
