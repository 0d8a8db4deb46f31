"""The emulator's ledger of the DynamoDB capacity it reported, per tenant: what the tenants'
metered units are checked against (the whole platform's check is the usage e2e test)."""

from __future__ import annotations

import io
import json
from typing import Any

from pipeline.local_cloud.capacity_ledger import CAPACITY_PATH, CapacityLedger, tenant_of

A, B = "a" * 32, "b" * 32


def test_a_request_is_a_tenants_when_its_data_keys_name_that_tenant_only() -> None:
    assert tenant_of({"Key": {"shardId": {"S": f"{A}-1"}, "productId": {"S": "x"}}}) == A
    assert tenant_of({"Item": {"shardId": {"S": f"{A}-gate"}}}) == A
    assert tenant_of({"ExpressionAttributeValues": {":pk": {"S": f"{B}-0"}}}) == B
    assert tenant_of({"RequestItems": {"t": {"Keys": [{"shardId": {"S": f"{A}-0"}},
                                                      {"shardId": {"S": f"{A}-1"}}]}}}) == A
    assert tenant_of({"RequestItems": {"t": {"Keys": [{"shardId": {"S": f"{A}-0"}},
                                                      {"shardId": {"S": f"{B}-1"}}]}}}) is None
    assert tenant_of({"Key": {"tenantId": {"S": A}}}) is None  # the control plane's, not data
    assert tenant_of({"Key": {"tenantId": {"S": A}, "period": {"S": "D#2026-12-01"}}}) is None


def serve(ledger: CapacityLedger, target: str, request: dict[str, Any],
          answer: dict[str, Any]) -> bytes:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert json.loads(environ["wsgi.input"].read()) == request  # the body still readable
        start_response("200 OK", [])
        return [json.dumps(answer).encode()]

    # As the platform's calls ask: a response carries capacity only when asked for.
    request = {**request, "ReturnConsumedCapacity": "TOTAL"}
    body = json.dumps(request).encode()
    environ = {"PATH_INFO": "/", "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{target}",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    return b"".join(ledger.wrap(app)(environ, lambda *_: None))


def test_reported_units_are_entered_per_tenant_as_reads_and_writes() -> None:
    ledger = CapacityLedger()
    key = {"Key": {"shardId": {"S": f"{A}-0"}}}
    assert json.loads(serve(ledger, "GetItem", key, {"ConsumedCapacity": {
        "TableName": "t", "CapacityUnits": 0.5}})) == {"ConsumedCapacity": {
            "TableName": "t", "CapacityUnits": 0.5}}
    serve(ledger, "PutItem", {"Item": {"shardId": {"S": f"{A}-1"}}},
          {"ConsumedCapacity": {"CapacityUnits": 1.0}})
    serve(ledger, "BatchGetItem", {"RequestItems": {"t": {"Keys": [
        {"shardId": {"S": f"{B}-0"}}, {"shardId": {"S": f"{B}-1"}}]}}},
          {"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 2}]})
    serve(ledger, "GetItem", key, {"Item": {}})  # not asked for: nothing reported
    serve(ledger, "UpdateItem", {"Key": {"tenantId": {"S": A}}},
          {"ConsumedCapacity": {"CapacityUnits": 1.0}})  # not a data key
    assert ledger.totals() == {A: {"read": 0.5, "write": 1.0}, B: {"read": 2.0, "write": 0.0}}
    answered = ledger.wrap(lambda environ, start: [b"unused"])(
        {"PATH_INFO": CAPACITY_PATH}, lambda *_: None)
    assert json.loads(b"".join(answered)) == ledger.totals()
