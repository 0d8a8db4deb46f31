"""``make deploy-pooled`` (TARGET=local): the pooled deployment applied to the local platform.

The same definitions as the aws target, applied to the emulator of the running platform
(``make local``): the tables as stack ``stack-pooled`` through the emulator's CloudFormation,
pools, the first SystemAdmin, usage plans and settings through API calls
(``pipeline.local.bootstrap``; idempotent, so deploying again changes only what differs). The
pooled services run under ``chalice local`` in the platform, from the working tree; this
checks they answer behind the authorizer and prints where.

    python -m pipeline.local.deploy [--admin-email EMAIL]
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from typing import TextIO

from pipeline.baseline import POOLED_STACK_NAME
from pipeline.local.bootstrap import LocalUrls, bootstrap
from pipeline.local.paths import NotRunning, StatePaths
from pipeline.local.platform import emulator_clients
from tenant_context.invitations import CredentialsFile


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def deploy_pooled(paths: StatePaths, admin_email: str, out: TextIO) -> int:
    try:
        state = paths.running()
    except NotRunning as error:
        print(error, file=sys.stderr)
        return 2
    urls = LocalUrls(admin_api=state["adminApiUrl"], pooled_api=state["pooledApiUrl"])
    clients = emulator_clients(state["emulatorUrl"])
    print(f"Deploying {POOLED_STACK_NAME} to the emulator at {state['emulatorUrl']} ...",
          file=out, flush=True)
    baseline = bootstrap(clients, urls, CredentialsFile(paths.credentials), admin_email)
    stack = clients("cloudformation").describe_stacks(StackName=POOLED_STACK_NAME)["Stacks"][0]
    print(f"  stack {POOLED_STACK_NAME}: {stack['StackStatus']} (tables)", file=out, flush=True)
    print("  pools, SystemAdmin, usage plans, settings: in place", file=out, flush=True)
    checks = {"admin API": f"{urls.admin_api}/tenants",
              "pooled tenant API": f"{urls.pooled_api}/products"}
    for name, url in checks.items():
        status = _status(url)
        print(f"  {name}: {'up behind the authorizer' if status == 401 else status}",
              file=out, flush=True)
        if status != 401:  # without a token, only the authorizer may answer
            print(f"{name} at {url} answered {status} without a token; expected 401",
                  file=sys.stderr)
            return 1
    print("\n".join([
        "Pooled deployment ready:",
        f"  stack              {POOLED_STACK_NAME}",
        f"  admin API          {urls.admin_api}",
        f"  pooled tenant API  {urls.pooled_api}   (/products, /orders)",
        f"  SystemAdmin        user '{baseline.admin_user_name}'"
        f" (password in {paths.credentials})",
    ]), file=out, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-email", default="admin@example.com",
                        help="the first SystemAdmin's address (used only when it is created)")
    args = parser.parse_args(argv)
    return deploy_pooled(StatePaths.from_environ(), args.admin_email, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
