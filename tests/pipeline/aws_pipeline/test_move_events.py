"""The tenant-details table's stream records -> tenant moves: a new move at ``requested``
starts one execution named after its move id, and nothing else does (the mover's own steps, a
finished move, a change that is not a move's, a record delivered again, anything malformed).
Pure records first, then the records the emulator's DynamoDB stream really produced for a move
the admin API's ``TenantMoves.request`` recorded, started in its Step Functions."""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from typing import Any

import boto3
import pytest

from pipeline.aws_pipeline.lifecycle_events import MOVES, WorkRequest, request_of, start_requested
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.stacks.state_machines import tenant_move_definition
from pipeline.stacks.tenant_pipeline_template import REQUESTED_MOVE_FILTER
from tenant_context.attribute_values import to_item
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.tenant_moves import MoveStep, TenantMove, TenantMoves
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.tenancy import Tier
from tests.support.table_stream import Stream, matches

TENANT = "a" * 32


def _move(step: MoveStep = MoveStep.REQUESTED, move_id: str = "m" * 32) -> dict[str, Any]:
    return TenantMove(move_id, Tier.BASIC, Tier.PLATINUM, step, "admin", "t").to_item()


def _record(event: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None,
            sequence: str = "1") -> dict[str, Any]:
    images: dict[str, Any] = {"SequenceNumber": sequence}
    if new is not None:
        images["NewImage"] = to_item(new)
    if old is not None:
        images["OldImage"] = to_item(old)
    return {"eventName": event, "dynamodb": images}


def _tenant(**values: Any) -> dict[str, Any]:
    return {"tenantId": TENANT, "tenantTier": "Basic", "isActive": True, **values}


def test_a_new_move_asks_for_its_execution_named_after_the_move() -> None:
    request = request_of(MOVES, _record("MODIFY", _tenant(tenantMove=_move()), _tenant()))
    assert request == WorkRequest(TENANT, "m" * 32, "moveId",
                               (("fromTier", "Basic"), ("toTier", "Platinum")))
    assert request.execution_name == "m" * 32
    assert json.loads(request.execution_input()) == {
        "tenantId": TENANT, "moveId": "m" * 32, "fromTier": "Basic", "toTier": "Platinum"}


def test_a_move_replacing_a_finished_one_is_new() -> None:
    finished = _move(MoveStep.DONE, "f" * 32)
    request = request_of(MOVES, _record("MODIFY", _tenant(tenantMove=_move()),
                                      _tenant(tenantMove=finished)))
    assert request is not None
    assert request.work_id == "m" * 32


def test_an_inserted_record_with_a_requested_move_asks_for_it() -> None:
    assert request_of(MOVES, _record("INSERT", _tenant(tenantMove=_move()))) is not None


@pytest.mark.parametrize(("record", "why"), [
    (_record("MODIFY", _tenant(tenantMove=_move()), _tenant(tenantMove=_move())),
     "the same move again (another attribute changed while it is still requested)"),
    (_record("MODIFY", _tenant(tenantMove=_move(MoveStep.KEYING)),
             _tenant(tenantMove=_move())), "the mover's own step"),
    (_record("MODIFY", _tenant(tenantMove={**_move(), "attempts": 1, "error": "x"}),
             _tenant(tenantMove=_move())), "a failure the mover recorded"),
    (_record("MODIFY", _tenant(tenantMove=_move(MoveStep.DONE)),
             _tenant(tenantMove=_move(MoveStep.CLEANING))), "a move finishing"),
    (_record("MODIFY", _tenant(tenantMove=_move(MoveStep.DONE), tenantName="New"),
             _tenant(tenantMove=_move(MoveStep.DONE))), "a finished move, another change"),
    (_record("MODIFY", _tenant(tenantTier="Standard"), _tenant()), "a change with no move"),
    (_record("REMOVE", None, _tenant(tenantMove=_move())), "a removal"),
    (_record("INSERT", _tenant()), "a registration"),
])
def test_records_that_ask_for_no_move(record: dict[str, Any], why: str) -> None:
    assert request_of(MOVES, record) is None, why


@pytest.mark.parametrize(("record", "why"), [
    ({}, "no event"),
    ({"eventName": "MODIFY"}, "no images"),
    ({"eventName": "MODIFY", "dynamodb": {"NewImage": {"tenantId": "not an attribute"}}},
     "not DynamoDB's attribute values"),
    (_record("MODIFY", _tenant(tenantMove="requested")), "a move that is not a map"),
    (_record("MODIFY", _tenant(tenantMove={"step": "requested"})), "a move without an id"),
    (_record("MODIFY", _tenant(tenantMove=_move(move_id="a b/c"))),
     "a move id that cannot name an execution"),
    (_record("MODIFY", _tenant(tenantMove=_move(move_id="x" * 81))), "a move id too long"),
    (_record("MODIFY", _tenant(tenantId="pooled", tenantMove=_move())), "not a tenant's id"),
    (_record("MODIFY", _tenant(tenantMove={**_move(), "step": 3})), "a step that is no step"),
])
def test_malformed_records_ask_for_nothing(record: dict[str, Any], why: str) -> None:
    assert request_of(MOVES, record) is None, why


@pytest.fixture
def machine(baseline: BaselineResult) -> str:
    return boto3.client("stepfunctions").create_state_machine(
        name=f"tenant-move-{secrets.token_hex(3)}",
        definition=json.dumps(tenant_move_definition()),
        roleArn="arn:aws:iam::123456789012:role/tenant-move")["stateMachineArn"]


def test_a_requested_move_starts_one_execution_and_its_steps_none(machine: str) -> None:
    dynamodb, sfn = boto3.client("dynamodb"), boto3.client("stepfunctions")
    tenant_id = uuid.uuid4().hex
    stream = Stream()
    record = TenantRecord(tenant_id, f"Tenant {tenant_id[:6]}", Tier.BASIC, True, "pool",
                          "client", "key")
    dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name, Item=to_item(record.to_item()))
    assert start_requested(MOVES, stream.records(), sfn, machine).started == []  # a registration

    moves = TenantMoves(dynamodb, TENANT_DETAILS_TABLE.name)
    move = moves.request(record, Tier.PLATINUM, "admin")
    requested = stream.records()
    assert [matches(json.loads(REQUESTED_MOVE_FILTER), each) for each in requested] == [True]
    started = start_requested(MOVES, requested, sfn, machine)
    assert started.started == [move.move_id]
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["name"] == move.move_id
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]
                      ) == {"tenantId": tenant_id, "moveId": move.move_id,
                            "fromTier": "Basic", "toTier": "Platinum"}

    again = start_requested(MOVES, requested, sfn, machine)  # Lambda retried the batch
    assert (again.started, again.duplicates) == ([], [move.move_id])

    # The mover's steps (and a failure it records) pass the filter no more, and start nothing.
    keying = moves.update(tenant_id, move, dataclasses.replace(move, step=MoveStep.KEYING))
    moves.update(tenant_id, keying, dataclasses.replace(keying, attempts=1, error="boom"))
    stepped = stream.records()
    assert len(stepped) == 2
    assert not any(matches(json.loads(REQUESTED_MOVE_FILTER), each) for each in stepped)
    assert start_requested(MOVES, stepped, sfn, machine).started == []
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1
