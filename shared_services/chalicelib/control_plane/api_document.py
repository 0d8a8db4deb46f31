"""The admin API's OpenAPI operations: what its routes answer, beside the bodies they validate.

``tenant_context.service.openapi`` builds the document from the app's routes, these operations
and the validators of ``request_bodies``; a route of ``app.py`` without an operation here (or
an operation without a route) fails the document's build and its test. Statuses here are the
ones a handler adds to those every route of its kind answers (see ``openapi``); each is a
status of the REST contract (``../shared/spec/api-contract.md``) or of the README's admin API.
"""

from __future__ import annotations

from chalicelib.control_plane import request_bodies as bodies
from chalicelib.control_plane import usage_requests as usage
from chalicelib.control_plane.views import (
    MOVE_DETAIL,
    OFFBOARDING_DETAIL,
    TENANT_DETAIL,
    TENANT_SUMMARY,
    TENANT_USAGE,
    USAGE_LISTING,
    USER_DETAIL,
)
from tenant_context.platform.usage_records import MAX_PAGE_SIZE as MAX_USAGE_PAGE_SIZE
from tenant_context.service.openapi import (
    MESSAGE,
    ApiDescription,
    Operation,
    Parameter,
    Reply,
    Schema,
    listing,
    paging_parameters,
)
from tenant_context.service.validation import MAX_PAGE_SIZE

REGISTERED = Schema("Registered", {
    "type": "object",
    "required": ["message", "tenantId", "tenantName", "tenantTier", "tenantAdminUserName"],
    "properties": {"message": {"type": "string"}, "tenantId": {"type": "string"},
                   "tenantName": {"type": "string"}, "tenantTier": bodies.TIERS,
                   "tenantAdminUserName": {"type": "string"}}})
TENANT_CONFIG = Schema("TenantConfig", {
    "type": "object", "required": ["userPoolId", "appClientId", "apiGatewayUrl"],
    "properties": {"userPoolId": {"type": "string"}, "appClientId": {"type": "string"},
                   "apiGatewayUrl": {"type": "string"}}})
NOT_SERVING = Schema("DeploymentNotServing", {
    "type": "object", "required": ["message", "status"],
    "properties": {"message": {"type": "string"},
                   "status": {"type": "string", "enum": ["provisioning", "unavailable"]}}})
MOVE_ACCEPTED = Schema("TenantMoveAccepted", {
    "type": "object", "required": ["message", "move", "location"],
    "properties": {"message": {"type": "string"}, "move": MOVE_DETAIL,
                   "location": {"type": "string"}}})
OFFBOARDING_ACCEPTED = Schema("TenantOffboardingAccepted", {
    "type": "object", "required": ["message", "offboarding", "location"],
    "properties": {"message": {"type": "string"}, "offboarding": OFFBOARDING_DETAIL,
                   "location": {"type": "string"}}})
USERS_SWITCHED = Schema("UsersSwitched", {
    "type": "object", "required": ["message", "count"],
    "properties": {"message": {"type": "string"}, "count": {"type": "integer", "minimum": 0}}})


def _message_of(schema: Schema) -> dict[str, object]:
    return {"type": "object", "required": ["message"], "properties": {"message": schema}}


TENANT_ID = (Parameter("tenant_id", {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                       "a tenant id (32 hexadecimal characters)"),)
USER_NAME = (Parameter("user_name", bodies.USER_NAME_FIELD),)
TENANT_OF_USER = (Parameter("tenantid", bodies.TENANT_ID_FIELD,
                            "staff: the tenant whose user this is"),)
_MOMENT = {"type": "string", "pattern": f"^{usage.MOMENT.pattern}$"}
USAGE_RANGE = (
    Parameter(usage.FROM, _MOMENT, f"the range's start, inclusive: {usage.MOMENT_FORM}; "
                                   "default: 7 days before to"),
    Parameter(usage.TO, _MOMENT, "the range's end, exclusive; default: now. At most 366 days "
                                 "after from; both widened to whole UTC hours"))
USAGE_PAGING = (
    Parameter(usage.LIMIT, {"type": "integer", "minimum": 1, "maximum": MAX_USAGE_PAGE_SIZE},
              f"rows a page, at most (default {usage.DEFAULT_PAGE_SIZE})"),
    Parameter(usage.NEXT_TOKEN, {"type": "string", "minLength": 1},
              "from the previous page's nextToken"))
RETRY = Reply("a step failed and every step was undone: try again")
DUPLICATE = Reply("a duplicate: the name is taken")
DONE = Reply("done", MESSAGE)

OPERATIONS = {
    ("POST", "/registration"): Operation(
        "register a tenant (public: the sign-up page)",
        {201: Reply("registered", REGISTERED),
         200: Reply("the same registration again (same name and email): the same tenant",
                    REGISTERED),
         409: DUPLICATE, 503: RETRY},
        body=bodies.REGISTRATION),
    ("GET", "/tenant/init/{tenant_name}"): Operation(
        "a tenant's sign-in settings (public: the tenant app, before sign-in)",
        {200: Reply("its deployment serves", TENANT_CONFIG),
         409: Reply("its deployment is being provisioned (Retry-After) or is unavailable",
                    NOT_SERVING, {"Retry-After": "seconds, while provisioning"})},
        path=(Parameter("tenant_name", bodies.TENANT_NAME_FIELD),)),
    ("GET", "/tenants"): Operation(
        "every tenant (staff)", {200: Reply("every tenant, or a page", listing(TENANT_SUMMARY))},
        query=paging_parameters(MAX_PAGE_SIZE)),
    ("GET", "/tenant/{tenant_id}"): Operation(
        "a tenant", {200: Reply("the tenant (staff also see its deployment)",
                                _message_of(TENANT_DETAIL))},
        path=TENANT_ID),
    ("PUT", "/tenant/{tenant_id}"): Operation(
        "change a tenant (a TenantAdmin: contact fields only)",
        {200: DONE, 409: Reply("a duplicate name; a move between the pool and Platinum "
                               "(POST /tenant/move/{tenant_id}); or a move under way")},
        body=bodies.TENANT_UPDATE, path=TENANT_ID),
    ("DELETE", "/tenant/{tenant_id}"): Operation(
        "deactivate a tenant (data kept, users disabled)",
        {200: DONE, 409: Reply("a move is under way")}, path=TENANT_ID),
    ("POST", "/tenant/move/{tenant_id}"): Operation(
        "move a tenant between the pool and its own Platinum deployment (SystemAdmin): "
        "accepted and carried out in the background",
        {202: Reply("accepted: follow it at location", MOVE_ACCEPTED,
                    {"Location": "the move's route"}),
         409: Reply("deactivated, or a move already under way")},
        body=bodies.MOVE, path=TENANT_ID),
    ("POST", "/tenant/offboarding/{tenant_id}"): Operation(
        "offboard a tenant (SystemAdmin, typing its name to confirm): deactivated at once, "
        "exported and erased after the grace period",
        {202: Reply("accepted: follow it at location", OFFBOARDING_ACCEPTED,
                    {"Location": "the offboarding's route"}),
         409: Reply("already offboarded or being offboarded, or a move under way")},
        body=bodies.OFFBOARDING, path=TENANT_ID),
    ("GET", "/tenant/offboarding/{tenant_id}"): Operation(
        "a tenant's offboarding: its audit, export and erasure report (staff)",
        {200: Reply("the offboarding", OFFBOARDING_DETAIL)}, path=TENANT_ID),
    ("DELETE", "/tenant/offboarding/{tenant_id}"): Operation(
        "undo an offboarding within its grace period (SystemAdmin): the tenant is active again",
        {200: Reply("undone", OFFBOARDING_DETAIL),
         409: Reply("the grace period is over: erasure has begun")}, path=TENANT_ID),
    ("GET", "/tenant/move/{tenant_id}"): Operation(
        "a tenant's move, under way or the last one (staff)",
        {200: Reply("the move", MOVE_DETAIL)}, path=TENANT_ID),
    ("PUT", "/tenant/activation/{tenant_id}"): Operation(
        "activate a tenant again (SystemAdmin)", {200: DONE}, path=TENANT_ID),
    ("PUT", "/tenant/release-settings/{tenant_id}"): Operation(
        "a Platinum tenant's rollout wave and pin (SystemAdmin)",
        {200: DONE, 409: Reply("a pooled tier's tenant: it runs the pooled deployment's "
                               "release")},
        body=bodies.RELEASE_SETTINGS, path=TENANT_ID),
    ("GET", "/tenant/{tenant_id}/usage"): Operation(
        "a tenant's usage over a range, with its estimated cost against its tier's price "
        "(staff; a TenantAdmin its own)",
        {200: Reply("totals, days (and hours for up to 48 hours) and the estimated cost",
                    TENANT_USAGE)},
        query=USAGE_RANGE, path=TENANT_ID),
    ("GET", "/usage"): Operation(
        "every tenant's daily usage over a range, a page at a time (SystemAdmin)",
        {200: Reply("a page of tenants' days; a tenant's days together, oldest first",
                    USAGE_LISTING)},
        query=USAGE_RANGE + USAGE_PAGING),
    ("POST", "/user"): Operation(
        "create a user", {201: Reply("created", MESSAGE), 404: Reply("tenantId: no such tenant"),
                          409: DUPLICATE, 503: RETRY},
        body=bodies.NEW_USER),
    ("GET", "/users"): Operation(
        "every user of a tenant (staff name it with tenantid; else the caller's)",
        {200: Reply("every user", {"type": "array", "items": USER_DETAIL}),
         404: Reply("tenantid: no such tenant")},
        query=TENANT_OF_USER),
    ("GET", "/user/{user_name}"): Operation(
        "a user (a TenantUser: only itself)",
        {200: Reply("the user", _message_of(USER_DETAIL))},
        query=TENANT_OF_USER, path=USER_NAME),
    ("PUT", "/user/{user_name}"): Operation(
        "change a user's email or role", {200: DONE}, body=bodies.USER_UPDATE,
        query=TENANT_OF_USER, path=USER_NAME),
    ("DELETE", "/user/{user_name}"): Operation(
        "disable a user", {200: DONE}, query=TENANT_OF_USER, path=USER_NAME),
    ("PUT", "/users/disable/{tenant_id}"): Operation(
        "disable every user of a tenant (SystemAdmin)",
        {200: Reply("done", USERS_SWITCHED)}, path=TENANT_ID),
    ("PUT", "/users/enable/{tenant_id}"): Operation(
        "enable every user of a tenant (SystemAdmin)",
        {200: Reply("done", USERS_SWITCHED)}, path=TENANT_ID),
}

ADMIN_API = ApiDescription(
    "Admin API",
    "The control plane: registration, tenants, users, usage and a tenant's sign-in settings. "
    "Every route but the public ones takes a Cognito ID token (SystemAdmin, CustomerSupport, "
    "TenantAdmin or TenantUser); errors are {message, fields?} with CORS headers.",
    OPERATIONS)
