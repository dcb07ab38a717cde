"""The dashboard in a real headless Chromium (Debian package) driven by Playwright, against uvicorn.

Checks what only a browser shows: ECharts (served from /static) draws the Sankey with data, the KPI tiles
carry the numbers of `energy_balance`, the language switch, the upload form's fetch() and its report
tables, and tenant scoping. A screenshot of the overview is written to /tmp/overview.png.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from parkzero.api.app import create_app
from parkzero.config import Settings
from parkzero.energy import flows
from parkzero.registry.scope import Scope
from parkzero.store import open_store
from tests.web import world

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DATA = Path(__file__).parent / "data"
SCREENSHOT = Path("/tmp/overview.png")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """uvicorn on a free local port in a background thread, over a DuckDB store with the test world."""
    tmp = tmp_path_factory.mktemp("browser")
    store = world.build(open_store(f"duckdb:///{tmp / 'park.duckdb'}"))
    app = create_app(Settings(database_url="unused://", data_dir=tmp, secret_key=world.SECRET), store=store)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        srv.should_exit = True
        thread.join(10)
        store.close()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (scripts/test.sh does)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _login(browser, base: str, username: str, lang: str = "en"):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.goto(f"{base}/?lang={lang}")
    assert "/login" in page.url
    page.fill("#username", username)
    page.fill("#password", world.PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    return context, page


def test_overview_charts_kpis_and_language(server, browser):
    base, store = server
    context, page = _login(browser, base, "op")
    try:
        assert page.url.rstrip("/") == base or page.url.startswith(f"{base}/?")
        page.wait_for_function("window.parkzeroCharts && window.parkzeroCharts['chart-sankey']")
        # the Sankey is drawn on a canvas by the ECharts served from /static, with the flows as data
        assert page.locator("#chart-sankey canvas").count() >= 1
        option = page.evaluate(
            "() => { const o = echarts.getInstanceByDom(document.getElementById('chart-sankey')).getOption();"
            " return {type: o.series[0].type, nodes: o.series[0].data.map(n => n.name),"
            " links: o.series[0].links.map(l => [l.source, l.target, l.value])}; }"
        )
        assert option["type"] == "sankey"
        assert {"grid", "pv", "park", "tenant:steel", "tenant:office"} <= set(option["nodes"])
        links = {(s, t): v for s, t, v in option["links"]}
        balance = flows.energy_balance(store, Scope.system(), "p1", date(2025, 3, 1), date(2025, 4, 1))
        assert links[("grid", "park")] == pytest.approx(balance.grid_import_kwh, abs=1e-3)
        assert links[("pv", "park")] == pytest.approx(balance.pv_generation_kwh, abs=1e-3)
        for chart in ("chart-tenants", "chart-pv", "chart-comparison"):
            n = page.evaluate(
                f"() => echarts.getInstanceByDom(document.getElementById('{chart}')).getOption().series[0].data.length"
            )
            assert n > 0, chart
        # KPI tiles carry exactly the balance of the default period (March 2025, the latest month with data)
        for key in (
            "self_sufficiency_pct",
            "self_consumption_pct",
            "pv_generation_kwh",
            "consumption_kwh",
            "grid_import_kwh",
            "grid_export_kwh",
        ):
            tile = page.locator(f'[data-kpi="{key}"]')
            assert float(tile.get_attribute("data-value")) == pytest.approx(getattr(balance, key)), key
        shown = page.locator('[data-kpi="pv_generation_kwh"] .kpi-value').inner_text()
        assert shown == f"{balance.pv_generation_kwh:,.0f} kWh"
        assert page.locator('[data-kpi="self_sufficiency_pct"] .kpi-value').inner_text() == (
            f"{balance.self_sufficiency_pct:.1f} %"
        )
        page.wait_for_timeout(600)  # let the charts' entry animation finish before the screenshot
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        page.click('a[data-lang="zh"]')
        page.wait_for_load_state("networkidle")
        assert "自给率" in page.locator('[data-kpi="self_sufficiency_pct"] .kpi-label').inner_text()
        assert page.locator("h2", has_text="能流图").count() == 1
        page.wait_for_function("window.parkzeroCharts && window.parkzeroCharts['chart-sankey']")
        labels = page.evaluate(
            "() => JSON.parse(document.getElementById('page-data').textContent).sankey.nodes.map(n => n.label)"
        )
        assert "电网" in labels and "光伏" in labels
        # the language is remembered without ?lang=
        page.goto(f"{base}/")
        assert "园区总览" in page.content()
    finally:
        context.close()


def test_upload_report_and_errors(server, browser):
    base, _store = server
    context, page = _login(browser, base, "office-user")
    try:
        assert "/tenants/office" in page.url  # an enterprise user lands on its own page
        page.goto(f"{base}/upload?lang=en")
        page.set_input_files("#upload-file", str(DATA / "office_upload.csv"))
        page.click("#upload-submit")
        page.wait_for_selector('#upload-result[data-state="ok"]')
        assert "4 new readings" in page.locator("#upload-status").inner_text()
        inserted = page.locator('#upload-report tr[data-field="inserted"] td').nth(1).inner_text()
        assert inserted == "4"

        page.set_input_files("#upload-file", str(DATA / "office_upload_bad.csv"))
        page.click("#upload-submit")
        page.wait_for_selector('#upload-result[data-state="rejected"]')
        assert "nothing was saved" in page.locator("#upload-status").inner_text()
        rows = page.locator("#upload-issues tbody tr")
        assert rows.count() == 2
        first = [rows.nth(0).locator("td").nth(i).inner_text() for i in range(5)]
        assert first[:3] == ["office_upload_bad.csv", "3", "value"] and first[4] == "abc"
        second = [rows.nth(1).locator("td").nth(i).inner_text() for i in range(5)]
        assert second[1:3] == ["4", "channel"] and "no.such.channel" in second[3]
        assert page.locator("#upload-report").is_hidden()
    finally:
        context.close()


def test_enterprise_user_cannot_open_another_tenant(server, browser):
    base, _store = server
    context, page = _login(browser, base, "office-user")
    try:
        response = page.goto(f"{base}/tenants/steel?lang=en")
        assert response is not None and response.status == 404
        assert "Steel Processing" not in page.content()
        assert page.goto(f"{base}/tenants/office").status == 200
        assert page.locator('#channel-table tr[data-channel="office.main"]').count() == 1
    finally:
        context.close()
