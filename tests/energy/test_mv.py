"""M&V of savings: Guideline 14 statistics by hand, a synthetic park whose true daily use is known, bad inputs."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from parkzero.energy import mv
from parkzero.energy.mv import NonRoutineAdjustment, baseline_model, daily_frame, fit_statistics, savings
from parkzero.errors import ValidationFailed

TZ = "Asia/Shanghai"

# The synthetic park: true daily use = 1,000 kWh + 50 kWh per cooling degree day above 18 degC
# + 300 kWh on working days, measured with N(0, 40 kWh) noise.
BASE_KWH, COOLING_KWH_PER_KD, BALANCE_C, WORKING_KWH, NOISE_KWH = 1000.0, 50.0, 18.0, 300.0, 40.0


def park_days(
    start: str, n_days: int, seed: int, *, cut: float = 0.0, ar1: float = 0.0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Daily frame of the synthetic park and its true (noise-free, pre-measure) daily use [kWh].

    Temperature: a Shanghai-like year, 4 degC late January to 29 degC late July, plus N(0, 2 K) day to day.
    `cut` scales the true use (0.1 = a measure saving 10 %); `ar1` makes the noise autocorrelated.
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=n_days, freq="D", tz=TZ, name="day")
    doy = days.day_of_year.to_numpy()
    temp_c = 16.5 - 12.5 * np.cos(2 * np.pi * (doy - 20) / 365) + rng.normal(0, 2.0, n_days)
    working = np.array([mv.is_working_day(t.date()) for t in days])
    true_kwh = BASE_KWH + COOLING_KWH_PER_KD * np.maximum(temp_c - BALANCE_C, 0) + WORKING_KWH * working
    white = rng.normal(0, NOISE_KWH, n_days)
    noise = np.empty(n_days)
    noise[0] = white[0]
    for i in range(1, n_days):
        noise[i] = ar1 * noise[i - 1] + math.sqrt(1 - ar1**2) * white[i]
    frame = pd.DataFrame({"energy_kwh": true_kwh * (1 - cut) + noise, "temp_air_c": temp_c}, index=days)
    return frame, true_kwh


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return park_days("2023-01-01", 365, seed=1)[0]


@pytest.fixture(scope="module")
def model(baseline) -> mv.BaselineModel:
    return baseline_model(baseline)


# -- Guideline 14 arithmetic -----------------------------------------------------------------------
def test_cv_rmse_and_nmbe_on_four_days():
    measured = [100.0, 120.0, 90.0, 110.0]
    predicted = [105.0, 115.0, 95.0, 100.0]
    st = fit_statistics(measured, predicted, n_parameters=2)
    # residuals measured - predicted = -5, 5, -5, 10; sum 5; SS_res = 25 + 25 + 25 + 100 = 175
    # mean = 420 / 4 = 105 kWh; n - p = 4 - 2 = 2
    assert st.degrees_of_freedom == 2
    assert st.mean_kwh == pytest.approx(105.0)
    # RMSE = sqrt(175 / 2) = 9.3541 kWh; CV(RMSE) = 9.3541 / 105 = 8.9087 %
    assert st.rmse_kwh == pytest.approx(math.sqrt(87.5))
    assert st.cv_rmse_pct == pytest.approx(100 * math.sqrt(87.5) / 105)
    assert st.cv_rmse_pct == pytest.approx(8.9087, abs=1e-4)
    # NMBE = 5 / (2 x 105) = 2.3810 %
    assert st.nmbe_pct == pytest.approx(100 * 5 / 210)
    # SS_tot = 25 + 225 + 225 + 25 = 500; R^2 = 1 - 175 / 500 = 0.65; adj = 1 - (175 / 2) / (500 / 3) = 0.475
    assert st.r_squared == pytest.approx(0.65)
    assert st.adj_r_squared == pytest.approx(0.475)


def test_fit_statistics_needs_degrees_of_freedom():
    with pytest.raises(ValidationFailed, match="n - p"):
        fit_statistics([1.0, 2.0], [1.0, 2.0], n_parameters=2)


def test_degree_days():
    hdd, cdd = mv.degree_days(np.array([5.0, 15.0, 25.0]), heating_c=15.0, cooling_c=18.0)
    # HDD = max(15 - T, 0) = 10, 0, 0; CDD = max(T - 18, 0) = 0, 0, 7  [K d]
    assert hdd.tolist() == [10.0, 0.0, 0.0]
    assert cdd.tolist() == [0.0, 0.0, 7.0]
    none_h, _ = mv.degree_days(np.array([5.0]), None, 18.0)
    assert none_h.tolist() == [0.0]


def test_g14_cv_limits():
    # Guideline 14 whole-building: 20 % below 12 months of reporting, 25 % for 12-60, 30 % beyond
    assert mv.g14_cv_rmse_limit_pct() == 20.0
    assert mv.g14_cv_rmse_limit_pct(6) == 20.0
    assert mv.g14_cv_rmse_limit_pct(12) == 25.0
    assert mv.g14_cv_rmse_limit_pct(61) == 30.0


def test_chinese_working_days_with_fallback():
    assert mv.is_working_day(date(2024, 10, 1)) is False  # National Day
    assert mv.is_working_day(date(2024, 10, 12)) is True  # Saturday worked in exchange for the holiday
    assert mv.is_working_day(date(2024, 10, 14)) is True  # an ordinary Monday
    # beyond the package's years: Monday to Friday
    assert mv.is_working_day(date(2099, 1, 5)) is True  # a Monday
    assert mv.is_working_day(date(2099, 1, 3)) is False  # a Saturday


# -- meter data to days ----------------------------------------------------------------------------
def test_daily_frame_sums_local_days_and_lists_incomplete_ones():
    # three local days of 15-minute readings, 10 kWh each: a full day is 96 x 10 = 960 kWh
    local = pd.date_range("2024-03-04", periods=3 * 96, freq="15min", tz=TZ)
    energy = pd.Series(10.0, index=local)
    energy.iloc[96 : 96 + 9] = np.nan  # day 2: 87 of 96 present = 90.6 % -> kept, filled to 960 kWh
    energy.iloc[2 * 96 : 2 * 96 + 10] = np.nan  # day 3: 86 of 96 = 89.6 % < 90 % -> rejected
    hours = pd.date_range("2024-03-04", periods=3 * 24, freq="h", tz=TZ)
    temp = pd.Series(np.arange(3 * 24, dtype=float) % 24, index=hours)  # 0..23 degC each day: mean 11.5
    # the meter's timestamps arrive in UTC: local midnight is 16:00 UTC the day before
    frame = daily_frame(energy.tz_convert("UTC"), temp.tz_convert("UTC"))
    assert list(frame.index.date) == [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)]
    assert str(frame.index.tz) == TZ
    assert frame["energy_kwh"].iloc[0] == pytest.approx(960.0)
    # day 2: 87 x 10 = 870 kWh measured, mean 10 kWh per interval x 96 = 960 kWh
    assert frame["energy_kwh"].iloc[1] == pytest.approx(960.0)
    assert frame["energy_coverage"].iloc[1] == pytest.approx(87 / 96)
    assert frame["temp_air_c"].iloc[0] == pytest.approx(11.5)
    assert frame["rejected"].iloc[:2].tolist() == ["", ""]
    assert "86 of 96" in frame["rejected"].iloc[2]
    assert math.isnan(frame["energy_kwh"].iloc[2])


def test_daily_frame_rejects_day_without_temperature_and_naive_timestamps():
    local = pd.date_range("2024-03-04", periods=2 * 24, freq="h", tz=TZ)
    energy = pd.Series(5.0, index=local)
    temp = pd.Series(20.0, index=local[:24])  # no temperature on the second day
    frame = daily_frame(energy, temp)
    assert frame["energy_kwh"].iloc[0] == pytest.approx(120.0)  # 24 x 5 kWh
    assert "temperature: 0 of 24" in frame["rejected"].iloc[1]
    with pytest.raises(ValidationFailed, match="naive"):
        daily_frame(energy.tz_localize(None), temp)
    with pytest.raises(ValidationFailed, match="naive"):
        daily_frame(energy, temp.tz_localize(None))
    with pytest.raises(ValidationFailed, match="duplicated"):
        daily_frame(pd.concat([energy, energy.iloc[:1]]), temp)


# -- the baseline model ----------------------------------------------------------------------------
def test_baseline_recovers_the_true_coefficients(model):
    # grid search over 10..24 degC finds the true cooling balance point and no heating term
    assert model.cooling_balance_c == BALANCE_C
    assert model.heating_balance_c is None
    # true 1,000 kWh/d, 300 kWh/d, 50 kWh/(K d); standard errors about 4 kWh/d, 5 kWh/d, 0.5 kWh/(K d)
    assert model.base_load_kwh == pytest.approx(BASE_KWH, abs=15)
    assert model.working_day_kwh == pytest.approx(WORKING_KWH, abs=15)
    assert model.cooling_kwh_per_kd == pytest.approx(COOLING_KWH_PER_KD, abs=2)
    assert model.heating_kwh_per_kd == 0.0
    for c in model.coefficients:
        assert abs(c.value - {"base_load": 1000, "working_day": 300, "cooling": 50}[c.name]) < 3 * c.std_error
    assert [c.unit for c in model.coefficients] == ["kWh/d", "kWh/d", "kWh/(K d)"]
    # n = 365 days, p = 3 (base load, working day, cooling), n - p = 362
    assert (model.n_days, model.n_parameters, model.degrees_of_freedom) == (365, 3, 362)
    # noise 40 kWh on a mean near 1,360 kWh: CV(RMSE) about 40 / 1,360 = 2.9 %; OLS gives NMBE = 0
    assert model.rmse_kwh == pytest.approx(NOISE_KWH, rel=0.15)
    assert model.cv_rmse_pct == pytest.approx(100 * model.rmse_kwh / model.mean_energy_kwh)
    assert model.cv_rmse_pct < 4.0
    assert abs(model.nmbe_pct) < 1e-9
    assert model.r_squared > 0.95
    assert model.meets_ashrae_g14 is True
    assert "20 %" in model.criteria and "0.005 %" in model.criteria
    assert abs(model.residual_autocorrelation) < 0.2  # white noise
    assert (model.baseline_start, model.baseline_end) == (date(2023, 1, 1), date(2023, 12, 31))


def test_given_balance_temperatures(baseline):
    m = baseline_model(baseline, balance_c=(None, 18.0))
    assert m.selection.startswith("balance temperatures given")
    assert m.cooling_kwh_per_kd == pytest.approx(COOLING_KWH_PER_KD, abs=2)
    both = baseline_model(baseline, balance_c=(12.0, 18.0))
    assert both.n_parameters == 4  # base load, working day, heating, cooling
    assert both.heating_balance_c == 12.0
    with pytest.raises(ValidationFailed, match="below the heating"):
        baseline_model(baseline, balance_c=(20.0, 18.0))


def test_working_day_column_overrides_the_calendar(baseline):
    # a plant working Monday to Saturday all year: 300 kWh more on those days, whatever the holidays
    frame = baseline.copy()
    six_days = frame.index.day_of_week < 6
    frame["working_day"] = six_days
    frame["energy_kwh"] = 1000.0 + 300.0 * six_days + 50.0 * np.maximum(frame["temp_air_c"] - 18.0, 0)
    m = baseline_model(frame)
    assert m.working_day_kwh == pytest.approx(300.0)
    assert m.base_load_kwh == pytest.approx(1000.0)
    # every day a working day: the term would repeat the intercept, so it is left out and said so
    frame["working_day"] = True
    always = baseline_model(frame)
    assert [c.name for c in always.coefficients] == ["base_load", "cooling"]
    assert any("no working-day term" in n for n in always.notes)


def test_prediction_is_the_fitted_equation(model, baseline):
    day = baseline.iloc[[200]]  # 2023-07-20, a Thursday
    t = float(day["temp_air_c"].iloc[0])
    expected = model.base_load_kwh + model.working_day_kwh + model.cooling_kwh_per_kd * max(t - 18.0, 0)
    assert model.predict_kwh(day).iloc[0] == pytest.approx(expected)


# -- savings ---------------------------------------------------------------------------------------
def test_ten_percent_cut_is_found_within_its_uncertainty(model):
    reporting, true_kwh = park_days("2024-01-01", 366, seed=7, cut=0.10)
    r = savings(model, reporting, confidence=0.9)
    true_savings = 0.10 * true_kwh.sum()  # 10 % of what the park would have used: about 50,000 kWh
    assert r.savings_pct == pytest.approx(10.0, abs=0.5)
    assert r.lower_kwh <= true_savings <= r.upper_kwh
    assert r.significant is True
    assert r.savings_kwh == pytest.approx(r.adjusted_baseline_kwh - r.measured_kwh)
    assert r.measured_kwh == pytest.approx(reporting["energy_kwh"].sum())
    assert r.n_days == 366
    # 366 days = 12.0 months of reporting: the 25 % CV(RMSE) limit applies
    assert r.cv_rmse_limit_pct == 25.0 and r.meets_g14_model is True
    assert r.meets_g14_uncertainty is True
    assert r.daily is not None and len(r.daily) == 366


def test_uncertainty_is_the_guideline_14_formula(model):
    reporting, _ = park_days("2024-01-01", 366, seed=7, cut=0.10)
    r = savings(model, reporting, confidence=0.9)
    n, p, m = model.n_days, model.n_parameters, 366
    rho = max(model.residual_autocorrelation, 0.0)
    n_eff = n * (1 - rho) / (1 + rho)  # n' = n (1 - rho) / (1 + rho)
    assert r.n_effective == pytest.approx(n_eff)
    t = stats.t.ppf(0.95, n_eff - p)  # two-sided 90 %: about 1.65
    assert r.t_value == pytest.approx(t)
    # U = 1.26 t CV E_adj sqrt((n / n') (1 + 2 / n') / m)
    # about 1.26 x 1.65 x 0.03 x 500,000 kWh x sqrt(1.16 x 1.006 / 366) = 1,800 kWh
    expected = (
        1.26 * t * model.cv_rmse_pct / 100 * r.routine_baseline_kwh * math.sqrt((n / n_eff) * (1 + 2 / n_eff) / m)
    )
    assert r.uncertainty_kwh == pytest.approx(expected)
    assert r.fractional_uncertainty_pct == pytest.approx(100 * expected / r.savings_kwh)
    # 95 % is wider than 90 %
    assert savings(model, reporting, confidence=0.95).uncertainty_kwh > r.uncertainty_kwh


def test_no_change_is_not_significant(model):
    reporting, _ = park_days("2024-01-01", 366, seed=8)
    r = savings(model, reporting)
    assert r.lower_kwh <= 0.0 <= r.upper_kwh
    assert r.significant is False
    assert abs(r.savings_pct) < 0.5
    assert r.meets_g14_uncertainty is False  # no savings to be 50 % uncertain of


def test_autocorrelated_residuals_widen_the_interval():
    white, _ = park_days("2023-01-01", 365, seed=11)
    red, _ = park_days("2023-01-01", 365, seed=11, ar1=0.6)
    m_white, m_red = baseline_model(white), baseline_model(red)
    assert m_red.residual_autocorrelation == pytest.approx(0.6, abs=0.1)
    reporting, _ = park_days("2024-01-01", 120, seed=12, cut=0.10)
    r_white, r_red = savings(m_white, reporting), savings(m_red, reporting)
    # rho = 0.6: n' = 365 x 0.4 / 1.6 = 91 days, so sqrt(n / n') = 2: about twice as wide
    assert r_red.n_effective == pytest.approx(
        365 * (1 - m_red.residual_autocorrelation) / (1 + m_red.residual_autocorrelation)
    )
    assert r_red.uncertainty_kwh > 1.6 * r_white.uncertainty_kwh


def test_non_routine_adjustment_is_added_to_the_baseline(model):
    reporting, _ = park_days("2024-01-01", 366, seed=8)
    # a new line uses 500 kWh/d from 1 to 10 June 2024: 10 x 500 = 5,000 kWh the model cannot know about
    june = (reporting.index >= "2024-06-01") & (reporting.index < "2024-06-11")
    reporting.loc[june, "energy_kwh"] += 500.0
    plain = savings(model, reporting)
    adjusted = savings(model, reporting, non_routine=[(date(2024, 6, 1), date(2024, 6, 10), 5000.0, "new line")])
    assert plain.savings_kwh == pytest.approx(
        savings(model, park_days("2024-01-01", 366, seed=8)[0]).savings_kwh - 5000
    )
    # routine baseline unchanged, adjusted baseline + 5,000 kWh, savings back to the no-change value
    assert adjusted.routine_baseline_kwh == pytest.approx(plain.routine_baseline_kwh)
    assert adjusted.adjusted_baseline_kwh == pytest.approx(plain.adjusted_baseline_kwh + 5000)
    assert adjusted.savings_kwh == pytest.approx(plain.savings_kwh + 5000)
    assert adjusted.non_routine == (NonRoutineAdjustment(date(2024, 6, 1), date(2024, 6, 10), 5000.0, "new line"),)
    rows = {row["quantity"]: row for row in adjusted.as_rows()}
    assert rows["non-routine adjustment 2024-06-01..2024-06-10: new line"]["value"] == 5000.0
    assert rows["savings (avoided energy)"]["unit"] == "kWh"
    assert any("non-routine" in n for n in adjusted.notes)
    with pytest.raises(ValidationFailed, match="outside the reporting period"):
        savings(model, reporting, non_routine=[("2025-01-01", "2025-01-02", 10.0)])


def test_as_rows_make_a_table(model):
    reporting, _ = park_days("2024-01-01", 90, seed=9, cut=0.1)
    table = pd.DataFrame(savings(model, reporting).as_rows())
    assert list(table.columns) == ["quantity", "value", "unit"]
    assert "quantity,value,unit" in table.to_csv(index=False)
    model_table = pd.DataFrame(model.as_rows())
    assert set(model_table["quantity"]) >= {"coefficient cooling", "CV(RMSE)", "NMBE", "R^2", "days used (n)"}


def test_rejected_days_are_listed_not_silently_dropped(baseline, model):
    frame = baseline.copy()
    frame["rejected"] = ""
    frame.iloc[10:13, frame.columns.get_loc("energy_kwh")] = np.nan
    frame.iloc[10:13, frame.columns.get_loc("rejected")] = "energy: 40 of 96 intervals (42 % < 90 %)"
    m = baseline_model(frame)
    assert m.n_days == 362  # 365 - 3
    assert [day for day, _ in m.excluded_days] == [date(2023, 1, 11), date(2023, 1, 12), date(2023, 1, 13)]
    reporting, _ = park_days("2024-01-01", 30, seed=3)
    reporting["rejected"] = ""
    reporting.iloc[0, reporting.columns.get_loc("rejected")] = "temperature: 0 of 24 readings (0 % < 90 %)"
    r = savings(model, reporting)
    assert r.n_days == 29
    assert r.excluded_days == ((date(2024, 1, 1), "temperature: 0 of 24 readings (0 % < 90 %)"),)


def test_from_meter_intervals_to_savings(model):
    # hourly meter and weather data in UTC, rolled up to local days, then fed to the model
    days, _ = park_days("2024-04-01", 60, seed=5)
    hours = pd.date_range("2024-04-01", periods=60 * 24, freq="h", tz=TZ)
    energy = pd.Series(np.repeat(days["energy_kwh"].to_numpy() / 24, 24), index=hours).tz_convert("UTC")
    temp = pd.Series(np.repeat(days["temp_air_c"].to_numpy(), 24), index=hours).tz_convert("UTC")
    frame = daily_frame(energy, temp)
    assert frame["energy_kwh"].to_numpy() == pytest.approx(days["energy_kwh"].to_numpy())
    r = savings(model, frame)
    assert r.n_days == 60
    assert r.savings_kwh == pytest.approx(savings(model, days).savings_kwh)


# -- bad inputs ------------------------------------------------------------------------------------
def test_too_few_baseline_days(baseline):
    with pytest.raises(ValidationFailed, match="59 usable day.*at least 60"):
        baseline_model(baseline.iloc[:59])


def test_too_many_missing_baseline_days(baseline):
    # 40 of 365 days gone: 11 % > 10 % (CalTRACK 2.2.1.2)
    with pytest.raises(ValidationFailed, match="40 of 365 days"):
        baseline_model(baseline.drop(baseline.index[100:140]))


def test_baseline_without_the_reporting_temperatures(baseline):
    summer = baseline.loc["2023-06-01":"2023-08-31"]  # 92 days, all warm
    m = baseline_model(summer)
    assert any("less than a year" in n for n in m.notes)
    winter, _ = park_days("2024-01-01", 60, seed=4)
    with pytest.raises(ValidationFailed, match="full range of temperatures") as err:
        savings(m, winter)
    assert err.value.issues and "outside the baseline range" in err.value.issues[0].reason


def test_nan_on_a_day_not_marked_rejected(baseline):
    frame = baseline.copy()
    frame.iloc[5, frame.columns.get_loc("energy_kwh")] = np.nan
    with pytest.raises(ValidationFailed, match="missing or non-numeric") as err:
        baseline_model(frame)
    assert err.value.issues[0].column == "energy_kwh"
    assert "2023-01-06" in err.value.issues[0].reason


def test_naive_day_index(baseline):
    with pytest.raises(ValidationFailed, match="naive"):
        baseline_model(baseline.tz_localize(None))


def test_days_must_start_at_local_midnight(baseline):
    # days labelled by UTC midnight start at 08:00 in Shanghai
    utc_days = baseline.index.tz_localize(None).tz_localize("UTC")
    with pytest.raises(ValidationFailed, match="local midnight"):
        baseline_model(baseline.set_axis(utc_days))


def test_missing_column(baseline):
    with pytest.raises(ValidationFailed, match="temp_air_c"):
        baseline_model(baseline[["energy_kwh"]])


def test_reporting_overlapping_the_baseline(model):
    late_2023, _ = park_days("2023-12-01", 62, seed=6)  # 1 Dec 2023 to 31 Jan 2024
    with pytest.raises(ValidationFailed, match="overlaps the baseline") as err:
        savings(model, late_2023)
    assert "31 day(s)" in str(err.value)  # 1..31 December 2023


def test_bad_confidence(model):
    reporting, _ = park_days("2024-01-01", 30, seed=2)
    for bad in (0.0, 1.0, 90):
        with pytest.raises(ValidationFailed, match="confidence"):
            savings(model, reporting, confidence=bad)
