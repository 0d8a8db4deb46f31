"""Bad input gets a 400 naming the field(s), never a 5xx, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenant_context.tenancy import Role
from tests.support.admin_api import AdminApi
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
        ("PUT", f"/tenant/{t}", admin, {}, ["tenantName", "tenantEmail", "tenantPhone",
                                            "tenantAddress", "tenantTier"]),
        ("PUT", f"/tenant/{t}", admin, {"tenantTier": "Gold"}, ["tenantTier"]),
        ("PUT", f"/tenant/{t}", admin, {"tenantEmail": 7, "apiKey": "mine"},
         ["tenantEmail", "apiKey"]),
        ("PUT", f"/tenant/{t}", system_admin, {"tenantTier": "Platinum"}, ["tenantTier"]),
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
