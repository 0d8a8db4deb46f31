"""Tenants A and B (pooled) and P (Platinum, its own deployment) try every tenant-API call on
each other's data. Same deployment: 404 (existence is never revealed); another deployment: 403
(the authorizer). Afterwards the others' data is byte-for-byte what it was, read straight from
the emulator."""

from __future__ import annotations

import json
from typing import Any

from tenant_context.platform.definitions import (
    deployment_data_tables,
)
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tests.support.tenant_api import Customer
from tests.support.world import World


def seed(customer: Customer) -> dict[str, Any]:
    product = customer.api.call("POST", "/product", customer.token, {
        "name": f"secret of {customer.tenant.tenant_id[:6]}", "price": 7, "sku": "S",
        "category": "c"}).json_body
    order = customer.api.call("POST", "/order", customer.token, {
        "orderName": "secret order", "orderProducts": [
            {"productId": product["productId"], "price": 7, "quantity": 1}]}).json_body
    return {"product": product, "order": order}


def snapshot(world: World, customer: Customer) -> str:
    """Every stored byte of a tenant's products and orders, straight from DynamoDB."""
    tenant_id = customer.tenant.tenant_id
    pooled = customer.tenant.record.tier.is_pooled
    tables = [table.name for table in deployment_data_tables(
        POOLED_DEPLOYMENT if pooled else tenant_id)]
    items = []
    for table in tables:
        for shard in range(4):
            items += world.clients.dynamodb.query(
                TableName=table, KeyConditionExpression="shardId = :s",
                ExpressionAttributeValues={":s": {"S": f"{tenant_id}-{shard}"}},
                ConsistentRead=True)["Items"]
    return json.dumps(sorted(items, key=json.dumps), sort_keys=True)


def test_no_tenant_reaches_anothers_data(customers: dict[str, Customer], world: World) -> None:
    seeds = {name: seed(customer) for name, customer in customers.items()}
    before = {name: snapshot(world, customer) for name, customer in customers.items()}
    surprises: list[tuple[str, str, str, str, int]] = []

    for attacker_name, attacker in customers.items():
        for victim_name, victim in customers.items():
            if victim_name == attacker_name:
                continue
            product, order = seeds[victim_name]["product"], seeds[victim_name]["order"]
            attempts: list[tuple[str, str, Any]] = [
                ("GET", f"/product/{product['key']}", None),
                ("PUT", f"/product/{product['key']}", {"name": "pwned", "price": 0}),
                ("DELETE", f"/product/{product['key']}", None),
                ("GET", f"/order/{order['key']}", None),
                ("PUT", f"/order/{order['key']}", {"orderName": "pwned", "orderProducts": [
                    {"productId": product["productId"], "price": 0, "quantity": 1}]}),
                ("DELETE", f"/order/{order['key']}", None),
                # The victim's shard with another id, and a percent-encoded key.
                ("GET", f"/product/{product['shardId']}:{'0' * 32}", None),
                ("GET", f"/product/{product['key'].replace(':', '%3A')}", None),
            ]
            # Through the attacker's own deployment the victim's keys name nothing of its
            # tenant: 404. Through the victim's (another) deployment: the authorizer, 403.
            routes = [(attacker.api, 404)]
            if victim.api is not attacker.api:
                routes.append((victim.api, 403))
            for method, path, body in attempts:
                for api, expected in routes:
                    status = api.call(method, path, attacker.token, body).status_code
                    if status != expected:
                        surprises.append((attacker_name, victim_name, method, path, status))
            # An order that names the victim's product is refused, naming the line.
            lines = {"orderName": "x", "orderProducts": [
                {"productId": product["productId"], "price": 1, "quantity": 1}]}
            response = attacker.api.call("POST", "/order", attacker.token, lines)
            if response.status_code != 400 or response.json_body["fields"] != [
                    "orderProducts[0].productId"]:
                surprises.append((attacker_name, victim_name, "POST", "/order",
                                  response.status_code))
            # Listings hold only the attacker's own items.
            for path, kind in (("/products", "product"), ("/orders", "order")):
                listed = attacker.api.call("GET", path, attacker.token).json_body
                if seeds[victim_name][kind] in listed or any(
                        not item["shardId"].startswith(attacker.tenant.tenant_id)
                        for item in listed):
                    surprises.append((attacker_name, victim_name, "GET", path, 200))

    assert surprises == []
    after = {name: snapshot(world, customer) for name, customer in customers.items()}
    assert after == before  # byte for byte
    assert all(seeds[name]["product"]["name"] in before[name] for name in customers)
