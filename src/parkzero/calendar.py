"""The mainland Chinese working calendar: public holidays and adjusted working weekends (调休).

Working days come from the `chinese_calendar` package, which carries the State Council holiday notices year by
year (2025: Spring Festival 28 Jan - 4 Feb with Sunday 26 Jan and Saturday 8 Feb worked). For a year the
package does not cover yet, the functions fall back to Monday-Friday and no named holidays, so a demo can
still be generated; the fallback is reported by `calendar_covers`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

SPRING_FESTIVAL = chinese_calendar.Holiday.spring_festival.value  # "Spring Festival"


def _as_date(day: dt.date | dt.datetime | pd.Timestamp | str) -> dt.date:
    if isinstance(day, str):
        return dt.date.fromisoformat(day[:10])
    if isinstance(day, dt.datetime):  # pandas.Timestamp is a datetime; take its own (local) calendar date
        return day.date()
    return day


@lru_cache(maxsize=4096)
def _day_info(day: dt.date) -> tuple[bool, str | None]:
    """(is working day, holiday name or None) of one calendar date."""
    try:
        working = bool(chinese_calendar.is_workday(day))
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # year outside the package's notices: plain Monday-Friday week
        return day.weekday() < 5, None
    return working, (name if on_holiday else None)


def calendar_covers(year: int) -> bool:
    """Whether `chinese_calendar` knows the official holidays of `year` (otherwise Monday-Friday is assumed)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: dt.date | dt.datetime | pd.Timestamp | str) -> bool:
    """Whether a date is a working day in mainland China.

    Parameters
    ----------
    day : datetime.date, datetime.datetime, pandas.Timestamp or ISO string
        The calendar date; a datetime counts by its own (local) date, so pass park-local times.

    Returns
    -------
    bool
        True on Monday-Friday that are not public holidays and on weekend days declared working days (调休).
    """
    return _day_info(_as_date(day))[0]


def holiday_name(day: dt.date | dt.datetime | pd.Timestamp | str) -> str | None:
    """English name of the public holiday on `day` (e.g. ``"Spring Festival"``), or None on other days."""
    return _day_info(_as_date(day))[1]


def _per_day(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Unique local dates of `index` and, for every element, the position of its date among them."""
    local = index.tz_localize(None) if index.tz is not None else index
    unique, inverse = np.unique(local.normalize().to_numpy(), return_inverse=True)
    return np.asarray(pd.DatetimeIndex(unique).date, dtype=object), inverse.reshape(-1)


def working_day_mask(index: pd.DatetimeIndex) -> np.ndarray:
    """Vectorised `is_working_day` for every timestamp of a park-local DatetimeIndex.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timestamps in the park's time zone (the date of each local timestamp decides).

    Returns
    -------
    numpy.ndarray of bool
        One flag per timestamp.
    """
    dates, inverse = _per_day(index)
    flags = np.fromiter((_day_info(d)[0] for d in dates), dtype=bool, count=len(dates))
    return flags[inverse]


def holiday_mask(index: pd.DatetimeIndex, name: str | None = None) -> np.ndarray:
    """Flags of timestamps falling on a public holiday (any holiday, or only the one called `name`).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timestamps in the park's time zone.
    name : str, optional
        Holiday name as `chinese_calendar` spells it, e.g. ``SPRING_FESTIVAL``; None means any holiday.
    """
    dates, inverse = _per_day(index)
    names = [_day_info(d)[1] for d in dates]
    flags = np.array([n is not None and (name is None or n == name) for n in names], dtype=bool)
    return flags[inverse]
