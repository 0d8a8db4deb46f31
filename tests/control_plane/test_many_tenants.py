"""1,000 registered tenants: GET /tenants returns every one of them, once (and page by page)."""

from __future__ import annotations

from tenant_context.tenancy import Role, Tier
from tests.support.admin_api import AdminApi
from tests.support.control_plane import Registrar, RegistrationRequest, registrar_parts
from tests.support.world import World

COUNT = 1000


def test_a_thousand_tenants_are_all_listed(admin_api: AdminApi, world: World) -> None:
    registrar = Registrar(**registrar_parts(world.clients, None))
    tiers = [Tier.BASIC, Tier.STANDARD, Tier.PREMIUM]
    registered = {
        registrar.register(RegistrationRequest(
            f"Fleet {index:04d}", f"owner{index}@fleet.example", tiers[index % 3],
            tenant_address="x" * 200)).tenant_id
        for index in range(COUNT)}
    assert len(registered) == COUNT
    token = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))

    everything = admin_api.call("GET", "/tenants", token)
    assert everything.status_code == 200
    listed = [tenant["tenantId"] for tenant in everything.json_body]
    assert len(listed) == len(set(listed))  # each exactly once
    assert registered <= set(listed)

    paged: list[str] = []
    next_token = None
    pages = 0
    while True:
        query = "/tenants?limit=128" + (f"&nextToken={next_token}" if next_token else "")
        page = admin_api.call("GET", query, token).json_body
        paged += [tenant["tenantId"] for tenant in page["items"]]
        pages += 1
        next_token = page["nextToken"]
        if not next_token:
            break
    assert pages >= COUNT // 128
    assert sorted(paged) == sorted(listed)
