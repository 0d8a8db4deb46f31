"""Tenant-scoped table access: the only way services touch tenant data.

Pooled mode: every call uses a DynamoDB client built from the request's scoped STS credentials
(AWS enforces ``dynamodb:LeadingKeys`` on them) AND passes through ``TenantKeyGuard``, which
refuses, before any call, a partition key outside ``<tenantId>-``. The emulator enforces no IAM
condition, and on AWS the guard is a second wall should a policy ever be too wide.

Silo mode: the deployment's own role reaches only the tenant's own tables; the guard still
applies, so both modes share one code path and one key format.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from tenant_context.attribute_values import from_item, item_size, to_item
from tenant_context.config import Env, PlatformConfig
from tenant_context.errors import ConfigurationError, ForbiddenError, TenantIsolationError
from tenant_context.service.context import ScopedCredentials, TenantContext
from tenant_context.service.request_usage import RequestUsage, current_usage
from tenant_context.tenancy import tenant_key_prefix

if TYPE_CHECKING:
    from boto3.session import Session
    from types_boto3_dynamodb import DynamoDBClient

ClientFactory = Callable[[ScopedCredentials | None], "DynamoDBClient"]


class Isolation(StrEnum):
    POOLED = "pooled"
    SILO = "silo"


class ConditionFailed(Exception):  # noqa: N818 - an outcome the caller interprets
    """A conditional write did not apply; ``stored`` is the item as it is (None: absent)."""

    def __init__(self, stored: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.stored = stored


class TenantKeyGuard:
    def __init__(self, tenant_id: str) -> None:
        self._prefix = tenant_key_prefix(tenant_id)

    def check(self, partition_value: object) -> str:
        if (not isinstance(partition_value, str)
                or not partition_value.startswith(self._prefix)
                or len(partition_value) == len(self._prefix)):
            raise TenantIsolationError()
        return partition_value


class TenantTable:
    """One table, seen through one tenant's eyes."""

    def __init__(self, client: DynamoDBClient, table_name: str, partition_key: str,
                 guard: TenantKeyGuard, *, usage: RequestUsage | None = None,
                 kind: str | None = None) -> None:
        """``usage``: the request's, which every call then adds its consumed capacity to, and
        every write the change in stored items and bytes of ``kind`` (``product``)."""
        self._client = client
        self._table_name = table_name
        self._partition_key = partition_key
        self._guard = guard
        self._usage = usage
        self._kind = kind

    def _metered(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._usage is not None:
            request["ReturnConsumedCapacity"] = "TOTAL"
        return request

    def _consumed(self, response: Mapping[str, Any], *, write: bool) -> None:
        if self._usage is not None:
            self._usage.consumed(response, write=write)

    def _stored(self, response: Mapping[str, Any], written: Mapping[str, Any] | None) -> None:
        """The change a put (``written``) or a delete (None) made, from the old item
        DynamoDB returned (``ReturnValues ALL_OLD``)."""
        if self._usage is None or self._kind is None:
            return
        old = response.get("Attributes")
        items = (1 if written is not None else 0) - (1 if old else 0)
        size = (item_size(written) if written is not None else 0) - (item_size(old) if old else 0)
        self._usage.stored(self._kind, items, size)

    def _key(self, key: Mapping[str, Any]) -> dict[str, Any]:
        self._guard.check(key.get(self._partition_key))
        return to_item(key)

    def get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self._client.get_item(**self._metered(
            {"TableName": self._table_name, "Key": self._key(key), "ConsistentRead": True}))
        self._consumed(response, write=False)
        item = response.get("Item")
        return from_item(item) if item else None

    def put(self, item: Mapping[str, Any], *, condition: str | None = None,
            names: Mapping[str, str] | None = None,
            values: Mapping[str, Any] | None = None) -> None:
        """Raises ``ConditionFailed`` (with the stored item, if any) when ``condition`` fails."""
        self._guard.check(item.get(self._partition_key))
        written = to_item(item)
        request: dict[str, Any] = {"TableName": self._table_name, "Item": written}
        _add_expression(request, condition, names, values)
        self._stored(self._conditional(self._client.put_item, request), written)

    def delete(self, key: Mapping[str, Any], *, condition: str | None = None,
               names: Mapping[str, str] | None = None,
               values: Mapping[str, Any] | None = None) -> None:
        request: dict[str, Any] = {"TableName": self._table_name, "Key": self._key(key)}
        _add_expression(request, condition, names, values)
        self._stored(self._conditional(self._client.delete_item, request), None)

    def _conditional(self, call: Callable[..., Any], request: dict[str, Any]
                     ) -> Mapping[str, Any]:
        if "ConditionExpression" in request:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if self._usage is not None and self._kind is not None:
            request["ReturnValues"] = "ALL_OLD"  # the stored change, at no extra cost
        try:
            response: Mapping[str, Any] = call(**self._metered(request))
        except self._client.exceptions.ConditionalCheckFailedException as error:
            # ALL_OLD adds the stored item to the error, which the stubs' error shape lacks.
            stored = cast("dict[str, Any]", error.response).get("Item")
            raise ConditionFailed(from_item(stored) if stored else None) from None
        self._consumed(response, write=True)
        return response

    def get_many(self, keys: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The items that exist among ``keys`` (any order), in batches of 100."""
        checked = [self._key(key) for key in keys]  # every key guarded before any call
        found: list[dict[str, Any]] = []
        for start in range(0, len(checked), 100):
            pending: dict[str, Any] = {self._table_name: {"Keys": checked[start:start + 100],
                                                          "ConsistentRead": True}}
            while pending:
                response = self._client.batch_get_item(**self._metered(
                    {"RequestItems": pending}))
                self._consumed(response, write=False)
                found += [from_item(item)
                          for item in response.get("Responses", {}).get(self._table_name, [])]
                pending = response.get("UnprocessedKeys") or {}
        return found

    def query_page(self, partition_value: str, *, limit: int | None = None,
                   start_key: Mapping[str, Any] | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of one partition, and the key to continue from (None at the end)."""
        self._guard.check(partition_value)
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": self._partition_key},
            "ExpressionAttributeValues": to_item({":pk": partition_value}),
            "ConsistentRead": True,
        }
        if limit:
            request["Limit"] = limit
        if start_key:
            self._guard.check(start_key.get(self._partition_key))
            request["ExclusiveStartKey"] = to_item(start_key)
        response = self._client.query(**self._metered(request))
        self._consumed(response, write=False)
        last_key = response.get("LastEvaluatedKey")
        return ([from_item(item) for item in response.get("Items", [])],
                from_item(last_key) if last_key else None)

    def query(self, partition_value: str) -> Iterator[dict[str, Any]]:
        """Every item of one partition, following DynamoDB pagination to the end."""
        start_key: dict[str, Any] | None = None
        while True:
            items, start_key = self.query_page(partition_value, start_key=start_key)
            yield from items
            if start_key is None:
                return


def _add_expression(request: dict[str, Any], condition: str | None,
                    names: Mapping[str, str] | None, values: Mapping[str, Any] | None) -> None:
    if condition:
        request["ConditionExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = dict(names)
    if values:
        request["ExpressionAttributeValues"] = to_item(values)


class DynamoDBClients:
    """DynamoDB clients per set of scoped credentials, reused while the credentials live.

    The authorizer hands out one set of credentials per (tenant, role) for up to an hour, so a
    warm function builds a client once per tenant instead of once per request. One botocore
    session is shared, so its loaded service models are too.
    """

    def __init__(self, region: str, *, max_clients: int = 64,
                 session_factory: Callable[[], Session] | None = None) -> None:
        self._region = region
        self._max_clients = max_clients
        self._session_factory = session_factory
        self._session: Session | None = None
        self._clients: OrderedDict[str, DynamoDBClient] = OrderedDict()
        self._lock = threading.Lock()

    def _boto_session(self) -> Session:
        if self._session is None:
            if self._session_factory is None:
                import boto3  # deferred: keeps module import cheap on cold start

                self._session = boto3.session.Session()
            else:
                self._session = self._session_factory()
        return self._session

    def __call__(self, credentials: ScopedCredentials | None) -> DynamoDBClient:
        cache_key = credentials.access_key_id if credentials else ""
        with self._lock:
            client = self._clients.get(cache_key)
            if client is not None:
                self._clients.move_to_end(cache_key)
                return client
            kwargs: dict[str, Any] = {"region_name": self._region}
            if credentials:
                kwargs |= {"aws_access_key_id": credentials.access_key_id,
                           "aws_secret_access_key": credentials.secret_access_key,
                           "aws_session_token": credentials.session_token}
            client = self._boto_session().client("dynamodb", **kwargs)
            self._clients[cache_key] = client
            while len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
            return client


class TenantTables:
    """Builds a request's ``TenantTable`` the way this deployment isolates data.

    A silo deployment is bound to its tenant (``silo_tenant_id``) and refuses every other
    caller before any call: its role reaches the tenant's tables whatever the caller, so this
    is the wall behind the authorizer's deployment check. The answer is 403, not 404: it is the
    deployment that is wrong for the caller, and it reveals nothing about any item.
    """

    def __init__(self, isolation: Isolation, clients: ClientFactory,
                 silo_tenant_id: str | None = None) -> None:
        if isolation is Isolation.SILO and not silo_tenant_id:
            raise ConfigurationError("a silo deployment serves one tenant: name it "
                                     f"({Env.SILO_TENANT_ID})")
        self.isolation = isolation
        self._clients = clients
        self._silo_tenant_id = silo_tenant_id

    @classmethod
    def from_config(cls, config: PlatformConfig) -> TenantTables:
        """Pooled or silo, as the deployment's ``DATA_ISOLATION`` says; a silo also needs the
        tenant it serves (``SILO_TENANT_ID``)."""
        raw = config.require(Env.DATA_ISOLATION)
        try:
            isolation = Isolation(raw)
        except ValueError:
            raise ConfigurationError(f"{Env.DATA_ISOLATION} must be pooled or silo, not {raw!r}"
                                     ) from None
        silo_tenant_id = config.silo_tenant_id if isolation is Isolation.SILO else None
        return cls(isolation, DynamoDBClients(config.region), silo_tenant_id)

    def table(self, tenant: TenantContext, table_name: str, partition_key: str, *,
              kind: str | None = None) -> TenantTable:
        """The table as ``tenant`` may use it; within a metered request (``request_usage``)
        its calls add to the request's usage, and its writes to ``kind``'s stored items."""
        if self.isolation is Isolation.POOLED:
            if tenant.credentials is None:
                raise ConfigurationError("pooled data access needs scoped credentials from "
                                         "the authorizer, and the request carries none")
            client = self._clients(tenant.credentials)
        else:
            if tenant.tenant_id != self._silo_tenant_id:
                raise ForbiddenError("this deployment serves another tenant")
            client = self._clients(None)
        return TenantTable(client, table_name, partition_key, TenantKeyGuard(tenant.tenant_id),
                           usage=current_usage(), kind=kind)
