"""A request's log lines carry its tenant; each of its business events is one EMF record on
dimensions that stay few whatever the number of tenants (service, tier), with the tenant id as a
property; its traces carry the tenant and tier as X-Ray annotations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from chalice import CustomAuthorizer
from chalice.app import ChaliceAuthorizer

from pipeline.local_cloud.api_gateway.builtin_authorizer import LOCAL_STAGE_AUTHORIZER
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from tenant_context.config import Env, PlatformConfig
from tenant_context.service.chalice_app import platform_app
from tenant_context.service.observability import tracing_enabled
from tenant_context.tenancy import Role, Tier
from tests.support.chalice_apps import ClientFor, load_app
from tests.support.logs import json_lines, service_log
from tests.support.world import World


@pytest.fixture(scope="module")
def services_loaded(baseline: BaselineResult) -> None:
    """Both services imported before any test captures output: a Powertools logger writes to
    the ``sys.stdout`` of its creation, and a test's ``capfd`` stream is closed after it."""
    load_app("product_service")
    load_app("order_service")


def emf_records(records: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The EMF records carrying ``metric``, each reduced to its dimensions (with their values)
    and its tenant property."""
    found = []
    for record in records:
        if metric in record:
            (directive,) = record["_aws"]["CloudWatchMetrics"]
            (dimensions,) = directive["Dimensions"]
            assert directive["Namespace"] == "ServerlessSaaS"
            assert [entry["Name"] for entry in directive["Metrics"]] == [metric]
            found.append({"dimensions": {name: record[name] for name in sorted(dimensions)},
                          "tenant_id": record.get("tenant_id")})
    return found


def test_tenant_on_every_log_line_and_metric(services_loaded: None, client_for: ClientFor,
                                              world: World,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    """Every JSON record either service logs while serving the tenant names the tenant, the
    user and the role; each business event is one EMF record, per service and tier, naming
    the tenant as a property."""
    tenant = world.pooled_tenant(Tier.PREMIUM)
    user = world.tenant_user(tenant, Role.TENANT_USER)
    headers = {"Authorization": f"Bearer {world.id_token(user)}",
               "Content-Type": "application/json"}
    products = client_for("product_service").http
    orders = client_for("order_service").http
    capfd.readouterr()
    with service_log("product-service") as product_log, service_log("order-service") as order_log:
        assert products.get("/products", headers=headers).status_code == 200
        created = products.post("/product", headers=headers, body=json.dumps(
            {"name": "Lamp", "price": 12}))
        assert created.status_code == 201
        product = created.json_body
        assert products.get(f"/product/{product['key']}", headers=headers).status_code == 200
        assert products.post("/product", headers=headers, body=b"{").status_code == 400
        order = orders.post("/order", headers=headers, body=json.dumps({
            "orderName": "o", "orderProducts": [
                {"productId": product["productId"], "price": 12, "quantity": 2}]}))
        assert order.status_code == 201, order.body
        assert orders.get("/orders", headers=headers).status_code == 200
    records = json_lines(capfd.readouterr().out)

    logs = json_lines(product_log.getvalue()) + json_lines(order_log.getvalue())
    assert {record["message"] for record in logs} >= {"products listed", "orders listed"}
    expected = {"tenant_id": tenant.tenant_id, "tier": "Premium", "user": user.name,
                "role": "TenantUser"}
    for record in logs:  # every one, whatever it says
        assert {key: record.get(key) for key in expected} == expected, record
    assert {record["service"] for record in logs} == {"product-service", "order-service"}

    for metric, service in (("ProductsListed", "product-service"),
                            ("ProductCreated", "product-service"),
                            ("OrderCreated", "order-service"),
                            ("OrdersListed", "order-service")):
        assert emf_records(records, metric) == [
            {"dimensions": {"service": service, "tier": "Premium"},
             "tenant_id": tenant.tenant_id}], metric


def test_tenant_keys_do_not_leak_into_the_next_request(services_loaded: None,
                                                        client_for: ClientFor, world: World,
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
        {Env.TENANT_AUTHORIZER: LOCAL_STAGE_AUTHORIZER, Env.LOCAL_GATEWAY_API_ID: "admin"}))
    assert isinstance(local.authorizer, ChaliceAuthorizer)


# Run in a fresh interpreter: the X-Ray SDK and the patching are process-wide, and they decide
# at import whether they are in Lambda. The environment is what the Lambda runtime sets for an
# invocation (the trace header included), so the SDK opens the function's segment itself.
TRACED_REQUEST = """
import json, sys
from aws_xray_sdk.core import xray_recorder
from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher
from tenant_context.config import PlatformConfig
from tenant_context.service.observability import tracing_enabled
from tenant_context.service.context import TenantContext
from tenant_context.service.observability import Observability
from tenant_context.tenancy import Role, Tier
from tenant_context.service.chalice_app import platform_app

tenant = TenantContext("a" * 32, Tier.PREMIUM, "bob", Role.TENANT_USER, "pool", None)
outcome = {}

# The Observability alone, in a segment opened by hand (sampling off: no daemon to ask).
xray_recorder.configure(sampling=False, context_missing="LOG_ERROR")
observability = Observability("traced-service", tracing=True)
with xray_recorder.in_subsegment("by hand") as subsegment:
    observability.bind(tenant)
    outcome["by_hand"] = subsegment.annotations

# And as wired into an app: the annotation lands on the handler's subsegment.
from pipeline.local_cloud.api_gateway.builtin_authorizer import LOCAL_STAGE_AUTHORIZER
platform = platform_app("traced-service", PlatformConfig(
    {"TENANT_AUTHORIZER": LOCAL_STAGE_AUTHORIZER, "LOCAL_GATEWAY_API_ID": "admin"}))
outcome["wired_tracer"] = platform.observability.tracer is not None

@platform.app.route("/annotations")
def annotations():
    entity = xray_recorder.get_trace_entity()
    return {"entity": entity.name, "annotations": entity.annotations}

app = platform.app
event = LambdaEventConverter(RouteMatcher(list(app.routes))).create_lambda_event(
    method="GET", path="/annotations", headers={}, body=b"")
event["requestContext"]["authorizer"] = tenant.to_authorizer_context()
outcome["wired"] = json.loads(app(event, LambdaContext("traced-service", 128))["body"])
import aws_xray_sdk.core.patcher as patcher
outcome["patched"] = sorted(patcher._PATCHED_MODULES)
outcome["requests_imported"] = "requests" in sys.modules
print(json.dumps(outcome))
"""


def test_traces_carry_the_tenant_and_tier_as_annotations() -> None:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("POWERTOOLS", "AWS_SAM", "AWS_CHALICE", "AWS_XRAY"))}
    environ |= {"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "traced-service",
                "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;"
                                    "Parent=53995c3f42cd8ad8;Sampled=1",
                "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-c", TRACED_REQUEST], env=environ,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    expected = {"tenant_id": "a" * 32, "tier": "Premium"}
    assert {key: outcome["by_hand"].get(key) for key in expected} == expected
    assert outcome["wired_tracer"]
    assert outcome["wired"]["entity"] == "## capture_lambda_handler"
    assert {key: outcome["wired"]["annotations"].get(key) for key in expected} == expected
    assert outcome["patched"] == ["botocore"]  # only what the services call AWS with
    assert not outcome["requests_imported"]


@pytest.mark.parametrize(("environ", "traced"), [
    ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "f"}, True),
    ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, False),  # Powertools would disable its Tracer here
    ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
    ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
    ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"}, False),
    ({}, False),
])
def test_a_tracer_exists_only_where_powertools_traces(environ: dict[str, str],
                                                       traced: bool) -> None:
    assert tracing_enabled(environ) is traced

