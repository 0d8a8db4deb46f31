"""Every shared-services handler logs one line and records one metric about the tenant it acted
on: for a SystemAdmin, the target tenant, not its own pseudo-tenant ``operations``.

Log lines keep the caller's keys (tenant_id, user, role, bound by the layer) and add the
target's (target_tenant_id, target_tier): who did what to whom. Each metric is one EMF record on
the dimensions service and tier (the target's), with the target's tenant id as a property: the
same mechanism as the tenant API's (``Observability.observe``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.logs import json_lines, metric_records, service_log
from tests.support.world import World

SERVICE = "shared-services"


def test_a_system_admins_calls_are_logged_and_measured_about_their_target(
        admin_api: AdminApi, world: World, capfd: pytest.CaptureFixture[str]) -> None:
    tenant = admin_api.register("Standard")
    staff = world.operations_user(Role.SYSTEM_ADMIN)
    token = world.id_token(staff)
    t, user = tenant.tenant_id, f"observed-{tenant.tenant_id[:8]}"
    new_user = {"userName": user, "userEmail": f"{user}@example.com", "userRole": "TenantUser",
                "tenantId": t}
    # (method, path, body, status, log message, metric, value)
    calls: list[tuple[str, str, Any, int, str, str, float]] = [
        ("GET", f"/tenant/{t}", None, 200, "tenant read", "TenantRead", 1),
        ("PUT", f"/tenant/{t}", {"tenantPhone": "+1 555 0101"}, 200, "tenant updated",
         "TenantUpdated", 1),
        ("POST", "/user", new_user, 201, "user created", "UserCreated", 1),
        ("GET", f"/users?tenantid={t}", None, 200, "users listed", "UsersListed", 2),
        ("GET", f"/user/{user}?tenantid={t}", None, 200, "user read", "UserRead", 1),
        ("PUT", f"/user/{user}?tenantid={t}", {"userEmail": f"{user}@new.example"}, 200,
         "user updated", "UserUpdated", 1),
        ("DELETE", f"/user/{user}?tenantid={t}", None, 200, "user disabled", "UserDisabled", 1),
        ("PUT", f"/users/disable/{t}", None, 200, "users of a tenant disabled",
         "TenantUsersDisabled", 2),
        ("PUT", f"/users/enable/{t}", None, 200, "users of a tenant enabled",
         "TenantUsersEnabled", 2),
        ("DELETE", f"/tenant/{t}", None, 200, "tenant deactivated", "TenantDeactivated", 1),
        ("PUT", f"/tenant/activation/{t}", None, 200, "tenant activated", "TenantActivated",
         1),
    ]
    problems: list[tuple[Any, ...]] = []
    for method, path, body, status, message, metric, value in calls:
        capfd.readouterr()
        with service_log(SERVICE) as log:
            response = admin_api.call(method, path, token, body)
        assert response.status_code == status, (method, path, response.body)
        lines = [line for line in json_lines(log.getvalue()) if line.get("message") == message]
        if len(lines) != 1:
            problems.append((path, "log lines", len(lines)))
            continue
        line = lines[0]
        seen = {key: line.get(key) for key in ("tenant_id", "user", "role", "target_tenant_id",
                                                 "target_tier", "service")}
        expected = {"tenant_id": "operations", "user": staff.name, "role": "SystemAdmin",
                    "target_tenant_id": t, "target_tier": "Standard", "service": SERVICE}
        if seen != expected:
            problems.append((path, "log keys", seen))
        records = metric_records(capfd.readouterr().out, metric)
        if [record["dimensions"] for record in records] != [("service", "tier")]:
            problems.append((path, metric, [record["dimensions"] for record in records]))
            continue
        (record,) = records
        if (record["tenant_id"], record["tier"], record["value"]) != (t, "Standard", value):
            problems.append((path, metric, record["tenant_id"], record["tier"], record["value"]))
    assert problems == []


def test_listing_and_public_calls_are_logged_and_measured(
        admin_api: AdminApi, world: World, capfd: pytest.CaptureFixture[str]) -> None:
    token = world.id_token(world.operations_user(Role.CUSTOMER_SUPPORT))
    name = f"Observed {world.operations_user().name[-12:]}"
    registration = {"tenantName": name, "tenantEmail": "o@observed.example",
                    "tenantTier": "premium"}
    capfd.readouterr()
    with service_log(SERVICE) as log:
        registered = admin_api.call("POST", "/registration", body=registration)
        repeated = admin_api.call("POST", "/registration", body=registration)
        looked_up = admin_api.call("GET", f"/tenant/init/{name}")
        listed = admin_api.call("GET", "/tenants", token)
    assert [registered.status_code, repeated.status_code, looked_up.status_code,
            listed.status_code] == [201, 200, 200, 200]
    t = registered.json_body["tenantId"]
    lines = {line["message"]: line for line in json_lines(log.getvalue())
             if line.get("event")}
    for message in ("tenant registered", "tenant registration repeated",
                    "tenant sign-in settings served"):
        assert (lines[message]["target_tenant_id"], lines[message]["target_tier"]) == (
            t, "Premium")
        assert "user" not in lines[message]  # nobody signed in: no caller keys
    assert lines["tenants listed"]["role"] == "CustomerSupport"
    assert lines["tenants listed"]["count"] == len(listed.json_body)
    output = capfd.readouterr().out
    for metric in ("TenantRegistered", "TenantRegistrationRepeated", "TenantConfigServed"):
        (record,) = metric_records(output, metric)
        assert (record["dimensions"], record["tier"], record["tenant_id"]) == (
            ("service", "tier"), "Premium", t)
    (tenants_listed,) = metric_records(output, "TenantsListed")
    assert (tenants_listed["tier"], tenants_listed["tenant_id"]) == ("operations", "operations")
    assert tenants_listed["value"] == len(listed.json_body)
