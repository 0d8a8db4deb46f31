"""Whatever a client sends, the endpoint answers as Cognito does: a 400 with Cognito's error
type in the body (``__type``) and in ``x-amzn-ErrorType``, never a 5xx or a dropped
connection; browsers get their CORS preflight and headers."""

from __future__ import annotations

import http.client
import json
from typing import TYPE_CHECKING, Any

import pytest
from pycognito.aws_srp import AWSSRP

from pipeline.local_cloud.cognito.endpoint import CognitoEndpoint
from tenant_context.platform.invitations import CredentialsFile
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

TARGET = "AWSCognitoIdentityProviderService."


def _post(endpoint: CognitoEndpoint, body: bytes | str | object, operation: str = "InitiateAuth",
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    raw = body if isinstance(body, bytes) else (
        body.encode() if isinstance(body, str) else json.dumps(body).encode())
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    try:
        connection.request("POST", "/", body=raw, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + operation,
            **(headers or {})})
        response = connection.getresponse()
        payload = json.loads(response.read() or b"{}")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        connection.close()


def _refused(answer: tuple[int, dict[str, str], dict[str, Any]], error_type: str) -> str:
    status, headers, body = answer
    assert (status, body.get("__type"), headers.get("x-amzn-errortype")) == (
        400, error_type, error_type), answer
    assert headers["access-control-allow-origin"] == "*"
    return str(body["message"])


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"[1, 2]", b"\"text\"", b"null"])
def test_malformed_json(endpoint: CognitoEndpoint, body: bytes) -> None:
    _refused(_post(endpoint, body), "SerializationException")


def test_unknown_user_and_client(endpoint: CognitoEndpoint, world: World) -> None:
    pool = world.settings.operations_pool
    assert _refused(_post(endpoint, {
        "ClientId": pool.app_client_id, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "nobody", "PASSWORD": "Whatever-123"}}),
        "NotAuthorizedException") == "Incorrect username or password."
    _refused(_post(endpoint, {
        "ClientId": "nosuchclient", "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "nobody", "PASSWORD": "Whatever-123"}}),
        "ResourceNotFoundException")
    _refused(_post(endpoint, {"ClientId": "../../x", "AuthFlow": "USER_SRP_AUTH"}),
             "InvalidParameterException")


def test_unknown_user_over_srp_fails_at_the_proof(
        idp: CognitoIdentityProviderClient, world: World) -> None:
    pool = world.settings.operations_pool
    srp = AWSSRP("nobody", "Whatever-123", pool.user_pool_id, pool.app_client_id, client=idp)
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        srp.authenticate_user()


@pytest.mark.parametrize("body", [
    {},
    {"ClientId": 5, "AuthFlow": "USER_SRP_AUTH"},
    {"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "admin", "SRP_A": "0"}},
    {"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "admin", "SRP_A": "zz"}},
    {"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "admin"}},
    {"AuthFlow": "USER_SRP_AUTH", "AuthParameters": ["USERNAME"]},
    {"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": 1, "PASSWORD": "x"}},
])
def test_bad_parameters(endpoint: CognitoEndpoint, world: World, body: dict[str, object]
                        ) -> None:
    client = {"ClientId": world.settings.operations_pool.app_client_id}
    _refused(_post(endpoint, {**client, **body}), "InvalidParameterException")


def test_wrong_proof_and_wrong_challenge_answers(
        endpoint: CognitoEndpoint, idp: CognitoIdentityProviderClient, world: World,
        credentials_file: CredentialsFile) -> None:
    user = world.operations_user()
    entry = credentials_file.lookup(user.pool.user_pool_id, user.name)
    assert entry is not None
    srp = AWSSRP(user.name, str(entry["password"]), user.pool.user_pool_id,
                 user.pool.app_client_id, client=idp)
    params = srp.get_auth_params()
    challenge = idp.initiate_auth(ClientId=user.pool.app_client_id, AuthFlow="USER_SRP_AUTH",
                                  AuthParameters=params)["ChallengeParameters"]
    answer = srp.process_challenge(challenge, params)
    client = {"ClientId": user.pool.app_client_id, "ChallengeName": "PASSWORD_VERIFIER"}
    assert _refused(_post(endpoint, {**client, "ChallengeResponses": {
        **answer, "PASSWORD_CLAIM_SIGNATURE": "AAAA"}}, "RespondToAuthChallenge"),
        "NotAuthorizedException") == "Incorrect username or password."
    # The challenge was used up by the wrong answer, as Cognito's is.
    assert _refused(_post(endpoint, {**client, "ChallengeResponses": answer},
                          "RespondToAuthChallenge"), "NotAuthorizedException") == \
        "Invalid session for the user."
    _refused(_post(endpoint, {**client, "ChallengeResponses": {"USERNAME": user.name}},
                   "RespondToAuthChallenge"), "InvalidParameterException")
    _refused(_post(endpoint, {"ClientId": user.pool.app_client_id,
                              "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "forged",
                              "ChallengeResponses": {"USERNAME": user.name,
                                                     "NEW_PASSWORD": "Brand-New-1!"}},
                   "RespondToAuthChallenge"), "NotAuthorizedException")
    first = idp.initiate_auth(ClientId=user.pool.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": user.name,
                                              "PASSWORD": str(entry["password"])})
    _refused(_post(endpoint, {"ClientId": user.pool.app_client_id,
                              "ChallengeName": "NEW_PASSWORD_REQUIRED",
                              "Session": first["Session"],
                              "ChallengeResponses": {"USERNAME": user.name}},
                   "RespondToAuthChallenge"), "InvalidParameterException")


def test_bad_access_tokens(endpoint: CognitoEndpoint) -> None:
    for token in ("not-a-jwt", "a.b.c", ""):
        status, _, body = _post(endpoint, {"AccessToken": token}, "GetUser")
        assert status == 400
        assert body["__type"] in (
            "NotAuthorizedException", "InvalidParameterException")


def test_framing_and_targets(endpoint: CognitoEndpoint) -> None:
    _refused(_post(endpoint, {}, "Not-An-Operation!"), "UnknownOperationException")
    _refused(_post(endpoint, b"{}", headers={"Content-Length": "x1"}),
             "SerializationException")


def test_other_operations_reach_the_emulator_unchanged(endpoint: CognitoEndpoint,
                                                       world: World) -> None:
    pool_id = world.settings.operations_pool.user_pool_id
    status, _, body = _post(endpoint, {"UserPoolId": pool_id}, "DescribeUserPool")
    assert status == 200
    assert body["UserPool"]["Id"] == pool_id
    status, _, body = _post(endpoint, {"UserPoolId": "us-east-1_nope"}, "DescribeUserPool")
    assert status == 400
    assert body["__type"] == "ResourceNotFoundException"


def test_cors_preflight(endpoint: CognitoEndpoint) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    connection.request("OPTIONS", "/", headers={
        "Origin": "http://localhost:4200", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200
    allowed = (response.getheader("Access-Control-Allow-Headers") or "").lower()
    assert {"content-type", "x-amz-target", "x-amz-user-agent"} <= set(allowed.split(","))
    assert response.getheader("Access-Control-Allow-Origin") == "*"
