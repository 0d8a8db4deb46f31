"""An operator's commands take a deployment's row before deploying its stack, as the tenant
pipeline's executions do (``tenant_context.platform.deployments.claim_update``): a stack never
has two deployers at once, whoever they are. A row held by someone else stops that stack with
a clear line instead of racing them (their change set would make ours obsolete, or ours
theirs)."""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import time
from collections.abc import Callable, Iterator

from botocore.exceptions import ClientError

from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.deploy_error import DeployError
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import claim_update, unclaim_update

LEASE_SECONDS = 3 * 3600  # as the pipeline's: longer than any deployment may take
_REFUSED = "ConditionalCheckFailedException"


class RowHeld(DeployError):  # noqa: N818 - read as "the row is held"
    """Someone else (the tenant pipeline, another operator) is deploying that stack."""


def operator() -> str:
    return f"operator {getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"


class RowClaims:
    def __init__(self, calls: AwsCalls, table: str = TENANT_STACK_MAPPING_TABLE.name,
                 owner: str | None = None, now: Callable[[], float] = time.time) -> None:
        self._calls = calls
        self._table = table
        self._owner = owner or operator()
        self._now = now

    @contextlib.contextmanager
    def held(self, deployment_id: str) -> Iterator[None]:
        try:
            self._calls.call("dynamodb", "update_item", **claim_update(
                self._table, deployment_id, self._owner, int(self._now()), LEASE_SECONDS))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _REFUSED:
                raise
            raise RowHeld(f"the stack of {deployment_id} is being deployed by someone else "
                              f"(the tenant pipeline, or another operator: its row is "
                              f"claimed, or has no row); deploy it again when they are done"
                              ) from None
        try:
            yield
        finally:
            with contextlib.suppress(ClientError):
                self._calls.call("dynamodb", "update_item", **unclaim_update(
                    self._table, deployment_id, self._owner))
