"""Shared services: the admin API (control plane). Routes only: parse, call a module, return.

Public: POST /registration, GET /tenant/init/{name}. Every other route runs behind the shared
tenant authorizer; the modules re-check who may do what (``control_plane.tenants``,
``control_plane.users``).
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Response
from chalice.app import Request

from chalicelib.control_plane import requests
from chalicelib.control_plane.composition import ControlPlane
from chalicelib.control_plane.deployment_records import handle_custom_resource
from chalicelib.control_plane.registration import RegistrationRequest
from chalicelib.control_plane.tenants import TenantChanges, tenant_config
from chalicelib.control_plane.views import tenant_detail, tenant_summary, user_detail
from tenant_context.context import TenantContext, request_tenant
from tenant_context.http import CORS, json_response
from tenant_context.validation import parse_json_object, validate
from tenant_context.wiring import platform_app

platform = platform_app("shared-services")
app = platform.app
authorized = platform.authorized


@functools.cache
def control() -> ControlPlane:
    return ControlPlane(platform.config)


def current() -> Request:
    request = app.current_request
    if request is None:
        raise RuntimeError("no request is being handled")
    return request


def caller() -> TenantContext:
    return request_tenant(current())


def body(fields: tuple[Any, ...]) -> dict[str, Any]:
    return validate(parse_json_object(current().raw_body), fields)


def query() -> dict[str, str]:
    return dict(current().query_params or {})


def message(text: str, status: int = 200, **extra: Any) -> Response:
    return json_response({"message": text, **extra}, status)


def done(event: str, text: str, status: int = 200, **extra: Any) -> Response:
    """A change succeeded: measure it (per tenant and per tier) and answer."""
    platform.observability.record(caller(), event)
    return message(text, status, **extra)


# --- what a stack deployed (CloudFormation custom resources, not an HTTP route) ------------

@app.lambda_function(name="deployment_records")
def deployment_records(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_custom_resource(event, control().deployment_records())


# --- registration and tenant lookup (public) ----------------------------------------------

@app.route("/registration", methods=["POST"], cors=CORS)
def register() -> Response:
    values = body(requests.REGISTRATION)
    registered = control().registrar().register(RegistrationRequest(
        tenant_name=values["tenantName"], tenant_email=values["tenantEmail"],
        tier=values["tenantTier"], tenant_phone=values.get("tenantPhone", ""),
        tenant_address=values.get("tenantAddress", "")))
    if registered.created:
        platform.observability.logger.info("tenant registered", extra={
            "registered_tenant": registered.tenant_id, "registered_tier": registered.tier})
        platform.observability.metrics.add_metric("TenantRegistered", MetricUnit.Count, 1)
    return message("Tenant registration successful" if registered.created
                   else "Tenant already registered",
                   201 if registered.created else 200,
                   tenantId=registered.tenant_id, tenantName=registered.tenant_name,
                   tenantTier=registered.tier.value,
                   tenantAdminUserName=registered.admin_user_name)


@app.route("/tenant/init/{tenant_name}", methods=["GET"], cors=CORS)
def tenant_init(tenant_name: str) -> Response:
    config = tenant_config(control().public_tenants(), control().deployments,
                           requests.path_value(tenant_name))
    settings = {"userPoolId": config.user_pool_id, "appClientId": config.app_client_id,
                "apiGatewayUrl": config.api_url}
    if config.provisioning:
        return json_response({**settings, "status": "provisioning",
                              "message": "The tenant's deployment is being provisioned; "
                                         "try again shortly"}, 202, {"Retry-After": "30"})
    return json_response(settings)


# --- tenant management --------------------------------------------------------------------

@app.route("/tenants", methods=["GET"], **authorized)
def list_tenants() -> Response:
    params = query()
    limit = requests.page_size(params)
    tenants, next_token = control().tenants(caller()).list(
        limit=limit, next_token=params.get("nextToken"))
    items = [tenant_summary(tenant) for tenant in tenants]
    if limit is None and "nextToken" not in params:
        return json_response(items)  # the web app's shape: every tenant, one array
    return json_response({"items": items, "nextToken": next_token})


@app.route("/tenant/{tenant_id}", methods=["GET"], **authorized)
def get_tenant(tenant_id: str) -> Response:
    tenant = control().tenants(caller()).get(requests.tenant_id_in_path(tenant_id))
    return json_response({"message": tenant_detail(tenant)})


@app.route("/tenant/{tenant_id}", methods=["PUT"], **authorized)
def update_tenant(tenant_id: str) -> Response:
    values = body(requests.TENANT_UPDATE)
    requests.at_least_one(values, tuple(field.name for field in requests.TENANT_UPDATE))
    control().tenants(caller()).update(requests.tenant_id_in_path(tenant_id), TenantChanges(
        tenant_name=values.get("tenantName"), tenant_email=values.get("tenantEmail"),
        tenant_phone=values.get("tenantPhone"), tenant_address=values.get("tenantAddress"),
        tier=values.get("tenantTier")))
    return done("TenantUpdated", "Tenant Updated")


@app.route("/tenant/{tenant_id}", methods=["DELETE"], **authorized)
def deactivate_tenant(tenant_id: str) -> Response:
    control().tenants(caller()).deactivate(requests.tenant_id_in_path(tenant_id))
    return done("TenantDeactivated", "Tenant Deactivated")


@app.route("/tenant/activation/{tenant_id}", methods=["PUT"], **authorized)
def activate_tenant(tenant_id: str) -> Response:
    control().tenants(caller()).activate(requests.tenant_id_in_path(tenant_id))
    return done("TenantActivated", "Tenant Activated")


# --- user management ----------------------------------------------------------------------

@app.route("/user", methods=["POST"], **authorized)
def create_user() -> Response:
    values = body(requests.NEW_USER)
    control().users(caller()).create(values["userName"], values["userEmail"],
                                     values["userRole"], values.get("tenantId"))
    return done("UserCreated", "New user created", 201)


@app.route("/users", methods=["GET"], **authorized)
def list_users() -> Response:
    users = control().users(caller()).list(query().get("tenantid"))
    return json_response([user_detail(user) for user in users])


@app.route("/user/{user_name}", methods=["GET"], **authorized)
def get_user(user_name: str) -> Response:
    user = control().users(caller()).get(requests.user_name_in_path(user_name),
                                         query().get("tenantid"))
    return json_response({"message": user_detail(user)})


@app.route("/user/{user_name}", methods=["PUT"], **authorized)
def update_user(user_name: str) -> Response:
    values = body(requests.USER_UPDATE)
    requests.at_least_one(values, ("userEmail", "userRole"))
    control().users(caller()).update(requests.user_name_in_path(user_name),
                                     query().get("tenantid"), email=values.get("userEmail"),
                                     role=values.get("userRole"))
    return done("UserUpdated", "user updated")


@app.route("/user/{user_name}", methods=["DELETE"], **authorized)
def disable_user(user_name: str) -> Response:
    control().users(caller()).disable(requests.user_name_in_path(user_name),
                                      query().get("tenantid"))
    return done("UserDisabled", "User disabled")


@app.route("/users/disable/{tenant_id}", methods=["PUT"], **authorized)
def disable_tenant_users(tenant_id: str) -> Response:
    count = control().users(caller()).set_all_enabled(requests.tenant_id_in_path(tenant_id),
                                                      False)
    return done("TenantUsersDisabled", "Users disabled", count=count)


@app.route("/users/enable/{tenant_id}", methods=["PUT"], **authorized)
def enable_tenant_users(tenant_id: str) -> Response:
    count = control().users(caller()).set_all_enabled(requests.tenant_id_in_path(tenant_id),
                                                      True)
    return done("TenantUsersEnabled", "Users enabled", count=count)
