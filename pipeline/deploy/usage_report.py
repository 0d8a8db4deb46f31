"""``make usage-report``: the usage report of a range of UTC days, written as one HTML page.

    python -m pipeline.deploy.usage_report [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                                           [--target local|aws] [--region R] [--out DIR]

``--from`` and ``--to`` are UTC days, both included (default: the last 30 days, today's
included). local (the default) reads the running ``make local``'s tables through its emulator;
aws reads the account's tables with the operator's credentials (the environment's or the
profile's, ``--region`` or theirs): the same reading, only the clients differ. The page goes to
``<out>/usage-<timestamp>.html`` and ``<out>/usage-latest.html`` (default out: the local state
folder's ``reports/``, ``.local/reports``), whichever target was read.

What is read: every tenant record (tombstones left out) and every tenant's daily usage rows,
from the first the table holds to the range's end (what a tenant stores is the sum of its
earlier days' changes; the Scan costs the whole table's size whatever the range, see
``UsageRecords.tenants_days``). Exit codes: 0 written; 1 a read failed; 2 nothing was read
(the command line, or no platform running).

The model and the page are ``pipeline.usage.report_model`` and ``report_html``; this command
lives here, beside ``make billing-export``'s, because it needs the local platform's state and
clients (``pipeline.local_cloud``), and ``pipeline.usage`` sits below the offboarding.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipeline.local_cloud.local_platform import emulator_clients
from pipeline.local_cloud.state import NotRunning, StatePaths
from pipeline.usage.report_html import render
from pipeline.usage.report_model import UsageReport, build_report
from tenant_context.platform.aws_clients import AwsClients
from tenant_context.platform.cost_model import published_prices
from tenant_context.platform.definitions import TENANT_DETAILS_TABLE, USAGE_TABLE
from tenant_context.platform.tenant_records import TenantRecord, every_tenant
from tenant_context.platform.usage_records import (
    HISTORY_START,
    MAX_PAGE_SIZE,
    UsageRecords,
    UsageRow,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

LOCAL, AWS = "local", "aws"
DEFAULT_DAYS = 30
MAX_DAYS = 366
USAGE_ERROR, READ_ERROR = 2, 1


class UsageProblem(Exception):  # noqa: N818 - read as "a usage problem: <what>"
    """Found before anything is read: exit code 2."""


@dataclass(frozen=True)
class Tools:
    """What ``main`` reaches the outside through; tests pass their own."""

    session: Callable[..., boto3.session.Session] = boto3.session.Session
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m pipeline.deploy.usage_report",
                                          description=__doc__.split("\n\n")[0])
    main_parser.add_argument("--from", dest="first", default="",
                             help="the first UTC day, YYYY-MM-DD (default: 29 days before --to)")
    main_parser.add_argument("--to", dest="last", default="",
                             help="the last UTC day, included, YYYY-MM-DD (default: today)")
    return where_to_read(main_parser, "folder for the page (default: .local/reports)")


def where_to_read(main_parser: argparse.ArgumentParser, out_help: str
                  ) -> argparse.ArgumentParser:
    """The options every usage command shares: which platform to read, and where to write."""
    main_parser.add_argument("--target", choices=[LOCAL, AWS], default=LOCAL,
                             help="local: the running local platform (default); aws: the "
                                  "account, with your credentials")
    main_parser.add_argument("--region", default="", help="aws: region (default: "
                                                          "AWS_DEFAULT_REGION or the profile's)")
    main_parser.add_argument("--out", default="", help=out_help)
    return main_parser


def report_range(first: str, last: str, today: date) -> tuple[date, date]:
    """``[start, end)`` from the command line's days (``end``: the day after ``--to``)."""
    problems = []
    days: list[date | None] = []
    for option, text in (("--from (FROM=...)", first), ("--to (TO=...)", last)):
        try:
            days.append(date.fromisoformat(text) if text else None)
        except ValueError:
            problems.append(f"{option} {text!r}: a day as YYYY-MM-DD")
            days.append(None)
    if problems:
        raise UsageProblem("; ".join(problems))
    end_day = days[1] or today
    start = days[0] or end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start > end_day:
        raise UsageProblem(f"--from {start} is after --to {end_day}")
    if (end_day - start).days + 1 > MAX_DAYS:
        raise UsageProblem(f"{start} to {end_day} is more than {MAX_DAYS} days: a report "
                           f"draws a point per day, so report a year at most")
    return start, end_day + timedelta(days=1)


def listed_tenants(dynamodb: DynamoDBClient) -> list[TenantRecord]:
    """Every tenant's record (an offboarded tenant's tombstone is no tenant)."""
    return list(every_tenant(dynamodb, TENANT_DETAILS_TABLE.name))


def daily_rows(records: UsageRecords, end: date) -> Iterator[UsageRow]:
    """Every tenant's daily rows before ``end``, page by page."""
    token: str | None = None
    until = datetime.combine(end, time(), tzinfo=UTC)
    while True:
        page = records.tenants_days(HISTORY_START, until, limit=MAX_PAGE_SIZE,
                                    next_token=token)
        yield from page.rows
        token = page.next_token
        if token is None:
            return


def read_report(clients: AwsClients, start: date, end: date) -> UsageReport:
    """The report from the platform's tables (the emulator's, or the account's)."""
    records = UsageRecords(clients.dynamodb, USAGE_TABLE.name)
    tenants = listed_tenants(clients.dynamodb)
    first, until = (datetime.combine(day, time(), tzinfo=UTC) for day in (start, end))
    return build_report(daily_rows(records, end), tenants, published_prices(), start, end,
                        active_users={tenant.tenant_id: records.active_users(
                            tenant.tenant_id, first, until) for tenant in tenants})


def write_page(html: str, folder: Path, moment: datetime) -> tuple[Path, Path]:
    """The page, timestamped, and the same as ``usage-latest.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    stamped = folder / f"usage-{moment.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.html"
    latest = folder / "usage-latest.html"
    stamped.write_text(html, encoding="utf-8")
    latest.write_text(html, encoding="utf-8")
    return stamped, latest


def main(argv: list[str] | None = None, tools: Tools | None = None) -> int:
    tools = tools or Tools()
    args = parser().parse_args(argv)
    now = tools.now()
    try:
        start, end = report_range(args.first, args.last, now.astimezone(UTC).date())
        paths = StatePaths.from_environ()
        if args.target == AWS:
            clients = AwsClients(tools.session(region_name=args.region or None))
        else:
            clients = emulator_clients(paths.running()["emulatorUrl"])
        report = read_report(clients, start, end)
    except (UsageProblem, NotRunning) as problem:
        print(f"error: {problem}", file=tools.err)
        return USAGE_ERROR
    except (ClientError, BotoCoreError) as error:
        print(f"error: reading the tables: {' '.join(str(error).split())}", file=tools.err)
        return READ_ERROR
    stamped, latest = write_page(render(report, now), Path(args.out) if args.out
                                 else paths.root / "reports", now)
    candidates = ", ".join(tenant.label for tenant in report.silo_candidates) or "none"
    print(f"Usage report {start} to {end - timedelta(days=1)}: {len(report.tenants)} tenants "
          f"with requests, silo candidates: {candidates}\n  {stamped}\n  {latest}",
          file=tools.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
