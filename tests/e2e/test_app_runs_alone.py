"""README: each app also runs alone, ``cd <app> && chalice local --stage local``, against a
running emulator, with every request through the real tenant authorizer (no bypass).

The command is run exactly as written there (with a free port on loopback), in its own process
group, with the environment the platform gives its apps (``service_environment``: the
emulator's URL and the local credentials file, nothing from the caller's AWS setup), against
the session's emulator after the bootstrap.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import requests

from pipeline.local_cloud import processes
from pipeline.local_cloud.api_gateway.handoff import HANDOFF_HEADER, HandOff
from pipeline.local_cloud.chalice_local import service_environment
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from pipeline.project import PROJECT_ROOT
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.tenancy import Role
from tests.support.world import World

pytestmark = pytest.mark.platform
# What a user's shell contributes; everything else comes from the app's stage and the platform.
_SHELL = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def test_product_service_alone_through_the_authorizer(
        emulator_url: str, baseline: BaselineResult, world: World,
        credentials_file: CredentialsFile, tmp_path: Path) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    staff_token = world.id_token(world.operations_user(Role.SYSTEM_ADMIN))
    port = processes.free_port()
    shell = {name: os.environ[name] for name in _SHELL if name in os.environ}
    chalice = Path(sys.executable).with_name("chalice")
    process = processes.start(
        [str(chalice), "local", "--stage", "local", "--host", processes.LOOPBACK,
         "--port", str(port)],
        cwd=PROJECT_ROOT / "product_service",
        env=service_environment(emulator_url, credentials_file.path, base=shell),
        log_file=tmp_path / "product_service.log")
    base = f"http://{processes.LOOPBACK}:{port}"
    try:
        processes.wait_for_http(f"{base}/", process)
        assert len(running_in_group(process.pid)) >= 2  # the reloader and its server child
        anonymous = requests.get(f"{base}/products", timeout=30)
        assert anonymous.status_code == 401, anonymous.text
        tenant_call = requests.get(f"{base}/products", timeout=30,
                                   headers={"Authorization": f"Bearer {token}"})
        assert tenant_call.status_code == 200, tenant_call.text
        assert tenant_call.json() == []
        # The authorizer really decides: SaaS staff have no business in tenant data.
        staff_call = requests.get(f"{base}/products", timeout=30,
                                  headers={"Authorization": f"Bearer {staff_token}"})
        assert staff_call.status_code == 403, staff_call.text
        # Alone it was given no hand-off secret: a "decision" in the header is refused, not
        # trusted and not ignored, whatever token comes with it.
        forged = requests.get(f"{base}/products", timeout=30, headers={
            "Authorization": f"Bearer {token}",
            HANDOFF_HEADER: HandOff("guessed").seal("any", f"Bearer {token}", None)})
        assert forged.status_code == 401, forged.text
    finally:
        processes.stop(process)
        log = (tmp_path / "product_service.log").read_text()
    assert process.returncode is not None, log
    # chalice local's reloader runs the server in a child: it must be gone too (it got the
    # same SIGTERM; give it a moment to finish exiting).
    deadline = time.monotonic() + 10
    while running_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running_in_group(process.pid) == [], log


def running_in_group(group: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc; an orphaned child that
    died is a zombie until init reaps it, which is not a process left running."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone while we looked
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members
