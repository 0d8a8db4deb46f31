"""The cap on pending Platinum provisionings: at the cap a Platinum sign-up is refused with 429
and Retry-After before anything is created (counted: pools, groups, users, API keys, records,
name claims, deployment rows); pooled sign-ups go on. Against the emulator, with the real
collaborators the shared-services app wires up."""

from __future__ import annotations

import itertools

import pytest

from tenant_context.errors import TooManyRequestsError
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.service.responses import error_response
from tenant_context.tenancy import Tier
from tests.support.control_plane_parts import (
    PENDING_PLATINUM_RETRY_SECONDS,
    Registrar,
    RegistrationRequest,
    registrar_parts,
)
from tests.support.created_resources import registration_footprint
from tests.support.world import World

_serial = itertools.count()


def request(tier: Tier) -> RegistrationRequest:
    serial = next(_serial)
    return RegistrationRequest(f"Capped {serial} {tier.value}", f"cap{serial}@example.com", tier)


def everything_created(world: World) -> dict[str, int]:
    return registration_footprint(world.clients, world.settings.pooled_pool.user_pool_id)


def test_at_the_cap_a_platinum_sign_up_is_refused_and_creates_nothing(world: World) -> None:
    deployments = Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)
    # Other tests' Platinum rows stay provisioning here (no deployer runs): the cap is set one
    # above what the session already holds.
    pending = deployments.provisioning_count(stop_at=10**9)
    registrar = Registrar(**{**registrar_parts(world.clients, world.credentials),
                             "pending_platinum_cap": pending + 1})
    assert registrar.register(request(Tier.PLATINUM)).created  # under the cap
    assert deployments.provisioning_count(stop_at=10**9) == pending + 1

    before = everything_created(world)
    with pytest.raises(TooManyRequestsError) as refused:
        registrar.register(request(Tier.PLATINUM))
    assert everything_created(world) == before

    answer = error_response(refused.value)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == str(PENDING_PLATINUM_RETRY_SECONDS)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "nothing was created" in answer.body["message"]
    # Pooled tiers create no deployment: not capped.
    assert registrar.register(request(Tier.BASIC)).created


def test_the_count_is_platinum_rows_still_provisioning_and_stops_at_the_cap(
        world: World) -> None:
    deployments = Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)
    registrar = Registrar(**registrar_parts(world.clients, world.credentials))
    registrar.register(request(Tier.PLATINUM))
    active = registrar.register(request(Tier.PLATINUM))
    deployments.record_active(active.tenant_id, frozenset({"api"}), "http://127.0.0.1:1/x")
    expected = sum(1 for row in deployments.all()
                   if row.status.value == "provisioning" and row.deployment_id != "pooled")
    assert deployments.provisioning_count(stop_at=10**9) == expected >= 1
    assert deployments.provisioning_count(stop_at=1) >= 1  # may stop after the first page
