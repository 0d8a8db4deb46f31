"""Local stand-in only: the front door's authorization decision, handed to the service it forwards
to, so a request through the front door is authorized ONCE (as API Gateway authorizes once and
hands the function the authorizer's context).

Without it every request was authorized twice, by the front door (for its usage plan) and again
by the ``chalice local`` process behind it: on a fresh platform 13 of the first product
creation's 14 calls to the emulator were authorization. The decision travels in one request
header, ``HANDOFF_HEADER``, sealed with an HMAC-SHA256 under a secret the platform draws at each
start and gives its ``chalice local`` processes in their environment only
(``Env.LOCAL_GATEWAY_HANDOFF_SECRET``: never in ``.local/``, a log or ``platform.json``). The
seal binds the decision to the route's ``methodArn`` (API id, method, path), to a digest of the
request's ``Authorization`` header and to an expiry ``HANDOFF_TTL_SECONDS`` ahead, so a header
seen on one request is worth nothing on another route, with another token, or later; a replay
of the same request within the expiry needs the caller's own token, which authorizes it anyway.

This is a second way into the apps, so it exists only here: the front door strips the header
from every incoming request before sealing its own, the built-in authorizer
(``builtin_authorizer``) refuses a header it cannot open rather than falling back to anything,
and none of this module or the header's name is in a packaged artifact
(``tests/pipeline/packaging/test_no_handoff_packaged.py`` scans ``make package``'s zips).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

HANDOFF_HEADER = "X-Local-Gateway-Decision"
# From sealing (once the upstream's slot is held, so queueing at the front door does not count)
# to the upstream's check: one loopback hop.
HANDOFF_TTL_SECONDS = 30.0


class ForgedHandOffError(Exception):
    """The header is not one this platform's front door sealed for this request: refused."""


def new_secret() -> str:
    """A fresh secret for one start of the platform (256 bits)."""
    return secrets.token_urlsafe(32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token_digest(authorization: str | None) -> str:
    return hashlib.sha256((authorization or "").encode()).hexdigest()


@dataclass(frozen=True)
class HandOff:
    """Seals (front door) and opens (built-in authorizer) decisions under one start's secret.

    A decision is the authorizer's whole response (principal, context, policy, usage key) as it
    came back for the route's ``methodArn``, or ``None`` for its ``Unauthorized`` (a 401)."""

    secret: str = field(repr=False)
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).digest()

    def seal(self, method_arn: str, authorization: str | None,
             response: Mapping[str, Any] | None) -> str:
        payload = _b64(json.dumps({
            "arn": method_arn, "token": _token_digest(authorization),
            "expires": self.clock() + HANDOFF_TTL_SECONDS,
            "response": None if response is None else dict(response)},
            separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._mac(payload))}"

    def open(self, sealed: str, method_arn: str, authorization: str | None
             ) -> dict[str, Any] | None:
        """The decision sealed for exactly this request, or ``ForgedHandOffError``. The MAC is
        checked first (in constant time), so nothing a forger wrote is parsed."""
        payload, dot, mac = sealed.partition(".")
        try:
            given = _unb64(mac)
        except ValueError:
            raise ForgedHandOffError("the seal is not base64") from None
        if not dot or not hmac.compare_digest(given, self._mac(payload)):
            raise ForgedHandOffError("the seal does not match")
        try:
            decision = json.loads(_unb64(payload))
            arn, token, expires = decision["arn"], decision["token"], float(decision["expires"])
            response = decision["response"]
        except (ValueError, KeyError, TypeError):  # sealed, so only a bug of ours gets here
            raise ForgedHandOffError("the sealed decision is malformed") from None
        if arn != method_arn:
            raise ForgedHandOffError("sealed for another route")
        if not hmac.compare_digest(str(token), _token_digest(authorization)):
            raise ForgedHandOffError("sealed for another token")
        if expires < self.clock():
            raise ForgedHandOffError("expired")
        if response is not None and not isinstance(response, dict):
            raise ForgedHandOffError("the sealed decision is malformed")
        return response
