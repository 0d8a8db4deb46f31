"""The Cognito endpoint in-process, in front of the session's emulator, on a clock the tests
move (sessions expire without sleeping)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from pipeline.local_cloud.cognito.endpoint import CognitoEndpoint
from pipeline.local_cloud.cognito.flows import CognitoFlows
from pipeline.local_cloud.cognito.passwords import PasswordStore, ResetCodes
from tenant_context.platform.invitations import CredentialsFile
from tests.support.clock import FakeClock
from tests.support.world import World

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def moved_clock(clock: FakeClock) -> Iterator[FakeClock]:
    """The endpoint's clock for a test that moves it; back where it was afterwards (the
    tokens of later tests expire by the same clock)."""
    start = clock.now
    yield clock
    clock.now = start


@pytest.fixture(scope="module")
def reset_codes(credentials_file: CredentialsFile, clock: FakeClock) -> ResetCodes:
    return ResetCodes.beside(credentials_file, clock)


@pytest.fixture(scope="module")
def endpoint(emulator_url: str, world: World, credentials_file: CredentialsFile,
             reset_codes: ResetCodes, clock: FakeClock) -> Iterator[CognitoEndpoint]:
    cognito = world.clients.cognito
    flows = CognitoFlows(cognito, PasswordStore(cognito, credentials_file), reset_codes, clock)
    running = CognitoEndpoint(flows, emulator_url)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def idp(endpoint: CognitoEndpoint) -> CognitoIdentityProviderClient:
    """A boto3 Cognito client of the endpoint, unsigned as browsers call it."""
    return boto3.client("cognito-idp", endpoint_url=endpoint.url, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED))
