"""``make deploy-pooled`` and ``make deploy-tenants`` (TARGET=local): a release on the running
local platform.

deploy-pooled applies the same definitions as the aws target to the emulator of the running platform
(``make local``): the tables as stack ``stack-pooled`` through the emulator's CloudFormation, pools,
the first SystemAdmin, usage plans and settings through API calls
(``pipeline.local_cloud.provisioning.baseline_bootstrap``; idempotent, so deploying again changes
only what differs). Then, as a new Lambda version would in AWS, the working tree's code replaces the
running admin and pooled services: the platform starts new ``chalice local`` processes and switches
each route to them before stopping the old ones (``LocalPlatform.release``), so no request fails.
deploy-tenants does the same for every Platinum tenant's own deployment (the provisioner's
``release``).

    python -m pipeline.deploy.local.local_release [--admin-email EMAIL] [--tenants]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from typing import Any, TextIO

from pipeline.local_cloud.local_platform import (
    BASELINE_DEPLOYMENTS,
    RELEASE_POOLED,
    RELEASE_TENANTS,
    emulator_clients,
)
from pipeline.local_cloud.provisioning.baseline_bootstrap import (
    BaselineResult,
    LocalUrls,
    bootstrap,
)
from pipeline.local_cloud.state import NotRunning, StatePaths
from pipeline.stacks.inventory import LISTING_PATHS, POOLED_STACK_NAME
from tenant_context.platform.invitations import CredentialsFile

RELEASE_TIMEOUT_SECONDS = 120.0


class ReleaseError(RuntimeError):
    pass


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def release(paths: StatePaths, signal_number: int, replaced: Callable[[str], bool],
            timeout: float = RELEASE_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Ask the running platform for a release and wait until none of the processes ``replaced``
    names (names in ``platform.json``'s pids) is left; the platform's new state."""
    before = paths.running()
    old = {name: pid for name, pid in before["pids"].items() if replaced(name)}
    os.kill(before["pid"], signal_number)
    deadline = time.monotonic() + timeout
    while True:
        state = paths.running()
        new = {name: pid for name, pid in state["pids"].items() if replaced(name)}
        if not set(new.items()) & set(old.items()):
            return state
        if time.monotonic() > deadline:
            raise ReleaseError(f"the platform did not replace {sorted(old)} within "
                               f"{timeout:.0f} s: see its output and {paths.logs}/")
        time.sleep(0.2)


def _baseline_process(name: str) -> bool:
    return name in {app.directory for apps in BASELINE_DEPLOYMENTS.values() for app, _ in apps}


def _tenant_process(name: str) -> bool:
    return "/" in name  # "<tenantId>/<app>"


def release_pooled(paths: StatePaths, admin_email: str, out: TextIO) -> BaselineResult:
    """The pooled deployment's definitions applied to the emulator, then the working tree's
    code on the admin and pooled services; ``ReleaseError`` unless both APIs answer behind
    their authorizer afterwards."""
    state = paths.running()
    urls = LocalUrls(admin_api=state["adminApiUrl"], pooled_api=state["pooledApiUrl"])
    clients = emulator_clients(state["emulatorUrl"])
    print(f"Deploying {POOLED_STACK_NAME} to the emulator at {state['emulatorUrl']} ...",
          file=out, flush=True)
    baseline = bootstrap(clients, urls, CredentialsFile(paths.credentials), admin_email)
    stack = clients.cloudformation.describe_stacks(StackName=POOLED_STACK_NAME)["Stacks"][0]
    print(f"  stack {POOLED_STACK_NAME}: {stack['StackStatus']} (tables)", file=out, flush=True)
    print("  pools, SystemAdmin, usage plans, settings: in place", file=out, flush=True)
    print("Releasing the working tree's code to the admin and pooled services ...", file=out,
          flush=True)
    released = release(paths, RELEASE_POOLED, _baseline_process)
    replaced = sorted(name for name in released["pids"] if _baseline_process(name))
    print(f"  new processes: {', '.join(replaced)}", file=out, flush=True)
    checks = {"admin API": f"{urls.admin_api}/tenants",
              **{f"pooled tenant API {path}": f"{urls.pooled_api}{path}"
                 for path in LISTING_PATHS}}
    for name, url in checks.items():
        status = _status(url)
        print(f"  {name}: {'up behind the authorizer' if status == 401 else status}",
              file=out, flush=True)
        if status != 401:  # without a token, only the authorizer may answer
            raise ReleaseError(f"{name} at {url} answered {status} without a token; "
                               f"expected 401")
    return baseline


def deploy_pooled(paths: StatePaths, admin_email: str, out: TextIO) -> int:
    try:
        baseline = release_pooled(paths, admin_email, out)
    except ReleaseError as error:
        print(error, file=sys.stderr)
        return 1
    state = paths.running()
    print("\n".join([
        "Pooled deployment ready:",
        f"  stack              {POOLED_STACK_NAME}",
        f"  admin API          {state['adminApiUrl']}",
        f"  pooled tenant API  {state['pooledApiUrl']}   ({', '.join(LISTING_PATHS)})",
        f"  SystemAdmin        user '{baseline.admin_user_name}'"
        f" (password in {paths.credentials})",
    ]), file=out, flush=True)
    return 0


def release_deployments(paths: StatePaths, tenant_ids: Collection[str],
                        timeout: float = RELEASE_TIMEOUT_SECONDS) -> dict[str, Any]:
    """New processes for the named Platinum deployments that are running (one that is not,
    stopped or not yet up, starts on the working tree's code anyway); returns once every one
    of them was replaced."""
    for tenant_id in tenant_ids:
        paths.request_release(tenant_id)
    prefixes = tuple(f"{tenant_id}/" for tenant_id in tenant_ids)
    return release(paths, RELEASE_TENANTS, lambda name: name.startswith(prefixes), timeout)


def deploy_tenants(paths: StatePaths, out: TextIO) -> int:
    """The platform's provisioner keeps every Platinum deployment as its row says by itself;
    what is left to deploy is the working tree's code."""
    urls = paths.running().get("tenantApiUrls", {})
    if not urls:
        print("No Platinum tenant's deployment is running: nothing to release.", file=out)
        return 0
    print(f"Releasing the working tree's code to {len(urls)} Platinum tenant deployment(s) "
          f"...", file=out, flush=True)
    released = release(paths, RELEASE_TENANTS, _tenant_process)
    print("Platinum tenants' deployments released:", file=out)
    for tenant_id, url in sorted(released.get("tenantApiUrls", {}).items()):
        print(f"  {tenant_id}  stack-{tenant_id}  {url}", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-email", default="admin@example.com",
                        help="the first SystemAdmin's address (used only when it is created)")
    parser.add_argument("--tenants", action="store_true",
                        help="release every Platinum tenant's deployment instead")
    args = parser.parse_args(argv)
    paths = StatePaths.from_environ()
    try:
        if args.tenants:
            return deploy_tenants(paths, sys.stdout)
        return deploy_pooled(paths, args.admin_email, sys.stdout)
    except NotRunning as error:
        print(error, file=sys.stderr)
        return 2
    except ReleaseError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
