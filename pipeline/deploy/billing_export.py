"""``make billing-export``: a UTC month's usage per tenant and meter, priced, written as CSV and
as JSON billing events (``pipeline.usage.billing_export``; README "Billing export").

    python -m pipeline.deploy.billing_export --month 2026-11 [--tenant-id ID]
                                             [--format csv|json] [--target local|aws]
                                             [--region R] [--out DIR]

local (the default) reads the running ``make local``'s tables through its emulator; aws reads
the account's tables with the operator's credentials (the environment's or the profile's,
``--region`` or theirs): the same code, only the clients differ. The files go to
``<out>/billing-<month>[-<tenantId>].csv`` and ``.json`` (both unless ``--format`` says one;
default out: the local state folder's ``exports/billing``, ``.local/exports/billing``, whichever
target was read), readable by the user alone (0600: they name tenants and what they pay),
written whole or not at all.

Exit codes: 0 written; 1 a read failed (nothing written); 2 the command line (a malformed month,
a month not begun yet, an unknown tenant) or no platform running, nothing read or written.

Lives here, not in ``pipeline/usage``: it needs the local platform's state and clients
(``pipeline.local_cloud``), and ``pipeline.usage`` sits below the offboarding, which exports a
tenant's last billing events.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipeline.deploy.usage_report import AWS, where_to_read
from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.state import NotRunning, StatePaths
from pipeline.usage.billing_export import (
    BadMonthError,
    BillingExport,
    BillingLine,
    BillingMonth,
    check_begun,
    csv_text,
    events_document,
)
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.cost_model import published_prices
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE, USAGE_TABLE
from tenant_context.tenancy import is_tenant_id

CSV, JSON = "csv", "json"
USAGE_ERROR, READ_ERROR = 2, 1


class UsageProblem(Exception):  # noqa: N818 - read as "a usage problem: <what>"
    """Found before anything is written: exit code 2."""


@dataclass(frozen=True)
class Tools:
    """What ``main`` reaches the outside world through; tests pass their own."""

    session: Callable[..., boto3.session.Session] = boto3.session.Session
    paths: Callable[[], StatePaths] = StatePaths.from_environ  # the local state folder
    clients: Callable[[str], AwsClients] = emulator_clients  # the emulator's, by its URL
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m pipeline.deploy.billing_export",
                                          description=__doc__.split("\n\n")[0])
    main_parser.add_argument("--month", default="", help="the UTC month, YYYY-MM (required)")
    main_parser.add_argument("--tenant-id", default="", help="one tenant only (default: all)")
    main_parser.add_argument("--format", choices=[CSV, JSON], default="",
                             help="one file only (default: both)")
    return where_to_read(main_parser, "folder for the files (default: .local/exports/billing)")


def write_private(path: Path, text: str) -> None:
    """``text`` as ``path``, 0600, complete or absent (written beside it, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writing = path.with_name(path.name + ".writing")
    descriptor = os.open(writing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    writing.replace(path)


def write_files(lines: list[BillingLine], folder: Path, name: str, formats: list[str],
                now: datetime) -> list[Path]:
    written = []
    for kind in formats:
        path = folder / f"{name}.{kind}"
        write_private(path, csv_text(lines) if kind == CSV else
                      json.dumps(events_document(lines, now), indent=1) + "\n")
        written.append(path)
    return written


def _export(args: argparse.Namespace, tools: Tools) -> tuple[list[BillingLine], Path, str]:
    if not args.month:
        raise UsageProblem("--month (MONTH=...) is required: YYYY-MM, as 2026-11")
    month = BillingMonth.parse(args.month)
    check_begun(month, tools.now())
    if args.tenant_id and not is_tenant_id(args.tenant_id):
        raise UsageProblem(f"--tenant-id (TENANT_ID=...) {args.tenant_id!r} is not a tenant "
                           f"id (32 hexadecimal characters)")
    paths = tools.paths()
    if args.target == AWS:
        clients = AwsClients(tools.session(region_name=args.region or None))
    else:
        clients = tools.clients(str(paths.running()["emulatorUrl"]))
    export = BillingExport(clients.dynamodb, USAGE_TABLE.name, TENANT_DETAILS_TABLE.name,
                           published_prices(), tools.now)
    try:
        lines = export.month(month, args.tenant_id or None)
    except LookupError as error:
        raise UsageProblem(str(error).strip("'\"")) from None
    name = f"billing-{month}" + (f"-{args.tenant_id}" if args.tenant_id else "")
    return lines, Path(args.out) if args.out else paths.exports / "billing", name


def main(argv: list[str] | None = None, tools: Tools | None = None) -> int:
    tools = tools or Tools()
    args = parser().parse_args(argv)
    try:
        lines, folder, name = _export(args, tools)
    except (UsageProblem, BadMonthError, NotRunning) as problem:
        print(f"error: {str(problem).rstrip('.')}; nothing written", file=tools.err)
        return USAGE_ERROR
    except (ClientError, BotoCoreError) as error:
        print(f"error: reading the tables: {' '.join(str(error).split())}; nothing written",
              file=tools.err)
        return READ_ERROR
    written = write_files(lines, folder, name, [args.format] if args.format else [CSV, JSON],
                          tools.now())
    tenants = len({line.tenant_id for line in lines})
    final = "final" if all(line.final for line in lines) else "NOT final (the month is running)"
    print(f"Billing export {args.month}: {tenants} tenants, {len(lines)} lines, {final}",
          *(f"  {path}" for path in written), sep="\n", file=tools.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
