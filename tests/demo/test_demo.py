"""The demo park: registry shape, weather model, PV physics, load shapes, sub-metering and the park balance.

Most checks run on two weeks around the 2025 Spring Festival (20 Jan - 3 Feb); one slow test generates the
whole year.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parkzero.calendar import holiday_mask, is_working_day, working_day_mask
from parkzero.demo.battery import BatteryParams, dispatch, tou_actions
from parkzero.demo.identifiers import credit_check_char, credit_code_valid, organisation_check_char
from parkzero.demo.park import demo_registry, demo_summary, iter_channels
from parkzero.demo.readings import READING_SCHEMA, demo_readings
from parkzero.demo.weather import shanghai_weather
from parkzero.energy import pv
from parkzero.registry import model
from parkzero.units import QUANTITY_KINDS

SEED = 42
START, END = "2025-01-20", "2025-02-03"  # 14 days: a normal Wednesday (22 Jan) and the Spring Festival (29 Jan)
DAYS = 14
# the demo must satisfy the registry: its own lists are the authority
CANONICAL = {kind: q.canonical_unit for kind, q in QUANTITY_KINDS.items()}


def _wide(tables: list[pa.Table]) -> pd.DataFrame:
    df = pa.concat_tables(tables).to_pandas()
    wide = df.pivot(index="ts_start", columns="channel_code", values="value")
    wide.index = wide.index.tz_convert("Asia/Shanghai")
    return wide


@pytest.fixture(scope="module")
def registry() -> dict:
    return demo_registry(SEED)


@pytest.fixture(scope="module")
def park(registry) -> dict:
    return registry["parks"][0]


@pytest.fixture(scope="module")
def channels(registry) -> dict[str, dict]:
    return {ch["code"]: ch for ch in iter_channels(registry)}


@pytest.fixture(scope="module")
def tables(registry) -> list[pa.Table]:
    return list(demo_readings(registry, 2025, SEED, start=START, end=END))


@pytest.fixture(scope="module")
def wide(tables) -> pd.DataFrame:
    return _wide(tables)


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    return shanghai_weather(2025, SEED)


def _roots(channels: dict[str, dict], purpose: str) -> list[str]:
    return [
        c
        for c, ch in channels.items()
        if ch["purpose"] == purpose and ch["quantity_kind"] == "active_energy" and not ch["parent"]
    ]


# ---------------------------------------------------------------------------------------------------------------
# registry


def test_registry_is_a_json_document_of_the_agreed_shape(registry, park):
    assert registry["format"] == "parkzero-registry" and registry["version"] == 1
    assert json.loads(json.dumps(registry, ensure_ascii=False)) == registry  # plain JSON values only
    assert (park["code"], park["timezone"], park["latitude"], park["longitude"]) == (
        "baoshan-demo",
        "Asia/Shanghai",
        31.2,
        121.5,
    )
    assert set(park) >= {"zones", "buildings", "enterprises", "assets", "meters", "products"}
    for m in park["meters"]:
        assert set(m) == {"code", "name", "building", "enterprise", "serial", "channels"}
        for ch in m["channels"]:
            assert set(ch) == {
                "code",
                "name",
                "quantity_kind",
                "unit",
                "interval_s",
                "behaviour",
                "purpose",
                "building",
                "enterprise",
                "asset",
                "parent",
            }
            assert ch["unit"] == CANONICAL[ch["quantity_kind"]]
            assert ch["interval_s"] == 900 and ch["behaviour"] in ("interval", "counter")
            assert ch["purpose"] in model.PURPOSES
    assert {a["kind"] for a in park["assets"]} <= set(model.ASSET_KINDS)


def test_registry_sizes(park, channels):
    tenants = [e for e in park["enterprises"] if e["code"] != "operator"]
    startups = [e for e in park["enterprises"] if e["is_startup"]]
    assert len(tenants) >= 8
    assert len(startups) >= 3 and all(e["building"] == "incubator" for e in startups)
    assert len(channels) >= 200
    counters = [c for c, ch in channels.items() if ch["behaviour"] == "counter"]
    assert {channels[c]["quantity_kind"] for c in counters} >= {"water_volume", "gas_volume"}


def test_codes_are_unique_slugs(park, channels):
    for kind in ("zones", "buildings", "enterprises", "assets", "meters", "products"):
        codes = [r["code"] for r in park[kind]]
        assert len(codes) == len(set(codes)), kind
        assert all(c == c.lower() and " " not in c for c in codes), kind
    all_channel_codes = [ch["code"] for m in park["meters"] for ch in m["channels"]]
    assert len(all_channel_codes) == len(set(all_channel_codes)) == len(channels)
    assert all(c == c.lower() and " " not in c for c in all_channel_codes)


def test_every_reference_resolves(park, channels):
    zones = {z["code"] for z in park["zones"]}
    buildings = {b["code"] for b in park["buildings"]}
    enterprises = {e["code"] for e in park["enterprises"]}
    assets = {a["code"] for a in park["assets"]}
    assert all(b["zone"] in zones for b in park["buildings"])
    assert all(e["building"] in buildings for e in park["enterprises"])
    for rec in (*park["assets"], *park["meters"], *channels.values()):
        assert rec["building"] in buildings | {None}, rec["code"]
        assert rec["enterprise"] in enterprises | {None}, rec["code"]
    for ch in channels.values():
        assert ch["asset"] in assets | {None}, ch["code"]
        assert ch["parent"] in set(channels) | {None}, ch["code"]
        if ch["parent"]:  # a sub-meter measures the same quantity as its parent, in the same tenant
            parent = channels[ch["parent"]]
            assert (parent["quantity_kind"], parent["enterprise"]) == (ch["quantity_kind"], ch["enterprise"])
            assert parent["behaviour"] == ch["behaviour"] == "interval"
    assert all(p["enterprise"] in enterprises for p in park["products"])


def test_registry_passes_the_registry_validation(park):
    model = pytest.importorskip("parkzero.registry.model")
    issues = model.validate(
        "parks", {k: park[k] for k in ("code", "name", "name_zh", "timezone", "latitude", "longitude")}
    )
    for kind in ("zones", "buildings", "enterprises", "assets", "products"):
        for rec in park[kind]:
            issues += model.validate(kind, rec)
    for m in park["meters"]:
        issues += model.validate("meters", {k: v for k, v in m.items() if k != "channels"})
        for ch in m["channels"]:
            issues += model.validate("channels", {**ch, "meter": m["code"]})
    assert issues == []


def test_each_tenant_has_one_incoming_channel_and_sub_meters_below_it(park, channels):
    for e in park["enterprises"]:
        if e["code"] == "operator":
            continue
        roots = [c for c in _roots(channels, "load") if channels[c]["enterprise"] == e["code"]]
        assert len(roots) == 1, (e["code"], roots)
        for code, ch in channels.items():
            if ch["enterprise"] == e["code"] and ch["purpose"] == "load" and ch["quantity_kind"] == "active_energy":
                top = code
                while channels[top]["parent"]:
                    top = channels[top]["parent"]
                assert top == roots[0], code


def test_the_park_has_the_required_tenants_and_assets(park, channels):
    industries = {e["code"]: e["industry_code"] for e in park["enterprises"]}
    assert industries["steel"].startswith("C31") and industries["cathode"] == "C3985"
    assert industries["datacentre"] == "I6450" and industries["testing"] == "M7452"
    offices = [e for e in park["enterprises"] if e["building"] in ("office-a", "office-b")]
    assert len(offices) >= 2
    assert channels["steel.eaf.kwh"]["parent"] == "steel.main.kwh"
    gas = channels["steel.gas.reheat.nm3"]
    assert (gas["quantity_kind"], gas["unit"], gas["purpose"]) == ("gas_volume", "Nm3", "gas")
    assert sum(1 for c in channels if c.startswith("cathode.kiln-")) == 6
    assert channels["dc.it.kwh"]["parent"] == "dc.main.kwh" and channels["dc.cooling.kwh"]["parent"] == "dc.main.kwh"
    products = {(p["enterprise"], p["declared_unit"]) for p in park["products"]}
    assert ("steel", "t") in products and ("cathode", "t") in products
    assert {channels[c]["enterprise"] for c in channels if channels[c]["purpose"] == "product_output"} == {
        "steel",
        "cathode",
    }

    assets = {a["code"]: a for a in park["assets"]}
    grid = [a for a in assets.values() if a["kind"] == "grid_connection"]
    assert len(grid) == 1 and {"transformer_kva", "contracted_demand_kw"} <= set(grid[0]["params"])
    pv_arrays = [a for a in assets.values() if a["kind"] == "pv_array"]
    assert {a["params"]["mounting"] for a in pv_arrays} == {"roof", "facade"}
    for a in pv_arrays:
        assert set(a["params"]) == {"kwp", "tilt_deg", "azimuth_deg", "mounting", "losses_pct", "surface_area_m2"}
        assert a["params"]["surface_area_m2"] * 0.2 > a["params"]["kwp"]  # room left for the sizing to add PV
        assert sum(1 for ch in channels.values() if ch["asset"] == a["code"] and ch["purpose"] == "pv_generation") == 1
    (battery,) = [a for a in assets.values() if a["kind"] == "battery"]
    assert set(battery["params"]) == {
        "energy_kwh",
        "power_kw",
        "eta_charge",
        "eta_discharge",
        "soc_min_pct",
        "soc_max_pct",
    }
    assert Counter(ch["purpose"] for ch in channels.values() if ch["asset"] == battery["code"]) == {
        "battery_charge": 1,
        "battery_discharge": 1,
        "battery_soc": 1,
    }
    for a in assets.values():
        if a["kind"] == "ev_charger":
            assert {"power_kw", "count"} <= set(a["params"])
            assert any(ch["asset"] == a["code"] and ch["purpose"] == "ev_charging" for ch in channels.values())
    weather_kinds = {ch["quantity_kind"] for ch in channels.values() if ch["purpose"] == "weather"}
    assert weather_kinds == {"irradiance", "temperature"}
    grid_purposes = {ch["purpose"] for ch in channels.values() if ch["asset"] == grid[0]["code"]}
    assert grid_purposes == {"grid_import", "grid_export"}


def test_credit_codes_pass_the_gb32100_check_digit(park):
    # independent re-implementation: weights 3^(i-1) mod 31, alphabet without I, O, Z, S, V
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [pow(3, i, 31) for i in range(17)]
    for e in park["enterprises"]:
        code = e["credit_code"]
        assert len(code) == 18 and code[:8] == "91310113"  # enterprise, registered in Baoshan
        total = sum(alphabet.index(ch) * w for ch, w in zip(code[:17], weights, strict=True))
        assert alphabet[(31 - total % 31) % 31] == code[17], e["code"]
    assert len({e["credit_code"] for e in park["enterprises"]}) == len(park["enterprises"])


def test_credit_code_helpers_on_the_published_example():
    # the standard's worked example 91350100M000100Y43: organisation code M000100Y-4, check character 3
    assert organisation_check_char("M000100Y") == "4"
    assert credit_check_char("91350100M000100Y4") == "3"
    assert credit_code_valid("91350100M000100Y43") and not credit_code_valid("91350100M000100Y44")


def test_registry_layout_is_independent_of_the_seed_but_identifiers_are_not():
    a, b = demo_registry(1)["parks"][0], demo_registry(2)["parks"][0]
    assert [m["code"] for m in a["meters"]] == [m["code"] for m in b["meters"]]
    assert [e["credit_code"] for e in a["enterprises"]] != [e["credit_code"] for e in b["enterprises"]]
    assert demo_registry(1) == demo_registry(1)


def test_summary(registry, channels):
    s = demo_summary(registry)
    assert s["channels"] == len(channels) and s["tenants"] >= 8 and s["startups"] >= 3
    assert s["pv_kwp"] == pytest.approx(8790.0)  # 4000 + 2500 + 400 + 800 + 260 + 200 + 300 + 150 + 120 + 60
    assert (s["battery_kwh"], s["battery_kw"]) == (5000.0, 2500.0)
    assert s["ev_charge_points"] == 8 + 40 + 20 + 4


# ---------------------------------------------------------------------------------------------------------------
# calendar


def test_chinese_working_days_2025():
    assert is_working_day(dt.date(2025, 1, 22))  # Wednesday
    assert not is_working_day(dt.date(2025, 1, 29))  # Spring Festival
    assert is_working_day("2025-01-26")  # Sunday worked in lieu (调休)
    assert is_working_day(dt.date(2025, 2, 8))  # Saturday worked in lieu
    assert not is_working_day(dt.date(2025, 10, 1))  # National Day
    assert not is_working_day(dt.date(2025, 3, 15))  # ordinary Saturday
    assert is_working_day(pd.Timestamp("2025-01-27 23:45", tz="Asia/Shanghai"))  # local date decides


def test_vectorised_calendar_matches_the_scalar_one():
    index = pd.date_range("2025-01-24", "2025-02-10", freq="15min", tz="Asia/Shanghai", inclusive="left")
    mask = working_day_mask(index)
    assert list(mask[::96]) == [is_working_day(t) for t in index[::96]]
    spring = holiday_mask(index, "Spring Festival")
    assert spring.sum() == 8 * 96  # 28 Jan - 4 Feb 2025, 96 quarter-hours a day


# ---------------------------------------------------------------------------------------------------------------
# weather


def test_weather_frame_shape_and_time_axis(weather):
    assert len(weather) == 365 * 96  # 35,040 quarter-hours in 2025
    assert str(weather.index.tz) == "Asia/Shanghai"
    assert weather.index[0] == pd.Timestamp("2025-01-01 00:00", tz="Asia/Shanghai")
    assert weather.index[-1] == pd.Timestamp("2025-12-31 23:45", tz="Asia/Shanghai")
    assert list(weather.columns[:6]) == [
        "ghi_w_m2",
        "dni_w_m2",
        "dhi_w_m2",
        "temp_air_c",
        "wind_speed_m_s",
        "cloud_index",
    ]
    assert not weather.isna().any().any()


def test_weather_is_deterministic_for_a_seed(weather):
    pd.testing.assert_frame_equal(weather, shanghai_weather(2025, SEED))
    assert not weather["ghi_w_m2"].equals(shanghai_weather(2025, SEED + 1)["ghi_w_m2"])


def test_weather_values_are_physical(weather):
    assert weather["cloud_index"].between(0, 1).all()
    assert (weather[["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]] >= 0).all().all()
    assert weather["ghi_w_m2"].max() < 1100  # below the solar constant at the surface
    midnight = weather.index.hour == 0
    assert (weather.loc[midnight, "ghi_w_m2"] == 0).all()
    # the Erbs split closes: GHI = DNI cos(zenith) + DHI
    sun = pv.sun_geometry(weather.index, 31.2, 121.5)
    up = sun.zenith_deg < 85
    closure = weather["dni_w_m2"] * np.cos(np.radians(sun.zenith_deg)) + weather["dhi_w_m2"]
    assert np.allclose(closure[up], weather["ghi_w_m2"][up], atol=1e-6)


def test_weather_climate_resembles_shanghai(weather):
    monthly_t = weather["temp_air_c"].groupby(weather.index.month).mean()
    assert monthly_t[1] == pytest.approx(4.5, abs=2.5)  # Xujiahui normal: 4.8 degC
    assert (monthly_t[7] + monthly_t[8]) / 2 == pytest.approx(28.5, abs=2.0)  # 28.7 and 28.4 degC
    annual_ghi_kwh_m2 = weather["ghi_w_m2"].sum() * 0.25 / 1000  # W/m2 x 0.25 h -> Wh/m2 -> kWh/m2
    assert 1150 <= annual_ghi_kwh_m2 <= 1500
    # plum rain (mid-June to early July) is cloudier than October
    plum = weather.loc["2025-06-16":"2025-07-09", "cloud_index"].mean()
    october = weather.loc["2025-10-01":"2025-10-31", "cloud_index"].mean()
    assert plum > october + 0.1


# ---------------------------------------------------------------------------------------------------------------
# PV


def test_pv_yield_of_a_south_roof_and_a_facade(weather):
    sun = pv.sun_geometry(weather.index, 31.2, 121.5)
    roof_kwh = pv.pv_ac_power_kw(weather, sun, 1.0, 25.0, 180.0, "roof").sum() * 0.25  # kW x 0.25 h
    facade_kwh = pv.pv_ac_power_kw(weather, sun, 1.0, 90.0, 180.0, "facade").sum() * 0.25
    assert 950 <= roof_kwh <= 1300  # kWh/kWp/yr: Shanghai, well oriented
    assert facade_kwh < 0.75 * roof_kwh


def test_pv_channels_follow_the_physics(park, wide, weather):
    sun = pv.sun_geometry(weather.index, 31.2, 121.5)
    a = next(a for a in park["assets"] if a["code"] == "pv-office-a-roof")["params"]
    kw = pv.pv_ac_power_kw(weather, sun, a["kwp"], a["tilt_deg"], a["azimuth_deg"], a["mounting"], a["losses_pct"])
    expected = pd.Series(kw * 0.25, index=weather.index).loc[START:"2025-02-02"]
    np.testing.assert_allclose(wide["office-a-roof.pv.kwh"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert (wide["office-a-roof.pv.kwh"] <= a["kwp"] * 0.25).all()  # never above nameplate


# ---------------------------------------------------------------------------------------------------------------
# readings


def test_tables_have_the_reading_schema_and_cover_every_interval(tables, channels):
    assert all(t.schema == READING_SCHEMA for t in tables)
    counts = Counter()
    for t in tables:
        counts.update(t.column("channel_code").to_pylist())
    assert set(counts) == set(channels)
    assert set(counts.values()) == {DAYS * 96}  # 14 days x 96 quarter-hours
    first = min(t.column("ts_start")[0].as_py() for t in tables)
    assert first == dt.datetime(2025, 1, 19, 16, 0, tzinfo=dt.UTC)  # 20 Jan 00:00 in Shanghai (UTC+8)


def test_same_seed_same_readings(registry, tables):
    again = list(demo_readings(registry, 2025, SEED, start=START, end=END))
    assert len(again) == len(tables) and all(a.equals(b) for a, b in zip(again, tables, strict=True))
    other = _wide(list(demo_readings(registry, 2025, SEED + 1, start=START, end="2025-01-21")))
    this = _wide(tables).loc["2025-01-20"]
    assert not np.allclose(other["steel.eaf.kwh"], this["steel.eaf.kwh"])
    assert not np.allclose(other["weather.ghi.w_m2"], this["weather.ghi.w_m2"])


def test_sub_meters_never_exceed_their_parent(wide, channels):
    children: dict[str, list[str]] = {}
    for code, ch in channels.items():
        if ch["parent"]:
            children.setdefault(ch["parent"], []).append(code)
    assert len(children) >= 20
    for parent, subs in children.items():
        remainder = wide[parent] - wide[subs].sum(axis=1)
        assert (remainder >= -1e-9).all(), parent
        assert (wide[subs] >= 0).all().all(), parent


def test_park_balance_closes_in_every_interval(wide, channels):
    def total(purpose: str) -> pd.Series:
        return wide[_roots(channels, purpose)].sum(axis=1)

    net_grid = total("grid_import") - total("grid_export")
    balance = (
        total("load")
        + total("battery_charge")
        + total("ev_charging")
        - total("pv_generation")
        - total("battery_discharge")
    )
    assert (net_grid - balance).abs().max() < 1e-6
    assert ((wide["park.grid.import.kwh"] == 0) | (wide["park.grid.export.kwh"] == 0)).all()


def test_spring_festival_shutdown(wide):
    daily = wide["steel.main.kwh"].groupby(wide.index.date).sum()
    festival, wednesday = daily[dt.date(2025, 1, 29)], daily[dt.date(2025, 1, 22)]
    assert festival < 0.1 * wednesday  # meltshop off: standby only
    assert wide.loc["2025-01-29", "steel.eaf.kwh"].max() < 0.25 * 8500 * 0.05  # EAF arcing stopped
    cathode = wide["cathode.main.kwh"].groupby(wide.index.date).sum()
    assert cathode[dt.date(2025, 1, 29)] < cathode[dt.date(2025, 1, 22)]  # kilns on hold


def test_eaf_melts_in_batches(wide):
    eaf_kw = wide.loc["2025-01-22", "steel.eaf.kwh"] * 4  # kWh per quarter-hour x 4 = mean kW
    assert eaf_kw.max() > 7000 and eaf_kw.min() < 0.5 * eaf_kw.max()  # arcing and power-off periods


def test_offices_follow_working_hours(wide):
    office = wide["design.main.kwh"]
    weekday = office.loc["2025-01-22"]
    assert weekday.between_time("10:00", "11:45").mean() > 2.5 * weekday.between_time("02:00", "03:45").mean()
    saturday = office.loc["2025-01-25"].between_time("10:00", "11:45").mean()
    assert saturday < 0.5 * weekday.between_time("10:00", "11:45").mean()


def test_data_centre_pue_is_plausible(wide):
    pue = wide["dc.main.kwh"].sum() / wide["dc.it.kwh"].sum()  # facility / IT energy
    assert 1.1 < pue < 1.4  # winter, largely free cooling


def test_counters_are_monotone_registers(wide, channels):
    counters = [c for c, ch in channels.items() if ch["behaviour"] == "counter"]
    assert counters
    for c in counters:
        assert (wide[c].diff().dropna() >= 0).all(), c
        assert wide[c].iloc[0] > 0


def test_battery_respects_its_limits(wide, park):
    p = next(a for a in park["assets"] if a["kind"] == "battery")["params"]
    charge, discharge, soc = wide["bess.charge.kwh"], wide["bess.discharge.kwh"], wide["bess.soc.pct"]
    assert soc.between(p["soc_min_pct"] - 1e-9, p["soc_max_pct"] + 1e-9).all()
    assert (charge <= p["power_kw"] * 0.25 + 1e-9).all() and (discharge <= p["power_kw"] * 0.25 + 1e-9).all()
    assert ((charge == 0) | (discharge == 0)).all()
    # SOC bookkeeping: delta SOC = (charge x 0.95 - discharge / 0.95) / 5,000 kWh
    d_soc = soc.diff().iloc[1:]
    expected = 100 * (charge * p["eta_charge"] - discharge / p["eta_discharge"]).iloc[1:] / p["energy_kwh"]
    assert np.allclose(d_soc, expected, atol=1e-9)
    assert discharge.sum() > 0 and charge.sum() > 0


def test_battery_rule_on_a_toy_day():
    hour = np.arange(96) / 4.0
    actions = tou_actions(hour, np.full(96, 3))  # March: peaks 08-11 and 18-21
    assert actions[0] == 1 and actions[8 * 4] == -1 and actions[12 * 4] == 1 and actions[19 * 4] == -1
    assert actions[7 * 4] == 0 and actions[21 * 4] == 0
    battery = BatteryParams(energy_kwh=100, power_kw=50)
    charge, discharge, soc = dispatch(np.full(96, 1000.0), actions, battery)
    # valley: 10 % -> 95 % of 100 kWh = 85 kWh stored = 85 / 0.95 = 89.47 kWh from the grid
    assert charge[:24].sum() == pytest.approx(85 / 0.95)
    assert soc[23] == pytest.approx(95.0)
    # morning peak: 85 kWh drawn x 0.95 = 80.75 kWh delivered
    assert discharge[32:44].sum() == pytest.approx(85 * 0.95)
    # no export: with a net load of 5 kWh per interval the battery delivers at most 5 kWh
    _, capped, _ = dispatch(np.full(96, 5.0), actions, battery)
    assert capped.max() == pytest.approx(5.0)


def test_readings_for_an_edited_registry_fall_back_by_purpose(registry):
    doc = json.loads(json.dumps(registry))
    meter = doc["parks"][0]["meters"][-1]
    meter["channels"].append(
        {
            **meter["channels"][0],
            "code": "extra.load.kwh",
            "name": "Added by hand",
            "purpose": "load",
            "asset": None,
            "parent": None,
        }
    )
    table = pa.concat_tables(demo_readings(doc, 2025, SEED, start="2025-03-03", end="2025-03-04"))
    values = table.filter(pc.equal(table["channel_code"], "extra.load.kwh"))["value"].to_numpy()
    assert len(values) == 96 and (values > 0).all()


# ---------------------------------------------------------------------------------------------------------------
# the whole year


@pytest.mark.slow
def test_full_year(registry, channels, wide):
    t0 = time.perf_counter()
    tables = list(demo_readings(registry, 2025, SEED))
    elapsed_s = time.perf_counter() - t0
    assert elapsed_s < 30
    rows = sum(t.num_rows for t in tables)
    assert rows == len(channels) * 35040  # 365 days x 96 quarter-hours per channel
    year = _wide(tables)

    # a shorter period is exactly the slice of the full year
    pd.testing.assert_frame_equal(year.loc[START:"2025-02-02"], wide, check_freq=False)

    children: dict[str, list[str]] = {}
    for code, ch in channels.items():
        if ch["parent"]:
            children.setdefault(ch["parent"], []).append(code)
    for parent, subs in children.items():
        assert (year[parent] - year[subs].sum(axis=1) >= -1e-9).all(), parent

    def total(purpose: str) -> pd.Series:
        return year[_roots(channels, purpose)].sum(axis=1)

    balance = (
        total("load")
        + total("battery_charge")
        + total("ev_charging")
        - total("pv_generation")
        - total("battery_discharge")
    )
    assert (year["park.grid.import.kwh"] - year["park.grid.export.kwh"] - balance).abs().max() < 1e-6

    for c, ch in channels.items():
        if ch["behaviour"] == "counter":
            assert (year[c].diff().dropna() >= 0).all(), c

    roof_yield = year["office-a-roof.pv.kwh"].sum() / 260.0  # kWh / kWp: 25 deg, south
    facade_yield = year["office-a-facade.pv.kwh"].sum() / 120.0  # kWh / kWp: vertical, south
    assert 950 <= roof_yield <= 1300 and facade_yield < roof_yield
    pue = year["dc.main.kwh"].sum() / year["dc.it.kwh"].sum()
    assert 1.15 < pue < 1.4
