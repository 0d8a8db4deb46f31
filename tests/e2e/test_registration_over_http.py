"""Registration under concurrency, over real HTTP through the local platform.

``chalice local`` serves requests on threads, so parallel requests really race to the same
DynamoDB conditional write.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from pipeline.deploy.local import local_onboarding as onboard
from pipeline.local_cloud.platform_runner import RunningPlatform
from pipeline.local_cloud.sign_in import resolve_pool, sign_in
from tenant_context.platform.invitations import CredentialsFile

pytestmark = pytest.mark.platform
PARALLEL = 20


def register_all(platform: RunningPlatform, bodies: list[dict[str, Any]]
                 ) -> list[requests.Response]:
    def post(body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{platform.admin_api}/registration", json=body, timeout=60)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(post, bodies))


def tenant_names(platform: RunningPlatform) -> Counter[str]:
    """How many tenants carry each name (case-folded), from GET /tenants."""
    token = platform.token()
    tenants = requests.get(f"{platform.admin_api}/tenants", timeout=60,
                           headers={"Authorization": f"Bearer {token}"}).json()
    return Counter(tenant["tenantName"].casefold() for tenant in tenants)


def test_twenty_registrations_of_one_name_make_one_tenant(platform: RunningPlatform) -> None:
    bodies = [{"tenantName": "Race Corp" if index % 2 else "RACE corp",
               "tenantEmail": f"owner{index}@race.example", "tenantTier": "Basic"}
              for index in range(PARALLEL)]
    statuses = Counter(response.status_code for response in register_all(platform, bodies))
    assert statuses == {201: 1, 409: PARALLEL - 1}
    assert tenant_names(platform)["race corp"] == 1


def test_twenty_identical_registrations_make_one_tenant(platform: RunningPlatform) -> None:
    body = {"tenantName": "Twin Corp", "tenantEmail": "twin@twin.example", "tenantTier": "Premium"}
    responses = register_all(platform, [body] * PARALLEL)
    statuses = Counter(response.status_code for response in responses)
    assert statuses[201] == 1
    assert statuses[201] + statuses[200] + statuses[409] == PARALLEL  # repeat or in progress
    ids = {response.json()["tenantId"] for response in responses if response.status_code < 300}
    assert len(ids) == 1
    assert tenant_names(platform)["twin corp"] == 1


def test_twenty_distinct_registrations_make_twenty_tenants(platform: RunningPlatform) -> None:
    bodies = [{"tenantName": f"Crowd {index}", "tenantEmail": f"c{index}@crowd.example",
               "tenantTier": ["Basic", "Standard", "Premium"][index % 3]}
              for index in range(PARALLEL)]
    responses = register_all(platform, bodies)
    assert Counter(response.status_code for response in responses) == {201: PARALLEL}
    assert len({response.json()["tenantId"] for response in responses}) == PARALLEL
    names = tenant_names(platform)
    assert all(names[f"crowd {index}"] == 1 for index in range(PARALLEL))


def test_names_in_paths_arrive_encoded_and_are_decoded(platform: RunningPlatform) -> None:
    """API Gateway and chalice local pass path parameters percent-encoded."""
    created = requests.post(f"{platform.admin_api}/registration", timeout=60, json={
        "tenantName": "Spaced & Co. Ltd", "tenantEmail": "s@spaced.example",
        "tenantTier": "Standard"})
    assert created.status_code == 201
    found = requests.get(f"{platform.admin_api}/tenant/init/spaced%20%26%20co.%20ltd",
                         timeout=60)
    assert found.status_code == 200, found.text
    assert found.json()["apiGatewayUrl"] == platform.pooled_api


def test_onboarding_prints_a_password_that_signs_the_admin_in(
        platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(platform.state_dir))
    assert onboard.main(["--name", "Printed Co", "--email", "p@printed.example",
                         "--tier", "Basic"]) == 0
    printed = dict(re.findall(r"^  (\S.*?)\s{2,}(\S+)", capsys.readouterr().out, re.MULTILINE))
    pool = resolve_pool(platform.aws.dynamodb, "Printed Co")
    tokens = sign_in(platform.aws.cognito, pool, printed["tenant admin"],
                     CredentialsFile(platform.state_dir / "credentials.json"),
                     password=printed["password"])
    assert tokens["IdToken"]
    assert onboard.main(["--name", "printed co", "--email", "x@y.example",
                         "--tier", "Basic"]) == 1  # the name is taken
