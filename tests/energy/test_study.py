"""One park gathered for the studies: surfaces, the sizing year, outage tiers, generators, the store, the
dashboard of a day, measured savings and the JSON form of results."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from parkzero.demo.weather import shanghai_weather
from parkzero.energy import mv, simulate, study
from parkzero.energy import tariff as tariffs
from parkzero.errors import Forbidden, NotFound, ValidationFailed
from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import open_store
from parkzero.store.readings import merge_readings
from tests.conftest import SMALL_PARK, enterprise_scope

TZ = "Asia/Shanghai"
SYSTEM = Scope.system("test")


@pytest.fixture(scope="module")
def demo() -> study.ParkRecord:
    return study.demo_record(2025)  # the demo park's year 2025 in memory, ~2 s


def small_doc(**extra_assets: dict) -> dict:
    """SMALL_PARK (one industrial building, 500 kWp of PV, steel and office loads) with assets added."""
    doc = copy.deepcopy(SMALL_PARK)
    park = doc["parks"][0]
    for code, asset in extra_assets.items():
        park["assets"].append({"code": code, "name": code, **asset})
    return doc


def small_record(doc: dict, values: dict[str, np.ndarray] | None = None, days: int = 1) -> study.ParkRecord:
    """A hand-made record of `days` local days from 2025-07-15; channels not given are a flat 10 kWh/step."""
    index = pd.date_range("2025-07-15", periods=96 * days, freq="15min", tz=TZ)
    codes = ("steel.main", "steel.eaf", "office.main", "pv1.gen")
    values = {c: np.full(len(index), 10.0) for c in codes} | dict(values or {})
    return study.ParkRecord(doc, index, values, simulate.park_data(doc, values, index))


# -- surfaces ------------------------------------------------------------------------------------------------
def test_measured_yield_is_the_array_output_per_kwp_hourly():
    pv = np.zeros(96)
    pv[48:52] = [100.0, 110.0, 120.0, 130.0]  # 12:00-13:00 [kWh per 15 min]
    (surface,) = study.surfaces(small_record(small_doc(), {"pv1.gen": pv}))
    # mean 115 kWh per 0.25 h = 460 kW, / 500 kWp = 0.92 kW/kWp
    assert surface.yield_kw_per_kwp[12] == pytest.approx(0.92)
    assert surface.yield_kw_per_kwp.shape == (24,) and surface.yield_kw_per_kwp[11] == 0.0
    # no surface_area_m2: the roof holds only what is installed, 500 kWp / 0.20 kWp/m2 = 2,500 m2
    assert surface.code == "pv1" and surface.kind == "roof" and surface.area_m2 == pytest.approx(2500.0)
    assert surface.existing_kwp == 500.0 and surface.capex_cny_per_kwp == 3200.0


def test_surface_area_from_the_asset_and_never_below_what_is_installed():
    doc = small_doc()
    doc["parks"][0]["assets"][0]["params"]["surface_area_m2"] = 4000.0
    assert study.surfaces(small_record(doc))[0].area_m2 == 4000.0
    doc["parks"][0]["assets"][0]["params"]["surface_area_m2"] = 1000.0  # < 500 kWp / 0.20 = 2,500 m2 installed
    assert study.surfaces(small_record(doc))[0].area_m2 == pytest.approx(2500.0)


def test_demo_surfaces_measured_and_modelled(demo):
    measured = {s.code: s for s in study.surfaces(demo)}
    assert len(measured) == 10
    assert measured["pv-steel-roof"].area_m2 == 38000.0 and measured["pv-office-a-facade"].kind == "facade"
    modelled = {s.code: s for s in study.surfaces(demo, shanghai_weather(2025, 42))}
    south_roof = modelled["pv-office-a-roof"]  # 25 deg tilt, due south, Shanghai
    annual = south_roof.yield_kw_per_kwp.sum()  # hourly kW/kWp x 1 h = kWh/kWp
    assert 900 < annual < 1400
    assert modelled["pv-service-facade"].yield_kw_per_kwp.sum() < 0.7 * annual  # a west wall gets far less
    # the demo's meters were made from the same weather with the same physics: both paths agree
    assert measured["pv-office-a-roof"].yield_kw_per_kwp.sum() == pytest.approx(annual, rel=0.01)


def test_surfaces_need_a_channel_or_weather():
    doc = small_doc(pv2={"kind": "pv_array", "params": {"kwp": 100, "tilt_deg": 20, "azimuth_deg": 180}})
    with pytest.raises(ValidationFailed) as e:
        study.surfaces(small_record(doc))
    assert "pv2" in str(e.value)
    with pytest.raises(ValidationFailed, match="weather has 10 steps"):
        study.surfaces(small_record(doc), shanghai_weather(2025, 42).iloc[:10])


# -- the sizing year -----------------------------------------------------------------------------------------
def test_sizing_input_of_the_demo_year(demo):
    econ = study.economics(2025)
    inp = study.sizing_input(demo, econ, min_renewable_share=0.1)
    assert len(inp.load_kw) == 8760 and len(inp.hour_month) == 8760 and inp.hour_month[-1] == 12
    d = demo.data
    total = d.load_kw + sum(f.baseline_kw for f in d.flexible)  # the EAF and the milling at their metered profile
    assert inp.load_kw[0] == pytest.approx(total[:4].mean())
    assert inp.load_kw.sum() == pytest.approx(total.sum() / 4)  # kW per step -> hourly means, same energy
    # 2025-07-15 (a Tuesday in July): 03:00 valley 0.62 x 0.4 = 0.248, 12:00 sharp 0.62 x 2.25 = 1.395 CNY/kWh
    hour = (date(2025, 7, 15) - date(2025, 1, 1)).days * 24
    assert inp.import_price_cny_per_kwh[hour + 3] == pytest.approx(0.248)
    assert inp.import_price_cny_per_kwh[hour + 12] == pytest.approx(1.395)
    assert inp.battery.existing_kwh == 5000.0 and inp.battery.existing_kw == 2500.0  # bess-1
    assert inp.battery.capex_cny_per_kwh == study.DEFAULT_BATTERY_OPTION.capex_cny_per_kwh
    assert len(inp.surfaces) == 10 and inp.min_renewable_share == 0.1
    assert inp.demand_charge_cny_per_kw_month == tariffs.demand_charge_rate(econ.tariff, econ.demand_basis)


def test_sizing_needs_a_whole_year(demo):
    with pytest.raises(ValidationFailed, match="whole year"):
        study.sizing_input(study.between(demo, date(2025, 1, 1), date(2025, 2, 1)), study.economics(2025))


def test_a_leap_year_is_sized_without_29_february():
    rec = study.demo_record(2024)
    inp = study.sizing_input(rec, study.economics(2024))
    assert len(inp.load_kw) == 8760  # 366 days less 29 February
    feb28 = (date(2024, 2, 28) - date(2024, 1, 1)).days * 96
    mar1 = (date(2024, 3, 1) - date(2024, 1, 1)).days * 96
    load = rec.data.load_kw + sum(f.baseline_kw for f in rec.data.flexible)
    # 31 + 28 days before 29 February: hour 59 x 24 = 1,416 is 1 March 00:00, hour 1,415 is 28 February 23:00
    assert inp.load_kw[59 * 24] == pytest.approx(load[mar1 : mar1 + 4].mean())
    assert inp.load_kw[59 * 24 - 1] == pytest.approx(load[feb28 + 92 : feb28 + 96].mean())
    assert inp.hour_month[59 * 24] == 3 and (inp.hour_month == 2).sum() == 28 * 24


# -- outage tiers and the standby generator --------------------------------------------------------------------
def test_the_data_centre_is_critical(demo):
    tiers = study.load_tiers(demo)
    assert tiers[0].name == "critical" and not tiers[0].sheddable
    # the data-centre building has one top-level load channel: 4 x kWh per 15 minutes = kW
    assert tiers[0].kw == pytest.approx(demo.values_kwh["dc.main.kwh"] * 4)
    names = [t.name for t in tiers]
    assert {"process", "offices", "laboratories", "other"} <= set(names)
    sheddable = [t.priority for t in tiers if t.sheddable]
    assert sheddable == sorted(sheddable, reverse=True)
    # every load and EV channel lands in one tier
    loads = ("load", "ev_charging")
    channels = [
        ch["code"]
        for m in demo.park["meters"]
        for ch in m["channels"]
        if ch.get("purpose") in loads and ch.get("quantity_kind") == "active_energy" and not ch.get("parent")
    ]
    assert sum(t.kw.sum() for t in tiers) == pytest.approx(sum(demo.values_kwh[c].sum() * 4 for c in channels))


def test_critical_channels_override_the_building(demo):
    tiers = {t.name: t for t in study.load_tiers(demo, critical_channels=["testing.main.kwh"])}
    expected = (demo.values_kwh["dc.main.kwh"] + demo.values_kwh["testing.main.kwh"]) * 4
    assert tiers["critical"].kw == pytest.approx(expected)
    assert "laboratories" not in tiers  # the testing centre was the only laboratory load


@pytest.mark.parametrize("channel", ["nope", "park.grid.import.kwh", "steel.eaf.kwh", "bess.soc.pct"])
def test_a_critical_channel_must_be_a_load_of_the_park(demo, channel):
    # a grid, a sub-meter or a battery channel would be ignored without a word: refused, named
    with pytest.raises(ValidationFailed) as e:
        study.load_tiers(demo, critical_channels=[channel])
    assert repr(channel) in str(e.value)


def test_a_park_without_critical_load_is_refused():
    with pytest.raises(ValidationFailed, match="no critical load"):
        study.load_tiers(small_record(small_doc()))  # one industrial building: process and other tiers only
    tiers = study.load_tiers(small_record(small_doc()), critical_channels=["office.main"])
    assert tiers[0].name == "critical" and tiers[0].kw == pytest.approx(np.full(96, 40.0))  # 10 kWh / 0.25 h


def test_two_generators_add_up():
    doc = small_doc(
        g1={"kind": "generator", "params": {"power_kw": 1000.0, "efficiency": 0.40, "fuel_kwh": 10000.0}},
        g2={"kind": "generator", "params": {"power_kw": 500.0, "efficiency": 0.30, "fuel_litres": 1000.0}},
    )
    gen = study.standby_generator(small_record(doc))
    # g2: 1,000 L x 0.84 kg/L x (42.652 GJ/t / 3.6 = 11.848 kWh/kg) = 9,952.1 kWh of diesel
    diesel = 1000.0 * 0.84 * 42.652 / 3.6
    fuel = 10000.0 + diesel
    assert gen.power_kw == 1500.0 and gen.fuel_energy_kwh == pytest.approx(fuel)  # 19,952.1 kWh
    # efficiency weighted by fuel: (10,000 x 0.40 + 9,952.1 x 0.30) / 19,952.1 = 6,985.6 / 19,952.1 = 0.3501
    assert gen.efficiency == pytest.approx((4000.0 + diesel * 0.30) / fuel)
    assert gen.efficiency == pytest.approx(0.3501, abs=1e-4)
    assert study.standby_generator(small_record(small_doc())) is None


def test_a_generator_without_fuel_is_named():
    doc = small_doc(g1={"kind": "generator", "params": {"power_kw": 800.0}})
    with pytest.raises(ValidationFailed) as e:
        study.standby_generator(small_record(doc))
    assert "'g1'" in str(e.value) and "fuel" in str(e.value)
    # leaving the generators out needs no valid generator
    doc["parks"][0]["buildings"][0]["use"] = "data_centre"
    report = study.resilience(small_record(doc), generator=None, max_hours=6.0, duration_h=6.0, days=1)
    assert report.sweep.starts is not None and len(report.sweep.starts) == 24


def test_resilience_of_the_demo_generator_counts(demo):
    week = study.between(demo, date(2025, 7, 14), date(2025, 7, 21))
    kept = study.resilience(week, max_hours=24.0)
    bare = study.resilience(week, generator=None, max_hours=24.0)
    assert kept.sweep.min_hours > bare.sweep.min_hours  # 4 MW of diesel behind the data centre
    assert kept.bad_weather is not None


# -- the store ------------------------------------------------------------------------------------------------
START = date(2025, 3, 1)


def write(store, values: dict[str, np.ndarray], start: date = START) -> None:
    """15-minute readings from local midnight of `start`; NaN values are not written (a gap)."""
    ids = {code: int(i) for i, code in store.db.fetchall("SELECT id, code FROM channels")}
    t0 = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(hours=8)  # Shanghai midnight
    cols: dict[str, list] = {"channel_id": [], "ts_start": [], "value": []}
    for code, arr in values.items():
        for i, v in enumerate(arr):
            if not math.isnan(v):
                cols["channel_id"].append(ids[code])
                cols["ts_start"].append(t0 + timedelta(minutes=15 * i))
                cols["value"].append(float(v))
    table = pa.table(
        {
            "channel_id": pa.array(cols["channel_id"], pa.int64()),
            "ts_start": pa.array(cols["ts_start"], pa.timestamp("us", tz="UTC")),
            "value": pa.array(cols["value"], pa.float64()),
        }
    )
    merge_readings(store, table, source="test", actor="test")


def two_days() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    hours = np.arange(192) / 4 % 24
    pv = np.where((hours >= 6) & (hours < 18), 100.0 * np.sin(np.pi * (hours - 6) / 12), 0.0)
    return {
        "steel.main": np.round(60 + rng.uniform(0, 20, 192), 3),
        "steel.eaf": np.full(192, 30.0),
        "office.main": np.where((hours >= 8) & (hours < 18), 20.0, 5.0),
        "pv1.gen": np.round(pv, 3),
    }


@pytest.fixture
def small_store(tmp_path):
    store = open_store(f"duckdb:///{tmp_path / 'study.duckdb'}")
    registry_io.import_registry(store, SYSTEM, SMALL_PARK)
    try:
        yield store
    finally:
        store.close()


def test_from_store_reads_what_was_written(small_store):
    written = two_days()
    write(small_store, written)
    rec = study.from_store(small_store, SYSTEM, "p1", START, START + timedelta(days=2))
    assert len(rec.index) == 192 and str(rec.index.tz) == TZ and rec.index[0].hour == 0
    for code in ("steel.main", "office.main", "pv1.gen"):
        assert rec.values_kwh[code] == pytest.approx(written[code])
    # load = (steel + office) / 0.25 h; steel.eaf is a sub-meter of steel.main, not added again
    assert rec.data.load_kw == pytest.approx((written["steel.main"] + written["office.main"]) * 4)
    assert rec.data.pv_kw == pytest.approx(written["pv1.gen"] * 4)
    assert rec.park["code"] == "p1"
    one = study.from_store(small_store, SYSTEM, "p1", START + timedelta(days=1), START + timedelta(days=2))
    assert one.values_kwh["office.main"] == pytest.approx(written["office.main"][96:])


def test_from_store_is_the_operators(small_store):
    write(small_store, two_days())
    with pytest.raises(Forbidden):
        study.from_store(small_store, enterprise_scope(small_store, "steel"), "p1", START, START + timedelta(days=2))
    park_id = small_store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    operator = Scope(actor="op", role="operator", park_id=park_id)
    assert len(study.from_store(small_store, operator, "p1", START, START + timedelta(days=1)).index) == 96


def test_from_store_names_a_channel_with_a_gap(small_store):
    values = two_days()
    values["office.main"][100:103] = np.nan  # three quarter hours not metered
    write(small_store, values)
    with pytest.raises(ValidationFailed) as e:
        study.from_store(small_store, SYSTEM, "p1", START, START + timedelta(days=2))
    assert "'office.main'" in str(e.value) and "3 missing" in str(e.value)
    with pytest.raises(ValidationFailed, match="start before end"):
        study.from_store(small_store, SYSTEM, "p1", START, START)
    with pytest.raises(NotFound, match="no park 'nope'"):
        study.from_store(small_store, SYSTEM, "nope", START, START + timedelta(days=1))


# -- the dashboard of a day ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dashboard(demo) -> dict:
    rec = study.between(demo, date(2025, 6, 20), date(2025, 7, 16))
    return study.dashboard(rec, date(2025, 7, 15), study.economics(2025))


def test_dashboard_of_a_day(dashboard, demo):
    d = dashboard["day"]
    assert dashboard["date"] == "2025-07-15" and dashboard["park"] == "baoshan-demo"
    assert len(d["time"]) == 96 and d["time"][0] == "00:00" and d["time"][-1] == "23:45"
    for key in ("plan_grid_import_kw", "actual_grid_import_kw", "plan_soc_pct", "actual_soc_pct", "pv_forecast_kw"):
        assert len(d[key]) == 96, key
    assert d["price_cny_per_kwh"][12] == pytest.approx(0.248)  # 03:00, valley: 0.62 x 0.4
    day = study.between(demo, date(2025, 7, 15), date(2025, 7, 16))
    assert d["pv_actual_kw"][48] == pytest.approx(day.data.pv_kw[48], abs=0.05)
    assert d["actual_grid_import_kw"][0] == pytest.approx(day.values_kwh["park.grid.import.kwh"][0] * 4, abs=0.05)
    assert all(0 <= x <= 100 for x in d["plan_soc_pct"])
    s = dashboard["savings"]
    assert s["start"] == "2025-07-09" and s["end"] == "2025-07-15" and s["days"] == 7
    cost = {k: v["cost_cny"] for k, v in s["strategies"].items()}
    assert set(cost) == {"none", "rule", "mpc"}
    ratio = cost["mpc"] / cost["none"]
    assert math.isfinite(ratio) and 0.5 < ratio <= 1.0
    assert s["mpc_vs"]["none"]["cost_cny_ratio"] == pytest.approx(ratio)
    assert s["mpc_vs"]["none"]["cost_saving_pct"] == pytest.approx(100 * (1 - ratio), abs=1e-6)
    assert s["plans"] == 7 * 4 and s["fallbacks"] == 0  # re-planned at 00, 06, 12, 18 h each day
    for what in ("load_kw", "pv_kw"):
        assert {"mae", "rmse", "n"} <= set(dashboard["forecast"][what])
        assert dashboard["forecast"][what]["n"] == 7 * 96


def test_dashboard_needs_history_and_the_day(demo):
    econ = study.economics(2025)
    with pytest.raises(ValidationFailed, match="14 days"):
        study.dashboard(demo, date(2025, 1, 10), econ)  # savings window from 4 Jan, history from 21 Dec 2024
    spring = study.between(demo, date(2025, 1, 1), date(2025, 3, 1))
    with pytest.raises(ValidationFailed, match="end of that day"):
        study.dashboard(spring, date(2025, 3, 10), econ)


# -- measured savings -----------------------------------------------------------------------------------------
# A cooling-driven meter: 1,000 kWh/day + 50 kWh per cooling degree day over 18 degC + 300 kWh on working days,
# with N(0, 40 kWh) noise; the reporting period uses exactly 10 % less than that equation.
BASELINE = (date(2025, 4, 1), date(2025, 8, 1))
REPORTING = (date(2025, 8, 1), date(2025, 9, 15))


@dataclass
class MeteredPark:
    store: object
    true_reporting_kwh: float  # what the meter would have used in the reporting period without the measure
    measured_reporting_kwh: float


def build_metered(store) -> MeteredPark:
    """SMALL_PARK with a weather station, and the office meter of the equation above from April to mid-September."""
    registry_io.import_registry(store, SYSTEM, SMALL_PARK)
    repo.create_entity(store, SYSTEM, "meters", "p1", {"code": "m-weather", "name": "Weather station"})
    repo.create_entity(
        store,
        SYSTEM,
        "channels",
        "p1",
        {
            "code": "weather.temp",
            "name": "Air temperature",
            "quantity_kind": "temperature",
            "purpose": "weather",
            "meter": "m-weather",
        },
    )
    rng = np.random.default_rng(11)
    days = pd.date_range(BASELINE[0], REPORTING[1], freq="D", inclusive="left")
    doy = days.day_of_year.to_numpy()
    temp = 16.5 - 12.5 * np.cos(2 * np.pi * (doy - 20) / 365) + rng.normal(0, 2.0, len(days))
    working = np.array([mv.is_working_day(d.date()) for d in days])
    true_kwh = 1000.0 + 50.0 * np.maximum(temp - 18.0, 0) + 300.0 * working
    reporting = days.date >= REPORTING[0]
    daily = true_kwh * np.where(reporting, 0.9, 1.0) + rng.normal(0, 40.0, len(days))
    diurnal = 3.0 * np.sin(2 * np.pi * (np.arange(96) / 96 - 0.375))  # mean zero over the day
    write(
        store,
        {
            "office.main": np.repeat(daily / 96, 96),
            "weather.temp": (temp[:, None] + diurnal[None, :]).ravel(),
        },
        start=BASELINE[0],
    )
    return MeteredPark(store, float(true_kwh[reporting].sum()), float(daily[reporting].sum()))


@pytest.fixture(scope="module")
def metered(tmp_path_factory) -> MeteredPark:
    store = open_store(f"duckdb:///{tmp_path_factory.mktemp('mv') / 'mv.duckdb'}")
    yield build_metered(store)
    store.close()


def test_measured_savings_find_the_ten_percent(metered):
    out = study.measured_savings(metered.store, SYSTEM, "p1", ["office.main"], BASELINE, REPORTING)
    s = out["savings"]
    assert out["temperature_channel"] == "weather.temp" and out["channels"] == ["office.main"]
    assert s["n_days"] == 45 and s["measured_kwh"] == pytest.approx(metered.measured_reporting_kwh, rel=1e-9)
    assert s["savings_kwh"] == pytest.approx(s["adjusted_baseline_kwh"] - s["measured_kwh"])
    # 10 % of what the meter would have used: 0.1 x ~72,000 kWh = ~7,200 kWh
    true_savings = 0.1 * metered.true_reporting_kwh
    assert s["lower_kwh"] <= true_savings <= s["upper_kwh"]
    assert abs(s["savings_kwh"] - 0.1 * s["adjusted_baseline_kwh"]) <= s["uncertainty_kwh"]
    assert s["savings_pct"] == pytest.approx(10.0, abs=1.5) and s["significant"] is True
    m = out["model"]
    assert m["n_days"] == 122 and m["cv_rmse_pct"] < 10
    cooling = next(c for c in m["coefficients"] if c["name"] == "cooling")
    assert cooling["value"] == pytest.approx(50.0, rel=0.2)  # kWh per cooling degree day


def test_savings_need_energy_channels_and_weather(metered, small_store):
    with pytest.raises(ValidationFailed, match="not kWh"):
        study.measured_savings(metered.store, SYSTEM, "p1", ["steel.gas"], BASELINE, REPORTING)
    with pytest.raises(ValidationFailed, match="called 'nope'"):
        study.measured_savings(
            metered.store, SYSTEM, "p1", ["office.main"], BASELINE, REPORTING, temperature_channel="nope"
        )
    with pytest.raises(ValidationFailed, match="no weather temperature channel"):
        study.measured_savings(small_store, SYSTEM, "p1", ["office.main"], BASELINE, REPORTING)
    with pytest.raises(ValidationFailed, match="must be before"):
        study.measured_savings(metered.store, SYSTEM, "p1", ["office.main"], REPORTING[::-1], REPORTING)


def test_savings_of_a_meter_without_readings_say_so(metered):
    with pytest.raises(ValidationFailed, match="'steel.main' has no readings between 2025-04-01 and 2025-09-15"):
        study.measured_savings(metered.store, SYSTEM, "p1", ["steel.main"], BASELINE, REPORTING)


# -- JSON --------------------------------------------------------------------------------------------------------
@dataclass
class _Result:
    day: date
    at: datetime
    value: np.float64
    missing: float
    flags: np.ndarray
    ok: np.bool_
    count: np.int64
    detail: pd.DataFrame
    nested: dict


def test_jsonable_plain_types():
    r = _Result(
        date(2025, 7, 15),
        datetime(2025, 7, 15, 12, tzinfo=UTC),
        np.float64(1.5),
        float("nan"),
        np.array([1.0, np.inf]),
        np.bool_(True),
        np.int64(3),
        pd.DataFrame({"a": [1]}),
        {1: (pd.Timestamp("2025-01-01", tz=TZ), pd.NaT, np.datetime64("2025-02-01"))},
    )
    out = study.jsonable(r)
    assert out == {
        "day": "2025-07-15",
        "at": "2025-07-15T12:00:00+00:00",
        "value": 1.5,
        "missing": None,
        "flags": [1.0, None],
        "ok": True,
        "count": 3,
        "nested": {"1": ["2025-01-01T00:00:00+08:00", None, "2025-02-01T00:00:00"]},
    }
    assert type(out["value"]) is float and type(out["ok"]) is bool and type(out["count"]) is int
