"""A table's DynamoDB stream as the emulator produces it (the tenant-details table's by
default), and Lambda's event filtering of its records: what the stream functions' tests read
(the records their functions would be given, and whether the stack's filters let them
through)."""

from __future__ import annotations

from typing import Any

import boto3

from tenant_context.platform.definitions import TENANT_DETAILS_TABLE


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering for the forms the filter uses: lists of exact values, maps."""
    if isinstance(pattern, list):
        return value in pattern
    return isinstance(value, dict) and all(
        key in value and matches(each, value[key]) for key, each in pattern.items())


class Stream:
    """A table's stream, read from where the last read stopped."""

    def __init__(self, table: str = TENANT_DETAILS_TABLE.name) -> None:
        self._streams = boto3.client("dynamodbstreams")
        arn = boto3.client("dynamodb").describe_table(
            TableName=table)["Table"]["LatestStreamArn"]
        shard = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")["ShardIterator"]

    def records(self) -> list[dict[str, Any]]:
        answer = self._streams.get_records(ShardIterator=self._iterator)
        self._iterator = answer["NextShardIterator"]
        return list(answer["Records"])
