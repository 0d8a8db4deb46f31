"""The one reader of deployment configuration, and the one place environment variables are named.

The same code runs against AWS and against the local emulator; the only difference is
configuration. Every environment variable the platform's code reads, or sets for the processes
it starts, is a member of ``Env``, except the tables of tenant services (one per registered
service, so named by one rule: ``table_variable``). The templates, the apps' local stages, the
local platform and the tests all take the name from here, so a misspelt name is a mypy error
(``require`` takes an ``Env``), never a variable that silently reads empty. boto3 itself honours
``AWS_ENDPOINT_URL``; the few places that build URLs by hand (Cognito's JWKS endpoint) ask this
module instead of reading the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum, auto
from typing import NewType

from tenant_context.errors import ConfigurationError
from tenant_context.tenancy import is_tenant_id


class Env(StrEnum):
    """Environment variables by name (each member's value is its name), grouped by who sets
    them."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[str]) -> str:
        return name  # ``auto()``: the variable is called what the member is called

    # The AWS SDK and runtime (Lambda, the operator's shell, the local platform).
    AWS_REGION = auto()
    AWS_DEFAULT_REGION = auto()
    AWS_ENDPOINT_URL = auto()  # set only where an emulator stands in for AWS
    AWS_ENDPOINT_URL_COGNITO_IDP = auto()
    AWS_ACCESS_KEY_ID = auto()
    AWS_SECRET_ACCESS_KEY = auto()
    AWS_SESSION_TOKEN = auto()
    AWS_SECURITY_TOKEN = auto()
    AWS_PROFILE = auto()
    AWS_DEFAULT_PROFILE = auto()
    AWS_EC2_METADATA_DISABLED = auto()
    LAMBDA_TASK_ROOT = auto()  # set by the Lambda runtime only
    AWS_EXECUTION_ENV = auto()  # set by the Lambda runtime only
    AWS_LAMBDA_FUNCTION_NAME = auto()  # set by the Lambda runtime only
    AWS_SAM_LOCAL = auto()
    AWS_CHALICE_CLI_MODE = auto()  # set by `chalice local` and `chalice package`
    # Powertools for AWS Lambda.
    POWERTOOLS_SERVICE_NAME = auto()
    POWERTOOLS_TRACE_DISABLED = auto()
    POWERTOOLS_LOG_LEVEL = auto()  # a benchmark's quiet apps (WARNING): Powertools reads it
    # Which deployment a service function belongs to (its template, or its app's local stage).
    DATA_ISOLATION = auto()  # pooled | silo
    SILO_TENANT_ID = auto()  # the one tenant a silo serves
    # Table names (from the stack, or the local stage).
    SETTINGS_TABLE = auto()
    TENANT_DETAILS_TABLE = auto()
    TENANT_NAMES_TABLE = auto()
    TENANT_USER_MAPPING_TABLE = auto()
    TENANT_STACK_MAPPING_TABLE = auto()
    USAGE_TABLE = auto()  # usage per tenant per hour and day (the usage meter, its readers)
    USAGE_FLUSH_SECONDS = auto()  # how long a process holds usage before writing it (60)
    # Each tenant service's table: ``table_variable`` (not members: the registry names them).
    # The tenant authorizer.
    TENANT_ACCESS_ROLE_ARN = auto()
    # The two pools it always knows: Refs in its template, locally the emulator's pools (set by
    # the local stand-in from what the bootstrap recorded). Not read from the settings table.
    OPERATIONS_USER_POOL_ID = auto()
    OPERATIONS_APP_CLIENT_ID = auto()
    POOLED_USER_POOL_ID = auto()
    POOLED_APP_CLIENT_ID = auto()
    AUTHORIZER_SETTINGS_TTL_SECONDS = auto()
    AUTHORIZER_TENANT_TTL_SECONDS = auto()
    AUTHORIZER_UNKNOWN_TENANT_TTL_SECONDS = auto()
    AUTHORIZER_USER_TTL_SECONDS = auto()
    AUTHORIZER_DEPLOYMENT_TTL_SECONDS = auto()
    # The tenant pipeline's functions on AWS (its stack sets them).
    RELEASE_BUCKET = auto()  # releases/<id>/: templates and artifacts
    DEPLOY_STACK_STATE_MACHINE_ARN = auto()  # what the table's stream starts
    TENANT_MOVE_STATE_MACHINE_ARN = auto()  # what the tenant-details table's stream starts
    TENANT_OFFBOARDING_STATE_MACHINE_ARN = auto()  # the same stream's offboardings
    EXPORT_BUCKET = auto()  # offboarded tenants' exports (exports/<tenantId>/), 7 days
    CLOUDFORMATION_ROLE_ARN = auto()  # the role CloudFormation deploys tenants' stacks with
    LOG_RETENTION_DAYS = auto()  # what tenants' stacks keep their logs for
    # The release build (CodeBuild; its buildspec reads them).
    ROLLOUT_STATE_MACHINE_ARN = auto()
    ROLLOUT_MAX_CONCURRENCY = auto()
    ROLLOUT_FAILURE_THRESHOLD = auto()
    ROLLOUT_APPROVE_WAVES = auto()
    # Sign-up limits (``SignupLimits``). The admin function reads the Platinum cap on both
    # targets (its template passes the pooled stack's parameter); the local front door reads
    # the rates (on AWS they are the opt-in WAF's parameters, not variables).
    SIGNUP_RATE_PER_ADDRESS = auto()  # POST /registration per source address per window
    SIGNUP_RATE_TOTAL = auto()  # POST /registration from every address together per window
    SIGNUP_RATE_WINDOW_SECONDS = auto()
    PENDING_PLATINUM_CAP = auto()  # Platinum deployments still provisioning, at most
    # Tenant moves between the pool and a silo (``pipeline.lifecycle``): how long the mover
    # waits after pausing the tenant's writes (the write gate's cache plus a write in flight),
    # and after switching its routing (the authorizer's caches) before removing the source.
    MOVE_WRITE_SETTLE_SECONDS = auto()
    MOVE_ROUTING_SETTLE_SECONDS = auto()
    # Offboarding: how long a requested offboarding can be undone (the admin function reads it).
    OFFBOARDING_GRACE_SECONDS = auto()
    # The apps' local stages only (never in a template).
    TENANT_AUTHORIZER = auto()  # "module:callable" registering a built-in one
    LOCAL_GATEWAY_API_ID = auto()  # the API id that API Gateway would pass
    # The front door's per-start key for handing its authorization to the apps; set by
    # `make local` in its apps' environment only, read only by the local stand-in.
    LOCAL_GATEWAY_HANDOFF_SECRET = auto()
    LOCAL_CREDENTIALS_FILE = auto()  # temporary passwords, no email locally
    # The local platform (`make local` and the commands that talk to it).
    LOCAL_STATE_DIR = auto()
    EMULATOR_PORT = auto()
    GATEWAY_PORT = auto()
    ADMIN_EMAIL = auto()
    PYTHONUNBUFFERED = auto()
    PYTHONPATH = auto()  # the checkout's own code first, for every process the pipeline starts
    PYTHONHASHSEED = auto()  # fixed while compiling bytecode: set constants marshal in one order
    # The emulator (moto's own settings, set by the local platform).
    MOTO_ENABLE_RECORDING = auto()
    MOTO_RECORDER_FILEPATH = auto()
    MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY = auto()
    MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY = auto()


TableVariable = NewType("TableVariable", str)
"""The variable that hands a tenant service's table to its functions: a type of its own, so
``require`` still takes no bare string."""


def table_variable(item: str) -> TableVariable:
    """``PRODUCT_TABLE``: the variable naming the table of ``item`` items (the deployment's
    own, pooled or the tenant's). One per registered service (``tenant_context.tenant_services``),
    so named by rule rather than listed in ``Env``."""
    return TableVariable(f"{item.upper()}_TABLE")


# Credentials a developer's shell may hold for a real account: never handed to a local process.
REAL_ACCOUNT_VARIABLES = (Env.AWS_PROFILE, Env.AWS_DEFAULT_PROFILE, Env.AWS_SESSION_TOKEN,
                          Env.AWS_SECURITY_TOKEN)


@dataclass(frozen=True)
class PlatformConfig:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PlatformConfig:
        return cls(dict(os.environ if environ is None else environ))

    def require(self, variable: Env | TableVariable) -> str:
        value = self.environ.get(variable, "").strip()
        if not value:
            raise ConfigurationError(f"environment variable {variable} is not set")
        return value

    def optional(self, variable: Env, default: str = "") -> str:
        return self.environ.get(variable, "").strip() or default

    def seconds(self, variable: Env, default: float) -> float:
        raw = self.optional(variable)
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ConfigurationError(
                f"{variable} must be a number of seconds, got {raw!r}") from None

    def port(self, variable: Env, default: int) -> int:
        raw = self.optional(variable)
        if not raw:
            return default
        if not re.fullmatch(r"[0-9]{1,5}", raw) or not 0 < int(raw) < 65536:
            raise ConfigurationError(f"{variable} must be a TCP port (1-65535), got {raw!r}")
        return int(raw)

    def whole(self, variable: Env, default: int, low: int, high: int) -> int:
        """A whole-number setting: ASCII digits from ``low`` to ``high``, else a
        ``ConfigurationError`` naming the variable (a mistyped limit must stop the start, not
        silently become no limit)."""
        raw = self.optional(variable)
        if not raw:
            return default
        if not re.fullmatch(r"[0-9]{1,10}", raw) or not low <= int(raw) <= high:
            raise ConfigurationError(f"{variable} must be a whole number from {low} to {high}, "
                                     f"got {raw!r}")
        return int(raw)

    def flag(self, variable: Env) -> bool:
        """Powertools' reading of a boolean variable."""
        return self.optional(variable).lower() in ("1", "true", "yes")

    @property
    def region(self) -> str:
        return self.optional(Env.AWS_REGION) or self.require(Env.AWS_DEFAULT_REGION)

    @property
    def silo_tenant_id(self) -> str:
        """The one tenant a silo deployment serves. Required there, and checked on every
        request as a second wall behind the authorizer's deployment check: a silo's own role
        reaches its own tables, so a mistake upstream would otherwise serve another tenant."""
        value = self.require(Env.SILO_TENANT_ID)
        if not is_tenant_id(value):
            raise ConfigurationError(f"{Env.SILO_TENANT_ID} must be a tenant id (32 lowercase "
                                     f"hex characters), not {value!r}")
        return value

    @property
    def endpoint_url(self) -> str | None:
        """Set only when the platform talks to an emulator instead of AWS."""
        return self.optional(Env.AWS_ENDPOINT_URL) or None

    def cognito_issuer(self, user_pool_id: str) -> str:
        """Cognito always names itself with the AWS URL, even in the emulator."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{user_pool_id}"

    def cognito_jwks_url(self, user_pool_id: str) -> str:
        """Where a pool's signing keys are fetched: the issuer on AWS, the emulator locally."""
        base = self.optional(Env.AWS_ENDPOINT_URL_COGNITO_IDP) or self.endpoint_url
        if base:
            return f"{base.rstrip('/')}/{user_pool_id}/.well-known/jwks.json"
        return f"{self.cognito_issuer(user_pool_id)}/.well-known/jwks.json"


# Sign-up limits: anonymous ``POST /registration`` creates a Cognito group (pooled tiers) or a
# whole user pool (Platinum, which also starts a deployment: on AWS a stack, locally two
# processes), so an unlimited script could use up the account's Cognito quotas or the host.
# The defaults suit people signing up (a few a minute); the test suites, which register many
# tenants, raise them through the same variables. On AWS the rates are the pooled stack's
# opt-in WAF rules, whose minimum limit is 10 per window and whose windows are 60, 120, 300 or
# 600 s: the defaults are valid there too.
DEFAULT_SIGNUP_RATE_PER_ADDRESS = 10
DEFAULT_SIGNUP_RATE_TOTAL = 100
DEFAULT_SIGNUP_RATE_WINDOW_SECONDS = 300  # WAF's default evaluation window
DEFAULT_PENDING_PLATINUM_CAP = 10
_LIMIT_HIGH = 2_000_000_000  # WAF's highest rate limit; far beyond any real sign-up rate


@dataclass(frozen=True)
class SignupLimits:
    per_address: int = DEFAULT_SIGNUP_RATE_PER_ADDRESS
    total: int = DEFAULT_SIGNUP_RATE_TOTAL
    window_seconds: int = DEFAULT_SIGNUP_RATE_WINDOW_SECONDS
    pending_platinum_cap: int = DEFAULT_PENDING_PLATINUM_CAP

    @classmethod
    def from_config(cls, config: PlatformConfig) -> SignupLimits:
        return cls(
            per_address=config.whole(Env.SIGNUP_RATE_PER_ADDRESS,
                                     DEFAULT_SIGNUP_RATE_PER_ADDRESS, 1, _LIMIT_HIGH),
            total=config.whole(Env.SIGNUP_RATE_TOTAL, DEFAULT_SIGNUP_RATE_TOTAL, 1, _LIMIT_HIGH),
            window_seconds=config.whole(Env.SIGNUP_RATE_WINDOW_SECONDS,
                                        DEFAULT_SIGNUP_RATE_WINDOW_SECONDS, 1, 86_400),
            pending_platinum_cap=config.whole(Env.PENDING_PLATINUM_CAP,
                                              DEFAULT_PENDING_PLATINUM_CAP, 1, _LIMIT_HIGH))
