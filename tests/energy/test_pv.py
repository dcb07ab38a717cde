"""PV service: physics checked by hand arithmetic, annual yield, weather files of every kind, PR and alerts."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkzero.demo.weather import shanghai_weather
from parkzero.energy import pv
from parkzero.energy.pv import PvArray
from parkzero.errors import ValidationFailed

DATA = Path(__file__).parents[1] / "data" / "weather"
EPW = DATA / "shanghai_2days.epw"
TMY3 = DATA / "shanghai_2days_tmy3.csv"
STATION_ZH = DATA / "station_zh_gb18030.csv"
STATION_GHI = DATA / "station_ghi_only.csv"
LAT, LON = 31.4, 121.4  # Baoshan
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    return shanghai_weather(2025, 42, LAT, LON)


def array(**kw) -> PvArray:
    params = {"kwp": 100.0, "tilt_deg": 25.0, "azimuth_deg": 180.0} | kw
    return PvArray.from_params("pv-test", params)


def rejected(excinfo) -> list:
    """The issues of a ValidationFailed, each with its file, row, column and reason."""
    assert isinstance(excinfo.value, ValidationFailed)
    return excinfo.value.issues


# ---------------------------------------------------------------------------------------------------------------
# physics, by hand


def test_dc_at_stc_is_kwp_less_losses():
    a = array(losses_pct=14.0)
    # 1,000 W/m2 at 25 degC: 100 kWp x 1,000 / 1,000 x (1 + 0) x (1 - 0.14) = 86.0 kW
    assert pv.dc_power_kw(np.array([1000.0]), np.array([25.0]), a)[0] == pytest.approx(86.0)
    # linear in light: 500 W/m2 -> 43.0 kW
    assert pv.dc_power_kw(np.array([500.0]), np.array([25.0]), a)[0] == pytest.approx(43.0)


def test_temperature_derate_follows_gamma():
    # default gamma -0.37 %/K at 45 degC: 100 x (1 - 0.0037 x 20) x 0.86 = 100 x 0.926 x 0.86 = 79.636 kW
    assert pv.dc_power_kw(np.array([1000.0]), np.array([45.0]), array())[0] == pytest.approx(79.636)
    # a module of -0.29 %/K at 65 degC: 100 x (1 - 0.0029 x 40) x 0.86 = 100 x 0.884 x 0.86 = 76.024 kW
    cool = array(gamma_pdc_per_k=-0.0029)
    assert pv.dc_power_kw(np.array([1000.0]), np.array([65.0]), cool)[0] == pytest.approx(76.024)
    # cold cells produce more: 0 degC -> 100 x (1 + 0.0037 x 25) x 0.86 = 93.955 kW
    assert pv.dc_power_kw(np.array([1000.0]), np.array([0.0]), array())[0] == pytest.approx(93.955)


def test_shading_and_soiling_take_light_away():
    a = array(losses_pct=10.0, soiling_loss_pct=2.0, shading_loss_pct=5.0)
    # 100 kWp x (1 - 0.02) x (1 - 0.05) x (1 - 0.10) = 100 x 0.98 x 0.95 x 0.90 = 83.79 kW
    assert pv.dc_power_kw(np.array([1000.0]), np.array([25.0]), a)[0] == pytest.approx(83.79)


def test_inverter_clips_at_its_ac_rating():
    a = array(kwp=150.0, inverter_kw=100.0)
    assert a.ac_rating_kw == 100.0
    ac = pv.ac_power_kw(np.array([0.0, 50.0, 100.0 / 0.96, 120.0, 150.0, 200.0]), a)
    assert ac[0] == 0.0  # night
    assert 0.9 * 50.0 < ac[1] < 50.0  # part load: a little below 96 %
    # at DC = AC rating / 0.96 the PVWatts efficiency is nominal:
    # eta(zeta = 1) = 0.96 / 0.9637 x (-0.0162 - 0.0059 + 0.9858) = 0.96 -> 104.17 kW x 0.96 = 100.0 kW
    assert ac[2] == pytest.approx(100.0)
    # above it the inverter clips: 120 kW DC would give ~115 kW, 150 and 200 kW more, all capped at 100 kW
    assert list(ac[3:]) == [100.0, 100.0, 100.0]
    # the same rating from a DC/AC ratio: 150 kWp / 1.5 = 100 kW
    assert array(kwp=150.0, dc_ac_ratio=1.5).ac_rating_kw == pytest.approx(100.0)
    # default: 150 kWp / 1.15 = 130.43 kW
    assert array(kwp=150.0).ac_rating_kw == pytest.approx(130.4348, rel=1e-5)


def test_roof_and_facade_thermal_models():
    poa, air, wind = np.array([800.0]), np.array([30.0]), np.array([1.0])
    # Faiman: T = T_air + G / (u0 + u1 v); roof 30 + 800 / (25 + 6.84) = 55.13 degC, facade 30 + 800 / 23 = 64.78
    assert pv.cell_temperature_c(poa, air, wind, "roof")[0] == pytest.approx(30 + 800 / 31.84)
    assert pv.cell_temperature_c(poa, air, wind, "facade")[0] == pytest.approx(30 + 800 / 23.0)


def test_the_old_demo_function_is_the_default_array(weather):
    sun = pv.sun_geometry(weather.index, LAT, LON)
    old = pv.pv_ac_power_kw(weather, sun, 260.0, 25.0, 180.0, "roof", 14.0)
    new = pv.array_power_kw(weather, sun, PvArray("x", 260.0, 25.0, 180.0))
    assert np.array_equal(old, new)


def test_annual_yield_of_a_shanghai_roof_is_in_the_design_band(weather):
    arrays = [PvArray.from_params("roof", {"kwp": 500, "tilt_deg": 25, "azimuth_deg": 180, "mounting": "roof"})]
    kw = pv.park_pv_kw(weather, LAT, LON, arrays)
    assert list(kw.columns) == ["roof"] and kw.index.equals(weather.index)
    yield_kwh_kwp = kw["roof"].sum() * 0.25 / 500  # kW x 0.25 h / kWp
    assert 1000 <= yield_kwh_kwp <= 1200  # DESIGN: well-oriented Shanghai roofs 1,000-1,200 kWh/kWp/yr
    assert kw["roof"].max() <= 500 / 1.15  # never above the AC rating


def test_orientation_and_mounting_order_the_yields(weather):
    arrays = [
        PvArray("south-roof", 100.0, 25.0, 180.0, "roof"),
        PvArray("south-facade", 100.0, 90.0, 180.0, "facade"),
        PvArray("north-facade", 100.0, 90.0, 0.0, "facade"),
        PvArray("flat-roof", 100.0, 0.0, 180.0, "roof"),
    ]
    kwh = pv.park_pv_kw(weather, LAT, LON, arrays).sum() * 0.25
    assert kwh["north-facade"] < 0.5 * kwh["south-roof"]  # diffuse light only
    assert kwh["north-facade"] < kwh["south-facade"] < kwh["south-roof"]
    assert kwh["flat-roof"] < kwh["south-roof"]  # tilting towards the sun at 31 N gains


def test_park_pv_rejects_repeated_codes_and_bad_weather(weather):
    a = PvArray("same", 10.0, 20.0, 180.0)
    with pytest.raises(ValidationFailed) as e:
        pv.park_pv_kw(weather.iloc[:96], LAT, LON, [a, a])
    assert rejected(e)[0].column == "same"
    with pytest.raises(ValidationFailed) as e:
        pv.park_pv_kw(weather.drop(columns="wind_speed_m_s"), LAT, LON, [a])
    assert rejected(e)[0].column == "wind_speed_m_s"


# ---------------------------------------------------------------------------------------------------------------
# array parameters


def test_from_params_reads_optional_fields_and_numeric_text():
    a = PvArray.from_params(
        "pv-office-a-roof",
        {
            "kwp": "260",
            "tilt_deg": 25,
            "azimuth_deg": 180.0,
            "mounting": "Roof",
            "losses_pct": 9.0,
            "gamma_pdc_per_k": -0.0034,
            "inverter_efficiency": 0.975,
            "inverter_kw": 220.0,
            "shading_loss_pct": 3.0,
            "soiling_loss_pct": 2.0,
            "albedo": 0.3,
            "area_m2": 1300.0,
            "installed": "2023-05",  # other keys are ignored
        },
    )
    assert (a.kwp, a.mounting, a.inverter_kw, a.ac_rating_kw, a.area_m2) == (260.0, "roof", 220.0, 220.0, 1300.0)
    defaults = PvArray.from_params("x", {"kwp": 1, "tilt_deg": 0, "azimuth_deg": 0})
    assert (defaults.mounting, defaults.losses_pct, defaults.gamma_pdc_per_k) == ("roof", 14.0, -0.0037)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("kwp", 0, "must be > 0"),
        ("kwp", -5, "must be > 0"),
        ("kwp", "lots", "not a number"),
        ("kwp", True, "not true/false"),
        ("kwp", float("nan"), "not a finite number"),
        ("tilt_deg", 95, "0..90"),
        ("tilt_deg", -1, "0..90"),
        ("azimuth_deg", 360, "0 <= azimuth < 360"),
        ("azimuth_deg", -10, "0 <= azimuth < 360"),
        ("mounting", "ground", "unknown; expected one of roof, facade"),
        ("losses_pct", 100, "0 <= loss < 100"),
        ("losses_pct", -1, "0 <= loss < 100"),
        ("shading_loss_pct", 120, "0 <= loss < 100"),
        ("soiling_loss_pct", -2, "0 <= loss < 100"),
        ("gamma_pdc_per_k", -0.37, "looks like %/K"),
        ("gamma_pdc_per_k", 0.004, "-0.02..0"),
        ("inverter_efficiency", 96, "looks like a percentage"),
        ("inverter_efficiency", 0, "0 < eta <= 1"),
        ("dc_ac_ratio", 0, "must be > 0"),
        ("inverter_kw", -80, "must be > 0"),
        ("albedo", 1.5, "0..1"),
        ("area_m2", 0, "must be > 0"),
        ("area_m2", 100, "over 30% efficient"),  # 100 kWp on 100 m2 = 1 kWp/m2
        ("kwp", None, "is required"),
    ],
)
def test_bad_array_parameters_name_the_asset_and_field(field, value, says):
    params = {"kwp": 100.0, "tilt_deg": 25.0, "azimuth_deg": 180.0, field: value}
    if value is None:
        del params[field]
    with pytest.raises(ValidationFailed) as e:
        PvArray.from_params("pv-steel-roof", params)
    (issue,) = rejected(e)
    assert issue.column == field and "pv-steel-roof" in issue.reason and says in issue.reason
    assert "pv-steel-roof" in str(e.value)


def test_all_bad_fields_are_reported_together():
    with pytest.raises(ValidationFailed) as e:
        PvArray.from_params("pv-x", {"kwp": -1, "tilt_deg": 100, "mounting": "pole"})
    assert {i.column for i in rejected(e)} == {"kwp", "tilt_deg", "azimuth_deg", "mounting"}


def test_inverter_rating_and_ratio_must_agree():
    assert array(kwp=120.0, inverter_kw=100.0, dc_ac_ratio=1.2).ac_rating_kw == 100.0  # 120 / 100 = 1.2
    with pytest.raises(ValidationFailed) as e:
        array(kwp=120.0, inverter_kw=100.0, dc_ac_ratio=1.5)
    assert rejected(e)[0].column == "dc_ac_ratio"


def test_params_must_be_a_mapping_and_direct_construction_validates():
    with pytest.raises(ValidationFailed):
        PvArray.from_params("pv-x", [100, 25, 180])  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as e:
        PvArray("pv-y", 100.0, 25.0, 180.0, mounting="carport")
    assert rejected(e)[0].column == "mounting"


# ---------------------------------------------------------------------------------------------------------------
# weather files


def _epw_rows() -> list[list[str]]:
    return [line.split(",") for line in EPW.read_text().splitlines()[8:]]


def test_epw_rows_are_labelled_by_interval_start():
    w = pv.read_weather(EPW)
    assert list(w.columns) == list(pv.WEATHER_COLUMNS)
    assert str(w.index.tz) == TZ and w.index.freq == pd.Timedelta(hours=1) and len(w) == 48
    # EPW hour 1 of 31 Jan is 00:00-01:00: labelled 00:00. January comes from 2009 and February from 2013
    # in this typical-year excerpt, so both are relabelled to 1990 and follow each other without a gap.
    assert w.index[0] == pd.Timestamp("1990-01-31 00:00", tz=TZ)
    assert w.index[-1] == pd.Timestamp("1990-02-01 23:00", tz=TZ)
    rows = _epw_rows()
    for k in (0, 11, 12, 35):  # the file's fields 13-15 (GHI, DNI, DHI), 6 (dry bulb) and 21 (wind)
        assert w.iloc[k]["ghi_w_m2"] == float(rows[k][13]) and w.iloc[k]["dni_w_m2"] == float(rows[k][14])
        assert w.iloc[k]["dhi_w_m2"] == float(rows[k][15]) and w.iloc[k]["temp_air_c"] == float(rows[k][6])
        assert w.iloc[k]["wind_speed_m_s"] == float(rows[k][21])
    assert w.attrs["kind"] == "epw" and (w.attrs["latitude"], w.attrs["longitude"]) == (31.17, 121.43)
    # light only while the sun is up: noon bright, midnight dark
    assert w.loc["1990-01-31 12:00", "ghi_w_m2"] > 100 and w.loc["1990-01-31 00:00", "ghi_w_m2"] == 0


def test_epw_relabelled_to_a_chosen_year_or_kept_when_one_year(tmp_path):
    w = pv.read_weather(EPW, year=2025)
    assert w.index[0] == pd.Timestamp("2025-01-31 00:00", tz=TZ)
    one_year = tmp_path / "actual.epw"
    lines = EPW.read_text().splitlines()
    one_year.write_text("\n".join(lines[:8] + ["2024" + line[4:] for line in lines[8:]]) + "\n")
    assert pv.read_weather(one_year).index[0] == pd.Timestamp("2024-01-31 00:00", tz=TZ)
    assert pv.read_weather(EPW, year=2024).index[0] == pd.Timestamp("2024-01-31 00:00", tz=TZ)
    # a typical year has no 29 February: 28 Feb and 1 Mar cannot be relabelled to a leap year
    feb = tmp_path / "feb.epw"
    rows = [line.replace("2009,1,31,", "2009,2,28,").replace("2013,2,1,", "2013,3,1,") for line in lines[8:]]
    feb.write_text("\n".join(lines[:8] + rows) + "\n")
    assert pv.read_weather(feb).index[24] == pd.Timestamp("1990-03-01 00:00", tz=TZ)
    with pytest.raises(ValidationFailed) as e:
        pv.read_weather(feb, year=2024)
    assert "choose a non-leap year, not 2024" in rejected(e)[0].reason


def test_tmy3_hour_ending_labels_move_to_the_start():
    w = pv.read_weather(TMY3)
    # the same two days as the EPW: TMY3 01:00 (hour ending) and EPW hour 1 are both 00:00-01:00
    pd.testing.assert_frame_equal(w, pv.read_weather(EPW))
    assert w.attrs["kind"] == "tmy3"


def _pvgis_csv(path: Path, hourly: pd.DataFrame) -> None:
    """A PVGIS TMY CSV in PVGIS' layout: UTC hours, each month from another year."""
    utc = pd.date_range("2025-01-01", periods=8760, freq="1h", tz="UTC")
    local = hourly.to_numpy()
    rolled = np.roll(local, -8, axis=0)  # UTC hour k is local hour k + 8 (UTC+8); the last 8 wrap round
    years = {m: 2005 + m for m in range(1, 13)}
    lines = [
        "Latitude (decimal degrees): 31.400",
        "Longitude (decimal degrees): 121.400",
        "Elevation (m): 4.0",
        "Irradiance Time Offset (h): 0.1761",
        "month,year",
        *[f"{m},{y}" for m, y in years.items()],
        "time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP",
    ]
    for t, (ghi, dni, dhi, temp, wind) in zip(utc, rolled, strict=True):
        lines.append(
            f"{years[t.month]}{t:%m%d:%H%M},{temp:.2f},80.0,{ghi:.1f},{dni:.2f},{dhi:.1f},300.0,{wind:.2f},90.0,101300.0"
        )
    lines += ["", "T2m: 2-m air temperature (degree Celsius)", "", "PVGIS (c) European Union, 2001-2025"]
    path.write_text("\r\n".join(lines) + "\r\n")


def test_pvgis_tmy_in_utc_becomes_a_local_calendar_year(tmp_path, weather):
    hourly = weather[list(pv.WEATHER_COLUMNS)].resample("1h").mean().round(1)
    path = tmp_path / "tmy_31.400_121.400_2005_2023.csv"
    _pvgis_csv(path, hourly)
    w = pv.read_weather(path, year=2025)
    assert w.attrs["kind"] == "pvgis" and len(w) == 8760
    # the UTC year starts at 08:00 in Shanghai; the typical year is rotated to cover 1 Jan 00:00 - 31 Dec 23:00
    assert w.index[0] == pd.Timestamp("2025-01-01 00:00", tz=TZ) and w.index.freq == pd.Timedelta(hours=1)
    assert np.allclose(w["ghi_w_m2"], hourly["ghi_w_m2"]) and np.allclose(w["temp_air_c"], hourly["temp_air_c"])
    assert pv.read_weather(path).index[0] == pd.Timestamp("1990-01-01 00:00", tz=TZ)  # months from 2006-2017


def test_station_csv_with_chinese_headers_in_gb18030():
    w = pv.read_weather(STATION_ZH, latitude=31.17, longitude=121.43)
    assert len(w) == 96 and w.index[0] == pd.Timestamp("2025-06-01 00:00", tz=TZ)  # naive = park-local
    assert w.index.freq == pd.Timedelta(minutes=15)
    row = w.loc["2025-06-01 10:30"]
    assert (row["ghi_w_m2"], row["dhi_w_m2"], row["temp_air_c"], row["wind_speed_m_s"]) == (844.4, 245.2, 24.7, 2.8)
    # no DNI column: DNI = (GHI - DHI) / cos(zenith), so the components close
    sun = pv.sun_geometry(w.index, 31.17, 121.43)
    up = sun.zenith_deg < 80
    closure = w["dni_w_m2"] * np.cos(np.radians(sun.zenith_deg)) + w["dhi_w_m2"]
    assert np.allclose(closure[up], w["ghi_w_m2"][up])
    assert any("DNI" in n for n in w.attrs["notes"])


def test_station_with_ghi_only_is_split_by_erbs():
    w = pv.read_weather(STATION_GHI, latitude=31.17, longitude=121.43)
    sun = pv.sun_geometry(w.index, 31.17, 121.43)
    doy = (w.index + pd.Timedelta(minutes=7.5)).tz_convert("UTC").day_of_year.to_numpy()
    erbs = pvlib.irradiance.erbs(w["ghi_w_m2"].to_numpy(), sun.zenith_deg, doy)
    assert np.allclose(w["dni_w_m2"], np.nan_to_num(erbs["dni"])) and np.allclose(w["dhi_w_m2"], erbs["dhi"])
    # GHI = DNI cos(zenith) + DHI wherever the sun is up
    up = sun.zenith_deg < 85
    closure = w["dni_w_m2"] * np.cos(np.radians(sun.zenith_deg)) + w["dhi_w_m2"]
    assert np.allclose(closure[up], w["ghi_w_m2"][up])
    assert w["dni_w_m2"].max() > 300  # 21 March was bright: a real beam component
    assert (w["wind_speed_m_s"] == 1.0).all()  # no anemometer: 1 m/s assumed, and said so
    assert any("Erbs" in n for n in w.attrs["notes"]) and any("1 m/s" in n for n in w.attrs["notes"])


def test_station_units_offsets_and_interval_end_labels(tmp_path):
    path = tmp_path / "logger.csv"
    path.write_text(
        "time;GHI [kWh/m2];DNI [W/m2];DHI [W/m2];Tamb [K];wind speed [km/h]\n"
        "2025-06-01T00:15:00+08:00;0.0;0;0;290.15;3.6\n"
        "2025-05-31T16:30:00Z;0.0125;0;40;290.65;7.2\n"
        "2025-06-01 00:45;0.025;30;90;291.15;10.8\n"
    )
    w = pv.read_weather(path, label="end")
    # rows mark interval ends: 00:15 -> 00:00-00:15. 0.0125 kWh/m2 in 15 min = 12.5 Wh/m2 / 0.25 h = 50 W/m2
    assert list(w.index) == list(pd.date_range("2025-06-01", periods=3, freq="15min", tz=TZ))
    assert list(w["ghi_w_m2"]) == [0.0, 50.0, 100.0]
    assert w["temp_air_c"].to_list() == pytest.approx([17.0, 17.5, 18.0])  # K - 273.15
    assert w["wind_speed_m_s"].to_list() == pytest.approx([1.0, 2.0, 3.0])  # km/h / 3.6


def test_chinese_timestamps_and_24_00(tmp_path):
    path = tmp_path / "zh.csv"
    path.write_text(
        "时间,总辐射,温度,风速\n2025年6月1日 23时00分,0,20,1\n2025年6月1日 23时30分,0,20,1\n2025-06-01 24:00,0,20,1\n",
        encoding="utf-8-sig",
    )
    w = pv.read_weather(path, latitude=31.4, longitude=121.4)
    assert w.index[-1] == pd.Timestamp("2025-06-02 00:00", tz=TZ)
    # date and time of day in two columns, as many logger exports have them
    path.write_text("日期,时间,总辐射(W/m²),温度(℃)\n2025/6/1,0:00,0,20\n2025/6/1,0:30,0,20\n2025/6/1,1:00,0,20\n")
    w = pv.read_weather(path, latitude=31.4, longitude=121.4)
    assert list(w.index) == list(pd.date_range("2025-06-01", periods=3, freq="30min", tz=TZ))


def test_small_negative_night_readings_read_as_zero(tmp_path):
    text = STATION_GHI.read_text().replace("2025-03-21 00:00,0.0", "2025-03-21 00:00,-3.5")
    path = tmp_path / "offset.csv"
    path.write_text(text)
    w = pv.read_weather(path, latitude=31.17, longitude=121.43)
    assert w["ghi_w_m2"].iloc[0] == 0.0 and any("read as 0" in n for n in w.attrs["notes"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1400, allow_nan=False),
            st.floats(0, 1000, allow_nan=False),
            st.floats(0, 800, allow_nan=False),
            st.floats(-40, 50, allow_nan=False),
            st.floats(0, 40, allow_nan=False),
        ),
        min_size=2,
        max_size=30,
    )
)
def test_station_values_survive_the_round_trip(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rt") / "station.csv"
    index = pd.date_range("2025-07-01", periods=len(rows), freq="10min", tz=TZ)
    lines = ["时间,GHI,DNI,DHI,气温,风速"] + [
        f"{t:%Y-%m-%d %H:%M}," + ",".join(repr(x) for x in r) for t, r in zip(index, rows, strict=True)
    ]
    path.write_text("\n".join(lines))
    w = pv.read_weather(path)
    assert w.index.equals(pd.DatetimeIndex(index, name="ts_start", freq="10min"))
    assert np.array_equal(w.to_numpy(), np.array(rows, dtype=float))


# ---------------------------------------------------------------------------------------------------------------
# bad weather files: every problem named, nothing returned

ZH_HEADER = "采集时间,总辐射(W/m²),散射辐射(W/m²),温度(℃),风速(m/s),相对湿度(%)"


def _station(tmp_path, edit) -> Path:
    lines = STATION_ZH.read_bytes().decode("gb18030").splitlines()
    edit(lines)  # lines[0] title, lines[1] header (file row 2), lines[k] is file row k + 1
    path = tmp_path / "station.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    return path


def _set(lines: list[str], row: int, column: int, value: str) -> None:
    cells = lines[row - 1].split(",")
    cells[column] = value
    lines[row - 1] = ",".join(cells)


def _read_bad(path: Path, **kw) -> list:
    with pytest.raises(ValidationFailed) as e:
        pv.read_weather(path, latitude=31.17, longitude=121.43, **kw)
    assert "was not read" in str(e.value)
    return rejected(e)


@pytest.mark.parametrize(
    ("row", "column", "value", "says"),
    [
        (40, 1, "n/a", "not a number"),
        (41, 3, "", "value is missing"),
        (42, 1, "-50", "negative irradiance"),
        (43, 2, "1800", "outside -10..1500 W/m2"),
        (44, 4, "-2", "negative wind speed"),
        (45, 3, "75", "outside -60..60 degC"),
        (46, 0, "2025/6/31 10:00", "not a valid calendar date"),
        (47, 0, "yesterday", "not a timestamp"),
        (48, 0, "2025/6/1 25:00", "not a valid time of day"),
    ],
)
def test_bad_station_cells_are_named(tmp_path, row, column, value, says):
    issues = _read_bad(_station(tmp_path, lambda lines: _set(lines, row, column, value)))
    (issue,) = issues
    assert (issue.file, issue.row, issue.column) == ("station.csv", row, ZH_HEADER.split(",")[column])
    assert says in issue.reason


def test_repeated_timestamps_gaps_and_off_grid_rows(tmp_path):
    def edit(lines):
        # file row r holds (r - 3) x 15 min: row 20 is 04:15, row 61 14:30
        _set(lines, 20, 0, "2025/6/1 4:30")  # repeats row 21
        del lines[60:62]  # 14:30 and 14:45 missing: 15:00 is now row 61
        _set(lines, 80, 0, "2025/6/1 19:22")  # was 19:45: off the 15-minute grid

    issues = _read_bad(_station(tmp_path, edit))
    reasons = {i.row: i.reason for i in issues}
    assert "repeats row 20" in reasons[21] or "repeats row 21" in reasons[20]
    assert "gap: 2 missing interval(s) of 15-minute from 2025-06-01T14:30:00+08:00 to 2025-06-01T14:45" in reasons[61]
    assert "off the file's 15-minute grid" in reasons[80]
    assert all(i.column == "采集时间" for i in issues)


def test_many_problems_are_reported_in_one_go(tmp_path):
    def edit(lines):
        _set(lines, 10, 1, "x")
        _set(lines, 11, 3, "")
        _set(lines, 12, 2, "-99")
        _set(lines, 13, 0, "soon")
        _set(lines, 15, 0, "2025/6/1 2:45")  # repeats row 14

    issues = _read_bad(_station(tmp_path, edit))
    assert [(i.row, i.reason.split(",")[0].split(" (")[0]) for i in issues] == [
        (10, "not a number"),
        (11, "value is missing"),
        (12, "negative irradiance"),
        (13, "not a timestamp"),
        (15, "timestamp 2025-06-01T02:45:00+08:00 repeats row 14"),
    ]  # in file order; no gap is claimed where the unreadable timestamp sits


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("时间,总辐射,风速\n2025-06-01 00:00,0,1\n2025-06-01 00:15,0,1\n", "no column of air temperature"),
        ("时间,风速,温度\n2025-06-01 00:00,1,20\n2025-06-01 00:15,1,20\n", "no column of global horizontal"),
        ("a,b,c\n1,2,3\n", "no header row"),
        ("时间,总辐射(lux),温度\n2025-06-01 00:00,0,20\n2025-06-01 00:15,0,20\n", "unknown unit 'lux'"),
        ("时间,总辐射,温度\n2025-06-01 00:00,0,20\n", "at least two rows"),
        ("时间,总辐射,温度\n", "no data rows"),
        ("时间,总辐射,温度\n2025-06-01 00:00,0\n2025-06-01 00:15,0,20\n", "expected 3 fields, found 2"),
    ],
)
def test_bad_station_files(tmp_path, text, says):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    issues = _read_bad(path)
    assert any(says in i.reason for i in issues) and all(i.file == "bad.csv" for i in issues)


def test_ghi_only_needs_the_site_position(tmp_path):
    with pytest.raises(ValidationFailed) as e:
        pv.read_weather(STATION_GHI)
    assert "latitude and longitude" in rejected(e)[0].reason


def test_epw_missing_values_and_bad_fields(tmp_path):
    lines = EPW.read_text().splitlines()
    cells = lines[19].split(",")  # file row 20: 31 Jan hour 12
    cells[13] = "9999"  # EPW's missing global horizontal radiation
    cells[21] = "fast"
    lines[19] = ",".join(cells)
    path = tmp_path / "bad.epw"
    path.write_text("\n".join(lines) + "\n")
    issues = _read_bad(path)
    assert [(i.row, i.column) for i in issues] == [(20, "wind speed")] and "not a number" in issues[0].reason
    cells[21] = "2.0"
    lines[19] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    (issue,) = _read_bad(path)
    assert (issue.row, issue.column, issue.reason) == (
        20,
        "global horizontal radiation",
        "missing value (the file marks it 9999)",
    )


def test_epw_location_line_and_tmy3_columns_are_checked(tmp_path):
    bad = tmp_path / "bad.epw"
    bad.write_text("LOCATION,Shanghai\n" + "\n".join(EPW.read_text().splitlines()[1:]))
    assert _read_bad(bad)[0].row == 1
    lines = TMY3.read_text().splitlines()
    lines[1] = lines[1].replace("Wspd (m/s)", "Wind")
    tmy = tmp_path / "bad_tmy3.csv"
    tmy.write_text("\n".join(lines))
    (issue,) = _read_bad(tmy)
    assert (issue.row, issue.column) == (2, "Wspd (m/s)")


def test_truncated_pvgis_file(tmp_path, weather):
    path = tmp_path / "tmy.csv"
    _pvgis_csv(path, weather[list(pv.WEATHER_COLUMNS)].resample("1h").mean())
    lines = path.read_text().splitlines()
    del lines[5000:5010]
    path.write_text("\n".join(lines))
    assert "8760 hourly rows; found 8750" in _read_bad(path)[0].reason


def test_unreadable_files_and_arguments(tmp_path):
    with pytest.raises(ValidationFailed):
        pv.read_weather(tmp_path / "nowhere.csv")
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02\xff" * 100)
    with pytest.raises(ValidationFailed):
        pv.read_weather(binary)
    with pytest.raises(ValidationFailed):
        pv.read_weather(STATION_ZH, kind="netcdf")
    with pytest.raises(ValidationFailed):
        pv.read_weather(STATION_ZH, year=2025)  # a station file is not a typical year
    with pytest.raises(ValidationFailed):
        pv.read_weather(STATION_ZH, tz="Mars/Olympus")


# ---------------------------------------------------------------------------------------------------------------
# performance ratio and alerts


def _hourly_days(start: str, days: int, per_day) -> pd.Series:
    """An hourly series over whole local days; per_day(d) gives the value from 08:00 to 17:59, 0 otherwise."""
    index = pd.date_range(start, periods=24 * days, freq="1h", tz=TZ)
    day = (index.normalize() - index[0]) // pd.Timedelta(days=1)
    lit = (index.hour >= 8) & (index.hour < 18)
    return pd.Series(np.where(lit, [per_day(int(d)) for d in day], 0.0), index=index)


def test_performance_ratio_by_hand():
    # 100 kWp; 10 sunny hours a day. Day 0: 500 W/m2 -> H = 5 kWh/m2, 40 kWh/h -> E = 400 kWh
    # day 1: 400 W/m2 -> H = 4 kWh/m2, E = 340 kWh; day 2: 40 W/m2 -> H = 0.4 kWh/m2 (too dull); day 3: gaps
    poa = _hourly_days("2025-07-01", 4, lambda d: [500.0, 400.0, 40.0, 500.0][d])
    measured = _hourly_days("2025-07-01", 4, lambda d: [40.0, 34.0, 2.0, 40.0][d])
    measured.iloc[3 * 24 + 10 : 3 * 24 + 14] = np.nan  # four hours missing on day 3
    pr = pv.performance_ratio(measured, poa, 100.0)
    d = pr.daily
    assert list(d.index) == [dt.date(2025, 7, k) for k in (1, 2, 3, 4)]
    # PR = (E / P_STC) / (H / G_STC): day 0 (400 / 100) / (5 / 1) = 0.80, day 1 (340 / 100) / (4 / 1) = 0.85
    assert d["final_yield_h"].iloc[0] == pytest.approx(4.0) and d["reference_yield_h"].iloc[0] == pytest.approx(5.0)
    assert d["pr"].iloc[0] == pytest.approx(0.80) and d["pr"].iloc[1] == pytest.approx(0.85)
    assert "too little light: 0.40 kWh/m2" in d["skipped"].iloc[2] and math.isnan(d["pr"].iloc[2])
    assert d["skipped"].iloc[3] == "measured data cover 20 of 24 intervals"
    # period: (400 + 340) / (100 x (5 + 4)) = 740 / 900 = 0.8222, not the mean of daily PRs (0.825)
    assert pr.period == pytest.approx(740 / 900) and pr.days_used == 2 and pr.basis == "insolation"


def test_performance_index_against_the_model():
    expected = _hourly_days("2025-07-01", 2, lambda d: [45.0, 40.0][d])  # 450 and 400 kWh
    measured = _hourly_days("2025-07-01", 2, lambda d: [40.0, 38.0][d])  # 400 and 380 kWh
    pr = pv.performance_ratio(measured, expected_kwh=expected)
    # 400 / 450 = 0.8889, 380 / 400 = 0.95; period 780 / 850 = 0.9176
    assert list(pr.daily["pr"]) == pytest.approx([400 / 450, 0.95]) and pr.period == pytest.approx(780 / 850)
    assert pr.basis == "model"


def test_performance_inputs_are_checked():
    s = _hourly_days("2025-07-01", 1, lambda d: 1.0)
    with pytest.raises(ValidationFailed):
        pv.performance_ratio(s, s, 100.0, expected_kwh=s)  # both bases
    with pytest.raises(ValidationFailed):
        pv.performance_ratio(s)  # neither
    with pytest.raises(ValidationFailed):
        pv.performance_ratio(s, s)  # no kWp
    with pytest.raises(ValidationFailed):
        pv.performance_ratio(s, s, -5.0)
    with pytest.raises(ValidationFailed):
        pv.performance_ratio(s.tz_localize(None), s, 100.0)  # naive timestamps
    with pytest.raises(ValidationFailed):
        pv.underperformance_alerts(s, s, threshold=1.5)
    with pytest.raises(ValidationFailed):
        pv.underperformance_alerts(s.to_frame("a"), s.to_frame("b"))


@pytest.fixture(scope="module")
def june(weather) -> pd.DataFrame:
    """Modelled energy of two roof arrays in June [kWh per quarter-hour]."""
    arrays = [PvArray("roof-a", 200.0, 20.0, 180.0), PvArray("roof-b", 100.0, 10.0, 200.0)]
    return pv.park_pv_kw(weather.loc["2025-06-01":"2025-06-30"], LAT, LON, arrays) * 0.25


def test_alerts_find_three_days_with_a_30_percent_loss(june):
    expected = june["roof-a"]
    daily = expected.groupby(expected.index.date).sum()
    # the three consecutive days whose dullest day is brightest (so all three are bright enough to judge)
    start = int(daily.rolling(3).min().to_numpy().argmax()) - 2
    loss_days = list(daily.index[start : start + 3])
    rng = np.random.default_rng(7)
    measured = expected * (1 + 0.02 * rng.uniform(-1, 1, len(expected)))  # meter and model agree within 2 %
    on_loss = np.isin(expected.index.date, loss_days)
    measured[on_loss] *= 0.7  # a string fuse blown for three days: 30 % of the array lost
    alerts = pv.underperformance_alerts(measured, expected, threshold=0.85, array="roof-a")
    under = [a for a in alerts if a.kind == "underperformance"]
    assert [a.day for a in under] == loss_days
    for a in under:
        assert a.array == "roof-a" and a.ratio == pytest.approx(0.7, abs=0.01)  # 0.7 x (1 +/- 0.02)
        assert a.measured_kwh == pytest.approx(a.ratio * a.expected_kwh) and "threshold 85%" in a.reason
    # dull days are not judged, and said so: every day below 20 % of the best day's expected energy
    dull = {d for d, e in daily.items() if e < 0.2 * daily.max()}
    assert {a.day for a in alerts if a.kind == "too_little_light"} == dull
    assert all("too little light" in a.reason for a in alerts if a.kind == "too_little_light")
    assert {a.kind for a in alerts} <= {"underperformance", "too_little_light"}


def test_alerts_for_several_arrays_and_missing_meter_data(june):
    measured = june.copy()
    measured.loc["2025-06-05 10:00":"2025-06-05 10:45", "roof-b"] = np.nan  # a meter outage
    alerts = pv.underperformance_alerts(measured, june, min_expected_kwh=0.0)
    assert [(a.day, a.array, a.kind) for a in alerts] == [(dt.date(2025, 6, 5), "roof-b", "missing_data")]
    assert alerts[0].reason == "not judged: measured data cover 92 of 96 intervals"
