"""Synthetic Shanghai weather for the demo park: clear-sky physics times a documented stochastic cloud model.

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order, so the same
``(year, seed, latitude, longitude, freq)`` gives an identical frame. Rows are labelled by interval START
times in Asia/Shanghai; irradiance and temperature are evaluated at the interval MIDPOINT and stand for the
interval mean.

Model
-----
1. **Clear sky.** pvlib solar position and the Ineichen-Perez clear-sky model with the monthly Linke
   turbidity climatology shipped with pvlib (``LinkeTurbidities.h5``), interpolated linearly to the day of
   year, site altitude 4 m.

2. **Daily weather regime** (a Markov chain over the days of the year). States: 0 clear, 1 partly cloudy,
   2 overcast, 3 rain. The probability of tomorrow's state ``j`` given today's ``i`` is::

       P(i -> j) = p * [i == j] + (1 - p) * pi_j(day)

   so each regime persists with probability ``p`` and is otherwise redrawn from the seasonal climatology
   ``pi(day)`` (the chain's stationary distribution is ``pi`` itself). ``pi`` follows Shanghai's seasons
   (`MONTHLY_REGIME_PROBABILITIES`): a grey, damp winter and spring, the plum-rain season (梅雨, 15 June to
   10 July: 40 % overcast, 35 % rain, persistence 0.7), a sunnier high summer under the subtropical high
   with typhoon rain in August, and the clearest months in autumn (October-November). Elsewhere ``p = 0.5``.
   The first day is drawn from ``pi``.

3. **Intraday cloud cover** ``c`` in [0, 1] (the ``cloud_index``, as a fraction of sky covered):
   ``c = clip(mu_r + sigma_r * x, 0, 1)``, where ``mu_r, sigma_r`` are the mean and spread of the day's
   regime (`REGIME_CLOUD_MEAN`, `REGIME_CLOUD_SPREAD`: clear 0.20 +/- 0.12, partly cloudy 0.60 +/- 0.22,
   overcast 0.93 +/- 0.05, rain 1.00 +/- 0.03) and ``x`` is a unit-variance AR(1) process at the
   data step with a 3-hour e-folding time (``phi = exp(-dt / 3 h)``, 0.920 at 15 min). ``x`` runs on across
   midnights; only the regime mean and spread switch.

4. **Clear-sky index** from the Kasten-Czeplak (1980) relation ``k = 1 - 0.75 * c**3.4``; on rain days an
   extra factor 0.55 stands for thick nimbostratus (``k`` = 0.14 under full rain cover).
   ``GHI = k * GHI_clear``; GHI is split into DNI and DHI with the Erbs (1982) decomposition
   (``pvlib.irradiance.erbs``).

5. **Air temperature** [degC] ``T = T_season(doy) + A(day) * cos(2 pi (h - 14.5) / 24) + dT(day) + e``:
   ``T_season = 16.5 - 12 cos(2 pi (doy - 26) / 365.25)`` fits Shanghai's monthly means (Jan ~4.7 degC,
   Jul/Aug ~28 degC; Xujiahui 1991-2020 normals: Jan 4.8, Jul 28.7, Aug 28.4); the diurnal amplitude ``A``
   is 4.0 / 3.2 / 2.0 / 1.5 degC on clear / partly cloudy / overcast / rain days and the regime offset
   ``dT`` is +0.5 / 0 / -0.5 / -1.5 degC, both interpolated between the days' noons so that nothing jumps
   at midnight; ``e`` is AR(1) noise with a 36-hour e-folding time and 2.0 degC standard deviation.

6. **Wind speed** [m/s]: a log-normal AR(1) process (12-hour e-folding time, log-sd 0.35) around a median
   of 2.6 m/s, 20 % stronger in the afternoon and 30 % stronger on rain days; Shanghai's mean is ~3 m/s.

The result is a plausible, not a measured, year. Annual GHI is about 1,290 kWh/m2 for seed 42 and
1,300-1,600 kWh/m2 over other seeds (clear-sky total at the site: ~2,180 kWh/m2); Shanghai measurements and
satellite data give roughly 1,250-1,400 kWh/m2. The spread between seeds is wider than Shanghai's real
year-to-year variation (~5 %) because the regime chain is the only source of persistence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
from scipy.signal import lfilter

TIMEZONE = "Asia/Shanghai"
ALTITUDE_M = 4.0

CLEAR, PARTLY, OVERCAST, RAIN = 0, 1, 2, 3
REGIME_NAMES = ("clear", "partly_cloudy", "overcast", "rain")

# Probability of [clear, partly cloudy, overcast, rain] days by calendar month (the chain's climatology).
MONTHLY_REGIME_PROBABILITIES = np.array(
    [
        [0.25, 0.30, 0.30, 0.15],  # Jan
        [0.20, 0.30, 0.30, 0.20],  # Feb
        [0.20, 0.30, 0.28, 0.22],  # Mar: spring rain
        [0.22, 0.33, 0.25, 0.20],  # Apr
        [0.25, 0.35, 0.22, 0.18],  # May
        [0.20, 0.35, 0.25, 0.20],  # Jun (before the plum rain)
        [0.35, 0.40, 0.15, 0.10],  # Jul (after the plum rain): subtropical high
        [0.30, 0.40, 0.15, 0.15],  # Aug: typhoon rain
        [0.30, 0.35, 0.20, 0.15],  # Sep
        [0.40, 0.30, 0.18, 0.12],  # Oct: clearest
        [0.35, 0.30, 0.22, 0.13],  # Nov
        [0.30, 0.30, 0.27, 0.13],  # Dec
    ]
)
PLUM_RAIN_PROBABILITIES = np.array([0.05, 0.20, 0.40, 0.35])
PLUM_RAIN_START = (6, 15)  # (month, day), inclusive
PLUM_RAIN_END = (7, 10)  # inclusive
PERSISTENCE = 0.5
PLUM_RAIN_PERSISTENCE = 0.7

REGIME_CLOUD_MEAN = np.array([0.20, 0.60, 0.93, 1.00])
REGIME_CLOUD_SPREAD = np.array([0.12, 0.22, 0.05, 0.03])
RAIN_EXTRA_TRANSMITTANCE = 0.55
CLOUD_EFOLD_H = 3.0

REGIME_DIURNAL_AMPLITUDE_C = np.array([4.0, 3.2, 2.0, 1.5])
REGIME_TEMPERATURE_OFFSET_C = np.array([0.5, 0.0, -0.5, -1.5])
TEMP_MEAN_C, TEMP_SEASONAL_AMPLITUDE_C, TEMP_COLDEST_DOY = 16.5, 12.0, 26
TEMP_NOISE_SD_C, TEMP_NOISE_EFOLD_H = 2.0, 36.0

WIND_MEDIAN_M_S, WIND_LOG_SD, WIND_EFOLD_H = 2.6, 0.35, 12.0

COLUMNS = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2", "temp_air_c", "wind_speed_m_s", "cloud_index")


def year_index(year: int, freq: str = "15min", tz: str = TIMEZONE) -> pd.DatetimeIndex:
    """Interval start times covering the local calendar year ``[1 Jan year, 1 Jan year+1)`` in `tz`."""
    return pd.date_range(
        pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1), freq=freq, tz=tz, inclusive="left", name="ts_start"
    )


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) series of unit variance: ``x[t] = phi x[t-1] + sqrt(1 - phi^2) e[t]``, ``x[0] ~ N(0, 1)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the standard normal innovations (draws exactly `n` of them).
    n : int
        Length of the series.
    phi : float
        Lag-one autocorrelation, 0 <= phi < 1 [-].
    """
    e = rng.standard_normal(n)
    e[1:] *= np.sqrt(1.0 - phi * phi)
    return lfilter([1.0], [1.0, -phi], e)


def kasten_czeplak_index(cloud: np.ndarray) -> np.ndarray:
    """Clear-sky index ``GHI / GHI_clear = 1 - 0.75 c^3.4`` for cloud cover fraction `c` in [0, 1] [-]."""
    return 1.0 - 0.75 * np.power(np.clip(cloud, 0.0, 1.0), 3.4)


def regime_probabilities(dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal climatology ``pi`` (days x 4) and persistence ``p`` (days) of the daily regime chain."""
    month = dates.month.to_numpy()
    md = month * 100 + dates.day.to_numpy()
    plum = (md >= PLUM_RAIN_START[0] * 100 + PLUM_RAIN_START[1]) & (md <= PLUM_RAIN_END[0] * 100 + PLUM_RAIN_END[1])
    pi = MONTHLY_REGIME_PROBABILITIES[month - 1]
    pi = np.where(plum[:, None], PLUM_RAIN_PROBABILITIES[None, :], pi)
    persistence = np.where(plum, PLUM_RAIN_PERSISTENCE, PERSISTENCE)
    return pi, persistence


def daily_regimes(rng: np.random.Generator, dates: pd.DatetimeIndex) -> np.ndarray:
    """Draw the Markov chain of daily weather regimes (0 clear, 1 partly cloudy, 2 overcast, 3 rain).

    One uniform number per day decides whether the day keeps yesterday's regime (probability ``p``), a
    second one draws a fresh regime from the seasonal climatology; both are drawn up front, so the only loop
    is a cheap scan over the days.
    """
    pi, persistence = regime_probabilities(dates)
    n = len(dates)
    keep = rng.random(n) < persistence
    fresh_u = rng.random(n)
    fresh = (fresh_u[:, None] > np.cumsum(pi, axis=1)).sum(axis=1).clip(0, 3)
    keep[0] = False
    # regime[d] = regime[d-1] where keep, else fresh[d]: take the fresh draw of the last non-kept day
    last_fresh = np.maximum.accumulate(np.where(keep, 0, np.arange(n)))
    return fresh[last_fresh].astype(np.int8)


def _phi(step_h: float, efold_h: float) -> float:
    return float(np.exp(-step_h / efold_h))


def _interp_daily(day_values: np.ndarray, day_pos: np.ndarray) -> np.ndarray:
    """Interpolate one value per day (taken at local noon) linearly onto fractional day positions."""
    centres = np.arange(len(day_values)) + 0.5
    return np.interp(day_pos, centres, day_values)


def _clear_sky(times_mid: pd.DatetimeIndex, latitude: float, longitude: float) -> pd.DataFrame:
    """Solar position and Ineichen clear-sky irradiance [W/m2] at the given (midpoint) times."""
    solpos = pvlib.solarposition.get_solarposition(times_mid, latitude, longitude, altitude=ALTITUDE_M)
    zenith = solpos["zenith"].to_numpy()
    apparent_zenith = solpos["apparent_zenith"].to_numpy()
    doy = times_mid.tz_convert("UTC").day_of_year.to_numpy()
    # monthly Linke turbidity from pvlib's climatology, interpolated on the day of year between mid-months
    mid_months = pd.DatetimeIndex([pd.Timestamp(2015, m, 15, tz="UTC") for m in range(1, 13)])
    monthly = pvlib.clearsky.lookup_linke_turbidity(mid_months, latitude, longitude, interp_turbidity=False)
    mid_doy = mid_months.day_of_year.to_numpy()
    lt = monthly.to_numpy()
    linke = np.interp(doy, np.r_[mid_doy[-1] - 365, mid_doy, mid_doy[0] + 365], np.r_[lt[-1], lt, lt[0]])
    dni_extra = pvlib.irradiance.get_extra_radiation(doy)
    # evaluate the clear-sky model only while the sun is up (its airmass is undefined below the horizon)
    up = apparent_zenith < 90.0
    airmass = pvlib.atmosphere.get_relative_airmass(apparent_zenith[up])
    airmass_abs = pvlib.atmosphere.get_absolute_airmass(airmass, pvlib.atmosphere.alt2pres(ALTITUDE_M))
    cs = pvlib.clearsky.ineichen(
        apparent_zenith[up], airmass_abs, linke[up], altitude=ALTITUDE_M, dni_extra=dni_extra[up]
    )
    ghi = np.zeros(len(times_mid))
    ghi[up] = np.nan_to_num(np.asarray(cs["ghi"], dtype=float), nan=0.0)
    return pd.DataFrame({"ghi_clear": ghi, "zenith": zenith, "doy": doy}, index=times_mid)


def shanghai_weather(
    year: int, seed: int, latitude: float = 31.2, longitude: float = 121.5, freq: str = "15min"
) -> pd.DataFrame:
    """One synthetic year of Shanghai weather at the park (see the module docstring for the model).

    Parameters
    ----------
    year : int
        Local calendar year to cover.
    seed : int
        Seed of ``numpy.random.default_rng``; the same arguments give an identical frame.
    latitude, longitude : float
        Site position [degrees north, degrees east]. Default: Baoshan, Shanghai.
    freq : str
        Step of the series (pandas frequency string), default 15 minutes.

    Returns
    -------
    pandas.DataFrame
        Indexed by interval start times in Asia/Shanghai (``ts_start``), with columns ``ghi_w_m2``,
        ``dni_w_m2``, ``dhi_w_m2`` (interval-mean irradiance [W/m2]), ``temp_air_c`` [degC],
        ``wind_speed_m_s`` [m/s], ``cloud_index`` (cloud cover fraction, 0 clear .. 1 overcast [-]) and
        ``regime`` (the day's weather regime: 0 clear, 1 partly cloudy, 2 overcast, 3 rain).
    """
    rng = np.random.default_rng(seed)
    index = year_index(year, freq)
    step = pd.Timedelta(freq)
    step_h = step / pd.Timedelta(hours=1)
    n = len(index)
    times_mid = index + step / 2
    cs = _clear_sky(times_mid, latitude, longitude)

    # daily regimes and the intraday cloud process
    dates = pd.date_range(pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), freq="D")
    regimes = daily_regimes(rng, dates)
    day_of_row = ((index.tz_localize(None) - pd.Timestamp(year, 1, 1)) // pd.Timedelta(days=1)).to_numpy()
    regime = regimes[day_of_row]
    x_cloud = ar1(rng, n, _phi(step_h, CLOUD_EFOLD_H))
    cloud = np.clip(REGIME_CLOUD_MEAN[regime] + REGIME_CLOUD_SPREAD[regime] * x_cloud, 0.0, 1.0)
    k = kasten_czeplak_index(cloud) * np.where(regime == RAIN, RAIN_EXTRA_TRANSMITTANCE, 1.0)
    ghi = k * cs["ghi_clear"].to_numpy()
    split = pvlib.irradiance.erbs(ghi, cs["zenith"].to_numpy(), cs["doy"].to_numpy())
    dni = np.nan_to_num(np.asarray(split["dni"], dtype=float), nan=0.0)
    dhi = np.nan_to_num(np.asarray(split["dhi"], dtype=float), nan=0.0)

    # temperature
    local_mid = times_mid.tz_localize(None)
    day_pos = ((local_mid - pd.Timestamp(year, 1, 1)) / pd.Timedelta(days=1)).to_numpy()
    hour = (local_mid - local_mid.normalize()) / pd.Timedelta(hours=1)
    hour = np.asarray(hour, dtype=float)
    doy = day_pos + 1.0
    seasonal = TEMP_MEAN_C - TEMP_SEASONAL_AMPLITUDE_C * np.cos(2 * np.pi * (doy - TEMP_COLDEST_DOY) / 365.25)
    amplitude = _interp_daily(REGIME_DIURNAL_AMPLITUDE_C[regimes], day_pos)
    offset = _interp_daily(REGIME_TEMPERATURE_OFFSET_C[regimes], day_pos)
    temp_noise = TEMP_NOISE_SD_C * ar1(rng, n, _phi(step_h, TEMP_NOISE_EFOLD_H))
    temp = seasonal + amplitude * np.cos(2 * np.pi * (hour - 14.5) / 24.0) + offset + temp_noise

    # wind
    x_wind = ar1(rng, n, _phi(step_h, WIND_EFOLD_H))
    diurnal = 1.0 + 0.2 * np.clip(np.cos(2 * np.pi * (hour - 15.0) / 24.0), 0.0, None)
    wind = WIND_MEDIAN_M_S * np.exp(WIND_LOG_SD * x_wind) * diurnal * np.where(regime == RAIN, 1.3, 1.0)

    return pd.DataFrame(
        {
            "ghi_w_m2": ghi,
            "dni_w_m2": dni,
            "dhi_w_m2": dhi,
            "temp_air_c": temp,
            "wind_speed_m_s": wind,
            "cloud_index": cloud,
            "regime": regime,
        },
        index=index,
    )
