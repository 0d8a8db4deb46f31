"""Every tenant-API call answers with the contract's fields and JSON types, pooled and silo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tenant_api import Customer

PRODUCT = {"key": str, "shardId": str, "productId": str, "name": str, "price": (int, float),
           "sku": str, "category": str}
ORDER = {"key": str, "shardId": str, "orderId": str, "orderName": str, "orderProducts": list}
LINE = {"productId": str, "price": (int, float), "quantity": int}


def shaped(value: Any, shape: dict[str, Any]) -> None:
    assert isinstance(value, dict)
    assert set(shape) <= set(value), value
    for field, kind in shape.items():
        assert isinstance(value[field], kind), field
        assert not isinstance(value[field], bool), field


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.body
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.json_body


@pytest.mark.parametrize("who", ["A", "P"], ids=["pooled", "silo"])
def test_tenant_api_contract(customers: dict[str, Customer], who: str) -> None:
    me = customers[who]
    call, token = me.api.call, me.token
    created = ok(call("POST", "/product", token, {"name": "Widget", "price": 19.5,
                                                  "sku": "W-1", "category": "tools"}), 201)
    shaped(created, PRODUCT)
    assert created["key"] == f"{created['shardId']}:{created['productId']}"
    assert created["shardId"].startswith(f"{me.tenant.tenant_id}-")
    assert created["price"] == 19.5
    response = call("GET", f"/product/{created['key']}", token)
    assert ok(response) == created
    assert response.headers["ETag"] == '"1"'
    listed = ok(call("GET", "/products", token))
    assert isinstance(listed, list)
    assert created in listed
    updated = ok(call("PUT", f"/product/{created['key']}", token,
                      {"name": "Widget 2", "price": 20, "sku": "W-1", "category": "tools",
                       "key": "ignored", "extra": True}))
    shaped(updated, PRODUCT)
    assert updated["price"] == 20
    assert isinstance(updated["price"], int)

    order = ok(call("POST", "/order", token, {"orderName": "First", "orderProducts": [
        {"productId": created["productId"], "price": 20, "quantity": 3}]}), 201)
    shaped(order, ORDER)
    for line in order["orderProducts"]:
        shaped(line, LINE)
    assert order["orderProducts"][0]["price"] * order["orderProducts"][0]["quantity"] == 60
    assert ok(call("GET", f"/order/{order['key']}", token)) == order
    assert order in ok(call("GET", "/orders", token))
    changed = ok(call("PUT", f"/order/{order['key']}", token, {"orderName": "First, again",
                                                               "orderProducts": [
        {"productId": created["productId"], "price": 19.5, "quantity": 1}]}))
    assert changed["orderName"] == "First, again"
    assert changed["orderProducts"][0] == {"productId": created["productId"], "price": 19.5,
                                           "quantity": 1}
    assert ok(call("DELETE", f"/order/{order['key']}", token)) == {"message": "Order deleted"}
    assert ok(call("DELETE", f"/product/{created['key']}", token)) == {
        "message": "Product deleted"}
    assert call("GET", f"/product/{created['key']}", token).status_code == 404
    page = ok(call("GET", "/products?limit=5", token))
    assert set(page) == {"items", "nextToken"}
