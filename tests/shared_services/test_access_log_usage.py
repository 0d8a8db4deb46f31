"""The access-log-usage function's logic: a real CloudWatch Logs subscription payload (gzip,
base64) of API Gateway access log lines, metered into the session emulator's usage table; the
exact rows after the batch's one flush, and nothing for lines naming no tenant."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from pipeline.project import PROJECT_ROOT
from tenant_context.attribute_values import from_item, to_item
from tenant_context.platform.definitions import USAGE_TABLE
from tenant_context.service.usage_meter import UsageMeter
from tenant_context.tenancy import OPERATIONS_TENANT_ID
from tenant_context.usage_periods import EXPIRES_AT
from tests.support.world import World

if str(PROJECT_ROOT / "shared_services") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "shared_services"))

from chalicelib.control_plane.access_log_usage import Skipped, meter_batch

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# A year of its own in the shared emulator: no other test writes usage in 2041.
AT = datetime(2041, 5, 6, 22, 59, 58, tzinfo=UTC)
LATER = datetime(2041, 5, 6, 23, 0, 1, tzinfo=UTC)  # the next hour


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def line(tenant_id: str, method: str, route: str, status: str, at: datetime) -> dict[str, Any]:
    """One access log event as API Gateway writes it (the format of ``logging_template``:
    every value a string, ``-`` for what it does not have)."""
    message = {"requestId": uuid.uuid4().hex, "time": str(millis(at)), "tenantId": tenant_id,
               "tier": "basic" if tenant_id != "-" else "-", "userRole": "-",
               "apiKeyId": "-" if tenant_id == "-" else "k1", "method": method,
               "route": route, "path": route, "status": status, "error": "THROTTLED",
               "latencyMs": "3", "integrationLatencyMs": "-"}
    return {"id": uuid.uuid4().hex, "timestamp": millis(at) + 40,
            "message": json.dumps(message, separators=(",", ":"))}


def subscription_event(events: list[dict[str, Any]],
                       message_type: str = "DATA_MESSAGE") -> dict[str, Any]:
    """What CloudWatch Logs hands a Lambda subscriber."""
    payload = {"messageType": message_type, "owner": "123456789012",
               "logGroup": "/serverless-saas/stack-pooled/PooledProductRestAPI/access",
               "logStream": "abc", "subscriptionFilters": ["throttled"], "logEvents": events}
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


class CountingClient:
    """The real client, counting its writes (the batch is ONE flush: a write per row)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.client = client
        self.updates = 0

    def update_item(self, **request: Any) -> Any:
        self.updates += 1
        return self.client.update_item(**request)


def row(dynamodb: DynamoDBClient, tenant_id: str, period: str) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=USAGE_TABLE.name, ConsistentRead=True,
                             Key=to_item({"tenantId": tenant_id, "period": period})).get("Item")
    return from_item(item) if item else None


def numbers(item: dict[str, Any] | None) -> dict[str, int]:
    assert item is not None
    return {name: int(value) for name, value in item.items()
            if name not in {"tenantId", "period", EXPIRES_AT}}


def test_a_batch_of_429s_is_metered_per_tenant_route_and_hour_in_one_flush(
        world: World) -> None:
    dynamodb = world.clients.dynamodb
    first, second, nobody = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    events = [
        *(line(first, "GET", "/products", "429", AT) for _ in range(3)),
        line(first, "POST", "/product", "429", AT),
        line(first, "GET", "/products/{id}", "429", LATER),
        line(second, "GET", "/orders", "429", AT),
        line("-", "GET", "/products", "429", AT),  # the authorizer refused: no tenant
        line(OPERATIONS_TENANT_ID, "GET", "/tenants", "429", AT),  # the staff: not a tenant
        line(nobody, "GET", "/products", "200", AT),  # not a 429: never counted
        {"id": "odd", "timestamp": millis(AT), "message": "not json"},
    ]
    client = CountingClient(dynamodb)
    meter = UsageMeter(cast("DynamoDBClient", client), USAGE_TABLE.name)

    result = meter_batch(subscription_event(events), meter)

    assert result.recorded == 6
    assert result.skipped == {Skipped.NO_TENANT: 1, Skipped.STAFF: 1, Skipped.NOT_A_429: 2}
    assert (result.flush.writes, result.flush.failed) == (client.updates, 0)
    # Rows touched: first's two hours and one day, second's hour and day.
    assert client.updates == 5
    assert meter.pending_rows == 0
    assert numbers(row(dynamodb, first, "H#2041-05-06T22")) == {
        "req|GET /products|429": 3, "req|POST /product|429": 1, "throttled": 4}
    hour = row(dynamodb, first, "H#2041-05-06T23")
    assert numbers(hour) == {"req|GET /products/{id}|429": 1, "throttled": 1}
    assert hour is not None
    assert EXPIRES_AT in hour
    assert numbers(row(dynamodb, first, "D#2041-05-06")) == {
        "req|GET /products|429": 3, "req|POST /product|429": 1,
        "req|GET /products/{id}|429": 1, "throttled": 5}
    assert numbers(row(dynamodb, second, "D#2041-05-06")) == {
        "req|GET /orders|429": 1, "throttled": 1}
    for tenant_id in (nobody, OPERATIONS_TENANT_ID, "-"):
        assert row(dynamodb, tenant_id, "D#2041-05-06") is None, tenant_id
    assert "1 no tenant" in result.summary()
    assert "1 staff" in result.summary()


def test_a_control_message_records_nothing_and_writes_nothing(world: World) -> None:
    client = CountingClient(world.clients.dynamodb)
    meter = UsageMeter(cast("DynamoDBClient", client), USAGE_TABLE.name)
    tenant_id = uuid.uuid4().hex
    result = meter_batch(subscription_event([line(tenant_id, "GET", "/products", "429", AT)],
                                            "CONTROL_MESSAGE"), meter)
    assert (result.recorded, result.skipped, client.updates) == (0, {}, 0)
    assert row(world.clients.dynamodb, tenant_id, "D#2041-05-06") is None
