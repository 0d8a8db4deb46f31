"""The Cognito operations the web apps and ``make token`` use, done as Cognito does them, with
the emulator issuing the tokens (so their issuer, key and claims stay the ones our authorizer
verifies today).

Passwords are checked here: ``USER_SRP_AUTH`` by a real SRP exchange against the password
store, ``USER_PASSWORD_AUTH`` by the emulator (kept in step with the store). Once the password
is proven, the tokens come from the emulator's ``AdminInitiateAuth`` with that password; a user
whose password is temporary gets OUR ``NEW_PASSWORD_REQUIRED`` challenge (with the
``userAttributes`` and ``requiredAttributes`` JSON strings Cognito sends), and the new password
goes through the store, so it works on every path and survives a restart.

``USER_ID_FOR_SRP`` is the user name, as Cognito sends it for pools whose users sign in by
user name (ours); a challenge answer naming the user's ``sub`` is accepted as well.
Operations with an access token ask the emulator whose token it is (it forgets tokens at a
global sign-out) and then act through admin calls, which the emulator replays at a restart.
An operation or flow not handled here answers None: the endpoint passes it on unchanged.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import jwt
from botocore.exceptions import ClientError

from pipeline.local_cloud.cognito.errors import (
    CognitoError,
    invalid_parameter,
    not_authorized,
)
from pipeline.local_cloud.cognito.passwords import PasswordStore, ResetCodes
from pipeline.local_cloud.cognito.sessions import (
    Clock,
    SessionExpiredError,
    Sessions,
    UnknownSessionError,
)
from pipeline.local_cloud.cognito.srp import ServerExchange, SrpError, parse_public_value

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

Body = Mapping[str, Any]
Answer = dict[str, Any]
ATTRIBUTE_PREFIX = "userAttributes."  # NEW_PASSWORD_REQUIRED's attribute answers
State = TypeVar("State")
_CLIENT_ID = re.compile(r"[\w+]{1,128}")
_SESSION_EXPIRED = "Invalid session for the user, session is expired."
_SESSION_INVALID = "Invalid session for the user."


def client_error(error: ClientError) -> CognitoError:
    """The emulator's error, passed on as it answered it."""
    details = error.response.get("Error", {})
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    return CognitoError(details.get("Code", "InternalErrorException"),
                        details.get("Message", ""), int(status))


def _text(body: Body, name: str, owner: str = "") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise invalid_parameter(f"Missing required parameter {owner}{name}")
    return value


def _strings(body: Body, name: str) -> dict[str, str]:
    value = body.get(name, {})
    if not isinstance(value, dict) or not all(
            isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise invalid_parameter(f"{name} must be a map of strings")
    return value


@dataclass(frozen=True)
class AppClient:
    user_pool_id: str
    client_id: str
    auth_flows: frozenset[str]
    write_attributes: frozenset[str] | None  # None: the client may write every attribute

    @property
    def pool_name(self) -> str:
        """The pool id without its region, as the SRP exchange names the pool."""
        return self.user_pool_id.split("_", 1)[-1]

    def allows(self, flow: str) -> bool:
        return f"ALLOW_{flow}" in self.auth_flows

    def check_writable(self, names: list[str]) -> None:
        refused = [name for name in names
                   if self.write_attributes is not None and name not in self.write_attributes]
        if refused:
            raise not_authorized("A client attempted to write unauthorized attribute")


class ClientDirectory:
    """Which pool an app client belongs to (a request names only the client), read from the
    emulator and cached; read again for a client it has not seen (a new tenant's pool)."""

    def __init__(self, cognito: CognitoIdentityProviderClient) -> None:
        self._cognito = cognito
        self._clients: dict[str, AppClient] = {}
        self._required: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def client(self, client_id: str) -> AppClient:
        if not _CLIENT_ID.fullmatch(client_id):
            raise invalid_parameter("1 validation error detected: Value at 'clientId' failed "
                                    "to satisfy constraint: Member must satisfy regular "
                                    "expression pattern: [\\w+]+")
        with self._lock:
            if client_id not in self._clients:
                self._read_clients()
            found = self._clients.get(client_id)
        if found is None:
            raise CognitoError("ResourceNotFoundException",
                               f"User pool client {client_id} does not exist.")
        return found

    def _read_clients(self) -> None:
        pools = self._cognito.get_paginator("list_user_pools").paginate(
            PaginationConfig={"PageSize": 60})
        for page in pools:
            for pool in page.get("UserPools", []):
                pool_id = pool.get("Id", "")
                clients = self._cognito.get_paginator("list_user_pool_clients").paginate(
                    UserPoolId=pool_id, PaginationConfig={"PageSize": 60})
                for client_page in clients:
                    for listed in client_page.get("UserPoolClients", []):
                        if listed.get("ClientId", "") not in self._clients:
                            self._describe(pool_id, listed.get("ClientId", ""))

    def _describe(self, pool_id: str, client_id: str) -> None:
        client = self._cognito.describe_user_pool_client(
            UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
        writable = client.get("WriteAttributes")
        self._clients[client_id] = AppClient(
            pool_id, client_id, frozenset(client.get("ExplicitAuthFlows", [])),
            frozenset(writable) if writable else None)

    def required_attributes(self, pool_id: str) -> list[str]:
        """The pool's schema attributes every user must have."""
        with self._lock:
            if pool_id not in self._required:
                schema = self._cognito.describe_user_pool(
                    UserPoolId=pool_id)["UserPool"].get("SchemaAttributes", [])
                self._required[pool_id] = [attribute.get("Name", "") for attribute in schema
                                           if attribute.get("Required")]
            return self._required[pool_id]


@dataclass(frozen=True)
class PoolUser:
    user_name: str
    attributes: dict[str, str]
    enabled: bool
    status: str

    @property
    def sub(self) -> str:
        return self.attributes.get("sub", "")


@dataclass(frozen=True)
class SrpState:
    client: AppClient
    exchange: ServerExchange
    user: PoolUser | None  # None: no such user, or no password known (the proof cannot match)


@dataclass(frozen=True)
class NewPasswordState:
    client: AppClient
    user: PoolUser


class Revocations:
    """Refresh tokens revoked by ``RevokeToken`` (the emulator has no such operation) and the
    access tokens issued from them (by their ``origin_jti``), in memory."""

    def __init__(self) -> None:
        self._origins: dict[str, str] = {}  # refresh token -> origin_jti of its tokens
        self._revoked_tokens: set[str] = set()
        self._revoked_origins: set[str] = set()
        self._lock = threading.Lock()

    def issued(self, result: Mapping[str, Any]) -> None:
        refresh, access = result.get("RefreshToken"), result.get("AccessToken")
        if isinstance(refresh, str) and isinstance(access, str):
            origin = jwt.decode(access, options={"verify_signature": False}).get("origin_jti")
            if isinstance(origin, str):
                with self._lock:
                    self._origins[refresh] = origin

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._revoked_tokens.add(refresh_token)
            origin = self._origins.get(refresh_token)
            if origin:
                self._revoked_origins.add(origin)

    def refresh_revoked(self, refresh_token: str) -> bool:
        with self._lock:
            return refresh_token in self._revoked_tokens

    def origin_revoked(self, origin: object) -> bool:
        with self._lock:
            return origin in self._revoked_origins


@dataclass(frozen=True)
class Caller:
    """Whose access token a request carries."""
    user_pool_id: str
    user_name: str
    client_id: str


class CognitoFlows:
    def __init__(self, cognito: CognitoIdentityProviderClient, passwords: PasswordStore,
                 reset_codes: ResetCodes, clock: Clock = time.time) -> None:
        self._cognito = cognito
        self._passwords = passwords
        self._reset_codes = reset_codes
        self._clock = clock
        self._clients = ClientDirectory(cognito)
        self._exchanges: Sessions[SrpState] = Sessions(clock)
        self._challenges: Sessions[NewPasswordState] = Sessions(clock)
        self._revocations = Revocations()
        self._operations = {
            "InitiateAuth": self.initiate_auth,
            "RespondToAuthChallenge": self.respond_to_auth_challenge,
            "ChangePassword": self.change_password,
            "ForgotPassword": self.forgot_password,
            "ConfirmForgotPassword": self.confirm_forgot_password,
            "GetUser": self.get_user,
            "UpdateUserAttributes": self.update_user_attributes,
            "GlobalSignOut": self.global_sign_out,
            "RevokeToken": self.revoke_token,
        }

    def handle(self, operation: str, body: Body) -> Answer | None:
        """The operation's answer; None when the emulator should answer it unchanged."""
        handler = self._operations.get(operation)
        if handler is None:
            return None
        try:
            return handler(body)
        except ClientError as error:
            raise client_error(error) from error

    # --- signing in -------------------------------------------------------------------

    def initiate_auth(self, body: Body) -> Answer | None:
        flow = _text(body, "AuthFlow")
        client = self._clients.client(_text(body, "ClientId"))
        parameters = _strings(body, "AuthParameters")
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self._refresh(client, _text(parameters, "REFRESH_TOKEN"))
        if flow not in ("USER_SRP_AUTH", "USER_PASSWORD_AUTH"):
            return None
        if not client.allows(flow):
            raise invalid_parameter(f"{flow} flow not enabled for this client")
        user_name = _text(parameters, "USERNAME")
        if flow == "USER_PASSWORD_AUTH":
            user = self._usable_user(client, user_name)
            return self._signed_in(client, user, _text(parameters, "PASSWORD"))
        return self._start_srp(client, user_name, _text(parameters, "SRP_A"))

    def _start_srp(self, client: AppClient, user_name: str, srp_a: str) -> Answer:
        try:
            big_a = parse_public_value(srp_a)
        except SrpError as error:
            raise invalid_parameter(str(error)) from error
        user = self._user(client.user_pool_id, user_name)
        if user is not None and not user.enabled:
            raise not_authorized("User is disabled.")
        password = self._passwords.password(client.user_pool_id, user.user_name) if user else None
        # Unknown users get a challenge too (the clients prevent user existence errors):
        # no proof can match a password nobody knows.
        user_id = user.user_name if user else user_name
        exchange = ServerExchange.start(client.pool_name, user_id,
                                        password or ServerExchange.__name__ + srp_a, big_a)
        self._exchanges.open(SrpState(client, exchange, user if password else None),
                             key=exchange.secret_block_text)
        return {"ChallengeName": "PASSWORD_VERIFIER",
                "ChallengeParameters": {**exchange.challenge_parameters(),
                                        "USERNAME": user_id, "USER_ID_FOR_SRP": user_id}}

    def respond_to_auth_challenge(self, body: Body) -> Answer | None:
        challenge = _text(body, "ChallengeName")
        client = self._clients.client(_text(body, "ClientId"))
        responses = _strings(body, "ChallengeResponses")
        if challenge == "PASSWORD_VERIFIER":
            return self._verify_password(client, responses)
        if challenge == "NEW_PASSWORD_REQUIRED":
            return self._new_password(client, _text(body, "Session"), responses)
        return None

    def _verify_password(self, client: AppClient, responses: dict[str, str]) -> Answer:
        block = _text(responses, "PASSWORD_CLAIM_SECRET_BLOCK", "ChallengeResponses.")
        signature = _text(responses, "PASSWORD_CLAIM_SIGNATURE", "ChallengeResponses.")
        timestamp = _text(responses, "TIMESTAMP", "ChallengeResponses.")
        user_name = _text(responses, "USERNAME", "ChallengeResponses.")
        state = self._session(self._exchanges, block)
        self._exchanges.close(block)  # one answer per challenge, right or wrong
        user = state.user
        if state.client != client or user is None or \
                user_name not in (user.user_name, user.sub) or \
                not state.exchange.verifies(signature, timestamp):
            raise not_authorized()
        password = self._passwords.password(client.user_pool_id, user.user_name)
        return self._signed_in(client, user, password or "")

    def _new_password(self, client: AppClient, session: str,
                      responses: dict[str, str]) -> Answer:
        state = self._session(self._challenges, session)
        user = state.user
        if state.client != client or responses.get("USERNAME", user.user_name) not in (
                user.user_name, user.sub):
            raise not_authorized(_SESSION_INVALID)
        new_password = _text(responses, "NEW_PASSWORD", "ChallengeResponses.")
        attributes = {name[len(ATTRIBUTE_PREFIX):]: value for name, value in responses.items()
                      if name.startswith(ATTRIBUTE_PREFIX)}
        missing = [name for name in self._missing_attributes(client, user)
                   if name not in attributes]
        if missing:
            raise invalid_parameter(f"Missing required attributes: {', '.join(missing)}")
        client.check_writable(list(attributes))
        self._passwords.set_password(client.user_pool_id, user.user_name, new_password)
        if attributes:
            self._cognito.admin_update_user_attributes(
                UserPoolId=client.user_pool_id, Username=user.user_name,
                UserAttributes=[{"Name": name, "Value": value}
                                for name, value in attributes.items()])
        self._challenges.close(session)
        return self._signed_in(client, user, new_password)

    def _signed_in(self, client: AppClient, user: PoolUser, password: str) -> Answer:
        """The emulator's tokens for a user whose password is proven (the emulator checks it
        again), or the first-login challenge for a temporary password."""
        try:
            response = self._cognito.admin_initiate_auth(
                UserPoolId=client.user_pool_id, ClientId=client.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user.user_name, "PASSWORD": password})
        except self._cognito.exceptions.NotAuthorizedException as error:
            disabled = "disabled" in str(error)
            raise (not_authorized("User is disabled.") if disabled else not_authorized()
                   ) from error
        except self._cognito.exceptions.UserNotFoundException as error:
            raise not_authorized() from error
        if response.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            return self._first_login(client, user)
        if "AuthenticationResult" not in response:
            raise CognitoError("InternalErrorException",
                               f"unexpected challenge {response.get('ChallengeName')}", 500)
        result = dict(response["AuthenticationResult"])
        self._revocations.issued(result)
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    def _first_login(self, client: AppClient, user: PoolUser) -> Answer:
        session = self._challenges.open(NewPasswordState(client, user))
        shown = {name: value for name, value in user.attributes.items() if name != "sub"}
        required = [ATTRIBUTE_PREFIX + name for name in self._missing_attributes(client, user)]
        return {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                "ChallengeParameters": {"USER_ID_FOR_SRP": user.user_name,
                                        "userAttributes": json.dumps(shown),
                                        "requiredAttributes": json.dumps(required)}}

    def _missing_attributes(self, client: AppClient, user: PoolUser) -> list[str]:
        return [name for name in self._clients.required_attributes(client.user_pool_id)
                if name not in user.attributes]

    def _refresh(self, client: AppClient, refresh_token: str) -> Answer:
        if self._revocations.refresh_revoked(refresh_token):
            raise not_authorized("Refresh Token has been revoked")
        response = self._cognito.initiate_auth(
            ClientId=client.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token})
        return {"ChallengeParameters": {},
                "AuthenticationResult": dict(response.get("AuthenticationResult", {}))}

    # --- the signed-in user's own operations (access token) ---------------------------

    def _caller(self, body: Body) -> Caller:
        token = _text(body, "AccessToken")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise not_authorized("Invalid Access Token") from error
        try:  # the emulator knows every token it issued and forgets them at sign-out
            user_name = self._cognito.get_user(AccessToken=token)["Username"]
        except self._cognito.exceptions.NotAuthorizedException as error:
            raise not_authorized("Access Token has been revoked") from error
        if self._revocations.origin_revoked(claims.get("origin_jti")):
            raise not_authorized("Access Token has been revoked")
        expires = claims.get("exp")
        if not isinstance(expires, int) or expires <= self._clock():
            raise not_authorized("Access Token has expired")
        issuer, client_id = claims.get("iss"), claims.get("client_id")
        if not isinstance(issuer, str) or not isinstance(client_id, str) or \
                claims.get("token_use") != "access":
            raise not_authorized("Invalid Access Token")
        return Caller(issuer.rsplit("/", 1)[-1], user_name, client_id)

    def get_user(self, body: Body) -> Answer:
        caller = self._caller(body)
        user = self._cognito.admin_get_user(UserPoolId=caller.user_pool_id,
                                            Username=caller.user_name)
        return {"Username": user["Username"], "UserAttributes": user.get("UserAttributes", [])}

    def change_password(self, body: Body) -> Answer:
        previous = _text(body, "PreviousPassword")
        proposed = _text(body, "ProposedPassword")
        caller = self._caller(body)
        try:
            self._cognito.admin_initiate_auth(
                UserPoolId=caller.user_pool_id, ClientId=caller.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": caller.user_name, "PASSWORD": previous})
        except self._cognito.exceptions.NotAuthorizedException as error:
            raise not_authorized() from error
        self._passwords.set_password(caller.user_pool_id, caller.user_name, proposed)
        return {}

    def update_user_attributes(self, body: Body) -> Answer:
        raw = body.get("UserAttributes")
        if not isinstance(raw, list) or not all(
                isinstance(item, dict) and isinstance(item.get("Name"), str)
                and isinstance(item.get("Value", ""), str) for item in raw):
            raise invalid_parameter("UserAttributes must be a list of {Name, Value}")
        caller = self._caller(body)
        self._clients.client(caller.client_id).check_writable(
            [item["Name"] for item in raw])
        self._cognito.admin_update_user_attributes(
            UserPoolId=caller.user_pool_id, Username=caller.user_name,
            UserAttributes=[{"Name": item["Name"], "Value": item.get("Value", "")}
                            for item in raw])
        return {"CodeDeliveryDetailsList": []}

    def global_sign_out(self, body: Body) -> Answer:
        caller = self._caller(body)
        self._cognito.admin_user_global_sign_out(UserPoolId=caller.user_pool_id,
                                                 Username=caller.user_name)
        return {}

    def revoke_token(self, body: Body) -> Answer:
        token = _text(body, "Token")
        self._clients.client(_text(body, "ClientId"))
        self._revocations.revoke(token)
        return {}

    # --- forgotten passwords ----------------------------------------------------------

    def forgot_password(self, body: Body) -> Answer:
        client = self._clients.client(_text(body, "ClientId"))
        user_name = _text(body, "Username")
        user = self._user(client.user_pool_id, user_name)
        email = user.attributes.get("email", "") if user else ""
        if user is not None and user.enabled:
            self._reset_codes.issue(client.user_pool_id, user.user_name)
        local, _, domain = (email or f"{user_name}@example.com").partition("@")
        return {"CodeDeliveryDetails": {"Destination": f"{local[:1]}***@{domain[:1]}***",
                                        "DeliveryMedium": "EMAIL", "AttributeName": "email"}}

    def confirm_forgot_password(self, body: Body) -> Answer:
        client = self._clients.client(_text(body, "ClientId"))
        user_name = _text(body, "Username")
        code = _text(body, "ConfirmationCode")
        password = _text(body, "Password")
        user = self._user(client.user_pool_id, user_name)
        issued = self._reset_codes.lookup(client.user_pool_id, user.user_name) if user else None
        if user is None or issued is None or issued.code != code:
            raise CognitoError("CodeMismatchException",
                               "Invalid verification code provided, please try again.")
        if self._reset_codes.expired(issued):
            raise CognitoError("ExpiredCodeException",
                               "Invalid code provided, please request a code again.")
        self._passwords.set_password(client.user_pool_id, user.user_name, password)
        self._reset_codes.discard(client.user_pool_id, user.user_name)
        return {}

    # --- helpers ----------------------------------------------------------------------

    def _user(self, user_pool_id: str, user_name: str) -> PoolUser | None:
        try:
            user = self._cognito.admin_get_user(UserPoolId=user_pool_id, Username=user_name)
        except self._cognito.exceptions.UserNotFoundException:
            return None
        return PoolUser(user["Username"],
                        {attribute["Name"]: attribute.get("Value", "")
                         for attribute in user.get("UserAttributes", [])},
                        user.get("Enabled", True), str(user.get("UserStatus", "")))

    def _usable_user(self, client: AppClient, user_name: str) -> PoolUser:
        user = self._user(client.user_pool_id, user_name)
        if user is None:
            raise not_authorized()  # the clients prevent user existence errors
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return user

    @staticmethod
    def _session(sessions: Sessions[State], key: str) -> State:
        try:
            return sessions.get(key)
        except SessionExpiredError as error:
            raise not_authorized(_SESSION_EXPIRED) from error
        except UnknownSessionError as error:
            raise not_authorized(_SESSION_INVALID) from error
