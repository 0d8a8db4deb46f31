"""A Platinum tenant's deployment serves that tenant only, even should API Gateway let another
tenant's request through (the authorizer's deployment check is the first wall; this is the
second). The request is refused with 403 before any DynamoDB call, and the silo's tables are
unchanged.

The other tenant's context is real: the production authorizer issues it for the pooled API.
It is then handed to the silo's Lambda handler in the event API Gateway would build, which is
the only way past the first wall.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient
from chalice import Chalice
from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

from tenant_context.platform.definitions import api_name, deployment_data_tables
from tests.support.authorizer_under_test import build
from tests.support.chalice_apps import load_app
from tests.support.gateway_policy import token_event
from tests.support.tenant_api import Customer
from tests.support.world import World

Invoke = Callable[[str, str, dict[str, str], Any], dict[str, Any]]


def authorizer_context(token: str, api_id: str, method: str, path: str) -> dict[str, str]:
    """What the production authorizer attaches to an allowed request."""
    answer = build().authorizer.authorize(token_event(token, api_id, method, path))
    return {"principalId": answer["principalId"], **answer["context"]}


def invoke(app: Chalice, method: str, path: str, context: dict[str, str],
           body: Any = None) -> dict[str, Any]:
    """The app's Lambda handler, called with the proxy event API Gateway sends once the
    authorizer allowed the request (its context under ``requestContext.authorizer``)."""
    converter = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
    event = converter.create_lambda_event(
        method=method, path=path, headers={"content-type": "application/json"},
        body=json.dumps(body).encode() if body is not None else b"")
    event["requestContext"]["authorizer"] = context
    response: dict[str, Any] = app(event, LambdaContext("silo", 128))
    return response


class DynamoDBCalls:
    """Every DynamoDB operation any boto3 client sends, observed (the call still goes out)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.operations: list[str] = []
        # Every API call goes through this private method, which the stubs do not declare.
        real: Callable[[BaseClient, str, Any], Any] = vars(BaseClient)["_make_api_call"]

        def observed(client: Any, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                self.operations.append(operation)
            return real(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", observed)


def silo_tables(world: World, tenant_id: str) -> list[Any]:
    dynamodb = world.clients.dynamodb
    return [sorted(json.dumps(item, sort_keys=True) for item in dynamodb.scan(
        TableName=table.name, ConsistentRead=True)["Items"])
        for table in deployment_data_tables(tenant_id)]


def test_a_silo_refuses_any_other_tenant_before_touching_data(
        customers: dict[str, Customer], world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    platinum, pooled = customers["P"], customers["B"]
    tid = platinum.tenant.tenant_id
    silo_product = load_app("product_service", name=f"silo-product-{tid}")
    silo_order = load_app("order_service", name=f"silo-order-{tid}")
    own = platinum.api.call("POST", "/product", platinum.token,
                            {"name": "P's", "price": 3}).json_body
    intruder = authorizer_context(pooled.token, "pooled-product", "POST", "/product")
    assert intruder["tenantId"] == pooled.tenant.tenant_id  # a valid context, of tenant B
    owner = authorizer_context(platinum.token, api_name(tid, "product"), "POST", "/product")
    before = silo_tables(world, tid)
    calls = DynamoDBCalls(monkeypatch)

    attempts: list[tuple[Chalice, str, str, Any]] = [
        (silo_product, "POST", "/product", {"name": "planted", "price": 1}),
        (silo_product, "GET", "/products", None),
        (silo_product, "GET", "/products?limit=5", None),
        (silo_product, "GET", f"/product/{own['key']}", None),
        (silo_product, "PUT", f"/product/{own['key']}", {"name": "changed", "price": 9}),
        (silo_product, "DELETE", f"/product/{own['key']}", None),
        (silo_order, "POST", "/order", {"orderName": "o", "orderProducts": [
            {"productId": own["productId"], "price": 1, "quantity": 1}]}),
        (silo_order, "GET", "/orders", None),
    ]
    for app, method, path, body in attempts:
        response = invoke(app, method, path, intruder, body)
        assert response["statusCode"] == 403, (method, path, response)
        assert json.loads(response["body"]) == {
            "message": "this deployment serves another tenant"}
        assert response["headers"]["Access-Control-Allow-Origin"]
    assert calls.operations == []  # refused before any DynamoDB call
    assert silo_tables(world, tid) == before

    # The same path with the silo's own tenant works: the refusal is the binding, not the path.
    created = invoke(silo_product, "POST", "/product", owner, {"name": "mine", "price": 2})
    assert created["statusCode"] == 201, created
    assert "PutItem" in calls.operations
