"""Every token the issue lists as refused gets 401 (``Unauthorized``), never a policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.provisioning.baseline_bootstrap import ensure_user_pool
from tenant_context.platform.definitions import UserPoolDefinition
from tenant_context.tenancy import Role, new_tenant_id
from tests.support.authorizer_under_test import AuthorizerUnderTest
from tests.support.gateway_policy import token_event
from tests.support.world import MOTO_KID, World, claims_for, issuer, mint


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(subject: AuthorizerUnderTest, header: str | None, api_id: str = "admin") -> str:
    event = token_event(None, api_id)
    if header is not None:
        event["authorizationToken"] = header
    with pytest.raises(Unauthorized) as denial:
        subject.authorizer.authorize(event)
    assert str(denial.value) == "Unauthorized"  # the message API Gateway turns into 401
    return denial.value.reason


def test_no_header(subject: AuthorizerUnderTest) -> None:
    refused(subject, None)


def test_not_bearer(subject: AuthorizerUnderTest, world: World) -> None:
    token = world.id_token(world.operations_user())
    refused(subject, f"Basic {token}")
    refused(subject, token)


def test_garbage(subject: AuthorizerUnderTest) -> None:
    refused(subject, "Bearer not-a-jwt")


def test_alg_none(subject: AuthorizerUnderTest, world: World) -> None:
    claims = claims_for(world.operations_user())
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": MOTO_KID}).encode())
    payload = b64(json.dumps({**claims, "token_use": "id", "exp": 2**31}).encode())
    assert "algorithm" in refused(subject, f"Bearer {header}.{payload}.")


def test_hs256_signed_with_the_public_key(subject: AuthorizerUnderTest, world: World,
                                          emulator_url: str) -> None:
    """The classic key-confusion attack: HMAC keyed with the RSA public key (PEM)."""
    user = world.operations_user()
    jwks = requests.get(f"{emulator_url}/{user.pool.user_pool_id}/.well-known/jwks.json",
                        timeout=5).json()
    public_pem = jwt.PyJWK(jwks["keys"][0]).key.public_bytes(
        encoding=Encoding.PEM, format=PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": MOTO_KID}).encode())
    payload = b64(json.dumps({**claims_for(user), "token_use": "id", "exp": 2**31}).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert "algorithm" in refused(subject, f"Bearer {header}.{payload}.{b64(signature)}")


def test_unknown_kid(subject: AuthorizerUnderTest, world: World) -> None:
    token = mint(claims_for(world.operations_user()), kid="rotated-away")
    assert "signing key" in refused(subject, f"Bearer {token}")


def test_expired(subject: AuthorizerUnderTest, world: World) -> None:
    token = mint(claims_for(world.operations_user()), lifetime=-60)
    assert "expired" in refused(subject, f"Bearer {token}")


def test_access_token(subject: AuthorizerUnderTest, world: World) -> None:
    """A real access token from the emulator: right pool and key, wrong token_use."""
    access_token = world.tokens(world.operations_user())["AccessToken"]
    refused(subject, f"Bearer {access_token}")
    minted = mint(claims_for(world.operations_user(), token_use="access"))
    assert "not an ID token" in refused(subject, f"Bearer {minted}")


def test_another_clients_audience(subject: AuthorizerUnderTest, world: World) -> None:
    operations = world.operations_user()
    for audience in (world.settings.pooled_pool.app_client_id, "some-other-client"):
        token = mint(claims_for(operations, aud=audience))
        assert "audience" in refused(subject, f"Bearer {token}").lower()


def test_another_pools_issuer(subject: AuthorizerUnderTest, world: World) -> None:
    """The emulator signs every pool with ONE key: only iss/aud tell the pools apart."""
    stranger_pool = ensure_user_pool(world.clients.cognito, UserPoolDefinition(
        "Stranger", "stranger-pool", "StrangerClient", "stranger-client"))
    unknown_pool = f"pool {stranger_pool.user_pool_id} names no valid tenant"
    stranger = world.user(stranger_pool, Role.SYSTEM_ADMIN)
    # A real token of a pool nobody registered, and the admin's claims re-issued by it.
    assert unknown_pool in refused(subject, f"Bearer {world.id_token(stranger)}")
    admin = world.operations_user()
    forged = mint(claims_for(admin, iss=issuer(stranger_pool.user_pool_id)))
    assert unknown_pool in refused(subject, f"Bearer {forged}")
    not_cognito = mint(claims_for(admin, iss="https://evil.example.com/pool"))
    assert "issuer is not a Cognito pool" in refused(subject, f"Bearer {not_cognito}")
    # The operations pool's issuer with the pooled pool's client: the audience tells.
    pooled = world.pooled_tenant()
    pooled_user = world.tenant_user(pooled)
    crossed = mint(claims_for(pooled_user,
                              iss=issuer(world.settings.operations_pool.user_pool_id)))
    assert "Audience doesn't match" in refused(subject, f"Bearer {crossed}")
    # A Platinum tenant's pool issuing for a pooled tenant is not that tenant's pool.
    platinum = world.platinum_tenant()
    wrong_pool = mint(claims_for(pooled_user, iss=issuer(platinum.pool.user_pool_id),
                                 aud=platinum.pool.app_client_id))
    assert (f"pool {platinum.pool.user_pool_id} is not registered for tenant "
            f"{pooled.tenant_id}") in refused(subject, f"Bearer {wrong_pool}")


def test_a_stranger_pool_claiming_a_real_pooled_tenant(subject: AuthorizerUnderTest,
                                                       world: World) -> None:
    """A pool that is registered nowhere vouches for nobody, whatever tenant it names."""
    stranger_pool = ensure_user_pool(world.clients.cognito, UserPoolDefinition(
        "Stranger", "stranger-pool", "StrangerClient", "stranger-client"))
    pooled = world.pooled_tenant()
    not_registered = (f"pool {stranger_pool.user_pool_id} is not registered for tenant "
                      f"{pooled.tenant_id}")
    # A real user of the stranger pool, with the real tenant's id in its attributes ...
    impostor = world.user(stranger_pool, Role.TENANT_ADMIN, pooled.tenant_id)
    assert not_registered in refused(subject, f"Bearer {world.id_token(impostor)}")
    # ... and a pooled tenant admin's own claims, re-issued by the stranger pool.
    genuine = world.tenant_user(pooled)
    forged = mint(claims_for(genuine, iss=issuer(stranger_pool.user_pool_id),
                             aud=stranger_pool.app_client_id))
    assert not_registered in refused(subject, f"Bearer {forged}")
    # The same claims from the pool the tenant IS registered in are accepted: the refusals
    # above are the pool's doing, not the claims'.
    accepted = subject.authorizer.authorize(token_event(mint(claims_for(genuine)), "admin",
                                                        "GET", "/users"))
    assert accepted["context"]["tenantId"] == pooled.tenant_id


def test_unknown_tenant(subject: AuthorizerUnderTest, world: World) -> None:
    ghost = world.user(world.settings.pooled_pool, Role.TENANT_ADMIN, new_tenant_id())
    assert "unknown tenant" in refused(subject, f"Bearer {world.id_token(ghost)}")


def test_deactivated_tenant(subject: AuthorizerUnderTest, world: World) -> None:
    tenant = world.pooled_tenant(active=False)
    user = world.tenant_user(tenant)
    assert "deactivated" in refused(subject, f"Bearer {world.id_token(user)}")


def test_system_admin_claim_from_a_tenant_pool(subject: AuthorizerUnderTest,
                                               world: World) -> None:
    tenant = world.pooled_tenant()
    impostor = world.user(tenant.pool, Role.SYSTEM_ADMIN, tenant.tenant_id)
    assert "operations pool" in refused(subject, f"Bearer {world.id_token(impostor)}")
    platinum = world.platinum_tenant()
    impostor = world.user(platinum.pool, Role.CUSTOMER_SUPPORT, platinum.tenant_id)
    refused(subject, f"Bearer {world.id_token(impostor)}")


def test_tenant_role_from_the_operations_pool(subject: AuthorizerUnderTest,
                                              world: World) -> None:
    misplaced = world.user(world.settings.operations_pool, Role.TENANT_ADMIN,
                           world.pooled_tenant().tenant_id)
    assert "not valid in the operations pool" in refused(
        subject, f"Bearer {world.id_token(misplaced)}")
