"""The emulator's recording stays proportional to the live state, not to the traffic: reads
are never written, an item's writes collapse to the item as it is, and a deleted item leaves
nothing behind once compacted (offboarding's erasure relies on this), at start or while
running; and no state is lost on the way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from pipeline.local_cloud import processes
from pipeline.local_cloud.emulator import Emulator, start_emulator
from pipeline.local_cloud.emulator_server import decoded_body
from pipeline.local_cloud.processes import free_port
from tests.support.moto_server import clients_for

SECRET = "erase-me-4711"  # in the deleted items only


def make_table(url: str) -> None:
    clients_for(url).dynamodb.create_table(
        TableName="things", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])


def recorded(recording: Path) -> str:
    """The recording's requests, bodies decoded."""
    return "\n".join(str(decoded_body(json.loads(line)))
                     for line in recording.read_text().splitlines())


def items(url: str) -> dict[str, dict[str, Any]]:
    scanned = clients_for(url).dynamodb.scan(TableName="things", ConsistentRead=True)
    return {item["id"]["S"]: item for item in scanned["Items"]}


def test_reads_are_not_recorded(emulator: Emulator, recording: Path) -> None:
    make_table(emulator.url)
    dynamodb = clients_for(emulator.url).dynamodb
    dynamodb.put_item(TableName="things", Item={"id": {"S": "kept"}})
    size = recording.stat().st_size
    for _ in range(20):
        dynamodb.get_item(TableName="things", Key={"id": {"S": "kept"}})
        dynamodb.scan(TableName="things")
        dynamodb.describe_table(TableName="things")
    assert recording.stat().st_size == size


def test_deleted_items_leave_nothing_behind_after_a_restart(
        tmp_path: Path, emulator: Emulator, recording: Path) -> None:
    make_table(emulator.url)
    dynamodb = clients_for(emulator.url).dynamodb
    for number in range(5):
        dynamodb.put_item(TableName="things", Item={"id": {"S": f"gone-{number}"},
                                                    "note": {"S": SECRET}})
        dynamodb.delete_item(TableName="things", Key={"id": {"S": f"gone-{number}"}})
    # Another access key (as STS vends them): the same account, each item still once.
    other_key = boto3.client("dynamodb", endpoint_url=emulator.url, region_name="us-east-1",
                             aws_access_key_id="ASIAOTHERKEY", aws_secret_access_key="local")
    other_key.put_item(TableName="things", Item={"id": {"S": "kept"}, "count": {"N": "0"}})
    for _ in range(10):  # ten writes, one item
        dynamodb.update_item(TableName="things", Key={"id": {"S": "kept"}},
                             UpdateExpression="ADD #c :one",
                             ExpressionAttributeNames={"#c": "count"},
                             ExpressionAttributeValues={":one": {"N": "1"}})
    assert SECRET in recorded(recording)
    emulator.stop()

    again = start_emulator(free_port(), recording, tmp_path / "emulator.log")
    try:
        assert items(again.url) == {"kept": {"id": {"S": "kept"}, "count": {"N": "10"}}}
    finally:
        again.stop()
    assert SECRET not in recorded(recording)
    assert len(recording.read_text().splitlines()) == 2  # the table and its one item


def test_the_recording_is_compacted_while_running_without_losing_writes(
        tmp_path: Path, recording: Path) -> None:
    """A small floor, so a few writes trigger compaction under concurrent traffic."""
    port = free_port()
    server = Path(__file__).parents[3] / "pipeline" / "local_cloud" / "emulator_server.py"
    env_script = (f"import os, runpy, sys\n"
                  f"os.environ['MOTO_RECORDER_FILEPATH'] = {str(recording)!r}\n"
                  f"sys.argv = [{str(server)!r}, '-p', '{port}', '--compact-floor', '4096']\n"
                  f"runpy.run_path({str(server)!r}, run_name='__main__')\n")
    # A process group of its own: Emulator.stop ends the group (none is left behind).
    process = subprocess.Popen([sys.executable, "-c", env_script], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    emulator = Emulator(f"http://127.0.0.1:{port}", process)
    try:
        processes.wait_for_http(f"{emulator.url}/moto-api/", process)
        emulator.post("/moto-api/recorder/start-recording")
        make_table(emulator.url)
        dynamodb = clients_for(emulator.url).dynamodb
        for number in range(60):
            dynamodb.put_item(TableName="things", Item={"id": {"S": f"item-{number % 3}"},
                                                        "n": {"N": str(number)}})
            dynamodb.put_item(TableName="things", Item={"id": {"S": "gone"},
                                                        "note": {"S": SECRET}})
            dynamodb.delete_item(TableName="things", Key={"id": {"S": "gone"}})
        live = items(emulator.url)
        assert recording.stat().st_size < 16 * 1024  # 180 writes of ~1.5 KB each, compacted
    finally:
        emulator.stop()
        assert process.poll() is not None
    again = start_emulator(free_port(), recording, tmp_path / "emulator.log")
    try:
        assert items(again.url) == live == {
            f"item-{index}": {"id": {"S": f"item-{index}"}, "n": {"N": str(57 + index)}}
            for index in range(3)}
    finally:
        again.stop()
    assert SECRET not in recorded(recording)
