"""From the tenant-details table's stream to offboardings: which record asks for one.

The admin API records an offboarding on the tenant record (``tenantOffboarding``, at
``grace``: ``POST /tenant/offboarding/{id}``) and answers 202; on AWS nothing else would carry
it out, so the table's stream starts one execution of the tenant-offboarding state machine per
new offboarding. A record asks for one when its new image holds an offboarding at ``grace``
whose ``offboardingId`` the old image did not hold (a first request, or a request after an
undone one: the cancelled offboarding had another id). Every other change starts nothing: the
offboarder's own steps (the same id, another step), a failure it recorded, an undo
(``cancelled``), the tombstone (``verifying``, then ``done``), the deactivation the admin API
writes beside the request, and every change that is not an offboarding's.

The execution is named after the offboarding id: a record delivered twice (Lambda retries a
batch, streams deliver at least once) names the same execution, which Step Functions refuses to
start again, so an offboarding has one execution. Resuming one that failed is a new execution
with another name (``pipeline.stacks.state_machines.tenant_offboarding_definition``).

A function of its own, as the moves have (``move_events``), rather than a second filter on the
move function's event source mapping: each stream function may then start only its own state
machine (its IAM names that one), and each mapping keeps its own place in the stream, so an
offboarding batch that keeps failing is retried, bisected and dead-lettered without holding up
the moves behind it (one mapping with two filters shares one iterator: a failing record of
either kind blocks both). The price is a second reader of the tenant-details stream, which is
what DynamoDB streams serve without throttling (two readers a shard); a third lifecycle
operation on this table should join one of these functions rather than add a reader. The
mapping filters to records whose new image holds an offboarding at ``grace``
(``pipeline.stacks.tenant_pipeline_template``); the function checks everything again, a filter
being an optimisation. Starting is ``provisioning_events.start_executions``, shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.aws_pipeline.provisioning_events import Started, image, start_executions
from tenant_context.platform.tenant_offboarding import OFFBOARDING_ATTRIBUTE, OffboardingStep
from tenant_context.tenancy import is_tenant_id

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

# What Step Functions accepts as an execution's name (an offboarding id is 32 hex characters).
_EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


@dataclass(frozen=True)
class OffboardingRequest:
    tenant_id: str
    offboarding_id: str
    requested_by: str

    @property
    def execution_name(self) -> str:
        return self.offboarding_id

    def execution_input(self) -> str:
        """What the tenant-offboarding state machine takes (who asked, only for whoever reads
        the execution's history: the record's audit is the account of it)."""
        return json.dumps({"tenantId": self.tenant_id, "offboardingId": self.offboarding_id,
                           "requestedBy": self.requested_by})


def _offboarding_id(values: Mapping[str, Any]) -> str | None:
    offboarding = values.get(OFFBOARDING_ATTRIBUTE)
    if not isinstance(offboarding, Mapping):
        return None
    offboarding_id = offboarding.get("offboardingId")
    return offboarding_id if isinstance(offboarding_id, str) else None


def offboarding_request_of(record: Mapping[str, Any]) -> OffboardingRequest | None:
    """The offboarding a stream record asks for, if any (None for anything malformed: a record
    that cannot name a tenant and an offboarding is no request, and retrying it would never
    make it one)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    try:
        new, old = image(record, "NewImage"), image(record, "OldImage")
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # not DynamoDB's attribute values
    tenant_id, offboarding_id = new.get("tenantId"), _offboarding_id(new)
    if not is_tenant_id(tenant_id) or offboarding_id is None or \
            not _EXECUTION_NAME.fullmatch(offboarding_id):
        return None
    offboarding = new[OFFBOARDING_ATTRIBUTE]
    if offboarding.get("step") != OffboardingStep.GRACE.value or \
            _offboarding_id(old) == offboarding_id:
        return None  # a step of one under way, undone, finished, or another change
    return OffboardingRequest(tenant_id, offboarding_id,
                              str(offboarding.get("requestedBy", "")))


def start_offboardings(records: Iterable[Mapping[str, Any]], sfn: SFNClient,
                       state_machine_arn: str) -> Started:
    """A tenant-offboarding execution for each record that asks for an offboarding."""
    requests = [request for request in map(offboarding_request_of, records)
                if request is not None]
    return start_executions(requests, sfn, state_machine_arn)
