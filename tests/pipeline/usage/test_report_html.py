"""The usage report's page: every chart an SVG carrying each tenant's marks with their figures,
the silo candidates listed, names escaped, and nothing fetched from anywhere (no script, link,
image, font or URL but SVG's namespace)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import escape
from html.parser import HTMLParser

from pipeline.usage.report_html import CHARTS, SILO_CANDIDATES, TOP_TENANTS_BY_COST, render
from pipeline.usage.report_model import UsageReport, build_report
from tenant_context.tenancy import Tier
from tests.pipeline.usage.report_fixtures import ROUTE, day_row, tenant
from tests.support.price_list import PRICES

FIRST = date(2026, 11, 1)
GENERATED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


class Marks(HTMLParser):
    """Per chart (and for the candidates' list), the tenants its marks carry, with their
    ``data-value``s."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []  # the data-chart / data-list of each open container
        self.tenants: dict[str, set[str]] = defaultdict(set)
        self.values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.containers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        container = found.get("data-chart") or found.get("data-list")
        if container:
            self.containers.append(container)
        if tag in ("svg", "ul", "p"):
            self.open.append(container or "")
        tenant_id = found.get("data-tenant")
        if tenant_id and self.open and self.open[-1]:
            self.tenants[self.open[-1]].add(tenant_id)
            if found.get("data-value") is not None:
                self.values[self.open[-1]][tenant_id].append(str(found["data-value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("svg", "ul", "p"):
            self.open.pop()


def parsed(html: str) -> Marks:
    marks = Marks()
    marks.feed(html)
    return marks


def report() -> UsageReport:
    busy = tenant("Busy <b>&\"Co\"</b>", Tier.BASIC)
    light, big = tenant("Light", Tier.STANDARD), tenant("Big", Tier.PLATINUM)
    idle = tenant("Idle", Tier.PREMIUM)
    rows = [day_row(record.tenant_id, FIRST + timedelta(days=offset),
                    {(ROUTE, 200): count, (ROUTE, 429): throttled},
                    duration_ms=Decimal(count * 10), read_units=Decimal(count))
            for record, count, throttled in ((busy, 700, 20), (light, 90, 0), (big, 4000, 5))
            for offset in range(5)]
    return build_report(rows, [busy, light, big, idle], PRICES, FIRST,
                        FIRST + timedelta(days=5))


def test_every_chart_carries_every_tenant_with_requests() -> None:
    usage = report()
    marks = parsed(render(usage, GENERATED))
    assert marks.containers == [*CHARTS, SILO_CANDIDATES]
    with_requests = {summary.tenant_id for summary in usage.tenants}
    assert len(with_requests) == 3
    for chart in CHARTS:
        assert marks.tenants[chart] == with_requests, chart
    idle = usage.idle_tenants[0].tenant_id
    assert all(idle not in marks.tenants[chart] for chart in CHARTS)
    costs = {summary.tenant_id: [str(summary.cost.total)] for summary in usage.tenants}
    assert marks.values[TOP_TENANTS_BY_COST] == costs


def test_the_silo_candidates_and_the_criterion() -> None:
    usage = report()
    html = render(usage, GENERATED)
    (busy,) = usage.silo_candidates  # Basic, above 500 requests on all 5 days
    assert parsed(html).tenants[SILO_CANDIDATES] == {busy.tenant_id}
    assert escape(usage.criterion.describe()) in html
    assert escape(busy.silo_reasons[0]) in html


def test_names_are_escaped_and_shown_with_their_ids() -> None:
    usage = report()
    html = render(usage, GENERATED)
    assert "<b>&" not in html
    assert "Busy &lt;b&gt;&amp;&quot;Co&quot;&lt;/b&gt;" in html
    for summary in usage.tenants:
        assert summary.tenant_id in html


def test_the_page_fetches_nothing() -> None:
    html = render(report(), GENERATED).lower()
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import",
                   "@font-face"):
        assert needle not in html, needle
    assert set(re.findall(r"https?://[^\"' )]+", html)) == {"http://www.w3.org/2000/svg"}


def test_a_range_without_requests_still_draws_every_chart() -> None:
    usage = build_report([], [tenant("Quiet", Tier.BASIC)], PRICES, FIRST,
                         FIRST + timedelta(days=1))
    html = render(usage, GENERATED)
    marks = parsed(html)
    assert marks.containers == [*CHARTS, SILO_CANDIDATES]
    assert not any(marks.tenants.values())
    assert "None in this range." in html
