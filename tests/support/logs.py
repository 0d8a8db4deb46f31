"""What a service logs and measures during a test: its Powertools log lines and EMF records."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def service_log(service: str) -> Iterator[io.StringIO]:
    """What a service's Powertools logger writes, whichever stream it was created with."""
    (handler,) = [handler for handler in logging.getLogger(service).handlers
                  if isinstance(handler, logging.StreamHandler)]
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        yield captured
    finally:
        handler.setStream(previous)


def json_lines(output: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of ``output`` (log lines, EMF metric records)."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def metric_records(output: str, name: str) -> list[dict[str, Any]]:
    """The EMF records of one metric, each with its dimension names under ``"dimensions"`` and
    its value (EMF writes a list of values) under ``"value"``."""
    records = []
    for record in json_lines(output):
        if name in record and "_aws" in record:
            dimensions = record["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            raw = record[name]
            value = sum(raw) if isinstance(raw, list) else raw
            records.append({**record, "dimensions": tuple(sorted(dimensions)), "value": value})
    return records
