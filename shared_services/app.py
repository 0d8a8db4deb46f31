"""Shared services: the admin API (control plane). Routes only: parse, call a module, return.

Public: POST /registration, GET /tenant/init/{name} (200 with the sign-in settings once the
tenant's deployment serves; else 409 saying ``provisioning``, with ``Retry-After``, or
``unavailable``: the web app treats any 2xx as ready), and GET /openapi.json (this API's
document, built from these routes, ``api_document`` and the validators). Every other route runs
behind the shared tenant authorizer; the modules re-check who may do what
(``control_plane.tenant_management``, ``control_plane.user_management``). Bodies arrive as
typed values (``request_bodies``). Every handler that succeeds logs one line and records one
metric about the tenant it acted on, as the tenant API's handlers do
(``Observability.observe``). Usage per tenant: GET /tenant/{id}/usage and GET /usage
(``usage_requests``). The routes reach the control plane through ``composition.SERVING``,
so tests can serve them with failing or counting clients.
"""

from __future__ import annotations

from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.control_plane import request_bodies as bodies
from chalicelib.control_plane.access_log_usage import meter_batch
from chalicelib.control_plane.api_document import ADMIN_API
from chalicelib.control_plane.composition import SERVING, ControlPlane
from chalicelib.control_plane.deployment_records import handle_custom_resource
from chalicelib.control_plane.offboarding_requests import offboarding_route
from chalicelib.control_plane.tenant_management import Availability, move_route, tenant_config
from chalicelib.control_plane.views import (
    deployment_detail,
    move_detail,
    offboarding_detail,
    tenant_detail,
    tenant_summary,
    tenant_usage,
    usage_listing,
    user_detail,
)
from tenant_context.config import Env
from tenant_context.errors import ConfigurationError
from tenant_context.service.chalice_app import platform_app
from tenant_context.service.context import TenantContext, request_tenant
from tenant_context.service.openapi import serve_document
from tenant_context.service.responses import CORS, json_response
from tenant_context.tenancy import Tier

PROVISIONING_RETRY_SECONDS = 30  # a first deployment takes minutes; polling faster buys nothing
platform = platform_app("shared-services")
app = platform.app
authorized = platform.authorized
serve_document(platform, ADMIN_API)


def control() -> ControlPlane:
    return SERVING.plane(lambda: ControlPlane(platform.config))


def current() -> Request:
    return platform.request()


def caller() -> TenantContext:
    return request_tenant(current())


def query() -> dict[str, str]:
    return dict(current().query_params or {})


def message(text: str, status: int = 200, **extra: Any) -> Response:
    return json_response({"message": text, **extra}, status)


def observe(event: str, log: str, tenant_id: str, tier: Tier | None,
            count: int | None = None) -> None:
    """About the tenant acted on: a SystemAdmin's calls concern some tenant, not its own
    pseudo-tenant ``operations`` (see ``Observability.observe``)."""
    platform.observability.observe(event, log, tenant_id, tier, count=count)


def done(event: str, log: str, text: str, tenant_id: str, tier: Tier | None,
         status: int = 200, **extra: Any) -> Response:
    """A change succeeded: log and measure it about its target tenant, and answer."""
    observe(event, log, tenant_id, tier)
    return message(text, status, **extra)


# --- what a stack deployed (CloudFormation custom resources, not an HTTP route) ------------

@app.lambda_function(name="deployment_records")
def deployment_records(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Built inside the handler's try: a configuration or client failure must still answer
    # CloudFormation (FAILED, with the reason) rather than leave the stack waiting.
    return handle_custom_resource(event, lambda: control().deployment_records())


# --- the usage plans' 429s, from the APIs' access logs (a log subscription, not a route) ---

@app.lambda_function(name="access_log_usage")
def access_log_usage(event: dict[str, Any], context: Any) -> dict[str, int]:
    # On AWS only: every REST API access-log group sends its 429 lines here
    # (``chalicelib.control_plane.access_log_usage``); the app's own meter writes them.
    if platform.usage is None:
        raise ConfigurationError(f"{Env.USAGE_TABLE} is not set: no usage table to write")
    result = meter_batch(event, platform.usage)
    logger = platform.observability.logger
    logger.info(result.summary())
    for error in result.flush.errors:
        logger.error(f"usage write failed, kept for the next flush: {error}")
    return {"recorded": result.recorded, "failedWrites": result.flush.failed}


# --- registration and tenant lookup (public) ----------------------------------------------

@app.route("/registration", methods=["POST"], cors=CORS)
def register() -> Response:
    registered = control().registrar().register(bodies.REGISTRATION.parse(current().raw_body))
    if registered.created:
        observe("TenantRegistered", "tenant registered", registered.tenant_id, registered.tier)
    else:
        observe("TenantRegistrationRepeated", "tenant registration repeated",
                registered.tenant_id, registered.tier)
    return message("Tenant registration successful" if registered.created
                   else "Tenant already registered",
                   201 if registered.created else 200,
                   tenantId=registered.tenant_id, tenantName=registered.tenant_name,
                   tenantTier=registered.tier.value,
                   tenantAdminUserName=registered.admin_user_name)


@app.route("/tenant/init/{tenant_name}", methods=["GET"], cors=CORS)
def tenant_init(tenant_name: str) -> Response:
    config = tenant_config(control().public_tenants(), control().deployments,
                           bodies.tenant_name_in_path(tenant_name))
    observe("TenantConfigServed", "tenant sign-in settings served", config.tenant_id,
            config.tier)
    if config.availability is Availability.PROVISIONING:
        return json_response({"message": "The tenant's deployment is being provisioned; try "
                                         "again shortly", "status": config.availability.value},
                             409, {"Retry-After": str(PROVISIONING_RETRY_SECONDS)})
    if config.availability is Availability.UNAVAILABLE:
        # Why (failed, or stopped by a deactivation) is for staff: the tenant view says it.
        return json_response({"message": "The tenant's service is not available",
                              "status": config.availability.value}, 409)
    return json_response({"userPoolId": config.user_pool_id,
                          "appClientId": config.app_client_id, "apiGatewayUrl": config.api_url})


# --- tenant management --------------------------------------------------------------------

@app.route("/tenants", methods=["GET"], **authorized)
def list_tenants() -> Response:
    params = query()
    limit = bodies.page_size(params)
    who = caller()
    tenants, next_token = control().tenants(who).list(
        limit=limit, next_token=params.get("nextToken"))
    items = [tenant_summary(tenant) for tenant in tenants]
    # Every tenant at once: the caller's own (operations) is the only tenant to name.
    observe("TenantsListed", "tenants listed", who.tenant_id, who.tier, len(items))
    if limit is None and "nextToken" not in params:
        return json_response(items)  # the web app's shape: every tenant, one array
    return json_response({"items": items, "nextToken": next_token})


@app.route("/tenant/{tenant_id}", methods=["GET"], **authorized)
def get_tenant(tenant_id: str) -> Response:
    who = caller()
    tenants = control().tenants(who)
    tenant = tenants.get(bodies.tenant_id_in_path(tenant_id))
    observe("TenantRead", "tenant read", tenant.tenant_id, tenant.tier)
    detail = tenant_detail(tenant)
    if who.is_operations:  # staff see the deployment, a failure's reason and what to do
        detail["deployment"] = deployment_detail(tenants.deployment_of(tenant))
    return json_response({"message": detail})


@app.route("/tenant/{tenant_id}", methods=["PUT"], **authorized)
def update_tenant(tenant_id: str) -> Response:
    changes = bodies.changes(bodies.TENANT_UPDATE, current().raw_body)
    tenant = control().tenants(caller()).update(bodies.tenant_id_in_path(tenant_id), changes)
    return done("TenantUpdated", "tenant updated", "Tenant Updated", tenant.tenant_id,
                changes.tier or tenant.tier)


@app.route("/tenant/{tenant_id}", methods=["DELETE"], **authorized)
def deactivate_tenant(tenant_id: str) -> Response:
    tenant = control().tenants(caller()).deactivate(bodies.tenant_id_in_path(tenant_id))
    return done("TenantDeactivated", "tenant deactivated", "Tenant Deactivated",
                tenant.tenant_id, tenant.tier)


@app.route("/tenant/activation/{tenant_id}", methods=["PUT"], **authorized)
def activate_tenant(tenant_id: str) -> Response:
    tenant = control().tenants(caller()).activate(bodies.tenant_id_in_path(tenant_id))
    return done("TenantActivated", "tenant activated", "Tenant Activated", tenant.tenant_id,
                tenant.tier)


@app.route("/tenant/move/{tenant_id}", methods=["POST"], **authorized)
def request_move(tenant_id: str) -> Response:
    wanted = bodies.MOVE.parse(current().raw_body)
    tenants = control().tenants(caller())
    move = tenants.request_move(bodies.tenant_id_in_path(tenant_id), wanted.tier)
    record, move = tenants.move_of(bodies.tenant_id_in_path(tenant_id))
    observe("TenantMoveRequested", "tenant move requested", record.tenant_id, record.tier)
    location = move_route(record.tenant_id)
    return json_response({"message": f"Moving the tenant from {move.from_tier} to "
                                     f"{move.to_tier}: follow it with GET {location}",
                          "move": move_detail(record, move), "location": location},
                         202, {"Location": location})


@app.route("/tenant/move/{tenant_id}", methods=["GET"], **authorized)
def get_move(tenant_id: str) -> Response:
    record, move = control().tenants(caller()).move_of(bodies.tenant_id_in_path(tenant_id))
    observe("TenantMoveRead", "tenant move read", record.tenant_id, record.tier)
    return json_response(move_detail(record, move))


@app.route("/tenant/offboarding/{tenant_id}", methods=["POST"], **authorized)
def request_offboarding(tenant_id: str) -> Response:
    confirmed = bodies.OFFBOARDING.parse(current().raw_body)
    tenant = bodies.tenant_id_in_path(tenant_id)
    offboarding = control().offboarding(caller()).request(tenant, confirmed.confirm_tenant_name)
    observe("TenantOffboardingRequested", "tenant offboarding requested", tenant, None)
    location = offboarding_route(tenant)
    detail = offboarding_detail(tenant, offboarding)
    return json_response({"message": f"Tenant deactivated; its data is exported and erased "
                                     f"after {detail['graceUntil']} unless undone with DELETE "
                                     f"{location}", "offboarding": detail,
                          "location": location}, 202, {"Location": location})


@app.route("/tenant/offboarding/{tenant_id}", methods=["GET"], **authorized)
def get_offboarding(tenant_id: str) -> Response:
    tenant = bodies.tenant_id_in_path(tenant_id)
    offboarding = control().offboarding(caller()).get(tenant)
    observe("TenantOffboardingRead", "tenant offboarding read", tenant, None)
    return json_response(offboarding_detail(tenant, offboarding))


@app.route("/tenant/offboarding/{tenant_id}", methods=["DELETE"], **authorized)
def cancel_offboarding(tenant_id: str) -> Response:
    tenant = bodies.tenant_id_in_path(tenant_id)
    offboarding = control().offboarding(caller()).cancel(tenant)
    observe("TenantOffboardingCancelled", "tenant offboarding cancelled", tenant, None)
    return json_response(offboarding_detail(tenant, offboarding))


@app.route("/tenant/release-settings/{tenant_id}", methods=["PUT"], **authorized)
def set_release_settings(tenant_id: str) -> Response:
    settings = bodies.changes(bodies.RELEASE_SETTINGS, current().raw_body).settings()
    tenant = control().tenants(caller()).set_release_settings(
        bodies.tenant_id_in_path(tenant_id), settings)
    return done("TenantReleaseSettingsChanged", "tenant release settings changed",
                "Release settings updated", tenant.tenant_id, tenant.tier)


# --- usage per tenant (``usage_requests``: the range, who may read whose usage) -------------

@app.route("/tenant/{tenant_id}/usage", methods=["GET"], **authorized)
def get_tenant_usage(tenant_id: str) -> Response:
    report = control().usage(caller()).of_tenant(bodies.tenant_id_in_path(tenant_id), query())
    observe("TenantUsageRead", "tenant usage read", report.tenant.tenant_id, report.tenant.tier)
    return json_response(tenant_usage(report))


@app.route("/usage", methods=["GET"], **authorized)
def list_usage() -> Response:
    who = caller()
    listing = control().usage(who).of_every_tenant(query())
    # Every tenant at once: the caller's own (operations) is the only tenant to name.
    observe("UsageListed", "usage listed", who.tenant_id, who.tier, len(listing.page.rows))
    return json_response(usage_listing(listing))


# --- user management ----------------------------------------------------------------------

@app.route("/user", methods=["POST"], **authorized)
def create_user() -> Response:
    new = bodies.NEW_USER.parse(current().raw_body)
    users = control().users(caller())
    tenant_id = users.create(new.user_name, new.user_email, new.user_role, new.tenant_id)
    return done("UserCreated", "user created", "New user created", tenant_id,
                users.tier_of(tenant_id), 201)


@app.route("/users", methods=["GET"], **authorized)
def list_users() -> Response:
    who = caller()
    users = control().users(who)
    tenant_id, listed = users.list(query().get("tenantid"))
    observe("UsersListed", "users listed", tenant_id, users.tier_of(tenant_id), len(listed))
    return json_response([user_detail(user) for user in listed])


@app.route("/user/{user_name}", methods=["GET"], **authorized)
def get_user(user_name: str) -> Response:
    who = caller()
    users = control().users(who)
    user = users.get(bodies.user_name_in_path(user_name), query().get("tenantid"))
    tenant_id = user.record.tenant_id
    observe("UserRead", "user read", tenant_id, users.tier_of(tenant_id))
    return json_response({"message": user_detail(user)})


@app.route("/user/{user_name}", methods=["PUT"], **authorized)
def update_user(user_name: str) -> Response:
    changes = bodies.changes(bodies.USER_UPDATE, current().raw_body)
    users = control().users(caller())
    tenant_id = users.update(bodies.user_name_in_path(user_name), query().get("tenantid"),
                             email=changes.user_email, role=changes.user_role)
    return done("UserUpdated", "user updated", "user updated", tenant_id,
                users.tier_of(tenant_id))


@app.route("/user/{user_name}", methods=["DELETE"], **authorized)
def disable_user(user_name: str) -> Response:
    users = control().users(caller())
    tenant_id = users.disable(bodies.user_name_in_path(user_name), query().get("tenantid"))
    return done("UserDisabled", "user disabled", "User disabled", tenant_id,
                users.tier_of(tenant_id))


@app.route("/users/disable/{tenant_id}", methods=["PUT"], **authorized)
def disable_tenant_users(tenant_id: str) -> Response:
    return _set_tenant_users_enabled(tenant_id, False)


@app.route("/users/enable/{tenant_id}", methods=["PUT"], **authorized)
def enable_tenant_users(tenant_id: str) -> Response:
    return _set_tenant_users_enabled(tenant_id, True)


def _set_tenant_users_enabled(raw_tenant_id: str, enabled: bool) -> Response:
    who = caller()
    users = control().users(who)
    tenant_id = bodies.tenant_id_in_path(raw_tenant_id)
    count = users.set_all_enabled(tenant_id, enabled)
    event, state = ("TenantUsersEnabled", "enabled") if enabled else ("TenantUsersDisabled",
                                                                       "disabled")
    observe(event, f"users of a tenant {state}", tenant_id, users.tier_of(tenant_id), count)
    return message(f"Users {state}", count=count)
