"""Errors to HTTP responses, in one place: the contract's status codes and CORS on every answer.

Browser apps can read an error only if it carries CORS headers; Chalice adds them to a route's
successful responses but not to errors raised past its view wrapper, so the middleware here adds
them itself. Unexpected exceptions become a 500 with no internals in the body. Chalice answers
an unexpected exception inside a view itself, before any middleware sees it (its own
``{"Code", "Message"}`` body, no content type); the middleware rewrites that answer too, so
every error a client gets has the contract's shape.

A request whose ``Content-Type`` is not JSON (curl's ``-d`` sends a form's type) is refused
with 415 by Chalice itself, on every route and before any view, under ``chalice local`` and in
Lambda alike; the middleware gives that answer the contract's shape too (``{"message"}`` naming
the type received and the one to send, with CORS). Refused rather than parsed as JSON anyway:
one reading of a body for both APIs, and a client told at once what it sent wrong instead of a
400 about fields it did send.
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
    expose_headers=["ETag", "Retry-After"],  # Retry-After: not CORS-safelisted
    max_age=600,
)

_log = logging.getLogger(__name__)
JSON = "application/json"  # the one request and response body type of both APIs


def cors_headers() -> dict[str, str]:
    return dict(CORS.get_access_control_headers())


def json_response(body: Any, status_code: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status_code,
                    headers={"Content-Type": JSON, **cors_headers(),
                             **(headers or {})})


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status_code, error.headers())


def internal_error_response() -> Response:
    return json_response({"message": "Internal server error"}, 500)


def _chalice_error(response: Response) -> bool:
    """Chalice's own answer to an exception in a view (it logged the exception already)."""
    return (response.status_code >= 500 and isinstance(response.body, dict)
            and set(response.body) == {"Code", "Message"})


def _unsupported_media_type(response: Response) -> bool:
    """Chalice's own 415: the request's ``Content-Type`` is not one the route accepts."""
    return (response.status_code == 415 and isinstance(response.body, dict)
            and response.body.get("Code") == "UnsupportedMediaType")


def unsupported_media_type_response(content_type: str) -> Response:
    """The type received is named (cut short: it is the client's text) with the one to send."""
    return json_response({"message": f"Content-Type: {content_type[:100]} is not accepted: send "
                                     f"{JSON}"}, 415)


def error_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice 'http' middleware: the single mapping from exceptions to responses."""
    try:
        response = get_response(event)
    except ApiError as error:
        return error_response(error)
    except Exception:
        _log.exception("unhandled error")
        return internal_error_response()
    if _unsupported_media_type(response):
        return unsupported_media_type_response(event.headers.get("content-type", ""))
    return internal_error_response() if _chalice_error(response) else response
