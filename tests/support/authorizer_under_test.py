"""The authorizer built exactly as in production (``build_authorizer``), with collaborators the
tests can observe: a counted STS client (and the parameters of every AssumeRole it sends),
every AWS operation of its own clients in order, counted JWKS fetches and a clock they move."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from chalicelib.tenant_authorizer.authorizer import TenantAuthorizer
from chalicelib.tenant_authorizer.factory import build_authorizer
from pipeline.local_cloud.api_gateway.builtin_authorizer import authorizer_environment
from tenant_context.config import PlatformConfig
from tests.support.clock import FakeClock
from tests.support.counting import CallCounter, CountingKeyClients, OperationLog

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


@dataclass
class AuthorizerUnderTest:
    authorizer: TenantAuthorizer
    assume_role: CallCounter
    keys: CountingKeyClients
    clock: FakeClock  # drives the record caches
    wall_clock: FakeClock  # drives credential expiry
    config: PlatformConfig
    dynamodb: DynamoDBClient  # the authorizer's own (count its calls with CallCounter)
    # The API parameters of every AssumeRole, as the authorizer handed them to botocore: the
    # emulator enforces no session policy, so the policy SENT is what the tests must check.
    assumed: list[dict[str, Any]] = field(default_factory=list)
    aws_calls: OperationLog = field(default_factory=OperationLog)  # its DynamoDB and STS calls


def build(**key_options: float) -> AuthorizerUnderTest:
    config = PlatformConfig.from_environ(authorizer_environment())
    sts = boto3.client("sts")
    dynamodb = boto3.client("dynamodb")
    assume_role = CallCounter(sts, "sts", "AssumeRole")
    keys = CountingKeyClients()
    clock = FakeClock(1_000.0)
    wall_clock = FakeClock(time.time())
    authorizer = build_authorizer(config, sts=sts, dynamodb=dynamodb,
                                  clock=clock, wall_clock=wall_clock,
                                  key_client_factory=keys.factory(**key_options))
    subject = AuthorizerUnderTest(authorizer, assume_role, keys, clock, wall_clock, config,
                                  dynamodb)

    def record(params: dict[str, Any], **_: Any) -> None:
        subject.assumed.append(dict(params))

    sts.meta.events.register("provide-client-params.sts.AssumeRole", record)
    subject.aws_calls.watch(dynamodb)
    subject.aws_calls.watch(sts)
    return subject
