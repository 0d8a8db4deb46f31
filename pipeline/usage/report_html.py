"""The usage report as ONE self-contained HTML page: a ``UsageReport`` in, a string out.

Self-contained because an operator opens it from disk, offline, or mails it: the charts are
inline SVG drawn here, the style is inline CSS, and there is no script, font, image or link
to fetch (a hover shows a mark's figures through SVG ``<title>``, which needs no script).

Each chart is an ``<svg data-chart="<name>">`` (``CHARTS``) and each tenant's mark in it
carries ``data-tenant="<tenant id>"``, so a test (or a reader's browser tools) can check that
every chart holds every tenant; tenants are labelled by name with their id. Colours follow a
tenant from chart to chart (by its place in the cost order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape

from pipeline.usage.report_model import TenantDay, TenantSummary, TierSummary, UsageReport

REQUESTS_PER_DAY = "requests-per-day"
COST_PER_DAY = "cost-per-day"
TOP_TENANTS_BY_COST = "top-tenants-by-cost"
THROTTLED_PER_TIER = "throttled-per-tier"
COST_VS_REVENUE_PER_TENANT = "cost-vs-revenue-per-tenant"
COST_VS_REVENUE_PER_TIER = "cost-vs-revenue-per-tier"
CHARTS = (REQUESTS_PER_DAY, COST_PER_DAY, TOP_TENANTS_BY_COST, THROTTLED_PER_TIER,
          COST_VS_REVENUE_PER_TENANT, COST_VS_REVENUE_PER_TIER)
SILO_CANDIDATES = "silo-candidates"  # the list's data-list

# Tableau's 10 colours: distinct, and legible on white.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")
REVENUE_COLOUR = "#d9d9d9"
IDLE_COLOUR = "#eeeeee"
WIDTH = 880
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 70, 20, 16, 40
LINE_HEIGHT = 240
BAR_ROW = 26  # px per tenant row of a horizontal bar chart
LABEL_WIDTH = 300  # px for a row's label (a tenant's name and id)
Y_TICKS = 4
# A tenant's bar is at least this wide, so a tenant costing under a cent can still be seen and
# hovered (its figure is in its label and title).
MIN_BAR = 2.0

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #222; margin: 24px auto; max-width: 920px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 28px 0 6px; }
.meta, .note { color: #555; } .note { font-size: 13px; }
svg { display: block; background: #fff; border: 1px solid #e3e3e3; margin: 6px 0; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .axis { stroke: #999; stroke-width: 1; } svg .grid { stroke: #eee; stroke-width: 1; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0; padding: 0; }
.legend li { list-style: none; } .swatch { display: inline-block; width: 12px; height: 12px;
  margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #eee; }
th:first-child, td:first-child, td.text { text-align: left; }
.id { color: #777; font-family: ui-monospace, monospace; font-size: 12px; }
.loss { color: #b00020; } .candidates li { margin: 4px 0; }
"""


def render(report: UsageReport, generated_at: datetime) -> str:
    """The page. ``generated_at``: when the figures were read (the page says so)."""
    colours = {tenant.tenant_id: PALETTE[index % len(PALETTE)]
               for index, tenant in enumerate(report.tenants)}
    last_day = report.days[-1]
    title = f"Usage per tenant, {report.start.isoformat()} to {last_day.isoformat()}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{len(report.days)} UTC days, both included; figures read '
        f"{escape(generated_at.isoformat(timespec='seconds'))}; "
        f"{len(report.tenants)} tenants with requests, {len(report.idle_tenants)} without. "
        f"Costs are estimates from the measured usage and AWS's published prices "
        f"(tenant_context/platform/prices.json), to the cent; not measured, so not counted: "
        f"{escape(', '.join(report.not_measured))}.</p>",
        _legend(report.tenants, colours),
        _section("Requests per day", _line_chart(
            REQUESTS_PER_DAY, report, colours, lambda day: Decimal(day.requests),
            _count)),
        _section("Cost per day (USD)", _line_chart(
            COST_PER_DAY, report, colours, lambda day: day.cost, _money)),
        _section("Top tenants by cost (USD, the whole range)", _bars(
            TOP_TENANTS_BY_COST, report.tenants, colours,
            lambda tenant: tenant.cost.total, _money)),
        _section("Throttled requests (429) per tier", _tier_stacks(
            THROTTLED_PER_TIER, report, colours, lambda tenant: Decimal(tenant.throttled),
            lambda tier: Decimal(tier.throttled), _count, revenue=False)),
        _section("Cost vs tier revenue per tenant (USD)", _cost_vs_revenue(
            report.tenants, colours)),
        _section("Cost vs revenue per tier (USD)", _tier_stacks(
            COST_VS_REVENUE_PER_TIER, report, colours, lambda tenant: tenant.cost.total,
            lambda tier: tier.cost, _money, revenue=True)),
        _silo_candidates(report),
        _tenant_table(report),
        "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _section(heading: str, body: str) -> str:
    return f"<section><h2>{escape(heading)}</h2>\n{body}\n</section>"


def _count(value: Decimal) -> str:
    return f"{value:,.0f}"


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _attribute(value: object) -> str:
    return escape(str(value), quote=True)


def _legend(tenants: Sequence[TenantSummary], colours: dict[str, str]) -> str:
    items = "".join(
        f'<li data-tenant="{_attribute(tenant.tenant_id)}"><span class="swatch" '
        f'style="background:{colours[tenant.tenant_id]}"></span>{escape(tenant.name)} '
        f'<span class="id">{escape(tenant.tenant_id)}</span> ({tenant.tier.value})</li>'
        for tenant in tenants)
    return f'<ul class="legend">{items}</ul>'


def _scale_top(values: Sequence[Decimal]) -> Decimal:
    """A round top for an axis holding ``values`` (1, 2 or 5 times a power of ten)."""
    top = max(values, default=Decimal(0))
    if top <= 0:
        return Decimal(1)
    step = Decimal(10) ** (top.adjusted())
    for factor in (1, 2, 5, 10):
        if factor * step >= top:
            return factor * step
    return 10 * step  # not reached: 10 x step is above any value of that magnitude


def _svg(chart: str, height: int, body: Sequence[str], description: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" data-chart="{chart}" role="img" '
            f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">'
            f"<title>{escape(description)}</title>" + "".join(body) + "</svg>")


def _y_axis(top: Decimal, plot_height: int, text: Callable[[Decimal], str]) -> list[str]:
    marks = []
    for tick in range(Y_TICKS + 1):
        value = top * tick / Y_TICKS
        y = PLOT_TOP + plot_height - plot_height * tick / Y_TICKS
        marks.append(f'<line class="grid" x1="{PLOT_LEFT}" x2="{WIDTH - PLOT_RIGHT}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{PLOT_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{escape(text(value))}</text>")
    return marks


def _line_chart(chart: str, report: UsageReport, colours: dict[str, str],
                value: Callable[[TenantDay], Decimal], text: Callable[[Decimal], str]) -> str:
    """One line per tenant over the days, a dot per day (its figure on hover)."""
    plot_width = WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = LINE_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    days = report.days
    top = _scale_top([value(day) for tenant in report.tenants for day in tenant.days])
    step = plot_width / max(len(days) - 1, 1)

    def x(index: int) -> float:
        return PLOT_LEFT + (index * step if len(days) > 1 else plot_width / 2)

    def y(amount: Decimal) -> float:
        return PLOT_TOP + plot_height - float(amount / top) * plot_height

    body = _y_axis(top, plot_height, text)
    label_every = max(1, -(-len(days) // 10))
    for index, day in enumerate(days):
        if index % label_every == 0:
            body.append(f'<text x="{x(index):.1f}" y="{LINE_HEIGHT - PLOT_BOTTOM + 18}" '
                        f'text-anchor="middle">{day.strftime("%b %d")}</text>')
    body.append(f'<line class="axis" x1="{PLOT_LEFT}" x2="{WIDTH - PLOT_RIGHT}" '
                f'y1="{PLOT_TOP + plot_height}" y2="{PLOT_TOP + plot_height}"/>')
    for tenant in report.tenants:
        colour = colours[tenant.tenant_id]
        tenant_id = _attribute(tenant.tenant_id)
        points = " ".join(f"{x(index):.1f},{y(value(day)):.1f}"
                          for index, day in enumerate(tenant.days))
        marks = [f'<polyline data-tenant="{tenant_id}" points="{points}" fill="none" '
                 f'stroke="{colour}" stroke-width="2"/>']
        marks += [f'<circle data-tenant="{tenant_id}" data-day="{day.day.isoformat()}" '
                  f'data-value="{value(day)}" cx="{x(index):.1f}" cy="{y(value(day)):.1f}" '
                  f'r="3" fill="{colour}"><title>{escape(tenant.label)}, '
                  f"{day.day.isoformat()}: {escape(text(value(day)))}</title></circle>"
                  for index, day in enumerate(tenant.days)]
        body.append(f'<g data-tenant="{tenant_id}">{"".join(marks)}</g>')
    return _svg(chart, LINE_HEIGHT, body, f"{chart}: one line per tenant, one dot per day")


def _bars(chart: str, tenants: Sequence[TenantSummary], colours: dict[str, str],
          value: Callable[[TenantSummary], Decimal], text: Callable[[Decimal], str]) -> str:
    """One horizontal bar per tenant, longest first."""
    ordered = sorted(tenants, key=lambda tenant: -value(tenant))
    top = _scale_top([value(tenant) for tenant in ordered])
    room = WIDTH - LABEL_WIDTH - 90
    body = []
    for row, tenant in enumerate(ordered):
        y = PLOT_TOP + row * BAR_ROW
        width = max(float(value(tenant) / top) * room, MIN_BAR)
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(_short(tenant))}</text>"
            f'<rect data-tenant="{_attribute(tenant.tenant_id)}" data-value="{value(tenant)}" '
            f'x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_ROW - 8}" '
            f'fill="{colours[tenant.tenant_id]}"><title>{escape(tenant.label)}: '
            f"{escape(text(value(tenant)))}</title></rect>"
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}">'
            f"{escape(text(value(tenant)))}</text>")
    height = PLOT_TOP * 2 + max(len(ordered), 1) * BAR_ROW
    return _svg(chart, height, body, f"{chart}: one bar per tenant")


def _short(tenant: TenantSummary) -> str:
    """A row's label: the name and the id's first 8 characters (the whole id on hover)."""
    return f"{tenant.name} ({tenant.tenant_id[:8]}…)"


def _cost_vs_revenue(tenants: Sequence[TenantSummary], colours: dict[str, str]) -> str:
    """Per tenant, its cost (its colour) over its tier's revenue (grey) for the range."""
    top = _scale_top([amount for tenant in tenants
                      for amount in (tenant.cost.total, tenant.revenue)])
    room = WIDTH - LABEL_WIDTH - 150
    row_height = BAR_ROW + 12
    body = []
    for row, tenant in enumerate(tenants):
        y = PLOT_TOP + row * row_height
        tenant_id = _attribute(tenant.tenant_id)
        revenue = float(tenant.revenue / top) * room
        cost = max(float(tenant.cost.total / top) * room, MIN_BAR)
        share = (f"{tenant.cost.total / tenant.revenue:.1%} of revenue" if tenant.revenue
                 else "no revenue")
        loss = ' class="loss"' if tenant.cost.total > tenant.revenue else ""
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">'
            f"{escape(_short(tenant))}</text>"
            f'<rect data-tenant="{tenant_id}" data-series="revenue" data-value="'
            f'{tenant.revenue}" x="{LABEL_WIDTH}" y="{y + 2}" width="{revenue:.1f}" '
            f'height="{row_height - 10}" fill="{REVENUE_COLOUR}"><title>{escape(tenant.label)}'
            f": {tenant.tier.value} revenue {_money(tenant.revenue)}</title></rect>"
            f'<rect data-tenant="{tenant_id}" data-series="cost" data-value="'
            f'{tenant.cost.total}" x="{LABEL_WIDTH}" y="{y + 8}" width="{cost:.1f}" '
            f'height="{row_height - 22}" fill="{colours[tenant.tenant_id]}"><title>'
            f"{escape(tenant.label)}: cost {_money(tenant.cost.total)}</title></rect>"
            f'<text{loss} x="{LABEL_WIDTH + max(revenue, cost) + 6:.1f}" y="{y + 17}">'
            f"{_money(tenant.cost.total)} / {_money(tenant.revenue)} ({share})</text>")
    height = PLOT_TOP * 2 + max(len(tenants), 1) * row_height
    return _svg(COST_VS_REVENUE_PER_TENANT, height, body,
                f"{COST_VS_REVENUE_PER_TENANT}: cost (colour) over the tier's revenue (grey)")


def _tier_stacks(chart: str, report: UsageReport, colours: dict[str, str],
                 value: Callable[[TenantSummary], Decimal],
                 tier_value: Callable[[TierSummary], Decimal], text: Callable[[Decimal], str],
                 *, revenue: bool) -> str:
    """A column per tier: its tenants' figures stacked (a segment per tenant, those without
    requests as one pale segment), and with ``revenue`` the tier's revenue beside it."""
    plot_height = LINE_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    heights = [tier_value(tier) for tier in report.tiers]
    if revenue:
        heights += [tier.revenue for tier in report.tiers]
    top = _scale_top(heights)
    slot = (WIDTH - PLOT_LEFT - PLOT_RIGHT) / len(report.tiers)
    column = min(70.0, slot / 3)
    body = _y_axis(top, plot_height, text)
    base = PLOT_TOP + plot_height

    def height_of(amount: Decimal) -> float:
        return float(amount / top) * plot_height

    for index, tier in enumerate(report.tiers):
        left = PLOT_LEFT + index * slot + (slot - (2 * column + 6 if revenue else column)) / 2
        y = float(base)
        stacked = Decimal(0)
        for tenant in report.tenants:
            if tenant.tier is not tier.tier:
                continue
            amount = value(tenant)
            stacked += amount
            height = height_of(amount)
            y -= height
            body.append(
                f'<rect data-tenant="{_attribute(tenant.tenant_id)}" data-tier="{tier.tier}" '
                f'data-value="{amount}" x="{left:.1f}" y="{y:.1f}" width="{column:.1f}" '
                f'height="{height:.1f}" fill="{colours[tenant.tenant_id]}"><title>'
                f"{escape(tenant.label)}: {escape(text(amount))}</title></rect>")
        rest = tier_value(tier) - stacked  # the tenants without requests
        if rest > 0:
            height = height_of(rest)
            y -= height
            body.append(f'<rect data-idle="true" data-tier="{tier.tier}" data-value="{rest}" '
                        f'x="{left:.1f}" y="{y:.1f}" width="{column:.1f}" '
                        f'height="{height:.1f}" fill="{IDLE_COLOUR}" stroke="#ccc"><title>'
                        f"{tier.tier} tenants without requests: {escape(text(rest))}</title>"
                        f"</rect>")
        label = text(tier_value(tier))
        if revenue:
            height = height_of(tier.revenue)
            body.append(
                f'<rect data-tier="{tier.tier}" data-series="revenue" '
                f'data-value="{tier.revenue}" x="{left + column + 6:.1f}" '
                f'y="{base - height:.1f}" width="{column:.1f}" height="{height:.1f}" '
                f'fill="{REVENUE_COLOUR}"><title>{tier.tier} revenue '
                f"{_money(tier.revenue)}</title></rect>")
            label = f"{label} / {_money(tier.revenue)}"
        centre = PLOT_LEFT + index * slot + slot / 2
        body.append(f'<text x="{centre:.1f}" y="{base + 16}" text-anchor="middle">'
                    f"{tier.tier} ({tier.tenants})</text>"
                    f'<text x="{centre:.1f}" y="{base + 30}" text-anchor="middle">'
                    f"{escape(label)}</text>")
    body.append(f'<line class="axis" x1="{PLOT_LEFT}" x2="{WIDTH - PLOT_RIGHT}" '
                f'y1="{base}" y2="{base}"/>')
    description = (f"{chart}: per tier, its tenants stacked"
                   + (", its revenue beside (grey)" if revenue else ""))
    return _svg(chart, LINE_HEIGHT + 10, body, description)


def _silo_candidates(report: UsageReport) -> str:
    criterion = escape(report.criterion.describe())
    candidates = report.silo_candidates
    items = "".join(
        f'<li data-tenant="{_attribute(tenant.tenant_id)}"><strong>{escape(tenant.name)}'
        f'</strong> <span class="id">{escape(tenant.tenant_id)}</span> ({tenant.tier.value}): '
        f"{escape('; '.join(tenant.silo_reasons))}</li>" for tenant in candidates)
    listing = (f'<ul class="candidates" data-list="{SILO_CANDIDATES}">{items}</ul>' if items
               else f'<p data-list="{SILO_CANDIDATES}">None in this range.</p>')
    return (f"<section><h2>Pooled tenants whose usage suggests a silo</h2>"
            f'<p class="note">Criterion: {criterion}. A candidate moves with <code>make '
            f"migrate-tenant TENANT_ID=... TIER=Platinum</code>.</p>{listing}</section>")


def _tenant_table(report: UsageReport) -> str:
    rows = []
    for tenant in (*report.tenants, *report.idle_tenants):
        loss = ' class="loss"' if tenant.cost.total > tenant.revenue else ""
        rows.append(
            f'<tr data-tenant="{_attribute(tenant.tenant_id)}"><td class="text">'
            f'{escape(tenant.name)}<br><span class="id">{escape(tenant.tenant_id)}</span></td>'
            f'<td class="text">{tenant.tier.value}</td><td>{tenant.requests:,}</td>'
            f"<td>{tenant.throttled:,}</td><td{loss}>{_money(tenant.cost.total)}</td>"
            f"<td>{_money(tenant.revenue)}</td></tr>")
    unlisted = ""
    if report.unlisted_tenant_ids:
        unlisted = (f'<p class="note">Usage of {len(report.unlisted_tenant_ids)} tenant ids '
                    f"not in the tenant table (offboarded), not shown: "
                    f"{escape(', '.join(report.unlisted_tenant_ids))}.</p>")
    return ("<section><h2>Every tenant</h2><table><thead><tr><th>Tenant</th><th>Tier</th>"
            "<th>Requests</th><th>Throttled</th><th>Cost</th><th>Revenue</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{unlisted}</section>")
