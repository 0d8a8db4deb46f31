"""PUT replaces an existing item (never upserts), DELETE of an absent item is 404, and
concurrent changes are detected: no update is ever lost silently."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from chalice.test import HTTPResponse

from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import data_table
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.chalice_apps import load_app
from tests.support.tenant_api import ConcurrentCaller, Customer
from tests.support.world import World

WRITERS = 20

POOLED_PRODUCT_TABLE = data_table(TENANT_SERVICES.named("product"), POOLED_DEPLOYMENT)


def test_if_match_and_absent_items(customers: dict[str, Customer]) -> None:
    me = customers["A"]
    call, token = me.api.call, me.token
    product = call("POST", "/product", token, {"name": "v1", "price": 1}).json_body
    path = f"/product/{product['key']}"
    first = call("PUT", path, token, {"name": "v2", "price": 2}, {"If-Match": '"1"'})
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    stale = call("PUT", path, token, {"name": "v3", "price": 3}, {"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json_body["fields"] == ["version"]
    assert call("GET", path, token).json_body["name"] == "v2"
    assert call("DELETE", path, token, headers={"If-Match": '"1"'}).status_code == 409
    assert call("DELETE", path, token, headers={"If-Match": '"2"'}).status_code == 200
    assert call("DELETE", path, token).status_code == 404
    assert call("PUT", path, token, {"name": "again", "price": 1}).status_code == 404  # no upsert
    assert call("GET", path, token).status_code == 404
    never = f"{product['shardId']}:{'a' * 32}"
    assert call("PUT", f"/product/{never}", token, {"name": "x", "price": 1}).status_code == 404
    assert call("DELETE", f"/order/{never}", token).status_code == 404


def test_concurrent_puts_lose_nothing(customers: dict[str, Customer], world: World) -> None:
    """20 clients PUT one product at once over HTTP, half with ``If-Match: "1"`` and half as
    the web app does (no If-Match). Each gets 200 or 409; every 200 carries its own new
    version; the stored item is the body of the 200 whose version it holds, and its version
    counts exactly the 200s (no update lost silently)."""
    me = customers["A"]
    product = me.api.call("POST", "/product", me.token, {"name": "start", "price": 0}).json_body
    path = f"/product/{product['key']}"
    call = ConcurrentCaller(load_app("product_service"))

    def put(writer: int) -> tuple[int, HTTPResponse]:
        headers = {"If-Match": '"1"'} if writer % 2 else {}
        return writer, call("PUT", path, me.token, {"name": f"writer {writer}",
                                                    "price": writer + 0.5}, headers)

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(put, range(WRITERS)))
    statuses = [response.status_code for _, response in outcomes]
    assert set(statuses) <= {200, 409}, [response.body for _, response in outcomes]
    successes = {int(response.headers["ETag"].strip('"')): (writer, response.json_body)
                 for writer, response in outcomes if response.status_code == 200}
    assert successes  # somebody won
    assert len(successes) == statuses.count(200)  # every success wrote its own version
    assert sorted(successes) == list(range(2, 2 + len(successes)))
    if_match_wins = [writer for writer, _ in successes.values() if writer % 2]
    assert len(if_match_wins) <= 1  # all of them said "from version 1": one at most applies
    for _, response in outcomes:
        if response.status_code == 409:
            assert response.json_body["fields"] == ["version"]

    stored = from_item(world.clients.dynamodb.get_item(
        TableName=POOLED_PRODUCT_TABLE.name, ConsistentRead=True,
        Key=to_item({"shardId": product["shardId"], "productId": product["productId"]})
    )["Item"])
    assert stored["version"] == 1 + len(successes)  # every success is counted: none lost
    _, winner = successes[int(stored["version"])]
    assert (stored["name"], stored["price"]) == (winner["name"], Decimal(str(winner["price"])))
    assert me.api.call("GET", path, me.token).json_body == winner
