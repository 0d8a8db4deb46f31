"""Compaction drops the requests about resources the emulator no longer holds (pools, users,
groups, API keys, tables, stacks), so that an erased tenant leaves nothing of its data in the
recording (offboarding's proof, #17), and keeps everything else in order: a replay of the
compacted recording ends where the emulator was. Run against the emulator as ``make local``
starts it (its own process, compacting on demand through ``compact_now``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.local_cloud.emulator import Emulator, start_emulator
from pipeline.local_cloud.processes import free_port
from pipeline.local_cloud.recording_compaction import (
    compact_now,
    pool_id_of,
    recording_mentions,
)
from tenant_context.platform.aws_clients import AwsClients
from tests.support.moto_server import clients_for

GONE_VALUE = "gone0key0value0000000000000000000000000"
KEPT_VALUE = "kept0key0value0000000000000000000000000"
GONE = ("pool-of-gone-tenant", "alice-gone@example.com", "carol-gone@example.com",
        "group-of-gone-tenant", "key-of-gone-tenant", GONE_VALUE, "table-of-gone-tenant",
        "stack-of-gone-tenant", "silo-table-of-gone-tenant", "secret-of-gone-tenant")
KEPT = ("pool-kept", "bob-kept@example.com", "dave-again@example.com", "group-kept",
        "key-kept", KEPT_VALUE, "table-kept", "stack-kept", "silo-table-kept",
        "stack-retained", "retained-table")


def table_request(name: str) -> dict[str, Any]:
    return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}


def stack_template(table: str) -> str:
    properties = table_request(table)
    return json.dumps({"Resources": {"Table": {
        "Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": properties}}})


def user(cognito: Any, pool: str, name: str, email: str, group: str | None = None) -> None:
    cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=name, Password="Passw0rd!x",
                                    Permanent=True)
    if group:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName=group)


def build(clients: AwsClients) -> None:
    """A platform's worth of resources; then a tenant's erased as offboarding erases it."""
    cognito, dynamodb = clients.cognito, clients.dynamodb
    apigateway, cloudformation = clients.apigateway, clients.cloudformation
    kept_pool = cognito.create_user_pool(PoolName="pool-kept")["UserPool"]["Id"]
    gone_pool = cognito.create_user_pool(PoolName="pool-of-gone-tenant")["UserPool"]["Id"]
    for pool in (kept_pool, gone_pool):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="app")
    cognito.create_group(UserPoolId=kept_pool, GroupName="group-kept")
    cognito.create_group(UserPoolId=kept_pool, GroupName="group-of-gone-tenant")
    user(cognito, kept_pool, "bob", "bob-kept@example.com", "group-kept")
    user(cognito, kept_pool, "alice", "alice-gone@example.com", "group-of-gone-tenant")
    user(cognito, gone_pool, "carol", "carol-gone@example.com")
    user(cognito, kept_pool, "dave", "dave-first@example.com", "group-kept")
    cognito.admin_disable_user(UserPoolId=kept_pool, Username="bob")
    cognito.admin_update_user_attributes(
        UserPoolId=kept_pool, Username="alice",
        UserAttributes=[{"Name": "email", "Value": "alice-gone@example.com"}])

    kept_key = apigateway.create_api_key(name="key-kept", value=KEPT_VALUE, enabled=True)
    gone_key = apigateway.create_api_key(name="key-of-gone-tenant", value=GONE_VALUE,
                                         enabled=True)
    plan = apigateway.create_usage_plan(name="plan")["id"]
    for key in (kept_key, gone_key):
        apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key["id"], keyType="API_KEY")
        apigateway.update_api_key(apiKey=key["id"], patchOperations=[
            {"op": "replace", "path": "/enabled", "value": "false"}])

    for table in ("table-kept", "table-of-gone-tenant"):
        dynamodb.create_table(**table_request(table))
        dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        dynamodb.put_item(TableName=table, Item={"id": {"S": "x"},
                                                 "note": {"S": f"secret-of-{table}"}})
    dynamodb.put_item(TableName="table-of-gone-tenant",
                      Item={"id": {"S": "y"}, "note": {"S": "secret-of-gone-tenant"}})
    for stack, table in (("stack-kept", "silo-table-kept"),
                         ("stack-of-gone-tenant", "silo-table-of-gone-tenant"),
                         ("stack-retained", "retained-table")):
        cloudformation.create_stack(StackName=stack, TemplateBody=stack_template(table))
        dynamodb.put_item(TableName=table, Item={"id": {"S": "z"}})

    # The erasure: users, a group, a pool, a key, a table, a silo (tables first, then the
    # stack, as tenant_move.remove_own_deployment does); a stack gone whose table is kept;
    # a user deleted and created again under the same name.
    cognito.admin_delete_user(UserPoolId=kept_pool, Username="alice")
    cognito.delete_group(UserPoolId=kept_pool, GroupName="group-of-gone-tenant")
    cognito.delete_user_pool(UserPoolId=gone_pool)
    apigateway.delete_api_key(apiKey=gone_key["id"])
    dynamodb.delete_table(TableName="table-of-gone-tenant")
    dynamodb.delete_table(TableName="silo-table-of-gone-tenant")
    cloudformation.delete_stack(StackName="stack-of-gone-tenant")
    cloudformation.delete_stack(StackName="stack-retained")
    cognito.admin_delete_user(UserPoolId=kept_pool, Username="dave")
    user(cognito, kept_pool, "dave", "dave-again@example.com")


def live_state(clients: AwsClients) -> dict[str, Any]:
    """What a replay must reproduce (API keys by name and value: a replayed key has a new id,
    and the calls naming the old one are put back by the bootstrap, not by the replay)."""
    cognito, dynamodb = clients.cognito, clients.dynamodb
    pools = {}
    for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]:
        users = {}
        for listed in cognito.list_users(UserPoolId=pool["Id"])["Users"]:
            memberships = cognito.admin_list_groups_for_user(UserPoolId=pool["Id"],
                                                             Username=listed["Username"])
            users[listed["Username"]] = (
                sorted((a["Name"], a["Value"]) for a in listed["Attributes"]
                       if a["Name"] != "sub"),
                listed["Enabled"], sorted(g["GroupName"] for g in memberships["Groups"]))
        groups = cognito.list_groups(UserPoolId=pool["Id"])["Groups"]
        pools[(pool["Id"], pool["Name"])] = (users, sorted(g["GroupName"] for g in groups))
    tables = {name: (dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
                     sorted(json.dumps(item, sort_keys=True) for item in dynamodb.scan(
                         TableName=name, ConsistentRead=True)["Items"]))
              for name in dynamodb.list_tables()["TableNames"]}
    keys = sorted((key["name"], key["value"]) for key in clients.apigateway.get_api_keys(
        includeValues=True)["items"])
    stacks = sorted(stack["StackName"] for stack in
                    clients.cloudformation.describe_stacks()["Stacks"])
    return {"pools": pools, "tables": tables, "keys": keys, "stacks": stacks}


def test_an_erased_tenant_leaves_nothing_and_a_replay_ends_where_it_was(
        tmp_path: Path, emulator: Emulator, recording: Path) -> None:
    clients = clients_for(emulator.url)
    build(clients)
    before = recording_mentions(recording, GONE)
    assert all(before.values()), before  # recorded: the test could fail
    live = live_state(clients)

    compact_now(emulator.url)

    assert recording_mentions(recording, GONE) == dict.fromkeys(GONE, 0)
    kept = recording_mentions(recording, KEPT)
    assert all(kept.values()), kept
    assert recording_mentions(recording, ["dave-first@example.com"]) == {
        "dave-first@example.com": 1}  # a user created again keeps every request about it
    assert live_state(clients) == live  # compaction changed nothing live
    emulator.stop()

    again = start_emulator(free_port(), recording, tmp_path / "emulator.log")
    try:
        assert live_state(clients_for(again.url)) == live
    finally:
        again.stop()
    assert recording_mentions(recording, GONE) == dict.fromkeys(GONE, 0)


def test_start_compaction_drops_them_too(tmp_path: Path, emulator: Emulator,
                                         recording: Path) -> None:
    """Without compact_now: the next start's compaction (after its replay) drops them, but
    for a deleted API key, which the replay puts back (its delete named the id of before): the
    bootstrap deletes such a key (``tenant_key_restore``), and the next compaction drops it."""
    clients = clients_for(emulator.url)
    build(clients)
    live = live_state(clients)
    emulator.stop()
    again = start_emulator(free_port(), recording, tmp_path / "emulator.log")
    try:
        clients = clients_for(again.url)
        key_values = ("key-of-gone-tenant", GONE_VALUE)
        assert recording_mentions(recording, GONE) == dict.fromkeys(GONE, 0) | dict.fromkeys(
            key_values, 1)
        replayed = live_state(clients)
        assert replayed["keys"] == sorted([*live["keys"], key_values])
        assert replayed | {"keys": live["keys"]} == live
        resurrected = clients.apigateway.get_api_keys(nameQuery="key-of-gone-tenant")["items"]
        clients.apigateway.delete_api_key(apiKey=resurrected[0]["id"])
        compact_now(again.url)
        assert recording_mentions(recording, GONE) == dict.fromkeys(GONE, 0)
        assert live_state(clients) == live
    finally:
        again.stop()


def test_pool_ids_are_derived_as_the_emulator_derives_them(emulator: Emulator) -> None:
    request = {"PoolName": "derived", "Policies": {"PasswordPolicy": {"MinimumLength": 8}}}
    created = clients_for(emulator.url).cognito.create_user_pool(**request)  # type: ignore[arg-type]
    assert created["UserPool"]["Id"] == pool_id_of("us-east-1", request)


def test_mentions_are_counted_in_decoded_bodies(tmp_path: Path) -> None:
    recording = tmp_path / "recording.jsonl"
    body = json.dumps({"Username": "caf\u00e9", "Email": "x@example.com"}).encode()
    lines = [{"headers": {}, "method": "POST", "url": "http://h/",
              "body": base64.b64encode(body).decode(), "body_encoded": True},
             {"headers": {}, "method": "POST", "url": "http://h/",
              "body": "Action=CreateStack&StackName=stack%2Dx", "body_encoded": False}]
    recording.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"torn')
    assert recording_mentions(recording, ["x@example.com", "caf\u00e9", "stack-x", "nope"]) == {
        "x@example.com": 1, "caf\u00e9": 1, "stack-x": 1, "nope": 0}
    assert recording_mentions(tmp_path / "absent", ["x"]) == {"x": 0}


def test_compact_now_says_when_the_emulator_cannot(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="refused"):  # nothing listens (URLError)
        compact_now(f"http://127.0.0.1:{free_port()}")
