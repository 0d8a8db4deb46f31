"""Acceptance (#18): ``make usage-report``'s page, made from the tables, in a real browser.

Three tenants of different tiers have their requests recorded by the usage meter into the
session emulator's usage table; the report's command reads the tables as it does under
``make local`` (a ``platform.json`` naming the emulator) and writes the page; headless Chromium
(Debian's ``chromium`` and ``chromium-driver``, driven by Selenium, which downloads nothing:
the driver is given) opens the file with no server and checks that every chart rendered (an
SVG of non-zero size, and for each tenant a visible mark), that the silo candidates list shows
the busy Basic tenant, and saves a screenshot. No Chromium is a failure, not a skip: CI
installs it (.ci/run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from pipeline.usage.report_html import (
    CHARTS,
    COST_PER_DAY,
    COST_VS_REVENUE_PER_TENANT,
    REQUESTS_PER_DAY,
    SILO_CANDIDATES,
    TOP_TENANTS_BY_COST,
)
from tests.pipeline.usage.report_fixtures import Load, load_usage
from tests.support.readme_commands import run_make
from tests.support.world import World

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FIRST_DAY = date(2047, 5, 1)  # a range no other test writes: the report reads every tenant
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1000,900")
# Charts with a mark per tenant (a line's dots, a bar) where each tenant's is drawn with an
# area; in the per-tier stacks a tenant's segment is as tall as its figure (0 for none).
PER_TENANT = (REQUESTS_PER_DAY, COST_PER_DAY, TOP_TENANTS_BY_COST, COST_VS_REVENUE_PER_TENANT)
# Per tenant, whether the page's layout gave any of its marks an area (not just markup).
TENANT_MARKS = """
const chart = document.querySelector(`svg[data-chart="${arguments[0]}"]`);
const shown = {};
for (const mark of chart.querySelectorAll('[data-tenant]')) {
  const box = mark.getBoundingClientRect();
  shown[mark.dataset.tenant] = shown[mark.dataset.tenant] || (box.width > 0 && box.height > 0);
}
return shown;
"""


@pytest.fixture(scope="module")
def load(world: World) -> Load:
    return load_usage(world, FIRST_DAY)


@pytest.fixture
def page(load: Load, emulator_url: str, tmp_path: Path) -> Path:
    """``make usage-report FROM=... TO=...`` against the tables, as under ``make local`` (a
    state folder whose ``platform.json`` names the emulator)."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "platform.json").write_text(json.dumps({"emulatorUrl": emulator_url}))
    done = run_make("usage-report", f"FROM={load.first.isoformat()}",
                    f"TO={load.last.isoformat()}", state_dir=state)
    assert done.returncode == 0, done.stdout + done.stderr
    (stamped,) = (state / "reports").glob("usage-2*.html")
    latest = state / "reports" / "usage-latest.html"
    assert stamped.read_bytes() == latest.read_bytes()
    assert f"  {stamped}\n  {latest}\n" in done.stdout
    assert "silo candidates: " + load.basic.record.tenant_name in done.stdout
    return latest


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: the usage report's browser test needs "
                    f"Debian's Chromium and its driver (apt-get install -y chromium "
                    f"chromium-driver; .ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_every_chart_renders_every_tenant_and_the_silo_candidate(
        page: Path, load: Load, browser: webdriver.Chrome, tmp_path: Path) -> None:
    browser.get(page.as_uri())
    loaded = {each.record.tenant_id for each in load.tenants}
    for chart in CHARTS:
        svg = browser.find_element(By.CSS_SELECTOR, f'svg[data-chart="{chart}"]')
        assert svg.size["width"] > 0, chart
        assert svg.size["height"] > 0, chart
        shown: dict[str, bool] = browser.execute_script(TENANT_MARKS, chart)
        assert loaded <= set(shown), f"{chart}: no mark of {loaded - set(shown)}"
        if chart in PER_TENANT:
            hidden = {tenant for tenant in loaded if not shown[tenant]}
            assert not hidden, f"{chart}: no visible mark of {hidden}"
    candidates = browser.find_elements(
        By.CSS_SELECTOR, f'[data-list="{SILO_CANDIDATES}"] li[data-tenant]')
    assert [each.get_attribute("data-tenant") for each in candidates] == [
        load.basic.record.tenant_id]
    assert load.basic.record.tenant_name in candidates[0].text
    assert load.basic.record.tenant_id in candidates[0].text
    # The whole page in one picture: a viewport as tall as the page.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1000, "height": int(height), "deviceScaleFactor": 1, "mobile": False})
    screenshot = tmp_path / "usage-report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
