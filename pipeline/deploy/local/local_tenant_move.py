"""``make migrate-tenant``: move a tenant between the pool and its own Platinum deployment on the
running local platform, and follow the move to its end.

The move is requested as staff request it, through the admin API (``POST /tenant/move/{id}``,
signed in as the SystemAdmin), and carried out by the platform's mover; this prints each step
as the admin API reports it (``GET``), then a summary: items copied and removed, how long the
tenant's writes were refused, the whole duration. ``--dry-run`` changes nothing: it prints the
tenant, the steps and how many items would move.

    python -m pipeline.deploy.local.local_tenant_move --tenant-id ID --tier TIER [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pipeline.deploy.local.admin_calls import (
    CommandError,
    call,
    running_platform_for,
    system_admin_token,
)
from pipeline.lifecycle.item_copy import TenantItemCopier
from pipeline.lifecycle.tenant_move import move_sides
from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.state import StatePaths
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE
from tenant_context.platform.tenant_moves import DOWN_STEPS, UP_STEPS, TenantMoves
from tenant_context.tenancy import Tier


def dry_run(paths: StatePaths, tenant_id: str, tier: Tier) -> int:
    clients = emulator_clients(paths.running()["emulatorUrl"])
    found = TenantMoves(clients.dynamodb, TENANT_DETAILS_TABLE.name).record(tenant_id)
    if found is None:
        print(f"No tenant {tenant_id}", file=sys.stderr)
        return 1
    record, move = found
    upward = not tier.is_pooled
    if tier is record.tier or tier.is_pooled == record.tier.is_pooled:
        print(f"Nothing to move: tenant {tenant_id} is on {record.tier}; a move is between the "
              f"pool and Platinum (PUT /tenant/{tenant_id} changes a tier within the pool)",
              file=sys.stderr)
        return 1
    copier = TenantItemCopier(clients.dynamodb, tenant_id)
    counts = {source.service.item: copier.count(source)
              for source, _ in move_sides(tenant_id, upward)}
    print("\n".join([
        f"Dry run: nothing changed. Moving {record.tenant_name!r} ({tenant_id}) from "
        f"{record.tier} to {tier} would:",
        *(f"  {step}" for step in (UP_STEPS if upward else DOWN_STEPS)),
        "  items to copy: " + ", ".join(f"{count} {kind}" for kind, count in counts.items()),
        f"  {'a move is under way: ' + move.step if move and move.step.active else ''}",
    ]).rstrip())
    return 0


def follow(admin_api: str, token: str, tenant_id: str, timeout: float,
           poll_seconds: float = 0.5) -> int:
    """Print the move's steps as they change until it is done (0) or ``timeout`` passes."""
    started = time.monotonic()
    seen: tuple[str, str, str] | None = None
    while True:
        status, move = call("GET", f"{admin_api}/tenant/move/{tenant_id}", token)
        if status != 200:
            print(f"Reading the move failed ({status}): {move}", file=sys.stderr)
            return 1
        shown = (move["step"], json.dumps(move["copied"]), move.get("error") or "")
        if shown != seen:
            seen = shown
            copied = ", ".join(f"{n} {kind}" for kind, n in move["copied"].items())
            print(f"  {time.monotonic() - started:6.1f} s  {move['step']}"
                  f"{f'  (copied {copied})' if copied else ''}"
                  f"{'  writes paused' if move['writesPaused'] else ''}"
                  f"{'  last failure: ' + move['error'] if move.get('error') else ''}",
                  flush=True)
        if move["step"] == "done":
            paused = move.get("writesPausedSeconds")
            print("\n".join([
                f"Moved to {move['toTier']} in {time.monotonic() - started:.1f} s",
                "  copied   " + ", ".join(f"{n} {k}" for k, n in move["copied"].items()),
                "  removed  " + ", ".join(f"{n} {k}" for k, n in move["removed"].items()),
                f"  writes paused {paused:.1f} s" if paused is not None else "",
            ]).rstrip())
            return 0
        if time.monotonic() - started > timeout:
            print(f"The move is still at {move['step']} after {timeout:.0f} s; it goes on in "
                  f"the platform (follow it: GET /tenant/move/{tenant_id})", file=sys.stderr)
            return 1
        time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--tier", required=True, help="Platinum, or a pooled tier to move back")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--wait", type=float, default=900,
                        help="seconds to follow the move before leaving it to the platform")
    args = parser.parse_args(argv)
    try:
        tier = Tier.parse(args.tier)
    except ValueError as error:
        print(f"TIER: {error}", file=sys.stderr)
        return 2
    try:
        paths, state = running_platform_for(args.tenant_id)
        if args.dry_run:
            return dry_run(paths, args.tenant_id, tier)
        token = system_admin_token(paths, state)
    except CommandError as error:
        print(error, file=sys.stderr)
        return error.code
    admin_api = state["adminApiUrl"]
    status, answer = call("POST", f"{admin_api}/tenant/move/{args.tenant_id}", token,
                           {"tenantTier": tier.value})
    if status != 202:
        print(f"Move refused ({status}): {answer.get('message')}", file=sys.stderr)
        return 1
    print(answer["message"], flush=True)
    return follow(admin_api, token, args.tenant_id, args.wait)


if __name__ == "__main__":
    sys.exit(main())
