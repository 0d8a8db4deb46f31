"""``make offboard-tenant``: offboard a tenant of the running local platform, or undo it within
its grace period, and follow it to its end.

Requested as staff request it, through the admin API (``POST /tenant/offboarding/{id}``, signed
in as the SystemAdmin, with the tenant's name typed back as the confirmation); the tenant is
deactivated at once and erased by the platform once the grace period
(``OFFBOARDING_GRACE_SECONDS`` in ``make local``'s environment; 3 days by default) is over. This
prints the steps as the admin API reports them, then the export's location, what was erased
and what the verification found (nothing, or it says so). ``--dry-run`` changes nothing: it
prints what the platform holds under the tenant's id. ``--undo`` takes the request back.

    python -m pipeline.deploy.local.local_tenant_offboarding --tenant-id ID --confirm NAME
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from pipeline.deploy.local.admin_calls import (
    CommandError,
    call,
    running_platform_for,
    system_admin_token,
)
from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.provisioning.lifecycle_runner import local_offboarder
from pipeline.local_cloud.state import StatePaths
from tenant_context.platform.invitations import CredentialsFile


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {what}" for what, count in counts.items()) or "none"


def dry_run(paths: StatePaths, state: dict[str, Any], tenant_id: str) -> int:
    clients = emulator_clients(state["emulatorUrl"])
    offboarder = local_offboarder(clients, paths.exports, CredentialsFile(paths.credentials))
    held = {what: count for what, count in offboarder.remains(tenant_id).items() if count}
    print(f"Dry run: nothing changed. Offboarding tenant {tenant_id} would deactivate it now, "
          f"then after the grace period export and erase:")
    for what, count in held.items():
        print(f"  {count:6d}  {what}")
    if not held:
        print("  nothing: no such tenant, or already offboarded")
    return 0


def follow(admin_api: str, token: str, tenant_id: str, timeout: float,
           poll_seconds: float = 0.5) -> int:
    started = time.monotonic()
    seen = ""
    while True:
        status, offboarding = call("GET", f"{admin_api}/tenant/offboarding/{tenant_id}", token)
        if status != 200:
            print(f"Reading the offboarding failed ({status}): {offboarding}", file=sys.stderr)
            return 1
        step = offboarding["step"]
        shown = f"{step} {offboarding.get('error') or ''}"
        if shown != seen:
            seen = shown
            failure = offboarding.get("error")
            print(f"  {time.monotonic() - started:6.1f} s  {step}"
                  f"{'  last failure: ' + failure if failure else ''}", flush=True)
        if step in ("done", "cancelled"):
            if step == "done":
                print("\n".join([
                    f"Offboarded in {time.monotonic() - started:.1f} s",
                    f"  export    {offboarding['exportLink']}",
                    f"  exported  {_counts(offboarding['exported'])}",
                    f"  erased    {_counts(offboarding['erased'])}",
                    f"  left      {sum(offboarding['remaining'].values())} "
                    f"(verified: {', '.join(offboarding['remaining'])})",
                ]))
            return 0
        if time.monotonic() - started > timeout:
            print(f"The offboarding is at {step} (grace until {offboarding['graceUntil']}); "
                  f"the platform goes on with it: follow it with GET "
                  f"/tenant/offboarding/{tenant_id}")
            return 0
        time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--confirm", default="", help="the tenant's name, typed back")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--undo", action="store_true", help="take back a request in its grace")
    parser.add_argument("--wait", type=float, default=120,
                        help="seconds to follow it before leaving it to the platform")
    args = parser.parse_args(argv)
    try:
        paths, state = running_platform_for(args.tenant_id)
        if args.dry_run:
            return dry_run(paths, state, args.tenant_id)
        token = system_admin_token(paths, state)
    except CommandError as error:
        print(error, file=sys.stderr)
        return error.code
    route = f"{state['adminApiUrl']}/tenant/offboarding/{args.tenant_id}"
    if args.undo:
        status, answer = call("DELETE", route, token)
        if status != 200:
            print(f"Undo refused ({status}): {answer.get('message')}", file=sys.stderr)
            return 1
        print(f"Offboarding of {args.tenant_id} undone: the tenant is active again")
        return 0
    if not args.confirm:
        print("CONFIRM: type the tenant's name back to confirm (CONFIRM=\"<tenant name>\")",
              file=sys.stderr)
        return 2
    status, answer = call("POST", route, token, {"confirmTenantName": args.confirm})
    if status != 202:
        print(f"Offboarding refused ({status}): {answer.get('message')}", file=sys.stderr)
        return 1
    print(answer["message"], flush=True)
    return follow(state["adminApiUrl"], token, args.tenant_id, args.wait)


if __name__ == "__main__":
    sys.exit(main())
