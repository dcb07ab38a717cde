"""`parkzero energy …` as a user runs it: tariffs, a bill from a CSV, bad rows named, a short replay, the park
studies on the demo (plan, sizing, resilience, forecast skill) and measured savings on a store."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from parkzero.energy import forecast, study
from parkzero.registry.scope import Scope
from parkzero.store import open_store
from tests.cli.test_cli import cli  # noqa: F401 - the fixture
from tests.energy.test_study import BASELINE, REPORTING, build_metered


@pytest.fixture(scope="module")
def demo() -> study.ParkRecord:
    return study.demo_record(2025)  # the demo year in memory (~2 s), as `--demo` makes it


def test_tariffs_lists_shanghai_with_sources(cli):  # noqa: F811
    out = cli("energy", "tariffs", "--format", "json")
    rows = {r["code"]: r for r in json.loads(out.stdout)}
    assert "沪发改价管〔2022〕50号" in rows["sh_large_industry_35kv"]["source"]


def test_bill_of_a_summer_day(cli, tmp_path):  # noqa: F811
    # a flat 100 kWh per 15 minutes on Tuesday 2025-07-15 under the 35 kV tariff, flat price 0.60 CNY/kWh
    index = pd.date_range("2025-07-15", periods=96, freq="15min")
    pd.DataFrame({"ts": index.strftime("%Y-%m-%dT%H:%M:%S"), "import_kwh": 100.0}).to_csv(
        tmp_path / "day.csv", index=False
    )
    out = cli(
        "energy",
        "bill",
        str(tmp_path / "day.csv"),
        "--tariff",
        "sh_large_industry_35kv",
        "--flat-price",
        "0.60",
        "--format",
        "json",
    )
    items = json.loads(out.stdout)
    energy = {i["period"]: i for i in items if i["item"] == "energy"}
    # July: sharp 12-14 (8 intervals), peak 08-12 and 14-15 and 18-21 (28), valley 22-06 (32), flat the rest (28)
    assert energy["sharp"]["quantity"] == 800.0 and energy["valley"]["quantity"] == 3200.0
    assert energy["valley"]["amount_cny"] == np.round(3200 * 0.60 * 0.4, 2)  # 768.00 CNY
    demand = next(i for i in items if i["item"] == "demand")
    assert demand["quantity"] == 400.0  # 100 kWh / 0.25 h


def test_bill_names_bad_rows(cli, tmp_path):  # noqa: F811
    (tmp_path / "bad.csv").write_text("ts,import_kwh\n2025-07-15T00:00:00,10\n2025-07-15T00:15:00,abc\n", "utf-8")
    out = cli(
        "energy",
        "bill",
        str(tmp_path / "bad.csv"),
        "--tariff",
        "sh_large_industry_35kv",
        "--flat-price",
        "0.6",
        check=False,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "row 3" in out.stderr and "import_kwh" in out.stderr


def test_simulate_a_few_days_of_the_demo(cli):  # noqa: F811
    out = cli("energy", "simulate", "--days", "3", "--format", "json")
    rows = {r["strategy"]: r for r in json.loads(out.stdout)}
    assert {"none", "rule", "mpc", "mpc vs none", "mpc vs rule"} <= set(rows)
    saving = rows["mpc vs none"]["cost_saving_pct"]
    assert saving == round(100 * (1 - rows["mpc"]["cost_cny"] / rows["none"]["cost_cny"]), 4)


@pytest.mark.slow
def test_plan_of_a_demo_day(cli):  # noqa: F811
    out = cli("energy", "plan", "--demo", "--date", "2025-07-15", "--format", "json")
    rows = {r["strategy"]: r for r in json.loads(out.stdout)}
    saving = rows["mpc vs none"]["cost_saving_pct"]
    assert saving == pytest.approx(100 * (1 - rows["mpc"]["cost_cny"] / rows["none"]["cost_cny"]), abs=1e-2)
    steps = json.loads(cli("energy", "plan", "--demo", "--date", "2025-07-15", "--steps", "--format", "json").stdout)
    assert len(steps) == 96 and {"plan_grid_import_kw", "pv_forecast_kw", "price_cny_per_kwh"} <= set(steps[0])


@pytest.mark.slow
def test_sizing_of_the_demo(cli, demo):  # noqa: F811
    rows = json.loads(cli("energy", "sizing", "--demo", "--year", "2025", "--format", "json").stdout)
    surfaces = [r for r in rows if r["unit"] == "kWp"]
    assert len(surfaces) == 10 and {r["item"] for r in surfaces} == {s.code for s in study.surfaces(demo)}
    for r in surfaces:
        assert 0 <= r["added"] <= r["max"] - r["existing"] + 1e-6
        assert r["plan"] == pytest.approx(r["existing"] + r["added"], abs=0.11)  # each rounded to 0.1 kWp
        assert r["bau"] == r["existing"]
    steel = next(r for r in surfaces if r["item"] == "pv-steel-roof")
    assert steel["existing"] == 4000.0 and steel["max"] == pytest.approx(38000 * 0.20)  # 38,000 m2 x 0.20 kWp/m2
    figures = {r["item"]: r for r in rows if r.get("kind") is None}
    battery = next(r for r in rows if r["item"] == "battery" and r["kind"] == "energy")
    assert battery["existing"] == 5000.0 and battery["plan"] >= 5000.0  # bess-1
    npv = figures["NPV against BAU"]["plan"]
    assert isinstance(npv, float) and np.isfinite(npv)
    cost = figures["lifecycle cost per year"]
    assert cost["plan"] <= cost["bau"] + 1e-6  # BAU is a feasible plan: the optimum costs no more
    assert figures["grid CO2"]["bau"] > 0 and 0 <= figures["renewable share"]["plan"] <= 100


@pytest.mark.slow
def test_resilience_of_the_demo(cli, demo):  # noqa: F811
    out = cli("energy", "resilience", "--demo", "--year", "2025", "--format", "json")
    figures = {r["quantity"]: r["value"] for r in json.loads(out.stdout)}
    expected = study.resilience(demo)
    sweep = expected.sweep
    assert figures["survivable hours, worst start"] == pytest.approx(sweep.min_hours)
    assert figures["survivable hours, p10"] == pytest.approx(sweep.p10_hours)
    assert figures["survivable hours, median"] == pytest.approx(sweep.p50_hours)
    assert figures["survivable hours, mean"] == pytest.approx(sweep.mean_hours, abs=0.005)  # shown to 0.01 h
    assert figures["P(survive 24 h)"] == pytest.approx(round(sweep.probability * 100, 2))
    assert figures["worst start"] == str(sweep.worst_start)
    critical = next(v for k, v in figures.items() if k.startswith("tier critical"))
    assert critical == pytest.approx(round(demo.values_kwh["dc.main.kwh"].mean() * 4, 1))  # kWh / 0.25 h
    worst = expected.bad_weather.worst
    assert figures["worst 3-day PV spell"] == f"{worst.first_day} to {worst.last_day}"
    assert figures["worst spell, survivable hours"] == pytest.approx(worst.result.survivable_hours)
    bare = cli("energy", "resilience", "--demo", "--year", "2025", "--no-generator", "--format", "json")
    assert {r["quantity"]: r["value"] for r in json.loads(bare.stdout)}["survivable hours, worst start"] < (
        sweep.min_hours
    )
    unknown = cli("energy", "resilience", "--demo", "--year", "2025", "--critical", "nope", check=False)
    assert unknown.returncode == 1 and "'nope'" in unknown.stderr and "Traceback" not in unknown.stderr


@pytest.mark.slow
def test_forecast_skill_of_the_demo(cli, demo):  # noqa: F811
    args = ("--train-start", "2025-01-01", "--test-start", "2025-03-01", "--test-end", "2025-03-15")
    rows = {r["target"]: r for r in json.loads(cli("energy", "forecast", "--demo", *args, "--format", "json").stdout)}
    assert set(rows) == {"load", "pv"}
    load = rows["load"]
    assert load["kind"] == "day_ahead" and load["test_days"] == 14
    # skill = 1 - RMSE / RMSE of persistence (the inputs are rounded to 0.1 kW)
    assert load["skill_vs_persistence"] == pytest.approx(1 - load["rmse_kw"] / load["persistence_rmse_kw"], abs=2e-3)
    rec = study.between(demo, date(2025, 1, 1), date(2025, 3, 15))
    report = forecast.evaluate(
        forecast.LoadForecaster(), pd.Series(rec.data.load_kw, index=rec.index), date(2025, 3, 1), date(2025, 3, 15)
    )
    assert load["rmse_kw"] == pytest.approx(report.rmse_kw, abs=0.05)
    assert load["skill_vs_similar_day"] == pytest.approx(report.skill_vs_similar_day, abs=5e-4)
    pv = rows["pv"]
    assert pv["test_days"] == 14 and pv["mae_kw"] > 0


def test_forecast_says_what_is_wrong(cli):  # noqa: F811
    order = cli(
        "energy", "forecast", "--demo", "--train-start", "2025-03-01", "--test-start", "2025-02-01",
        "--test-end", "2025-03-15", check=False,
    )  # fmt: skip
    assert order.returncode == 1 and "train-start 2025-03-01 < test-start" in order.stderr
    short = cli(
        "energy", "forecast", "--demo", "--target", "load", "--train-start", "2025-02-20", "--test-start",
        "2025-03-01", "--test-end", "2025-03-08", check=False,
    )  # fmt: skip
    assert short.returncode == 1 and "14" in short.stderr and "Traceback" not in short.stderr


def test_savings_of_a_metered_park(cli, tmp_path):  # noqa: F811
    store = open_store(f"duckdb:///{tmp_path / 'p.duckdb'}")  # the database the command is configured with
    try:
        park = build_metered(store)
        expected = study.measured_savings(store, Scope.system(), "p1", ["office.main"], BASELINE, REPORTING)
    finally:
        store.close()
    period = ("--baseline", "2025-04-01", "2025-08-01", "--reporting", "2025-08-01", "2025-09-15")
    out = cli("energy", "savings", "--park", "p1", "--channel", "office.main", *period, "--format", "json")
    figures = {r["quantity"]: r["value"] for r in json.loads(out.stdout)}
    s = expected["savings"]
    assert figures["savings"] == pytest.approx(s["savings_kwh"])
    assert figures["measured"] == pytest.approx(park.measured_reporting_kwh)
    # the meter used 10 % less than its equation: 10 % of the adjusted baseline, within the uncertainty
    assert abs(figures["savings"] - 0.1 * figures["adjusted baseline"]) <= figures["uncertainty at 90%"]
    assert figures["savings, lower bound"] <= 0.1 * park.true_reporting_kwh <= figures["savings, upper bound"]
    assert figures["reporting days"] == 45 and figures["temperature channel"] == "weather.temp"
    assert "CV(RMSE)" in out.stderr
    gas = cli("energy", "savings", "--park", "p1", "--channel", "steel.gas", *period, check=False)
    assert gas.returncode == 1 and "not kWh" in gas.stderr and "Traceback" not in gas.stderr
    bad = cli("energy", "savings", "--park", "p1", "--channel", "office.main", "--baseline", "2025-04-01", "May",
              "--reporting", "2025-08-01", "2025-09-15", check=False)  # fmt: skip
    assert bad.returncode == 1 and "two dates YYYY-MM-DD" in bad.stderr


def test_studies_say_what_is_wrong(cli):  # noqa: F811
    early = cli("energy", "plan", "--demo", "--date", "2025-01-05", check=False)
    assert early.returncode != 0 and "14 days" in early.stderr and "Traceback" not in early.stderr
    neither = cli("energy", "sizing", "--year", "2025", check=False)
    assert neither.returncode != 0 and "--demo or --park" in neither.stderr
    tariff = cli("energy", "plan", "--demo", "--date", "2025-07-15", "--tariff", "nope", check=False)
    assert tariff.returncode != 0 and "sh_large_industry_35kv" in tariff.stderr and "Traceback" not in tariff.stderr
    date_text = cli("energy", "plan", "--demo", "--date", "15/07/2025", check=False)
    assert date_text.returncode == 1 and "YYYY-MM-DD" in date_text.stderr
    # an empty configured store: the park is not there, said in one line
    missing = cli("energy", "resilience", "--park", "nope", "--year", "2025", check=False)
    assert missing.returncode == 1 and "nope" in missing.stderr and "Traceback" not in missing.stderr
