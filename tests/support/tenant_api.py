"""The tenant API as the tenant web app calls it (a pytest plugin): two pooled tenants and one
Platinum tenant with its own (silo) deployment of the same code, every registered tenant
service in each deployment (a path goes to the service whose route prefix it starts with)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from chalice import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException
from chalice.test import Client, HTTPResponse

from pipeline.local_cloud.provisioning.baseline_bootstrap import ensure_tables
from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env
from tenant_context.platform.definitions import api_name, deployment_data_tables, service_tables
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import Role, Tier
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.support.chalice_apps import load_app
from tests.support.world import Tenant, World


@dataclass
class Api:
    """A tenant API deployment, called as the web app calls it."""

    clients: dict[TenantService, Client]

    def client(self, path: str) -> Client:
        for service, client in self.clients.items():
            if path.startswith(service.route_prefix):
                return client
        raise AssertionError(f"no tenant service serves {path}")

    def call(self, method: str, path: str, token: str, body: Any = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
        client = self.client(path)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else b"")
        return client.http.request(method, path, body=data, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            **(headers or {})})


class ConcurrentCaller:
    """Calls an app from many threads at once, as ``chalice local`` serves it: through
    Chalice's local gateway (the real built-in authorizer included), which is what
    ``chalice.test.Client`` runs too, minus the client's swap of ``os.environ`` around every
    request, which concurrent threads would leave swapped for the rest of the session."""

    def __init__(self, app: Chalice) -> None:
        self._gateway = LocalGateway(app, Config.create())

    def __call__(self, method: str, path: str, token: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> HTTPResponse:
        try:
            response = self._gateway.handle_request(
                method, path, {"Authorization": f"Bearer {token}",
                               "Content-Type": "application/json", **(headers or {})},
                json.dumps(body).encode() if body is not None else b"")
        except LocalGatewayException as error:  # the authorizer's 401/403
            return HTTPResponse(body=error.body or b"", headers=error.headers,
                                status_code=error.CODE)
        return HTTPResponse.create_from_dict(response)


@dataclass
class Customer:
    tenant: Tenant
    token: str
    api: Api


def _client(directory: str, name: str | None = None,
            overrides: dict[str, str] | None = None) -> Client:
    return Client(load_app(directory, name=name, overrides=overrides), stage_name="local",
                  project_dir=str(PROJECT_ROOT / directory))


@pytest.fixture(scope="session")
def pooled_api(baseline: object) -> Api:
    return Api({service: _client(service.folder) for service in TENANT_SERVICES})


@pytest.fixture(scope="session")
def platinum(world: World) -> tuple[Tenant, Api]:
    """A Platinum tenant and its own deployment: same code, own tables, silo isolation."""
    tenant = world.platinum_tenant()
    tid = tenant.tenant_id
    ensure_tables(world.clients.dynamodb, deployment_data_tables(tid))
    return tenant, Api({service: _client(service.folder, f"silo-{service.name}-{tid}",
                                         silo_environment(service, tid))
                        for service in TENANT_SERVICES})


def silo_environment(service: TenantService, tenant_id: str) -> dict[str, str]:
    """What the platform hands a service in a Platinum tenant's deployment (its stage's
    ``local-silo`` values aside): isolation, the tenant, its tables and its API id."""
    return {Env.DATA_ISOLATION: Isolation.SILO.value, Env.SILO_TENANT_ID: tenant_id,
            Env.LOCAL_GATEWAY_API_ID: api_name(tenant_id, service.name),
            **{table.env_var: table.name for table in service_tables(service, tenant_id)}}


@pytest.fixture
def customers(world: World, pooled_api: Api, platinum: tuple[Tenant, Api]
              ) -> dict[str, Customer]:
    """Fresh pooled tenants A and B, and the Platinum tenant P, each with a signed-in user."""
    def customer(tenant: Tenant, api: Api) -> Customer:
        return Customer(tenant, world.id_token(world.tenant_user(tenant, Role.TENANT_USER)),
                        api)

    platinum_tenant, silo_api = platinum
    return {"A": customer(world.pooled_tenant(Tier.BASIC), pooled_api),
            "B": customer(world.pooled_tenant(Tier.PREMIUM), pooled_api),
            "P": customer(platinum_tenant, silo_api)}
