"""The one reader of deployment configuration (environment variables).

The same code runs against AWS and against the local emulator; the only difference is
configuration. boto3 itself honours ``AWS_ENDPOINT_URL``; the few places that build URLs by
hand (Cognito's JWKS endpoint) ask this module instead of reading the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from tenant_context.errors import ConfigurationError
from tenant_context.tenancy import is_tenant_id

SILO_TENANT_ENV = "SILO_TENANT_ID"


@dataclass(frozen=True)
class PlatformConfig:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PlatformConfig:
        return cls(dict(os.environ if environ is None else environ))

    def require(self, variable: str) -> str:
        value = self.environ.get(variable, "").strip()
        if not value:
            raise ConfigurationError(f"environment variable {variable} is not set")
        return value

    def optional(self, variable: str, default: str = "") -> str:
        return self.environ.get(variable, "").strip() or default

    def seconds(self, variable: str, default: float) -> float:
        raw = self.optional(variable)
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ConfigurationError(
                f"{variable} must be a number of seconds, got {raw!r}") from None

    @property
    def region(self) -> str:
        return self.optional("AWS_REGION") or self.require("AWS_DEFAULT_REGION")

    @property
    def silo_tenant_id(self) -> str:
        """The one tenant a silo deployment serves. Required there, and checked on every
        request as a second wall behind the authorizer's deployment check: a silo's own role
        reaches its own tables, so a mistake upstream would otherwise serve another tenant."""
        value = self.require(SILO_TENANT_ENV)
        if not is_tenant_id(value):
            raise ConfigurationError(f"{SILO_TENANT_ENV} must be a tenant id (32 lowercase "
                                     f"hex characters), not {value!r}")
        return value

    @property
    def endpoint_url(self) -> str | None:
        """Set only when the platform talks to an emulator instead of AWS."""
        return self.optional("AWS_ENDPOINT_URL") or None

    def cognito_issuer(self, user_pool_id: str) -> str:
        """Cognito always names itself with the AWS URL, even in the emulator."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{user_pool_id}"

    def cognito_jwks_url(self, user_pool_id: str) -> str:
        """Where a pool's signing keys are fetched: the issuer on AWS, the emulator locally."""
        base = self.optional("AWS_ENDPOINT_URL_COGNITO_IDP") or self.endpoint_url
        if base:
            return f"{base.rstrip('/')}/{user_pool_id}/.well-known/jwks.json"
        return f"{self.cognito_issuer(user_pool_id)}/.well-known/jwks.json"
