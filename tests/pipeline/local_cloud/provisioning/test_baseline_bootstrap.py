"""``make local`` may be run any number of times: the bootstrap fills in what is missing and
nothing else. Checked against a fresh emulator of its own (a separate moto server process, as
``make local`` starts it, since in-process moto servers share one state) by counting every kind
of resource the baseline creates after a first and a second run, and by reading the emulator's
own recording: the second run must not have asked for a single change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.local_cloud.emulator import Emulator, _changes_state, start_emulator
from pipeline.local_cloud.platform_runner import alive
from pipeline.local_cloud.processes import free_port
from pipeline.local_cloud.provisioning.baseline_bootstrap import (
    BaselineResult,
    LocalUrls,
    bootstrap,
)
from tenant_context.attribute_values import from_item
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.definitions import (
    OPERATIONS_PLAN_NAME,
    SETTINGS_TABLE,
    TENANT_STACK_MAPPING_TABLE,
    USAGE_PLANS,
)
from tenant_context.platform.invitations import CredentialsFile
from tests.support.moto_server import clients_for

URLS = LocalUrls("http://127.0.0.1:1/admin", "http://127.0.0.1:1/pooled")


@pytest.fixture
def fresh_emulator(tmp_path: Path) -> Iterator[Emulator]:
    emulator = start_emulator(free_port(), tmp_path / "recording.jsonl",
                              tmp_path / "emulator.log")
    try:
        yield emulator
    finally:
        emulator.stop()
        assert not alive(emulator.process.pid)


def inventory(clients: AwsClients) -> dict[str, Any]:
    """Every resource the baseline makes, counted (and the settings and mapping rows whole)."""
    cognito, apigateway, dynamodb = clients.cognito, clients.apigateway, clients.dynamodb
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    usage_plans = apigateway.get_usage_plans(limit=500)["items"]

    def scan(table: str) -> list[dict[str, Any]]:
        items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
        return sorted((from_item(item) for item in items), key=lambda item: json.dumps(
            item, sort_keys=True, default=str))

    return {
        "user pools": sorted(pool["Name"] for pool in pools),
        "app clients": sorted(
            (pool["Name"], client["ClientName"]) for pool in pools
            for client in cognito.list_user_pool_clients(
                UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]),
        "users": sorted((pool["Name"], user["Username"]) for pool in pools
                        for user in cognito.list_users(UserPoolId=pool["Id"])["Users"]),
        "api keys": sorted(key["name"] for key in
                           apigateway.get_api_keys(limit=500)["items"]),
        "usage plans": sorted(plan["name"] for plan in usage_plans),
        "usage plan keys": sorted(
            (plan["name"], key["name"]) for plan in usage_plans
            for key in apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]),
        "tables": sorted(dynamodb.list_tables()["TableNames"]),
        "roles": sorted(role["RoleName"] for role in clients.iam.list_roles()["Roles"]),
        "stacks": sorted(stack["StackName"] for stack in
                         clients.cloudformation.describe_stacks()["Stacks"]),
        "settings": scan(SETTINGS_TABLE.name),
        "deployments": scan(TENANT_STACK_MAPPING_TABLE.name),
    }


def changes_recorded(recording: Path) -> list[str]:
    return [line for line in recording.read_text().splitlines()
            if _changes_state(json.loads(line))]


@dataclass(frozen=True)
class FirstRun:
    clients: AwsClients
    result: BaselineResult
    inventory: dict[str, Any]
    changes: int  # state-changing requests in the recording


def first_bootstrap(emulator: Emulator, state: Path) -> FirstRun:
    clients = clients_for(emulator.url)
    result = bootstrap(clients, URLS, CredentialsFile(state / "credentials.json"),
                       "admin@example.com")
    after_first = inventory(clients)
    assert len(after_first["user pools"]) == 2
    assert len(after_first["app clients"]) == 2
    assert len(after_first["users"]) == 1  # the SystemAdmin, in the operations pool
    # One plan per tier and the staff's; one shared key, the staff's: tenants get their own.
    assert len(after_first["usage plans"]) == len(USAGE_PLANS)
    assert after_first["api keys"] == [f"{OPERATIONS_PLAN_NAME}-key"]
    assert after_first["usage plan keys"] == [(OPERATIONS_PLAN_NAME, f"{OPERATIONS_PLAN_NAME}-key")]
    assert after_first["settings"]
    assert len(after_first["deployments"]) == 1  # the seeded pooled row
    changes = len(changes_recorded(state / "recording.jsonl"))
    assert changes  # the first run did create things, and the recording saw them
    return FirstRun(clients, result, after_first, changes)


def test_a_second_bootstrap_changes_nothing(fresh_emulator: Emulator, tmp_path: Path) -> None:
    first = first_bootstrap(fresh_emulator, tmp_path)
    second = bootstrap(first.clients, URLS, CredentialsFile(tmp_path / "credentials.json"),
                       "admin@example.com")
    assert inventory(first.clients) == first.inventory
    # The same pools, app clients, API key values and admin password (none was reset).
    assert second == first.result
    assert second.admin_password


def test_a_second_bootstrap_records_no_change(fresh_emulator: Emulator, tmp_path: Path) -> None:
    """The bootstrap's promise: against a replayed emulator it records nothing, so the
    recording (and the start-up replay) does not grow with every ``make local``."""
    first = first_bootstrap(fresh_emulator, tmp_path)
    bootstrap(first.clients, URLS, CredentialsFile(tmp_path / "credentials.json"),
              "admin@example.com")
    assert changes_recorded(tmp_path / "recording.jsonl")[first.changes:] == []
