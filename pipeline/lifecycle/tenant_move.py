"""Moving a live tenant between the pool and its own (Platinum) deployment, one idempotent step
at a time (``tenant_context.platform.tenant_moves`` lists the steps).

Up (pooled -> Platinum): the tenant's key goes on the Platinum plan (its stack will add it to
its own plan), its own deployment is requested through the same row the tenant pipeline
provisions from, then writes are paused at the pooled tables (the write gate:
``tenant_context.service.write_gate``, 409 with ``Retry-After``), every item is copied
(re-sharded, same id and version), the record switches to Platinum in one write (``GET
/tenant/init`` and the authorizer follow the record), the pooled gate turns to ``moved`` (a
stale caller writing to the pooled API is told to look the tenant up again), and once callers'
cached routing has run out the tenant's pooled items are deleted.

Down (Platinum -> a pooled tier): writes paused at the silo, items copied into the pooled
tables, the record switches tier and key, and once routing has settled the silo is retired:
its copy checked against the pooled one (anything newer carried over), its services stopped,
its tables, stack and row deleted.

Writes are BLOCKED, not carried over, while items are copied: a copy that chased writes would
need the tables' change streams on both targets (the emulator has none we can rely on) and a
second switch-over race; a pause is exact and bounded (the settle wait plus the copy: about
2,000 items/s locally, see ``benchmarks/bench_tenant_move.py``). Reads keep being served by the
source until the routing switch has settled everywhere.

The tenant's users stay in the pool they are in (see README "Tenant moves"): no session ends.

Every step is safe to run again: a mover killed at any AWS call, or one whose call failed,
resumes from the step the record names (``advance`` again), and no item is lost or doubled
(copies overwrite with identical content; the source is deleted only after the target holds
every item at the same or a newer version).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.lifecycle.item_copy import Position, Side, TenantItemCopier
from tenant_context.attribute_values import to_item
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.definitions import data_table, deployment_data_tables
from tenant_context.platform.deployments import Deployments, stack_name
from tenant_context.platform.tenant_api_keys import TenantApiKeys, tenant_key_name
from tenant_context.platform.tenant_moves import MoveConflict, MoveStep, TenantMove, TenantMoves
from tenant_context.platform.tenant_records import (
    DeploymentStatus,
    DesiredState,
    TenantRecord,
    utc_timestamp,
)
from tenant_context.service.sharding import SHARDS
from tenant_context.service.tenant_tables import Isolation
from tenant_context.service.write_gate import GateState, gate_item, gate_key
from tenant_context.tenancy import POOLED_DEPLOYMENT, Tier
from tenant_context.tenant_services import TENANT_SERVICES

if TYPE_CHECKING:
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_dynamodb import DynamoDBClient

# On AWS: the write gate's cache (1 s) plus a service function's timeout (60 s), so a write
# that passed the gate just before the pause has landed before the copy reads.
AWS_WRITE_SETTLE_SECONDS = 61.0
# On AWS: API Gateway's authorizer cache (60 s) plus the authorizer's tenant cache (30 s).
AWS_ROUTING_SETTLE_SECONDS = 90.0
# The authorizer's cache of deployment rows (60 s): a row it read while the tenant's own
# deployment was still provisioning names no API yet; the switch waits until it has run out.
AWS_DEPLOYMENT_SETTLE_SECONDS = 60.0
PAUSED_RETRY_AFTER_SECONDS = 5  # what a paused write is told: the copy is usually this quick
COPIED = "done"  # a kind's cursor once all its items are copied


@dataclass(frozen=True)
class MoveTimings:
    write_settle: float = AWS_WRITE_SETTLE_SECONDS
    routing_settle: float = AWS_ROUTING_SETTLE_SECONDS
    deployment_settle: float = AWS_DEPLOYMENT_SETTLE_SECONDS
    poll: float = 2.0  # how often a waiting step looks again (a deployment coming up)

    @classmethod
    def from_config(cls, config: PlatformConfig) -> MoveTimings:
        return cls(config.seconds(Env.MOVE_WRITE_SETTLE_SECONDS, AWS_WRITE_SETTLE_SECONDS),
                   config.seconds(Env.MOVE_ROUTING_SETTLE_SECONDS, AWS_ROUTING_SETTLE_SECONDS),
                   config.seconds(Env.AUTHORIZER_DEPLOYMENT_TTL_SECONDS,
                                  AWS_DEPLOYMENT_SETTLE_SECONDS))


def move_sides(tenant_id: str, upward: bool) -> list[tuple[Side, Side]]:
    """(source, target) table per tenant service: the pool's and the tenant's own."""
    pooled = (POOLED_DEPLOYMENT, SHARDS[Isolation.POOLED])
    silo = (tenant_id, SHARDS[Isolation.SILO])
    source, target = (pooled, silo) if upward else (silo, pooled)
    return [(Side(service, data_table(service, source[0]).name, source[1]),
             Side(service, data_table(service, target[0]).name, target[1]))
            for service in TENANT_SERVICES]


def remove_own_deployment(dynamodb: DynamoDBClient, cloudformation: CloudFormationClient,
                          deployments: Deployments, tenant_id: str) -> int:
    """A tenant's own deployment gone: its tables (CloudFormation retains them, so they are
    deleted first, by name), its stack, its row; how many tables there were. Safe to repeat."""
    deleted = 0
    for table in deployment_data_tables(tenant_id):
        with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
            dynamodb.delete_table(TableName=table.name)
            deleted += 1
    cloudformation.delete_stack(StackName=stack_name(tenant_id))
    deployments.delete(tenant_id)
    return deleted


@dataclass(frozen=True)
class Advance:
    """Where the move stands after one ``advance``, and how long until another is useful."""

    move: TenantMove
    wait: float = 0.0

    @property
    def done(self) -> bool:
        return self.move.step is MoveStep.DONE


@dataclass(frozen=True)
class _Next:
    """A step's outcome: the move's new state and what the record takes with it."""

    move: TenantMove
    record_values: Mapping[str, Any] | None = None
    undo: Callable[[], None] | None = None  # if writing the outcome fails (a key issued)


class MoveStepError(Exception):
    """A step failed; the move stays at its step (recorded with the reason) to run again."""


class TenantMover:
    def __init__(self, dynamodb: DynamoDBClient, cloudformation: CloudFormationClient,
                 moves: TenantMoves, deployments: Deployments, keys: TenantApiKeys,
                 timings: MoveTimings, *, budget: float | None = None,
                 clock: Callable[[], float] = time.time,
                 report: Callable[[str], None] = lambda line: None) -> None:
        self._dynamodb = dynamodb
        self._cloudformation = cloudformation
        self._moves = moves
        self._deployments = deployments
        self._keys = keys
        self._timings = timings
        self._budget = budget  # seconds of copying per advance (None: all of it at once)
        self._clock = clock
        self._report = report

    # --- driving ------------------------------------------------------------------------------
    def run(self, tenant_id: str, *, sleep: Callable[[float], None] = time.sleep,
            deadline: float | None = None) -> TenantMove:
        """Advance until done (or ``TimeoutError`` past ``deadline``, a ``clock`` time)."""
        while True:
            step = self.advance(tenant_id)
            if step.done:
                return step.move
            if deadline is not None and self._clock() + step.wait > deadline:
                raise TimeoutError(f"tenant {tenant_id}'s move is still at {step.move.step}")
            if step.wait:
                sleep(step.wait)

    def advance(self, tenant_id: str) -> Advance:
        """Carry out the step the record names (or wait in it); a failure is recorded on the
        move and raised, leaving it at its step."""
        found = self._moves.record(tenant_id)
        move = found[1] if found else None
        if found is None or move is None:
            raise LookupError(f"tenant {tenant_id} has no move")
        record = found[0]
        if move.step is MoveStep.DONE:
            return Advance(move)
        try:
            outcome = getattr(self, f"_{move.step.value}")(record, move)
        except MoveConflict:
            return Advance(move, self._timings.poll)  # another mover took the step
        except Exception as error:
            self._record_failure(tenant_id, move, error)
            raise MoveStepError(f"tenant {tenant_id}'s move failed at {move.step}: "
                             f"{type(error).__name__}: {error}") from error
        if isinstance(outcome, float):
            return Advance(move, outcome)
        try:
            changed = self._moves.update(tenant_id, move, outcome.move, outcome.record_values)
        except Exception:
            if outcome.undo:
                outcome.undo()  # the record still names what it named: keep nothing else
            raise
        self._report(f"tenant {tenant_id}: {move.step} done -> {changed.step}"
                     if changed.step is not move.step else
                     f"tenant {tenant_id}: {move.step} goes on (copied {dict(changed.copied)})")
        return Advance(changed)

    def _record_failure(self, tenant_id: str, move: TenantMove, error: Exception) -> None:
        failed = dataclasses.replace(move, attempts=move.attempts + 1,
                                     error=f"{type(error).__name__}: {error}"[:500])
        with contextlib.suppress(Exception):  # the record is what failed, perhaps
            self._moves.update(tenant_id, move, failed)

    def _next(self, move: TenantMove, *, record_values: Mapping[str, Any] | None = None,
              undo: Callable[[], None] | None = None, **changes: Any) -> _Next:
        return _Next(dataclasses.replace(move, step=move.next_step(), attempts=0, error="",
                                         step_started_at=self._clock(), **changes),
                     record_values, undo)

    def _waited(self, move: TenantMove, seconds: float) -> float:
        """Seconds still to wait since the step began (0: done waiting)."""
        return max(0.0, move.step_started_at + seconds - self._clock())

    # --- where the tenant's items are ---------------------------------------------------------
    def _sides(self, tenant_id: str, move: TenantMove) -> list[tuple[Side, Side]]:
        return move_sides(tenant_id, move.upward)

    def _set_gates(self, tenant_id: str, sides: list[Side], state: GateState,
                   move: TenantMove) -> None:
        for side in sides:
            self._dynamodb.put_item(TableName=side.table, Item=to_item(gate_item(
                tenant_id, side.service.id_attribute, state,
                retry_after_seconds=PAUSED_RETRY_AFTER_SECONDS, moved_to=move.to_tier.value)))

    def _clear_gates(self, tenant_id: str, sides: list[Side]) -> None:
        for side in sides:
            self._dynamodb.delete_item(TableName=side.table,
                                       Key=to_item(gate_key(tenant_id, side.service.id_attribute)))

    # --- the steps (each: its work, then the next state; or seconds to wait) ------------------
    def _requested(self, record: TenantRecord, move: TenantMove) -> _Next:
        return self._next(move)

    def _keying(self, record: TenantRecord, move: TenantMove) -> _Next:
        """The key the record names goes on the Platinum plan before the stack is asked
        for: the stack's ``Custom::TenantApiKey`` adds the key the record names to the
        tenant's own plan."""
        platinum = tenant_key_name(record.tenant_id, Tier.PLATINUM.value)
        named = [key for key in self._keys.keys_of(record.tenant_id)
                 if key.value == record.api_key]
        if named and named[0].name == platinum:
            return self._next(move)
        key = self._keys.move(record.tenant_id, record.api_key, Tier.PLATINUM.value)
        return self._next(move, record_values={"apiKey": key.value},
                          undo=lambda: self._keys.discard(key))

    def _provisioning(self, record: TenantRecord, move: TenantMove) -> _Next | float:
        self._deployments.request(record.tenant_id)
        row = self._deployments.get(record.tenant_id)
        if row is not None and row.serving:
            return self._next(move)
        if row is not None and row.status is DeploymentStatus.FAILED:
            raise RuntimeError(f"the tenant's deployment failed: {row.failure} "
                               f"({row.operator_action})")
        if row is not None and row.desired_state is DesiredState.STOPPED:
            self._deployments.set_desired_state(record.tenant_id, DesiredState.RUNNING)
        return self._timings.poll

    def _pausing(self, record: TenantRecord, move: TenantMove) -> _Next | float:
        """Up: first the authorizers' cached rows of the new deployment run out (writes still
        flow meanwhile), so it is known to them by the time the record switches to it."""
        remaining = self._waited(move, self._timings.deployment_settle if move.upward else 0)
        if remaining:
            return remaining
        sides = self._sides(record.tenant_id, move)
        self._set_gates(record.tenant_id, [source for source, _ in sides], GateState.PAUSED,
                        move)
        self._report(f"tenant {record.tenant_id}: writes paused; copying in "
                     f"{self._timings.write_settle:.0f} s")
        return self._next(move, paused_at=move.paused_at or self._clock())

    def _copying(self, record: TenantRecord, move: TenantMove) -> _Next | float:
        """Every item copied, in runs of at most ``budget`` seconds when one is set (a Lambda
        has 15 minutes): a run that stops early records where each kind's copy goes on and
        stays at this step, so the next run continues (copies are idempotent, so a run that
        dies before recording is simply done again)."""
        remaining = self._waited(move, self._timings.write_settle)
        if remaining:
            return remaining
        copier = TenantItemCopier(self._dynamodb, record.tenant_id)
        deadline = self._clock() + self._budget if self._budget else None

        def out_of_time() -> bool:
            return deadline is not None and self._clock() >= deadline

        copied, cursor = dict(move.copied), dict(move.cursor)
        for source, target in self._sides(record.tenant_id, move):
            kind = source.service.item
            if cursor.get(kind) == COPIED:
                continue
            start = Position.decoded(cursor[kind]) if kind in cursor else None
            done_before = copied.get(kind, 0)

            def progress(count: int, kind: str = kind, before: int = done_before) -> None:
                self._report(f"tenant {record.tenant_id}: {before + count} {kind} items copied")

            count, rest = copier.copy(source, target, progress, start=start,
                                      until=out_of_time)
            copied[kind] = done_before + count
            if rest is not None:  # out of time: the next run goes on from here
                cursor[kind] = rest.encoded()
                return _Next(dataclasses.replace(move, copied=copied, cursor=cursor))
            cursor[kind] = COPIED
        return self._next(move, copied=copied, cursor={})

    def _switching(self, record: TenantRecord, move: TenantMove) -> _Next:
        sides = self._sides(record.tenant_id, move)
        self._clear_gates(record.tenant_id, [target for _, target in sides])
        self._set_gates(record.tenant_id, [source for source, _ in sides], GateState.MOVED,
                        move)
        values: dict[str, Any] = {"tenantTier": move.to_tier.value,
                                  "modifiedAt": utc_timestamp()}
        now = self._clock()
        if move.upward:
            return self._next(move, record_values=values, switched_at=now)
        wanted = tenant_key_name(record.tenant_id, move.to_tier.value)
        named = [key for key in self._keys.keys_of(record.tenant_id)
                 if key.value == record.api_key]
        if named and named[0].name == wanted:
            return self._next(move, record_values=values, switched_at=now)
        key = self._keys.move(record.tenant_id, record.api_key, move.to_tier.value)
        return self._next(move, record_values=values | {"apiKey": key.value},
                          undo=lambda: self._keys.discard(key), switched_at=now)

    def _settling(self, record: TenantRecord, move: TenantMove) -> _Next | float:
        return self._waited(move, self._timings.routing_settle) or self._next(move)

    def _cleaning(self, record: TenantRecord, move: TenantMove) -> _Next:
        """Up: the pooled items go (the ``moved`` gates stay: a stale caller is told where
        the tenant went; a later move back clears them)."""
        copier = TenantItemCopier(self._dynamodb, record.tenant_id)
        removed = {source.service.item: copier.reconcile_and_remove(source, target)
                   for source, target in self._sides(record.tenant_id, move)}
        self._report(f"tenant {record.tenant_id}: pooled items removed {removed}")
        return self._next(move, removed=removed, finished_at=utc_timestamp())

    def _retiring(self, record: TenantRecord, move: TenantMove) -> _Next:
        """Down: stop the silo, carry over anything it holds newer (there should be
        nothing), then delete its tables, its stack and its row."""
        tenant_id = record.tenant_id
        with contextlib.suppress(self._deployments.missing_row):
            self._deployments.set_desired_state(tenant_id, DesiredState.STOPPED)
        copier = TenantItemCopier(self._dynamodb, tenant_id)
        removed = dict(move.removed)  # a run again after the tables went keeps the counts
        for source, target in self._sides(tenant_id, move):
            with contextlib.suppress(self._dynamodb.exceptions.ResourceNotFoundException):
                removed[source.service.item] = copier.reconcile_and_remove(source, target)
        remove_own_deployment(self._dynamodb, self._cloudformation, self._deployments,
                              tenant_id)
        self._report(f"tenant {tenant_id}: its own deployment retired ({removed})")
        return self._next(move, removed=removed, finished_at=utc_timestamp())
