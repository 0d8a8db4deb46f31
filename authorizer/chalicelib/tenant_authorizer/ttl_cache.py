"""A small time-to-live cache with an injectable clock (so tests count, never sleep)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Remembers loaded values (including "not found") for ``ttl`` seconds.

    Bounded, least recently used first out: keys can come from unverified tokens, so an
    attacker must not be able to grow it without limit.
    """

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 4096) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: K, load: Callable[[], V], *,
                    keep: Callable[[V], bool] | None = None) -> V:
        """The cached value, or ``load()``'s, remembered unless ``keep`` says otherwise (so a
        caller can keep "not found" out of a cache whose entries must not be evicted by junk).
        """
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        value = load()
        if keep is None or keep(value):
            self.put(key, value, now=now)
        return value

    def fresh(self, key: K) -> bool:
        """Whether ``key`` has an entry that has not expired."""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry[0] > self._clock()

    def peek(self, key: K) -> V | None:
        """The value if ``key``'s entry has not expired, else None; never loads, and does not
        count as a use (for a cache whose values are never None, None means "not held")."""
        with self._lock:
            entry = self._entries.get(key)
            return entry[1] if entry is not None and entry[0] > self._clock() else None

    def put(self, key: K, value: V, *, now: float | None = None) -> None:
        expires = (self._clock() if now is None else now) + self._ttl
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
