"""A request's log lines carry its tenant; its metrics go out per tenant and per tier (EMF)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import CustomAuthorizer
from chalice.app import ChaliceAuthorizer

from tenant_context.config import PlatformConfig
from tenant_context.tenancy import Role, Tier
from tenant_context.wiring import platform_app
from tests.conftest import ClientFor
from tests.support.world import World


@contextlib.contextmanager
def service_log(service: str) -> Iterator[io.StringIO]:
    """What a service's Powertools logger writes, whichever stream it was created with."""
    (handler,) = [handler for handler in logging.getLogger(service).handlers
                  if isinstance(handler, logging.StreamHandler)]
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        yield captured
    finally:
        handler.setStream(previous)


def json_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_tenant_on_every_log_line_and_metric(client_for: ClientFor, world: World,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    tenant = world.pooled_tenant(Tier.PREMIUM)
    user = world.tenant_user(tenant, Role.TENANT_USER)
    token = world.id_token(user)
    client = client_for("product_service").http
    capfd.readouterr()
    with service_log("product-service") as log:
        response = client.get("/products", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    records = json_lines(capfd.readouterr().out)
    logs = [record for record in json_lines(log.getvalue())
            if record.get("message") == "products listed"]
    assert len(logs) == 1
    assert {key: logs[0][key] for key in ("tenant_id", "tier", "user", "role", "service")} == {
        "tenant_id": tenant.tenant_id, "tier": "Premium", "user": user.name,
        "role": "TenantUser", "service": "product-service"}
    metrics = [record for record in records if record.get("ProductsListed") is not None]
    dimension_sets = sorted(tuple(sorted(record["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]))
                            for record in metrics)
    assert dimension_sets == [("service", "tenant_id"), ("service", "tier")]
    per_tenant = next(record for record in metrics if "tenant_id" in record)
    assert per_tenant["tenant_id"] == tenant.tenant_id


def test_tenant_keys_do_not_leak_into_the_next_request(client_for: ClientFor, world: World,
                                                        capfd: pytest.CaptureFixture[str]
                                                        ) -> None:
    first, second = world.pooled_tenant(), world.pooled_tenant()
    client = client_for("order_service").http
    tokens = [world.id_token(world.tenant_user(tenant)) for tenant in (first, second)]
    with service_log("order-service") as log:
        for token in tokens:
            client.get("/orders", headers={"Authorization": f"Bearer {token}"})
    logs = [record for record in json_lines(log.getvalue())
            if record.get("message") == "orders listed"]
    assert [record["tenant_id"] for record in logs][-2:] == [first.tenant_id,
                                                             second.tenant_id]


def test_routes_use_the_shared_lambda_authorizer_unless_configured_builtin() -> None:
    in_aws = platform_app("any-service", PlatformConfig({}))
    assert isinstance(in_aws.authorizer, CustomAuthorizer)
    assert in_aws.authorizer.name == "TenantAuthorizer"
    local = platform_app("any-service", PlatformConfig(
        {"TENANT_AUTHORIZER": "builtin", "LOCAL_GATEWAY_API_ID": "admin"}))
    assert isinstance(local.authorizer, ChaliceAuthorizer)
