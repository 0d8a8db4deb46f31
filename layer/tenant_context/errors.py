"""The one error hierarchy of the platform; ``tenant_context.service.responses`` answers it.

Errors derive from Chalice's ``ChaliceUnhandledError`` so they pass through Chalice's view
wrapper untouched and reach the error middleware, which answers with the contract's body shape
(``{"message": ...}``) and CORS headers instead of Chalice's ``{"Code", "Message"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from chalice import ChaliceUnhandledError


class ApiError(ChaliceUnhandledError):
    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, fields: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fields = tuple(fields)

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"message": self.message}
        if self.fields:
            body["fields"] = list(self.fields)
        return body

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides content type and CORS (none by default)."""
        return {}


class BadRequestError(ApiError):
    status_code = 400


class UnauthorizedError(ApiError):
    status_code = 401


class ForbiddenError(ApiError):
    status_code = 403


class NotFoundError(ApiError):
    status_code = 404


class ConflictError(ApiError):
    status_code = 409


class RetryableConflictError(ConflictError):
    """The resource is in a state that refuses the request for now (a tenant's writes paused
    while its items move, say); nothing was done, and ``Retry-After`` says when trying again
    can succeed. 409, not 503: the state is expected, not a fault."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class TooManyRequestsError(ApiError):
    """A limit refused the request before anything was done; ``Retry-After`` tells a client
    (a browser, a script) when trying again can succeed, instead of it hammering on."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class ServiceUnavailableError(ApiError):
    """A dependency failed; whatever was begun has been undone, so the caller may retry."""

    status_code = 503


class TenantIsolationError(NotFoundError):
    """A key that names another tenant's data. Reported as 404 so existence is never revealed."""

    def __init__(self) -> None:
        super().__init__("Not found")


class ConfigurationError(RuntimeError):
    """The deployment is missing a setting the code needs: a genuine fault (5xx), never 4xx."""
