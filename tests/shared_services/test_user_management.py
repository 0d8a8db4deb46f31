"""Who creates which users, duplicates, complete listings, and changes taking effect."""

from __future__ import annotations

import pytest

from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.sign_in import LoginError, sign_in
from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.authorizer_under_test import build
from tests.support.control_plane_parts import Failing
from tests.support.gateway_policy import token_event
from tests.support.serving import replacing, served_with
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


def test_all_users_of_a_tenant_are_disabled_and_enabled_again(admin_api: AdminApi,
                                                              world: World) -> None:
    tenant, neighbour = admin_api.register("Premium"), admin_api.register("Premium")
    users = [tenant.admin, admin_api.add_user(tenant),
             admin_api.add_user(tenant, Role.TENANT_ADMIN)]
    bystander = admin_api.add_user(neighbour)
    for user in [*users, bystander]:
        world.id_token(user)  # first logins done: the passwords are permanent now
    system_admin = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    cognito = world.clients.cognito

    def listed() -> dict[str, bool]:
        response = admin_api.call("GET", f"/users?tenantid={tenant.tenant_id}", system_admin)
        return {row["user_name"]: row["enabled"] for row in response.json_body}

    def signs_in(user: User) -> bool:
        try:
            sign_in(cognito, user.pool, user.name, world.credentials)
        except LoginError:
            return False
        return True

    assert listed() == {user.name: True for user in users}
    disabled = admin_api.call("PUT", f"/users/disable/{tenant.tenant_id}", system_admin)
    assert (disabled.status_code, disabled.json_body) == (
        200, {"message": "Users disabled", "count": len(users)})
    assert listed() == {user.name: False for user in users}
    assert [signs_in(user) for user in users] == [False] * len(users)
    assert signs_in(bystander)  # another tenant's users are untouched

    enabled = admin_api.call("PUT", f"/users/enable/{tenant.tenant_id}", system_admin)
    assert (enabled.status_code, enabled.json_body) == (
        200, {"message": "Users enabled", "count": len(users)})
    assert listed() == {user.name: True for user in users}
    assert [signs_in(user) for user in users] == [True] * len(users)


def test_an_administrator_never_disables_or_demotes_itself(admin_api: AdminApi,
                                                           world: World) -> None:
    tenant = admin_api.register("Basic")
    owner, me = world.id_token(tenant.admin), tenant.admin.name
    refusals: list[tuple[str, dict[str, str] | None, str]] = [
        ("DELETE", None, "userName"),
        ("PUT", {"userRole": "TenantUser"}, "userRole"),
        ("PUT", {"userEmail": "me@demoted.example", "userRole": "TenantUser"}, "userRole"),
    ]
    for method, body, field in refusals:
        response = admin_api.call(method, f"/user/{me}", owner, body)
        assert response.status_code == 400, (method, body, response.body)
        assert response.json_body["fields"] == [field]
        assert "your own" in response.json_body["message"]
    fresh = world.id_token(tenant.admin)  # still an enabled TenantAdmin, with its old email
    mine = admin_api.call("GET", f"/user/{me}", fresh).json_body["message"]
    assert (mine["enabled"], mine["user_role"]) == (True, "TenantAdmin")
    assert mine["email"] != "me@demoted.example"
    assert admin_api.call("GET", "/users", fresh).status_code == 200

    # Another administrator of the tenant may do both.
    colleague = world.id_token(admin_api.add_user(tenant, Role.TENANT_ADMIN))
    assert admin_api.call("PUT", f"/user/{me}", colleague, {"userRole": "TenantUser"}
                          ).status_code == 200
    assert admin_api.call("DELETE", f"/user/{me}", colleague).status_code == 200

    # The SaaS provider's staff follow the same rule.
    staff = world.operations_user(Role.SYSTEM_ADMIN)
    staff_token = world.id_token(staff)
    assert admin_api.call("DELETE", f"/user/{staff.name}", staff_token).status_code == 400
    assert admin_api.call("PUT", f"/user/{staff.name}", staff_token,
                          {"userRole": "CustomerSupport"}).status_code == 400


def test_only_an_administrators_change_of_another_users_email_is_verified(
        admin_api: AdminApi, world: World) -> None:
    tenant = admin_api.register("Basic")
    owner, me = world.id_token(tenant.admin), tenant.admin.name
    user = admin_api.add_user(tenant)
    cognito = world.clients.cognito

    def attributes(name: str) -> tuple[str, str]:
        raw = cognito.admin_get_user(UserPoolId=tenant.pool.user_pool_id, Username=name)
        values = {attribute["Name"]: attribute["Value"] for attribute in raw["UserAttributes"]}
        return values["email"], values["email_verified"]

    # The administrator vouches for its user's new address, as at creation.
    assert admin_api.call("PUT", f"/user/{user.name}", owner, {"userEmail": "u@new.example"}
                          ).status_code == 200
    assert attributes(user.name) == ("u@new.example", "true")
    # Its own form sent back unchanged keeps its address verified ...
    email, verified = attributes(me)
    assert verified == "true"
    assert admin_api.call("PUT", f"/user/{me}", owner, {"userEmail": email,
                                                        "userRole": "TenantAdmin"}
                          ).status_code == 200
    assert attributes(me) == (email, "true")
    # ... and a new address of its own waits for its owner's confirmation.
    assert admin_api.call("PUT", f"/user/{me}", owner, {"userEmail": "me@new.example"}
                          ).status_code == 200
    assert attributes(me) == ("me@new.example", "false")


@pytest.mark.parametrize(("method", "after"), [("admin_create_user", False),
                                               ("admin_create_user", True),
                                               ("admin_add_user_to_group", False)],
                         ids=["create", "create-after-effect", "add-to-group"])
def test_a_failed_user_creation_keeps_nothing_and_a_retry_succeeds(
        admin_api: AdminApi, world: World, emulator_url: str, method: str,
        after: bool) -> None:
    tenant = admin_api.register("Basic")
    owner = world.id_token(tenant.admin)
    name = f"flaky-{method[6:12]}-{int(after)}-{tenant.tenant_id[:6]}"
    body = new_user(name, "TenantUser")
    failing = replacing(emulator_url, "cognito-idp",
                        lambda cognito: Failing(cognito, method, after=after))
    with served_with(failing):
        response = admin_api.call("POST", "/user", owner, body)
    assert response.status_code == 503, response.body
    assert list(response.json_body) == ["message"]
    assert "retry" in response.json_body["message"]
    cognito = world.clients.cognito
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=tenant.pool.user_pool_id, Username=name)
    listed = admin_api.call("GET", "/users", owner).json_body
    assert name not in {user["user_name"] for user in listed}

    assert admin_api.call("POST", "/user", owner, body).status_code == 201
    listed = admin_api.call("GET", "/users", owner).json_body
    assert {user["user_name"]: user["enabled"] for user in listed}[name] is True
