"""The energy API over the demo park's year in a real DuckDB store: tariffs, bills, dashboard, replay, sizing,
resilience and IPMVP savings, with who may run them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from parkzero.api.app import create_app
from parkzero.api.security import issue_token
from parkzero.config import Settings
from parkzero.demo.build import build_demo
from parkzero.energy import study
from parkzero.energy import tariff as tariffs
from parkzero.store import open_store
from tests.api.conftest import SECRET

PARK = "baoshan-demo"
V = "/api/v1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[TestClient]:
    where = tmp_path_factory.mktemp("energy-api")
    store = open_store(f"duckdb:///{where}/demo.duckdb")
    build_demo(store, progress=False)  # the demo year 2025, about 20 s
    app = create_app(Settings(database_url="unused", data_dir=where, secret_key=SECRET), store=store)
    with TestClient(app) as client:
        yield client
    store.close()


def call(client: TestClient, user: str, method: str, url: str, **kwargs):
    headers = {"Authorization": f"Bearer {issue_token(user, SECRET, 60)}"}
    return client.request(method, f"{V}/{url}", headers=headers, **kwargs)


# -- tariffs and bills (no park data) --------------------------------------------------------------
pytestmark = pytest.mark.slow


def test_tariffs_list_and_detail(demo):
    listed = call(demo, "datacentre", "GET", "energy/tariffs").json()
    codes = {t["code"] for t in listed["data"]}
    assert {"sh_large_industry_35kv", "js_large_industry_10kv"} <= codes
    one = call(demo, "datacentre", "GET", "energy/tariffs/sh_large_industry_35kv").json()
    assert one["demand_charge_cny_per_kw_month"] == 36.0 and one["seasons"]
    missing = call(demo, "datacentre", "GET", "energy/tariffs/no-such")
    assert missing.status_code == 404 and "sh_large_industry_35kv" in missing.text


def test_bill_of_two_readings_by_hand(demo):
    t = tariffs.get_tariff("sh_large_industry_35kv")
    readings = [
        {"ts": "2025-07-15T03:00:00", "import_kwh": 100.0},  # valley, naive = Shanghai
        {"ts": "2025-07-15T03:15:00+08:00", "import_kwh": 50.0},
    ]
    r = call(
        demo,
        "datacentre",
        "POST",
        "energy/bill",
        json={"tariff": t.code, "flat_price_cny_per_kwh": 0.6, "readings": readings},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    energy = [i for i in body["items"] if i["item"] == "energy"]
    # 150 kWh in the valley at the valley multiplier x 0.60 CNY/kWh
    import pandas as pd

    idx = pd.DatetimeIndex(["2025-07-15T03:00:00+08:00"])
    valley_price = float(tariffs.energy_prices(idx, t, 0.6)[0])
    assert sum(i["amount_cny"] for i in energy) == pytest.approx(150 * valley_price)
    # demand: 100 kWh in 15 minutes = 400 kW at 36.0 CNY/kW-month
    demand = [i for i in body["items"] if i["item"] == "demand"]
    assert sum(i["amount_cny"] for i in demand) == pytest.approx(400 * 36.0)
    assert body["total_cny"] == pytest.approx(sum(i["amount_cny"] for i in body["items"]))


def test_bad_bill_input_names_the_row(demo):
    bad = [
        {"ts": "2025-07-15T03:00:00+08:00", "import_kwh": 1.0},
        {"ts": "2025-07-15T03:15:00+08:00", "import_kwh": -5},
    ]
    r = call(demo, "datacentre", "POST", "energy/bill", json={"readings": bad})
    assert r.status_code == 422 and "readings[1].import_kwh" in r.text
    r = call(demo, "datacentre", "POST", "energy/bill", json={"tariff": "nope", "readings": bad[:1]})
    assert r.status_code == 404


# -- park studies ----------------------------------------------------------------------------------
def test_dashboard_of_a_day(demo):
    r = call(demo, "operator", "GET", f"parks/{PARK}/energy/dashboard", params={"date": "2025-07-15"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert len(d["day"]["plan_grid_import_kw"]) == 96 and len(d["day"]["actual_soc_pct"]) == 96
    assert set(d["savings"]["strategies"]) == {"none", "rule", "mpc"}
    assert d["savings"]["mpc_vs"]["none"]["cost_saving_pct"] > 0  # the MPC pays on the demo's TOU spread
    assert d["forecast"]["pv_kw"]["mae"] > 0


def test_dashboard_needs_history(demo):
    r = call(demo, "operator", "GET", f"parks/{PARK}/energy/dashboard", params={"date": "2025-01-10"})
    assert r.status_code == 422 and "missing 15-minute values" in r.text


def test_replay_and_its_limits(demo):
    r = call(demo, "operator", "POST", f"parks/{PARK}/energy/replay", json={"start": "2025-05-01", "end": "2025-05-08"})
    assert r.status_code == 200, r.text
    body = r.json()
    none, mpc = body["strategies"]["none"], body["strategies"]["mpc"]
    assert body["mpc_vs"]["none"]["cost_saving_pct"] == pytest.approx((1 - mpc["cost_cny"] / none["cost_cny"]) * 100)
    too_long = call(
        demo, "operator", "POST", f"parks/{PARK}/energy/replay", json={"start": "2025-01-01", "end": "2025-12-01"}
    )
    assert too_long.status_code == 422 and "92" in too_long.text
    backwards = call(
        demo, "operator", "POST", f"parks/{PARK}/energy/replay", json={"start": "2025-05-08", "end": "2025-05-01"}
    )
    assert backwards.status_code == 422


def test_sizing_of_the_demo_year(demo):
    r = call(
        demo, "operator", "POST", f"parks/{PARK}/energy/sizing", json={"year": 2025, "tradeoff_shares": [0.07, 0.09]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    result = body["result"]
    assert result["status"] == "optimal"
    for s in body["surfaces"]:
        assert s["existing_kwp"] - 1e-6 <= result["plan"]["pv_kwp"][s["code"]] <= s["max_kwp"] + 1e-6
    assert [p["min_renewable_share"] for p in body["tradeoff"]] == [0.07, 0.09]
    assert body["tradeoff"][1]["renewable_share_pct"] >= 9.0 - 1e-6
    unreachable = call(
        demo,
        "operator",
        "POST",
        f"parks/{PARK}/energy/sizing",
        json={"year": 2025, "min_renewable_share": 0.5, "tradeoff": False},
    )
    assert unreachable.status_code == 422 and "min_renewable_share" in unreachable.text
    no_data = call(demo, "operator", "POST", f"parks/{PARK}/energy/sizing", json={"year": 2024})
    assert no_data.status_code == 422


def test_resilience_of_the_demo_year(demo):
    r = call(
        demo, "operator", "POST", f"parks/{PARK}/energy/resilience", json={"start": "2025-01-01", "end": "2026-01-01"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    expected = study.resilience(study.demo_record(2025)).sweep.min_hours  # the store holds the demo's readings
    assert body["survivable_hours_min"] == pytest.approx(expected)
    assert body["tiers"][0]["name"] == "critical" and body["tiers"][0]["sheddable"] is False
    assert body["generator"]["power_kw"] == 4000.0
    without = call(
        demo,
        "operator",
        "POST",
        f"parks/{PARK}/energy/resilience",
        json={"start": "2025-01-01", "end": "2026-01-01", "generator": False},
    ).json()
    assert without["survivable_hours_min"] < body["survivable_hours_min"]
    unknown = call(
        demo,
        "operator",
        "POST",
        f"parks/{PARK}/energy/resilience",
        json={"start": "2025-01-01", "end": "2025-03-01", "critical_channels": ["nope"]},
    )
    assert unknown.status_code == 422 and "nope" in unknown.text


def test_savings_of_a_tenant_meter(demo):
    body = {
        "channels": ["dc.main.kwh"],
        "baseline_start": "2025-01-01",
        "baseline_end": "2025-07-01",
        "reporting_start": "2025-07-01",
        "reporting_end": "2025-10-01",
    }
    r = call(demo, "datacentre", "POST", f"parks/{PARK}/energy/savings", json=body)
    assert r.status_code == 200, r.text
    s = r.json()["savings"]
    assert s["adjusted_baseline_kwh"] - s["measured_kwh"] == pytest.approx(s["savings_kwh"])
    assert s["uncertainty_kwh"] > 0
    foreign = call(demo, "steel", "POST", f"parks/{PARK}/energy/savings", json=body)
    assert foreign.status_code == 404 and "savings_kwh" not in foreign.text


@pytest.mark.parametrize(
    ("method", "url", "json"),
    [
        ("GET", f"parks/{PARK}/energy/dashboard", None),
        ("POST", f"parks/{PARK}/energy/replay", {"start": "2025-05-01", "end": "2025-05-02"}),
        ("POST", f"parks/{PARK}/energy/sizing", {"year": 2025}),
        ("POST", f"parks/{PARK}/energy/resilience", {"start": "2025-05-01", "end": "2025-05-02"}),
    ],
)
def test_park_studies_are_the_operators(demo, method, url, json):
    for user in ("datacentre", "regulator"):
        r = call(demo, user, method, url, json=json)
        assert r.status_code in (403, 404), r.text
        assert "grid_import" not in r.text
