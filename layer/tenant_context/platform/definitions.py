"""Resource definitions: the ONE source for table schemas, user-pool settings and tier plans.

The local provisioning and the CloudFormation templates (``pipeline``) render these
definitions, and so does runtime code that creates resources (a Platinum tenant's user pool at
registration) or addresses them (a table's name and the variable that hands it to functions).
Nothing else in the repository spells out a schema or a pool setting. The tenant services'
tables follow from the registry (``tenant_context.tenant_services``): one per service and
deployment, named by one rule, which the pooled session policy relies on.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tenant_context.config import Env, TableVariable
from tenant_context.errors import ConfigurationError
from tenant_context.tenancy import POOLED_DEPLOYMENT, Tier
from tenant_context.tenant_services import TENANT_SERVICES, Problem, TenantService, describe

PLATFORM = "serverless-saas"


# --- DynamoDB ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str = "S"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None


@dataclass(frozen=True)
class TableDefinition:
    logical_id: str  # CloudFormation logical id
    env_var: Env | TableVariable  # what hands the table's name to functions
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    indexes: tuple[Index, ...] = ()
    stream: str | None = None  # a stream's view type: something follows the table's changes
    # An attribute holding an item's expiry (epoch seconds): DynamoDB deletes expired items
    # within days, at no write cost. ``CreateTable`` cannot say it: CloudFormation renders it
    # as the table's ``TimeToLiveSpecification``, the local bootstrap applies
    # ``time_to_live_request`` after creating the table.
    time_to_live: str | None = None

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(key.name for key in (self.partition_key, self.sort_key) if key)

    def create_table_request(self) -> dict[str, Any]:
        """``CreateTable`` parameters; CloudFormation's table properties use the same names."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": _attribute_definitions(self),
            "KeySchema": _key_schema(self.partition_key, self.sort_key),
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [
                {"IndexName": index.name,
                 "KeySchema": _key_schema(index.partition_key, index.sort_key),
                 "Projection": {"ProjectionType": "ALL"}}
                for index in self.indexes
            ]
        if self.stream:
            request["StreamSpecification"] = {"StreamEnabled": True,
                                              "StreamViewType": self.stream}
        return request

    def time_to_live_request(self) -> dict[str, Any] | None:
        """``UpdateTimeToLive`` parameters, or None for a table whose items never expire."""
        if self.time_to_live is None:
            return None
        return {"TableName": self.name, "TimeToLiveSpecification": {
            "AttributeName": self.time_to_live, "Enabled": True}}


def _key_schema(partition: KeyAttribute, sort: KeyAttribute | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


def _attribute_definitions(table: TableDefinition) -> list[dict[str, str]]:
    keys = [table.partition_key, table.sort_key]
    for index in table.indexes:
        keys += [index.partition_key, index.sort_key]
    unique = {key.name: key for key in keys if key}
    return [{"AttributeName": key.name, "AttributeType": key.type} for key in unique.values()]


SETTINGS_TABLE = TableDefinition(
    "SettingsTable", Env.SETTINGS_TABLE, f"{PLATFORM}-settings", KeyAttribute("settingName"))
# Its stream starts a tenant's move on AWS (a ``tenantMove`` the admin API recorded, at
# ``requested``): both images, to tell a new move from a step of one under way.
TENANT_DETAILS_TABLE = TableDefinition(
    "TenantDetailsTable", Env.TENANT_DETAILS_TABLE, f"{PLATFORM}-tenant-details",
    KeyAttribute("tenantId"), stream="NEW_AND_OLD_IMAGES")
# One item per tenant name (lower-cased): a conditional write makes names unique, a strongly
# consistent read finds a tenant by name right after sign-up, and the item records how far a
# registration got, so an interrupted one can be undone. (An index could do none of these.)
TENANT_NAMES_TABLE = TableDefinition(
    "TenantNamesTable", Env.TENANT_NAMES_TABLE, f"{PLATFORM}-tenant-names",
    KeyAttribute("tenantNameKey"))
TENANT_USER_MAPPING_TABLE = TableDefinition(
    "TenantUserMappingTable", Env.TENANT_USER_MAPPING_TABLE, f"{PLATFORM}-tenant-user-mapping",
    KeyAttribute("tenantId"), KeyAttribute("userName"),
    indexes=(Index("userName-index", KeyAttribute("userName")),))
# Its stream starts the tenant pipeline's deployments on AWS (a registration's row, a
# deactivation's or activation's desired state): both images, to see what changed.
TENANT_STACK_MAPPING_TABLE = TableDefinition(
    "TenantStackMappingTable", Env.TENANT_STACK_MAPPING_TABLE, f"{PLATFORM}-tenant-stack-mapping",
    KeyAttribute("tenantId"), stream="NEW_AND_OLD_IMAGES")

CONTROL_PLANE_TABLES = (SETTINGS_TABLE, TENANT_DETAILS_TABLE, TENANT_NAMES_TABLE,
                        TENANT_USER_MAPPING_TABLE, TENANT_STACK_MAPPING_TABLE)

# Usage per tenant per hour (``H#2026-12-01T19``) and per day (``D#2026-12-01``), UTC: numbers
# only ever ADDed by the usage meter (``service/usage_meter``), read by ``platform/
# usage_records`` (keys and attribute names: ``tenant_context.usage_periods``). Hourly rows
# expire after 35 days (``expiresAt``); daily rows are kept, billing needs months. The pooled
# stack holds it, next to the control plane's tables but not among them: no function is handed
# it or granted it yet (the writers and the admin API get their rights when they are wired),
# and no tenant's session policy ever names it.
USAGE_TABLE = TableDefinition(
    "TenantUsageTable", Env.USAGE_TABLE, f"{PLATFORM}-tenant-usage", KeyAttribute("tenantId"),
    KeyAttribute("period"), time_to_live="expiresAt")
# The pooled stack's tables that are neither the control plane's nor tenant data.
PLATFORM_TABLES = (USAGE_TABLE,)


def tenant_name_key(name: str) -> str:
    """Tenant names are unique regardless of case and of runs of spaces."""
    return " ".join(name.split()).casefold()


def data_table(service: TenantService, deployment: str) -> TableDefinition:
    """A tenant service's items in one deployment: the pool's shared table or a Platinum
    tenant's own. Items are spread over shards (``shardId``), each found by its id."""
    return TableDefinition(f"{service.noun}Table", service.table_variable,
                           f"{PLATFORM}-{service.item}-{deployment}", KeyAttribute("shardId"),
                           KeyAttribute(service.id_attribute))


def service_tables(service: TenantService, deployment: str) -> tuple[TableDefinition, ...]:
    """The tables a service's functions are handed in a deployment: its own, then those it
    reads (``TenantService.reads``)."""
    return tuple(data_table(each, deployment)
                 for each in (service, *TENANT_SERVICES.read_by(service)))


def deployment_data_tables(deployment: str) -> tuple[TableDefinition, ...]:
    """Every tenant service's table in one deployment."""
    return tuple(data_table(service, deployment) for service in TENANT_SERVICES)


def data_table_pattern(deployment: str) -> str:
    """Matches the table of every tenant service in a deployment, present and future, and no
    control-plane table (checked below): what the pooled session policy names, so the policy
    does not grow with the number of services."""
    return f"{PLATFORM}-*-{deployment}"


POOLED_DATA_TABLES = deployment_data_tables(POOLED_DEPLOYMENT)


def control_plane_conflicts(services: Iterable[TenantService]
                            ) -> list[tuple[TenantService, Problem]]:
    """Items named after a control-plane table's first word (``tenant``, ``settings``): their
    tables would sit next to ``serverless-saas-tenant-details`` in every listing and under any
    ``serverless-saas-tenant-*`` grant. (``make new-service`` asks before registering.)"""
    words = sorted({table.name.removeprefix(f"{PLATFORM}-").split("-")[0]
                    for table in CONTROL_PLANE_TABLES})
    return [(service, Problem("item", f"a word of the control plane's table names "
                                      f"({', '.join(words)}): its tables "
                                      f"({PLATFORM}-{service.item}-<deployment>) would sit "
                                      "among theirs and under their name patterns"))
            for service in services if service.item in words]


def _data_tables_apart_from_the_control_plane() -> None:
    """A tenant service's tables never share a name, or a name pattern, with the control
    plane's: checked for the registered services when the definitions load."""
    problems = [describe([conflict]) for conflict in control_plane_conflicts(TENANT_SERVICES)]
    # IAM's ``*`` also matches "/": an index's ARN (``<table>/index/<name>``) counts too.
    control_resources = [
        resource for table in (*CONTROL_PLANE_TABLES, *PLATFORM_TABLES) for resource in (
            table.name, *(f"{table.name}/index/{index.name}" for index in table.indexes))]
    for deployment in (POOLED_DEPLOYMENT, SAMPLE_TENANT_ID):
        problems += [f"{resource} matches the tenant data pattern "
                     f"{data_table_pattern(deployment)}" for resource in control_resources
                     if fnmatch.fnmatchcase(resource, data_table_pattern(deployment))]
    if problems:
        raise ConfigurationError("tenant service registry: " + "; ".join(problems))


SAMPLE_TENANT_ID = "0" * 32  # the shape of every silo deployment's id
_data_tables_apart_from_the_control_plane()


# --- Cognito ----------------------------------------------------------------------------------

TENANT_ID_ATTRIBUTE = "custom:tenantId"
USER_ROLE_ATTRIBUTE = "custom:userRole"

# Attributes a signed-in user may change about themselves. Never the tenant, the role or a tier:
# those decide what the user may reach, so only the control plane (admin APIs) sets them.
USER_WRITABLE_ATTRIBUTES = ("email", "name", "phone_number")
USER_READABLE_ATTRIBUTES = (*USER_WRITABLE_ATTRIBUTES, "email_verified", TENANT_ID_ATTRIBUTE,
                            USER_ROLE_ATTRIBUTE)


@dataclass(frozen=True)
class UserPoolDefinition:
    logical_id: str
    name: str
    client_logical_id: str
    client_name: str

    def create_user_pool_request(self) -> dict[str, Any]:
        """``CreateUserPool`` parameters (CloudFormation: the same, with ``UserPoolName``)."""
        return {
            "PoolName": self.name,
            "Schema": [
                {"Name": "email", "AttributeDataType": "String", "Required": True,
                 "Mutable": True},
                # A user's tenant never changes; the role may (by an admin, never by the user).
                {"Name": "tenantId", "AttributeDataType": "String", "Mutable": False,
                 "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}},
                {"Name": "userRole", "AttributeDataType": "String", "Mutable": True,
                 "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "32"}},
            ],
            "AutoVerifiedAttributes": ["email"],
            "Policies": {"PasswordPolicy": {
                "MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True,
                "RequireNumbers": True, "RequireSymbols": True,
                "TemporaryPasswordValidityDays": 7}},
            "AdminCreateUserConfig": {
                "AllowAdminCreateUserOnly": True,  # users come from the admin APIs only
                "InviteMessageTemplate": {
                    "EmailSubject": "Your SaaS platform account",
                    "EmailMessage": ("Your user name is {username} and your temporary "
                                     "password is {####}"),
                },
            },
            "AccountRecoverySetting": {"RecoveryMechanisms": [
                {"Name": "verified_email", "Priority": 1}]},
        }

    def create_client_request(self, user_pool_id: Any) -> dict[str, Any]:
        """``CreateUserPoolClient`` parameters: a public client (browser apps keep no secret)."""
        return {
            "UserPoolId": user_pool_id,
            "ClientName": self.client_name,
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                                  "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "ReadAttributes": list(USER_READABLE_ATTRIBUTES),
            "WriteAttributes": list(USER_WRITABLE_ATTRIBUTES),
        }


OPERATIONS_POOL = UserPoolDefinition(
    "OperationsUserPool", f"{PLATFORM}-operations", "OperationsUserPoolClient",
    f"{PLATFORM}-operations-client")
POOLED_TENANT_POOL = UserPoolDefinition(
    "PooledTenantUserPool", f"{PLATFORM}-pooled-tenants", "PooledTenantUserPoolClient",
    f"{PLATFORM}-pooled-tenants-client")


def tenant_group(tenant_id: str) -> str:
    """A pooled tenant's users' group in the pooled pool."""
    return f"tenant-{tenant_id}"


def tenant_pool(tenant_id: str) -> UserPoolDefinition:
    """A Platinum tenant's own pool: same settings as the pooled one, its own name."""
    return UserPoolDefinition("TenantUserPool", f"{PLATFORM}-tenant-{tenant_id}",
                              "TenantUserPoolClient", f"{PLATFORM}-tenant-{tenant_id}-client")


SYSTEM_ADMIN_USER_NAME = "admin"


# --- IAM --------------------------------------------------------------------------------------

TENANT_ACCESS_ROLE_NAME = f"{PLATFORM}-tenant-access"
"""The role the authorizer assumes (with a session policy) to vend scoped credentials."""


def regional_tenant_access_role_name(region: str) -> str:
    """The access role's name in AWS, where IAM names are global to the account: with the
    region in it, the pooled stack deploys in a second region of the same account. The
    authorizer learns the ARN (``TENANT_ACCESS_ROLE_ARN``) from its stack, never the name."""
    return f"{TENANT_ACCESS_ROLE_NAME}-{region}"


# --- API Gateway usage plans ------------------------------------------------------------------

@dataclass(frozen=True)
class UsagePlan:
    name: str
    quota_per_day: int
    rate_per_second: float
    burst: int


OPERATIONS_PLAN_NAME = "SystemAdmin"
USAGE_PLANS: dict[str, UsagePlan] = {plan.name: plan for plan in (
    UsagePlan(Tier.BASIC.value, 1000, 50, 50),
    UsagePlan(Tier.STANDARD.value, 3000, 75, 100),
    UsagePlan(Tier.PREMIUM.value, 5000, 100, 200),
    UsagePlan(Tier.PLATINUM.value, 10000, 300, 300),
    UsagePlan(OPERATIONS_PLAN_NAME, 10000, 500, 5000),
)}


# --- APIs -------------------------------------------------------------------------------------

ADMIN_API = "admin"


def api_name(deployment: str, service: str) -> str:
    """Name of one Chalice app's REST API in one deployment (``pooled-product``: the service's
    registered name).

    In AWS the deployer records each API's real id under this name; locally the id IS the name.
    """
    return f"{deployment}-{service}"
