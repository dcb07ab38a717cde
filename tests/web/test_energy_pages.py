"""The energy pages over the demo park's year: the dashboard, the sizing study and the resilience report show the
figures of `parkzero.energy.study`, in both languages, to the operator only; and in a real Chromium their
ECharts charts are drawn with data."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
import uvicorn
from fastapi.testclient import TestClient

from parkzero.api.app import create_app
from parkzero.config import Settings
from parkzero.demo.build import DEMO_PASSWORD, build_demo
from parkzero.energy import study
from parkzero.registry.scope import Scope
from parkzero.store import open_store
from tests.web.test_browser import ARGS, CHROMIUM, _free_port

pytestmark = pytest.mark.slow
SECRET = "test-secret-for-hs256-at-least-32-bytes"
PARK = "baoshan-demo"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    where = tmp_path_factory.mktemp("energy-pages")
    store = open_store(f"duckdb:///{where}/demo.duckdb")
    build_demo(store, progress=False)  # the demo year 2025, about 20 s
    yield create_app(Settings(database_url="unused://", data_dir=where, secret_key=SECRET), store=store)
    store.close()


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_dashboard_shows_the_studys_savings(client):
    page = login(client, "operator").get("/energy", params={"date": "2025-07-15", "lang": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    for chart in ("chart-energy-import", "chart-energy-soc", "chart-energy-pv", "chart-energy-load"):
        assert f'id="{chart}"' in html
    rec = study.from_store(client.app.state.store, Scope.system(), PARK, date(2025, 6, 11), date(2025, 7, 16))
    expected = study.dashboard(rec, date(2025, 7, 15), study.economics(2025))["savings"]
    # the plans are optimal for the forecasts; ties among optimal plans (a compiled model re-solved warm) may
    # execute a hair apart against the actual load, so the page and a fresh run agree to 0.1 %
    shown = re.search(r'data-strategy="mpc"><td>[^<]+</td><td>([0-9,]+)</td>', html)
    assert shown and float(shown.group(1).replace(",", "")) == pytest.approx(
        expected["strategies"]["mpc"]["cost_cny"], rel=1e-3
    )
    saving = re.search(r"MPC vs no control: cost saving ([-0-9.]+) %", html)
    assert saving and float(saving.group(1)) == pytest.approx(expected["mpc_vs"]["none"]["cost_saving_pct"], abs=0.1)
    zh = client.get("/energy", params={"date": "2025-07-15", "lang": "zh"}).text
    assert "能源看板" in zh and "自发自用规则" in zh


def test_bad_date_and_missing_history_are_said(client):
    login(client, "operator")
    assert "Not a date: 2025-13-45" in client.get("/energy", params={"date": "2025-13-45", "lang": "en"}).text
    early = client.get("/energy", params={"date": "2025-01-05", "lang": "en"})
    assert early.status_code == 200 and "missing 15-minute values" in early.text


def test_resilience_report_is_the_studys(client):
    html = login(client, "operator").get("/energy/resilience", params={"year": 2025, "lang": "en"}).text
    report = study.resilience(study.demo_record(2025))
    tile = re.search(r'data-kpi="min_hours" data-value="([0-9.]+)"', html)
    assert tile and float(tile.group(1)) == pytest.approx(report.sweep.min_hours)
    assert 'data-tier="critical"' in html and "Standby generators: 4,000 kW" in html


def test_sizing_page_runs_the_sizing(client):
    login(client, "operator")
    form = client.get("/energy/sizing", params={"lang": "en"}).text
    assert 'id="sizing-form"' in form and 'id="sizing-kpis"' not in form
    html = client.get("/energy/sizing", params={"run": 1, "year": 2025, "lang": "en"}).text
    npv = re.search(r'data-kpi="npv" data-value="([-0-9.e+]+)"', html)
    assert npv and float(npv.group(1)) > 0
    assert 'id="chart-sizing-tradeoff"' in html and "pv-steel-roof" in html
    unreachable = client.get("/energy/sizing", params={"run": 1, "year": 2025, "min_renewable_share_pct": 50}).text
    assert "cannot be met" in unreachable


@pytest.mark.parametrize("url", ["/energy", "/energy/sizing", "/energy/resilience"])
@pytest.mark.parametrize("user", ["datacentre", "regulator"])
def test_energy_pages_are_the_operators(client, url, user):
    r = login(client, user).get(url, params={"lang": "en"})
    assert r.status_code == 403
    assert 'id="chart-energy' not in r.text and 'id="sizing-kpis"' not in r.text
    assert not re.search(r'<a href="/energy[^"]*" class="(active)?">', r.text)  # no energy link in the nav


# -- in a browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(app) -> Iterator[str]:
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dashboard_charts_in_chromium(server, lang):
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{server}/login")
            page.fill("#username", "operator")
            page.fill("#password", DEMO_PASSWORD)
            page.click("#login-submit")
            page.wait_for_load_state("networkidle")
            page.goto(f"{server}/energy?date=2025-07-15&lang={lang}")
            page.wait_for_function("window.parkzeroCharts && window.parkzeroCharts['chart-energy-load']")
            counts = page.evaluate(
                "() => ['chart-energy-import', 'chart-energy-soc', 'chart-energy-pv', 'chart-energy-load'].map("
                "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series"
                ".map(s => s.data.length))"
            )
            assert counts == [[96, 96, 96], [96, 96], [96, 96], [96, 96]]
            assert page.locator('nav a[href^="/energy"]').count() == 1
        finally:
            browser.close()
