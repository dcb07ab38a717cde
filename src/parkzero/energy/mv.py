"""Measurement and verification (M&V) of energy savings from meter data.

IPMVP Option C (whole facility) or Option B (one retrofit isolated behind its own meter): a baseline model fitted
to the meter before a measure predicts what the facility would have used under the reporting period's conditions
(the *routine adjustment*); the savings, or avoided energy use, are that adjusted baseline minus the measured use.

The pieces, in the order they are used:

- `daily_frame` rolls 15-minute or hourly meter energy and air temperature up to park-local days
  (Asia/Shanghai) and marks, with a reason, every day with fewer than 90 % of its intervals present.
- `baseline_model` fits daily energy [kWh] by ordinary least squares on heating and cooling degree days and a
  working-day indicator, with the balance temperatures given or found by grid search (CalTRACK 2.0 daily method,
  below), and reports the ASHRAE Guideline 14 statistics of the fit.
- `savings` applies the model to a reporting period, adds any non-routine adjustments, and gives the savings with
  their Guideline 14 uncertainty.

Model (one row per day *d*)::

    E_d = base_load + working_day * W_d + heating * HDD_d + cooling * CDD_d + e_d              [kWh]
    HDD_d = max(T_heat - T_d, 0),  CDD_d = max(T_d - T_cool, 0)                                 [K d]

with T_d the daily mean air temperature [degC] and W_d = 1 on working days: `chinese_calendar.is_workday` (which
knows public holidays and the weekend days worked in exchange), Monday to Friday for years it does not cover, or
a boolean ``working_day`` column if the frame has one (a plant running six days a week).

Balance temperatures follow the CalTRACK 2.0 daily method (openeemeter/caltrack, docs/methods.rst), as OpenEEmeter
implements it:

- 3.2.1 / 3.2.3: grid search; here 10 to 24 degC in 1 K steps (CalTRACK allows at most 3 degF = 1.67 K between
  candidates); 3.2.2.1: the cooling balance temperature is never below the heating one.
- 3.2.2.2: a degree-day term qualifies only with at least 10 days of non-zero degree days and at least 20 degF d
  (11.1 K d) in the baseline.
- 3.4.3: candidates are heating + cooling, heating only, cooling only and no weather term (here each with the
  working-day term, which CalTRACK lacks: a park's calendar drives its load more than a home's, and the CalTRACK
  appendix to 3.3.1.2 found day-of-week and holiday structure in daily residuals). 3.4.3.2: a candidate qualifies
  if its base load and degree-day slopes are positive (the p-value screen was dropped in CalTRACK 2.0).
- 3.4.3.3: the qualified candidate with the highest adjusted R^2 wins. With the data fixed, adjusted R^2 =
  1 - (SS_res / (n - p)) / (SS_tot / (n - 1)) and CV(RMSE) = sqrt(SS_res / (n - p)) / mean(E) move together, so
  this is also the candidate with the lowest CV(RMSE), as Guideline 14 and ASHRAE RP-1050 choose change points.
- 2.2.1.2: at most 10 % of the baseline's days may be missing. 2.2.2.1 allows a day with up to 50 % of its
  intervals missing; the park uses 90 % coverage (the national key-energy-user online monitoring rule) and, like
  CalTRACK, fills a kept day's missing intervals with the mean of its present ones.
- 3.5 / 3.6.1: reporting days without usable energy or temperature are left out of the savings (and listed);
  avoided energy use = model prediction - measured use.

Statistics (ASHRAE Guideline 14-2014, with n days and p fitted parameters; residual e = measured - predicted)::

    CV(RMSE) = sqrt(sum(e^2) / (n - p)) / mean(E) * 100                                          [%]
    NMBE     = sum(e) / ((n - p) * mean(E)) * 100                                                 [%]

An OLS fit with an intercept has NMBE = 0 on its own baseline, up to rounding.

Acceptance of the baseline model, from the Guideline 14 compliance requirements of the whole-building approach
(Option C) for a regression baseline: CV(RMSE) at most 20 % when the savings are
reported over less than 12 months, 25 % for 12 to 60 months and 30 % beyond (energy; the demand limits are
higher), and a net determination bias (NMBE) of at most 0.005 %. Guideline 14 has no separate daily figure; its
calibrated-simulation limits (Option D: monthly 15 % / +-5 %, hourly 30 % / +-10 %) are for simulation models,
not for a regression baseline, and are not used here. `BaselineModel.meets_ashrae_g14` checks the strictest
(20 %) limit; `SavingsReport.meets_g14_model` checks the limit for the actual reporting length.

Savings uncertainty (Guideline 14-2014 Annex B, after Reddy & Claridge 2000), at confidence level c over m
reporting days::

    rho = sum(e_d e_(d-1)) / sum(e_d^2)            lag-1 autocorrelation of the baseline residuals
    n'  = n (1 - rho) / (1 + rho)                  effective number of independent baseline days (rho > 0)
    U   = 1.26 t(c, n' - p) CV E_adj sqrt((n / n') (1 + 2 / n') / m)                              [kWh]

with CV the baseline CV(RMSE) as a fraction and E_adj the routine-adjusted baseline [kWh]; U / savings is the
fractional savings uncertainty. 1.26 is the Guideline's empirical factor (derived for monthly models; OpenEEmeter
replaces it for daily data with Sun & Baltazar's polynomial in the reporting months). The savings are called
significant when |savings| > U, i.e. when the interval does not contain zero. Guideline 14 also requires the
uncertainty to be below 50 % of the savings at 68 % confidence (`SavingsReport.meets_g14_uncertainty`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import chinese_calendar
import numpy as np
import pandas as pd
from scipy import stats

from parkzero.errors import Issue, ValidationFailed

__all__ = [
    "BaselineModel",
    "Coefficient",
    "FitStatistics",
    "NonRoutineAdjustment",
    "SavingsReport",
    "baseline_model",
    "daily_frame",
    "degree_days",
    "fit_statistics",
    "g14_cv_rmse_limit_pct",
    "is_working_day",
    "savings",
]

PARK_TZ = "Asia/Shanghai"
MIN_BASELINE_DAYS = 60
MIN_DAY_COVERAGE = 0.90  # share of a day's intervals that must be present (national online-monitoring rule)
MAX_MISSING_DAY_SHARE = 0.10  # CalTRACK 2.2.1.2: at most 10 % of the baseline's days missing
BALANCE_GRID_C = tuple(float(t) for t in range(10, 25))  # 10..24 degC; CalTRACK 3.2.3: steps <= 3 degF
MIN_NONZERO_DEGREE_DAYS = 10  # CalTRACK 3.2.2.2.1 [days]
MIN_TOTAL_DEGREE_DAYS_KD = 20 / 1.8  # CalTRACK 3.2.2.2.2: 20 degF d = 11.1 K d
MAX_OUT_OF_RANGE_SHARE = 0.10  # reporting days colder or warmer than any baseline day, before refusing

G14_NMBE_LIMIT_PCT = 0.005  # Guideline 14 whole-building path: net determination bias
G14_FSU_FACTOR = 1.26  # Guideline 14 Annex B empirical factor of the savings-uncertainty formula
G14_FSU_LIMIT = 0.50  # Guideline 14: uncertainty below 50 % of the savings ...
G14_FSU_CONFIDENCE = 0.68  # ... at 68 % confidence
G14_CRITERIA = (
    "ASHRAE Guideline 14 whole-building (Option C) regression baseline: CV(RMSE) <= 20 % (savings reported over "
    "< 12 months; 25 % for 12-60 months, 30 % beyond) and |NMBE| <= 0.005 %"
)
_DAYS_PER_MONTH = 365.25 / 12

_BASE, _WORK, _HEAT, _COOL = "base_load", "working_day", "heating", "cooling"
_UNITS = {_BASE: "kWh/d", _WORK: "kWh/d", _HEAT: "kWh/(K d)", _COOL: "kWh/(K d)"}
_MEANINGS = {
    _BASE: "daily use on a non-working day without heating or cooling",
    _WORK: "extra daily use on a working day",
    _HEAT: "extra daily use per heating degree day",
    _COOL: "extra daily use per cooling degree day",
}


# -- calendar and degree days ----------------------------------------------------------------------
def is_working_day(day: date) -> bool:
    """Whether a day is a working day in mainland China.

    Parameters
    ----------
    day : datetime.date
        Park-local calendar day.

    Returns
    -------
    bool
        `chinese_calendar.is_workday` (public holidays off, swapped weekend days on) for the years the package
        covers; Monday to Friday otherwise.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def _calendar_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def degree_days(
    temp_air_c: np.ndarray | pd.Series, heating_c: float | None, cooling_c: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Heating and cooling degree days of daily mean temperatures.

    Parameters
    ----------
    temp_air_c : array-like
        Daily mean air temperature [degC].
    heating_c, cooling_c : float or None
        Heating / cooling balance temperature [degC]; None gives zeros for that term.

    Returns
    -------
    hdd_kd, cdd_kd : numpy.ndarray
        max(heating_c - T, 0) and max(T - cooling_c, 0) per day [K d].
    """
    t = np.asarray(temp_air_c, dtype=float)
    hdd = np.zeros_like(t) if heating_c is None else np.maximum(heating_c - t, 0.0)
    cdd = np.zeros_like(t) if cooling_c is None else np.maximum(t - cooling_c, 0.0)
    return hdd, cdd


# -- fit statistics --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FitStatistics:
    """Goodness of fit of predicted against measured daily energy (ASHRAE Guideline 14 definitions)."""

    n: int  # days
    n_parameters: int
    degrees_of_freedom: int  # n - p
    mean_kwh: float  # mean measured daily energy [kWh]
    rmse_kwh: float  # sqrt(SS_res / (n - p)) [kWh]
    r_squared: float
    adj_r_squared: float
    cv_rmse_pct: float  # [%]
    nmbe_pct: float  # [%], positive when the model predicts too little


def fit_statistics(
    measured_kwh: Sequence[float] | np.ndarray, predicted_kwh: Sequence[float] | np.ndarray, n_parameters: int
) -> FitStatistics:
    """R^2, CV(RMSE) and NMBE of a model, as ASHRAE Guideline 14 defines them.

    Parameters
    ----------
    measured_kwh, predicted_kwh : array-like
        Measured and predicted energy per period [kWh], same length n.
    n_parameters : int
        Number of fitted parameters p, intercept included.

    Returns
    -------
    FitStatistics
        With e = measured - predicted: CV(RMSE) = sqrt(sum(e^2) / (n - p)) / mean(measured) * 100 [%],
        NMBE = sum(e) / ((n - p) * mean(measured)) * 100 [%], R^2 = 1 - SS_res / SS_tot and
        adjusted R^2 = 1 - (SS_res / (n - p)) / (SS_tot / (n - 1)).
    """
    y = np.asarray(measured_kwh, dtype=float)
    y_hat = np.asarray(predicted_kwh, dtype=float)
    n, p = len(y), int(n_parameters)
    if len(y_hat) != n:
        raise ValidationFailed(f"measured and predicted differ in length ({n} and {len(y_hat)})")
    if n - p < 1:
        raise ValidationFailed(f"{n} values cannot support {p} parameters: n - p must be at least 1")
    mean = float(y.mean())
    if mean == 0:
        raise ValidationFailed("mean measured energy is 0 kWh: CV(RMSE) and NMBE are undefined")
    resid = y - y_hat
    ss_res = float(resid @ resid)
    ss_tot = float(((y - mean) ** 2).sum())
    rmse = math.sqrt(ss_res / (n - p))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    adj = 1.0 - (ss_res / (n - p)) / (ss_tot / (n - 1)) if ss_tot > 0 and n > 1 else float("nan")
    return FitStatistics(
        n=n,
        n_parameters=p,
        degrees_of_freedom=n - p,
        mean_kwh=mean,
        rmse_kwh=rmse,
        r_squared=r2,
        adj_r_squared=adj,
        cv_rmse_pct=100.0 * rmse / mean,
        nmbe_pct=100.0 * float(resid.sum()) / ((n - p) * mean),
    )


def g14_cv_rmse_limit_pct(reporting_months: float | None = None) -> float:
    """Guideline 14 whole-building limit on the baseline CV(RMSE) for energy [%].

    Parameters
    ----------
    reporting_months : float, optional
        Length of the period the savings are reported over [months]; None gives the strictest limit.

    Returns
    -------
    float
        20 % below 12 months, 25 % for 12 to 60 months, 30 % beyond.
    """
    if reporting_months is None or reporting_months < 12:
        return 20.0
    return 25.0 if reporting_months <= 60 else 30.0


# -- meter data to park-local days -----------------------------------------------------------------
def _regular_step(index: pd.DatetimeIndex, name: str) -> pd.Timedelta:
    if len(index) < 2:
        raise ValidationFailed(f"{name} has {len(index)} reading(s): the interval cannot be inferred")
    step = pd.Series(index).diff().median()
    day = pd.Timedelta(days=1)
    if not (pd.Timedelta(0) < step < day) or day % step != pd.Timedelta(0):
        raise ValidationFailed(f"{name}: interval {step} does not divide a day (expected e.g. 15 min or 1 h)")
    return step


def _checked_series(s: pd.Series, name: str) -> pd.Series:
    if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
        raise ValidationFailed(f"{name} must be a pandas Series indexed by timestamps")
    if s.index.tz is None:
        raise ValidationFailed(
            f"{name} has naive timestamps; give them a time zone (e.g. .tz_localize('{PARK_TZ}'))",
            issues=[Issue("timestamp has no time zone", column=name, value=str(s.index[0]) if len(s) else None)],
        )
    if not pd.api.types.is_numeric_dtype(s.dtype):
        raise ValidationFailed(f"{name} must be numeric, not {s.dtype}")
    dup = s.index[s.index.duplicated()]
    if len(dup):
        raise ValidationFailed(
            f"{name} has {len(dup)} duplicated timestamp(s)",
            issues=[Issue("duplicated timestamp", column=name, value=str(t)) for t in dup[:20]],
        )
    values = s.to_numpy(dtype=float, na_value=np.nan)
    inf = np.flatnonzero(np.isinf(values))
    if len(inf):
        raise ValidationFailed(
            f"{name} has {len(inf)} infinite value(s)",
            issues=[Issue("infinite value", column=name, value=str(s.index[i])) for i in inf[:20]],
        )
    local = pd.Series(values, index=s.index.tz_convert(PARK_TZ)).sort_index()
    return local


def daily_frame(energy_kwh: pd.Series, temp_air_c: pd.Series) -> pd.DataFrame:
    """Roll interval meter energy and air temperature up to park-local days (Asia/Shanghai).

    Parameters
    ----------
    energy_kwh : pandas.Series
        Energy per interval [kWh], 15-minute or hourly (any regular step dividing a day), indexed by the
        timezone-aware start of each interval ([start, start + interval) as the store keeps readings). NaN marks
        a missing interval.
    temp_air_c : pandas.Series
        Outdoor air temperature samples [degC], timezone-aware, any regular step dividing a day.

    Returns
    -------
    pandas.DataFrame
        One row per park-local day from the first to the last day of `energy_kwh`, indexed by local midnight
        (tz Asia/Shanghai, name ``day``), with columns

        - ``energy_kwh``: energy of the day [kWh]; when 90 % to 100 % of the intervals are present, the missing
          ones are filled with the mean of the present ones (CalTRACK 2.2.2.1);
        - ``temp_air_c``: mean of the day's temperature samples [degC];
        - ``energy_coverage``, ``temp_coverage``: share of the day's expected intervals present [-];
        - ``rejected``: empty for a usable day, else why the day is not used (fewer than 90 % of the
          intervals of either series); such days keep NaN energy and temperature and are listed by
          `baseline_model` and `savings`, never silently dropped.

    Raises
    ------
    ValidationFailed
        Naive timestamps, duplicated timestamps, a step that does not divide a day, energy timestamps off the
        interval grid, infinite values.
    """
    energy = _checked_series(energy_kwh, "energy_kwh")
    temp = _checked_series(temp_air_c, "temp_air_c")
    e_step = _regular_step(energy.index, "energy_kwh")
    t_step = _regular_step(temp.index, "temp_air_c")
    offset = (energy.index - energy.index[0]) % e_step
    off_grid = energy.index[offset != pd.Timedelta(0)]
    if len(off_grid):
        raise ValidationFailed(
            f"energy_kwh: {len(off_grid)} timestamp(s) off the {e_step} interval grid",
            issues=[Issue("timestamp off the interval grid", column="energy_kwh", value=str(t)) for t in off_grid[:20]],
        )
    e_expected = pd.Timedelta(days=1) / e_step
    t_expected = pd.Timedelta(days=1) / t_step

    days = pd.date_range(energy.index[0].normalize(), energy.index[-1].normalize(), freq="D", name="day")
    e_day = energy.index.normalize()
    e_count = energy.notna().groupby(e_day).sum().reindex(days, fill_value=0)
    e_sum = energy.groupby(e_day).sum(min_count=1).reindex(days)
    t_valid = temp.dropna()
    t_day = t_valid.index.normalize()
    t_count = t_valid.groupby(t_day).size().reindex(days, fill_value=0)
    t_mean = t_valid.groupby(t_day).mean().reindex(days)

    e_cov = (e_count / e_expected).clip(upper=1.0)
    t_cov = (t_count / t_expected).clip(upper=1.0)
    reasons = []
    for e_n, t_n, ec, tc in zip(e_count, t_count, e_cov, t_cov, strict=True):
        why = []
        if ec < MIN_DAY_COVERAGE:
            why.append(f"energy: {int(e_n)} of {e_expected:g} intervals ({100 * ec:.0f} % < 90 %)")
        if tc < MIN_DAY_COVERAGE:
            why.append(f"temperature: {int(t_n)} of {t_expected:g} readings ({100 * tc:.0f} % < 90 %)")
        reasons.append("; ".join(why))
    rejected = pd.Series(reasons, index=days, dtype=object)
    ok = rejected == ""
    # CalTRACK 2.2.2.1: fill a kept day's missing intervals with the mean of its present ones
    energy_day = (e_sum / e_count.where(e_count > 0) * e_expected).where(ok)
    return pd.DataFrame(
        {
            "energy_kwh": energy_day.astype(float),
            "temp_air_c": t_mean.where(ok).astype(float),
            "energy_coverage": e_cov.astype(float),
            "temp_coverage": t_cov.astype(float),
            "rejected": rejected,
        },
        index=days,
    )


# -- checked daily input ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Days:
    days: pd.DatetimeIndex  # local midnights of the usable days, sorted
    energy_kwh: np.ndarray
    temp_air_c: np.ndarray
    working_day: np.ndarray  # bool
    excluded: tuple[tuple[date, str], ...]  # (day, reason) of rows marked rejected
    fallback_years: tuple[int, ...]  # years the Chinese calendar does not cover (Mon-Fri used)


def _as_date(value: Any, what: str) -> date:
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        return (ts.tz_convert(PARK_TZ) if ts.tz is not None else ts).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{what}: {value!r} is not a date (use YYYY-MM-DD)") from None


def _checked_days(daily: pd.DataFrame, what: str, *, need_energy: bool = True) -> _Days:
    if not isinstance(daily, pd.DataFrame):
        raise ValidationFailed(f"{what} must be a pandas DataFrame of days (see daily_frame)")
    needed = ["energy_kwh", "temp_air_c"] if need_energy else ["temp_air_c"]
    missing = [c for c in needed if c not in daily.columns]
    if missing:
        raise ValidationFailed(
            f"{what} lacks column(s) {', '.join(missing)}",
            issues=[Issue("column missing", column=c) for c in missing],
        )
    idx = daily.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise ValidationFailed(f"{what} must be indexed by timezone-aware day starts (a DatetimeIndex)")
    if idx.tz is None:
        raise ValidationFailed(
            f"{what} has naive timestamps; index the days by local midnight with a time zone "
            f"(e.g. .tz_localize('{PARK_TZ}'))",
            issues=[Issue("timestamp has no time zone", value=str(idx[0]) if len(idx) else None)],
        )
    local = idx.tz_convert(PARK_TZ)
    not_midnight = local[local != local.normalize()]
    if len(not_midnight):
        raise ValidationFailed(
            f"{what}: {len(not_midnight)} row(s) do not start at park-local midnight ({PARK_TZ})",
            issues=[Issue("not a local day start", value=str(t)) for t in not_midnight[:20]],
        )
    dup = local[local.duplicated()]
    if len(dup):
        raise ValidationFailed(
            f"{what}: {len(dup)} day(s) appear more than once",
            issues=[Issue("duplicated day", value=str(t.date())) for t in dup[:20]],
        )
    frame = daily.set_axis(local).sort_index()
    if "rejected" in frame.columns:
        reason = frame["rejected"].map(lambda v: "" if v is None or v is pd.NA or v != v else str(v).strip())
    else:
        reason = pd.Series("", index=frame.index)
    keep = (reason == "").to_numpy()
    excluded = tuple((t.date(), r) for t, r in zip(frame.index[~keep], reason[~keep], strict=True))
    used = frame[keep]

    issues = []
    for col in needed:
        values = pd.to_numeric(used[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(~np.isfinite(values)):
            issues.append(Issue(f"{used.index[i].date()}: no finite value", column=col, value=str(used[col].iloc[i])))
    if issues:
        raise ValidationFailed(
            f"{what}: {len(issues)} missing or non-numeric value(s) on days not marked rejected "
            "(mark them in a 'rejected' column with the reason, or fix the data)",
            issues=issues,
        )
    days = pd.DatetimeIndex(used.index, name="day")
    if "working_day" in used.columns:
        wd = used["working_day"]
        if wd.isna().any() or not pd.api.types.is_bool_dtype(wd.dtype):
            raise ValidationFailed(f"{what}: column working_day must be True/False on every used day")
        working = wd.to_numpy(dtype=bool)
        fallback: tuple[int, ...] = ()
    else:
        working = np.array([is_working_day(t.date()) for t in days], dtype=bool)
        fallback = tuple(y for y in sorted({t.year for t in days}) if not _calendar_covers(y))
    energy = used["energy_kwh"].to_numpy(dtype=float) if need_energy else np.full(len(used), np.nan, dtype=float)
    return _Days(days, energy, used["temp_air_c"].to_numpy(dtype=float), working, excluded, fallback)


def _calendar_note(d: _Days) -> list[str]:
    if not d.fallback_years:
        return []
    years = ", ".join(str(y) for y in d.fallback_years)
    return [f"chinese_calendar does not cover {years}: Monday to Friday counted as working days there"]


# -- the baseline model ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Coefficient:
    """One fitted coefficient of a baseline model."""

    name: str  # base_load, working_day, heating, cooling
    value: float
    unit: str
    std_error: float  # standard error of the estimate, same unit
    meaning: str


@dataclass(frozen=True)
class BaselineModel:
    """A daily energy baseline fitted by ordinary least squares; see the module docstring for the model.

    Coefficients are in `coefficients`, in the order base_load [kWh/d], then working_day [kWh/d], heating and
    cooling [kWh/(K d)] when the model has them; the properties give them by name (0 for an absent term).
    """

    coefficients: tuple[Coefficient, ...]
    heating_balance_c: float | None  # [degC], None: no heating term
    cooling_balance_c: float | None  # [degC], None: no cooling term
    n_days: int
    n_parameters: int
    degrees_of_freedom: int
    r_squared: float
    adj_r_squared: float
    cv_rmse_pct: float  # [%]
    nmbe_pct: float  # [%]
    rmse_kwh: float  # [kWh]
    mean_energy_kwh: float  # mean measured daily energy of the baseline [kWh]
    residual_autocorrelation: float  # lag-1 autocorrelation of the residuals in date order [-]
    meets_ashrae_g14: bool
    criteria: str  # which acceptance limits were applied, with their source
    selection: str  # how the balance temperatures were chosen
    baseline_start: date
    baseline_end: date  # last day, inclusive
    temp_min_c: float  # coldest daily mean of the baseline [degC]
    temp_max_c: float  # warmest daily mean of the baseline [degC]
    excluded_days: tuple[tuple[date, str], ...] = ()
    notes: tuple[str, ...] = ()

    def coefficient(self, name: str) -> float:
        """Value of the coefficient `name` (base_load, working_day, heating, cooling); 0.0 if absent."""
        for c in self.coefficients:
            if c.name == name:
                return c.value
        if name in _UNITS:
            return 0.0
        raise KeyError(name)

    @property
    def base_load_kwh(self) -> float:
        """Daily use on a non-working day without heating or cooling [kWh/d]."""
        return self.coefficient(_BASE)

    @property
    def working_day_kwh(self) -> float:
        """Extra daily use on a working day [kWh/d]."""
        return self.coefficient(_WORK)

    @property
    def heating_kwh_per_kd(self) -> float:
        """Extra daily use per heating degree day [kWh/(K d)]; 0 without a heating term."""
        return self.coefficient(_HEAT)

    @property
    def cooling_kwh_per_kd(self) -> float:
        """Extra daily use per cooling degree day [kWh/(K d)]; 0 without a cooling term."""
        return self.coefficient(_COOL)

    def predict_kwh(self, daily: pd.DataFrame) -> pd.Series:
        """Daily energy the baseline predicts under the given days' conditions (the routine adjustment).

        Parameters
        ----------
        daily : pandas.DataFrame
            Days as `daily_frame` makes them; ``temp_air_c`` [degC] is needed, ``energy_kwh`` is not. Rows with a
            ``rejected`` reason are skipped.

        Returns
        -------
        pandas.Series
            Predicted energy per usable day [kWh], indexed by local midnight.
        """
        d = _checked_days(daily, "daily", need_energy=False)
        return pd.Series(self._predict(d.temp_air_c, d.working_day), index=d.days, name="predicted_kwh")

    def _predict(self, temp_air_c: np.ndarray, working_day: np.ndarray) -> np.ndarray:
        hdd, cdd = degree_days(temp_air_c, self.heating_balance_c, self.cooling_balance_c)
        return (
            self.base_load_kwh
            + self.working_day_kwh * working_day.astype(float)
            + self.heating_kwh_per_kd * hdd
            + self.cooling_kwh_per_kd * cdd
        )

    def as_rows(self) -> list[dict[str, Any]]:
        """The model as ``{"quantity", "value", "unit"}`` rows for a table or CSV."""
        rows: list[dict[str, Any]] = [
            {"quantity": f"coefficient {c.name}", "value": c.value, "unit": c.unit} for c in self.coefficients
        ]
        rows += [{"quantity": f"std error {c.name}", "value": c.std_error, "unit": c.unit} for c in self.coefficients]
        rows += [
            {"quantity": "heating balance temperature", "value": self.heating_balance_c, "unit": "degC"},
            {"quantity": "cooling balance temperature", "value": self.cooling_balance_c, "unit": "degC"},
            {"quantity": "baseline start", "value": self.baseline_start.isoformat(), "unit": "date"},
            {"quantity": "baseline end", "value": self.baseline_end.isoformat(), "unit": "date"},
            {"quantity": "days used (n)", "value": self.n_days, "unit": "d"},
            {"quantity": "parameters (p)", "value": self.n_parameters, "unit": "-"},
            {"quantity": "degrees of freedom (n - p)", "value": self.degrees_of_freedom, "unit": "-"},
            {"quantity": "R^2", "value": self.r_squared, "unit": "-"},
            {"quantity": "adjusted R^2", "value": self.adj_r_squared, "unit": "-"},
            {"quantity": "CV(RMSE)", "value": self.cv_rmse_pct, "unit": "%"},
            {"quantity": "NMBE", "value": self.nmbe_pct, "unit": "%"},
            {"quantity": "RMSE", "value": self.rmse_kwh, "unit": "kWh"},
            {"quantity": "mean daily energy", "value": self.mean_energy_kwh, "unit": "kWh"},
            {"quantity": "lag-1 residual autocorrelation", "value": self.residual_autocorrelation, "unit": "-"},
            {"quantity": "meets ASHRAE Guideline 14", "value": self.meets_ashrae_g14, "unit": "-"},
            {"quantity": "criteria", "value": self.criteria, "unit": ""},
            {"quantity": "selection", "value": self.selection, "unit": ""},
            {"quantity": "days excluded", "value": len(self.excluded_days), "unit": "d"},
        ]
        rows += [{"quantity": "note", "value": n, "unit": ""} for n in self.notes]
        return rows


@dataclass(frozen=True)
class _Fit:
    heating_c: float | None
    cooling_c: float | None
    names: tuple[str, ...]
    beta: np.ndarray
    predicted: np.ndarray
    ss_res: float

    @property
    def p(self) -> int:
        return len(self.names)


def _design(d: _Days, heating_c: float | None, cooling_c: float | None) -> tuple[np.ndarray, tuple[str, ...]]:
    hdd, cdd = degree_days(d.temp_air_c, heating_c, cooling_c)
    cols, names = [np.ones(len(d.days))], [_BASE]
    if _both_kinds_of_day(d.working_day):  # else the term would repeat the intercept
        cols.append(d.working_day.astype(float))
        names.append(_WORK)
    if heating_c is not None:
        cols.append(hdd)
        names.append(_HEAT)
    if cooling_c is not None:
        cols.append(cdd)
        names.append(_COOL)
    return np.column_stack(cols), tuple(names)


def _both_kinds_of_day(working_day: np.ndarray) -> bool:
    return bool(working_day.any()) and not bool(working_day.all())


def _ols(d: _Days, heating_c: float | None, cooling_c: float | None) -> _Fit:
    x, names = _design(d, heating_c, cooling_c)
    beta, *_ = np.linalg.lstsq(x, d.energy_kwh, rcond=None)
    predicted = x @ beta
    resid = d.energy_kwh - predicted
    return _Fit(heating_c, cooling_c, names, beta, predicted, float(resid @ resid))


def _enough_degree_days(dd_kd: np.ndarray) -> bool:
    """CalTRACK 3.2.2.2: at least 10 days with degree days and 20 degF d (11.1 K d) in all."""
    return int((dd_kd > 0).sum()) >= MIN_NONZERO_DEGREE_DAYS and float(dd_kd.sum()) >= MIN_TOTAL_DEGREE_DAYS_KD


def _qualifies(fit: _Fit) -> bool:
    """CalTRACK 3.4.3.2: positive base load and positive degree-day slopes."""
    by = dict(zip(fit.names, fit.beta, strict=True))
    return by[_BASE] > 0 and all(by[k] > 0 for k in (_HEAT, _COOL) if k in by)


def _grid_search(d: _Days, grid: Sequence[float]) -> tuple[_Fit, int]:
    heat_ok = [b for b in grid if _enough_degree_days(degree_days(d.temp_air_c, b, None)[0])]
    cool_ok = [b for b in grid if _enough_degree_days(degree_days(d.temp_air_c, None, b)[1])]
    candidates: list[tuple[float | None, float | None]] = [(None, None)]
    candidates += [(h, None) for h in heat_ok]
    candidates += [(None, c) for c in cool_ok]
    candidates += [(h, c) for h in heat_ok for c in cool_ok if c >= h]  # CalTRACK 3.2.2.1
    n = len(d.days)
    best: _Fit | None = None
    best_key = (math.inf, math.inf)
    qualified = 0
    for h, c in candidates:
        fit = _ols(d, h, c)
        if n - fit.p < 1 or ((h, c) != (None, None) and not _qualifies(fit)):
            continue
        qualified += 1
        key = (fit.ss_res / (n - fit.p), fit.p)  # lowest CV(RMSE) = highest adjusted R^2; ties: fewer terms
        if key < best_key:
            best, best_key = fit, key
    assert best is not None  # the no-weather candidate always qualifies
    return best, qualified


def _parse_balance(balance_c: float | tuple[float | None, float | None] | None) -> tuple[float | None, float | None]:
    if isinstance(balance_c, int | float):
        if not math.isfinite(balance_c):
            raise ValidationFailed(f"balance_c must be finite, not {balance_c}")
        return float(balance_c), float(balance_c)
    try:
        heating_c, cooling_c = balance_c  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"balance_c must be a temperature [degC] or a (heating_c, cooling_c) pair, not {balance_c!r}"
        ) from None
    out = []
    for name, v in (("heating", heating_c), ("cooling", cooling_c)):
        if v is not None and not (isinstance(v, int | float) and math.isfinite(v)):
            raise ValidationFailed(f"balance_c: the {name} balance temperature must be a finite number or None")
        out.append(None if v is None else float(v))
    if out[0] is not None and out[1] is not None and out[1] < out[0]:
        raise ValidationFailed(
            f"balance_c: the cooling balance temperature ({out[1]} degC) is below the heating one ({out[0]} degC)"
        )
    return out[0], out[1]


def baseline_model(
    daily: pd.DataFrame, *, balance_c: float | tuple[float | None, float | None] | None = None
) -> BaselineModel:
    """Fit a daily energy baseline on degree days and working days (CalTRACK 2.0 daily method, adapted).

    Parameters
    ----------
    daily : pandas.DataFrame
        Baseline days as `daily_frame` makes them: indexed by timezone-aware local midnight, columns
        ``energy_kwh`` [kWh] and ``temp_air_c`` [degC]; optional ``rejected`` (reason a day is not used) and
        ``working_day`` (bool, overrides the Chinese calendar).
    balance_c : float or (float or None, float or None), optional
        Balance temperatures [degC]. None (default): chosen by grid search over 10..24 degC as CalTRACK does
        (module docstring). A pair ``(heating_c, cooling_c)`` fits that model, None dropping the term; a single
        number uses it for both terms.

    Returns
    -------
    BaselineModel
        Coefficients with units and standard errors, R^2, CV(RMSE) [%], NMBE [%], n, p, n - p, the lag-1
        autocorrelation of the residuals, and whether the fit meets the Guideline 14 limits (`G14_CRITERIA`).

    Raises
    ------
    ValidationFailed
        Fewer than 60 usable days; more than 10 % of the baseline's days missing or rejected; NaN on a day
        not marked rejected; naive timestamps; days not at local midnight; bad `balance_c`.
    """
    d = _checked_days(daily, "baseline")
    n = len(d.days)
    if n < MIN_BASELINE_DAYS:
        raise ValidationFailed(
            f"baseline has {n} usable day(s); at least {MIN_BASELINE_DAYS} are needed, and a full year to cover "
            "the full range of temperatures the reporting period will see",
            issues=[Issue(f"{day}: {why}", column="rejected") for day, why in d.excluded[:20]],
        )
    first, last = d.days[0].date(), d.days[-1].date()
    span = (last - first).days + 1
    missing = span - n
    if missing > MAX_MISSING_DAY_SHARE * span:
        raise ValidationFailed(
            f"baseline {first} to {last}: {missing} of {span} days ({100 * missing / span:.0f} %) are missing or "
            "rejected; at most 10 % may be (CalTRACK 2.2.1.2)",
            issues=[Issue(f"{day}: {why}", column="rejected") for day, why in d.excluded[:20]],
        )

    notes = _calendar_note(d)
    if not _both_kinds_of_day(d.working_day):
        kind = "working" if d.working_day.all() else "non-working"
        notes.append(f"every baseline day is a {kind} day: the model has no working-day term")
    if balance_c is None:
        fit, qualified = _grid_search(d, BALANCE_GRID_C)
        selection = (
            f"grid search over balance temperatures {BALANCE_GRID_C[0]:g}..{BALANCE_GRID_C[-1]:g} degC in 1 K "
            f"steps; {qualified} qualified candidate(s) (positive coefficients, CalTRACK 3.2.2.2 degree-day "
            "sufficiency); lowest CV(RMSE) = highest adjusted R^2 chosen"
        )
        edge = [
            f"{name} balance temperature {t:g} degC is at the edge of the search grid"
            for name, t in (("heating", fit.heating_c), ("cooling", fit.cooling_c))
            if t is not None and t in (BALANCE_GRID_C[0], BALANCE_GRID_C[-1])
        ]
        notes += edge
    else:
        heating_c, cooling_c = _parse_balance(balance_c)
        fit = _ols(d, heating_c, cooling_c)
        if n - fit.p < 1:
            raise ValidationFailed(f"baseline has {n} days for {fit.p} parameters")
        selection = "balance temperatures given by the caller"
        notes += [
            f"{name} slope is not positive ({b:.3g} {_UNITS[name]}): physically implausible"
            for name, b in zip(fit.names, fit.beta, strict=True)
            if name in (_HEAT, _COOL) and b <= 0
        ]
    if span < 365:
        notes.append(
            f"baseline covers {span} days, less than a year: reporting days colder or warmer than "
            f"{d.temp_air_c.min():.1f}..{d.temp_air_c.max():.1f} degC are outside the model's range"
        )

    st = fit_statistics(d.energy_kwh, fit.predicted, fit.p)
    x, _ = _design(d, fit.heating_c, fit.cooling_c)
    mse = fit.ss_res / (n - fit.p)
    cov = mse * np.linalg.pinv(x.T @ x)
    std_err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    coefficients = tuple(
        Coefficient(name, float(b), _UNITS[name], float(se), _MEANINGS[name])
        for name, b, se in zip(fit.names, fit.beta, std_err, strict=True)
    )
    resid = d.energy_kwh - fit.predicted
    denom = float(resid @ resid)
    rho = float(resid[1:] @ resid[:-1]) / denom if denom > 0 else 0.0
    meets = st.cv_rmse_pct <= g14_cv_rmse_limit_pct() and abs(st.nmbe_pct) <= G14_NMBE_LIMIT_PCT
    return BaselineModel(
        coefficients=coefficients,
        heating_balance_c=fit.heating_c,
        cooling_balance_c=fit.cooling_c,
        n_days=n,
        n_parameters=fit.p,
        degrees_of_freedom=n - fit.p,
        r_squared=st.r_squared,
        adj_r_squared=st.adj_r_squared,
        cv_rmse_pct=st.cv_rmse_pct,
        nmbe_pct=st.nmbe_pct,
        rmse_kwh=st.rmse_kwh,
        mean_energy_kwh=st.mean_kwh,
        residual_autocorrelation=rho,
        meets_ashrae_g14=meets,
        criteria=G14_CRITERIA,
        selection=selection,
        baseline_start=first,
        baseline_end=last,
        temp_min_c=float(d.temp_air_c.min()),
        temp_max_c=float(d.temp_air_c.max()),
        excluded_days=d.excluded,
        notes=tuple(notes),
    )


# -- savings ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NonRoutineAdjustment:
    """A non-routine adjustment: energy added to the adjusted baseline for a change the model does not know.

    Positive `energy_kwh` raises the adjusted baseline (e.g. a production line added after the baseline, whose
    use would otherwise hide savings); negative lowers it (e.g. a hall closed). Days are park-local, inclusive.
    """

    start: date
    end: date
    energy_kwh: float  # total over [start, end] [kWh]
    note: str = ""


@dataclass(frozen=True)
class SavingsReport:
    """Avoided energy over a reporting period (IPMVP: adjusted baseline - reporting-period use), with its
    ASHRAE Guideline 14 uncertainty. Energies in kWh over the days used."""

    reporting_start: date
    reporting_end: date  # last day, inclusive
    n_days: int  # reporting days used (m)
    routine_baseline_kwh: float  # baseline model applied to the reporting days' conditions
    non_routine_kwh: float  # sum of the non-routine adjustments
    adjusted_baseline_kwh: float  # routine + non-routine
    measured_kwh: float
    savings_kwh: float  # adjusted baseline - measured
    savings_pct: float  # of the adjusted baseline [%]
    confidence: float  # two-sided confidence level of the interval [-]
    uncertainty_kwh: float  # half-width of the interval: savings_kwh +- uncertainty_kwh
    fractional_uncertainty_pct: float  # uncertainty / |savings| [%]
    significant: bool  # False when the interval contains 0 kWh
    t_value: float
    n_effective: float  # n' = n (1 - rho) / (1 + rho)
    residual_autocorrelation: float  # rho of the baseline residuals
    baseline_cv_rmse_pct: float
    cv_rmse_limit_pct: float  # Guideline 14 limit for this reporting length
    meets_g14_model: bool  # baseline CV(RMSE) and NMBE within the limits for this reporting length
    meets_g14_uncertainty: bool  # uncertainty at 68 % below 50 % of the savings
    non_routine: tuple[NonRoutineAdjustment, ...] = ()
    excluded_days: tuple[tuple[date, str], ...] = ()
    notes: tuple[str, ...] = ()
    daily: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def lower_kwh(self) -> float:
        """Lower end of the savings interval [kWh]."""
        return self.savings_kwh - self.uncertainty_kwh

    @property
    def upper_kwh(self) -> float:
        """Upper end of the savings interval [kWh]."""
        return self.savings_kwh + self.uncertainty_kwh

    def as_rows(self) -> list[dict[str, Any]]:
        """The report as ``{"quantity", "value", "unit"}`` rows for a table or CSV."""
        pct = f"{100 * self.confidence:g} %"
        rows: list[dict[str, Any]] = [
            {"quantity": "reporting start", "value": self.reporting_start.isoformat(), "unit": "date"},
            {"quantity": "reporting end", "value": self.reporting_end.isoformat(), "unit": "date"},
            {"quantity": "days used (m)", "value": self.n_days, "unit": "d"},
            {"quantity": "routine-adjusted baseline", "value": self.routine_baseline_kwh, "unit": "kWh"},
            {"quantity": "non-routine adjustments", "value": self.non_routine_kwh, "unit": "kWh"},
            {"quantity": "adjusted baseline", "value": self.adjusted_baseline_kwh, "unit": "kWh"},
            {"quantity": "measured", "value": self.measured_kwh, "unit": "kWh"},
            {"quantity": "savings (avoided energy)", "value": self.savings_kwh, "unit": "kWh"},
            {"quantity": "savings", "value": self.savings_pct, "unit": "%"},
            {"quantity": f"uncertainty (+-, {pct} confidence)", "value": self.uncertainty_kwh, "unit": "kWh"},
            {"quantity": f"savings lower bound ({pct})", "value": self.lower_kwh, "unit": "kWh"},
            {"quantity": f"savings upper bound ({pct})", "value": self.upper_kwh, "unit": "kWh"},
            {"quantity": "fractional savings uncertainty", "value": self.fractional_uncertainty_pct, "unit": "%"},
            {"quantity": "statistically significant", "value": self.significant, "unit": "-"},
            {"quantity": "t statistic", "value": self.t_value, "unit": "-"},
            {"quantity": "effective baseline days (n')", "value": self.n_effective, "unit": "d"},
            {"quantity": "lag-1 residual autocorrelation", "value": self.residual_autocorrelation, "unit": "-"},
            {"quantity": "baseline CV(RMSE)", "value": self.baseline_cv_rmse_pct, "unit": "%"},
            {"quantity": "Guideline 14 CV(RMSE) limit", "value": self.cv_rmse_limit_pct, "unit": "%"},
            {"quantity": "meets Guideline 14 model criteria", "value": self.meets_g14_model, "unit": "-"},
            {
                "quantity": "meets Guideline 14 uncertainty (50 % at 68 %)",
                "value": self.meets_g14_uncertainty,
                "unit": "-",
            },
            {"quantity": "days excluded", "value": len(self.excluded_days), "unit": "d"},
        ]
        rows += [
            {
                "quantity": f"non-routine adjustment {a.start.isoformat()}..{a.end.isoformat()}"
                + (f": {a.note}" if a.note else ""),
                "value": a.energy_kwh,
                "unit": "kWh",
            }
            for a in self.non_routine
        ]
        rows += [{"quantity": "note", "value": n, "unit": ""} for n in self.notes]
        return rows


def _adjustments(
    items: Iterable[NonRoutineAdjustment | Sequence[Any]] | None, first: date, last: date
) -> tuple[NonRoutineAdjustment, ...]:
    out = []
    for i, item in enumerate(items or ()):
        if isinstance(item, NonRoutineAdjustment):
            adj = item
        else:
            parts = list(item)
            if len(parts) not in (3, 4):
                raise ValidationFailed(
                    f"non_routine[{i}] must be (start, end, kWh) or (start, end, kWh, note), not {item!r}"
                )
            start, end = _as_date(parts[0], f"non_routine[{i}] start"), _as_date(parts[1], f"non_routine[{i}] end")
            try:
                energy = float(parts[2])
            except (TypeError, ValueError):
                raise ValidationFailed(f"non_routine[{i}]: energy {parts[2]!r} is not a number [kWh]") from None
            adj = NonRoutineAdjustment(start, end, energy, str(parts[3]) if len(parts) == 4 else "")
        if not math.isfinite(adj.energy_kwh):
            raise ValidationFailed(f"non_routine[{i}]: energy must be finite, not {adj.energy_kwh}")
        if adj.end < adj.start:
            raise ValidationFailed(f"non_routine[{i}]: end {adj.end} is before start {adj.start}")
        if adj.start < first or adj.end > last:
            raise ValidationFailed(
                f"non_routine[{i}] ({adj.start}..{adj.end}) lies outside the reporting period {first}..{last}"
            )
        out.append(adj)
    return tuple(out)


def savings(
    model: BaselineModel,
    reporting: pd.DataFrame,
    confidence: float = 0.9,
    *,
    non_routine: Iterable[NonRoutineAdjustment | Sequence[Any]] | None = None,
) -> SavingsReport:
    """Avoided energy over a reporting period and its ASHRAE Guideline 14 uncertainty.

    Parameters
    ----------
    model : BaselineModel
        Baseline fitted by `baseline_model`.
    reporting : pandas.DataFrame
        Reporting days as `daily_frame` makes them (``energy_kwh`` [kWh] measured, ``temp_air_c`` [degC]); days
        with a ``rejected`` reason are left out (CalTRACK 3.5) and listed in the report.
    confidence : float, default 0.9
        Two-sided confidence level of the savings interval, in (0, 1).
    non_routine : iterable, optional
        Non-routine adjustments, each a `NonRoutineAdjustment` or ``(start, end, kWh)`` / ``(start, end, kWh,
        note)`` with park-local inclusive dates inside the reporting period; the kWh are added to the adjusted
        baseline. Their own uncertainty is not part of `uncertainty_kwh`.

    Returns
    -------
    SavingsReport
        Adjusted baseline, measured use, savings [kWh] and [%], the +- uncertainty [kWh] at `confidence`
        (module docstring), whether the savings differ from zero, and per-day values in ``daily``.

    Raises
    ------
    ValidationFailed
        Reporting days inside the baseline period; more than 10 % of the reporting days colder or warmer than
        every baseline day (the baseline does not cover the full range of temperatures); NaN on a day not marked
        rejected; naive timestamps; no usable day; bad confidence or adjustments; residuals so autocorrelated
        that n' - p < 1.
    """
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise ValidationFailed(f"confidence must be between 0 and 1 (e.g. 0.9), not {confidence!r}")
    d = _checked_days(reporting, "reporting")
    m = len(d.days)
    if m == 0:
        raise ValidationFailed(
            "reporting period has no usable day",
            issues=[Issue(f"{day}: {why}", column="rejected") for day, why in d.excluded[:20]],
        )
    dates = [t.date() for t in d.days]
    overlap = [day for day in dates if model.baseline_start <= day <= model.baseline_end]
    if overlap:
        raise ValidationFailed(
            f"reporting period overlaps the baseline ({model.baseline_start}..{model.baseline_end}) "
            f"on {len(overlap)} day(s); savings need days after the baseline",
            issues=[Issue(f"{day}: inside the baseline period") for day in overlap[:20]],
        )
    outside = np.flatnonzero((d.temp_air_c < model.temp_min_c) | (d.temp_air_c > model.temp_max_c))
    notes = _calendar_note(d)
    if len(outside) > MAX_OUT_OF_RANGE_SHARE * m:
        raise ValidationFailed(
            f"the baseline does not cover the full range of temperatures: {len(outside)} of {m} reporting days "
            f"lie outside its {model.temp_min_c:.1f}..{model.temp_max_c:.1f} degC; use a baseline of a full year",
            issues=[
                Issue(f"{dates[i]}: {d.temp_air_c[i]:.1f} degC outside the baseline range", column="temp_air_c")
                for i in outside[:20]
            ],
        )
    if len(outside):
        notes.append(
            f"{len(outside)} reporting day(s) lie outside the baseline temperatures "
            f"{model.temp_min_c:.1f}..{model.temp_max_c:.1f} degC: the model extrapolates there"
        )
    if _WORK not in {c.name for c in model.coefficients} and _both_kinds_of_day(d.working_day):
        notes.append("the baseline saw one kind of day only: working and non-working days are predicted alike")
    first, last = dates[0], dates[-1]
    adjustments = _adjustments(non_routine, first, last)

    predicted = model._predict(d.temp_air_c, d.working_day)
    routine = float(predicted.sum())
    nra = float(sum(a.energy_kwh for a in adjustments))
    adjusted = routine + nra
    measured = float(d.energy_kwh.sum())
    saved = adjusted - measured
    if adjustments:
        notes.append(
            f"{len(adjustments)} non-routine adjustment(s), {nra:+.1f} kWh in all, added to the adjusted baseline; "
            "their own uncertainty is not in the savings uncertainty"
        )

    # Guideline 14 Annex B fractional savings uncertainty with the autocorrelation correction
    n, p = model.n_days, model.n_parameters
    rho = max(model.residual_autocorrelation, 0.0)
    n_eff = n * (1 - rho) / (1 + rho)
    if n_eff - p < 1:
        raise ValidationFailed(
            f"baseline residuals are strongly autocorrelated (rho = {rho:.2f}): n' = {n_eff:.1f} effective days "
            f"leaves no degrees of freedom for {p} parameters; the model misses a driver of the daily use"
        )
    cv = model.cv_rmse_pct / 100

    def half_width(level: float) -> tuple[float, float]:
        t = float(stats.t.ppf(0.5 + level / 2, n_eff - p))
        return t, G14_FSU_FACTOR * t * cv * routine * math.sqrt((n / n_eff) * (1 + 2 / n_eff) / m)

    t_value, uncertainty = half_width(confidence)
    _, uncertainty_68 = half_width(G14_FSU_CONFIDENCE)
    fsu = 100 * uncertainty / abs(saved) if saved != 0 else math.inf
    months = ((last - first).days + 1) / _DAYS_PER_MONTH
    cv_limit = g14_cv_rmse_limit_pct(months)
    daily = pd.DataFrame(
        {
            "adjusted_baseline_kwh": predicted,
            "measured_kwh": d.energy_kwh,
            "savings_kwh": predicted - d.energy_kwh,
            "temp_air_c": d.temp_air_c,
            "working_day": d.working_day,
        },
        index=d.days,
    )
    return SavingsReport(
        reporting_start=first,
        reporting_end=last,
        n_days=m,
        routine_baseline_kwh=routine,
        non_routine_kwh=nra,
        adjusted_baseline_kwh=adjusted,
        measured_kwh=measured,
        savings_kwh=saved,
        savings_pct=100 * saved / adjusted if adjusted else math.nan,
        confidence=float(confidence),
        uncertainty_kwh=uncertainty,
        fractional_uncertainty_pct=fsu,
        significant=abs(saved) > uncertainty,
        t_value=t_value,
        n_effective=n_eff,
        residual_autocorrelation=model.residual_autocorrelation,
        baseline_cv_rmse_pct=model.cv_rmse_pct,
        cv_rmse_limit_pct=cv_limit,
        meets_g14_model=model.cv_rmse_pct <= cv_limit and abs(model.nmbe_pct) <= G14_NMBE_LIMIT_PCT,
        meets_g14_uncertainty=saved != 0 and uncertainty_68 < G14_FSU_LIMIT * abs(saved),
        non_routine=adjustments,
        excluded_days=d.excluded,
        notes=tuple(notes),
        daily=daily,
    )
