"""Offboarding against the emulator: the export holds everything (its usage as final billing
events too), the erasure leaves nothing the verification can find (pooled and Platinum, after a
move too; its usage rows included), another tenant is untouched, the grace period can be undone
and only then, and a failure at any step (or in the usage rows' deletion) ends the same after a
second run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.lifecycle.exports import FileExports, S3Exports
from pipeline.lifecycle.offboarding import (
    OffboardingStepError,
    OffboardingTables,
    TenantOffboarder,
)
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    TENANT_USER_MAPPING_TABLE,
    USAGE_TABLE,
    tenant_group,
    tenant_name_key,
)
from tenant_context.platform.platform_settings import PlatformSettings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_offboarding import (
    OffboardingConflict,
    OffboardingStep,
    TenantOffboardings,
)
from tenant_context.platform.tenant_records import TOMBSTONE_ATTRIBUTE, TenantRecord
from tenant_context.platform.usage_records import UsageRecords
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, Tier
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.moto_server import clients_for
from tests.support.tenant_lifecycle import (
    FaultyCalls,
    InjectedFaultError,
    deploy_silo,
    fault_points,
    items_of,
    mover_for,
    put_items,
    run_move,
)
from tests.support.world import Tenant, World

TABLES = OffboardingTables(TENANT_DETAILS_TABLE.name, TENANT_NAMES_TABLE.name,
                           TENANT_USER_MAPPING_TABLE.name, TENANT_STACK_MAPPING_TABLE.name)


def offboarder_for(clients: AwsClients, world: World, exports: Path) -> TenantOffboarder:
    settings: PlatformSettings = world.settings
    return TenantOffboarder(
        clients.dynamodb, clients.cognito, clients.cloudformation,
        TenantApiKeys(clients.apigateway, lambda: settings.usage_plan_ids),
        lambda: settings, TABLES, FileExports(exports))


def claim_name(clients: AwsClients, record: TenantRecord) -> None:
    """The name claim a registration leaves (the world's tenants are made without one)."""
    clients.dynamodb.put_item(TableName=TENANT_NAMES_TABLE.name, Item=to_item({
        "tenantNameKey": tenant_name_key(record.tenant_name), "tenantId": record.tenant_id,
        "tenantName": record.tenant_name, "status": "complete"}))


def record_usage(clients: AwsClients, tenant_id: str) -> None:
    """Three requests now and one 40 days ago: 4 rows (an hour and a day each; the old hour is
    past its time to live, which the emulator never applies: the erasure deletes it too)."""
    meter = UsageMeter(clients.dynamodb, USAGE_TABLE.name)
    for status in (200, 201, 429):
        meter.record(tenant_id, "GET /products", status, 3, read_units=1)
    meter.record(tenant_id, "GET /orders", 200, 7, read_units=2,
                 at=datetime.now(UTC) - timedelta(days=40))
    assert meter.flush().ok


def usage_rows(clients: AwsClients, tenant_id: str) -> int:
    return UsageRecords(clients.dynamodb, USAGE_TABLE.name).row_count(tenant_id)


def pooled_tenant_with_everything(world: World, clients: AwsClients) -> Tenant:
    tenant = world.pooled_tenant(Tier.STANDARD)
    clients.cognito.create_group(UserPoolId=tenant.pool.user_pool_id,
                                 GroupName=tenant_group(tenant.tenant_id))
    world.tenant_user(tenant, Role.TENANT_ADMIN)
    world.tenant_user(tenant, Role.TENANT_USER)
    put_items(clients, tenant.tenant_id, POOLED_DEPLOYMENT, 4)
    claim_name(clients, tenant.record)
    record_usage(clients, tenant.tenant_id)
    return tenant


def request(clients: AwsClients, tenant: Tenant, grace: float = 0.0) -> None:
    offboardings = TenantOffboardings(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    found = offboardings.read(tenant.tenant_id)
    assert found is not None
    offboardings.request(TenantRecord.from_item(found), "admin", grace)


@pytest.fixture
def clients(emulator_url: str) -> AwsClients:
    return clients_for(emulator_url)


@pytest.fixture
def bystander(world: World, clients: AwsClients) -> Iterator[Tenant]:
    tenant = pooled_tenant_with_everything(world, clients)
    offboarder = offboarder_for(clients, world, Path("/nonexistent"))
    before = (items_of(clients, tenant.tenant_id, POOLED_DEPLOYMENT),
              offboarder.remains(tenant.tenant_id))
    yield tenant
    assert (items_of(clients, tenant.tenant_id, POOLED_DEPLOYMENT),
            offboarder.remains(tenant.tenant_id)) == before


def exported(offboarder_exports: Path) -> dict[str, Any]:
    [export] = offboarder_exports.glob("*.json")
    document: dict[str, Any] = json.loads(export.read_text())
    return document


def test_a_pooled_tenant_is_exported_then_erased_to_a_tombstone(
        world: World, clients: AwsClients, bystander: Tenant, tmp_path: Path) -> None:
    tenant = pooled_tenant_with_everything(world, clients)
    tenant_id = tenant.tenant_id
    items = items_of(clients, tenant_id, POOLED_DEPLOYMENT)
    offboarder = offboarder_for(clients, world, tmp_path)
    assert offboarder.remains(tenant_id)["api keys"] == 1  # what a dry run shows
    assert offboarder.remains(tenant_id)["usage rows"] == 4

    request(clients, tenant)
    done = offboarder.run(tenant_id)

    assert done.step is OffboardingStep.DONE
    assert not any(done.remaining.values()), done.remaining
    assert done.erased["users"] == 2
    assert done.erased["product"] == done.erased["order"] == 4
    document = exported(tmp_path)
    assert document["tenant"]["tenantId"] == tenant_id
    assert "apiKey" not in document["tenant"]  # a secret, not the tenant's data
    assert sorted(user["role"] for user in document["users"]) == ["TenantAdmin", "TenantUser"]
    assert all(user["email"] for user in document["users"])
    for service in TENANT_SERVICES:
        assert {item[service.id_attribute] for item in document["items"][service.item]} == \
            set(items[service.item])
    assert (tmp_path.stat().st_mode, next(tmp_path.glob("*.json")).stat().st_mode & 0o777) \
        [1] == 0o600
    row = from_item(clients.dynamodb.get_item(TableName=TENANT_DETAILS_TABLE.name, Key=to_item(
        {"tenantId": tenant_id}))["Item"])
    assert TOMBSTONE_ATTRIBUTE in row
    assert set(row) == {"tenantId", TOMBSTONE_ATTRIBUTE, "tenantNameReleased", "isActive",
                        "tenantOffboarding"}  # the minimal tombstone
    assert [entry["action"] for entry in row["tenantOffboarding"]["audit"]][:2] == [
        "requested", "grace period over"]
    assert tenant.record.tenant_name not in json.dumps(row, default=str)  # name released
    assert done.erased["usageRows"] == 4
    assert done.remaining["usage rows"] == usage_rows(clients, tenant_id) == 0


def test_the_export_holds_the_usage_for_the_final_invoice(
        world: World, clients: AwsClients, tmp_path: Path) -> None:
    """Before the erasure removes them, every month with usage rows (40 days ago's too) and the
    previous and current months are exported as billing events, all final."""
    tenant = pooled_tenant_with_everything(world, clients)
    now = datetime.now(UTC)
    months = {f"{moment:%Y-%m}" for moment in (now, now - timedelta(days=40),
                                               now.replace(day=1) - timedelta(days=1))}
    request(clients, tenant)
    offboarder_for(clients, world, tmp_path).run(tenant.tenant_id)

    usage = exported(tmp_path)["usage"]
    assert usage["format"] == "serverless-saas-billing-export/1"
    events = usage["events"]
    assert {event["month"] for event in events} == months
    assert all(event["final"] and event["tenantId"] == tenant.tenant_id for event in events)
    requests = {(event["month"], event["meter"]): event["quantity"] for event in events}
    assert requests[f"{now:%Y-%m}", "requests"] == "2"  # the 429 is counted apart
    assert requests[f"{now:%Y-%m}", "throttled_requests"] == "1"
    assert requests[f"{now - timedelta(days=40):%Y-%m}", "dynamodb_read_units"] == "2"
    assert len({event["idempotencyKey"] for event in events}) == len(events)
    assert usage_rows(clients, tenant.tenant_id) == 0


def test_a_failed_deletion_of_usage_rows_is_finished_by_the_next_run(
        world: World, emulator_url: str, tmp_path: Path) -> None:
    """The usage table's BatchWriteItem fails once, after it took effect (its answer lost):
    the step is run again from its start, and ends with no row left."""
    clean = clients_for(emulator_url)
    tenant = pooled_tenant_with_everything(world, clean)
    request(clean, tenant)
    faulty = clients_for(emulator_url)
    calls: list[bool] = []  # per BatchWriteItem: whether it deletes usage rows

    def note(params: dict[str, Any], **_: Any) -> None:
        calls.append(USAGE_TABLE.name in params.get("RequestItems", {}))

    def lose_the_first_usage_answer(**_: Any) -> None:
        if calls[-1] and calls.count(True) == 1:
            raise InjectedFaultError("the usage rows' deletion: answer lost")

    faulty.dynamodb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", note)
    faulty.dynamodb.meta.events.register("after-call.dynamodb.BatchWriteItem",
                                         lose_the_first_usage_answer)
    with pytest.raises(OffboardingStepError):
        offboarder_for(faulty, world, tmp_path).run(tenant.tenant_id)
    assert calls.count(True) == 1
    assert usage_rows(clean, tenant.tenant_id) == 0  # it took effect: the rerun finds none
    done = offboarder_for(clean, world, tmp_path).run(tenant.tenant_id)
    assert done.step is OffboardingStep.DONE
    assert done.remaining["usage rows"] == usage_rows(clean, tenant.tenant_id) == 0
    assert len(exported(tmp_path)["usage"]["events"]) > 0


def test_a_platinum_tenant_after_a_move_loses_its_deployment_and_pool(
        world: World, clients: AwsClients, bystander: Tenant, tmp_path: Path) -> None:
    platinum = world.platinum_tenant()  # its own pool
    tenant_id = platinum.tenant_id
    world.tenant_user(platinum, Role.TENANT_ADMIN)
    moves, mover = mover_for(clients, world)
    # Into the pool and back up: its pool stays its own, gates were left in the pooled tables.
    deploy_silo(clients, tenant_id)
    put_items(clients, tenant_id, tenant_id, 3)
    found = moves.record(tenant_id)
    assert found is not None
    moves.request(found[0], Tier.BASIC, "admin")
    run_move(moves, mover, clients, tenant_id)
    found = moves.record(tenant_id)
    assert found is not None
    moves.request(found[0], Tier.PLATINUM, "admin")
    run_move(moves, mover, clients, tenant_id)
    offboarder = offboarder_for(clients, world, tmp_path)

    request(clients, platinum)
    done = offboarder.run(tenant_id)

    assert not any(done.remaining.values()), done.remaining
    assert done.erased["userPools"] == 1
    assert done.erased["tables"] == len(TENANT_SERVICES)
    assert len(exported(tmp_path)["items"]["product"]) == 3


def test_the_grace_period_can_be_undone_and_only_then(world: World, clients: AwsClients,
                                                      tmp_path: Path) -> None:
    tenant = pooled_tenant_with_everything(world, clients)
    offboardings = TenantOffboardings(clients.dynamodb, TENANT_DETAILS_TABLE.name)
    request(clients, tenant, grace=3600)
    offboarder = offboarder_for(clients, world, tmp_path)
    waiting = offboarder.advance(tenant.tenant_id)
    assert waiting.offboarding.step is OffboardingStep.GRACE
    assert 3500 < waiting.wait <= 3600
    current = offboardings.get(tenant.tenant_id)
    assert current is not None
    cancelled = offboardings.cancel(tenant.tenant_id, current, "admin")
    assert cancelled.step is OffboardingStep.CANCELLED
    assert offboarder.advance(tenant.tenant_id).done  # nothing more happens
    assert offboarder.remains(tenant.tenant_id)["tenant record"] == 1

    request(clients, tenant, grace=0)  # asked again, and this time the grace runs out
    after_grace = offboardings.get(tenant.tenant_id)
    assert after_grace is not None
    with pytest.raises(OffboardingConflict):
        offboardings.cancel(tenant.tenant_id, after_grace, "admin")


def test_an_offboarding_failing_at_any_step_ends_the_same_when_run_again(
        world: World, emulator_url: str, bystander: Tenant, tmp_path: Path) -> None:
    clean = clients_for(emulator_url)
    # A clean run, counting each step's calls.
    tenant = pooled_tenant_with_everything(world, clean)
    request(clean, tenant)
    counted = FaultyCalls()
    faulty = clients_for(emulator_url)
    counted.install(faulty)
    offboarder = offboarder_for(faulty, world, tmp_path / "clean")
    offboardings = TenantOffboardings(clean.dynamodb, TENANT_DETAILS_TABLE.name)
    while True:
        current = offboardings.get(tenant.tenant_id)
        assert current is not None
        counted.step = current.step
        if offboarder.advance(tenant.tenant_id).done:
            break
    points = fault_points(counted.calls)
    assert {step for step, _, _ in points} >= {"grace", "exporting", "erasing", "verifying"}

    for step, call, after in points:
        tenant = pooled_tenant_with_everything(world, clean)
        request(clean, tenant)
        faults = FaultyCalls()
        faults.fail_at, faults.after = call, after
        faulty = clients_for(emulator_url)
        faults.install(faulty)
        broken = offboarder_for(faulty, world, tmp_path / step / str(after))

        def advance_until_it_fails(broken: TenantOffboarder = broken,
                                   faults: FaultyCalls = faults, tenant: Tenant = tenant
                                   ) -> None:
            for _ in range(20):
                current = offboardings.get(tenant.tenant_id)
                assert current is not None
                faults.step = current.step
                if broken.advance(tenant.tenant_id).done:
                    return

        with pytest.raises((OffboardingStepError, InjectedFaultError)):
            advance_until_it_fails()
        done = offboarder_for(clean, world, tmp_path / step / str(after)).run(tenant.tenant_id)
        assert done.step is OffboardingStep.DONE, (step, call, after)
        assert not any(done.remaining.values()), (step, call, after, done.remaining)
        document = exported(tmp_path / step / str(after))
        assert len(document["items"]["product"]) == 4, (step, call, after)


def test_exports_to_a_bucket_are_handed_over_as_an_expiring_link(clients: AwsClients) -> None:
    clients.s3.create_bucket(Bucket="platform-exports")
    exports = S3Exports(clients.s3, "platform-exports", link_seconds=600)
    handle = exports.put("t" * 32, "o" * 32, b'{"format": 1}')
    assert handle.location == f"s3://platform-exports/exports/{'t' * 32}/{'o' * 32}.json"
    fetched = requests.get(handle.link, timeout=30)  # what the tenant is handed
    assert (fetched.status_code, fetched.content) == (200, b'{"format": 1}')
    assert "Expires" in handle.link  # X-Amz-Expires (SigV4) or Expires (SigV2)
    assert exports.read(handle.location) == b'{"format": 1}'
    assert handle.expires_at


def test_usage_a_meter_flushes_after_the_erasure_is_removed_by_the_verification(
        world: World, clients: AwsClients, tmp_path: Path) -> None:
    """A process's last flush of requests recorded before the deactivation, landing between
    the erasure and the verification: removed and counted, never found for ever."""
    tenant = pooled_tenant_with_everything(world, clients)
    request(clients, tenant)
    offboarder = offboarder_for(clients, world, tmp_path)
    while (advanced := offboarder.advance(tenant.tenant_id)).offboarding.step is not \
            OffboardingStep.VERIFYING:
        assert not advanced.done
    assert usage_rows(clients, tenant.tenant_id) == 0
    late = UsageMeter(clients.dynamodb, USAGE_TABLE.name)
    late.record(tenant.tenant_id, "GET /products", 200, 1)
    assert late.flush().ok

    done = offboarder.run(tenant.tenant_id)

    assert done.step is OffboardingStep.DONE
    assert done.erased["lateUsageRows"] == 2  # its hour and its day
    assert done.remaining["usage rows"] == usage_rows(clients, tenant.tenant_id) == 0


def test_usage_rows_dynamodb_leaves_unprocessed_are_sent_again_after_a_delay(
        world: World, emulator_url: str) -> None:
    """The first BatchWriteItem's answer says one of its deletions was left unprocessed (as
    DynamoDB does under load): it is sent again after the first delay, and every row goes."""
    clients = clients_for(emulator_url)
    tenant = world.pooled_tenant()
    record_usage(clients, tenant.tenant_id)
    answers: list[int] = []

    def leave_one_unprocessed(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "BatchWriteItem":
            answers.append(1)
            if len(answers) == 1:
                key = {"tenantId": tenant.tenant_id, "period": "D#2000-01-01"}
                parsed["UnprocessedItems"] = {USAGE_TABLE.name: [
                    {"DeleteRequest": {"Key": to_item(key)}}]}

    clients.dynamodb.meta.events.register("after-call.dynamodb.BatchWriteItem",
                                          leave_one_unprocessed)
    slept: list[float] = []
    removed = UsageRecords(clients.dynamodb, USAGE_TABLE.name, sleep=slept.append
                           ).remove_tenant(tenant.tenant_id)
    assert (removed, len(answers), slept) == (4, 2, [0.05])
    assert usage_rows(clients, tenant.tenant_id) == 0
