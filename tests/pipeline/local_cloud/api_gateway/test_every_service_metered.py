"""The front door meters every route of every registered tenant service, pooled and silo.

An API left off a usage plan answers 403 on AWS but would pass locally if the front door metered
by deployment only, so here every route of every registered app (read from the app itself, not
from a list) resolves to its own service, under the API id the authorizer checks for the
deployment, and goes through the usage plan: a plan of one request a day lets one through and
refuses the next.
"""

from __future__ import annotations

import re

import pytest
from chalice import Chalice

from pipeline.local_cloud.api_gateway.authorization import Authorized, GatewayRequest
from pipeline.local_cloud.api_gateway.front_door import RouteTable, Upstream, UsagePlanGate
from pipeline.local_cloud.api_gateway.usage_plans import QUOTA_EXCEEDED, UsagePlanEnforcer
from pipeline.local_cloud.chalice_local import tenant_service_app
from pipeline.local_cloud.local_platform import BASELINE_DEPLOYMENTS
from pipeline.stacks.inventory import POOLED_API_NAMES
from tenant_context.platform.definitions import UsagePlan, api_name
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.support.chalice_apps import load_app

PLATINUM_TENANT = "c" * 32
ONE_A_DAY = UsagePlan("OneADay", quota_per_day=1, rate_per_second=10, burst=10)


def routes_of(app: Chalice, service: TenantService) -> list[tuple[str, str]]:
    """(method, a concrete path) for every route the app serves behind an authorizer: all
    but its OpenAPI document, the one public route (no token, no data)."""
    found = []
    for path, methods in app.routes.items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method, entry in methods.items():
            if (method, path) == ("GET", service.document_path):
                assert entry.authorizer is None
                continue
            assert entry.authorizer is not None, f"{method} {path} has no authorizer"
            found.append((method, concrete))
    assert found
    return found


def deployments() -> list[tuple[str, TenantService, str]]:
    """(deployment, service, the API id its upstream must carry) for the pool and a silo."""
    return [(deployment, service, api_name(deployment, service.name))
            for deployment in (POOLED_DEPLOYMENT, PLATINUM_TENANT)
            for service in TENANT_SERVICES]


def route_table() -> RouteTable:
    """The pool as the local platform routes it (``BASELINE_DEPLOYMENTS``), and a Platinum
    tenant's deployment as the silo launcher does (the same apps, its own API ids)."""
    table = RouteTable()
    table.set(POOLED_DEPLOYMENT, tuple(
        Upstream(app.path_prefixes, port, api_id)
        for port, (app, api_id) in enumerate(BASELINE_DEPLOYMENTS[POOLED_DEPLOYMENT], 1)))
    table.set(PLATINUM_TENANT, tuple(
        Upstream(tenant_service_app(service).path_prefixes, port,
                 api_name(PLATINUM_TENANT, service.name))
        for port, service in enumerate(TENANT_SERVICES, 100)))
    return table


def test_the_pooled_deployment_records_every_services_api_id() -> None:
    """The authorizer lets a pooled tenant reach only the APIs on the pooled deployment's row."""
    assert set(POOLED_API_NAMES) == {api_name(POOLED_DEPLOYMENT, service.name)
                                     for service in TENANT_SERVICES}
    assert [api_id for _, api_id in BASELINE_DEPLOYMENTS[POOLED_DEPLOYMENT]] == list(
        POOLED_API_NAMES)


@pytest.mark.parametrize(("deployment", "service", "api_id"), deployments(),
                         ids=lambda value: value if isinstance(value, str) else value.name)
def test_every_route_is_served_by_its_service_and_metered(
        deployment: str, service: TenantService, api_id: str) -> None:
    table = route_table()
    for method, path in routes_of(load_app(service.folder), service):
        route = table.resolve(f"/{deployment}{path}")
        assert route is not None, f"{method} {path}"
        assert route.upstream.api_id == api_id, f"{method} {path}"
        asked: list[GatewayRequest] = []

        def authorize(request: GatewayRequest, asked: list[GatewayRequest] = asked
                      ) -> Authorized:
            asked.append(request)
            return Authorized("the-key")

        gate = UsagePlanGate(authorize, UsagePlanEnforcer(
            {"the-key": ONE_A_DAY}.get, shared_deployments=(POOLED_DEPLOYMENT,)))
        assert gate.decide(route, method, "Bearer token")[0] is None
        assert gate.decide(route, method, "Bearer token")[0] == QUOTA_EXCEEDED, (method, path)
        assert asked[0] == GatewayRequest(api_id, method, path, "Bearer token")
