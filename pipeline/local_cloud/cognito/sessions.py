"""Challenge state between two calls, as Cognito keeps it: in memory, each entry valid for 3
minutes (Cognito's session lifetime), on a clock the tests inject instead of sleeping.

An expired entry is remembered a while longer, so a client coming back late hears that its
session expired (as from Cognito) rather than that it never existed.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Clock = Callable[[], float]  # seconds since the epoch
SESSION_SECONDS = 180.0  # Cognito's: an authentication session lasts 3 minutes
_REMEMBER_EXPIRED_SECONDS = 600.0

T = TypeVar("T")


class SessionExpiredError(Exception):
    pass


class UnknownSessionError(Exception):
    pass


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    expires_at: float


class Sessions(Generic[T]):
    def __init__(self, clock: Clock = time.time, lifetime: float = SESSION_SECONDS) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._entries: dict[str, _Entry[T]] = {}
        self._lock = threading.Lock()

    def open(self, value: T, key: str | None = None) -> str:
        """Keeps ``value`` under ``key`` (a new opaque id if none) for the session's lifetime."""
        key = key or secrets.token_urlsafe(96)
        now = self._clock()
        with self._lock:
            for old in [k for k, entry in self._entries.items()
                        if entry.expires_at + _REMEMBER_EXPIRED_SECONDS < now]:
                del self._entries[old]
            self._entries[key] = _Entry(value, now + self._lifetime)
        return key

    def get(self, key: str) -> T:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            raise UnknownSessionError(key)
        if self._clock() >= entry.expires_at:
            raise SessionExpiredError(key)
        return entry.value

    def close(self, key: str) -> None:
        """Used up: a completed challenge cannot be answered twice."""
        with self._lock:
            self._entries.pop(key, None)
