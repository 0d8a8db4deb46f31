"""The local Cognito endpoint: Cognito Identity Provider's JSON protocol (``POST /`` with
``X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>``, an
``application/x-amz-json-1.1`` body) on loopback, for browsers, SDKs and ``make token`` alike.

The operations of ``flows`` are answered here; every other one is passed to the emulator
unchanged (same target, same body) and its answer back unchanged. Errors are Cognito's: status
400 (or the emulator's), ``x-amzn-ErrorType`` and ``{"__type", "message"}``; malformed input is
one of them, never a 5xx or a dropped connection. Browsers call it from the web apps' origin,
so it answers CORS preflights and sends CORS headers on every answer.

The front door serves it at ``<gateway>/cognito`` (see ``local_platform``); it listens on an
ephemeral port of 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pipeline.local_cloud.cognito.errors import CognitoError
from pipeline.local_cloud.cognito.flows import CognitoFlows
from pipeline.local_cloud.cognito.passwords import PasswordStore, ResetCodes
from pipeline.local_cloud.processes import LOOPBACK
from tenant_context.platform.invitations import CredentialsFile

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

_log = logging.getLogger(__name__)
AMZ_JSON = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
MAX_BODY_BYTES = 1024 * 1024
_LENGTH = re.compile(r"[0-9]{1,9}")
_OPERATION = re.compile(r"[A-Za-z]{1,64}")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST,OPTIONS",
    "Access-Control-Allow-Headers": ("Content-Type,X-Amz-Target,X-Amz-User-Agent,"
                                     "X-Amz-Date,Authorization,Cache-Control"),
    "Access-Control-Expose-Headers": "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage",
    "Access-Control-Max-Age": "86400",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


class CognitoEndpoint:
    def __init__(self, flows: CognitoFlows, emulator_url: str, port: int = 0) -> None:
        emulator = urlsplit(emulator_url)
        handler = type("CognitoHandler", (_Handler,), {
            "flows": flows, "emulator": (emulator.hostname or LOOPBACK, emulator.port or 80)})
        self._server = _Server((LOOPBACK, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="cognito-endpoint")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def local_cognito_endpoint(cognito: CognitoIdentityProviderClient, credentials: CredentialsFile,
                           emulator_url: str) -> CognitoEndpoint:
    """The endpoint as ``make local`` runs it: the emulator's Cognito behind it, the local
    credentials file as its password store, reset codes beside that file."""
    flows = CognitoFlows(cognito, PasswordStore(cognito, credentials),
                         ResetCodes.beside(credentials))
    return CognitoEndpoint(flows, emulator_url)


class _Handler(BaseHTTPRequestHandler):
    flows: CognitoFlows
    emulator: tuple[str, int]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_OPTIONS(self) -> None:
        self._send(200, {"Content-Length": "0"}, b"")

    def do_GET(self) -> None:
        self._error(CognitoError("UnknownOperationException", "Send POST with X-Amz-Target"))

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
        if not _OPERATION.fullmatch(operation):
            self._error(CognitoError("UnknownOperationException",
                                     f"Unknown target {target[:80]!r}"))
            return
        try:
            parsed = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            self._error(CognitoError("SerializationException", "Malformed JSON request body"))
            return
        if not isinstance(parsed, dict):
            self._error(CognitoError("SerializationException",
                                     "The request body must be a JSON object"))
            return
        try:
            answer = self.flows.handle(operation, parsed)
        except CognitoError as error:
            self._error(error)
            return
        except Exception:
            _log.exception("the Cognito endpoint failed on %s", operation)
            self._error(CognitoError("InternalErrorException", "Internal error", 500))
            return
        if answer is None:
            self._pass_on(target, body)
            return
        self._json(200, answer)

    def _body(self) -> bytes | None:
        raw = self.headers.get("Content-Length")
        refusal = None
        if self.headers.get("Transfer-Encoding"):
            refusal = "Transfer-Encoding is not accepted: send a Content-Length"
        elif raw is not None and not _LENGTH.fullmatch(raw.strip()):
            refusal = "Content-Length is not a length in bytes"
        elif raw is not None and int(raw) > MAX_BODY_BYTES:
            refusal = "The request body is too large"
        if refusal is not None:
            self.close_connection = True
            self._error(CognitoError("SerializationException", refusal), {"Connection": "close"})
            return None
        return self.rfile.read(int(raw)) if raw else b""

    def _pass_on(self, target: str, body: bytes) -> None:
        """The emulator's answer, unchanged (its status, type header and body)."""
        connection = http.client.HTTPConnection(*self.emulator, timeout=60)
        try:
            connection.request("POST", "/", body=body, headers={
                "X-Amz-Target": target, "Content-Type": AMZ_JSON})
            response = connection.getresponse()
            payload = response.read()
        except OSError:
            _log.warning("passing %s to the emulator failed", target, exc_info=True)
            self._error(CognitoError("InternalErrorException", "The emulator is not answering",
                                     500))
            return
        finally:
            connection.close()
        headers = {"Content-Type": response.getheader("Content-Type") or AMZ_JSON}
        error_type = response.getheader("x-amzn-ErrorType")
        if error_type:
            headers["x-amzn-ErrorType"] = error_type
        self._send(response.status, headers, payload)

    def _json(self, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        self._send(status, {"Content-Type": AMZ_JSON, **(headers or {})},
                   json.dumps(body).encode())

    def _error(self, error: CognitoError, headers: dict[str, str] | None = None) -> None:
        self._json(error.status, {"__type": error.error_type, "message": error.message},
                   {"x-amzn-ErrorType": error.error_type, **(headers or {})})

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in {**CORS_HEADERS, **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
