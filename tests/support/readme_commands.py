"""The README's commands and the tenant API calls the platform tests script, against a running
local platform (``pipeline.local_cloud.platform_runner.running_platform``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env
from tests.support.checkouts import checkout_environment

PRODUCT = {"name": "Own Widget", "price": 5, "sku": "OW-1", "category": "widgets"}


def run_make(*arguments: str, root: Path = PROJECT_ROOT, state_dir: Path | None = None,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``make`` in ``root``, a checkout; another checkout than this one runs its own code with
    this one's virtualenv (no second install)."""
    venv_dir = Path(sys.executable).parent.parent
    # Never remade from another checkout (-o): its requirements may be newer than the install.
    venv = [] if root == PROJECT_ROOT else [f"VENV={venv_dir}", "-o", f"{venv_dir}/.installed"]
    env = checkout_environment(root)
    if state_dir:
        env[Env.LOCAL_STATE_DIR] = str(state_dir)
    return subprocess.run(["make", "-s", *venv, *arguments], cwd=root, capture_output=True,
                          text=True, timeout=timeout, env=env)



def make(state_dir: Path, *arguments: str, root: Path = PROJECT_ROOT) -> str:
    """A README command against the platform whose state is in ``state_dir``; its output."""
    done = run_make(*arguments, root=root, state_dir=state_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def onboarded(state_dir: Path, name: str, tier: str, root: Path = PROJECT_ROOT
              ) -> dict[str, str]:
    """``make onboard-tenant``'s summary, as printed."""
    output = make(state_dir, "onboard-tenant", f"NAME={name}", "EMAIL=owner@own.example",
                  f"TIER={tier}", root=root)
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
