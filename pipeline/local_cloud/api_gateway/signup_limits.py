"""Sign-up rate limits, applied by the local front door as the pooled stack's WAF applies them
on AWS (``pipeline.stacks.signup_limits``).

Anonymous ``POST /registration`` creates a Cognito group (pooled tiers) or a whole user pool
and a deployment (Platinum: locally two processes), so a script could use up Cognito's quotas
or the machine. Two limits per window (``SignupLimits``, from the environment): per source
address (WAF's ``AggregateKeyType: IP``) and for every address together (``CONSTANT``). Past
either, the front door answers 429 ``{"message": "Too Many Requests"}`` with CORS headers and
``Retry-After`` itself; the registration never reaches the admin API, so nothing is created.

The window slides, as WAF's does: a sign-up counts for ``window_seconds`` after it was
admitted. Only admitted sign-ups count (a refusal costs nothing and cannot extend the wait), so
``Retry-After`` is exact: the seconds until the oldest counted sign-up leaves the window. WAF
counts every request it sees and cannot say when it will admit again, so on AWS ``Retry-After``
is the whole window. The clock is passed in, so tests move time instead of sleeping. Counters
live in the platform's memory (a restart starts them afresh).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from pipeline.local_cloud.api_gateway.usage_plans import Clock, Refusal
from tenant_context.config import SignupLimits

REGISTRATION_PATH = "/registration"
SIGNUP_THROTTLED = Refusal(429, "Too Many Requests", "TooManyRequestsException")


@dataclass(frozen=True)
class SignupRefusal:
    refusal: Refusal
    retry_after_seconds: int

    def headers(self) -> dict[str, str]:
        return {"x-amzn-ErrorType": self.refusal.error_type,
                "Retry-After": str(self.retry_after_seconds)}


class SignupLimiter:
    """Admits or refuses one sign-up from an address; safe across the front door's threads."""

    def __init__(self, limits: SignupLimits, clock: Clock = time.time) -> None:
        self._limits = limits
        self._clock = clock
        self._total: deque[float] = deque()
        self._by_address: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, address: str) -> SignupRefusal | None:
        """None when the sign-up may go on (and it is counted); else the refusal to send."""
        now = self._clock()
        window = self._limits.window_seconds
        with self._lock:
            self._forget_before(now - window)
            own = self._by_address.get(address, deque())
            # Each full window has room again when its oldest admission leaves it.
            waits = [times[len(times) - limit] + window - now
                     for times, limit in ((own, self._limits.per_address),
                                          (self._total, self._limits.total))
                     if len(times) >= limit]
            if waits:
                return SignupRefusal(SIGNUP_THROTTLED, max(1, math.ceil(max(waits))))
            own.append(now)
            self._by_address[address] = own
            self._total.append(now)
        return None

    def _forget_before(self, oldest: float) -> None:
        """Drop admissions that left the window (and addresses with none left, so memory
        follows the window's sign-ups, not every address ever seen)."""
        while self._total and self._total[0] <= oldest:
            self._total.popleft()
        for address in list(self._by_address):
            times = self._by_address[address]
            while times and times[0] <= oldest:
                times.popleft()
            if not times:
                del self._by_address[address]


@dataclass(frozen=True)
class SignupGate:
    """Which requests are sign-ups: ``POST /registration`` of the admin API's deployment."""
    limiter: SignupLimiter
    deployment: str  # the admin API's first path segment

    def refusal(self, deployment: str, method: str, path: str, address: str
                ) -> SignupRefusal | None:
        if method != "POST" or deployment != self.deployment or path != REGISTRATION_PATH:
            return None
        return self.limiter.admit(address)
