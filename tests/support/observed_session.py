"""A real boto3 session whose clients a test sees as they are built, to hook or stand in for.

The code under test takes a session (or clients built from one) as a dependency, so a test
hands it one of these instead of patching anything: ``observe`` registers hooks on the new
client (to count or record its calls) and returns it, or returns a stand-in (a ``Failing``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

# A client just built -> the one to hand out. Loosely typed: it serves every service, and a
# stand-in is no client class.
Observe = Callable[[Any], Any]


class ObservedSession(boto3.session.Session):
    def __init__(self, observe: Observe, **options: Any) -> None:
        super().__init__(**options)
        self._observe = observe

    def client(self, *args: Any, **kwargs: Any) -> Any:
        return self._observe(super().client(*args, **kwargs))
