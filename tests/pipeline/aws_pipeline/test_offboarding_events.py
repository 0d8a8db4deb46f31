"""The tenant-details table's stream records -> offboardings: a new offboarding at ``grace``
starts one execution named after its offboarding id, and nothing else does (the offboarder's
own steps, an undo, the tombstone, a change that is not an offboarding's, a record delivered
again, anything malformed). Pure records first, then the records the emulator's DynamoDB stream
really produced for an offboarding the admin API's ``TenantOffboardings`` recorded, undid and
recorded again, started in its Step Functions."""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from typing import Any

import boto3
import pytest

from pipeline.aws_pipeline.lifecycle_events import (
    MOVES,
    OFFBOARDINGS,
    WorkRequest,
    request_of,
    start_requested,
)
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.stacks.state_machines import tenant_offboarding_definition
from pipeline.stacks.tenant_pipeline_template import (
    GRACE_OFFBOARDING_FILTER,
)
from tenant_context.attribute_values import to_item
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.tenant_moves import MoveStep, TenantMove
from tenant_context.platform.tenant_offboarding import (
    OffboardingStep,
    TenantOffboarding,
    TenantOffboardings,
    tombstone,
)
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.tenancy import Tier
from tests.support.table_stream import Stream, matches

TENANT, OFFBOARDING_ID = "a" * 32, "o" * 32


def _offboarding(step: OffboardingStep = OffboardingStep.GRACE,
                 offboarding_id: str = OFFBOARDING_ID) -> dict[str, Any]:
    return TenantOffboarding(offboarding_id, step, "staff@example.com", "t",
                             1_900_000_000.0).to_item()


def _record(event: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    images: dict[str, Any] = {"SequenceNumber": "1"}
    if new is not None:
        images["NewImage"] = to_item(new)
    if old is not None:
        images["OldImage"] = to_item(old)
    return {"eventName": event, "dynamodb": images}


def _tenant(**values: Any) -> dict[str, Any]:
    return {"tenantId": TENANT, "tenantTier": "Basic", "isActive": True, **values}


def test_a_new_offboarding_asks_for_its_execution_named_after_it() -> None:
    record = _record("MODIFY", _tenant(tenantOffboarding=_offboarding()), _tenant())
    request = request_of(OFFBOARDINGS, record)
    assert request == WorkRequest(TENANT, OFFBOARDING_ID, "offboardingId",
                               (("requestedBy", "staff@example.com"),))
    assert request.execution_name == OFFBOARDING_ID
    assert json.loads(request.execution_input()) == {
        "tenantId": TENANT, "offboardingId": OFFBOARDING_ID,
        "requestedBy": "staff@example.com"}
    assert matches(json.loads(GRACE_OFFBOARDING_FILTER), record)
    assert request_of(MOVES, record) is None  # the move function's records are not these


def test_an_offboarding_asked_again_after_an_undo_is_new() -> None:
    undone = _offboarding(OffboardingStep.CANCELLED, "c" * 32)
    request = request_of(OFFBOARDINGS, _record("MODIFY", _tenant(tenantOffboarding=_offboarding()),
                                             _tenant(tenantOffboarding=undone)))
    assert request is not None
    assert request.work_id == OFFBOARDING_ID


def test_an_inserted_record_in_its_grace_period_asks_for_it() -> None:
    request = request_of(OFFBOARDINGS, _record("INSERT", _tenant(tenantOffboarding=_offboarding())))
    assert request is not None


@pytest.mark.parametrize(("record", "why"), [
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(), isActive=False),
             _tenant(tenantOffboarding=_offboarding())),
     "the same offboarding again (the deactivation written beside it)"),
    (_record("MODIFY", _tenant(tenantOffboarding={**_offboarding(), "attempts": 1,
                                                  "error": "x"}),
             _tenant(tenantOffboarding=_offboarding())), "a failure the offboarder recorded"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(OffboardingStep.EXPORTING)),
             _tenant(tenantOffboarding=_offboarding())), "the offboarder's own step"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(OffboardingStep.CANCELLED)),
             _tenant(tenantOffboarding=_offboarding())), "an undo"),
    (_record("MODIFY", tombstone(TENANT, TenantOffboarding.from_item(
        _offboarding(OffboardingStep.VERIFYING))),
        _tenant(tenantOffboarding=_offboarding(OffboardingStep.ERASING))), "the tombstone"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(OffboardingStep.DONE)),
             _tenant(tenantOffboarding=_offboarding(OffboardingStep.VERIFYING))),
     "an offboarding finishing"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(OffboardingStep.DONE,
                                                              "n" * 32))),
     "a new id that is not in its grace period"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(OffboardingStep.CANCELLED),
                               tenantName="New"),
             _tenant(tenantOffboarding=_offboarding(OffboardingStep.CANCELLED))),
     "an undone offboarding, another change"),
    (_record("MODIFY", _tenant(tenantTier="Standard"), _tenant()),
     "a change with no offboarding"),
    (_record("MODIFY", _tenant(tenantMove=TenantMove("m" * 32, Tier.BASIC, Tier.PLATINUM,
                                                     MoveStep.REQUESTED, "admin",
                                                     "t").to_item()), _tenant()),
     "a move"),
    (_record("REMOVE", None, _tenant(tenantOffboarding=_offboarding())), "a removal"),
    (_record("INSERT", _tenant()), "a registration"),
])
def test_records_that_ask_for_no_offboarding(record: dict[str, Any], why: str) -> None:
    assert request_of(OFFBOARDINGS, record) is None, why


@pytest.mark.parametrize(("record", "why"), [
    ({}, "no event"),
    ({"eventName": "MODIFY"}, "no images"),
    ({"eventName": "MODIFY", "dynamodb": {"NewImage": {"tenantId": "not an attribute"}}},
     "not DynamoDB's attribute values"),
    (_record("MODIFY", _tenant(tenantOffboarding="grace")), "an offboarding that is no map"),
    (_record("MODIFY", _tenant(tenantOffboarding={"step": "grace"})), "one without an id"),
    (_record("MODIFY", _tenant(tenantOffboarding={**_offboarding(), "offboardingId": 7})),
     "an id that is no string"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(offboarding_id="a b/c"))),
     "an id that cannot name an execution"),
    (_record("MODIFY", _tenant(tenantOffboarding=_offboarding(offboarding_id="x" * 81))),
     "an id too long"),
    (_record("MODIFY", _tenant(tenantId="pooled", tenantOffboarding=_offboarding())),
     "not a tenant's id"),
    (_record("MODIFY", _tenant(tenantOffboarding={**_offboarding(), "step": 3})),
     "a step that is no step"),
])
def test_malformed_records_ask_for_nothing(record: dict[str, Any], why: str) -> None:
    assert request_of(OFFBOARDINGS, record) is None, why


@pytest.fixture
def machine(baseline: BaselineResult) -> str:
    return boto3.client("stepfunctions").create_state_machine(
        name=f"tenant-offboarding-{secrets.token_hex(3)}",
        definition=json.dumps(tenant_offboarding_definition()),
        roleArn="arn:aws:iam::123456789012:role/tenant-offboarding")["stateMachineArn"]


def _passes(records: list[dict[str, Any]]) -> list[bool]:
    return [matches(json.loads(GRACE_OFFBOARDING_FILTER), each) for each in records]


def test_a_requested_offboarding_starts_one_execution_and_its_steps_none(machine: str) -> None:
    dynamodb, sfn = boto3.client("dynamodb"), boto3.client("stepfunctions")
    tenant_id = uuid.uuid4().hex
    stream = Stream()
    record = TenantRecord(tenant_id, f"Tenant {tenant_id[:6]}", Tier.BASIC, True, "pool",
                          "client", "key")
    dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name, Item=to_item(record.to_item()))
    registered = stream.records()
    assert start_requested(OFFBOARDINGS, registered, sfn, machine).started == []

    offboardings = TenantOffboardings(dynamodb, TENANT_DETAILS_TABLE.name)
    offboarding = offboardings.request(record, "staff@example.com", 3600)
    requested = stream.records()
    assert _passes(requested) == [True]
    assert [request_of(MOVES, each) for each in requested] == [None]
    started = start_requested(OFFBOARDINGS, requested, sfn, machine)
    assert started.started == [offboarding.offboarding_id]
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["name"] == offboarding.offboarding_id
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]
                      ) == {"tenantId": tenant_id, "offboardingId": offboarding.offboarding_id,
                            "requestedBy": "staff@example.com"}

    again = start_requested(OFFBOARDINGS, requested, sfn, machine)  # Lambda retried the batch
    assert (again.started, again.duplicates) == ([], [offboarding.offboarding_id])

    # A failure the offboarder records passes the filter (still at grace) but starts nothing;
    # an undo passes it no more.
    failed = offboardings.update(tenant_id, offboarding,
                                 dataclasses.replace(offboarding, attempts=1, error="boom"))
    offboardings.cancel(tenant_id, failed, "staff@example.com")
    changed = stream.records()
    assert _passes(changed) == [True, False]
    assert start_requested(OFFBOARDINGS, changed, sfn, machine).started == []

    # Asked again after the undo: a new id, a second execution.
    renewed = offboardings.request(record, "staff@example.com", 3600)
    assert start_requested(OFFBOARDINGS, stream.records(), sfn, machine).started == [
        renewed.offboarding_id]
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 2
