"""A SaaS builder adds a tenant service as the README's "Add a tenant service" says, in a copy of
the repository (this virtualenv, no second install): ``make new-service`` writes its folder, its
tests and ONE registry line, and nothing else changes; ``make package`` puts it in the pooled and
the silo stack (cfn-lint clean); its generated tests pass; and the local platform of the copy
serves it on the pooled API and on a Platinum tenant's own URL through the real authorizer,
where another tenant cannot read its items.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.local_cloud.platform_runner import running_platform
from pipeline.local_cloud.processes import free_port
from tests.support.checkouts import checkout_environment, committed, copy_of_the_checkout
from tests.support.readme_commands import call, onboarded, run_make

pytestmark = pytest.mark.platform

NAME = "review"  # ITEM and ID left to their defaults: review, reviewId
REGISTRY = "layer/tenant_context/tenant_services.py"


def changes(checkout: Path) -> tuple[list[str], list[str]]:
    """(``git status`` entries, lines the registry file gained or lost)."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=normal"],
                            cwd=checkout, capture_output=True, text=True, check=True).stdout
    diff = subprocess.run(["git", "diff", "--unified=0", "--", REGISTRY], cwd=checkout,
                          capture_output=True, text=True, check=True).stdout
    edited = [line for line in diff.splitlines()
              if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return sorted(status.splitlines()), edited


def packaged_resources(checkout: Path, deployment: str) -> set[str]:
    template = checkout / "dist" / "cloudformation" / deployment / "template.json"
    return set(json.loads(template.read_text())["Resources"])


def test_a_scaffolded_service_is_packaged_tested_and_served(tmp_path: Path) -> None:
    checkout = committed(copy_of_the_checkout(tmp_path / "checkout"))
    state = tmp_path / "state"

    scaffolded = run_make("new-service", f"NAME={NAME}", root=checkout)
    assert scaffolded.returncode == 0, scaffolded.stdout + scaffolded.stderr
    status, registry_lines = changes(checkout)
    assert status == sorted([f" M {REGISTRY}", f"?? {NAME}_service/", f"?? tests/{NAME}_service/"])
    assert registry_lines == [f'+    TenantService("{NAME}", "{NAME}", "{NAME}Id"),']

    packaged = run_make("package", root=checkout, timeout=600)
    assert packaged.returncode == 0, packaged.stdout + packaged.stderr
    assert {"PooledReviewAPIHandler", "PooledReviewRestAPI"} <= packaged_resources(
        checkout, "pooled")
    assert {"ReviewAPIHandler", "ReviewRestAPI", "ReviewTable"} <= packaged_resources(
        checkout, "silo")
    linted = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), *(
        str(checkout / "dist" / "cloudformation" / name / "template.json")
        for name in ("pooled", "silo"))], capture_output=True, text=True, timeout=300)
    assert (linted.returncode, linted.stdout.strip()) == (0, ""), linted.stdout + linted.stderr

    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             f"tests/{NAME}_service"], cwd=checkout, capture_output=True,
                            text=True, timeout=300, env=checkout_environment(checkout))
    assert tested.returncode == 0, tested.stdout + tested.stderr

    with running_platform(state, free_port(), free_port(), root=checkout) as platform:
        basic = onboarded(state, "Review Basic Co", "Basic", root=checkout)
        other = onboarded(state, "Review Other Co", "Standard", root=checkout)
        platinum = onboarded(state, "Review Platinum Co", "Platinum", root=checkout)
        for tenant, name in ((basic, "Review Basic Co"), (other, "Review Other Co"),
                             (platinum, "Review Platinum Co")):
            tenant["token"] = platform.token(tenant["tenant admin"], name)
        platinum_api = platinum["tenant API"]
        assert platinum_api != platform.pooled_api

        mine = {}
        for tenant, api in ((basic, platform.pooled_api), (platinum, platinum_api)):
            created = call("POST", f"{api}/{NAME}", tenant["token"], {"name": "Great"})
            assert created.status_code == 201, created.text
            mine[api] = created.json()
            listed = call("GET", f"{api}/{NAME}s", tenant["token"])
            assert [item[f"{NAME}Id"] for item in listed.json()] == [
                created.json()[f"{NAME}Id"]]
        key = mine[platform.pooled_api]["key"]
        # Another pooled tenant on the same API: not found, not listed.
        assert call("GET", f"{platform.pooled_api}/{NAME}/{key}", other["token"]
                    ).status_code == 404
        assert call("GET", f"{platform.pooled_api}/{NAME}s", other["token"]).json() == []
        # Each deployment's API only for its own tenants (the authorizer's deployment check).
        assert call("GET", f"{platinum_api}/{NAME}s", basic["token"]).status_code == 403
        assert call("GET", f"{platform.pooled_api}/{NAME}s", platinum["token"]
                    ).status_code == 403
        assert call("GET", f"{platform.pooled_api}/{NAME}s", "not-a-token").status_code == 401
