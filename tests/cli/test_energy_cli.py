"""`parkzero energy …` as a user runs it: tariffs, a bill from a CSV, bad rows named, a short replay."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parkzero.energy import study
from tests.cli.test_cli import cli  # noqa: F401 - the fixture


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
def test_sizing_and_resilience_of_the_demo(cli):  # noqa: F811
    rows = json.loads(cli("energy", "sizing", "--demo", "--year", "2025", "--format", "json").stdout)
    surfaces = [r for r in rows if r["surface"].startswith("pv-")]
    assert len(surfaces) == 10
    assert all(0 <= r["added_kwp"] <= r["max_kwp"] - r["existing_kwp"] + 1e-6 for r in surfaces)
    out = cli("energy", "resilience", "--demo", "--year", "2025", "--format", "json")
    figures = {r["quantity"]: r["value"] for r in json.loads(out.stdout)}
    expected = study.resilience(study.demo_record(2025)).sweep.min_hours
    assert figures["survivable hours, worst start"] == pytest.approx(expected)
    bare = cli("energy", "resilience", "--demo", "--year", "2025", "--no-generator", "--format", "json")
    assert {r["quantity"]: r["value"] for r in json.loads(bare.stdout)}["survivable hours, worst start"] < expected


def test_studies_say_what_is_wrong(cli):  # noqa: F811
    early = cli("energy", "plan", "--demo", "--date", "2025-01-05", check=False)
    assert early.returncode != 0 and "14 days" in early.stderr and "Traceback" not in early.stderr
    neither = cli("energy", "sizing", "--year", "2025", check=False)
    assert neither.returncode != 0 and "--demo or --park" in neither.stderr
    tariff = cli("energy", "plan", "--demo", "--date", "2025-07-15", "--tariff", "nope", check=False)
    assert tariff.returncode != 0 and "sh_large_industry_35kv" in tariff.stderr and "Traceback" not in tariff.stderr
