"""Bad input gets a 400 naming the field(s), never a 5xx, and changes nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.counting import CallCounter
from tests.support.moto_server import clients_for
from tests.support.serving import served_with
from tests.support.world import World

GOOD = {"tenantName": "Valid Name", "tenantEmail": "a@valid.example", "tenantTier": "Basic"}

REGISTRATIONS: list[tuple[Any, list[str]]] = [
    ({}, ["tenantName", "tenantEmail", "tenantTier"]),
    ({**GOOD, "tenantName": None}, ["tenantName"]),
    ({**GOOD, "tenantName": 42}, ["tenantName"]),
    ({**GOOD, "tenantName": ["a"]}, ["tenantName"]),
    ({**GOOD, "tenantName": " "}, ["tenantName"]),
    ({**GOOD, "tenantName": "x" * 65}, ["tenantName"]),
    ({**GOOD, "tenantName": "<script>"}, ["tenantName"]),
    ({**GOOD, "tenantName": "tab\there"}, ["tenantName"]),
    ({**GOOD, "tenantName": "-starts-with-dash"}, ["tenantName"]),
    ({**GOOD, "tenantEmail": "not-an-email"}, ["tenantEmail"]),
    ({**GOOD, "tenantEmail": "a@b"}, ["tenantEmail"]),
    ({**GOOD, "tenantEmail": "a" * 250 + "@x.io"}, ["tenantEmail"]),
    ({**GOOD, "tenantEmail": True}, ["tenantEmail"]),
    ({**GOOD, "tenantTier": "Gold"}, ["tenantTier"]),
    ({**GOOD, "tenantTier": 1}, ["tenantTier"]),
    ({**GOOD, "tenantPhone": "call me maybe"}, ["tenantPhone"]),
    ({**GOOD, "tenantPhone": "1" * 33}, ["tenantPhone"]),
    ({**GOOD, "tenantAddress": "a" * 257}, ["tenantAddress"]),
    ({**GOOD, "tenantAddress": {"street": "x"}}, ["tenantAddress"]),
    ({**GOOD, "isActive": False}, ["isActive"]),
    ({**GOOD, "tenantId": "f" * 32}, ["tenantId"]),
    ({"tenantName": 1, "tenantEmail": 2, "tenantTier": 3, "extra": 4},
     ["extra", "tenantName", "tenantEmail", "tenantTier"]),
    # Half a UTF-16 pair (a JSON "\ud800" escape) in any text field: DynamoDB refuses it.
    ({**GOOD, "tenantAddress": "Main St \ud800"}, ["tenantAddress"]),
    ({**GOOD, "tenantEmail": "a\udc00@valid.example"}, ["tenantEmail"]),
    ({**GOOD, "tenantPhone": "\ud83d"}, ["tenantPhone"]),
]


@pytest.mark.parametrize(("body", "fields"), REGISTRATIONS, ids=range(len(REGISTRATIONS)))
def test_registration_fields(admin_api: AdminApi, body: Any, fields: list[str]) -> None:
    response = admin_api.call("POST", "/registration", body=body)
    assert response.status_code == 400, response.body
    assert sorted(response.json_body["fields"]) == sorted(fields)
    for field in fields:
        assert field in response.json_body["message"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b'"text"', b"null", b"\xff\xfe",
                                 b'{"tenantName": "a"' + b" " * 70_000 + b"}"])
def test_malformed_bodies(admin_api: AdminApi, raw: bytes) -> None:
    response = admin_api.call("POST", "/registration", raw=raw)
    assert response.status_code == 400, response.body
    assert response.json_body["fields"] == ["body"]


def test_nothing_is_registered_by_bad_input(admin_api: AdminApi) -> None:
    before = admin_api.call("GET", "/tenant/init/Valid Name")
    for body, _ in REGISTRATIONS:
        admin_api.call("POST", "/registration", body=body)
    assert before.status_code == admin_api.call("GET", "/tenant/init/Valid Name").status_code \
        == 404


IMPOSSIBLE_NAMES = ["%20", "%20%20%20", "x" * 3000, "%C3%A9" * 1100, "a", "%00ab",
                    "-dash-first", "%3Cscript%3E"]


@pytest.mark.parametrize("name", IMPOSSIBLE_NAMES, ids=lambda name: name[:12])
def test_impossible_tenant_names_are_not_found_without_a_lookup(
        admin_api: AdminApi, emulator_url: str, name: str) -> None:
    """A name no registration could have produced is a 404 in the contract's shape, decided
    before DynamoDB is asked (which answers an empty key, or one over 2,048 bytes, with an
    error: a 500 for the caller)."""
    clients = clients_for(emulator_url)
    lookups = CallCounter(clients.dynamodb, "dynamodb", "GetItem")
    with served_with(clients):
        response = admin_api.call("GET", f"/tenant/init/{name}")
    assert response.status_code == 404, response.body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert list(response.json_body) == ["message"]
    assert len(response.body) < 200  # the name is not echoed back
    assert lookups.count == 0


def test_a_possible_but_unknown_name_is_looked_up(admin_api: AdminApi,
                                                  emulator_url: str) -> None:
    """The other side of the test above: its counter would see a lookup."""
    clients = clients_for(emulator_url)
    lookups = CallCounter(clients.dynamodb, "dynamodb", "GetItem")
    with served_with(clients):
        response = admin_api.call("GET", "/tenant/init/%20Nobody%20Here%20")
    assert response.status_code == 404
    assert "Nobody Here" in response.json_body["message"]
    assert lookups.count == 1


def test_admin_calls_refuse_bad_fields(admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Basic")
    admin = world.id_token(tenant.admin)
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    t = tenant.tenant_id
    cases: list[tuple[str, str, str, Any, list[str]]] = [
        ("POST", "/user", admin, {"userName": "ok", "userEmail": "x", "userRole": "TenantUser"},
         ["userEmail"]),
        ("POST", "/user", admin, {"userName": "a@b", "userEmail": "a@b.io",
                                  "userRole": "TenantUser"}, ["userName"]),
        ("POST", "/user", admin, {"userName": "ok", "userEmail": "a@b.io", "userRole": "Root"},
         ["userRole"]),
        ("POST", "/user", admin, {"userName": "ok", "userEmail": "a@b.io",
                                  "userRole": "TenantUser", "tenantId": "../../etc"},
         ["tenantId"]),
        ("POST", "/user", admin, {"userName": "ok"}, ["userEmail", "userRole"]),
        ("POST", "/user", system_admin, {"userName": "ok", "userEmail": "a@b.io",
                                         "userRole": "TenantUser"}, ["tenantId"]),
        ("POST", "/user", system_admin, {"userName": "ok", "userEmail": "a@b.io",
                                         "userRole": "CustomerSupport", "tenantId": t},
         ["tenantId"]),
        ("POST", "/user", system_admin, {"userName": "ok", "userEmail": "a@b.io",
                                         "userRole": "TenantUser", "tenantId": "operations"},
         ["tenantId"]),
        ("POST", "/user", system_admin, {"userName": "ok", "userEmail": "a@b.io",
                                         "userRole": "TenantAdmin", "tenantId": "operations"},
         ["tenantId"]),
        ("PUT", f"/tenant/{t}", admin, {}, ["tenantName", "tenantEmail", "tenantPhone",
                                            "tenantAddress", "tenantTier"]),
        ("PUT", f"/tenant/{t}", admin, {"tenantTier": "Gold"}, ["tenantTier"]),
        ("PUT", f"/tenant/{t}", admin, {"tenantEmail": 7, "apiKey": "mine"},
         ["tenantEmail", "apiKey"]),
        ("PUT", f"/tenant/{t}", system_admin, {"tenantTier": ["Platinum"]}, ["tenantTier"]),
        ("PUT", f"/user/{tenant.admin.name}", admin, {"userRole": "Boss"}, ["userRole"]),
        ("PUT", f"/user/{tenant.admin.name}", admin, {}, ["userEmail", "userRole"]),
        ("PUT", f"/user/{tenant.admin.name}", admin, {"userRole": "SystemAdmin"}, ["userRole"]),
        ("GET", "/tenants?limit=abc", system_admin, None, ["limit"]),
        ("GET", "/tenants?limit=0", system_admin, None, ["limit"]),
        ("GET", "/tenants?nextToken=garbage", system_admin, None, ["nextToken"]),
        ("GET", "/users?tenantid=not-a-tenant", system_admin, None, ["tenantid"]),
    ]
    for method, path, token, body, fields in cases:
        response = admin_api.call(method, path, token, body)
        assert response.status_code == 400, (method, path, body, response.body)
        assert sorted(response.json_body["fields"]) == sorted(fields), (path, body)
    raw_cases = [b"not json", b"[]", b"{"]
    for raw in raw_cases:
        response = admin_api.call("POST", "/user", admin, raw=raw)
        assert response.status_code == 400
    assert json.loads(admin_api.call("GET", f"/tenant/{t}", admin).body)["message"][
        "tenant_tier"] == "Basic"


ADMIN_QUERIES = ["limit=" + quote("\u00b2"), "limit=" + quote("\u0661"), "limit=" + "9" * 5000,
                 "limit=" + "0" * 4999 + "5", "limit=-1", "limit=+5", "limit=%205", "limit=0",
                 "limit=1001", "limit=abc"]


@pytest.mark.parametrize("query", ADMIN_QUERIES, ids=lambda query: query[:16])
def test_a_numeric_query_parameter_is_ascii_digits_in_range(
        admin_api: AdminApi, world: World, query: str) -> None:
    """The tenant API's rule, through the same parser (``whole_number``)."""
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    response = admin_api.call("GET", f"/tenants?{query}", system_admin)
    assert response.status_code == 400, response.body
    assert response.json_body["fields"] == ["limit"]
