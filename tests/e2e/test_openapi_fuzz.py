"""Both APIs fuzzed from their own OpenAPI documents over HTTP, on the shared local platform.

Each document is fetched from the route that serves it (the admin API's ``/openapi.json``, each
tenant service's ``document_path``, merged into the tenant API's); schemathesis generates
requests of every operation from it, valid ones and invalid ones, and sends them with the token
of each role (and with none), a fixed number per operation, role and mode, with Hypothesis
derandomized (the same requests every run). Every answer must be no 5xx, a status the document
lists, with the body and content type it documents, and no connection may be dropped.

Platinum sign-ups are capped: the fuzz's registrations are pooled tiers only (the document it
is given lists no Platinum, and a generated body naming it is not sent), so the fuzz never
starts a deployment of its own. The one Platinum tenant it uses is deactivated at the end.
"""

from __future__ import annotations

import contextlib
import copy
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pipeline.local_cloud.platform_runner import RunningPlatform
from tenant_context.service.openapi import merged
from tenant_context.tenancy import Role, Tier
from tenant_context.tenant_services import TENANT_SERVICES

pytestmark = pytest.mark.platform
EXAMPLES = 25  # per operation, caller and mode (valid data, invalid data)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def call(method: str, url: str, token: str | None = None, body: Any = None
         ) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, url, json=body, headers=headers, timeout=60)


@dataclass(frozen=True)
class Caller:
    name: str
    token: str | None  # None: anonymous


@dataclass(frozen=True)
class Fixtures:
    """The callers of each API, and the Platinum tenant's own URL."""

    staff: tuple[Caller, ...]
    pooled_tenant: tuple[Caller, ...]
    platinum_tenant: tuple[Caller, ...]
    platinum_api: str


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    platinum_skipped: int = 0


def register(platform: RunningPlatform, tier: Tier) -> tuple[str, str]:
    name = f"Fuzzed {tier.value} {secrets.token_hex(3)}"
    registered = call("POST", f"{platform.admin_api}/registration", body={
        "tenantName": name, "tenantEmail": "fuzz@fuzzed.example", "tenantTier": tier.value})
    assert registered.status_code == 201, registered.text
    return name, str(registered.json()["tenantId"])


def tenant_callers(platform: RunningPlatform, label: str, name: str, tenant_id: str
                   ) -> tuple[Caller, ...]:
    """The tenant's admin, and a TenantUser it creates."""
    admin = platform.token(f"tenant-admin-{tenant_id}", name)
    user_name = f"fuzz-user-{tenant_id[:8]}"
    created = call("POST", f"{platform.admin_api}/user", admin, {
        "userName": user_name, "userEmail": "user@fuzzed.example",
        "userRole": Role.TENANT_USER.value})
    assert created.status_code == 201, created.text
    return (Caller(f"{label} {Role.TENANT_ADMIN.value}", admin),
            Caller(f"{label} {Role.TENANT_USER.value}", platform.token(user_name, name)))


def served_url(platform: RunningPlatform, tenant_id: str) -> str:
    deadline = time.monotonic() + 90
    while (url := platform.tenant_api(tenant_id)) is None:
        assert time.monotonic() < deadline, "the Platinum tenant's deployment did not come up"
        time.sleep(0.3)
    return url


@pytest.fixture(scope="module")
def fixtures(platform: RunningPlatform) -> Iterator[Fixtures]:
    admin = platform.token()
    support_name = f"fuzz-support-{secrets.token_hex(3)}"
    created = call("POST", f"{platform.admin_api}/user", admin, {
        "userName": support_name, "userEmail": "support@fuzzed.example",
        "userRole": Role.CUSTOMER_SUPPORT.value})
    assert created.status_code == 201, created.text
    staff = (Caller(Role.SYSTEM_ADMIN.value, admin),
             Caller(Role.CUSTOMER_SUPPORT.value, platform.token(support_name)))
    premium_name, premium_id = register(platform, Tier.PREMIUM)
    platinum_name, platinum_id = register(platform, Tier.PLATINUM)
    platinum_api = served_url(platform, platinum_id)
    yield Fixtures(staff, tenant_callers(platform, "Premium", premium_name, premium_id),
                   tenant_callers(platform, "Platinum", platinum_name, platinum_id),
                   platinum_api)
    # Its processes stop; its row stays well-formed (stopped), as any deactivated tenant's.
    assert call("DELETE", f"{platform.admin_api}/tenant/{platinum_id}",
                platform.token()).status_code == 200


def without_platinum_sign_ups(document: dict[str, Any]) -> dict[str, Any]:
    """The document the fuzz is given: registration offers only the pooled tiers."""
    capped = copy.deepcopy(document)
    tier = capped["components"]["schemas"]["RegistrationRequest"]["properties"]["tenantTier"]
    tier["enum"] = [value for value in tier["enum"] if value != Tier.PLATINUM.value]
    return capped


def names_platinum(body: Any) -> bool:
    try:
        return isinstance(body, dict) and Tier.parse(body.get("tenantTier")) is Tier.PLATINUM
    except ValueError:
        return False


def fuzz_operation(operation: schemathesis.APIOperation[Any, Any, Any, Any], caller: Caller,
                   mode: schemathesis.GenerationMode, base_url: str,
                   session: requests.Session, findings: Findings) -> None:
    """``EXAMPLES`` requests of one operation, by one caller, of one mode; every problem is
    recorded (none raised: Hypothesis would then shrink, unbounded)."""
    headers = {"Authorization": f"Bearer {caller.token}"} if caller.token else {}

    def send(case: schemathesis.Case[Any]) -> None:
        if operation.path == "/registration" and names_platinum(case.body):
            findings.platinum_skipped += 1
            return
        findings.requests += 1
        where = f"{caller.name}: {case.method} {case.formatted_path}"
        try:
            response = case.call(base_url=base_url, session=session, headers=headers)
        except requests.RequestException as error:
            findings.problems.append(f"{where}: dropped: {error!r}")
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as error:  # schemathesis's failures
            findings.problems.append(
                f"{where} (query {case.query}, headers {case.headers}, body "
                f"{str(case.body)[:300]}) -> {response.status_code} {response.text[:300]}: "
                f"{str(error)[:600]}")

    test = hypothesis.settings(
        max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )(hypothesis.given(operation.as_strategy(generation_mode=mode))(send))
    with contextlib.suppress(Unsatisfiable):  # nothing invalid to send: no inputs
        test()


def fuzz(document: dict[str, Any], base_url: str, callers: tuple[Caller, ...],
         findings: Findings) -> None:
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid
        operation = result.ok()
        for caller in callers:
            for mode in MODES:
                fuzz_operation(operation, caller, mode, base_url, session, findings)


def test_admin_api_from_its_document(platform: RunningPlatform, fixtures: Fixtures) -> None:
    document = call("GET", f"{platform.admin_api}/openapi.json")
    assert document.status_code == 200, document.text
    findings = Findings()
    callers = (Caller("anonymous", None), *fixtures.staff, *fixtures.platinum_tenant)
    fuzz(without_platinum_sign_ups(document.json()), platform.admin_api, callers, findings)
    print(f"admin API: {findings.requests} requests, {findings.platinum_skipped} Platinum "
          "sign-ups not sent")
    assert not findings.problems, "\n\n".join(findings.problems)


def tenant_api_document(base_url: str) -> dict[str, Any]:
    parts = [call("GET", f"{base_url}{service.document_path}") for service in TENANT_SERVICES]
    assert [part.status_code for part in parts] == [200] * len(parts)
    return merged("Tenant API", "every tenant service", (part.json() for part in parts))


def test_tenant_api_from_its_document(platform: RunningPlatform, fixtures: Fixtures) -> None:
    findings = Findings()
    fuzz(tenant_api_document(platform.pooled_api), platform.pooled_api,
         (*fixtures.staff, *fixtures.pooled_tenant), findings)
    fuzz(tenant_api_document(fixtures.platinum_api), fixtures.platinum_api,
         fixtures.platinum_tenant, findings)
    print(f"tenant API: {findings.requests} requests")
    assert not findings.problems, "\n\n".join(findings.problems)
