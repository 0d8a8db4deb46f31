"""PUT replaces an existing item (never upserts), DELETE of an absent item is 404, and
concurrent changes are detected: no update is ever lost silently."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tenant_context.context import TenantContext
from tenant_context.errors import ConflictError
from tenant_context.resources import POOLED_PRODUCT_TABLE
from tenant_context.storage import DynamoDBClients, Isolation, TenantTables
from tenant_context.tenancy import Role
from tests.authorizer.conftest import build
from tests.support.gateway import token_event
from tests.support.world import World
from tests.tenant_api.conftest import Customer

WRITERS = 20


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


@pytest.mark.parametrize("with_version", [False, True], ids=["web-app", "if-match"])
def test_concurrent_updates_lose_nothing(world: World, with_version: bool) -> None:
    """20 writers update one product at once. Each succeeds or gets 409; the stored item is one
    of the successful writes, and its version counts exactly the successes."""
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    context = TenantContext.from_authorizer_context(build().authorizer.authorize(
        token_event(token, "pooled-product", "GET", "/products"))["context"])
    tables = TenantTables(Isolation.POOLED, DynamoDBClients("us-east-1"))
    items = tables.items(context, POOLED_PRODUCT_TABLE.name, "productId")
    product = items.create(items.new_key(), {"name": "start", "price": Decimal(0)})

    def write(writer: int) -> str:
        try:
            items.replace(product.key, {"name": f"writer {writer}", "price": Decimal(writer)},
                          1 if with_version else None)
        except ConflictError:
            return "conflict"
        return f"writer {writer}"

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(write, range(WRITERS)))
    successes = [outcome for outcome in outcomes if outcome != "conflict"]
    final = items.get(product.key)
    assert successes  # somebody won
    assert final.attributes["name"] in successes
    assert final.version == 1 + len(successes)  # every success is counted: none was lost
    if with_version:
        assert len(successes) == 1  # all 20 said "from version 1": exactly one may apply
