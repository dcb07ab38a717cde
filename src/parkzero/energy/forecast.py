"""Day-ahead and intraday forecasts of the park's load and PV for the optimiser, with their skill against baselines.

Data are mean power per 15-minute interval [kW] on a time-zone aware index of interval STARTS; a forecast covers
one local day of the park (96 intervals, Asia/Shanghai unless told otherwise) and uses only what was metered
before the day's start.

Baselines (pure functions)
--------------------------
- `persistence`: the same interval of the previous day.
- `similar_day`: the same interval of the latest earlier day of the same kind (working day or rest day in the
  Chinese calendar, holidays and adjusted working weekends 调休 included); the same weekday a week earlier is
  taken when it is of the same kind.

Models (LightGBM gradient boosting, `lightgbm.train`, L2 loss)
--------------------------------------------------------------
- `LoadForecaster` learns the day's load relative to its recent level: target and lags are divided by the mean
  absolute load of the days of the same kind in the 14 days before the day (the 7 days before if there are none)
  [kW], so a level change scales the forecast instead of leaving it outside the range the trees saw, and a long
  holiday does not pull down the level of the working days after it. Features: the interval's slot (0-95) and
  `calendar_features` (the weekday only on working days, -1 on rest days, so that a worked weekend day 调休 is
  learnt as a working day), whether yesterday was a working day, the same interval yesterday, 7 days earlier and
  on the similar day, the interval's mean over the last 7 days and over the days of the same kind in the last 14
  days, yesterday's mean, and (when a weather forecast is given) the forecast air temperature of the interval and
  the day's mean [degC].
- `PvForecaster` learns the clearness ``k = PV / PV_clear`` with ``PV_clear = kWp x GHI_clear / 1000`` [kW],
  GHI_clear from pvlib's Ineichen-Perez clear-sky model (``Location.get_clearsky``, Linke turbidity climatology)
  at the interval midpoint. Without a weather forecast (the honest case of a park without an NWP feed) it only
  sees history: yesterday's daily clearness, the mean daily clearness of the last 3 and 14 days, yesterday's
  clearness in its last 3 daylight hours and at the same interval (+/- 30 min), the interval's mean clearness over
  7 days, time of day and GHI_clear (which carries the season; the day of year is left out, as with a few months
  of history the trees would learn single days from it). Its trees are kept coarse (leaves of >= 800 rows, 5
  leaves) since most of these features hold one value per day. With a weather forecast it also sees the forecast
  GHI and its clear-sky index.
  Intervals whose midpoint has the sun below the horizon (GHI_clear = 0) are night and forecast as exactly 0.

Training (`fit`) holds out the last 20 % of the days (at least 7) to choose the number of boosting rounds (early
stopping) and the intraday time constant, then retrains on everything. If the weather is given to `fit`, a
history-only model is trained as well, and `day_ahead` uses the weather model only when it gets a forecast.

Intraday correction
-------------------
``f(t) = f_da(t) + e x exp(-(t - issue_time) / tau)``, where ``e`` is the mean error (metered - day-ahead) of the
last `INTRADAY_WINDOW_H` hours before the issue time (for PV, the clearness error over the daylight intervals of
that window, scaled by PV_clear(t)). ``tau`` [h] is the candidate of `TIME_CONSTANTS_H` that minimised the
corrected error on the held-out days of `fit`; `DEFAULT_TIME_CONSTANT_H` when there were too few days to hold out.

Measured skill (``1 - RMSE / RMSE_baseline``, `evaluate`) on synthetic data from the demo's Shanghai weather
(seed 42; the load of tests/energy/test_forecast.py, PV = 500 kWp x GHI / 1000 x 0.85), trained on 2024 and
scored day-ahead on the 365 days of 2025: load +0.84 against persistence and +0.27 against the similar day
(intraday from 06:00/12:00/18:00: +0.15 against the day-ahead); PV without a weather forecast +0.13 against
persistence (+0.03 to +0.14 over other seeds and shorter trainings: little to gain without an NWP feed), intraday
+0.26 against the day-ahead.

Bad input raises `parkzero.errors.ValidationFailed` naming the series, the timestamp and why: naive timestamps,
timestamps off the 15-minute grid, duplicates, a coarser step, fewer than `MIN_HISTORY_DAYS` days, more than
`MAX_MISSING_SHARE` of the intervals missing in `fit`. Fewer gaps are tolerated: training skips the missing
targets, and lags are filled from the latest earlier day of the same kind (PV: any earlier day) and flagged
(``Series.attrs["filled_intervals"]`` and the forecaster's ``gaps_``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
import lightgbm as lgb
import numpy as np
import pandas as pd
import pvlib

from parkzero.errors import Issue, ValidationFailed

__all__ = [
    "STEPS_PER_DAY",
    "MIN_HISTORY_DAYS",
    "MAX_MISSING_SHARE",
    "INTRADAY_WINDOW_H",
    "DEFAULT_TIME_CONSTANT_H",
    "Gaps",
    "calendar_features",
    "persistence",
    "similar_day",
    "skill",
    "LoadForecaster",
    "PvForecaster",
    "ForecastReport",
    "evaluate",
]

PARK_TZ = "Asia/Shanghai"
STEP = pd.Timedelta(minutes=15)
STEP_NS = STEP.value
STEP_H = 0.25
STEPS_PER_DAY = 96
DAY = pd.Timedelta(days=1)
MIN_HISTORY_DAYS = 14  # [d] less history than this is refused
MAX_MISSING_SHARE = 0.10  # `fit` refuses a history with more of its intervals missing
LAG_DAYS = 7  # [d] days before a day that its features read (lag 7 d, 7-day level)
LOOKBACK_DAYS = 35  # [d] days `day_ahead` and `similar_day` read: lags, the similar day across long holidays
KIND_DAYS = 14  # [d] window of the same-kind mean profile
INTRADAY_WINDOW_H = 1.0  # [h] window of the recent error the intraday correction starts from
DEFAULT_TIME_CONSTANT_H = 3.0  # [h] decay of the intraday correction when `fit` could not choose one
TIME_CONSTANTS_H = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 24.0)  # [h] candidates `fit` chooses from
INTRADAY_ISSUE_HOURS = (6, 12, 18)  # [h] issue times `evaluate(kind="intraday")` scores (local time)
MIN_CLEAR_SKY_GHI_W_M2 = 50.0  # [W/m2] PV clearness is learnt and corrected where clear-sky GHI reaches this
MAX_CLEARNESS = 1.5  # PV clearness is clipped to [0, MAX_CLEARNESS] (cloud enhancement stays possible)
VALIDATION_SHARE = 0.2
MIN_VALIDATION_DAYS = 7
MIN_TRAINING_DAYS = 14  # [d] feature days below which no days are held out (fixed rounds, default tau)

CALENDAR_COLUMNS = ["hour_sin", "hour_cos", "day_of_week", "working_day", "doy_sin", "doy_cos"]
LOAD_FEATURES = [
    "slot",
    "hour_sin",
    "hour_cos",
    "working_weekday",
    "working_day",
    "doy_sin",
    "doy_cos",
    "working_day_yesterday",
    "lag_1d",
    "lag_7d",
    "lag_similar_day",
    "mean_7d_slot",
    "mean_same_kind_slot",
    "mean_1d",
    "similar_day_age_d",
]
LOAD_WEATHER_FEATURES = ["temp_air_c", "temp_day_mean_c"]
PV_FEATURES = [
    "slot",
    "hour_sin",
    "hour_cos",
    "clear_sky_ghi_kw_m2",
    "clearness_1d",
    "clearness_3d",
    "clearness_14d",
    "clearness_1d_late",
    "clearness_1d_slot",
    "clearness_7d_slot",
]
PV_WEATHER_FEATURES = ["ghi_kw_m2", "ghi_clear_sky_index"]

LGB_PARAMS: dict[str, Any] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 20250101,
    "deterministic": True,
    "force_col_wise": True,
    "verbosity": -1,
    "num_threads": 1,  # small data: one thread is as fast, deterministic, and never spins against other work
}
MAX_ROUNDS = 800
MIN_ROUNDS = 100
DEFAULT_ROUNDS = 300
EARLY_STOPPING_ROUNDS = 50


# -- calendar ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _is_workday(day: dt.date) -> bool:
    """Working day in mainland China (holidays and 调休 included); Monday-Friday for years the package lacks."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def _working_days(first: dt.date, n_days: int) -> np.ndarray:
    """Working-day flags of `n_days` consecutive dates from `first`."""
    return np.fromiter((_is_workday(first + dt.timedelta(days=i)) for i in range(n_days)), bool, n_days)


def calendar_features(index: pd.DatetimeIndex, tz: str = PARK_TZ) -> pd.DataFrame:
    """Calendar features of interval starts, in the park's local time.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Time-zone aware interval starts.
    tz : str
        The park's time zone; hours, weekdays and dates are local to it.

    Returns
    -------
    pandas.DataFrame
        On `index`: ``hour_sin``, ``hour_cos`` (local time of day on the unit circle, period 24 h),
        ``day_of_week`` (0 Monday ... 6 Sunday), ``working_day`` (1.0 on Chinese working days including adjusted
        working weekends 调休, 0.0 on weekends and public holidays; Monday-Friday in years `chinese_calendar`
        does not cover), ``doy_sin``, ``doy_cos`` (day of year on the unit circle, period 365.25 d).
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ValidationFailed(f"calendar_features needs a DatetimeIndex, not {type(index).__name__}")
    if index.tz is None:
        raise _naive("index", index)
    zone = _zone(tz)
    local = index.tz_convert(zone)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0 + local.second.to_numpy() / 3600.0
    midnights, inverse = np.unique(local.normalize().as_unit("ns").asi8, return_inverse=True)
    working = np.array([_is_workday(pd.Timestamp(v, tz="UTC").tz_convert(zone).date()) for v in midnights], float)
    doy = local.day_of_year.to_numpy()
    return pd.DataFrame(
        {
            "hour_sin": np.sin(2 * np.pi * hour / 24.0),
            "hour_cos": np.cos(2 * np.pi * hour / 24.0),
            "day_of_week": local.day_of_week.to_numpy().astype(float),
            "working_day": working[inverse] if len(index) else np.zeros(0),
            "doy_sin": np.sin(2 * np.pi * doy / 365.25),
            "doy_cos": np.cos(2 * np.pi * doy / 365.25),
        },
        index=index,
    )


# -- validation -------------------------------------------------------------------------------------------------


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationFailed(f"unknown time zone {tz!r}", issues=[Issue(f"unknown time zone {tz!r}")]) from None


def _fixed_offset_zone(tz: str) -> ZoneInfo:
    """The park's zone; days of 96 intervals need a zone without daylight saving time (as Asia/Shanghai)."""
    zone = _zone(tz)
    offsets = {zone.utcoffset(dt.datetime(year, month, 1)) for year in (2020, 2025, 2030) for month in (1, 7)}
    if len(offsets) > 1:
        raise ValidationFailed(
            f"time zone {tz!r} has daylight saving time: the forecasters work on local days of 96 intervals",
            issues=[Issue("daylight saving time: days of 92 or 100 intervals are not supported", value=tz)],
        )
    return zone


def _naive(name: str, index: pd.DatetimeIndex) -> ValidationFailed:
    first = str(index[0]) if len(index) else "(empty)"
    return ValidationFailed(
        f"{name} has naive timestamps (first {first}): give them a time zone, e.g. .tz_localize('Asia/Shanghai')",
        issues=[Issue("timestamp without time zone", column=name, value=first)],
    )


def _series(values: Any, name: str) -> pd.Series:
    """`values` as a float Series on a tz-aware DatetimeIndex (not yet checked for regularity)."""
    if not isinstance(values, pd.Series):
        raise ValidationFailed(f"{name} must be a pandas Series of kW on a DatetimeIndex, not {type(values).__name__}")
    if not isinstance(values.index, pd.DatetimeIndex):
        raise ValidationFailed(
            f"{name} must have a DatetimeIndex of interval starts, not {type(values.index).__name__}",
            issues=[Issue("index is not a DatetimeIndex", column=name)],
        )
    if values.index.tz is None:
        raise _naive(name, values.index)
    if not (pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)):
        raise ValidationFailed(
            f"{name} must hold numbers [kW], not {values.dtype}", issues=[Issue("not numeric", column=name)]
        )
    return values


def _check_regular(index: pd.DatetimeIndex, name: str) -> None:
    """Raise unless `index` is strictly increasing on the 15-minute grid (gaps are allowed)."""
    ns = index.as_unit("ns").asi8
    if len(ns) > 1:
        step = np.diff(ns)
        bad = np.flatnonzero(step <= 0)
        if bad.size:
            at = index[bad[0] + 1]
            reason = "duplicate timestamp" if step[bad[0]] == 0 else "timestamp earlier than the one before it"
            raise ValidationFailed(
                f"{name} has an irregular index: {reason} at {at} ({bad.size} such place(s))",
                issues=[Issue(reason, column=name, value=str(at))],
            )
    off = np.flatnonzero(ns % STEP_NS)
    if off.size:
        at = index[off[0]]
        raise ValidationFailed(
            f"{name} has an irregular index: {off.size} timestamp(s) off the 15-minute grid, first {at}; "
            "the forecasters need mean kW per 15-minute interval labelled by interval start",
            issues=[Issue("timestamp off the 15-minute grid", column=name, value=str(at))],
        )
    if len(ns) > 2:
        typical = pd.Timedelta(int(np.median(np.diff(ns))), "ns")
        if typical > STEP:
            raise ValidationFailed(
                f"{name} has a step of {typical} (median): the forecasters need mean kW per 15-minute interval",
                issues=[Issue(f"step {typical}, not 15 minutes", column=name, value=str(index[0]))],
            )


def _monotonic(series: pd.Series, name: str) -> None:
    if not series.index.is_monotonic_increasing:
        _check_regular(series.index, name)  # names the first place out of order


def _as_date(day: Any) -> dt.date:
    if isinstance(day, str):
        try:
            return dt.date.fromisoformat(day[:10])
        except ValueError:
            raise ValidationFailed(f"day {day!r} is not an ISO date (YYYY-MM-DD)") from None
    if isinstance(day, dt.datetime):  # pandas.Timestamp included: its own (local) calendar date
        return day.date()
    if isinstance(day, dt.date):
        return day
    raise ValidationFailed(f"day must be a datetime.date, not {type(day).__name__}")


def _aware(ts: Any, name: str) -> pd.Timestamp:
    try:
        out = pd.Timestamp(ts)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} {ts!r} is not a timestamp") from None
    if out.tz is None:
        raise ValidationFailed(
            f"{name} {out} is naive: give it a time zone", issues=[Issue("timestamp without time zone", value=str(out))]
        )
    return out


# -- days as a matrix -------------------------------------------------------------------------------------------


def _day_start(day: dt.date, zone: ZoneInfo) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, day.day).tz_localize(zone)


def _day_index(day: dt.date, zone: ZoneInfo) -> pd.DatetimeIndex:
    return pd.date_range(_day_start(day, zone), periods=STEPS_PER_DAY, freq=STEP, name="ts_start")


def _to_matrix(series: pd.Series, start: pd.Timestamp, n_days: int) -> np.ndarray:
    """Values on the grid of `n_days` local days from `start`: (n_days, 96) [series unit], NaN where missing."""
    flat = np.full(n_days * STEPS_PER_DAY, np.nan)
    pos = (series.index.as_unit("ns").asi8 - start.value) // STEP_NS
    keep = (pos >= 0) & (pos < flat.size)
    values = series.to_numpy(dtype=float, na_value=np.nan)[keep]
    flat[pos[keep]] = np.where(np.isfinite(values), values, np.nan)
    return flat.reshape(n_days, STEPS_PER_DAY)


@dataclass(frozen=True)
class Gaps:
    """Missing intervals of a series: how many and where.

    Attributes
    ----------
    series : str
        Name of the series.
    missing : int
        Missing or NaN intervals between the first and the last timestamp looked at.
    total : int
        Intervals between the first and the last timestamp looked at.
    ranges : tuple of (pandas.Timestamp, pandas.Timestamp)
        First and last interval start of each run of missing intervals.
    """

    series: str
    missing: int = 0
    total: int = 0
    ranges: tuple[tuple[pd.Timestamp, pd.Timestamp], ...] = ()

    @property
    def share(self) -> float:
        """Missing share of the intervals [-]."""
        return self.missing / self.total if self.total else 0.0

    def describe(self, limit: int = 5) -> list[str]:
        """The runs of missing intervals, one line each (the first `limit`)."""
        out = []
        for first, last in self.ranges[:limit]:
            n = int((last - first) / STEP) + 1
            out.append(f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} ({n} interval{'s' * (n > 1)})")
        if len(self.ranges) > limit:
            out.append(f"... and {len(self.ranges) - limit} more run(s)")
        return out

    def __str__(self) -> str:
        if not self.missing:
            return f"{self.series}: no missing intervals"
        head = f"{self.series}: {self.missing:,} of {self.total:,} intervals missing ({100 * self.share:.1f} %)"
        return head + ": " + "; ".join(self.describe())

    def issues(self) -> list[Issue]:
        return [Issue("missing or NaN", column=self.series, value=line) for line in self.describe(limit=20)]


def _gaps(matrix: np.ndarray, start: pd.Timestamp, lo: int, hi: int, name: str) -> Gaps:
    """Runs of NaN in the flattened `matrix` between flat positions [lo, hi)."""
    missing = np.isnan(matrix.reshape(-1)[lo:hi])
    if not missing.any():
        return Gaps(name, 0, max(hi - lo, 0))
    edges = np.diff(np.r_[0, missing.astype(np.int8), 0])
    firsts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    ranges = tuple((start + (lo + a) * STEP, start + (lo + b - 1) * STEP) for a, b in zip(firsts, ends, strict=True))
    return Gaps(name, int(missing.sum()), hi - lo, ranges)


def _fill_from_earlier(matrix: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Fill NaN from the same interval of the latest earlier day of the same kind, then of any kind.

    What is still missing (the start of a history) is taken from the next later day of the same kind, then of
    any kind, then the interval's mean, then 0.
    """
    out = matrix.copy()
    n = len(out)
    rows = np.flatnonzero(np.isnan(out).any(axis=1))
    for d in rows:
        hole = np.isnan(out[d])
        for order in (range(d - 1, -1, -1), range(d + 1, n)):
            for same_kind in (True, False):
                for j in order:
                    if same_kind and kinds[j] != kinds[d]:
                        continue
                    take = hole & ~np.isnan(out[j])
                    if take.any():
                        out[d, take] = out[j, take]
                        hole &= ~take
                        if not hole.any():
                            break
                if not hole.any():
                    break
            if not hole.any():
                break
    if np.isnan(out).any():
        column_mean = _nanmean(out, axis=0)
        out = np.where(np.isnan(out), np.where(np.isnan(column_mean), 0.0, column_mean)[None, :], out)
    return out


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Mean over finite values, NaN where there are none (without numpy's RuntimeWarning)."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    count = finite.sum(axis=axis)
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)


def _similar_row(kinds: np.ndarray, d: int) -> int:
    """Row of the similar day of row `d`: d - 7 if of the same kind, else the latest earlier same-kind row; -1 if none."""
    if d - 7 >= 0 and kinds[d - 7] == kinds[d]:
        return d - 7
    same = np.flatnonzero(kinds[:d] == kinds[d])
    return int(same[-1]) if same.size else -1


def _recent(
    history: pd.Series, name: str, day_start: pd.Timestamp, n_days: int, min_days: int = MIN_HISTORY_DAYS
) -> tuple[np.ndarray, pd.Timestamp, pd.Timestamp]:
    """The `n_days` local days before `day_start` as a (n_days, 96) matrix [kW], its start, the first timestamp.

    Raises unless `history` reaches back at least `min_days` days before `day_start`.
    """
    history = _series(history, name)
    _monotonic(history, name)
    index = history.index
    if not len(index) or index[0] >= day_start:
        raise ValidationFailed(
            f"{name} has no data before {day_start}", issues=[Issue("no history", column=name, value=str(day_start))]
        )
    first = index[0]
    if first > day_start - min_days * DAY:
        have = (day_start - first) / DAY
        raise ValidationFailed(
            f"{name} has {have:.1f} days before {day_start:%Y-%m-%d}: at least {min_days} are needed",
            issues=[Issue(f"too little history ({have:.1f} d)", column=name, value=str(first))],
        )
    start = day_start - n_days * DAY
    i0 = index.searchsorted(start.tz_convert(index.tz))
    i1 = index.searchsorted(day_start.tz_convert(index.tz))
    tail = history.iloc[i0:i1]
    _check_regular(tail.index, name)
    return _to_matrix(tail, start, n_days), start, first


def _baseline_inputs(history_kw: pd.Series, day: Any, tz: str) -> tuple[dt.date, pd.DatetimeIndex, np.ndarray]:
    zone = _fixed_offset_zone(tz)
    d = _as_date(day)
    index = _day_index(d, zone)
    matrix, _, _ = _recent(history_kw, "history_kw", index[0], LOOKBACK_DAYS, min_days=0)
    return d, index, matrix


# -- baselines --------------------------------------------------------------------------------------------------


def persistence(history_kw: pd.Series, day: dt.date, tz: str = PARK_TZ) -> pd.Series:
    """Persistence forecast: each interval of `day` as the same interval of the previous day.

    Parameters
    ----------
    history_kw : pandas.Series
        Mean power per 15-minute interval [kW] on tz-aware interval starts; only data before the day is read.
    day : datetime.date
        The local day to forecast.
    tz : str
        The park's time zone.

    Returns
    -------
    pandas.Series
        96 values [kW] on the day's interval starts; NaN where the previous day is missing
        (``attrs["missing_intervals"]`` counts them).
    """
    _, index, matrix = _baseline_inputs(history_kw, day, tz)
    out = pd.Series(matrix[-1], index=index, name="persistence_kw")
    out.attrs["missing_intervals"] = int(np.isnan(matrix[-1]).sum())
    return out


def similar_day(history_kw: pd.Series, day: dt.date, tz: str = PARK_TZ) -> pd.Series:
    """Similar-day forecast: `day` as the latest earlier day of the same kind.

    The kind is working day or rest day (Chinese public holidays and adjusted working weekends included). The
    same weekday one week earlier is taken when it is of the same kind; otherwise the latest earlier day of
    that kind within `LOOKBACK_DAYS`; if there is none, the previous day (``attrs["fallback"]`` is True).

    Parameters
    ----------
    history_kw : pandas.Series
        Mean power per 15-minute interval [kW] on tz-aware interval starts; only data before the day is read.
    day : datetime.date
        The local day to forecast.
    tz : str
        The park's time zone.

    Returns
    -------
    pandas.Series
        96 values [kW] on the day's interval starts, NaN where the similar day is missing;
        ``attrs["similar_day"]`` is the date used.
    """
    d, index, matrix = _baseline_inputs(history_kw, day, tz)
    n = len(matrix)
    kinds = _working_days(d - dt.timedelta(days=n), n + 1)
    row = _similar_row(kinds, n)
    fallback = row < 0
    row = n - 1 if fallback else row
    out = pd.Series(matrix[row], index=index, name="similar_day_kw")
    out.attrs.update(
        similar_day=d - dt.timedelta(days=n - row),
        fallback=fallback,
        missing_intervals=int(np.isnan(matrix[row]).sum()),
    )
    return out


# -- skill ------------------------------------------------------------------------------------------------------


def skill(actual: Any, forecast: Any, reference: Any = None) -> dict[str, float]:
    """Error of a forecast, and its skill against a reference forecast.

    Pairs where any of the values is NaN are left out. Series are aligned on their index.

    Parameters
    ----------
    actual, forecast : pandas.Series or array-like
        Metered and forecast values [any unit, e.g. kW].
    reference : pandas.Series or array-like, optional
        A reference forecast (persistence, similar day) on the same intervals [same unit].

    Returns
    -------
    dict
        ``mae`` (mean absolute error), ``rmse`` (root mean square error) [unit of the inputs], ``n`` (pairs
        used); with a reference also ``mae_reference``, ``rmse_reference`` and
        ``skill_score = 1 - RMSE_forecast / RMSE_reference`` [-] (1 perfect, 0 no better than the reference,
        negative worse; NaN if the reference is perfect).
    """
    arrays = [actual, forecast] + ([reference] if reference is not None else [])
    if all(isinstance(a, pd.Series) for a in arrays):
        frame = pd.concat(arrays, axis=1, join="inner")
        values = [frame.iloc[:, i].to_numpy(dtype=float, na_value=np.nan) for i in range(len(arrays))]
    else:
        values = [np.asarray(a, dtype=float).reshape(-1) for a in arrays]
        if len({len(v) for v in values}) > 1:
            raise ValidationFailed(f"skill needs inputs of equal length, got {[len(v) for v in values]}")
    keep = np.logical_and.reduce([np.isfinite(v) for v in values])
    if not keep.any():
        raise ValidationFailed("skill has no interval where the actual and every forecast are known")
    error = values[1][keep] - values[0][keep]
    out = {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error**2))), "n": int(keep.sum())}
    if reference is not None:
        ref_error = values[2][keep] - values[0][keep]
        out["mae_reference"] = float(np.mean(np.abs(ref_error)))
        out["rmse_reference"] = float(np.sqrt(np.mean(ref_error**2)))
        out["skill_score"] = 1.0 - out["rmse"] / out["rmse_reference"] if out["rmse_reference"] > 0 else math.nan
    return out


# -- model plumbing ---------------------------------------------------------------------------------------------


def _train(
    params: dict[str, Any], x: np.ndarray, y: np.ndarray, names: Sequence[str], x_val: np.ndarray, y_val: np.ndarray
) -> tuple[lgb.Booster, int]:
    """A LightGBM booster and its number of rounds, chosen by early stopping on the validation rows."""
    data = lgb.Dataset(x, y, feature_name=list(names), params={"verbosity": -1})
    valid = lgb.Dataset(x_val, y_val, reference=data)
    booster = lgb.train(
        params,
        data,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    return booster, max(MIN_ROUNDS, int(booster.best_iteration or MAX_ROUNDS))


def _fit_time_constant(residuals: np.ndarray, window: int) -> tuple[float, float]:
    """Time constant [h] of the intraday correction that best corrects held-out day-ahead errors, and its gain.

    `residuals` are (days, 96) errors, metered - forecast, NaN where unknown. Issue times are every full hour
    from `window` intervals after midnight; each candidate of `TIME_CONSTANTS_H` corrects the rest of the day
    by the mean error of the window before the issue time. Returns the best candidate and
    ``gain = 1 - SSE_corrected / SSE_uncorrected`` [-] over all issue times and lead times.
    """
    sse = np.zeros(len(TIME_CONSTANTS_H))
    sse_none = 0.0
    for s in range(window, STEPS_PER_DAY, 4):
        e = _nanmean(residuals[:, s - window : s], axis=1)
        e = np.where(np.isnan(e), 0.0, e)
        rest = residuals[:, s:]
        known = np.isfinite(rest)
        lead_h = np.arange(STEPS_PER_DAY - s) * STEP_H
        sse_none += float(np.sum(np.where(known, rest, 0.0) ** 2))
        for i, tau in enumerate(TIME_CONSTANTS_H):
            corrected = rest - e[:, None] * np.exp(-lead_h / tau)[None, :]
            sse[i] += float(np.sum(np.where(known, corrected, 0.0) ** 2))
    best = int(np.argmin(sse))
    return TIME_CONSTANTS_H[best], (1.0 - sse[best] / sse_none) if sse_none > 0 else 0.0


def _weather_frame(weather: Any, column: str, name: str) -> pd.DataFrame:
    """`weather` if it is a frame with `column` on a tz-aware DatetimeIndex."""
    if not isinstance(weather, pd.DataFrame):
        raise ValidationFailed(f"{name} must be a pandas DataFrame, not {type(weather).__name__}")
    if column not in weather.columns:
        raise ValidationFailed(
            f"{name} has no column {column!r} (columns: {', '.join(map(str, weather.columns))})",
            issues=[Issue("missing column", column=column)],
        )
    if not isinstance(weather.index, pd.DatetimeIndex):
        raise ValidationFailed(f"{name} must have a DatetimeIndex of interval starts")
    if weather.index.tz is None:
        raise _naive(name, weather.index)
    return weather


def _weather_values(weather: Any, column: str, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    """`weather[column]` on `index` [column unit]: exact timestamps, else interpolated in time (gaps <= 3 h)."""
    values = _weather_frame(weather, column, name)[column]
    if not values.index.is_monotonic_increasing:
        values = values.sort_index()
    lo = values.index.searchsorted((index[0] - pd.Timedelta(hours=3)).tz_convert(values.index.tz))
    hi = values.index.searchsorted((index[-1] + pd.Timedelta(hours=3)).tz_convert(values.index.tz), side="right")
    values = values.iloc[lo:hi].astype(float)
    values = values[~values.index.duplicated()]
    values.index = values.index.tz_convert(index.tz)
    exact = values.reindex(index)
    if exact.notna().all() or values.empty:
        return exact.to_numpy(dtype=float, na_value=np.nan)
    union = values.index.union(index)
    filled = values.reindex(union).interpolate("time", limit=12, limit_area="inside").reindex(index)
    return filled.to_numpy(dtype=float, na_value=np.nan)


def _day_weather(weather: Any, column: str, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    values = _weather_values(weather, column, index, name)
    if np.isnan(values).all():
        raise ValidationFailed(
            f"{name} has no {column} for {index[0]:%Y-%m-%d} ({index[0]} to {index[-1]})",
            issues=[Issue("no values for the day", column=column, value=f"{index[0]:%Y-%m-%d}")],
        )
    return values


# -- forecasters ------------------------------------------------------------------------------------------------


class _Forecaster:
    """What the load and PV forecasters share: validation, the training schedule and the intraday correction."""

    target: ClassVar[str] = "series"
    weather_column: ClassVar[str] = ""
    features: ClassVar[list[str]] = []
    weather_features: ClassVar[list[str]] = []
    lookback_days: ClassVar[int] = LOOKBACK_DAYS
    params: ClassVar[dict[str, dict[str, Any]]] = {}  # per model ("history", "weather"): changes to LGB_PARAMS

    def __init__(self, *, tz: str = PARK_TZ, time_constant_h: float | None = None) -> None:
        self.tz = tz
        self._zone = _fixed_offset_zone(tz)
        if time_constant_h is not None and not float(time_constant_h) > 0:
            raise ValidationFailed(f"time_constant_h must be > 0 [h], got {time_constant_h}")
        self.time_constant_h = time_constant_h
        self.models_: dict[str, lgb.Booster] = {}
        self.rounds_: dict[str, int] = {}
        self.time_constant_h_ = DEFAULT_TIME_CONSTANT_H if time_constant_h is None else float(time_constant_h)
        self.intraday_gain_: float | None = None
        self.train_days_ = 0
        self.validation_days_ = 0
        self.gaps_: Gaps | None = None
        self.last_gaps_: Gaps | None = None

    def __repr__(self) -> str:
        fitted = f"fitted on {self.train_days_} days" if self.models_ else "not fitted"
        return f"{type(self).__name__}(tz={self.tz!r}, {fitted})"

    # -- hooks of the subclasses --
    def _kinds(self, first: dt.date, n_days: int) -> np.ndarray:
        return _working_days(first, n_days)

    def _prepare(self, matrix: np.ndarray, start: pd.Timestamp) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _day_features(self, ctx: dict[str, np.ndarray], d: int) -> np.ndarray:
        raise NotImplementedError

    def _target(self, ctx: dict[str, np.ndarray], d: int) -> np.ndarray:
        raise NotImplementedError

    def _to_kw(self, ctx: dict[str, np.ndarray], d: int, prediction: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _residual(self, ctx: dict[str, np.ndarray], d: int, forecast_kw: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- fit --
    def fit(self, history_kw: pd.Series, weather: pd.DataFrame | None = None) -> _Forecaster:
        """Train on a history of mean power per 15-minute interval.

        Parameters
        ----------
        history_kw : pandas.Series
            Mean power per 15-minute interval [kW] on tz-aware interval starts, at least `MIN_HISTORY_DAYS`
            days, at most `MAX_MISSING_SHARE` of its intervals missing or NaN.
        weather : pandas.DataFrame, optional
            Weather over the history on tz-aware interval starts (load: ``temp_air_c`` [degC]; PV:
            ``ghi_w_m2`` [W/m2]); with it a weather model is trained besides the history-only one.

        Returns
        -------
        self
        """
        name = "history_kw"
        history = _series(history_kw, name)
        _check_regular(history.index, name)
        if history.notna().sum() == 0:
            raise ValidationFailed(f"{name} has no values", issues=[Issue("all missing", column=name)])
        first, last = history.index[0], history.index[-1]
        span = (last - first + STEP) / DAY
        if span < MIN_HISTORY_DAYS:
            raise ValidationFailed(
                f"{name} covers {span:.1f} days ({first} to {last}): at least {MIN_HISTORY_DAYS} are needed",
                issues=[Issue(f"too little history ({span:.1f} d)", column=name, value=str(first))],
            )
        first_day = first.tz_convert(self._zone).date()
        start = _day_start(first_day, self._zone)
        n_days = (last.tz_convert(self._zone).date() - first_day).days + 1
        matrix = _to_matrix(history, start, n_days)
        lo = int((first - start) / STEP)
        hi = int((last - start) / STEP) + 1
        self.gaps_ = _gaps(matrix, start, lo, hi, name)
        if self.gaps_.share > MAX_MISSING_SHARE:
            raise ValidationFailed(
                f"{self.gaps_}; more than {100 * MAX_MISSING_SHARE:.0f} % missing: fill or shorten the history",
                issues=self.gaps_.issues(),
            )
        ctx = self._context(matrix, start, first_day, n_days)
        ctx["known"] = ~np.isnan(matrix)
        grid = pd.date_range(start, periods=n_days * STEPS_PER_DAY, freq=STEP)
        ctx["calendar"] = calendar_features(grid, self.tz).to_numpy().reshape(n_days, STEPS_PER_DAY, -1)
        weather_grid = None
        if weather is not None:
            weather_grid = self._weather_features(weather, grid, "weather").reshape(n_days, STEPS_PER_DAY, -1)

        days = np.arange(LAG_DAYS, n_days)
        rows = {}
        for d in days:
            x = self._day_features(ctx, d)
            if weather_grid is not None:
                x = np.hstack([x, weather_grid[d]])
            y = self._target(ctx, d)
            keep = np.isfinite(y)
            rows[int(d)] = (x[keep], y[keep], x)
        used = [d for d in days if len(rows[int(d)][1])]
        if len(used) < 1:
            raise ValidationFailed(f"{name} leaves no day with {LAG_DAYS} days of history before it to learn from")
        n_val = max(MIN_VALIDATION_DAYS, round(VALIDATION_SHARE * len(used)))
        hold_out = len(used) - n_val >= MIN_TRAINING_DAYS
        train_days, val_days = (used[:-n_val], used[-n_val:]) if hold_out else (used, [])
        self.train_days_, self.validation_days_ = len(used), len(val_days)
        self.models_, self.rounds_ = {}, {}
        variants = {"history": len(self.features)} | ({"weather": None} if weather_grid is not None else {})
        for variant, n_cols in variants.items():
            names = self.features + (self.weather_features if variant == "weather" else [])
            params = LGB_PARAMS | self.params.get(variant, {})

            def stack(ds: list[int], n_cols: int | None = n_cols) -> tuple[np.ndarray, np.ndarray]:
                return (
                    np.vstack([rows[d][0][:, :n_cols] for d in ds]),
                    np.concatenate([rows[d][1] for d in ds]),
                )

            rounds = DEFAULT_ROUNDS
            if val_days:
                booster, rounds = _train(params, *stack(train_days), names, *stack(val_days))
                if variant == "history":
                    residuals = np.vstack(
                        [
                            self._residual(
                                ctx, d, self._to_kw(ctx, d, booster.predict(rows[d][2][:, :n_cols], num_threads=1))
                            )
                            for d in val_days
                        ]
                    )
                    tau, gain = _fit_time_constant(residuals, int(round(INTRADAY_WINDOW_H / STEP_H)))
                    self.time_constant_h_, self.intraday_gain_ = tau, gain
            all_x, all_y = stack(used)
            data = lgb.Dataset(all_x, all_y, feature_name=names, params={"verbosity": -1})
            self.models_[variant] = lgb.train(params, data, num_boost_round=rounds)
            self.rounds_[variant] = rounds
        if not val_days:
            self.time_constant_h_, self.intraday_gain_ = DEFAULT_TIME_CONSTANT_H, None
        if self.time_constant_h is not None:
            self.time_constant_h_ = float(self.time_constant_h)
        return self

    def _context(self, matrix: np.ndarray, start: pd.Timestamp, first_day: dt.date, n_days: int) -> dict:
        kinds = self._kinds(first_day, n_days)
        ctx = self._prepare(matrix, start)
        ctx["raw"] = matrix
        ctx["kinds"] = kinds
        ctx["filled"] = _fill_from_earlier(matrix, kinds)
        self._after_fill(ctx)
        return ctx

    def _after_fill(self, ctx: dict[str, np.ndarray]) -> None:
        pass

    def _weather_features(self, weather: Any, index: pd.DatetimeIndex, name: str) -> np.ndarray:
        raise NotImplementedError

    # -- day ahead --
    def day_ahead(self, day: dt.date, history_kw: pd.Series, weather_forecast: pd.DataFrame | None = None) -> pd.Series:
        """Forecast of one local day from the history before its start.

        Parameters
        ----------
        day : datetime.date
            The local day to forecast.
        history_kw : pandas.Series
            Mean power per 15-minute interval [kW] on tz-aware interval starts; data from the day's start on is
            ignored. Gaps are filled from the latest earlier day of the same kind and flagged.
        weather_forecast : pandas.DataFrame, optional
            The forecast weather of the day (load: ``temp_air_c`` [degC]; PV: ``ghi_w_m2`` [W/m2]); used when
            `fit` was given weather.

        Returns
        -------
        pandas.Series
            96 values [kW] on the day's interval starts. ``attrs``: ``model`` ("history" or "weather"),
            ``filled_intervals`` (missing intervals of the last `LOOKBACK_DAYS` days filled before forecasting)
            and ``gaps`` (where they were).
        """
        if not self.models_:
            raise ValidationFailed(f"the {self.target} forecaster is not fitted: call fit(history_kw) first")
        d = _as_date(day)
        index = _day_index(d, self._zone)
        n = self.lookback_days
        matrix, start, first = _recent(history_kw, "history_kw", index[0], n)
        lo = max(0, int((first - start) / STEP))
        self.last_gaps_ = _gaps(matrix, start, lo, n * STEPS_PER_DAY, "history_kw")
        if np.isnan(matrix[-min(n, MIN_HISTORY_DAYS) :]).all():
            raise ValidationFailed(
                f"history_kw has no values in the {min(n, MIN_HISTORY_DAYS)} days before {d}",
                issues=[Issue("no recent history", column="history_kw", value=str(index[0]))],
            )
        matrix = np.vstack([matrix, np.full((1, STEPS_PER_DAY), np.nan)])
        ctx = self._context(matrix, start, d - dt.timedelta(days=n), n + 1)
        ctx["calendar"] = calendar_features(index, self.tz).to_numpy()[None, :, :]
        x = self._day_features(ctx, n)
        variant = "history"
        if weather_forecast is not None and "weather" in self.models_:
            x = np.hstack([x, self._weather_features(weather_forecast, index, "weather_forecast")])
            variant = "weather"
        prediction = self.models_[variant].predict(x, num_threads=1)
        out = pd.Series(self._to_kw(ctx, n, prediction), index=index, name=f"{self.target}_kw")
        out.attrs.update(
            model=variant,
            filled_intervals=self.last_gaps_.missing,
            gaps=str(self.last_gaps_) if self.last_gaps_.missing else "",
        )
        return out

    # -- intraday --
    def intraday(self, issue_time: pd.Timestamp, day_ahead_kw: pd.Series, observed_kw: pd.Series) -> pd.Series:
        """Correct a day-ahead forecast by its recent error.

        ``f(t) = f_da(t) + e x exp(-(t - issue_time) / tau)`` with ``e`` the mean error (metered - day-ahead)
        over the `INTRADAY_WINDOW_H` hours before `issue_time` and ``tau = time_constant_h_`` [h].

        Parameters
        ----------
        issue_time : pandas.Timestamp
            Tz-aware time the forecast is made; intervals starting at or after it are forecast.
        day_ahead_kw : pandas.Series
            The day-ahead forecast [kW] (from `day_ahead`).
        observed_kw : pandas.Series
            Metered mean power [kW] of the intervals before `issue_time` (those of `day_ahead_kw` are used).

        Returns
        -------
        pandas.Series
            The corrected forecast [kW] of the intervals of `day_ahead_kw` from `issue_time` to its end;
            ``attrs["error_kw"]`` is ``e`` (0 when nothing was metered in the window), ``attrs["time_constant_h"]``.
        """
        issue = _aware(issue_time, "issue_time")
        forecast = _series(day_ahead_kw, "day_ahead_kw")
        observed = _series(observed_kw, "observed_kw")
        ahead = forecast[forecast.index >= issue].astype(float)
        window_start = issue - pd.Timedelta(hours=INTRADAY_WINDOW_H)
        in_window = forecast[(forecast.index >= window_start) & (forecast.index < issue)].astype(float)
        observed = observed[~observed.index.duplicated()]
        observed.index = observed.index.tz_convert(in_window.index.tz)
        metered = observed.reindex(in_window.index).astype(float)
        lead_h = ((ahead.index - issue) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
        decay = np.exp(-lead_h / self.time_constant_h_)
        corrected, said = self._correct(ahead, in_window, metered, decay)
        out = pd.Series(corrected, index=ahead.index, name=forecast.name)
        out.attrs.update(said, time_constant_h=self.time_constant_h_, issue_time=issue)
        return out

    def _correct(
        self, ahead: pd.Series, in_window: pd.Series, metered: pd.Series, decay: np.ndarray
    ) -> tuple[np.ndarray, dict[str, float]]:
        raise NotImplementedError


class LoadForecaster(_Forecaster):
    """Day-ahead and intraday forecasts of a load [kW] with LightGBM (see the module's description).

    Parameters
    ----------
    tz : str
        The park's time zone (local days, working days).
    time_constant_h : float, optional
        Decay of the intraday correction [h]; by default chosen by `fit` on held-out days.

    Attributes
    ----------
    time_constant_h_ : float
        Decay of the intraday correction in use [h].
    intraday_gain_ : float or None
        Reduction of the squared error the correction gave on the held-out days [-].
    train_days_, validation_days_ : int
        Days learnt from, and of those held out to choose rounds and the time constant.
    gaps_ : Gaps
        Missing intervals of the history given to `fit`.
    """

    target: ClassVar[str] = "load"
    weather_column: ClassVar[str] = "temp_air_c"
    features = LOAD_FEATURES
    weather_features = LOAD_WEATHER_FEATURES

    def _prepare(self, matrix: np.ndarray, start: pd.Timestamp) -> dict[str, np.ndarray]:
        return {}

    def _after_fill(self, ctx: dict[str, np.ndarray]) -> None:
        filled = ctx["filled"]
        n = len(filled)
        scale = np.ones(n)
        kinds = ctx["kinds"]
        for d in range(LAG_DAYS, n):
            lo = max(0, d - KIND_DAYS)
            same = np.flatnonzero(kinds[lo:d] == kinds[d]) + lo
            level = float(np.mean(np.abs(filled[same] if same.size else filled[d - LAG_DAYS : d])))
            scale[d] = level if np.isfinite(level) and level > 1e-9 else 1.0
        ctx["scale"] = scale

    def _day_features(self, ctx: dict[str, np.ndarray], d: int) -> np.ndarray:
        filled, kinds, scale = ctx["filled"], ctx["kinds"], ctx["scale"][d]
        cal = ctx["calendar"][d if len(ctx["calendar"]) > 1 else 0].copy()
        # the weekday on working days, -1 on rest days: a worked Sunday (调休) is then learnt as a working day,
        # not as a Sunday (with the raw weekday, the trees may split on "weekend" before "working day")
        cal[:, 2] = np.where(cal[:, 3] > 0, cal[:, 2], -1.0)
        similar = _similar_row(kinds, d)
        similar = d - 1 if similar < 0 else similar
        week = filled[d - LAG_DAYS : d]
        lo = max(0, d - KIND_DAYS)
        same = np.flatnonzero(kinds[lo:d] == kinds[d]) + lo
        profile = filled[same].mean(axis=0) if same.size else week.mean(axis=0)
        ones = np.ones(STEPS_PER_DAY)
        return np.column_stack(
            [
                np.arange(STEPS_PER_DAY, dtype=float),
                cal,
                ones * float(kinds[d - 1]),
                filled[d - 1] / scale,
                filled[d - 7] / scale,
                filled[similar] / scale,
                week.mean(axis=0) / scale,
                profile / scale,
                ones * filled[d - 1].mean() / scale,
                ones * float(d - similar),
            ]
        )

    def _target(self, ctx: dict[str, np.ndarray], d: int) -> np.ndarray:
        return np.where(ctx["known"][d], ctx["raw"][d] / ctx["scale"][d], np.nan)

    def _to_kw(self, ctx: dict[str, np.ndarray], d: int, prediction: np.ndarray) -> np.ndarray:
        return prediction * ctx["scale"][d]

    def _residual(self, ctx: dict[str, np.ndarray], d: int, forecast_kw: np.ndarray) -> np.ndarray:
        return np.where(ctx["known"][d], ctx["raw"][d] - forecast_kw, np.nan)

    def _weather_features(self, weather: Any, index: pd.DatetimeIndex, name: str) -> np.ndarray:
        read = _day_weather if len(index) == STEPS_PER_DAY else _weather_values
        temp = read(weather, self.weather_column, index, name)
        days = temp.reshape(-1, STEPS_PER_DAY)
        day_mean = np.repeat(_nanmean(days, axis=1), STEPS_PER_DAY)
        return np.column_stack([temp, day_mean])

    def _correct(
        self, ahead: pd.Series, in_window: pd.Series, metered: pd.Series, decay: np.ndarray
    ) -> tuple[np.ndarray, dict[str, float]]:
        errors = (metered - in_window).to_numpy(dtype=float, na_value=np.nan)
        error = float(_nanmean(errors)) if np.isfinite(errors).any() else 0.0
        return ahead.to_numpy(dtype=float) + error * decay, {"error_kw": error}


class PvForecaster(_Forecaster):
    """Day-ahead and intraday forecasts of PV power [kW] through the clearness (see the module's description).

    Parameters
    ----------
    latitude, longitude : float
        The site [deg], north and east positive.
    kwp : float, optional
        Rated DC power [kWp] the clear-sky PV is scaled to; by default the maximum of the history given to `fit`.
    altitude_m : float, optional
        Site altitude [m]; by default pvlib looks it up.
    tz : str
        The park's time zone.
    time_constant_h : float, optional
        Decay of the intraday correction [h]; by default chosen by `fit` on held-out days.

    Attributes
    ----------
    kwp_ : float
        The kWp in use [kWp]: `kwp`, or the maximum of the history given to `fit`.
    time_constant_h_, intraday_gain_, train_days_, validation_days_, gaps_
        As for `LoadForecaster`.
    """

    target: ClassVar[str] = "pv"
    weather_column: ClassVar[str] = "ghi_w_m2"
    features = PV_FEATURES
    weather_features = PV_WEATHER_FEATURES
    lookback_days = KIND_DAYS + 1
    # the history-only features are mostly one value per day: leaves of >= 800 rows (~16 days of daylight) keep
    # the trees from learning single days (on the demo weather: skill vs persistence ~0.10 instead of ~0)
    params = {"history": {"min_data_in_leaf": 800, "num_leaves": 5, "lambda_l2": 10.0}}

    def __init__(
        self,
        latitude: float,
        longitude: float,
        kwp: float | None = None,
        *,
        altitude_m: float | None = None,
        tz: str = PARK_TZ,
        time_constant_h: float | None = None,
    ) -> None:
        super().__init__(tz=tz, time_constant_h=time_constant_h)
        if not (-90.0 <= float(latitude) <= 90.0 and -180.0 <= float(longitude) <= 180.0):
            raise ValidationFailed(f"PV site latitude {latitude} / longitude {longitude} [deg] is out of range")
        if kwp is not None and not float(kwp) > 0:
            raise ValidationFailed(f"PV kwp must be > 0 [kWp], got {kwp}")
        self.latitude, self.longitude, self.kwp, self.altitude_m = float(latitude), float(longitude), kwp, altitude_m
        self.kwp_ = math.nan if kwp is None else float(kwp)
        self._location = pvlib.location.Location(self.latitude, self.longitude, tz=tz, altitude=altitude_m)
        self._clear_years: dict[int, tuple[int, np.ndarray]] = {}

    def _kinds(self, first: dt.date, n_days: int) -> np.ndarray:
        return np.zeros(n_days, dtype=bool)  # the sun keeps no calendar: fill from any earlier day

    def clear_sky_ghi_w_m2(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Ineichen-Perez clear-sky GHI at the midpoints of 15-minute intervals [W/m2] (cached per year).

        Parameters
        ----------
        index : pandas.DatetimeIndex
            Tz-aware interval starts on the 15-minute grid.
        """
        ns = index.as_unit("ns").asi8
        out = np.empty(len(ns))
        local_years = index.tz_convert(self._zone).year.to_numpy()
        for year in np.unique(local_years):
            start_ns, ghi = self._clear_year(int(year))
            pick = local_years == year
            out[pick] = ghi[(ns[pick] - start_ns) // STEP_NS]
        return out

    def _clear_year(self, year: int) -> tuple[int, np.ndarray]:
        if year not in self._clear_years:
            start = pd.Timestamp(year, 1, 1).tz_localize(self._zone)
            grid = pd.date_range(
                start, pd.Timestamp(year + 1, 1, 1).tz_localize(self._zone), freq=STEP, inclusive="left"
            )
            clear = self._location.get_clearsky(grid + STEP / 2, model="ineichen")["ghi"].to_numpy(dtype=float)
            self._clear_years[year] = (start.value, np.clip(clear, 0.0, None))
        return self._clear_years[year]

    def clear_sky_kw(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Clear-sky PV ``kWp x GHI_clear / 1000`` at the interval midpoints [kW] (needs `fit` or `kwp`)."""
        return self.kwp_ * self.clear_sky_ghi_w_m2(index) / 1000.0

    def fit(self, history_kw: pd.Series, weather: pd.DataFrame | None = None) -> PvForecaster:
        history = _series(history_kw, "history_kw")
        if self.kwp is None:
            peak = float(np.nanmax(history.to_numpy(dtype=float, na_value=np.nan))) if history.notna().any() else 0.0
            if not peak > 0:
                raise ValidationFailed("history_kw has no positive PV power: give kwp or a PV history")
            self.kwp_ = peak
        else:
            self.kwp_ = float(self.kwp)
        super().fit(history, weather)
        return self

    def _prepare(self, matrix: np.ndarray, start: pd.Timestamp) -> dict[str, np.ndarray]:
        grid = pd.date_range(start, periods=matrix.size, freq=STEP)
        ghi = self.clear_sky_ghi_w_m2(grid).reshape(matrix.shape)
        return {"clear_ghi": ghi, "clear_kw": self.kwp_ * ghi / 1000.0, "daylight": ghi >= MIN_CLEAR_SKY_GHI_W_M2}

    def _after_fill(self, ctx: dict[str, np.ndarray]) -> None:
        daylight, clear = ctx["daylight"], ctx["clear_kw"]
        filled = np.clip(ctx["filled"], 0.0, None)
        k = np.full(filled.shape, np.nan)
        np.divide(filled, clear, out=k, where=daylight)
        ctx["clearness"] = np.clip(k, 0.0, MAX_CLEARNESS)
        day_pv = np.where(daylight, filled, 0.0).sum(axis=1)
        day_clear = np.where(daylight, clear, 0.0).sum(axis=1)
        ctx["k_day"] = np.divide(day_pv, day_clear, out=np.full(len(filled), np.nan), where=day_clear > 0)
        late = np.zeros_like(daylight)
        for d in range(len(daylight)):
            lit = np.flatnonzero(daylight[d])
            late[d, lit[-12:]] = True
        late_clear = np.where(late, clear, 0.0).sum(axis=1)
        ctx["k_late"] = np.divide(
            np.where(late, filled, 0.0).sum(axis=1),
            late_clear,
            out=np.full(len(filled), np.nan),
            where=late_clear > 0,
        )

    def _day_features(self, ctx: dict[str, np.ndarray], d: int) -> np.ndarray:
        cal = ctx["calendar"][d if len(ctx["calendar"]) > 1 else 0]
        k = ctx["clearness"]
        yesterday = k[d - 1]
        finite = np.isfinite(yesterday)
        kernel = np.ones(5)
        smooth_sum = np.convolve(np.where(finite, yesterday, 0.0), kernel, mode="same")
        smooth_n = np.convolve(finite.astype(float), kernel, mode="same")
        smooth = np.divide(smooth_sum, smooth_n, out=np.full(STEPS_PER_DAY, np.nan), where=smooth_n > 0)
        ones = np.ones(STEPS_PER_DAY)
        return np.column_stack(
            [
                np.arange(STEPS_PER_DAY, dtype=float),
                cal[:, [0, 1]],
                ctx["clear_ghi"][d] / 1000.0,
                ones * ctx["k_day"][d - 1],
                ones * _nanmean(ctx["k_day"][d - 3 : d]),
                ones * _nanmean(ctx["k_day"][max(0, d - KIND_DAYS) : d]),
                ones * ctx["k_late"][d - 1],
                smooth,
                _nanmean(k[d - LAG_DAYS : d], axis=0),
            ]
        )

    def _target(self, ctx: dict[str, np.ndarray], d: int) -> np.ndarray:
        raw = ctx["raw"][d]
        ok = ctx["known"][d] & ctx["daylight"][d]
        k = np.full(STEPS_PER_DAY, np.nan)
        np.divide(np.clip(raw, 0.0, None), ctx["clear_kw"][d], out=k, where=ok)
        return np.clip(k, 0.0, MAX_CLEARNESS)

    def _to_kw(self, ctx: dict[str, np.ndarray], d: int, prediction: np.ndarray) -> np.ndarray:
        kw = np.clip(prediction, 0.0, MAX_CLEARNESS) * ctx["clear_kw"][d]
        return np.where(ctx["clear_ghi"][d] > 0.0, kw, 0.0)

    def _residual(self, ctx: dict[str, np.ndarray], d: int, forecast_kw: np.ndarray) -> np.ndarray:
        ok = ctx["known"][d] & ctx["daylight"][d]
        out = np.full(STEPS_PER_DAY, np.nan)
        np.divide(ctx["raw"][d] - forecast_kw, ctx["clear_kw"][d], out=out, where=ok)
        return out

    def _weather_features(self, weather: Any, index: pd.DatetimeIndex, name: str) -> np.ndarray:
        read = _day_weather if len(index) == STEPS_PER_DAY else _weather_values
        ghi = read(weather, self.weather_column, index, name)
        clear = self.clear_sky_ghi_w_m2(index)
        index_k = np.full(len(index), np.nan)
        np.divide(ghi, clear, out=index_k, where=clear >= MIN_CLEAR_SKY_GHI_W_M2)
        return np.column_stack([ghi / 1000.0, np.clip(index_k, 0.0, MAX_CLEARNESS)])

    def _correct(
        self, ahead: pd.Series, in_window: pd.Series, metered: pd.Series, decay: np.ndarray
    ) -> tuple[np.ndarray, dict[str, float]]:
        if math.isnan(self.kwp_):
            raise ValidationFailed("the PV forecaster has no kWp: give kwp or call fit(history_kw) first")
        clear_window = self.clear_sky_kw(in_window.index)
        lit = (self.clear_sky_ghi_w_m2(in_window.index) >= MIN_CLEAR_SKY_GHI_W_M2) & metered.notna().to_numpy()
        error_kw = error_k = 0.0
        if lit.any():
            errors = (metered.to_numpy(dtype=float) - in_window.to_numpy(dtype=float))[lit]
            error_kw, error_k = float(errors.mean()), float(errors.sum() / clear_window[lit].sum())
        clear_ghi = self.clear_sky_ghi_w_m2(ahead.index)
        clear_kw = self.clear_sky_kw(ahead.index)
        kw = np.clip(ahead.to_numpy(dtype=float) + error_k * decay * clear_kw, 0.0, MAX_CLEARNESS * clear_kw)
        return np.where(clear_ghi > 0.0, kw, 0.0), {"error_kw": error_kw, "clearness_error": error_k}


# -- evaluation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastReport:
    """Held-out error of a forecaster and its skill against the baselines.

    Attributes
    ----------
    target : str
        ``load`` or ``pv``.
    kind : str
        ``day_ahead`` or ``intraday`` (issue times `INTRADAY_ISSUE_HOURS`, each to the end of the day).
    train_days : int
        Days the model learnt from (before `train_end`).
    test_days : int
        Held-out days scored.
    intervals : int
        Intervals scored (with the actual, the forecast and both baselines known; PV: daylight only).
    mae_kw, rmse_kw : float
        Mean absolute and root mean square error of the forecast [kW].
    persistence_mae_kw, persistence_rmse_kw, similar_day_mae_kw, similar_day_rmse_kw : float
        The same for the baselines on the same intervals [kW].
    skill_vs_persistence, skill_vs_similar_day : float
        ``1 - RMSE_forecast / RMSE_baseline`` [-].
    skill_vs_day_ahead : float or None
        For ``intraday``: the same against the uncorrected day-ahead forecast [-].
    excluded : dict
        Intervals left out and why (``night``, ``missing``).
    notes : tuple of str
        What the numbers mean.
    """

    target: str
    kind: str
    train_days: int
    test_days: int
    intervals: int
    mae_kw: float
    rmse_kw: float
    persistence_mae_kw: float
    persistence_rmse_kw: float
    similar_day_mae_kw: float
    similar_day_rmse_kw: float
    skill_vs_persistence: float
    skill_vs_similar_day: float
    skill_vs_day_ahead: float | None = None
    excluded: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [
            f"{self.target} {self.kind} forecast: {self.test_days} held-out days ({self.intervals:,} intervals), "
            f"trained on {self.train_days} days",
            f"  model        MAE {self.mae_kw:,.1f} kW  RMSE {self.rmse_kw:,.1f} kW",
            f"  persistence  MAE {self.persistence_mae_kw:,.1f} kW  RMSE {self.persistence_rmse_kw:,.1f} kW  "
            f"skill {self.skill_vs_persistence:+.3f}",
            f"  similar day  MAE {self.similar_day_mae_kw:,.1f} kW  RMSE {self.similar_day_rmse_kw:,.1f} kW  "
            f"skill {self.skill_vs_similar_day:+.3f}",
        ]
        if self.skill_vs_day_ahead is not None:
            lines.append(f"  skill vs the day-ahead forecast {self.skill_vs_day_ahead:+.3f}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def _boundary(value: Any, zone: ZoneInfo, name: str) -> pd.Timestamp:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return _day_start(value, zone)
    if isinstance(value, str) and len(value) == 10:
        return _day_start(_as_date(value), zone)
    return _aware(value, name)


def evaluate(
    forecaster: LoadForecaster | PvForecaster,
    series_kw: pd.Series,
    train_end: Any,
    test_end: Any,
    kind: str = "day_ahead",
    *,
    weather: pd.DataFrame | None = None,
) -> ForecastReport:
    """Fit on the data before `train_end` and score the forecasts of the local days in [train_end, test_end).

    Parameters
    ----------
    forecaster : LoadForecaster or PvForecaster
        The forecaster to fit and score.
    series_kw : pandas.Series
        Mean power per 15-minute interval [kW] on tz-aware interval starts, covering training and test.
    train_end, test_end : datetime.date, str or pandas.Timestamp
        End of the training data and of the held-out period (a date is its local midnight).
    kind : {"day_ahead", "intraday"}
        Score the day-ahead forecasts, or the intraday forecasts issued at `INTRADAY_ISSUE_HOURS` (each from
        its issue time to the end of the day; the metered values before the issue time are given to it).
    weather : pandas.DataFrame, optional
        Weather for training and, as the day's "forecast", for the held-out days (a perfect forecast: an upper
        bound of what a numerical weather prediction gives).

    Returns
    -------
    ForecastReport
    """
    if kind not in ("day_ahead", "intraday"):
        raise ValidationFailed(f"unknown forecast kind {kind!r}; known: day_ahead, intraday")
    zone = forecaster._zone
    series = _series(series_kw, "series_kw")
    _check_regular(series.index, "series_kw")
    if weather is not None:
        weather = _weather_frame(weather, forecaster.weather_column, "weather")
    start, end = _boundary(train_end, zone, "train_end"), _boundary(test_end, zone, "test_end")
    forecaster.fit(series[series.index < start], None if weather is None else weather[weather.index < start])
    first = start.tz_convert(zone).date()
    if _day_start(first, zone) < start:
        first += dt.timedelta(days=1)
    days = []
    day = first
    while _day_start(day + dt.timedelta(days=1), zone) <= end:
        days.append(day)
        day += dt.timedelta(days=1)
    if not days:
        raise ValidationFailed(f"no whole local day between train_end {start} and test_end {end} to score")
    is_pv = isinstance(forecaster, PvForecaster)
    pieces: dict[str, list[np.ndarray]] = {"actual": [], "model": [], "persistence": [], "similar": [], "da": []}
    night = 0
    for day in days:
        index = _day_index(day, zone)
        at = series.index.searchsorted(index[0].tz_convert(series.index.tz))
        actual = _to_matrix(series.iloc[at : at + STEPS_PER_DAY], index[0], 1)[0]
        fc = forecaster.day_ahead(
            day,
            series,
            None if weather is None else weather[(weather.index >= index[0]) & (weather.index <= index[-1])],
        )
        base_p = persistence(series, day, forecaster.tz).to_numpy()
        base_s = similar_day(series, day, forecaster.tz).to_numpy()
        lit = forecaster.clear_sky_ghi_w_m2(index) > 0.0 if is_pv else np.ones(STEPS_PER_DAY, bool)
        if kind == "day_ahead":
            slots = [np.arange(STEPS_PER_DAY)]
            forecasts = [fc.to_numpy()]
        else:
            slots, forecasts = [], []
            observed = pd.Series(actual, index=index)
            for hour in INTRADAY_ISSUE_HOURS:
                s0 = hour * 4
                corrected = forecaster.intraday(index[s0], fc, observed.iloc[:s0])
                slots.append(np.arange(s0, STEPS_PER_DAY))
                forecasts.append(corrected.to_numpy())
        for slot, values in zip(slots, forecasts, strict=True):
            night += int((~lit[slot]).sum())
            keep = slot[lit[slot]]
            values = values[lit[slot]]
            pieces["actual"].append(actual[keep])
            pieces["model"].append(values)
            pieces["persistence"].append(base_p[keep])
            pieces["similar"].append(base_s[keep])
            pieces["da"].append(fc.to_numpy()[keep])
    arrays = {k: np.concatenate(v) for k, v in pieces.items()}
    known = np.logical_and.reduce([np.isfinite(arrays[k]) for k in ("actual", "model", "persistence", "similar")])
    if not known.any():
        raise ValidationFailed("no held-out interval has the actual, the forecast and both baselines known")
    a = arrays["actual"][known]
    vs_p = skill(a, arrays["model"][known], arrays["persistence"][known])
    vs_s = skill(a, arrays["model"][known], arrays["similar"][known])
    vs_da = skill(a, arrays["model"][known], arrays["da"][known]) if kind == "intraday" else None
    excluded = {"missing": int((~known).sum())}
    notes = [
        f"held-out days {days[0]} to {days[-1]}; skill = 1 - RMSE_model / RMSE_baseline",
        f"{excluded['missing']} interval(s) left out because the actual or a baseline was missing",
    ]
    if is_pv:
        excluded["night"] = night
        notes.append(f"PV night intervals (sun below the horizon at the interval midpoint) excluded: {night}")
    if weather is not None:
        notes.append("the weather given was used as a perfect forecast of the held-out days")
    return ForecastReport(
        target=forecaster.target,
        kind=kind,
        train_days=forecaster.train_days_,
        test_days=len(days),
        intervals=int(known.sum()),
        mae_kw=vs_p["mae"],
        rmse_kw=vs_p["rmse"],
        persistence_mae_kw=vs_p["mae_reference"],
        persistence_rmse_kw=vs_p["rmse_reference"],
        similar_day_mae_kw=vs_s["mae_reference"],
        similar_day_rmse_kw=vs_s["rmse_reference"],
        skill_vs_persistence=vs_p["skill_score"],
        skill_vs_similar_day=vs_s["skill_score"],
        skill_vs_day_ahead=None if vs_da is None else vs_da["skill_score"],
        excluded=excluded,
        notes=tuple(notes),
    )
