"""``make usage-report``'s command line (``pipeline.deploy.usage_report``): its default range,
refusals before anything is read (exit 2, naming the option), no platform running (exit 2,
saying how to start it), a failing read (exit 1), and the page's two files."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest

from pipeline.deploy import usage_report
from tenant_context.config import Env

NOW = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = usage_report.main(argv, usage_report.Tools(now=lambda: NOW, out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def test_the_default_range_is_the_last_30_days_today_included() -> None:
    assert usage_report.report_range("", "", NOW.date()) == (date(2026, 11, 2), date(2026, 12, 2))
    assert usage_report.report_range("", "2026-02-10", NOW.date()) == (
        date(2026, 1, 12), date(2026, 2, 11))
    assert usage_report.report_range("2026-12-01", "2026-12-01", NOW.date()) == (
        date(2026, 12, 1), date(2026, 12, 2))


@pytest.mark.parametrize(("argv", "says"), [
    (["--from", "2026-13-01"], "--from (FROM=...) '2026-13-01': a day as YYYY-MM-DD"),
    (["--to", "yesterday"], "--to (TO=...) 'yesterday': a day as YYYY-MM-DD"),
    (["--from", "2026-12-02", "--to", "2026-12-01"], "--from 2026-12-02 is after --to"),
    (["--from", "2024-12-31", "--to", "2026-01-01"], "more than 366 days"),
])
def test_bad_ranges_are_refused_before_anything_is_read(
        argv: list[str], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(Env.LOCAL_STATE_DIR, str(tmp_path))
    code, out, err = run(argv)
    assert (code, out) == (2, "")
    assert says in err
    assert not (tmp_path / "reports").exists()


def test_no_platform_running_is_one_line(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(Env.LOCAL_STATE_DIR, str(tmp_path))  # no platform.json
    assert run([]) == (2, "", "error: The local platform is not running: start it with "
                              "`make local`.\n")


def test_a_failing_read_is_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TARGET=aws with credentials the endpoint refuses: the error, no page."""
    monkeypatch.setenv(Env.LOCAL_STATE_DIR, str(tmp_path))

    def session(**kwargs: str | None) -> boto3.session.Session:
        return boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                     region_name="us-east-1")

    monkeypatch.setenv(Env.AWS_ENDPOINT_URL, "http://127.0.0.1:9")  # nothing listens
    err = io.StringIO()
    code = usage_report.main(["--target", "aws"], usage_report.Tools(
        session=session, now=lambda: NOW, out=io.StringIO(), err=err))
    assert code == 1
    assert err.getvalue().startswith("error: reading the tables: ")
    assert not (tmp_path / "reports").exists()


def test_write_page_names_the_moment_and_the_latest(tmp_path: Path) -> None:
    stamped, latest = usage_report.write_page("<p>page</p>", tmp_path / "reports", NOW)
    assert stamped == tmp_path / "reports" / "usage-20261201T235900Z.html"
    assert latest == tmp_path / "reports" / "usage-latest.html"
    assert stamped.read_text() == latest.read_text() == "<p>page</p>"
