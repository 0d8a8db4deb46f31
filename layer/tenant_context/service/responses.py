"""Errors to HTTP responses, in one place: the contract's status codes and CORS on every answer.

Browser apps can read an error only if it carries CORS headers; Chalice adds them to a route's
successful responses but not to errors raised past its view wrapper, so the middleware here adds
them itself. Unexpected exceptions become a 500 with no internals in the body. Chalice answers
an unexpected exception inside a view itself, before any middleware sees it (its own
``{"Code", "Message"}`` body, no content type); the middleware rewrites that answer too, so
every error a client gets has the contract's shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalice import CORSConfig, Response

from tenant_context.errors import ApiError

CORS = CORSConfig(
    allow_origin="*",  # bearer tokens, not cookies: any origin may call with its own token
    allow_headers=["Authorization", "Content-Type", "If-Match", "X-Amz-Date", "X-Api-Key",
                   "X-Amz-Security-Token"],
    expose_headers=["ETag"],
    max_age=600,
)

_log = logging.getLogger(__name__)


def cors_headers() -> dict[str, str]:
    return dict(CORS.get_access_control_headers())


def json_response(body: Any, status_code: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status_code,
                    headers={"Content-Type": "application/json", **cors_headers(),
                             **(headers or {})})


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status_code, error.headers())


def internal_error_response() -> Response:
    return json_response({"message": "Internal server error"}, 500)


def _chalice_error(response: Response) -> bool:
    """Chalice's own answer to an exception in a view (it logged the exception already)."""
    return (response.status_code >= 500 and isinstance(response.body, dict)
            and set(response.body) == {"Code", "Message"})


def error_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice 'http' middleware: the single mapping from exceptions to responses."""
    try:
        response = get_response(event)
    except ApiError as error:
        return error_response(error)
    except Exception:
        _log.exception("unhandled error")
        return internal_error_response()
    return internal_error_response() if _chalice_error(response) else response
