"""The README's commands and the tenant API calls the platform tests script, against a running
local platform (``pipeline.local_cloud.platform_runner.running_platform``)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import requests

from pipeline.project import PROJECT_ROOT

PRODUCT = {"name": "Own Widget", "price": 5, "sku": "OW-1", "category": "widgets"}


def make(state_dir: Path, *arguments: str) -> str:
    """A README command against the platform whose state is in ``state_dir``; its output."""
    done = subprocess.run(["make", "-s", *arguments], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=180,
                          env={**os.environ, "LOCAL_STATE_DIR": str(state_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def onboarded(state_dir: Path, name: str, tier: str) -> dict[str, str]:
    """``make onboard-tenant``'s summary, as printed."""
    output = make(state_dir, "onboard-tenant", f"NAME={name}", "EMAIL=owner@own.example",
                  f"TIER={tier}")
    return dict(re.findall(r"^  (\S.*?) {2,}(\S+)", output, re.MULTILINE))


def call(method: str, url: str, token: str, body: Any = None) -> requests.Response:
    return requests.request(method, url, json=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})


def create_product(api: str, token: str) -> str:
    created = call("POST", f"{api}/product", token, PRODUCT)
    assert created.status_code == 201, created.text
    return str(created.json()["productId"])


def products(api: str, token: str) -> list[str]:
    listed = call("GET", f"{api}/products", token)
    assert listed.status_code == 200, listed.text
    return [product["productId"] for product in listed.json()]
