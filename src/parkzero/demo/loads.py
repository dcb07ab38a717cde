"""Load shapes of the demo park: dimensionless daily/weekly/weather profiles and the steel plant's heat cycle.

Every function is pure and vectorised: it takes arrays over the intervals of a year (local hour, working-day
flags, air temperature ...) and returns a profile, normally in [0, 1] as a fraction of a rated power; the
channel models of `parkzero.demo.park` scale them to kW, Nm3/h, m3/h or t/h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Office occupancy on working days: (hour, fraction of the peak) breakpoints, linear in between (8:30-18:00
# full, lunch dip, stragglers until ~20:00).
OFFICE_WORKDAY = (
    (0, 0.03),
    (7.0, 0.03),
    (8.0, 0.45),
    (8.5, 1.0),
    (12.0, 1.0),
    (12.25, 0.8),
    (13.0, 0.8),
    (13.25, 1.0),
    (18.0, 1.0),
    (18.5, 0.55),
    (20.0, 0.2),
    (22.0, 0.05),
    (24.0, 0.03),
)
OFFICE_RESTDAY = ((0, 0.03), (9.0, 0.03), (10.0, 0.10), (16.0, 0.10), (17.0, 0.03), (24.0, 0.03))
CANTEEN_WORKDAY = (
    (0, 0.02),
    (6.0, 0.02),
    (7.0, 0.35),
    (8.5, 0.35),
    (9.0, 0.15),
    (10.5, 0.5),
    (11.0, 1.0),
    (12.75, 1.0),
    (13.5, 0.2),
    (16.5, 0.4),
    (17.0, 0.8),
    (18.5, 0.8),
    (19.5, 0.05),
    (24.0, 0.02),
)
LAB_DAY = ((0, 0.05), (8.0, 0.05), (8.75, 1.0), (17.0, 1.0), (17.75, 0.1), (20.0, 0.05), (24.0, 0.05))


def piecewise_daily(hour: np.ndarray, breakpoints: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Evaluate a daily profile given as (hour, value) breakpoints at fractional local hours [h]."""
    xs, ys = zip(*breakpoints, strict=True)
    return np.interp(hour, xs, ys)


def office_occupancy(hour: np.ndarray, working: np.ndarray) -> np.ndarray:
    """Office occupancy [-]: 8:30-18:00 on working days, a few people on rest days.

    Parameters
    ----------
    hour : numpy.ndarray
        Local hour of the interval midpoint [h], 0-24.
    working : numpy.ndarray of bool
        Working-day flag (Chinese calendar, 调休 included).
    """
    return np.where(working, piecewise_daily(hour, OFFICE_WORKDAY), piecewise_daily(hour, OFFICE_RESTDAY))


def canteen(hour: np.ndarray, working: np.ndarray) -> np.ndarray:
    """Canteen kitchen [-]: breakfast, lunch and dinner service on working days, 10 % on rest days."""
    return np.where(working, piecewise_daily(hour, CANTEEN_WORKDAY), 0.1 * piecewise_daily(hour, CANTEEN_WORKDAY))


def lab_day(hour: np.ndarray, working: np.ndarray) -> np.ndarray:
    """Day-shift laboratory or workshop [-]: 8:45-17:00 on working days, standby otherwise."""
    return np.where(working, piecewise_daily(hour, LAB_DAY), 0.05)


def shift3(hour: np.ndarray) -> np.ndarray:
    """Three-shift industrial operation [-]: 1 around the clock, 0.8 in the quarter-hours of shift handover
    (00:00, 08:00, 16:00)."""
    handover = np.isin(np.floor(hour * 4) / 4, (0.0, 8.0, 16.0))
    return np.where(handover, 0.8, 1.0)


def shift2(hour: np.ndarray) -> np.ndarray:
    """Two-shift operation 06:00-22:00 [-] with half-hour ramps; 0.05 standby at night."""
    return piecewise_daily(hour, ((0, 0.05), (5.75, 0.05), (6.25, 1.0), (21.75, 1.0), (22.25, 0.05), (24, 0.05)))


def daylight_fraction(ghi_w_m2: np.ndarray, full_w_m2: float = 400.0) -> np.ndarray:
    """Share of daylight available indoors [-], 0 at night to 1 at `full_w_m2` of global irradiance."""
    return np.clip(ghi_w_m2 / full_w_m2, 0.0, 1.0)


def lighting(occupancy: np.ndarray, ghi_w_m2: np.ndarray, dimming: float = 0.6) -> np.ndarray:
    """Lighting with daylight dimming [-]: occupancy x (1 - dimming x daylight)."""
    return occupancy * (1.0 - dimming * daylight_fraction(ghi_w_m2))


def darkness(solar_zenith_deg: np.ndarray) -> np.ndarray:
    """Street lighting switch [-]: 1 from sunset to sunrise (sun more than 0.5 deg below the horizon)."""
    return (solar_zenith_deg > 90.5).astype(float)


def cooling_demand(temp_air_c: np.ndarray, balance_c: float = 22.0, full_c: float = 34.0) -> np.ndarray:
    """Cooling demand [-]: 0 below the balance temperature, 1 at `full_c` and above [degC]."""
    return np.clip((temp_air_c - balance_c) / (full_c - balance_c), 0.0, 1.0)


def heating_demand(temp_air_c: np.ndarray, balance_c: float = 12.0, full_c: float = -2.0) -> np.ndarray:
    """Heating demand [-]: 0 above the balance temperature, 1 at `full_c` and below [degC]."""
    return np.clip((balance_c - temp_air_c) / (balance_c - full_c), 0.0, 1.0)


def hvac(
    schedule: np.ndarray, temp_air_c: np.ndarray, ventilation: float = 0.12, heating_share: float = 0.7
) -> np.ndarray:
    """Electric HVAC load [-]: schedule x (ventilation + cooling + heating_share x heating), at most 1.

    Shanghai offices cool with chillers or VRF in summer and heat with the same heat pumps in winter, whose
    electric demand at design conditions is lower than in summer (`heating_share`).
    """
    thermal = ventilation + cooling_demand(temp_air_c) + heating_share * heating_demand(temp_air_c)
    return schedule * np.clip(thermal, 0.0, 1.0)


def office_hvac_schedule(hour: np.ndarray, working: np.ndarray) -> np.ndarray:
    """HVAC running schedule of an office [-]: pre-start from 7:30, off after 19:00, 5 % on rest days."""
    work = piecewise_daily(hour, ((0, 0.0), (7.25, 0.0), (7.75, 1.0), (18.5, 1.0), (19.25, 0.1), (21, 0.0), (24, 0.0)))
    return np.where(working, work, 0.05)


def data_centre_it(day_of_year: np.ndarray, hour: np.ndarray, growth: float = 0.06) -> np.ndarray:
    """Data-centre IT load [-]: flat, +/-2 % daily swing (busier evenings), growing linearly by `growth` a year."""
    trend = 1.0 - growth / 2 + growth * (day_of_year - 1) / 365.0
    return trend * (1.0 + 0.02 * np.cos(2 * np.pi * (hour - 20.0) / 24.0))


def data_centre_chillers(temp_air_c: np.ndarray) -> np.ndarray:
    """Share of chiller capacity running [-]: free cooling below ~10 degC, full load at 35 degC."""
    return np.clip((temp_air_c - 10.0) / 25.0, 0.02, 1.0)


def data_centre_towers(temp_air_c: np.ndarray) -> np.ndarray:
    """Cooling-tower fan and make-up share [-]: 0.25 in winter (free cooling) to 1 at 33 degC."""
    return np.clip(0.25 + 0.75 * (temp_air_c - 5.0) / 28.0, 0.25, 1.0)


# --------------------------------------------------------------------------------------------------------------
# steel plant: electric arc furnace heats on a one-minute grid


@dataclass(frozen=True)
class SteelPlant:
    """Parameters of the EAF meltshop (a small scrap-based mini-mill)."""

    heat_size_t: float = 15.0  # liquid steel per heat [t]
    tap_to_tap_min: float = 62.0  # mean tap-to-tap time [min]
    power_off_min: tuple[float, float] = (15.0, 22.0)  # tapping, charging, fettling [min], uniform range
    lf_delay_min: int = 5  # ladle furnace starts after tapping [min]
    lf_duration_min: int = 20  # ladle furnace arcing time [min]
    casting_delay_min: int = 35  # tapping -> caster [min]
    casting_duration_min: int = 60  # one ladle on the caster [min]
    rolling_delay_min: int = 120  # tapping -> rolled product (hot charging through the reheating furnace) [min]
    rolling_yield: float = 0.96  # rolled product / liquid steel [t/t]
    maintenance_weekday: int = 3  # weekly maintenance stop (Monday = 0): Thursday
    maintenance_hours: tuple[float, float] = (8.0, 14.0)


def steel_operating_minutes(
    minute_hour: np.ndarray,
    minute_weekday: np.ndarray,
    minute_working: np.ndarray,
    minute_shutdown: np.ndarray,
    plant: SteelPlant = SteelPlant(),
) -> np.ndarray:
    """Minutes the meltshop may melt [bool]: three shifts on working days, valley hours only (22-06) on rest
    days, no melting in the weekly maintenance window or the Spring Festival shutdown."""
    valley = (minute_hour >= 22.0) | (minute_hour < 6.0)
    maintenance = (
        (minute_weekday == plant.maintenance_weekday)
        & (minute_hour >= plant.maintenance_hours[0])
        & (minute_hour < plant.maintenance_hours[1])
        & minute_working
    )
    return np.where(minute_working, ~maintenance, valley) & ~minute_shutdown


def steel_heats(
    rng: np.random.Generator, operating: np.ndarray, plant: SteelPlant = SteelPlant()
) -> dict[str, np.ndarray]:
    """Simulate EAF heats on a one-minute grid.

    A continuous sequence of heats (gamma-distributed tap-to-tap times around `tap_to_tap_min`, power-off
    time drawn uniformly, relative arc power N(1, 0.05) per heat) is laid over the year and masked by
    `operating`: arcing outside operating minutes is dropped and a tap only happens in an operating minute.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source for the heat sequence.
    operating : numpy.ndarray of bool
        Per-minute operating permission.

    Returns
    -------
    dict of numpy.ndarray, one value per minute
        ``arc`` relative arc power (0 when off, ~1 when arcing) [-], ``tap_t`` liquid steel tapped [t],
        ``lf`` ladle furnace arcing [0/1], ``casting`` caster running [0/1], ``rolling`` rolling mill busy
        [0/1], ``rolled_t`` rolled product leaving the mill [t].
    """
    n = len(operating)
    n_heats = int(n / (plant.tap_to_tap_min * 0.8)) + 10
    shape = 16.0
    tap_to_tap = np.clip(rng.gamma(shape, plant.tap_to_tap_min / shape, n_heats), 48.0, 110.0)
    power_off = rng.uniform(*plant.power_off_min, n_heats)
    power = np.clip(rng.normal(1.0, 0.05, n_heats), 0.85, 1.15)
    tap_mass = plant.heat_size_t * np.clip(rng.normal(1.0, 0.03, n_heats), 0.9, 1.1)
    starts = np.concatenate([[0.0], np.cumsum(tap_to_tap)[:-1]]) - rng.uniform(0, plant.tap_to_tap_min)
    minute = np.arange(n, dtype=float) + 0.5
    heat = np.searchsorted(starts, minute, side="right") - 1
    arcing_end = starts + tap_to_tap - power_off
    arcing = minute < arcing_end[heat]
    arc = np.where(arcing & operating, power[heat], 0.0)
    tap_minute = np.floor(arcing_end).astype(np.int64)
    ok = (tap_minute >= 0) & (tap_minute < n)
    tap_t = np.zeros(n)
    tap_t[tap_minute[ok]] = np.where(operating[tap_minute[ok]], tap_mass[ok], 0.0)
    tapped = tap_t > 0
    lf = _after(tapped, plant.lf_delay_min, plant.lf_duration_min)
    casting = _after(tapped, plant.casting_delay_min, plant.casting_duration_min)
    rolled_t = np.zeros(n)
    rolled_t[plant.rolling_delay_min :] = tap_t[: n - plant.rolling_delay_min] * plant.rolling_yield
    rolling = _after(tapped, plant.rolling_delay_min - 30, 60)
    return {"arc": arc, "tap_t": tap_t, "lf": lf, "casting": casting, "rolling": rolling, "rolled_t": rolled_t}


def _after(events: np.ndarray, delay: int, duration: int) -> np.ndarray:
    """1 during [event + delay, event + delay + duration) of any event, else 0 (minute grid)."""
    kernel = np.r_[np.zeros(delay), np.ones(duration)]
    return np.minimum(np.convolve(events.astype(float), kernel)[: len(events)], 1.0)


# --------------------------------------------------------------------------------------------------------------
# stochastic equipment: kilns, laboratory test runs, EV charging sessions


def persistent_days(rng: np.random.Generator, n_days: int, p_on: float, persistence: float) -> np.ndarray:
    """On/off days [bool]: each day keeps yesterday's state with probability `persistence`, otherwise it is
    on with probability `p_on` (so `p_on` is also the long-run share of on days)."""
    keep = rng.random(n_days) < persistence
    fresh = rng.random(n_days) < p_on
    keep[0] = False
    last_fresh = np.maximum.accumulate(np.where(keep, 0, np.arange(n_days)))
    return fresh[last_fresh]


def maintenance_stops(
    rng: np.random.Generator, n_days: int, stops_per_year: float = 5.0, duration_days: tuple[int, int] = (2, 4)
) -> np.ndarray:
    """Days a continuous unit (a kiln) is down for maintenance [bool]: stops start on random days, each lasts a
    whole number of days drawn uniformly from `duration_days` (inclusive)."""
    starts = rng.random(n_days) < stops_per_year / 365.0
    lengths = rng.integers(duration_days[0], duration_days[1] + 1, n_days)
    day = np.arange(n_days)
    until = np.maximum.accumulate(np.where(starts, day + lengths, 0))
    return day < until


def ev_active_points(
    rng: np.random.Generator, arrivals: np.ndarray, durations: tuple[int, ...], points: int
) -> np.ndarray:
    """Charge points busy in each interval, from Poisson session arrivals.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    arrivals : numpy.ndarray
        Expected number of sessions starting in each interval [-].
    durations : tuple of int
        Possible session lengths [intervals], equally likely.
    points : int
        Number of charge points; sessions finding all points busy wait, modelled by capping at `points`.
    """
    busy = np.zeros(len(arrivals))
    for d in durations:
        starts = rng.poisson(arrivals / len(durations)).astype(float)
        busy += np.convolve(starts, np.ones(d))[: len(arrivals)]
    return np.minimum(busy, points)


# expected session starts per point per hour, by local hour
EV_ARRIVALS = {
    "ev_workplace": (
        ((0, 0.0), (7.25, 0.0), (8.0, 0.25), (9.0, 0.3), (10.0, 0.05), (13.0, 0.05), (14.0, 0.0), (24, 0.0)),
        0.1,
    ),
    "ev_public_dc": (
        (
            (0, 0.02),
            (6.0, 0.02),
            (7.0, 0.12),
            (11.0, 0.15),
            (12.0, 0.3),
            (13.5, 0.15),
            (17.0, 0.2),
            (18.5, 0.35),
            (20.0, 0.2),
            (23.0, 0.08),
            (24, 0.02),
        ),
        1.0,
    ),
    "ev_truck": (
        (
            (0, 0.05),
            (5.0, 0.05),
            (6.0, 0.0),
            (11.25, 0.0),
            (11.5, 0.5),
            (12.75, 0.5),
            (13.0, 0.0),
            (21.5, 0.0),
            (22.0, 0.6),
            (23.0, 0.3),
            (24, 0.05),
        ),
        0.3,
    ),
}
# session lengths [15-min intervals] and mean power while busy as a share of the rated power (taper)
EV_SESSIONS = {"ev_workplace": ((8, 10, 12, 14), 0.95), "ev_public_dc": ((2, 3, 4), 0.7), "ev_truck": ((4, 5, 6), 0.85)}


def ev_charging(
    rng: np.random.Generator, pattern: str, hour: np.ndarray, working: np.ndarray, points: int, dt_h: float = 0.25
) -> np.ndarray:
    """Charging power of `points` charge points as a multiple of one point's rating [-] (0 .. points).

    ``ev_workplace``: AC chargers, arrivals 7:30-10:00 on working days (10 % on rest days), 2-3.5 h
    sessions. ``ev_public_dc``: fast chargers used every day with lunch and evening peaks, 30-60 min
    sessions at 70 % of rated power on average. ``ev_truck``: heavy-truck chargers, overnight in the valley
    tariff and at lunch, 1-1.5 h sessions, 30 % on rest days.
    """
    profile, rest_share = EV_ARRIVALS[pattern]
    durations, power_share = EV_SESSIONS[pattern]
    per_hour = piecewise_daily(hour, profile) * np.where(working, 1.0, rest_share)
    busy = ev_active_points(rng, per_hour * dt_h * points, durations, points)
    return busy * power_share
