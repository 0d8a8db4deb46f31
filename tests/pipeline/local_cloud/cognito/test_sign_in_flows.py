"""The endpoint's flows as the web apps and pycognito use them, against the real emulator:
SRP with a real proof, first login, refresh, sign-out, password changes and resets, one
password store behind every path."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from pipeline.local_cloud.cognito.passwords import ResetCodes
from pipeline.local_cloud.sign_in import sign_in
from tenant_context.platform.invitations import CredentialsFile
from tests.support.clock import FakeClock
from tests.support.world import User, World

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

NEW_PASSWORD = "Brand-New-Password-1"


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def _srp(idp: CognitoIdentityProviderClient, user: User, password: str) -> AWSSRP:
    return AWSSRP(user.name, password, user.pool.user_pool_id, user.pool.app_client_id,
                  client=idp)


def _first_login(idp: CognitoIdentityProviderClient, user: User, password: str,
                 new_password: str = NEW_PASSWORD) -> dict[str, Any]:
    """SRP with the temporary password, then NEW_PASSWORD_REQUIRED: the tokens."""
    result: dict[str, Any] = dict(_srp(idp, user, password).set_new_password_challenge(
        new_password))
    return result


def _temporary(credentials: CredentialsFile, user: User) -> str:
    entry = credentials.lookup(user.pool.user_pool_id, user.name)
    assert entry is not None
    assert entry["temporary"] is True
    return str(entry["password"])


def test_srp_first_login_then_every_path_knows_the_new_password(
        idp: CognitoIdentityProviderClient, world: World,
        credentials_file: CredentialsFile) -> None:
    tenant = world.pooled_tenant()
    user = world.tenant_user(tenant)
    temporary = _temporary(credentials_file, user)
    srp = _srp(idp, user, temporary)
    params = srp.get_auth_params()
    challenge = idp.initiate_auth(ClientId=user.pool.app_client_id, AuthFlow="USER_SRP_AUTH",
                                  AuthParameters=params)
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == user.name
    answer = idp.respond_to_auth_challenge(
        ClientId=user.pool.app_client_id, ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp.process_challenge(challenge["ChallengeParameters"], params))
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    shown = json.loads(answer["ChallengeParameters"]["userAttributes"])
    assert shown["email"] == f"{user.name}@example.com"
    assert shown["custom:tenantId"] == tenant.tenant_id
    assert "sub" not in shown
    assert json.loads(answer["ChallengeParameters"]["requiredAttributes"]) == []
    tokens = idp.respond_to_auth_challenge(
        ClientId=user.pool.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=answer["Session"],
        ChallengeResponses={"USERNAME": user.name, "NEW_PASSWORD": NEW_PASSWORD}
    )["AuthenticationResult"]
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["iss"].endswith(user.pool.user_pool_id)  # the emulator's token
    assert claims["cognito:username"] == user.name
    # One store: the file, the emulator, USER_PASSWORD_AUTH, SRP and `make token` agree.
    assert credentials_file.lookup(user.pool.user_pool_id, user.name) == {
        "password": NEW_PASSWORD, "temporary": False}
    assert "AuthenticationResult" in idp.initiate_auth(
        ClientId=user.pool.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.name, "PASSWORD": NEW_PASSWORD})
    assert "AuthenticationResult" in _srp(idp, user, NEW_PASSWORD).authenticate_user()
    assert sign_in(world.clients.cognito, user.pool, user.name, credentials_file)["IdToken"]
    assert _error(lambda: _srp(idp, user, temporary).authenticate_user()) == (
        "NotAuthorizedException", "Incorrect username or password.")


def test_a_wrong_password_is_refused_on_both_flows(
        idp: CognitoIdentityProviderClient, world: World,
        credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    wrong = _temporary(credentials_file, user) + "x"
    assert _error(lambda: _srp(idp, user, wrong).authenticate_user()) == (
        "NotAuthorizedException", "Incorrect username or password.")
    assert _error(lambda: idp.initiate_auth(
        ClientId=user.pool.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.name, "PASSWORD": wrong})) == (
        "NotAuthorizedException", "Incorrect username or password.")


def test_make_token_passwords_work_here(idp: CognitoIdentityProviderClient, world: World,
                                       credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    world.tokens(user)  # make token's first login chooses and records a new password
    password = credentials_file.lookup(user.pool.user_pool_id, user.name)
    assert password is not None
    assert password["temporary"] is False
    assert "AuthenticationResult" in _srp(idp, user, str(password["password"])
                                          ).authenticate_user()


def test_user_password_auth_first_login(idp: CognitoIdentityProviderClient, world: World,
                                        credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    answer = idp.initiate_auth(
        ClientId=user.pool.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.name, "PASSWORD": _temporary(credentials_file, user)})
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert _error(lambda: idp.respond_to_auth_challenge(
        ClientId=user.pool.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=answer["Session"],
        ChallengeResponses={"USERNAME": user.name, "NEW_PASSWORD": "short"}))[0] == \
        "InvalidPasswordException"  # the pool's policy, and the session still stands
    tokens = idp.respond_to_auth_challenge(
        ClientId=user.pool.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=answer["Session"],
        ChallengeResponses={"USERNAME": user.name, "NEW_PASSWORD": NEW_PASSWORD})
    assert "IdToken" in tokens["AuthenticationResult"]
    assert _error(lambda: idp.respond_to_auth_challenge(  # used up
        ClientId=user.pool.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=answer["Session"],
        ChallengeResponses={"USERNAME": user.name, "NEW_PASSWORD": NEW_PASSWORD}))[0] == \
        "NotAuthorizedException"


def test_refresh_then_global_sign_out(idp: CognitoIdentityProviderClient, world: World,
                                      credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    tokens = _first_login(idp, user, _temporary(credentials_file, user))["AuthenticationResult"]

    def refresh() -> Any:
        return idp.initiate_auth(ClientId=user.pool.app_client_id,
                                 AuthFlow="REFRESH_TOKEN_AUTH",
                                 AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})

    assert refresh()["AuthenticationResult"]["IdToken"]
    me = idp.get_user(AccessToken=tokens["AccessToken"])
    assert me["Username"] == user.name
    idp.global_sign_out(AccessToken=tokens["AccessToken"])
    assert _error(refresh)[0] == "NotAuthorizedException"
    assert _error(lambda: idp.get_user(AccessToken=tokens["AccessToken"]))[0] == \
        "NotAuthorizedException"


def test_revoke_token(idp: CognitoIdentityProviderClient, world: World,
                      credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    tokens = _first_login(idp, user, _temporary(credentials_file, user))["AuthenticationResult"]
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=user.pool.app_client_id)
    assert _error(lambda: idp.initiate_auth(
        ClientId=user.pool.app_client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})) == (
        "NotAuthorizedException", "Refresh Token has been revoked")
    assert _error(lambda: idp.get_user(AccessToken=tokens["AccessToken"]))[0] == \
        "NotAuthorizedException"


def test_expired_sessions_are_refused(idp: CognitoIdentityProviderClient, world: World,
                                      credentials_file: CredentialsFile,
                                      moved_clock: FakeClock) -> None:
    clock = moved_clock
    user = world.operations_user()
    temporary = _temporary(credentials_file, user)
    srp = _srp(idp, user, temporary)
    params = srp.get_auth_params()
    challenge = idp.initiate_auth(ClientId=user.pool.app_client_id, AuthFlow="USER_SRP_AUTH",
                                  AuthParameters=params)
    clock.advance(181)
    assert _error(lambda: idp.respond_to_auth_challenge(
        ClientId=user.pool.app_client_id, ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp.process_challenge(challenge["ChallengeParameters"], params))) \
        == ("NotAuthorizedException", "Invalid session for the user, session is expired.")
    answer = idp.initiate_auth(
        ClientId=user.pool.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.name, "PASSWORD": temporary})
    clock.advance(179)
    clock.advance(2)
    assert _error(lambda: idp.respond_to_auth_challenge(
        ClientId=user.pool.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=answer["Session"],
        ChallengeResponses={"USERNAME": user.name, "NEW_PASSWORD": NEW_PASSWORD})) == (
        "NotAuthorizedException", "Invalid session for the user, session is expired.")


def test_change_password_and_attributes(idp: CognitoIdentityProviderClient, world: World,
                                        credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    tokens = _first_login(idp, user, _temporary(credentials_file, user))["AuthenticationResult"]
    access = tokens["AccessToken"]
    assert _error(lambda: idp.change_password(
        AccessToken=access, PreviousPassword="Not-The-Password-1",
        ProposedPassword="Another-Password-2"))[0] == "NotAuthorizedException"
    idp.change_password(AccessToken=access, PreviousPassword=NEW_PASSWORD,
                        ProposedPassword="Another-Password-2")
    assert "AuthenticationResult" in _srp(idp, user, "Another-Password-2").authenticate_user()
    assert credentials_file.lookup(user.pool.user_pool_id, user.name) == {
        "password": "Another-Password-2", "temporary": False}
    idp.update_user_attributes(AccessToken=access,
                               UserAttributes=[{"Name": "name", "Value": "Ada"}])
    attributes = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=access)[
        "UserAttributes"]}
    assert attributes["name"] == "Ada"
    assert _error(lambda: idp.update_user_attributes(  # the client may not write it
        AccessToken=access, UserAttributes=[{"Name": "custom:userRole",
                                             "Value": "SystemAdmin"}]))[0] == \
        "NotAuthorizedException"


def test_forgotten_password(idp: CognitoIdentityProviderClient, world: World,
                            credentials_file: CredentialsFile, reset_codes: ResetCodes,
                            moved_clock: FakeClock) -> None:
    clock = moved_clock
    user = world.operations_user()
    client_id = user.pool.app_client_id
    delivery = idp.forgot_password(ClientId=client_id, Username=user.name)
    assert delivery["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = reset_codes.lookup(user.pool.user_pool_id, user.name)
    assert code is not None
    assert reset_codes.path.parent == credentials_file.path.parent
    wrong = "000000" if code.code != "000000" else "111111"
    assert _error(lambda: idp.confirm_forgot_password(
        ClientId=client_id, Username=user.name, ConfirmationCode=wrong,
        Password="Reset-Password-3"))[0] == "CodeMismatchException"
    idp.confirm_forgot_password(ClientId=client_id, Username=user.name,
                                ConfirmationCode=code.code, Password="Reset-Password-3")
    assert "AuthenticationResult" in _srp(idp, user, "Reset-Password-3").authenticate_user()
    idp.forgot_password(ClientId=client_id, Username=user.name)
    late = reset_codes.lookup(user.pool.user_pool_id, user.name)
    assert late is not None
    clock.advance(3601)
    assert _error(lambda: idp.confirm_forgot_password(
        ClientId=client_id, Username=user.name, ConfirmationCode=late.code,
        Password="Reset-Password-4"))[0] == "ExpiredCodeException"

