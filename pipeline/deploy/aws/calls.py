"""The seam EVERY AWS call of the aws target goes through.

The deployer names a call as service, operation and parameters (boto3's names), so the same
steps run against AWS (``Boto3Calls``) or as a dry run (``DryRunCalls``) that prints each call
and answers with placeholders, without credentials and without connecting anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.deploy.aws.console import Out, shown
from tenant_context.platform.aws_clients import AwsClients

if TYPE_CHECKING:
    from boto3.session import Session

Answer = dict[str, Any]  # of an operation named as data: no stub types it
DRY_RUN = "[dry-run]"


class AwsCalls(Protocol):
    def call(self, service: str, operation: str, **params: Any) -> Answer: ...


class Boto3Calls:
    """Calls through clients of one injected boto3 session: its credentials and region are the
    run's, and ``AWS_ENDPOINT_URL`` still points the clients at an emulator in tests."""

    def __init__(self, session: Session) -> None:
        self._clients = AwsClients(session)

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        answer: Answer = getattr(self._clients.named(service), operation)(**params)
        return answer


PretendAnswer = Callable[[str, str, Mapping[str, Any]], Answer]


class DryRunCalls:
    """Prints each call as it would be made and answers with ``pretend`` (see
    ``pipeline.deploy.aws.placeholders``), so every later step still runs and prints its own
    calls."""

    def __init__(self, pretend: PretendAnswer, out: Out) -> None:
        self._pretend = pretend
        self._out = out

    def call(self, service: str, operation: str, **params: Any) -> Answer:
        self._out(f"{DRY_RUN} {service}.{operation} {shown(params)}".rstrip())
        return self._pretend(service, operation, params)
