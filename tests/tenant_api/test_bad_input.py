"""Bad input to the tenant API: 400 naming the field, never a 5xx, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tenant_api.conftest import Customer

GOOD = {"name": "Pen", "price": 2.5, "sku": "P1", "category": "office"}
PRODUCTS: list[tuple[Any, list[str]]] = [
    ({}, ["name", "price"]),
    ({**GOOD, "price": -1}, ["price"]),
    ({**GOOD, "price": "12"}, ["price"]),
    ({**GOOD, "price": True}, ["price"]),
    ({**GOOD, "price": None}, ["price"]),
    ({**GOOD, "price": 1e30}, ["price"]),
    ({**GOOD, "name": ""}, ["name"]),
    ({**GOOD, "name": "x" * 257}, ["name"]),
    ({**GOOD, "name": 5}, ["name"]),
    ({**GOOD, "sku": "s" * 65}, ["sku"]),
    ({**GOOD, "category": ["a"]}, ["category"]),
    ({"name": "\x00bad", "price": "free"}, ["name", "price"]),
]


def order_body(lines: Any, name: Any = "Order") -> dict[str, Any]:
    return {"orderName": name, "orderProducts": lines}


@pytest.mark.parametrize("who", ["A", "P"], ids=["pooled", "silo"])
def test_bad_products_orders_and_keys(customers: dict[str, Customer], who: str) -> None:
    me = customers[who]
    call, token = me.api.call, me.token
    real = call("POST", "/product", token, GOOD).json_body
    before = call("GET", "/products", token).json_body
    for body, fields in PRODUCTS:
        for method, path in (("POST", "/product"), ("PUT", f"/product/{real['key']}")):
            response = call(method, path, token, body)
            assert response.status_code == 400, (method, body, response.body)
            assert sorted(response.json_body["fields"]) == sorted(fields), body
    line = {"productId": real["productId"], "price": 1, "quantity": 2}
    orders: list[tuple[Any, list[str]]] = [
        (order_body([]), ["orderProducts"]),
        (order_body([line] * 101), ["orderProducts"]),
        (order_body("lines"), ["orderProducts"]),
        (order_body([line], name=""), ["orderName"]),
        (order_body([{**line, "quantity": 0}]), ["orderProducts[0].quantity"]),
        (order_body([{**line, "quantity": 1.5}]), ["orderProducts[0].quantity"]),
        (order_body([{**line, "quantity": "2"}]), ["orderProducts[0].quantity"]),
        (order_body([line, {**line, "price": -3}]), ["orderProducts[1].price"]),
        (order_body([line, "not an object"]), ["orderProducts[1]"]),
        (order_body([{**line, "productId": "0" * 32}]), ["orderProducts[0].productId"]),
        (order_body([{**line, "productId": "../etc"}]), ["orderProducts[0].productId"]),
        (order_body([{"price": 1, "quantity": 1}]), ["orderProducts[0].productId"]),
    ]
    for body, fields in orders:
        response = call("POST", "/order", token, body)
        assert response.status_code == 400, (body, response.body)
        assert sorted(response.json_body["fields"]) == sorted(fields), body
    for raw in (b"", b"{", b"[]", b"null", b"\xff"):
        assert call("POST", "/product", token, raw=raw).status_code == 400
        assert call("POST", "/order", token, raw=raw).status_code == 400
    for key in ("nonsense", "x:y", f"{real['shardId']}:not-hex", f"{real['shardId']}",
                ":" + real["productId"], f"{me.tenant.tenant_id}-x:{real['productId']}"):
        response = call("GET", f"/product/{key}", token)
        assert response.status_code == 400, key
        assert response.json_body["fields"] == ["key"]
    for query in ("limit=0", "limit=abc", "limit=5000", "limit=2&nextToken=garbage"):
        response = call("GET", f"/products?{query}", token)
        assert response.status_code == 400, query
    response = call("PUT", f"/product/{real['key']}", token, GOOD, {"If-Match": "yesterday"})
    assert response.status_code == 400
    assert response.json_body["fields"] == ["If-Match"]
    assert call("GET", "/products", token).json_body == before  # nothing stored or changed
