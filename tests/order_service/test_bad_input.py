"""Bad input to the tenant API: 400 naming the field, never a 5xx, nothing stored."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.tenant_api import Customer

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
    # Half a UTF-16 pair (a JSON "\ud800" escape): DynamoDB refuses it, so must we.
    ({**GOOD, "name": "pen \ud800"}, ["name"]),
    ({**GOOD, "category": "\udfff"}, ["category"]),
]

# Numbers DynamoDB cannot hold exactly (more than 38 significant digits, or a magnitude outside
# 1E-130 .. 9.99E+125), written as exact JSON text: a Python float would round them first.
TOO_PRECISE = "0.12345678901234567890123456789012345678901"
UNSTORABLE = [TOO_PRECISE, "1e-200", "1.5e-131", "-1e400"]


def exact_json(body: Any, **numbers: str) -> bytes:
    """``body`` as JSON, each ``"<name>"`` placeholder replaced by the number text given."""
    text = json.dumps(body)
    for name, number in numbers.items():
        text = text.replace(json.dumps(f"<{name}>"), number)
    return text.encode()


def token_of(data: str) -> str:
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


QUERIES = [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("limit=5000", "limit"),
    ("limit=" + quote("²"), "limit"), ("limit=" + quote("\u0661"), "limit"),  # "²", Arabic 1
    ("limit=" + "9" * 5000, "limit"), ("limit=" + "0" * 4999 + "5", "limit"),
    ("limit=-1", "limit"), ("limit=+5", "limit"), ("limit= 5", "limit"),
    ("limit=2&nextToken=garbage", "nextToken"), ("limit=2&nextToken=", "nextToken"),
    ("nextToken=", "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": Infinity, "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": -Infinity, "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": NaN, "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": 1e999, "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": 0.0, "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": true, "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": "0", "k": null}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": 0, "k": ["a"]}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": 0}'), "nextToken"),
    ("limit=2&nextToken=" + token_of('[0, null]'), "nextToken"),
    ("limit=2&nextToken=" + token_of("[" * 5000), "nextToken"),
    ("limit=2&nextToken=" + token_of('{"s": 0, "k": null}') + "A" * 200, "nextToken"),
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
    for number in UNSTORABLE:
        raw_body = exact_json({"name": "Pen", "price": "<price>"}, price=number)
        for method, path in (("POST", "/product"), ("PUT", f"/product/{real['key']}")):
            response = call(method, path, token, raw=raw_body)
            assert response.status_code == 400, (method, raw_body, response.body)
            assert response.json_body["fields"] == ["price"], raw_body
            assert "price" in response.json_body["message"]
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
    real_order = call("POST", "/order", token, order_body([line])).json_body
    orders_before = call("GET", "/orders", token).json_body
    raw_lines = [({**line, "price": "<n>"}, number, "orderProducts[0].price")
                 for number in UNSTORABLE]
    raw_lines += [({**line, "quantity": "<n>"}, number, "orderProducts[0].quantity")
                  for number in ("1." + "0" * 40 + "1", "1e-200", "1" * 39)]
    for raw_line, number, field in raw_lines:
        raw_body = exact_json(order_body([raw_line]), n=number)
        for method, path in (("POST", "/order"), ("PUT", f"/order/{real_order['key']}")):
            response = call(method, path, token, raw=raw_body)
            assert response.status_code == 400, (method, raw_body, response.body)
            assert response.json_body["fields"] == [field], raw_body
            assert field in response.json_body["message"]
    for raw in (b"", b"{", b"[]", b"null", b"\xff"):
        assert call("POST", "/product", token, raw=raw).status_code == 400
        assert call("POST", "/order", token, raw=raw).status_code == 400
    for key in ("nonsense", "x:y", f"{real['shardId']}:not-hex", f"{real['shardId']}",
                ":" + real["productId"], f"{me.tenant.tenant_id}-x:{real['productId']}",
                # A shard number in digits other than ASCII (Arabic 1, superscript 2).
                f"{me.tenant.tenant_id}-{quote(chr(0x661))}:{real['productId']}",
                f"{me.tenant.tenant_id}-{quote(chr(0xB2))}:{real['productId']}"):
        response = call("GET", f"/product/{key}", token)
        assert response.status_code == 400, key
        assert response.json_body["fields"] == ["key"]
    for query, field in QUERIES:
        for listing in ("/products", "/orders"):
            response = call("GET", f"{listing}?{query}", token)
            assert response.status_code == 400, (listing, query, response.body)
            assert response.json_body["fields"] == [field], query
            assert field in response.json_body["message"]
    response = call("PUT", f"/product/{real['key']}", token, GOOD, {"If-Match": "yesterday"})
    assert response.status_code == 400
    assert response.json_body["fields"] == ["If-Match"]
    assert call("GET", "/products", token).json_body == before  # nothing stored or changed
    assert call("GET", "/orders", token).json_body == orders_before


@pytest.mark.parametrize("who", ["A", "P"], ids=["pooled", "silo"])
def test_trailing_zeros_are_not_significant_digits(customers: dict[str, Customer],
                                                   who: str) -> None:
    """1.000...0 (40 zeros) is exactly 1, so it is stored (as 1); the smallest magnitude
    DynamoDB holds, 1E-130, is kept exactly."""
    me = customers[who]
    call, token = me.api.call, me.token
    ones = "1." + "0" * 40
    product = call("POST", "/product", token,
                   raw=exact_json({"name": "Pen", "price": "<p>"}, p=ones))
    assert product.status_code == 201, product.body
    assert product.json_body["price"] == 1
    tiny = call("PUT", f"/product/{product.json_body['key']}", token,
                raw=exact_json({"name": "Pen", "price": "<p>"}, p="1e-130"))
    assert tiny.status_code == 200, tiny.body
    assert tiny.json_body["price"] == 1e-130
    line = {"productId": product.json_body["productId"], "price": "<p>", "quantity": "<q>"}
    order = call("POST", "/order", token, raw=exact_json(order_body([line]), p="0.10", q=ones))
    assert order.status_code == 201, order.body
    stored = call("GET", f"/order/{order.json_body['key']}", token).json_body
    assert stored["orderProducts"] == [{"productId": product.json_body["productId"],
                                        "price": 0.1, "quantity": 1}]
