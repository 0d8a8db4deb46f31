"""A TenantUser cannot make itself an admin or move itself into another tenant.

On AWS, Cognito refuses the user's own write of ``custom:userRole`` / ``custom:tenantId``: the
app clients' WriteAttributes exclude them (checked below). The emulator does not enforce that,
so here the write goes through; the token it yields must still get nowhere, because the
authorizer compares the token with the control plane's record of the user.
"""

from __future__ import annotations

import pytest

from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from tenant_context.platform.definitions import TENANT_ID_ATTRIBUTE, USER_ROLE_ATTRIBUTE
from tenant_context.tenancy import Role
from tests.support.admin_api_client import AdminApi
from tests.support.authorizer_under_test import build
from tests.support.gateway_policy import token_event
from tests.support.world import World


def test_a_tenant_user_changing_its_own_claims_gains_nothing(admin_api: AdminApi,
                                                             world: World) -> None:
    home, elsewhere = admin_api.register("Basic"), admin_api.register("Basic")
    user = admin_api.add_user(home, Role.TENANT_USER)
    cognito = world.clients.cognito

    for pool in (home.pool,):
        client = cognito.describe_user_pool_client(UserPoolId=pool.user_pool_id,
                                                   ClientId=pool.app_client_id)["UserPoolClient"]
        assert USER_ROLE_ATTRIBUTE not in client["WriteAttributes"]
        assert TENANT_ID_ATTRIBUTE not in client["WriteAttributes"]

    honest = world.tokens(user)
    authorizer = build().authorizer
    authorizer.authorize(token_event(honest["IdToken"], "admin", "GET", f"/user/{user.name}"))

    for attribute, value in ((USER_ROLE_ATTRIBUTE, "TenantAdmin"),
                             (USER_ROLE_ATTRIBUTE, "SystemAdmin"),
                             (TENANT_ID_ATTRIBUTE, elsewhere.tenant_id)):
        cognito.update_user_attributes(AccessToken=honest["AccessToken"], UserAttributes=[
            {"Name": attribute, "Value": value}])  # what AWS itself would refuse
        escalated = world.id_token(user)
        with pytest.raises(Unauthorized):
            build().authorizer.authorize(token_event(escalated, "admin", "GET", "/users"))
        escalated_http = admin_api.call("GET", "/users", escalated)
        assert escalated_http.status_code == 401
        cognito.admin_update_user_attributes(  # back to the truth for the next attempt
            UserPoolId=home.pool.user_pool_id, Username=user.name, UserAttributes=[
                {"Name": USER_ROLE_ATTRIBUTE, "Value": "TenantUser"},
                {"Name": TENANT_ID_ATTRIBUTE, "Value": home.tenant_id}])

    # Through the API a user changes nothing of its own (PUT /user is for administrators):
    # neither its role nor its email, which an administrator's change would mark verified.
    token = world.id_token(user)
    for change in ({"userRole": "TenantAdmin"},
                   {"userEmail": "me@new.example", "userRole": "TenantUser"},
                   {"userEmail": "me@new.example"}):
        refused = admin_api.call("PUT", f"/user/{user.name}", token, change)
        assert refused.status_code == 403, (change, refused.body)
    attributes = {attribute["Name"]: attribute["Value"] for attribute in cognito.admin_get_user(
        UserPoolId=home.pool.user_pool_id, Username=user.name)["UserAttributes"]}
    assert attributes["email"] == f"{user.name}@example.com"
    assert attributes[USER_ROLE_ATTRIBUTE] == "TenantUser"
