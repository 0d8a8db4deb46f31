"""Who creates which users, duplicates, complete listings, and changes taking effect."""

from __future__ import annotations

import pytest

from tenant_authorizer.errors import Unauthorized
from tenant_context.tenancy import Role
from tests.authorizer.conftest import build
from tests.support.admin_api import AdminApi
from tests.support.gateway import token_event
from tests.support.world import User, World


def new_user(name: str, role: str, tenant_id: str | None = None) -> dict[str, str]:
    body = {"userName": name, "userEmail": f"{name}@example.com", "userRole": role}
    return body | ({"tenantId": tenant_id} if tenant_id else {})


def test_roles_each_caller_may_create(admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Basic")
    owner = world.id_token(tenant.admin)
    prefix = tenant.tenant_id[:6]
    for role, status in (("TenantAdmin", 201), ("TenantUser", 201), ("SystemAdmin", 403),
                         ("CustomerSupport", 403)):
        response = admin_api.call("POST", "/user", owner, new_user(f"{prefix}-{role}", role))
        assert response.status_code == status, (role, response.body)
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    created = admin_api.call("POST", "/user", system_admin,
                             new_user(f"support-{prefix}", "CustomerSupport"))
    assert created.status_code == 201
    support = User(f"support-{prefix}", world.settings.operations_pool, Role.CUSTOMER_SUPPORT,
                   "operations")
    support_token = world.id_token(support)  # signs in to the operations pool
    assert admin_api.call("GET", "/tenants", support_token).status_code == 200
    staff = {user["user_name"] for user in
             admin_api.call("GET", "/users", system_admin).json_body}
    assert {"admin", f"support-{prefix}"} <= staff


def test_duplicate_names_conflict_within_a_pool(admin_api: AdminApi, world: World) -> None:
    first, second = admin_api.register("Basic"), admin_api.register("Premium")
    platinum = admin_api.register("Platinum")
    name = f"dup-{first.tenant_id[:8]}"
    assert admin_api.call("POST", "/user", world.id_token(first.admin),
                          new_user(name, "TenantUser")).status_code == 201
    again = admin_api.call("POST", "/user", world.id_token(first.admin),
                           new_user(name, "TenantAdmin"))
    assert again.status_code == 409
    assert again.json_body["fields"] == ["userName"]
    # The pooled tenants share one pool: the name is taken there too ...
    assert admin_api.call("POST", "/user", world.id_token(second.admin),
                          new_user(name, "TenantUser")).status_code == 409
    # ... and nothing half-made is left for the second tenant.
    listed = admin_api.call("GET", "/users", world.id_token(second.admin)).json_body
    assert name not in {user["user_name"] for user in listed}
    # A Platinum tenant has its own pool.
    assert admin_api.call("POST", "/user", world.id_token(platinum.admin),
                          new_user(name, "TenantUser")).status_code == 201


def test_every_user_of_a_tenant_is_listed_once(admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Standard")
    neighbour = admin_api.register("Standard")
    owner = world.id_token(tenant.admin)
    names = {f"many-{index}-{tenant.tenant_id[:6]}" for index in range(70)}  # > one page (60)
    for name in names:
        assert admin_api.call("POST", "/user", owner,
                              new_user(name, "TenantUser")).status_code == 201
    admin_api.add_user(neighbour)
    listed = [user["user_name"] for user in admin_api.call("GET", "/users", owner).json_body]
    assert sorted(listed) == sorted(names | {tenant.admin.name})
    assert all(user["status"] == "FORCE_CHANGE_PASSWORD" for user in admin_api.call(
        "GET", "/users", owner).json_body if user["user_name"] in names)


def test_another_tenants_user_is_not_found(admin_api: AdminApi, world: World) -> None:
    mine, theirs = admin_api.register("Basic"), admin_api.register("Basic")
    their_user = admin_api.add_user(theirs)
    owner = world.id_token(mine.admin)
    for query in ("", f"?tenantid={theirs.tenant_id}"):
        for method, body in (("GET", None), ("PUT", {"userEmail": "x@y.io"}),
                             ("DELETE", None)):
            response = admin_api.call(method, f"/user/{their_user.name}{query}", owner, body)
            assert response.status_code == 404, (method, query, response.body)
    assert admin_api.call("GET", f"/users?tenantid={theirs.tenant_id}", owner
                          ).status_code == 404


def test_role_changes_and_disables_revoke_old_tokens(admin_api: AdminApi,
                                                     world: World) -> None:
    tenant = admin_api.register("Basic")
    owner = world.id_token(tenant.admin)
    promoted, disabled = admin_api.add_user(tenant), admin_api.add_user(tenant)
    old_token, disabled_token = world.id_token(promoted), world.id_token(disabled)
    assert admin_api.call("PUT", f"/user/{promoted.name}", owner,
                          {"userRole": "TenantAdmin"}).status_code == 200
    assert admin_api.call("DELETE", f"/user/{disabled.name}", owner).status_code == 200
    fresh = build().authorizer  # as any authorizer instance sees it once its cache expires
    for token in (old_token, disabled_token):
        with pytest.raises(Unauthorized):
            fresh.authorize(token_event(token, "admin", "GET", f"/user/{promoted.name}"))
    new_token = world.id_token(promoted)  # the new role is in the new token
    response = fresh.authorize(token_event(new_token, "admin", "GET", "/users"))
    assert response["context"]["userRole"] == "TenantAdmin"
