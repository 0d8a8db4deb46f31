"""After a restart the emulator has replayed every tenant key's creation but none of the calls
that named a key's id (its link to a plan, a disable, a delete): the bootstrap puts the keys
back as the tenant records say, and a second start finds nothing to change. Checked on a
separate emulator process, stopped and replayed from its recording as ``make local`` does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pipeline.local_cloud.emulator import start_emulator
from pipeline.local_cloud.processes import free_port
from pipeline.local_cloud.provisioning.baseline_bootstrap import LocalUrls, bootstrap
from pipeline.local_cloud.provisioning.tenant_key_restore import restore_tenant_keys
from tenant_context.attribute_values import to_item
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_records import TenantRecord
from tenant_context.tenancy import Tier, new_tenant_id
from tests.support.moto_server import clients_for

URLS = LocalUrls("http://127.0.0.1:1/admin", "http://127.0.0.1:1/pooled")


Start = Callable[[], tuple[AwsClients, dict[str, str], int, ExitStack]]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Starts the emulator on the same recording (replaying it) and bootstraps; each start
    stops with its own ExitStack, and every one stops when the test ends."""
    with ExitStack() as every:
        def started() -> tuple[AwsClients, dict[str, str], int, ExitStack]:
            emulator = start_emulator(free_port(), tmp_path / "recording.jsonl",
                                      tmp_path / "emulator.log")
            this = every.enter_context(ExitStack())
            this.callback(emulator.stop)
            clients = clients_for(emulator.url)
            result = bootstrap(clients, URLS, CredentialsFile(tmp_path / "credentials.json"),
                               "a@b.example")
            return clients, dict(result.settings.usage_plan_ids), result.keys_restored, this

        yield started


def put_record(clients: AwsClients, tenant_id: str, tier: Tier, key: str, active: bool) -> None:
    record = TenantRecord(tenant_id, f"t-{tenant_id[:6]}", tier, active, "pool", "client", key)
    clients.dynamodb.put_item(TableName=TENANT_DETAILS_TABLE.name, Item=to_item(record.to_item()))


def plan_of(clients: AwsClients, plan_ids: dict[str, str], value: str) -> list[str]:
    return [name for name, plan_id in plan_ids.items()
            for key in clients.apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]
            if key["value"] == value]


def test_keys_come_back_as_the_records_say(start: Start) -> None:
    clients, plan_ids, restored, first_run = start()
    assert restored == 0
    keys = TenantApiKeys(clients.apigateway, lambda: plan_ids)
    active, inactive, moved, gone = (new_tenant_id() for _ in range(4))
    active_key = keys.issue(active, Tier.BASIC.value)
    put_record(clients, active, Tier.BASIC, active_key.value, True)
    inactive_key = keys.issue(inactive, Tier.PLATINUM.value)
    put_record(clients, inactive, Tier.PLATINUM, inactive_key.value, False)
    keys.set_enabled(inactive, False)
    first = keys.issue(moved, Tier.BASIC.value)
    second = keys.move(moved, first.value, Tier.PREMIUM.value)
    put_record(clients, moved, Tier.PREMIUM, second.value, True)
    keys.issue(gone, Tier.STANDARD.value)  # its registration was undone: no record
    first_run.close()

    clients, plan_ids, restored, _ = start()  # replayed from the recording
    # 3 links and 1 disable lost on replay; 2 keys no record names (the one a tier move kept
    # for the authorizer caches, which a restart emptied; the undone registration's)
    assert restored == 6
    keys = TenantApiKeys(clients.apigateway, lambda: plan_ids)
    assert plan_of(clients, plan_ids, active_key.value) == [Tier.BASIC.value]
    assert plan_of(clients, plan_ids, inactive_key.value) == [Tier.PLATINUM.value]
    assert [key.enabled for key in keys.keys_of(inactive)] == [False]
    assert [key.value for key in keys.keys_of(moved)] == [second.value]
    assert plan_of(clients, plan_ids, second.value) == [Tier.PREMIUM.value]
    assert keys.keys_of(gone) == []
    assert [key.enabled for key in keys.keys_of(active)] == [True]
    assert restore_tenant_keys(clients.apigateway, clients.dynamodb, plan_ids) == 0
