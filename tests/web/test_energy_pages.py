"""The energy pages: the dashboard, the sizing study and the resilience report show the figures of
`parkzero.energy.study`, in both languages, to the operator only.

Fast cases use the small world of `tests.web.world` (six days of readings): who may open the pages, and the
message each page gives for bad parameters or a record too short for its study; the sizing page renders a
real `size_system` result of a one-day synthetic park. The demo park's year (built in about 20 s, marked slow)
gives the full studies, and a real Chromium draws the dashboard's ECharts charts.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from html import unescape

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from parkzero.api.app import create_app
from parkzero.config import Settings
from parkzero.demo.build import DEMO_PASSWORD, build_demo
from parkzero.energy import sizing, study
from parkzero.registry.scope import Scope
from parkzero.store import open_store
from parkzero.web import energy_pages, pages
from tests.web.test_browser import ARGS, CHROMIUM, _free_port

SECRET = "test-secret-for-hs256-at-least-32-bytes"
PARK = "baoshan-demo"
URLS = ["/energy", "/energy/sizing", "/energy/resilience"]


def nav_has_energy(html: str) -> bool:
    """Whether the main navigation (not the energy pages' own tabs) links to /energy."""
    nav = re.search(r'<nav class="mainnav">(.*?)</nav>', html, re.S)
    return bool(nav and 'href="/energy' in nav.group(1))


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found, "no page data"
    return json.loads(found.group(1))


def problem(html: str) -> str:
    found = re.search(r'id="energy-problem">(.*?)</p>', html, re.S)
    return unescape(found.group(1)) if found else ""


# -- who may open them (the small world) -----------------------------------------------------------
def test_others_get_the_403_page(login):
    for user in ("office-user", "steel-user", "regulator-user"):
        for url in URLS:
            r = login(user).get(url, params={"lang": "en"})
            assert r.status_code == 403, (user, url)
            assert "The energy studies are the park operator's" in unescape(r.text)
            assert 'id="energy-tabs"' not in r.text and 'id="sizing-form"' not in r.text


def test_not_logged_in_goes_to_login(client):
    for url in URLS:
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url


def test_the_operator_has_the_link_and_tenants_not(login):
    assert nav_has_energy(login("op").get("/?lang=en").text)
    assert nav_has_energy(login("op").get("/energy/sizing?lang=en").text)
    assert not nav_has_energy(login("office-user").get("/tenants/office?lang=en").text)
    assert not nav_has_energy(login("regulator-user").get("/?lang=en").text)


# -- messages instead of a 500 ---------------------------------------------------------------------
# (url, query, what the page says): the world has 6 days of readings, 2025-02-26/27 and 2025-03-01..04
BAD = [
    ("/energy", {"date": "2025-13-45"}, "Not a date: 2025-13-45"),
    ("/energy", {"date": "yesterday"}, "Not a date: yesterday"),
    ("/energy", {"date": "0001-01-01"}, "Not a date: 0001-01-01"),
    ("/energy", {"date": "2025-03-04"}, "missing 15-minute values"),  # a dashboard reads 28 + 7 days to its day
    ("/energy", {}, "missing 15-minute values"),  # the latest day with readings, 2025-03-04
    ("/energy/resilience", {"year": "twenty"}, "Not a study year: twenty"),
    ("/energy/resilience", {"year": "-5"}, "Not a study year: -5"),
    ("/energy/resilience", {"year": "2026"}, "No readings in 2026: the latest are of 2025-03-04"),
    ("/energy/resilience", {"year": "2025"}, "missing 15-minute values"),  # 2025-01-01 .. 2025-03-04
    ("/energy/sizing", {"run": 1, "min_renewable_share_pct": "lots"}, "Min. renewable share (%): “lots”"),
    ("/energy/sizing", {"run": 1, "min_renewable_share_pct": "150"}, "Min. renewable share (%): “150”"),
    ("/energy/sizing", {"run": 1, "budget_cny": "-1"}, "Budget (CNY): “-1”"),
    ("/energy/sizing", {"run": 1, "battery_capex_cny_per_kwh": "nan"}, "Battery (CNY/kWh): “nan”"),
    ("/energy/sizing", {"run": 1, "year": "1899"}, "Not a study year: 1899"),
    ("/energy/sizing", {"run": 1, "year": "2030"}, "No readings in 2030"),
    ("/energy/sizing", {"run": 1, "year": "2025"}, "missing 15-minute values"),  # a sizing reads the whole year
    ("/energy/sizing", {"run": 1}, "missing 15-minute values"),  # the default year, 2024, has no readings
]


def test_bad_parameters_and_short_records_are_said(login):
    client = login("op")
    for url, params, said in BAD:
        r = client.get(url, params={**params, "lang": "en"})
        assert r.status_code == 200, (url, params, r.text[-500:])
        assert said in problem(r.text), (url, params, problem(r.text))
        assert (
            'data-chart="' not in r.text and 'id="sizing-kpis"' not in r.text and 'id="resilience-kpis"' not in r.text
        )


def test_problems_are_said_in_chinese(login):
    html = login("op").get("/energy/resilience", params={"year": "2026", "lang": "zh"}).text
    assert "2026 年没有电量数据：最新数据为 2025-03-04。" in problem(html)
    html = login("op").get("/energy", params={"date": "x", "lang": "zh"}).text
    assert "日期无效：x" in problem(html)


def test_sizing_form_alone_runs_nothing(login):
    html = login("op").get("/energy/sizing", params={"lang": "zh"}).text
    assert 'id="sizing-form"' in html and not problem(html)
    # default year: the last whole calendar year before the latest readings (2025-03-04)
    assert 'name="year" value="2024"' in html
    assert "最低可再生比例（%）" in html and "碳价（元/t）" in html


# -- the sizing page on a one-day synthetic park ---------------------------------------------------
HOURS = np.arange(24)
SUN = np.clip(np.sin(np.pi * (HOURS - 6) / 12), 0.0, None) * 0.8  # [kW/kWp], 0 at night
SMALL = sizing.SizingInput(
    load_kw=np.full(24, 500.0),
    import_price_cny_per_kwh=np.where((HOURS >= 8) & (HOURS < 22), 1.0, 0.3),
    export_price_cny_per_kwh=0.0,
    demand_charge_cny_per_kw_month=0.0,
    hour_month=np.ones(24, dtype=int),
    grid_intensity_tco2_per_kwh=0.00055,  # 0.5500 tCO2/MWh, East China 2023
    surfaces=[
        sizing.Surface(
            code="roof-a",
            kind="roof",
            area_m2=2000.0,  # x 0.20 kWp/m² = 400 kWp at most
            yield_kw_per_kwp=SUN,
            capex_cny_per_kwp=3200.0,
            opex_cny_per_kwp_year=40.0,
            existing_kwp=50.0,
        ),
        sizing.Surface(
            code="facade-s",
            kind="facade",
            area_m2=500.0,
            yield_kw_per_kwp=SUN * 0.6,
            capex_cny_per_kwp=4500.0,
            opex_cny_per_kwp_year=40.0,
        ),
    ],
    battery=study.DEFAULT_BATTERY_OPTION,
    hour_weight=365.0,  # one day standing for the year
)


@pytest.fixture
def small_sizing(monkeypatch) -> dict:
    """The sizing page's record and input replaced by SMALL with the form's constraints; the trade-off's
    representative weeks are the day itself. Returns what the page asked `sizing_input` for."""
    asked: dict = {}

    def fake_input(rec, econ, *, battery, **constraints):
        asked.update(econ=econ, battery=battery, **constraints)
        return dataclasses.replace(SMALL, battery=battery, **constraints)

    monkeypatch.setattr(study, "from_store", lambda *a, **k: "record")
    monkeypatch.setattr(study, "sizing_input", fake_input)
    monkeypatch.setattr(study, "representative_weeks", lambda inp: inp)
    return asked


def test_sizing_page_shows_the_sizing(login, small_sizing):
    params = {
        "run": 1,
        "year": "2025",
        "min_renewable_share_pct": "20",
        "battery_capex_cny_per_kwh": "700",
        "carbon_price_cny_per_t": "150",
        "lang": "en",
    }
    r = login("op").get("/energy/sizing", params=params)
    assert r.status_code == 200, r.text
    html = r.text
    assert not problem(html)
    # the form's 20 % is the sizing's share 0.20; its prices reach the battery and the economics
    assert small_sizing["min_renewable_share"] == pytest.approx(0.20)
    assert small_sizing["battery"].capex_cny_per_kwh == 700.0
    assert small_sizing["econ"].carbon_price_cny_per_t == 150.0
    expected = sizing.size_system(dataclasses.replace(SMALL, battery=small_sizing["battery"], min_renewable_share=0.20))
    npv = re.search(r'data-kpi="npv" data-value="([-0-9.e+]+)"', html)
    assert npv and float(npv.group(1)) == pytest.approx(expected.npv_cny, rel=1e-6)
    share = re.search(r'data-kpi="renewable" data-value="([-0-9.e+]+)"', html)
    assert share and float(share.group(1)) >= 20.0 - 1e-6
    # the roof: 50 kWp existing + what the plan adds
    added = expected.plan.pv_new_kwp["roof-a"]
    row = re.search(r'data-surface="roof-a">(.*?)</tr>', html).group(1)
    assert "<td>Roof</td>" in row and f"{50.0:,.1f}" in row and f"{50.0 + added:,.1f}" in row
    for table in ("sizing-cases", "sizing-surfaces", "sizing-tradeoff"):
        assert f'id="{table}"' in html
    assert "12 representative weeks" in html
    data = page_data(html)
    assert data["sizing_pv"]["labels"] == ["roof-a", "facade-s"]
    assert [s["values"][0] for s in data["sizing_pv"]["series"]] == [50.0, round(added, 1)]
    tradeoff = data["sizing_tradeoff"]
    assert len(tradeoff["points"]) == len(tradeoff["co2"]) == 5
    shares = [p[0] for p in tradeoff["points"]]
    assert shares == sorted(shares)  # renewable share rising along the curve
    assert [p[1] for p in tradeoff["points"]] == sorted(p[1] for p in tradeoff["points"])  # and its cost


def test_sizing_page_in_chinese(login, small_sizing):
    html = login("op").get("/energy/sizing", params={"run": 1, "year": "2025", "lang": "zh"}).text
    assert "相对现状的净现值" in html and "百万元" in html and "<td>屋面</td>" in html and "典型周" in html
    assert page_data(html)["sizing_tradeoff"]["y2"] == "CO2（t/年）"


def test_an_unreachable_share_is_said(login, small_sizing):
    r = login("op").get("/energy/sizing", params={"run": 1, "year": "2025", "min_renewable_share_pct": "99"})
    assert r.status_code == 200 and "cannot" in problem(r.text)


# -- pieces ----------------------------------------------------------------------------------------
def test_tou_bands_tile_the_day():
    t = pages.Translator("en")
    times = [f"{h:02d}:00" for h in range(6)]
    periods = ["valley", "valley", "peak", "sharp", "peak", "peak"]
    bands = energy_pages.tou_bands(times, periods, t)
    assert [(b["period"], b["from"], b["to"]) for b in bands] == [
        ("valley", "00:00", "02:00"),
        ("peak", "02:00", "03:00"),
        ("sharp", "03:00", "04:00"),
        ("peak", "04:00", "05:00"),
    ]
    assert bands[2]["name"] == "Sharp peak"
    assert energy_pages.tou_bands(times, periods, pages.Translator("zh"))[2]["name"] == "尖峰"


def test_catalogue_files_have_the_same_keys():
    """The raw files, not the merged catalogues (English fills what Chinese lacks)."""
    raw = {lang: json.loads((pages.HERE / "i18n" / f"{lang}.json").read_text("utf-8")) for lang in ("en", "zh")}
    assert list(raw["en"]) == list(raw["zh"])


# -- the demo park's year --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    where = tmp_path_factory.mktemp("energy-pages")
    store = open_store(f"duckdb:///{where}/demo.duckdb")
    build_demo(store, progress=False)  # the demo year 2025, about 20 s
    yield create_app(Settings(database_url="unused://", data_dir=where, secret_key=SECRET), store=store)
    store.close()


@pytest.fixture(scope="module")
def demo(demo_app) -> Iterator[TestClient]:
    with TestClient(demo_app) as c:
        yield c


def demo_login(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def _cell(html: str, row: str, col: int) -> float:
    cells = re.search(rf"{row}>(.*?)</tr>", html, re.S).group(1)
    return float(re.findall(r"<td[^>]*>([^<]*)</td>", cells)[col].replace(",", ""))


@pytest.mark.slow
def test_dashboard_shows_the_studys_savings(demo):
    page = demo_login(demo, "operator").get("/energy", params={"date": "2025-07-15", "lang": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    for chart in ("chart-energy-import", "chart-energy-soc", "chart-energy-pv", "chart-energy-load"):
        assert f'id="{chart}"' in html
    rec = study.from_store(demo.app.state.store, Scope.system(), PARK, date(2025, 6, 11), date(2025, 7, 16))
    expected = study.dashboard(rec, date(2025, 7, 15), study.economics(2025))
    savings = expected["savings"]
    # the plans are optimal for the forecasts; ties among optimal plans (a compiled model re-solved warm) may
    # execute a hair apart against the actual load, so the page and a fresh run agree to 0.1 %
    assert _cell(html, 'data-strategy="mpc"', 1) == pytest.approx(savings["strategies"]["mpc"]["cost_cny"], rel=1e-3)
    assert _cell(html, 'data-strategy="none"', 1) == pytest.approx(savings["strategies"]["none"]["cost_cny"], abs=1)
    for base in ("none", "rule"):
        shown = _cell(html, f'data-baseline="{base}"', 1)
        assert shown == pytest.approx(savings["mpc_vs"][base]["cost_saving_pct"], abs=0.1)
    assert _cell(html, 'data-forecast="load"', 1) == pytest.approx(expected["forecast"]["load_kw"]["mae"], abs=0.1)
    assert "sh_large_industry_35kv" in html and expected["intensity_source"] in unescape(html)
    data = page_data(html)
    bands = data["energy_import"]["bands"]
    assert bands[0]["from"] == "00:00" and {b["period"] for b in bands} >= {"peak", "valley"}
    zh = demo.get("/energy", params={"date": "2025-07-15", "lang": "zh"}).text
    assert "能源看板" in zh and "自发自用规则" in zh and "费用节省（%）" in zh


@pytest.mark.slow
def test_missing_history_is_said(demo):
    demo_login(demo, "operator")
    early = demo.get("/energy", params={"date": "2025-01-05", "lang": "en"})
    assert early.status_code == 200 and "missing 15-minute values" in problem(early.text)


@pytest.mark.slow
def test_resilience_report_is_the_studys(demo):
    html = demo_login(demo, "operator").get("/energy/resilience", params={"year": 2025, "lang": "en"}).text
    report = study.resilience(study.demo_record(2025))
    sweep = report.sweep
    for key in ("min_hours", "p10_hours", "p50_hours", "mean_hours"):
        tile = re.search(rf'data-kpi="{key}" data-value="([0-9.]+)"', html)
        assert tile and float(tile.group(1)) == pytest.approx(getattr(sweep, key)), key
    assert f"Worst outage start: {sweep.worst_start:%Y-%m-%d %H:%M}" in html
    assert 'data-tier="critical"' in html and "Standby generators: 4,000 kW" in html
    assert 'data-spell="worst"' in html
    data = page_data(html)
    assert len(data["resilience_month"]["labels"]) == 12 and data["resilience_month"]["labels"][0] == "Jan"
    hours, share = sweep.survival_curve()
    assert data["resilience_curve"]["points"][0] == [round(float(hours[0]), 2), round(float(share[0]) * 100, 2)]


@pytest.mark.slow
def test_sizing_page_runs_the_sizing(demo):
    demo_login(demo, "operator")
    html = demo.get("/energy/sizing", params={"run": 1, "year": 2025, "lang": "en"}).text
    npv = re.search(r'data-kpi="npv" data-value="([-0-9.e+]+)"', html)
    assert npv and float(npv.group(1)) > 0
    assert 'id="chart-sizing-tradeoff"' in html and 'data-surface="pv-steel-roof"' in html
    unreachable = demo.get("/energy/sizing", params={"run": 1, "year": 2025, "min_renewable_share_pct": 50}).text
    assert "cannot be met" in problem(unreachable)


@pytest.mark.slow
@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("user", ["datacentre", "regulator"])
def test_energy_pages_are_the_operators(demo, url, user):
    r = demo_login(demo, user).get(url, params={"lang": "en"})
    assert r.status_code == 403
    assert 'id="chart-energy' not in r.text and 'id="sizing-kpis"' not in r.text
    assert not nav_has_energy(r.text)


# -- in a browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(demo_app) -> Iterator[str]:
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(demo_app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
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


def _browser_login(browser, server: str, username: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dashboard_charts_in_chromium(server, lang):
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = _browser_login(browser, server, "operator")
            page.goto(f"{server}/energy?date=2025-07-15&lang={lang}")
            page.wait_for_function("window.parkzeroCharts && window.parkzeroCharts['chart-energy-load']")
            counts = page.evaluate(
                "() => ['chart-energy-import', 'chart-energy-soc', 'chart-energy-pv', 'chart-energy-load'].map("
                "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series"
                ".map(s => s.data.length))"
            )
            # 96 quarter hours; grid import: plan, metered and the price on the second axis
            assert counts == [[96, 96, 96], [96, 96], [96, 96], [96, 96]]
            option = page.evaluate(
                "() => { const o = echarts.getInstanceByDom(document.getElementById('chart-energy-import'))"
                ".getOption(); return {axes: o.yAxis.length, bands: o.series[0].markArea.data.length,"
                " names: o.series.map(s => s.name)}; }"
            )
            assert option["axes"] == 2 and option["bands"] >= 3  # TOU periods shaded
            assert option["names"][2] == ("电价（元/kWh）" if lang == "zh" else "Price (CNY/kWh)")
            assert page.locator('nav a[href^="/energy"]').count() == 1
            assert page.locator("#chart-energy-import canvas").count() >= 1
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_tenant_has_no_energy_link_in_chromium(server):
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = _browser_login(browser, server, "datacentre")
            assert page.locator('nav a[href^="/energy"]').count() == 0
            response = page.goto(f"{server}/energy?lang=en")
            assert response is not None and response.status == 403
            assert page.locator("#chart-energy-import").count() == 0
            assert page.evaluate("() => Object.keys(window.parkzeroCharts || {}).length") == 0
        finally:
            browser.close()
