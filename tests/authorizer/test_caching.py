"""Caches are counted, not timed: STS calls, JWKS fetches and the tenant-record TTL."""

from __future__ import annotations

import pytest

from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from tenant_context.tenancy import Role
from tests.support.authorizer_under_test import AuthorizerUnderTest, build
from tests.support.gateway_policy import token_event
from tests.support.world import World, claims_for, mint


def test_a_thousand_authorizations_cost_one_sts_call_and_one_jwks_fetch(
        subject: AuthorizerUnderTest, world: World) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_ADMIN))
    paths = ["/users", f"/tenant/{tenant.tenant_id}", "/user/x"]
    for call in range(1000):
        subject.authorizer.authorize(token_event(token, "admin", "GET", paths[call % 3]))
    assert subject.assume_role.count == 1
    assert subject.keys.fetches == 1


def test_credentials_are_shared_per_tenant_and_role_not_per_token(
        subject: AuthorizerUnderTest, world: World) -> None:
    tenant = world.pooled_tenant()
    admins = [world.tenant_user(tenant, Role.TENANT_ADMIN) for _ in range(3)]
    user = world.tenant_user(tenant, Role.TENANT_USER)
    keys = set()
    for person in [*admins, user]:
        response = subject.authorizer.authorize(
            token_event(world.id_token(person), "pooled-product", "GET", "/products"))
        keys.add(response["context"]["accessKeyId"])
    assert subject.assume_role.count == 2  # one per role of the tenant, not one per user
    assert len(keys) == 2


def test_credentials_are_renewed_shortly_before_they_expire(
        subject: AuthorizerUnderTest, world: World) -> None:
    token = world.id_token(world.operations_user())
    first = subject.authorizer.authorize(token_event(token, "admin"))["context"]
    subject.wall_clock.advance(3600 - 320)  # 320 s left: still served from the cache
    subject.authorizer.authorize(token_event(token, "admin"))
    assert subject.assume_role.count == 1
    subject.wall_clock.advance(30)  # under 300 s left: renewed
    second = subject.authorizer.authorize(token_event(token, "admin"))["context"]
    assert subject.assume_role.count == 2
    assert second["accessKeyId"] != first["accessKeyId"]


def test_unknown_kids_refetch_the_key_set_at_most_once_per_cooldown(
        baseline: object, world: World) -> None:
    subject = build()
    user = world.operations_user()
    subject.authorizer.authorize(token_event(world.id_token(user), "admin"))
    assert subject.keys.fetches == 1
    for attempt in range(20):
        with pytest.raises(Unauthorized):
            subject.authorizer.authorize(
                token_event(mint(claims_for(user), kid=f"random-{attempt}"), "admin"))
    assert subject.keys.fetches == 1  # the first fetch started the 60 s cooldown


def test_unknown_kid_refetches_once_after_the_cooldown(baseline: object,
                                                       world: World) -> None:
    """A rotated key is picked up: outside the cooldown one unknown kid triggers one fetch."""
    subject = build(cooldown_duration=0.0)
    user = world.operations_user()
    with pytest.raises(Unauthorized):
        subject.authorizer.authorize(token_event(mint(claims_for(user), kid="new"), "admin"))
    assert subject.keys.fetches == 2  # the initial load, then one forced refresh


def test_a_deactivated_tenant_is_refused_once_its_record_expires_from_the_cache(
        subject: AuthorizerUnderTest, world: World) -> None:
    """Documented TTL: a deactivated tenant's token works for at most 30 s in a warm authorizer
    (plus API Gateway's 60 s result cache on AWS)."""
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant))
    subject.authorizer.authorize(token_event(token, "admin", "GET", "/users"))
    world.set_active(tenant, False)
    subject.clock.advance(29)
    subject.authorizer.authorize(token_event(token, "admin", "GET", "/users"))  # still cached
    subject.clock.advance(2)
    with pytest.raises(Unauthorized):
        subject.authorizer.authorize(token_event(token, "admin", "GET", "/users"))
    world.set_active(tenant, True)
    subject.clock.advance(31)
    assert subject.assume_role.count == 1
    subject.authorizer.authorize(token_event(token, "admin", "GET", "/users"))
    # Its credentials were dropped when it was seen deactivated: new ones after activation.
    assert subject.assume_role.count == 2
