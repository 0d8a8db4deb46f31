"""The session's ``make package`` output as the stacks' and packaging tests read it: the two
templates, as packaged and as CloudFormation sees them after the SAM transform (a pytest plugin:
``packaged``)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from pipeline.packaging.app_packages import TEMPLATE_FILE
from tests.support.checkouts import checkout_environment, copy_of_the_checkout

SILO_PARAMETERS = {
    "TenantId": "0123456789abcdef0123456789abcdef",
    "LayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:serverless-saas-tenant-context:1",
    "AuthorizerArn": "arn:aws:lambda:us-east-1:123456789012:function:tenant-authorizer",
    "DeploymentRecordsArn": "arn:aws:lambda:us-east-1:123456789012:function:records",
}
PARAMETERS = {"pooled": {"AdminEmail": "admin@example.com"}, "silo": SILO_PARAMETERS}


@dataclass(frozen=True)
class Packaged:
    out: Path
    templates: dict[str, dict[str, Any]]  # deployment -> template (SAM, as packaged)

    def file(self, deployment: str) -> Path:
        return self.out / "cloudformation" / deployment / "template.json"

    def translated(self, deployment: str) -> dict[str, Any]:
        """The template as CloudFormation sees it after ``aws cloudformation package`` and
        the SAM transform."""
        return self.translate(self.templates[deployment], deployment)

    def translate(self, template: dict[str, Any], deployment: str) -> dict[str, Any]:
        """``translated`` of another version of one of the templates."""
        template = copy.deepcopy(template)
        for resource in template["Resources"].values():
            for uri in ("CodeUri", "ContentUri"):
                if uri in resource.get("Properties", {}):
                    local = resource["Properties"][uri]
                    assert (self.file(deployment).parent / local).is_file(), local
                    resource["Properties"][uri] = f"s3://artifacts/{local.removeprefix('./')}"
        translated: dict[str, Any] = transform(template, PARAMETERS[deployment],
                                               _NoAwsPolicies())
        return translated


class _NoAwsPolicies:
    def load(self) -> dict[str, str]:
        return {}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """The template's resources of one type, by logical id."""
    return {name: resource for name, resource in template["Resources"].items()
            if resource["Type"] == kind}


@pytest.fixture
def sam_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SAM translator resolves ARNs in the session's default region."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


ANOTHER_TIME = 978_307_200.0  # 2001-01-01: every source file of the other checkout is older


@pytest.fixture(scope="session")
def packaged_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same commit packaged again as another machine would: another checkout (another
    folder, file times), another time zone, umask and (where ``faketime`` is installed; CI
    installs it) clock, with this virtualenv. Its ``dist`` folder."""
    root = tmp_path_factory.mktemp("elsewhere")
    checkout = copy_of_the_checkout(root / "checkout", mtime=ANOTHER_TIME)
    clock = ["faketime", "-f", "+3d"] if shutil.which("faketime") else []
    done = subprocess.run([*clock, sys.executable, "-m", "pipeline.packaging", "package",
                           "--out", str(root / "dist")], cwd=checkout,
                          env={**checkout_environment(checkout), "TZ": "Pacific/Kiritimati"},
                          umask=0o077, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "dist"


@pytest.fixture(scope="session")
def packaged(packaged_dist: Path) -> Packaged:
    """The session's ``make package`` output (``packaged_dist``), templates read."""
    return Packaged(packaged_dist, {
        deployment: json.loads((packaged_dist / "cloudformation" / deployment /
                                TEMPLATE_FILE).read_text())
        for deployment in PARAMETERS})
