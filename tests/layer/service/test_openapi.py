"""Every app's OpenAPI document, as it serves it: every route of the app is in it, with the
body its validator reads, so a route added without its operation (or an operation left
without a route) fails here before any client sees a document that drifted."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from tenant_context.errors import ConfigurationError
from tenant_context.service.openapi import (
    DOCUMENT_PATH,
    ApiDescription,
    document,
    document_operation,
    merged,
)
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.chalice_apps import load_app

APPS = {"shared_services": DOCUMENT_PATH,
        **{service.folder: service.document_path for service in TENANT_SERVICES}}


def served(directory: str) -> tuple[Chalice, dict[str, Any]]:
    app = load_app(directory)
    with Client(app) as client:
        response = client.http.get(APPS[directory])
    assert response.status_code == 200, response.body
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return app, response.json_body


@pytest.mark.parametrize("directory", sorted(APPS))
def test_every_route_is_documented_with_its_validated_body(directory: str) -> None:
    app, described = served(directory)
    assert described["openapi"].startswith("3.")
    routed = {(method.lower(), path) for path, methods in app.routes.items()
              for method in methods}
    documented = {(method, path) for path, methods in described["paths"].items()
                  for method in methods}
    assert documented == routed
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            operation = described["paths"][path][method.lower()]
            assert ("security" in operation) == (entry.authorizer is not None)
            if method == "POST":  # every create reads a body (some PUTs only act)
                assert "requestBody" in operation, (method, path)
            # a success: done (200), created (201) or accepted to be done (202: a move)
            assert {"200", "201", "202"} & set(operation["responses"]), (method, path)
            if entry.authorizer is not None:
                assert {"401", "403", "429"} <= set(operation["responses"])


def test_the_body_is_the_validators() -> None:
    _, described = served("shared_services")
    registration = described["components"]["schemas"]["RegistrationRequest"]
    assert registration["required"] == ["tenantName", "tenantEmail", "tenantTier"]
    assert registration["additionalProperties"] is False
    assert registration["properties"]["tenantTier"]["enum"] == [
        "Basic", "Standard", "Premium", "Platinum"]
    assert registration["properties"]["tenantName"]["maxLength"] == 64


def test_a_route_without_its_operation_fails_the_document() -> None:
    app = load_app("shared_services")  # puts its chalicelib on the path
    admin_api = importlib.import_module("chalicelib.control_plane.api_document").ADMIN_API

    @app.route("/added-later", methods=["GET"])
    def added_later() -> dict[str, str]:
        return {}

    with pytest.raises(ConfigurationError, match=r"undocumented \['GET /added-later'\]"):
        document(app, ApiDescription("Admin API", "", {**admin_api.operations,
                                                       **document_operation()}))


def test_the_tenant_api_is_every_tenant_services_document() -> None:
    tenant_api = merged("Tenant API", "", (served(service.folder)[1]
                                           for service in TENANT_SERVICES))
    for service in TENANT_SERVICES:
        prefix = service.route_prefix
        assert {f"{prefix}s", prefix, f"{prefix}/{{key}}", service.document_path} <= \
            set(tenant_api["paths"])
