"""Errors become the contract's JSON with CORS headers, in one place, for every app."""

from __future__ import annotations

from chalice import Chalice
from chalice.test import Client

from tenant_context.errors import BadRequestError, ConflictError, NotFoundError
from tenant_context.service.chalice_app import wire
from tenant_context.service.observability import Observability
from tenant_context.service.responses import CORS

app = Chalice(app_name="http-mapping")
wire(app, Observability(service="http-mapping"))


@app.route("/bad", cors=CORS)
def bad() -> None:
    raise BadRequestError("tenantEmail: not an email address", fields=["tenantEmail"])


@app.route("/missing", cors=CORS)
def missing() -> None:
    raise NotFoundError("Tenant not found")


@app.route("/dup", cors=CORS)
def duplicate() -> None:
    raise ConflictError("Tenant name already taken", fields=["tenantName"])


@app.route("/boom", cors=CORS)
def boom() -> None:
    raise RuntimeError("internal detail that must not leak")


def test_api_errors_map_to_status_body_and_cors() -> None:
    with Client(app) as client:
        for path, status, body in [
            ("/bad", 400, {"message": "tenantEmail: not an email address",
                           "fields": ["tenantEmail"]}),
            ("/missing", 404, {"message": "Tenant not found"}),
            ("/dup", 409, {"message": "Tenant name already taken", "fields": ["tenantName"]}),
        ]:
            response = client.http.get(path)
            assert response.status_code == status
            assert response.json_body == body
            assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unexpected_errors_are_500_without_details_but_with_cors() -> None:
    with Client(app) as client:
        response = client.http.get("/boom")
    assert response.status_code == 500
    assert b"internal detail" not in response.body
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@app.route("/public", methods=["POST"])  # no CORS of its own: the answer still carries it
def public() -> dict[str, str]:
    return {"message": "accepted"}


def test_a_body_not_declared_json_is_415_in_the_contracts_shape_with_cors() -> None:
    """Chalice answers it before the view, ``{Code, Message}`` and no CORS on a route without
    any: the middleware gives it the contract's shape on every route."""
    with Client(app) as client:
        for method, path in (("POST", "/public"), ("GET", "/bad")):  # any route, any method
            response = client.http.request(method, path, body=b"tenantName=Acme", headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            assert response.status_code == 415
            assert response.json_body == {"message": "Content-Type: application/x-www-form-"
                                                     "urlencoded is not accepted: send "
                                                     "application/json"}
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert response.headers["Content-Type"] == "application/json"
        json_charset = client.http.post("/public", body=b"{}", headers={
            "Content-Type": "application/json; charset=utf-8"})
        assert json_charset.status_code == 200
        undeclared = client.http.post("/public", body=b"{}")  # no Content-Type: taken as JSON
        assert undeclared.status_code == 200
