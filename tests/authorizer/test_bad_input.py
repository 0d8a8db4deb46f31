"""Malformed headers, tokens and events give 401, never an exception that API Gateway would
turn into a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.gateway_policy import method_arn
from tests.support.world import World, claims_for, mint


def b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


RS256 = {"alg": "RS256", "typ": "JWT", "kid": "dummy"}
BAD_HEADERS: list[Any] = [
    "", " ", "Bearer", "Bearer ", "bearer", "Bearer  ", "Token abc", "Bearer a.b",
    "Bearer a.b.c.d", "Bearer ...", "Bearer \x00\x01", "Bearer " + "A" * 100_000,
    "Bearer " + "é" * 50, 12345, None, ["Bearer x"], {"token": "x"}, b"Bearer x",
    f"Bearer {b64(RS256)}.{b64(b'not json')}.sig",
    f"Bearer {b64(RS256)}.{b64([1, 2, 3])}.sig",
    f"Bearer {b64(b'[1]')}.{b64({'iss': 'x'})}.sig",
    f"Bearer {b64({'alg': 'RS256'})}.{b64({'iss': 'x'})}.sig",  # no kid
    f"Bearer {b64({**RS256, 'kid': 7})}.{b64({'iss': 'x'})}.sig",
    f"Bearer {b64(RS256)}.{b64({'iss': 42})}.sig",
    f"Bearer {b64(RS256)}.{b64({'iss': None})}.sig",
]


@pytest.mark.parametrize("header", BAD_HEADERS, ids=range(len(BAD_HEADERS)))
def test_malformed_headers(subject: AuthorizerUnderTest, header: Any) -> None:
    with pytest.raises(Unauthorized):
        subject.authorizer.authorize({"type": "TOKEN", "authorizationToken": header,
                                      "methodArn": method_arn("admin", "GET", "/tenants")})


def test_malformed_claims_of_correctly_signed_tokens(subject: AuthorizerUnderTest,
                                                     world: World) -> None:
    user = world.tenant_user(world.pooled_tenant())
    variants: list[dict[str, Any]] = [
        {"custom:tenantId": ["list"]}, {"custom:tenantId": 7}, {"custom:tenantId": "../x"},
        {"custom:userRole": "Root"}, {"custom:userRole": None}, {"cognito:username": ""},
        {"cognito:username": 5}, {"aud": ["a", "b"]}, {"exp": "soon"}, {"iss": ["list"]},
        {"token_use": None},
    ]
    for override in variants:
        token = mint(claims_for(user, **override))
        with pytest.raises(Unauthorized):
            subject.authorizer.authorize({"type": "TOKEN", "authorizationToken": f"Bearer {token}",
                                          "methodArn": method_arn("admin", "GET", "/tenants")})


@pytest.mark.parametrize("method_arn_value", [None, "", "arn", "not-an-arn", 17,
                                              "arn:aws:execute-api:us-east-1:1:api"])
def test_malformed_method_arn(subject: AuthorizerUnderTest, world: World,
                              method_arn_value: Any) -> None:
    token = world.id_token(world.operations_user())
    with pytest.raises(Unauthorized):
        subject.authorizer.authorize({"type": "TOKEN", "authorizationToken": f"Bearer {token}",
                                      "methodArn": method_arn_value})
