"""Running ``python -m pipeline.deploy`` in-process, with its output captured, and a world
where AWS cannot be reached: no credentials anywhere, the endpoint a closed port, and every
socket connect refused and recorded."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.deploy.aws.calls import DRY_RUN
from pipeline.deploy.cli import Tools, main
from tests.support.captured_run import CapturedRun


class Run(CapturedRun):
    @property
    def calls(self) -> list[str]:
        """The dry run's call lines, each as its operation (``s3.put_object``, ``POST``)."""
        return [line.split()[1] for line in self.out if line.startswith(DRY_RUN)]

    def call_lines(self, operation: str) -> list[str]:
        return [line for line in self.out if line.startswith(f"{DRY_RUN} {operation} ")]


def _refuse(what: str) -> Callable[..., Any]:
    def refused(*args: Any) -> Any:
        pytest.fail(f"{what} was called: {args}")

    return refused


Cli = Callable[..., Run]


@pytest.fixture
def cli() -> Cli:
    """``cli(argv, **tools)``: packaging and the local target's modules refuse to run unless a
    test passes its own (every test here reuses the session's package via --dist)."""
    def run(argv: list[str], **tools: Any) -> Run:
        result = Run(0)
        base = Tools(package=_refuse("packaging"), run_module=_refuse("a local module"),
                     out=result.out.append, err=result.err.append)
        result.code = main(argv, replace(base, **tools))
        return result

    return run


@dataclass
class Connections:
    attempted: list[Any] = field(default_factory=list)


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Connections:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    connections = Connections()

    def refuse(sock: socket.socket, address: Any) -> None:
        connections.attempted.append(address)
        raise ConnectionRefusedError(f"the test allows no connection ({address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return connections


@pytest.fixture
def bucket_name(emulator_url: str) -> str:
    """A fresh deployment bucket in the session's emulator."""
    name = f"deploy-{secrets.token_hex(6)}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name
