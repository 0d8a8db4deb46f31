"""Twenty registrations released at the same instant race to the same conditional write."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tenant_context.errors import ApiError
from tenant_context.tenancy import Tier, new_tenant_id
from tests.support.control_plane_parts import Registrar, RegistrationRequest, registrar_parts
from tests.support.world import World

RACERS = 20


def race(world: World, requests: list[RegistrationRequest]) -> Counter[str]:
    """All racers start together (boto3 clients are thread-safe, so they share them)."""
    start = threading.Barrier(len(requests))
    registrar = Registrar(**registrar_parts(world.clients, None))

    def run(request: RegistrationRequest) -> str:
        start.wait()
        try:
            registered = registrar.register(request)
        except ApiError as error:
            return str(error.status_code)
        return "created" if registered.created else "repeat"

    with ThreadPoolExecutor(len(requests)) as pool:
        return Counter(pool.map(run, requests))


def test_one_name_many_owners(world: World) -> None:
    name = f"Photo Finish {new_tenant_id()[:6]}"
    outcomes = race(world, [RegistrationRequest(name.upper() if index % 2 else name,
                                                f"racer{index}@race.example", Tier.BASIC)
                            for index in range(RACERS)])
    assert outcomes == {"created": 1, "409": RACERS - 1}


def test_distinct_names(world: World) -> None:
    prefix = new_tenant_id()[:6]
    outcomes = race(world, [RegistrationRequest(f"Lane {prefix} {index}",
                                                f"lane{index}@race.example", Tier.PREMIUM)
                            for index in range(RACERS)])
    assert outcomes == {"created": RACERS}
