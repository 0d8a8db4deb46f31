"""Every DynamoDB call the control plane makes for a caller is signed with the caller's scoped
credentials and is allowed by the caller's session policy, as IAM would evaluate it on AWS.

The emulator enforces no IAM: without this test a policy missing one action would pass every
local test and fail in production.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest

from chalicelib.tenant_authorizer.factory import policy_resources
from chalicelib.tenant_authorizer.handler import handle
from pipeline.local_cloud.api_gateway.builtin_authorizer import authorizer_environment
from tenant_context.config import PlatformConfig
from tenant_context.errors import ForbiddenError
from tenant_context.platform.session_policies import session_policy
from tenant_context.service.context import TenantContext
from tenant_context.service.tenant_tables import DynamoDBClients
from tenant_context.tenancy import Role, Tier
from tests.support.admin_api_client import AdminApi
from tests.support.authorizer_under_test import build
from tests.support.control_plane_parts import ControlPlane, TenantChanges
from tests.support.gateway_policy import token_event
from tests.support.iam_evaluation import Access, accesses, allowed, parse_request
from tests.support.observed_session import ObservedSession
from tests.support.world import User, World


class RecordingSession(ObservedSession):
    """A boto3 session whose clients report every request they sign."""

    def __init__(self) -> None:
        super().__init__(self._recorded)
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self._lock = threading.Lock()

    def _recorded(self, client: Any) -> Any:
        client.meta.events.register("before-send.dynamodb", self._record)
        return client

    def _record(self, request: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append(parse_request(request.headers, request.body))


def context_for(world: World, user: User) -> TenantContext:
    """What the real authorizer hands the admin API for this user."""
    response = handle(token_event(world.id_token(user), "admin", "GET", "/users"),
                      build().authorizer)
    return TenantContext.from_authorizer_context(response["context"])


def test_each_roles_calls_fit_its_session_policy(admin_api: AdminApi, world: World) -> None:
    config = PlatformConfig.from_environ(authorizer_environment())
    resources = policy_resources(config)
    arn_prefix = resources.settings.rsplit(":table/", 1)[0]
    recording = RecordingSession()
    control = ControlPlane(PlatformConfig.from_environ(), scoped_clients=DynamoDBClients(
        "us-east-1", session_factory=lambda: recording))

    tenant, other = admin_api.register("Basic"), admin_api.register("Standard")
    tenant_user = admin_api.add_user(tenant)
    callers = {
        Role.SYSTEM_ADMIN: context_for(world, world.operations_user(Role.SYSTEM_ADMIN)),
        Role.CUSTOMER_SUPPORT: context_for(world, world.operations_user(Role.CUSTOMER_SUPPORT)),
        Role.TENANT_ADMIN: context_for(world, tenant.admin),
        Role.TENANT_USER: context_for(world, tenant_user),
    }
    t = tenant.tenant_id

    system_admin = callers[Role.SYSTEM_ADMIN]
    control.tenants(system_admin).list()
    control.tenants(system_admin).get(t)
    control.tenants(system_admin).update(other.tenant_id, TenantChanges(
        tier=Tier.PREMIUM, tenant_name=f"Renamed {other.tenant_id[:6]}"))
    control.users(system_admin).create(f"ops-{t[:6]}", "o@ops.example", Role.CUSTOMER_SUPPORT,
                                       None)
    control.users(system_admin).create(f"sa-made-{t[:6]}", "s@t.example", Role.TENANT_USER, t)
    control.users(system_admin).list(t)
    control.users(system_admin).get(tenant_user.name, t)
    control.users(system_admin).update(tenant_user.name, t, email="x@y.example",
                                       role=Role.TENANT_ADMIN)
    control.users(system_admin).update(tenant_user.name, t, email=None, role=Role.TENANT_USER)
    control.users(system_admin).set_all_enabled(other.tenant_id, False)
    control.users(system_admin).set_all_enabled(other.tenant_id, True)
    control.tenants(system_admin).deactivate(other.tenant_id)
    control.tenants(system_admin).activate(other.tenant_id)
    control.tenants(system_admin).update(other.tenant_id, TenantChanges(  # case only
        tenant_name=f"RENAMED {other.tenant_id[:6]}"))
    assert control.users(system_admin).tier_of(t) is Tier.BASIC

    support = callers[Role.CUSTOMER_SUPPORT]
    control.tenants(support).list()
    control.tenants(support).get(t)
    control.users(support).list(t)
    control.users(support).get(tenant_user.name, t)
    assert control.users(support).tier_of(other.tenant_id) is Tier.PREMIUM  # for the metrics

    tenant_user_context = callers[Role.TENANT_USER]
    control.users(tenant_user_context).get(tenant_user.name, None)
    assert control.users(tenant_user_context).tier_of(t) is Tier.BASIC
    with pytest.raises(ForbiddenError):  # PUT /user is for administrators
        control.users(tenant_user_context).update(tenant_user.name, None,
                                                  email="me@t.example", role=None)

    owner = callers[Role.TENANT_ADMIN]
    control.tenants(owner).get(t)
    control.tenants(owner).update(t, TenantChanges(tenant_phone="12345"))
    control.users(owner).create(f"owner-made-{t[:6]}", "m@t.example", Role.TENANT_USER, None)
    control.users(owner).list(None)
    control.users(owner).get(tenant_user.name, None)
    control.users(owner).update(tenant_user.name, None, email="u@t.example",
                                role=Role.TENANT_ADMIN)
    control.users(owner).disable(f"owner-made-{t[:6]}", None)
    control.tenants(owner).deactivate(t)

    by_key = {caller.credentials.access_key_id: (role, caller) for role, caller in
              callers.items() if caller.credentials}
    checked: dict[Role, set[str]] = defaultdict(set)
    refused: list[tuple[Role, Access]] = []
    for operation, body, access_key in recording.calls:
        assert access_key in by_key, "a control-plane call not signed by a caller's credentials"
        role, caller = by_key[access_key]
        policy = session_policy(role, caller.tenant_id if not role.is_operations else "0" * 32,
                                pooled_data=bool(caller.tier and caller.tier.is_pooled),
                                resources=resources)
        for access in accesses(operation, body):
            checked[role].add(access.action)
            if not allowed(policy, access, f"{arn_prefix}:table/{access.table}"):
                refused.append((role, access))
    assert refused == []
    # Every role's calls were seen and checked, but a TenantUser's: its credentials reach no
    # control-plane table, and it made no call with them (its own record is read with the
    # function's role, once the service has checked whose it is).
    assert set(checked) == set(Role) - {Role.TENANT_USER}
    # A TenantAdmin reads and changes its tenant's contact fields with its own credentials;
    # user records and the active flag are written with the function's role.
    assert {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"} <= checked[
        Role.TENANT_ADMIN]
    assert "dynamodb:PutItem" not in checked[Role.TENANT_ADMIN]
    assert "dynamodb:UpdateItem" in checked[Role.SYSTEM_ADMIN]
    assert checked[Role.CUSTOMER_SUPPORT] <= {"dynamodb:GetItem", "dynamodb:Query",
                                              "dynamodb:Scan"}
