"""What the admin API accepts: every body as a typed value, every field's type, bounds and
characters (400 otherwise), and the path parameters.

- tenantName: 2-64 characters: letters, digits, spaces and . , & ' _ - (first a letter or
  digit); unique regardless of case and of runs of spaces.
- tenantEmail, userEmail: an email address (at most 254 characters).
- tenantTier: Basic, Standard, Premium or Platinum, in any case.
- tenantPhone: up to 32 characters: digits, spaces and + ( ) . - ; tenantAddress: up to 256.
- userName: 1-64 characters: letters, digits and . _ - ; userRole: one of the four roles.
- wave: a rollout wave from 1 to 100, or "last" (the default wave, where new tenants land);
  applyLatestRelease: true or false (a JSON boolean).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from chalicelib.control_plane.registration import RegistrationRequest
from chalicelib.control_plane.tenant_management import TenantChanges
from tenant_context.errors import BadRequestError, NotFoundError
from tenant_context.platform.deployments import ReleaseSettings
from tenant_context.service.validation import (
    MAX_PAGE_SIZE,
    BodySchema,
    Choice,
    Email,
    FieldError,
    Text,
    whole_number,
)
from tenant_context.tenancy import OPERATIONS_TENANT_ID, Role, Tier, is_tenant_id

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,&'_-]*")
PHONE = re.compile(r"[0-9 +().-]*")
USER_NAME = re.compile(r"[A-Za-z0-9._-]+")
TENANT_REFERENCE = re.compile(rf"[0-9a-f]{{32}}|{OPERATIONS_TENANT_ID}")


def _name(required: bool) -> Text:
    return Text("tenantName", required=required, min_length=2, max_length=64,
                pattern=TENANT_NAME,
                charset="letters, digits, spaces and . , & ' _ - (first a letter or digit)")


def _contact(required: bool) -> tuple[Email, Text, Text]:
    return (Email("tenantEmail", required=required),
            Text("tenantPhone", required=False, min_length=0, max_length=32, pattern=PHONE,
                 charset="digits, spaces and + ( ) . -"),
            Text("tenantAddress", required=False, min_length=0, max_length=256))


@dataclass(frozen=True)
class NewUser:
    user_name: str
    user_email: str
    user_role: Role
    tenant_id: str | None = None  # a SystemAdmin names the tenant of a tenant role's user


@dataclass(frozen=True)
class UserChanges:
    user_email: str | None = None
    user_role: Role | None = None


@dataclass(frozen=True)
class MoveBody:
    tier: Tier


@dataclass(frozen=True)
class OffboardingBody:
    confirm_tenant_name: str


@dataclass(frozen=True)
class ReleaseSettingsBody:
    wave: int | str | None = None
    apply_latest_release: bool | None = None

    def settings(self) -> ReleaseSettings:
        last = self.wave == LAST_WAVE
        return ReleaseSettings(wave=None if last else int(self.wave) if self.wave else None,
                               last_wave=last, apply_latest_release=self.apply_latest_release)


LAST_WAVE = "last"
MAX_WAVE = 100


def _wave(value: Any) -> int | str:
    if value == LAST_WAVE:
        return LAST_WAVE
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WAVE:
        raise ValueError(f'must be a wave number from 1 to {MAX_WAVE}, or "{LAST_WAVE}"')
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


# What the parsers take, for the OpenAPI document (tiers in any case: the canonical spellings).
TIERS = {"type": "string", "enum": [tier.value for tier in Tier],
         "description": "matched case-insensitively"}
ROLES = {"type": "string", "enum": [role.value for role in Role]}
WAVES = {"oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_WAVE},
                   {"type": "string", "const": LAST_WAVE}]}
USER_NAME_FIELD = Text("userName", max_length=64, pattern=USER_NAME,
                       charset="letters, digits and . _ -")
TENANT_ID_FIELD = Text("tenantId", max_length=32, pattern=TENANT_REFERENCE,
                       charset="a tenant id (32 hexadecimal characters)")
TENANT_NAME_FIELD = _name(True)
REGISTRATION = BodySchema(RegistrationRequest, (
    TENANT_NAME_FIELD, *_contact(True), Choice("tenantTier", Tier.parse, schema=TIERS),
), renamed={"tenantTier": "tier"})
TENANT_UPDATE = BodySchema(TenantChanges, (
    _name(False), *_contact(False),
    Choice("tenantTier", Tier.parse, required=False, schema=TIERS),
), renamed={"tenantTier": "tier"})
NEW_USER = BodySchema(NewUser, (
    USER_NAME_FIELD,
    Email("userEmail"),
    Choice("userRole", Role.parse, schema=ROLES),
    dataclasses.replace(TENANT_ID_FIELD, required=False),
))
MOVE = BodySchema(MoveBody, (
    Choice("tenantTier", Tier.parse, schema=TIERS),
), renamed={"tenantTier": "tier"})
OFFBOARDING = BodySchema(OffboardingBody, (
    Text("confirmTenantName", min_length=1, max_length=64),
))
RELEASE_SETTINGS = BodySchema(ReleaseSettingsBody, (
    Choice("wave", _wave, required=False, schema=WAVES),
    Choice("applyLatestRelease", _boolean, required=False, schema={"type": "boolean"}),
))
USER_UPDATE = BodySchema(UserChanges, (
    Email("userEmail", required=False),
    Choice("userRole", Role.parse, required=False, schema=ROLES),
))


def path_value(raw: str) -> str:
    """A path parameter as sent: API Gateway (and chalice local) pass it percent-encoded."""
    return unquote(raw)


def tenant_name_in_path(raw: str) -> str:
    """A tenant name from a path, checked by the rule registration applies before any lookup.

    A name no registration could have produced names no tenant: 404, like an unknown name. The
    check also keeps impossible keys away from DynamoDB, which refuses an empty key or one over
    2,048 bytes with an error (a 500 for the caller) instead of "not found".
    """
    try:
        return str(TENANT_NAME_FIELD.clean(path_value(raw)))
    except FieldError:
        raise NotFoundError("Tenant not found: no tenant can have that name") from None


def tenant_id_in_path(raw: str) -> str:
    """Path ids that cannot be tenant ids name no tenant: 404, like an unknown id."""
    value = path_value(raw)
    if not is_tenant_id(value):
        raise NotFoundError("Tenant not found")
    return value


def user_name_in_path(raw: str) -> str:
    value = path_value(raw)
    if not USER_NAME.fullmatch(value) or len(value) > 64:
        raise NotFoundError("User not found")
    return value


def page_size(params: dict[str, Any]) -> int | None:
    raw = params.get("limit")
    return None if raw is None else whole_number(raw, "limit", 1, MAX_PAGE_SIZE)


Changes = TypeVar("Changes", bound="DataclassInstance")


def changes(schema: BodySchema[Changes], raw: bytes | str | None) -> Changes:
    """A body of optional changes, of which at least one must be given (400 otherwise)."""
    body = schema.parse(raw)
    if all(value is None for value in dataclasses.astuple(body)):
        names = [spec.name for spec in schema.fields]
        raise BadRequestError(f"body: give at least one of {', '.join(names)}", fields=names)
    return body
