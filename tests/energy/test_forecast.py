"""Load and PV forecasts: skill arithmetic by hand, baselines' day choice, held-out skill, intraday, bad input.

Synthetic data, 1 March - 31 May 2025 at 15 minutes (92 days, Qingming and Labour Day holidays inside), from the
demo's Shanghai weather (`shanghai_weather(2025, 42, 31.4, 121.4)`):

- load [kW] = 1,200 base
  + 2,500 on working days 08:00-20:00 (two shifts; Chinese calendar, 调休 included)
  + 60 kW/K x max(T - 24 degC, 0) cooling + 30 kW/K x max(14 degC - T, 0) heating
  + AR(1) noise, 0.95 per 15 min (5-hour e-folding), 120 kW standard deviation (seed 7);
- PV [kW] = 500 kWp x GHI / 1,000 W/m2 x 0.85 performance ratio.
"""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from parkzero.demo.weather import shanghai_weather
from parkzero.energy import forecast
from parkzero.energy.forecast import LoadForecaster, PvForecaster, evaluate, persistence, similar_day, skill
from parkzero.errors import ValidationFailed

LAT, LON = 31.4, 121.4
TZ = "Asia/Shanghai"
TRAIN_END = dt.date(2025, 5, 1)
TEST_END = dt.date(2025, 5, 31)


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    w = shanghai_weather(2025, 42, LAT, LON)
    return w[(w.index >= local("2025-03-01")) & (w.index < local("2025-06-01"))]


@pytest.fixture(scope="module")
def load(weather) -> pd.Series:
    index = weather.index
    hour = index.hour + index.minute / 60
    working = forecast.calendar_features(index)["working_day"].to_numpy() == 1
    two_shifts = (hour >= 8) & (hour < 20)
    temp_c = weather["temp_air_c"].to_numpy()
    rng = np.random.default_rng(7)
    noise_kw = lfilter([math.sqrt(1 - 0.95**2)], [1, -0.95], rng.normal(0.0, 120.0, len(index)))
    kw = (
        1200.0
        + 2500.0 * (working & two_shifts)
        + 60.0 * np.clip(temp_c - 24.0, 0, None)
        + 30.0 * np.clip(14.0 - temp_c, 0, None)
        + noise_kw
    )
    return pd.Series(kw, index=index, name="load_kw")


@pytest.fixture(scope="module")
def pv(weather) -> pd.Series:
    return (500.0 * weather["ghi_w_m2"] / 1000.0 * 0.85).rename("pv_kw")


@pytest.fixture(scope="module")
def load_model(load) -> LoadForecaster:
    return LoadForecaster().fit(load[load.index < local("2025-05-01")])


@pytest.fixture(scope="module")
def pv_model(pv) -> PvForecaster:
    return PvForecaster(LAT, LON).fit(pv[pv.index < local("2025-05-01")])


def constant_days(first: str, days: int) -> pd.Series:
    """Each day's 96 intervals hold the day's number since `first` [kW]: a baseline's value names its day."""
    index = pd.date_range(local(first), periods=days * 96, freq="15min")
    return pd.Series(np.repeat(np.arange(days, dtype=float), 96), index=index, name="kw")


# ---------------------------------------------------------------------------------------------------------------
# skill, by hand


def test_mae_rmse_and_skill_on_four_points():
    actual = [10.0, 20.0, 30.0, 40.0]
    fc = [12.0, 18.0, 33.0, 40.0]  # errors +2, -2, +3, 0
    ref = [10.0, 25.0, 25.0, 50.0]  # errors 0, +5, -5, +10
    out = skill(actual, fc, ref)
    # MAE = (2 + 2 + 3 + 0) / 4 = 1.75 kW
    assert out["mae"] == pytest.approx(1.75)
    # RMSE = sqrt((4 + 4 + 9 + 0) / 4) = sqrt(4.25) = 2.0616 kW
    assert out["rmse"] == pytest.approx(2.0616, abs=1e-4)
    # reference: MAE = (0 + 5 + 5 + 10) / 4 = 5.0 kW, RMSE = sqrt((0 + 25 + 25 + 100) / 4) = sqrt(37.5) = 6.1237 kW
    assert out["mae_reference"] == pytest.approx(5.0)
    assert out["rmse_reference"] == pytest.approx(6.1237, abs=1e-4)
    # skill = 1 - 2.0616 / 6.1237 = 0.6633
    assert out["skill_score"] == pytest.approx(0.6633, abs=1e-4)
    assert out["n"] == 4


def test_skill_leaves_out_unknown_pairs_and_aligns_series():
    index = pd.date_range(local("2025-01-01"), periods=4, freq="15min")
    actual = pd.Series([10.0, np.nan, 30.0, 40.0], index)
    fc = pd.Series([12.0, 18.0, 33.0], index[:3])  # the 4th interval has no forecast
    out = skill(actual, fc)
    # pairs 1 and 3 only: errors +2, +3 -> MAE 2.5 kW, RMSE sqrt((4 + 9) / 2) = 2.5495 kW
    assert out["n"] == 2 and out["mae"] == pytest.approx(2.5) and out["rmse"] == pytest.approx(2.5495, abs=1e-4)
    with pytest.raises(ValidationFailed, match="equal length"):
        skill([1.0, 2.0], [1.0])
    with pytest.raises(ValidationFailed, match="no interval"):
        skill([np.nan], [1.0])


# ---------------------------------------------------------------------------------------------------------------
# calendar and baselines


def test_calendar_features_know_chinese_holidays_and_adjusted_weekends():
    index = pd.DatetimeIndex(
        [
            local("2025-04-25 06:00"),  # Friday, working
            local("2025-04-26 12:00"),  # Saturday, rest
            local("2025-04-27 18:00"),  # Sunday worked (调休 for Labour Day)
            local("2025-05-01 00:00"),  # Thursday, Labour Day
            local("2025-05-05 12:00"),  # Monday, Labour Day holiday
        ]
    ).tz_convert("UTC")  # stored in UTC, read in the park's zone
    cal = forecast.calendar_features(index)
    assert list(cal.columns) == ["hour_sin", "hour_cos", "day_of_week", "working_day", "doy_sin", "doy_cos"]
    assert cal["working_day"].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert cal["day_of_week"].tolist() == [4.0, 5.0, 6.0, 3.0, 0.0]
    # 06:00 local: 2 pi x 6 / 24 = pi / 2 -> sin 1, cos 0; 18:00 -> sin -1
    assert cal["hour_sin"].iloc[0] == pytest.approx(1.0) and cal["hour_cos"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert cal["hour_sin"].iloc[2] == pytest.approx(-1.0)
    # a year chinese_calendar does not cover: Monday-Friday
    far = pd.date_range(local("2099-01-03"), periods=3, freq="D")  # Saturday, Sunday, Monday
    assert forecast.calendar_features(far)["working_day"].tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValidationFailed, match="naive"):
        forecast.calendar_features(pd.date_range("2025-01-01", periods=3, freq="15min"))


def test_persistence_is_yesterday_and_similar_day_follows_the_calendar():
    history = constant_days("2025-03-01", 80)  # day number n is 1 March + n days
    day_no = {d: (d - dt.date(2025, 3, 1)).days for d in (dt.date(2025, 4, d) for d in range(1, 31))}
    day_no |= {d: (d - dt.date(2025, 3, 1)).days for d in (dt.date(2025, 5, d) for d in range(1, 20))}

    def picked(series: pd.Series) -> dt.date:
        assert series.nunique() == 1 and len(series) == 96
        return dt.date(2025, 3, 1) + dt.timedelta(days=int(series.iloc[0]))

    assert picked(persistence(history, dt.date(2025, 5, 12))) == dt.date(2025, 5, 11)
    # Monday 12 May: the Monday before (5 May) was a Labour Day holiday, so the latest working day, Friday 9 May
    assert picked(similar_day(history, dt.date(2025, 5, 12))) == dt.date(2025, 5, 9)
    # Monday 19 May: last Monday (12 May) is a working day, the same weekday within 7 days
    assert picked(similar_day(history, dt.date(2025, 5, 19))) == dt.date(2025, 5, 12)
    # Thursday 1 May (Labour Day): the latest rest day is Saturday 26 April (Sunday 27 April was worked, 调休)
    assert picked(similar_day(history, dt.date(2025, 5, 1))) == dt.date(2025, 4, 26)
    # Sunday 27 April (worked): last Sunday was a rest day, so the latest working day, Friday 25 April
    assert picked(similar_day(history, dt.date(2025, 4, 27))) == dt.date(2025, 4, 25)
    # Tuesday 6 May, first working day after the holiday: Tuesday 29 April
    out = similar_day(history, dt.date(2025, 5, 6))
    assert picked(out) == dt.date(2025, 4, 29) and out.attrs["similar_day"] == dt.date(2025, 4, 29)
    assert not out.attrs["fallback"]


def test_similar_day_beats_persistence_on_mondays(load):
    mondays = [d for d in pd.date_range("2025-03-10", "2025-05-26", freq="W-MON").date]
    actual, by_similar, by_persistence = [], [], []
    for day in mondays:
        index = pd.date_range(local(str(day)), periods=96, freq="15min")
        actual.append(load.reindex(index).to_numpy())
        by_similar.append(similar_day(load, day).to_numpy())
        by_persistence.append(persistence(load, day).to_numpy())
    out = skill(np.concatenate(actual), np.concatenate(by_similar), np.concatenate(by_persistence))
    # persistence repeats Sunday's rest-day load on a working Monday: the 2,500 kW day shift is missing
    assert len(mondays) == 12 and out["n"] == 12 * 96
    assert out["skill_score"] > 0.5, out
    assert out["rmse"] < 400.0 < 1000.0 < out["rmse_reference"]


# ---------------------------------------------------------------------------------------------------------------
# load model


@pytest.fixture(scope="module")
def load_report(load) -> forecast.ForecastReport:
    return evaluate(LoadForecaster(), load, TRAIN_END, TEST_END)


def test_load_model_beats_the_baselines_on_held_out_days(load_report):
    r = load_report
    print(r)
    assert r.target == "load" and r.kind == "day_ahead"
    assert r.test_days == 30 and r.intervals == 30 * 96  # 1-30 May 2025
    assert r.train_days == 61 - 7  # 1 March - 30 April, less the first 7 days that only feed the lags
    assert r.skill_vs_persistence > 0.5  # measured ~0.80: persistence misses every weekday/rest-day change
    assert r.skill_vs_similar_day > 0.0  # measured ~0.16
    assert r.mae_kw < r.similar_day_mae_kw < r.persistence_mae_kw
    assert r.rmse_kw == pytest.approx(r.persistence_rmse_kw * (1 - r.skill_vs_persistence))


def test_day_ahead_reads_only_the_history_before_the_day(load, load_model):
    day = dt.date(2025, 5, 14)
    full = load_model.day_ahead(day, load)
    cut = load_model.day_ahead(day, load[load.index < local("2025-05-14")])
    pd.testing.assert_series_equal(full, cut)
    assert len(full) == 96 and full.index[0] == local("2025-05-14") and full.index[-1] == local("2025-05-14 23:45")
    assert full.attrs["model"] == "history" and full.attrs["filled_intervals"] == 0
    # a working day: the 08:00-20:00 shifts stand out by about 2,500 kW
    assert full.between_time("10:00", "16:00").mean() - full.between_time("00:00", "06:00").mean() > 2000.0


def test_day_ahead_and_intraday_take_a_few_milliseconds(load, load_model):
    day = dt.date(2025, 5, 20)
    started = time.perf_counter()
    for _ in range(20):
        da = load_model.day_ahead(day, load)
        load_model.intraday(da.index[48], da, load[da.index[:48]])
    per_call_ms = (time.perf_counter() - started) / 20 * 1000
    assert per_call_ms < 50.0  # measured ~3 ms per day-ahead + intraday pair


def test_intraday_correction_reduces_the_error_after_a_level_shift(load, load_model):
    day = dt.date(2025, 5, 13)  # a Tuesday
    index = pd.date_range(local("2025-05-13"), periods=96, freq="15min")
    actual = load.reindex(index) + 600.0  # a new production line runs from midnight: +600 kW all day
    da = load_model.day_ahead(day, load)
    issue = local("2025-05-13 10:00")
    corrected = load_model.intraday(issue, da, actual[actual.index < issue])
    assert corrected.index[0] == issue and corrected.index[-1] == index[-1] and len(corrected) == 56
    after = actual[actual.index >= issue]
    mae_da = skill(after, da[after.index])["mae"]
    mae_corrected = skill(after, corrected)["mae"]
    assert mae_corrected < 0.8 * mae_da, (mae_corrected, mae_da)
    # e = mean error of 09:00-09:45; the correction is e at lead 0 and e / e = 36.8 % of it one time constant later
    window = (index >= local("2025-05-13 09:00")) & (index < issue)
    e = float((actual[window] - da[window]).mean())
    assert corrected.attrs["error_kw"] == pytest.approx(e) and 300.0 < e < 900.0
    assert corrected.iloc[0] - da[issue] == pytest.approx(e)
    tau_h = load_model.time_constant_h_
    at_tau = issue + pd.Timedelta(hours=tau_h)
    assert corrected[at_tau] - da[at_tau] == pytest.approx(e * math.exp(-1.0))


def test_intraday_time_constant_is_chosen_on_held_out_days(load_model):
    # 54 feature days: the last max(7, 20 % x 54 = 11) are held out for early stopping and the time constant
    assert load_model.train_days_ == 54 and load_model.validation_days_ == 11
    assert load_model.time_constant_h_ in forecast.TIME_CONSTANTS_H
    assert load_model.intraday_gain_ > 0.0  # the AR(1) noise persists: correcting by the last hour pays
    fixed = LoadForecaster(time_constant_h=2.0)
    assert fixed.time_constant_h_ == 2.0


def test_intraday_without_recent_metering_keeps_the_day_ahead(load, load_model):
    da = load_model.day_ahead(dt.date(2025, 5, 13), load)
    issue = local("2025-05-13 10:00")
    out = load_model.intraday(issue, da, pd.Series([], index=pd.DatetimeIndex([], tz=TZ), dtype=float))
    assert out.attrs["error_kw"] == 0.0
    pd.testing.assert_series_equal(out, da[da.index >= issue], check_names=False)


def test_load_model_uses_a_temperature_forecast(load, weather):
    history = load[load.index < local("2025-05-01")]
    model = LoadForecaster().fit(history, weather=weather[weather.index < local("2025-05-01")])
    assert set(model.models_) == {"history", "weather"}
    day = dt.date(2025, 5, 14)
    day_weather = weather[(weather.index >= local("2025-05-14")) & (weather.index < local("2025-05-15"))]
    with_temp = model.day_ahead(day, load, weather_forecast=day_weather)
    without = model.day_ahead(day, load)
    assert with_temp.attrs["model"] == "weather" and without.attrs["model"] == "history"
    with pytest.raises(ValidationFailed, match="no column 'temp_air_c'"):
        model.day_ahead(day, load, weather_forecast=day_weather[["ghi_w_m2"]])


def test_intraday_evaluation_beats_the_day_ahead(load):
    r = evaluate(LoadForecaster(), load, TRAIN_END, dt.date(2025, 5, 15), kind="intraday")
    print(r)
    # issues at 06:00, 12:00 and 18:00, each to the end of the day: (72 + 48 + 24) intervals x 14 days
    assert r.kind == "intraday" and r.test_days == 14 and r.intervals == (72 + 48 + 24) * 14
    assert r.skill_vs_day_ahead > 0.0


# ---------------------------------------------------------------------------------------------------------------
# PV model


def test_pv_forecast_is_zero_at_night_and_never_negative(pv, pv_model):
    assert pv_model.kwp_ == pytest.approx(pv[pv.index < local("2025-05-01")].max())  # no kwp given: the maximum
    for day in (dt.date(2025, 5, 3), dt.date(2025, 5, 17)):
        fc = pv_model.day_ahead(day, pv)
        night = pv_model.clear_sky_ghi_w_m2(fc.index) == 0.0  # sun below the horizon at the interval midpoint
        assert night.sum() > 30  # May in Shanghai: ~10 h 30 min of night
        assert (fc[night] == 0.0).all() and (fc >= 0.0).all()
        assert fc.between_time("11:00", "13:00").min() > 0.0
        issue = fc.index[40]  # 10:00
        corrected = pv_model.intraday(issue, fc, pv[fc.index[:40]])
        assert (corrected >= 0.0).all() and (corrected[night[40:]] == 0.0).all()


def test_pv_skill_without_and_with_a_weather_forecast(pv, weather):
    history_only = evaluate(PvForecaster(LAT, LON), pv, TRAIN_END, TEST_END)
    with_weather = evaluate(PvForecaster(LAT, LON, kwp=500.0), pv, TRAIN_END, TEST_END, weather=weather)
    print(history_only, with_weather, sep="\n")
    for r in (history_only, with_weather):
        assert r.target == "pv" and r.test_days == 30
        assert r.excluded["night"] > 30 * 30 and r.intervals + r.excluded["night"] == 30 * 96
        assert any("night intervals" in note and "excluded" in note for note in r.notes)
        assert math.isfinite(r.skill_vs_persistence) and math.isfinite(r.skill_vs_similar_day)
    # PV here is a fixed multiple of GHI, so a (perfect) GHI forecast leaves only the clear-sky shape to learn
    assert with_weather.skill_vs_persistence > 0.8
    assert with_weather.rmse_kw < 0.5 * history_only.rmse_kw


def test_pv_intraday_beats_its_day_ahead(pv):
    r = evaluate(PvForecaster(LAT, LON), pv, TRAIN_END, TEST_END, kind="intraday")
    print(r)
    assert r.skill_vs_day_ahead > 0.0  # the day's cloud regime persists: the morning tells about the afternoon


# ---------------------------------------------------------------------------------------------------------------
# bad input


def test_naive_timestamps_are_refused(load, load_model):
    naive = load.tz_localize(None)
    with pytest.raises(ValidationFailed, match="naive timestamps") as exc:
        LoadForecaster().fit(naive)
    assert exc.value.issues[0].column == "history_kw" and exc.value.issues[0].value == "2025-03-01 00:00:00"
    with pytest.raises(ValidationFailed, match="naive"):
        load_model.day_ahead(dt.date(2025, 5, 10), naive)
    da = load_model.day_ahead(dt.date(2025, 5, 10), load)
    with pytest.raises(ValidationFailed, match="issue_time .* is naive"):
        load_model.intraday(pd.Timestamp("2025-05-10 10:00"), da, load)


def test_irregular_index_is_refused(load):
    history = load[load.index < local("2025-04-01")]
    off_grid = history.rename(index={local("2025-03-20 10:00"): local("2025-03-20 10:07")})
    with pytest.raises(ValidationFailed, match=r"off the 15-minute grid, first 2025-03-20 10:07") as exc:
        LoadForecaster().fit(off_grid)
    assert exc.value.issues[0].value == "2025-03-20 10:07:00+08:00"
    duplicated = pd.concat([history, history.iloc[[100]]]).sort_index()
    with pytest.raises(ValidationFailed, match="duplicate timestamp at 2025-03-02 01:00"):
        LoadForecaster().fit(duplicated)
    hourly = history.resample("1h").mean()
    with pytest.raises(ValidationFailed, match="step of 0 days 01:00:00"):
        LoadForecaster().fit(hourly)
    with pytest.raises(ValidationFailed, match="earlier than the one before"):
        persistence(history.iloc[::-1], dt.date(2025, 4, 1))


def test_too_little_history_is_refused(load, load_model):
    ten_days = load[load.index < local("2025-03-11")]
    with pytest.raises(ValidationFailed, match=r"covers 10.0 days .* at least 14 are needed"):
        LoadForecaster().fit(ten_days)
    with pytest.raises(ValidationFailed, match=r"has 10.0 days before 2025-03-11: at least 14"):
        load_model.day_ahead(dt.date(2025, 3, 11), ten_days)
    with pytest.raises(ValidationFailed, match="not fitted"):
        LoadForecaster().day_ahead(dt.date(2025, 5, 1), load)


def test_gaps_are_said_filled_and_flagged(load, load_model):
    history = load[load.index < local("2025-05-01")].copy()
    history = history.drop(history.loc["2025-04-10 08:00":"2025-04-10 13:45"].index)  # 24 intervals lost
    history.loc["2025-04-20 02:00":"2025-04-20 03:00"] = np.nan  # 5 NaN
    model = LoadForecaster().fit(history)
    assert model.gaps_.missing == 24 + 5 and model.gaps_.total == 61 * 96
    assert str(model.gaps_).startswith("history_kw: 29 of 5,856 intervals missing (0.5 %): ")
    assert "2025-04-10 08:00 to 2025-04-10 13:45 (24 intervals)" in str(model.gaps_)
    assert "2025-04-20 02:00 to 2025-04-20 03:00 (5 intervals)" in str(model.gaps_)
    # yesterday's afternoon is missing: its lags come from the similar day and the forecast says so
    holed = load[load.index < local("2025-05-14")].copy()
    holed.loc["2025-05-13 12:00":"2025-05-13 23:45"] = np.nan
    fc = load_model.day_ahead(dt.date(2025, 5, 14), holed)
    assert fc.notna().all() and fc.attrs["filled_intervals"] == 48
    assert "2025-05-13 12:00 to 2025-05-13 23:45 (48 intervals)" in fc.attrs["gaps"]
    clean = load_model.day_ahead(dt.date(2025, 5, 14), load)
    assert (fc - clean).abs().mean() < 300.0  # filled from Tuesday 6 May, about as good


def test_a_history_with_too_many_gaps_is_refused(load):
    history = load[load.index < local("2025-04-01")].copy()  # 31 days, 2,976 intervals
    history.loc["2025-03-10":"2025-03-13"] = np.nan  # 4 days = 384 intervals = 12.9 %
    with pytest.raises(ValidationFailed, match=r"384 of 2,976 intervals missing \(12.9 %\)") as exc:
        LoadForecaster().fit(history)
    assert "more than 10 %" in str(exc.value)
    assert exc.value.issues[0].value == "2025-03-10 00:00 to 2025-03-13 23:45 (384 intervals)"


def test_other_bad_input_is_refused(load, pv, load_model):
    with pytest.raises(ValidationFailed, match="must be a pandas Series"):
        LoadForecaster().fit(load.to_numpy())
    with pytest.raises(ValidationFailed, match="unknown forecast kind"):
        evaluate(LoadForecaster(), load, TRAIN_END, TEST_END, kind="weekly")
    with pytest.raises(ValidationFailed, match="daylight saving time"):
        LoadForecaster(tz="Europe/Berlin")
    with pytest.raises(ValidationFailed, match="kwp must be > 0"):
        PvForecaster(LAT, LON, kwp=0.0)
    with pytest.raises(ValidationFailed, match="no positive PV power"):
        PvForecaster(LAT, LON).fit(pv[pv.index < local("2025-04-01")] * 0.0)
    with pytest.raises(ValidationFailed, match="no column 'ghi_w_m2'"):
        PvForecaster(LAT, LON).fit(pv[pv.index < local("2025-04-01")], weather=pd.DataFrame({"x": pv}))
