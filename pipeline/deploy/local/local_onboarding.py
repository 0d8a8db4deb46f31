"""``make onboard-tenant``: register a tenant on the running local platform, through its
registration API, and print what its admin needs to sign in.

Locally no email leaves the machine: the tenant admin's temporary password is printed here and
kept in the credentials file (``.local/credentials.json``). A Platinum tenant's own deployment
is brought up by the running platform after the registration; this waits (up to
``--wait`` seconds) until the admin API reports its URL, as the sign-up page would.

    python -m pipeline.deploy.local.local_onboarding --name NAME --email EMAIL --tier TIER
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from pipeline.local_cloud.state import NotRunning, StatePaths
from pipeline.stacks.inventory import POOLED_STACK_NAME
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.tenancy import Tier


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for_tenant_api(admin_api: str, name: str, timeout: float,
                        poll_seconds: float = 0.5) -> tuple[int, Any]:
    """GET /tenant/init until it stops answering 409 ``provisioning`` or ``timeout`` passes;
    the last answer. Its ``Retry-After`` suits a browser on AWS; locally the wait is seconds."""
    url = f"{admin_api}/tenant/init/{urllib.parse.quote(name)}"
    started = time.monotonic()
    reported = 0
    while True:
        status, config = _call("GET", url)
        waited = time.monotonic() - started
        provisioning = status == 409 and isinstance(config, dict) and \
            config.get("status") == "provisioning"
        if not provisioning or waited >= timeout:
            if reported:
                print(f"  ... {'up' if status == 200 else 'gave up'} after {waited:.1f} s",
                      flush=True)
            return status, config
        if waited >= reported * 5:  # a line when the wait starts, then every 5 s
            print(f"Waiting for the tenant's own deployment to come up ({waited:.0f} s) ...",
                  flush=True)
            reported += 1
        time.sleep(poll_seconds)


def _stack(registered: dict[str, Any]) -> str:
    """The deployment the tenant is served by: its own (Platinum) or the pooled one."""
    if registered["tenantTier"] == Tier.PLATINUM.value:
        return stack_name(registered["tenantId"])
    return POOLED_STACK_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--tier", required=True, help="Basic, Standard, Premium or Platinum")
    parser.add_argument("--phone", default="")
    parser.add_argument("--address", default="")
    parser.add_argument("--wait", type=float, default=120,
                        help="seconds to wait for a Platinum tenant's deployment (120)")
    args = parser.parse_args(argv)
    paths = StatePaths.from_environ()
    try:
        admin_api = paths.running()["adminApiUrl"]
    except NotRunning as error:
        print(error, file=sys.stderr)
        return 2
    body = {"tenantName": args.name, "tenantEmail": args.email, "tenantTier": args.tier}
    body |= {key: value for key, value in (("tenantPhone", args.phone),
                                           ("tenantAddress", args.address)) if value}
    print(f"Registering {args.name!r} ({args.tier}) at {admin_api}/registration ...")
    status, registered = _call("POST", f"{admin_api}/registration", body)
    if status >= 300:
        print(f"Registration refused ({status}): {registered.get('message')}", file=sys.stderr)
        return 1
    status, config = wait_for_tenant_api(admin_api, args.name, args.wait)
    admin = registered["tenantAdminUserName"]
    entry = CredentialsFile(paths.credentials).lookup(config.get("userPoolId", ""), admin)
    print("\n".join([
        registered["message"],
        f"  tenant id          {registered['tenantId']}",
        f"  tier               {registered['tenantTier']}",
        f"  stack              {_stack(registered)}",
        f"  tenant admin       {admin}",
        f"  password           {entry['password'] if entry else '(not recorded locally)'}"
        f"{'  (temporary: changed at first sign-in)' if entry and entry['temporary'] else ''}",
        f"  user pool / client {config.get('userPoolId')} / {config.get('appClientId')}",
        f"  tenant API         {config.get('apiGatewayUrl') or 'being provisioned'}",
        f"Get its ID token:   make token USER_NAME={admin} TENANT=\"{args.name}\"",
    ]))
    if status != 200:
        print(f"Its tenant API is not up after {args.wait:.0f} s ({status}): see the "
              f"`make local` output and {paths.logs}/", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
