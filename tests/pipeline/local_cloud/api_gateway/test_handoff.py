"""One authorization per request through the front door: the front door's decision is handed to
the service behind it, sealed for that request, and the service's built-in authorizer answers
from it without asking AWS; a hand-off the service cannot open is refused, never trusted.

In process: the real front door and authorization step, and, behind it, a Chalice app served by
``chalice local``'s own server with the real built-in authorizer, each side with its own real
``TenantAuthorizer`` against the emulator (as two processes have), both counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from chalice import Chalice
from chalice.config import Config
from chalice.local import create_local_server

from chalicelib.tenant_authorizer.authorizer import TenantAuthorizer
from pipeline.local_cloud.api_gateway.authorization import (
    GatewayRequest,
    authorizer_step,
    emulator_authorizer,
    method_arn,
)
from pipeline.local_cloud.api_gateway.builtin_authorizer import builtin_authorizer
from pipeline.local_cloud.api_gateway.front_door import FrontDoor, RouteTable, Upstream
from pipeline.local_cloud.api_gateway.handoff import (
    HANDOFF_HEADER,
    HANDOFF_TTL_SECONDS,
    ForgedHandOffError,
    HandOff,
    new_secret,
)
from pipeline.local_cloud.api_gateway.usage_plans import GatewayKeyPlans, UsagePlanEnforcer
from pipeline.local_cloud.processes import LOOPBACK, free_port
from tenant_context.platform.definitions import api_name
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role
from tests.support.clock import FakeClock
from tests.support.counting import OperationLog
from tests.support.moto_server import clients_for
from tests.support.world import World

POOLED_PRODUCT = api_name(POOLED_DEPLOYMENT, "product")
ARN = method_arn(GatewayRequest(POOLED_PRODUCT, "GET", "/products", None))
RESPONSE = {"principalId": "someone", "context": {"tenantId": "t"}, "policyDocument": {}}


# -- the seal ---------------------------------------------------------------------------------

def test_a_sealed_decision_opens_only_for_its_own_request() -> None:
    clock = FakeClock(1_000.0)
    handoff = HandOff(new_secret(), clock)
    sealed = handoff.seal(ARN, "Bearer a", RESPONSE)
    assert handoff.open(sealed, ARN, "Bearer a") == RESPONSE
    assert handoff.open(handoff.seal(ARN, "Bearer a", None), ARN, "Bearer a") is None  # 401
    other_route = method_arn(GatewayRequest(POOLED_PRODUCT, "DELETE", "/products", None))
    other_api = method_arn(GatewayRequest(api_name("c" * 32, "product"), "GET", "/products",
                                          None))
    refusals = {
        "another route": (sealed, other_route, "Bearer a"),
        "another API": (sealed, other_api, "Bearer a"),
        "another token": (sealed, ARN, "Bearer b"),
        "no token": (sealed, ARN, None),
        "another start's secret": (HandOff(new_secret(), clock).seal(ARN, "Bearer a", RESPONSE),
                                   ARN, "Bearer a"),
        "a payload changed": (_changed_payload(sealed), ARN, "Bearer a"),
        "no seal": (sealed.split(".")[0], ARN, "Bearer a"),
        "junk": ("!!.??", ARN, "Bearer a"),
        "empty": ("", ARN, "Bearer a"),
    }
    for reason, (value, arn, token) in refusals.items():
        with pytest.raises(ForgedHandOffError):  # noqa: PT012 (the reason names the case)
            handoff.open(value, arn, token)
            pytest.fail(reason)
    clock.advance(HANDOFF_TTL_SECONDS + 0.001)
    with pytest.raises(ForgedHandOffError, match="expired"):
        handoff.open(sealed, ARN, "Bearer a")


def _changed_payload(sealed: str) -> str:
    payload, mac = sealed.split(".")
    return f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{mac}"


def test_the_secret_is_not_in_the_repr() -> None:
    secret = new_secret()
    assert secret not in repr(HandOff(secret))


# -- through the front door -------------------------------------------------------------------

@dataclass
class Counted:
    """A real authorizer whose authorizations and AWS calls are counted."""
    authorizer: TenantAuthorizer
    aws: OperationLog
    authorizations: int = 0

    @classmethod
    def against(cls, emulator_url: str) -> Counted:
        aws = OperationLog()
        clients = clients_for(emulator_url)
        for client in (clients.dynamodb, clients.sts):
            aws.watch(client)
        counted = cls(emulator_authorizer(emulator_url, clients), aws)
        authorize: Callable[[Mapping[str, Any]], dict[str, Any]] = counted.authorizer.authorize

        def counting(event: Mapping[str, Any]) -> dict[str, Any]:
            counted.authorizations += 1
            return authorize(event)

        counted.authorizer.authorize = counting  # type: ignore[method-assign]
        aws.take()  # building it read the settings, as a process's start does
        return counted


@dataclass
class Served:
    front_door_url: str
    service_url: str
    front: Counted
    service: Counted

    def get(self, base: str, token: str | None, **headers: str) -> requests.Response:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.get(f"{base}/products", headers=headers, timeout=30)


@pytest.fixture
def served(emulator_url: str, world: World) -> Iterator[Served]:
    handoff = HandOff(new_secret())
    service = Counted.against(emulator_url)
    app = Chalice("handoff-under-test")
    authorizer = builtin_authorizer(app, POOLED_PRODUCT, service.authorizer, handoff=handoff)

    @app.route("/products", authorizer=authorizer)
    def products() -> dict[str, Any]:
        request = app.current_request
        assert request is not None
        context = request.context["authorizer"]
        return {"principal": context["principalId"], "tenant": context.get("tenantId")}

    port = free_port()
    server = create_local_server(app, Config.create(chalice_app=app), LOOPBACK, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    front = Counted.against(emulator_url)
    routes = RouteTable()
    routes.set(POOLED_DEPLOYMENT, (Upstream(("/product",), port, POOLED_PRODUCT),))
    front_door = FrontDoor(0, routes, authorize=authorizer_step(front.authorizer),
                           usage_plans=UsagePlanEnforcer(
                               GatewayKeyPlans(clients_for(emulator_url).apigateway),
                               shared_deployments=(POOLED_DEPLOYMENT,)),
                           handoff=handoff)
    front_door.start()
    try:
        yield Served(f"{front_door.url}/{POOLED_DEPLOYMENT}", f"http://{LOOPBACK}:{port}",
                     front, service)
    finally:
        front_door.stop()
        server.shutdown()
        server.server.server_close()


def test_a_request_through_the_front_door_is_authorized_once(served: Served,
                                                              world: World) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    first = served.get(served.front_door_url, token)
    assert first.status_code == 200, first.text
    assert first.json()["tenant"] == tenant.tenant_id
    assert (served.front.authorizations, served.service.authorizations) == (1, 0)
    assert served.service.aws.take() == []  # the service asked AWS nothing
    assert served.front.aws.take()  # the one authorization did (a cold authorizer)
    for _ in range(3):
        assert served.get(served.front_door_url, token).status_code == 200
    assert (served.front.authorizations, served.service.authorizations) == (4, 0)
    # Refusals are the front door's decision too: 401 without a valid token, 403 for staff.
    assert served.get(served.front_door_url, None).status_code == 401
    assert served.get(served.front_door_url, "not-a-token").status_code == 401
    staff = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    assert served.get(served.front_door_url, staff).status_code == 403
    assert served.service.authorizations == 0


def test_a_clients_own_hand_off_never_reaches_the_service(served: Served, world: World) -> None:
    """Stripped at the front door and replaced by its own seal: a forged 'allow' for a token
    the authorizer refuses gets the refusal."""
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    forged = HandOff("guessed").seal(ARN, "Bearer not-a-token", RESPONSE)
    assert served.get(served.front_door_url, "not-a-token",
                      **{HANDOFF_HEADER: forged}).status_code == 401
    assert served.get(served.front_door_url, token,
                      **{HANDOFF_HEADER: "junk"}).status_code == 200


def test_a_hand_off_forged_directly_to_the_service_port_is_refused(served: Served,
                                                                    world: World) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    allow_all = {"principalId": "forger", "context": {"tenantId": tenant.tenant_id},
                 "policyDocument": {"Version": "2012-10-17", "Statement": [{
                     "Effect": "Allow", "Action": "execute-api:Invoke",
                     "Resource": ["arn:aws:execute-api:*:*:*/*/*/*"]}]}}
    for forged in (HandOff("guessed").seal(ARN, f"Bearer {token}", allow_all),
                   HandOff("guessed").seal(ARN, "Bearer x", allow_all), "junk", ""):
        for caller in (token, "x"):
            answer = served.get(served.service_url, caller, **{HANDOFF_HEADER: forged})
            assert answer.status_code == 401, (forged, answer.text)
    assert served.service.authorizations == 0  # refused, never authorized another way
    # Without the header the service authorizes itself, as chalice local alone does.
    assert served.get(served.service_url, token).status_code == 200
    assert served.service.authorizations == 1
