"""1,000 registered tenants: GET /tenants returns every one of them, once (and page by page).

A DynamoDB Scan returns at most 1 MB per call, so a listing that stopped after one call would
look complete with small records. The tenants here carry contact fields at their maximum length
(an address of 256 three-byte characters, as a Japanese one is), about 1.1 kB a record, so the
table is over 1 MB and the listing must follow Scan's pages; the test counts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.service.context import ScopedCredentials
from tenant_context.tenancy import Role, Tier
from tests.support.admin_api_client import AdminApi
from tests.support.control_plane_parts import Registrar, RegistrationRequest, registrar_parts
from tests.support.counting import CallCounter
from tests.support.moto_server import clients_for
from tests.support.serving import served_with
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

COUNT = 1000
ADDRESS = ("東京都千代田区丸の内一丁目" * 20)[:256]  # 256 characters, 768 bytes in UTF-8
PHONE = "+81 3 1234 5678 " + "9" * 16  # 32 characters, the most a phone may have
SCAN_PAGE_BYTES = 1_000_000


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: names and values in UTF-8 (strings and bools)."""
    return sum(len(name.encode()) + len(str(next(iter(value.values()))).encode())
               for name, value in item.items())


def test_a_thousand_tenants_are_all_listed(admin_api: AdminApi, world: World,
                                           emulator_url: str) -> None:
    registrar = Registrar(**registrar_parts(world.clients, None))
    tiers = [Tier.BASIC, Tier.STANDARD, Tier.PREMIUM]
    registered = {
        registrar.register(RegistrationRequest(
            f"Fleet {index:04d}", f"owner{index}@fleet.example", tiers[index % 3],
            tenant_phone=PHONE, tenant_address=ADDRESS)).tenant_id
        for index in range(COUNT)}
    assert len(registered) == COUNT
    sample = world.clients.dynamodb.get_item(TableName=TENANT_DETAILS_TABLE.name,
                                             Key={"tenantId": {"S": min(registered)}})
    assert COUNT * item_bytes(sample["Item"]) > SCAN_PAGE_BYTES  # more than one Scan's worth
    token = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))

    scoped = clients_for(emulator_url).dynamodb
    scans = CallCounter(scoped, "dynamodb", "Scan")

    def scoped_clients(_: ScopedCredentials | None) -> DynamoDBClient:
        return scoped

    with served_with(clients_for(emulator_url), scoped=scoped_clients):
        everything = admin_api.call("GET", "/tenants", token)
    assert everything.status_code == 200
    assert scans.count >= 2  # one Scan call could not have returned them all
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
