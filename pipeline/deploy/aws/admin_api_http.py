"""The seam calls to the deployed admin API go through (registration, tenant init), so a dry
run prints them instead of making them, as it does AWS calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.deploy.aws.calls import DRY_RUN
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.deploy_error import DeployError


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any


class Http(Protocol):
    def request(self, method: str, url: str, body: dict[str, Any] | None = None) -> HttpAnswer:
        ...


class UrllibHttp:
    """JSON in, JSON out; an HTTP error status is an answer (the caller knows what a 409
    means), an unreachable URL is a ``DeployError``."""

    def __init__(self, timeout: float = 60) -> None:
        self._timeout = timeout

    def request(self, method: str, url: str, body: dict[str, Any] | None = None) -> HttpAnswer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return HttpAnswer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return HttpAnswer(error.code, _json(error.read()))
        except (urllib.error.URLError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            raise DeployError(f"{method} {url} failed: {reason}") from error


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:  # an API Gateway or proxy page, not the API's own answer
        return {"message": raw.decode(errors="replace")[:200]}


PretendHttpAnswer = Callable[[str, str, dict[str, Any] | None], HttpAnswer]


class DryRunHttp:
    def __init__(self, pretend: PretendHttpAnswer, out: Out) -> None:
        self._pretend = pretend
        self._out = out

    def request(self, method: str, url: str, body: dict[str, Any] | None = None) -> HttpAnswer:
        shown_body = f" {json.dumps(body, separators=(',', ':'))}" if body is not None else ""
        self._out(f"{DRY_RUN} {method} {url}{shown_body}")
        return self._pretend(method, url, body)
