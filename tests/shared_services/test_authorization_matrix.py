"""Every admin endpoint x every role x the expected status, through the real authorizer.

Roles: SystemAdmin, CustomerSupport, and TenantAdmin / TenantUser of the target tenant and of
another tenant. Calls expected to succeed with a lasting effect (deactivation, disabling) act on
disposable tenants and users; refused calls act on the real target, which must be unchanged
afterwards. Any unexpected status, above all an unexpected success, fails the test.

PUT /user/{name} is for administrators only (the contract): a TenantUser's PUT of itself passes
the gateway and is refused by the handler. A TenantUser reaches no other user: the gateway
refuses every other /user path, and the handler would too (403 before any lookup, so the
answer says nothing about who exists).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.world import User, World

ROLES = ("SystemAdmin", "CustomerSupport", "TenantAdmin", "OtherTenantAdmin", "TenantUser",
         "OtherTenantUser")
_names = itertools.count(1)


@dataclass
class Cell:
    role: str
    method: str
    path: str
    expected: int
    body: Any = None


def matrix(method: str, path: str, expected: tuple[int, ...], body: Any = None) -> list[Cell]:
    return [Cell(role, method, path, status, body) for role, status in zip(ROLES, expected,
                                                                           strict=True)]


def test_every_endpoint_for_every_role(admin_api: AdminApi, world: World) -> None:
    api = admin_api
    target, other = api.register("Basic"), api.register("Standard")
    target_user, other_user = api.add_user(target), api.add_user(other)
    people: dict[str, User] = {
        "SystemAdmin": world.operations_user(Role.SYSTEM_ADMIN),
        "CustomerSupport": world.operations_user(Role.CUSTOMER_SUPPORT),
        "TenantAdmin": target.admin, "OtherTenantAdmin": other.admin,
        "TenantUser": target_user, "OtherTenantUser": other_user,
    }
    tokens = {role: world.id_token(user) for role, user in people.items()}
    t, u, a = target.tenant_id, target_user.name, target.admin.name

    def new_user_body() -> dict[str, str]:
        name = f"matrix-{next(_names)}-{t[:6]}"
        return {"userName": name, "userEmail": f"{name}@example.com", "userRole": "TenantUser",
                "tenantId": t}

    cells = [
        *matrix("GET", "/tenants", (200, 200, 403, 403, 403, 403)),
        *matrix("GET", f"/tenant/{t}", (200, 200, 200, 403, 403, 403)),
        *matrix("PUT", f"/tenant/{t}", (200, 403, 200, 403, 403, 403),
                {"tenantPhone": "+1 555 0100"}),
        # The target is pooled: only a SystemAdmin gets as far as the tier (409).
        *matrix("PUT", f"/tenant/release-settings/{t}", (409, 403, 403, 403, 403, 403),
                {"wave": 1}),
        *matrix("GET", f"/users?tenantid={t}", (200, 200, 200, 404, 403, 403)),
        # Usage: staff read any tenant's, a TenantAdmin its own; every tenant's is for the
        # SystemAdmin alone.
        *matrix("GET", f"/tenant/{t}/usage", (200, 200, 200, 403, 403, 403)),
        *matrix("GET", "/usage", (200, 403, 403, 403, 403, 403)),
        *matrix("GET", f"/user/{u}?tenantid={t}", (200, 200, 200, 404, 200, 403)),
        *matrix("PUT", f"/user/{u}?tenantid={t}", (200, 403, 200, 404, 403, 403),
                {"userEmail": f"{u}@changed.example"}),
        *[Cell(role, "POST", "/user", status, new_user_body()) for role, status in
          zip(ROLES, (201, 403, 201, 403, 403, 403), strict=True)],
        # A TenantUser and its tenant's admin: only itself is the TenantUser's to read.
        *[Cell("TenantUser", method, f"/user/{a}", 403, body) for method, body in
          (("GET", None), ("PUT", {"userEmail": "taken@over.example"}),
           ("PUT", {"userRole": "TenantUser"}), ("DELETE", None))],
        # Staff roles belong to the operations pool and tenant roles to a tenant: no pairing
        # across the two, whatever the SystemAdmin names.
        *[Cell("SystemAdmin", "POST", "/user", 400, {**new_user_body(), "userRole": role,
                                                     "tenantId": tenant})
          for role, tenant in (("TenantUser", "operations"), ("TenantAdmin", "operations"),
                               ("SystemAdmin", t), ("CustomerSupport", t))],
        # Refusals of lasting changes, on the real target ...
        *[Cell(role, "DELETE", f"/user/{u}?tenantid={t}", status) for role, status in
          (("CustomerSupport", 403), ("OtherTenantAdmin", 404), ("TenantUser", 403),
           ("OtherTenantUser", 403))],
        *[Cell(role, "DELETE", f"/tenant/{t}", 403) for role in
          ("CustomerSupport", "OtherTenantAdmin", "TenantUser", "OtherTenantUser")],
        *[Cell(role, method, f"{path}/{t}", 403) for role in ROLES[1:]
          for method, path in (("PUT", "/tenant/activation"), ("PUT", "/users/disable"),
                               ("PUT", "/users/enable"))],
    ]
    # ... and the successes, on disposable ones.
    spare_user_for_admin, spare_user_for_owner = api.add_user(target), api.add_user(target)
    cells += [
        Cell("SystemAdmin", "DELETE", f"/user/{spare_user_for_admin.name}?tenantid={t}", 200),
        Cell("TenantAdmin", "DELETE", f"/user/{spare_user_for_owner.name}", 200),
    ]
    for_system_admin, for_its_owner = api.register("Premium"), api.register("Basic")
    owner_token = world.id_token(for_its_owner.admin)
    disposable = [
        ("SystemAdmin", "DELETE", f"/tenant/{for_system_admin.tenant_id}", 200),
        ("SystemAdmin", "PUT", f"/tenant/activation/{for_system_admin.tenant_id}", 200),
        ("SystemAdmin", "PUT", f"/users/disable/{for_system_admin.tenant_id}", 200),
        ("SystemAdmin", "PUT", f"/users/enable/{for_system_admin.tenant_id}", 200),
        ("owner", "DELETE", f"/tenant/{for_its_owner.tenant_id}", 200),
    ]

    mismatches = []
    for cell in cells:
        response = api.call(cell.method, cell.path, tokens[cell.role], cell.body)
        if response.status_code != cell.expected:
            mismatches.append((cell.role, cell.method, cell.path, cell.expected,
                               response.status_code, response.body[:120]))
    for role, method, path, expected in disposable:
        token = owner_token if role == "owner" else tokens[role]
        response = api.call(method, path, token)
        if response.status_code != expected:
            mismatches.append((role, method, path, expected, response.status_code,
                               response.body[:120]))
    assert mismatches == []
    assert len(cells) + len(disposable) >= 70

    # The refused calls changed nothing.
    system_admin = tokens["SystemAdmin"]
    tenant = api.call("GET", f"/tenant/{t}", system_admin).json_body["message"]
    assert tenant["is_active"] is True
    user = api.call("GET", f"/user/{u}?tenantid={t}", system_admin).json_body["message"]
    assert user["enabled"] is True
    assert user["email"] == f"{u}@changed.example"
    admin = api.call("GET", f"/user/{a}", tokens["TenantAdmin"]).json_body["message"]
    assert (admin["enabled"], admin["user_role"]) == (True, "TenantAdmin")
    assert admin["email"] != "taken@over.example"
    # No refused creation left a user anywhere: not in the records, not in Cognito.
    refused_names = {cell.body["userName"] for cell in cells
                     if cell.method == "POST" and cell.expected != 201}
    listed = {row["user_name"] for query in ("", f"?tenantid={t}")
              for row in api.call("GET", f"/users{query}", system_admin).json_body}
    assert not listed & refused_names
    cognito = world.clients.cognito
    for pool in (world.settings.operations_pool, target.pool):
        for name in refused_names:
            with pytest.raises(cognito.exceptions.UserNotFoundException):
                cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username=name)
    deactivated = api.call("GET", f"/tenant/{for_its_owner.tenant_id}", system_admin)
    assert deactivated.json_body["message"]["is_active"] is False
