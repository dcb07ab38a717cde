"""PV physics of the park: per-array AC output from weather, weather files, and performance checks.

Physics (all pvlib), per array and interval; rows are labelled by interval START and stand for the interval mean:

1. solar position at the interval midpoints (`sun_geometry`);
2. Hay-Davies transposition of GHI/DNI/DHI onto the array plane (``pvlib.irradiance.get_total_irradiance``,
   ground albedo 0.2 unless the array says otherwise); the beam component is reduced by the Fresnel/glass
   incidence-angle modifier (``pvlib.iam.physical``), diffuse and ground-reflected light by a flat 5 %
   (`plane_of_array`);
3. Faiman cell temperature (``pvlib.temperature.faiman``; open rack on roofs u0 = 25, u1 = 6.84; less
   ventilated facades u0 = 20, u1 = 3) from the total plane-of-array irradiance (`cell_temperature_c`);
4. PVWatts DC (``pvlib.pvsystem.pvwatts_dc``, gamma -0.37 %/K unless the array says otherwise) from the
   effective irradiance less the array's shading and soiling losses, then the other DC system losses
   ``losses_pct`` (wiring, mismatch, availability...; PVWatts' default is 14 %) (`dc_power_kw`);
5. PVWatts inverter (``pvlib.inverter.pvwatts``, nominal efficiency 96 %, AC rating kWp / 1.15 unless the
   array gives its DC/AC ratio or inverter rating) with clipping above the AC rating (`ac_power_kw`).

`PvArray` holds one array's parameters, read from a ``pv_array`` asset's registry ``params`` by
`PvArray.from_params`; `array_power_kw` runs the chain for one array and `park_pv_kw` for all arrays of a park.

Weather files people bring (`read_weather`): EnergyPlus EPW, NREL TMY3 CSV, PVGIS TMY CSV and a park's own
weather-station CSV (flexible English or Chinese headers, GB18030 or UTF-8). The result has the columns of
`WEATHER_COLUMNS` on a regular, time-zone aware index of interval starts, the same frame the demo's synthetic
weather has. A bad row rejects the whole file with every problem found (file, row, column, reason).

Performance (IEC 61724-1): `performance_ratio` (final yield over reference yield, daily and over a period, or
the performance index against modelled production) and `underperformance_alerts` (days when a metered array
delivered less than a share of its modelled energy; days too dull to judge are reported, not dropped).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pvlib

from parkzero.errors import Issue, IssueCollector, ValidationFailed
from parkzero.units import split_header_unit

__all__ = [
    "WEATHER_COLUMNS",
    "WEATHER_KINDS",
    "SunGeometry",
    "sun_geometry",
    "plane_of_array",
    "cell_temperature_c",
    "dc_power_kw",
    "ac_power_kw",
    "PvArray",
    "array_power_kw",
    "pv_ac_power_kw",
    "park_pv_kw",
    "read_weather",
    "PerformanceRatio",
    "performance_ratio",
    "Alert",
    "underperformance_alerts",
]

# -- model constants (defaults of a PvArray) ---------------------------------------------------------------------
ALBEDO = 0.2
DIFFUSE_IAM = 0.95
GAMMA_PDC_PER_K = -0.0037
INVERTER_EFFICIENCY = 0.96
DC_AC_RATIO = 1.15
LOSSES_PCT = 14.0
FAIMAN = {"roof": (25.0, 6.84), "facade": (20.0, 3.0)}  # (u0 [W/m2/K], u1 [W/m2/K/(m/s)])
MOUNTINGS = tuple(FAIMAN)
G_STC_W_M2 = 1000.0  # irradiance at standard test conditions
MAX_STC_EFFICIENCY = 0.30  # kWp per m2 of module at 1 kW/m2; no commercial module comes near it

# -- weather files -----------------------------------------------------------------------------------------------
TIMEZONE = "Asia/Shanghai"
WEATHER_COLUMNS = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2", "temp_air_c", "wind_speed_m_s")
WEATHER_KINDS = ("epw", "tmy3", "pvgis", "station")
TYPICAL_YEAR = 1990  # year given to typical-year files that mix years (as pvlib does for PVGIS), non-leap
IRRADIANCE_MAX_W_M2 = 1500.0  # above anything the sun delivers at the ground, even with cloud enhancement
ZERO_OFFSET_W_M2 = 10.0  # night readings down to -10 W/m2 are a pyranometer's thermal offset: read as 0
TEMP_AIR_RANGE_C = (-60.0, 60.0)
WIND_SPEED_MAX_M_S = 60.0
WIND_SPEED_DEFAULT_M_S = 1.0  # assumed when a station has no anemometer (PVsyst's habit); noted in attrs

# -- performance -------------------------------------------------------------------------------------------------
MIN_INSOLATION_KWH_M2 = 1.0  # a day with less plane-of-array insolation is too dull for a daily PR
MIN_EXPECTED_SHARE = 0.2  # default: skip days expecting < 20 % of the best day's modelled energy


# ===============================================================================================================
# physics


@dataclass(frozen=True)
class SunGeometry:
    """Solar geometry at the interval midpoints of a weather frame."""

    zenith_deg: np.ndarray
    azimuth_deg: np.ndarray
    dni_extra_w_m2: np.ndarray


def sun_geometry(index: pd.DatetimeIndex, latitude: float, longitude: float) -> SunGeometry:
    """Solar zenith and azimuth [deg] and extraterrestrial DNI [W/m2] at the midpoints of `index`'s intervals.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Regular, time-zone aware interval start times.
    latitude, longitude : float
        Site position [degrees].
    """
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15)
    mid = index + step / 2
    solpos = pvlib.solarposition.get_solarposition(mid, latitude, longitude)
    doy = mid.tz_convert("UTC").day_of_year.to_numpy()
    return SunGeometry(
        zenith_deg=solpos["zenith"].to_numpy(),
        azimuth_deg=solpos["azimuth"].to_numpy(),
        dni_extra_w_m2=np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype=float),
    )


def plane_of_array(
    weather: pd.DataFrame, sun: SunGeometry, tilt_deg: float, azimuth_deg: float, albedo: float = ALBEDO
) -> tuple[np.ndarray, np.ndarray]:
    """Total and effective (after incidence-angle losses) irradiance on a plane [W/m2].

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` [W/m2] as from `read_weather` or
        `parkzero.demo.weather.shanghai_weather`.
    sun : SunGeometry
        Solar geometry of the same index.
    tilt_deg : float
        Plane tilt from horizontal [deg] (90 = vertical facade).
    azimuth_deg : float
        Direction the plane faces, clockwise from north [deg] (180 = south).
    albedo : float
        Ground reflectance [-].

    Returns
    -------
    poa_global_w_m2, poa_effective_w_m2 : numpy.ndarray
    """
    ghi = weather["ghi_w_m2"].to_numpy()
    dni = weather["dni_w_m2"].to_numpy()
    dhi = weather["dhi_w_m2"].to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        sun.zenith_deg,
        sun.azimuth_deg,
        dni,
        ghi,
        dhi,
        dni_extra=sun.dni_extra_w_m2,
        albedo=albedo,
        model="haydavies",
    )
    aoi = pvlib.irradiance.aoi(tilt_deg, azimuth_deg, sun.zenith_deg, sun.azimuth_deg)
    iam = np.asarray(pvlib.iam.physical(aoi), dtype=float)
    beam = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=float))
    diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=float))
    poa_global = np.clip(beam + diffuse, 0.0, None)
    effective = np.clip(beam * np.nan_to_num(iam) + diffuse * DIFFUSE_IAM, 0.0, None)
    return poa_global, effective


def cell_temperature_c(
    poa_global_w_m2: np.ndarray, temp_air_c: np.ndarray, wind_speed_m_s: np.ndarray, mounting: str = "roof"
) -> np.ndarray:
    """Faiman cell temperature [degC].

    Parameters
    ----------
    poa_global_w_m2 : numpy.ndarray
        Total plane-of-array irradiance [W/m2].
    temp_air_c : numpy.ndarray
        Air temperature [degC].
    wind_speed_m_s : numpy.ndarray
        Wind speed [m/s].
    mounting : str
        ``"roof"`` (ventilated, u0 = 25, u1 = 6.84) or ``"facade"`` (less ventilated, u0 = 20, u1 = 3).
    """
    if mounting not in FAIMAN:
        raise ValueError(f"unknown mounting {mounting!r}; expected one of {', '.join(MOUNTINGS)}")
    u0, u1 = FAIMAN[mounting]
    return np.asarray(pvlib.temperature.faiman(poa_global_w_m2, temp_air_c, wind_speed_m_s, u0=u0, u1=u1))


@dataclass(frozen=True)
class PvArray:
    """One PV array (a ``pv_array`` asset) and the parameters of its model chain.

    Parameters
    ----------
    code : str
        Asset code, used in messages and as the column name in `park_pv_kw`.
    kwp : float
        DC nameplate at STC [kWp], > 0.
    tilt_deg : float
        Tilt from horizontal [deg], 0..90 (90 = vertical facade).
    azimuth_deg : float
        Direction the modules face, clockwise from north [deg], 0 <= azimuth < 360 (180 = south).
    mounting : str
        ``"roof"`` or ``"facade"``; selects the thermal model.
    losses_pct : float
        DC system losses other than shading and soiling given separately [%], 0 <= losses < 100. PVWatts'
        14 % includes 2 % soiling and 3 % shading: take those out when you give them on their own.
    gamma_pdc_per_k : float
        Temperature coefficient of DC power [1/K], e.g. -0.0037 (= -0.37 %/K).
    inverter_efficiency : float
        Nominal inverter efficiency [-], 0 < eta <= 1.
    dc_ac_ratio : float, optional
        kWp per kW of inverter AC rating [-]; default 1.15. Give this or `inverter_kw`.
    inverter_kw : float, optional
        Inverter AC rating [kW].
    shading_loss_pct, soiling_loss_pct : float
        Light lost to shading and to dirt on the modules [%], 0 <= loss < 100.
    albedo : float
        Reflectance of the ground in front of the array [-], 0..1.
    area_m2 : float, optional
        Module area [m2]; only checked against `kwp` (implied STC efficiency at most 30 %).

    Notes
    -----
    Direct construction validates the values too (`ValidationFailed` naming the asset and field).
    """

    code: str
    kwp: float
    tilt_deg: float
    azimuth_deg: float
    mounting: str = "roof"
    losses_pct: float = LOSSES_PCT
    gamma_pdc_per_k: float = GAMMA_PDC_PER_K
    inverter_efficiency: float = INVERTER_EFFICIENCY
    dc_ac_ratio: float | None = None
    inverter_kw: float | None = None
    shading_loss_pct: float = 0.0
    soiling_loss_pct: float = 0.0
    albedo: float = ALBEDO
    area_m2: float | None = None

    def __post_init__(self) -> None:
        values = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        issues = _array_issues(self.code, {k: v for k, v in values.items() if v is not None})
        if issues:
            raise ValidationFailed(f"PV array {self.code!r} has invalid parameters", issues=issues)

    @property
    def ac_rating_kw(self) -> float:
        """Inverter AC rating [kW]: `inverter_kw`, else kWp / DC-AC ratio."""
        if self.inverter_kw is not None:
            return self.inverter_kw
        return self.kwp / (self.dc_ac_ratio if self.dc_ac_ratio is not None else DC_AC_RATIO)

    @classmethod
    def from_params(cls, code: str, params: Mapping[str, Any]) -> PvArray:
        """Read an array from a ``pv_array`` asset's registry ``params``.

        Parameters
        ----------
        code : str
            The asset's code (named in every message).
        params : mapping
            ``kwp``, ``tilt_deg``, ``azimuth_deg`` (required), ``mounting``, ``losses_pct`` and the optional
            fields of `PvArray`. Numbers may be numbers or numeric text; other keys are ignored.

        Raises
        ------
        ValidationFailed
            Listing every missing, non-numeric or out-of-range field with the asset code.
        """
        if not isinstance(params, Mapping):
            raise ValidationFailed(
                f"PV array {code!r} has invalid parameters",
                issues=[Issue(f"asset {code!r}: params must be a mapping of field to value", column="params")],
            )
        issues: list[Issue] = []
        values: dict[str, Any] = {}
        for name in _ARRAY_FIELDS:
            raw = params.get(name)
            if raw is None:
                if name in _REQUIRED_FIELDS:
                    issues.append(Issue(f"asset {code!r}: {name} is required ({_FIELD_HINTS[name]})", column=name))
                continue
            if name == "mounting":
                values[name] = raw.strip().lower() if isinstance(raw, str) else raw
                continue
            number = _as_number(raw)
            if isinstance(number, str):
                issues.append(Issue(f"asset {code!r}: {name} {number}", column=name, value=str(raw)))
            else:
                values[name] = number
        issues += _array_issues(code, values, shown={k: str(params[k]) for k in values})
        if issues:
            raise ValidationFailed(f"PV array {code!r} has invalid parameters", issues=issues)
        return cls(code=code, **values)


_REQUIRED_FIELDS = ("kwp", "tilt_deg", "azimuth_deg")
_FIELD_HINTS = {
    "kwp": "DC nameplate [kWp], > 0",
    "tilt_deg": "tilt from horizontal [deg], 0..90",
    "azimuth_deg": "direction faced, clockwise from north [deg], 0 <= azimuth < 360, 180 = south",
}
_ARRAY_FIELDS = (
    "kwp",
    "tilt_deg",
    "azimuth_deg",
    "mounting",
    "losses_pct",
    "gamma_pdc_per_k",
    "inverter_efficiency",
    "dc_ac_ratio",
    "inverter_kw",
    "shading_loss_pct",
    "soiling_loss_pct",
    "albedo",
    "area_m2",
)


def _as_number(raw: Any) -> float | str:
    """A finite float from a number or numeric text, else the reason it is not one."""
    if isinstance(raw, bool):
        return "must be a number, not true/false"
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(unicodedata.normalize("NFKC", raw).strip())
        except ValueError:
            return "is not a number"
    else:
        return "must be a number"
    if not math.isfinite(number):
        return "is not a finite number"
    return number


def _array_issues(code: str, v: Mapping[str, Any], shown: Mapping[str, str] | None = None) -> list[Issue]:
    """Range checks of parsed array parameters (absent keys are not checked); `shown`: values as written."""
    issues: list[Issue] = []

    def bad(name: str, reason: str) -> None:
        value = shown[name] if shown and name in shown else str(v[name])
        issues.append(Issue(f"asset {code!r}: {name} {reason}", column=name, value=value))

    def number(name: str) -> float | None:
        x = v.get(name)
        if x is None:
            return None
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            bad(name, "must be a finite number")
            return None
        return float(x)

    if (kwp := number("kwp")) is not None and kwp <= 0:
        bad("kwp", "must be > 0 [kWp]")
    if (tilt := number("tilt_deg")) is not None and not 0 <= tilt <= 90:
        bad("tilt_deg", "must be within 0..90 [deg from horizontal]")
    if (azimuth := number("azimuth_deg")) is not None and not 0 <= azimuth < 360:
        bad("azimuth_deg", "must be within 0 <= azimuth < 360 [deg clockwise from north]")
    if "mounting" in v and v["mounting"] not in FAIMAN:
        bad("mounting", f"is unknown; expected one of {', '.join(MOUNTINGS)}")
    for name in ("losses_pct", "shading_loss_pct", "soiling_loss_pct"):
        if (pct := number(name)) is not None and not 0 <= pct < 100:
            bad(name, "must be within 0 <= loss < 100 [%]")
    if (gamma := number("gamma_pdc_per_k")) is not None and not -0.02 <= gamma <= 0:
        hint = " (looks like %/K: give a fraction, -0.37 %/K = -0.0037)" if -2 <= gamma < -0.02 else ""
        bad("gamma_pdc_per_k", f"must be within -0.02..0 [1/K]{hint}")
    if (eta := number("inverter_efficiency")) is not None and not 0 < eta <= 1:
        hint = " (looks like a percentage: give 0.96 for 96 %)" if 1 < eta <= 100 else ""
        bad("inverter_efficiency", f"must be within 0 < eta <= 1 [-]{hint}")
    ratio, inverter_kw = number("dc_ac_ratio"), number("inverter_kw")
    if ratio is not None and ratio <= 0:
        bad("dc_ac_ratio", "must be > 0 [kWp/kW]")
        ratio = None
    if inverter_kw is not None and inverter_kw <= 0:
        bad("inverter_kw", "must be > 0 [kW]")
        inverter_kw = None
    if ratio is not None and inverter_kw is not None and kwp is not None and kwp > 0:
        if not math.isclose(kwp / inverter_kw, ratio, rel_tol=1e-6):
            bad("dc_ac_ratio", f"disagrees with kwp / inverter_kw = {kwp / inverter_kw:.4g}; give one of them")
    if (albedo := number("albedo")) is not None and not 0 <= albedo <= 1:
        bad("albedo", "must be within 0..1 [-]")
    if (area := number("area_m2")) is not None:
        if area <= 0:
            bad("area_m2", "must be > 0 [m2]")
        elif kwp is not None and kwp > 0 and kwp / area > MAX_STC_EFFICIENCY:
            bad(
                "area_m2",
                f"is too small for {kwp:g} kWp: {kwp / area:.2f} kWp/m2 would need modules over "
                f"{MAX_STC_EFFICIENCY:.0%} efficient; check kwp and area_m2",
            )
    return issues


def dc_power_kw(effective_irradiance_w_m2: np.ndarray, temp_cell_c: np.ndarray, array: PvArray) -> np.ndarray:
    """PVWatts DC output of an array after shading, soiling and the other DC losses [kW].

    ``P_dc = kWp x G_eff (1 - shading)(1 - soiling) / 1000 W/m2 x (1 + gamma (T_cell - 25 degC)) x (1 - losses)``

    Parameters
    ----------
    effective_irradiance_w_m2 : numpy.ndarray
        Plane-of-array irradiance reaching the cells after incidence-angle losses [W/m2].
    temp_cell_c : numpy.ndarray
        Cell temperature [degC].
    array : PvArray
    """
    light = effective_irradiance_w_m2 * (1.0 - array.shading_loss_pct / 100.0) * (1.0 - array.soiling_loss_pct / 100.0)
    return pvlib.pvsystem.pvwatts_dc(light, temp_cell_c, array.kwp, array.gamma_pdc_per_k) * (
        1.0 - array.losses_pct / 100.0
    )


def ac_power_kw(dc_kw: np.ndarray, array: PvArray) -> np.ndarray:
    """PVWatts inverter output [kW], clipped at the array's AC rating and never negative.

    Parameters
    ----------
    dc_kw : numpy.ndarray
        DC input [kW].
    array : PvArray
        Gives the AC rating [kW] and the nominal efficiency; the DC rating is AC rating / efficiency.
    """
    pac0_kw = array.ac_rating_kw
    eta = array.inverter_efficiency
    pac_kw = pvlib.inverter.pvwatts(dc_kw, pac0_kw / eta, eta_inv_nom=eta)
    return np.clip(np.nan_to_num(np.asarray(pac_kw, dtype=float)), 0.0, None)


def array_power_kw(weather: pd.DataFrame, sun: SunGeometry, array: PvArray) -> np.ndarray:
    """Mean AC output of one PV array over each interval of `weather` [kW].

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather frame with the columns of `WEATHER_COLUMNS` (irradiance [W/m2], ``temp_air_c`` [degC],
        ``wind_speed_m_s`` [m/s]).
    sun : SunGeometry
        Solar geometry of the same index (`sun_geometry`).
    array : PvArray
    """
    poa_global, effective = plane_of_array(weather, sun, array.tilt_deg, array.azimuth_deg, array.albedo)
    temp_cell = cell_temperature_c(
        poa_global, weather["temp_air_c"].to_numpy(), weather["wind_speed_m_s"].to_numpy(), array.mounting
    )
    return ac_power_kw(dc_power_kw(effective, temp_cell, array), array)


def pv_ac_power_kw(
    weather: pd.DataFrame,
    sun: SunGeometry,
    kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    mounting: str = "roof",
    losses_pct: float = LOSSES_PCT,
) -> np.ndarray:
    """Mean AC output of one PV array with the default module and inverter [kW] (see `array_power_kw`).

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather frame (irradiance [W/m2], ``temp_air_c`` [degC], ``wind_speed_m_s`` [m/s]).
    sun : SunGeometry
        Solar geometry of the same index.
    kwp : float
        DC nameplate at STC [kWp].
    tilt_deg, azimuth_deg : float
        Plane orientation [deg]; azimuth 180 = south.
    mounting : str
        ``"roof"`` or ``"facade"`` (selects the thermal model).
    losses_pct : float
        DC system losses [%].
    """
    array = PvArray("array", kwp, tilt_deg, azimuth_deg, mounting, losses_pct)
    return array_power_kw(weather, sun, array)


def park_pv_kw(weather: pd.DataFrame, latitude: float, longitude: float, arrays: Iterable[PvArray]) -> pd.DataFrame:
    """Mean AC output of every array of a park over each interval [kW].

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather frame with the columns of `WEATHER_COLUMNS` on a regular, time-zone aware index of interval
        starts (`read_weather`).
    latitude, longitude : float
        Park position [degrees north, degrees east].
    arrays : iterable of PvArray
        Arrays with distinct codes.

    Returns
    -------
    pandas.DataFrame
        Indexed like `weather`, one column per array code [kW]. Multiply by the step in hours for kWh.
    """
    arrays = list(arrays)
    issues = [Issue(f"weather has no column {c!r}", column=c) for c in WEATHER_COLUMNS if c not in weather.columns]
    index = weather.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        issues.append(Issue("weather must be indexed by time-zone aware interval starts"))
    seen: set[str] = set()
    for a in arrays:
        if a.code in seen:
            issues.append(Issue(f"two arrays share the code {a.code!r}", column=a.code))
        seen.add(a.code)
    if issues:
        raise ValidationFailed("cannot model the park's PV", issues=issues)
    sun = sun_geometry(index, latitude, longitude)
    return pd.DataFrame({a.code: array_power_kw(weather, sun, a) for a in arrays}, index=index)


# ===============================================================================================================
# weather files


@dataclass
class _Table:
    """Rows of a weather file before the common checks: values in canonical units, NaN where a cell was bad."""

    file: str
    kind: str
    times: pd.DatetimeIndex  # tz-aware instants of the row labels (NaT where unreadable)
    lines: np.ndarray  # file line of each row (1-based)
    values: dict[str, np.ndarray]  # canonical column -> values
    columns: dict[str, str]  # canonical column -> header as written in the file
    time_column: str
    latitude: float | None = None
    longitude: float | None = None
    label_end: bool = False  # row labels mark the END of their interval
    per_interval: set[str] = field(default_factory=set)  # columns given as amounts per interval (Wh/m2)
    missing_codes: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_weather(
    path: str | Path,
    kind: str | None = None,
    tz: str = TIMEZONE,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    year: int | None = None,
    label: str = "start",
) -> pd.DataFrame:
    """Read a weather file into the frame the PV model uses.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    kind : {"epw", "tmy3", "pvgis", "station"}, optional
        File kind; found from the content when omitted:

        - ``"epw"``: EnergyPlus weather (``pvlib.iotools.read_epw``). EPW hours are numbered 1-24 and each
          row describes the hour ENDING at its label; pvlib labels it by the hour's start, as here.
        - ``"tmy3"``: NREL TMY3 CSV (``pvlib.iotools.read_tmy3``), hour-ending labels moved to the start.
        - ``"pvgis"``: PVGIS TMY CSV (``pvlib.iotools.read_pvgis_tmy``), hourly, labelled in UTC by the hour's
          start.
        - ``"station"``: the park's own station CSV: a timestamp column and any of global, direct normal and
          diffuse irradiance, air temperature and wind speed, with English or Chinese headers (``GHI``,
          ``总辐射``, ``DNI``, ``直接辐射``, ``DHI``, ``散射辐射``, ``temperature``, ``温度``, ``wind speed``,
          ``风速`` ...) and an optional unit in brackets (``总辐射(W/m²)``; W/m2, kW/m2, or amounts per interval
          in Wh/m2, kWh/m2, MJ/m2; degC, K, degF; m/s, km/h). GHI and air temperature are needed (GHI may
          come from DNI and DHI); missing DNI/DHI are split from GHI with the Erbs model
          (``pvlib.irradiance.erbs``) or completed from the other two; a missing wind speed is taken as
          1 m/s. Timestamps without an offset are park-local time in `tz`.
    tz : str
        IANA zone of the result and of station timestamps without an offset [-].
    latitude, longitude : float, optional
        Site position [degrees]; needed to split GHI in a station file (the other kinds carry it).
    year : int, optional
        Relabel the rows of an EPW/TMY3/PVGIS file to this year. Typical-year files whose months come from
        different years are relabelled to 1990 when it is omitted; a full typical year is then rotated so
        that it covers the local calendar year in `tz`.
    label : {"start", "end"}
        Whether a station row's timestamp marks the start or the end of its averaging interval.

    Returns
    -------
    pandas.DataFrame
        Columns `WEATHER_COLUMNS`: ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` (interval means [W/m2]),
        ``temp_air_c`` [degC], ``wind_speed_m_s`` [m/s]; a regular index ``ts_start`` of interval starts in
        `tz`. ``attrs`` holds ``file``, ``kind``, ``latitude``, ``longitude`` and ``notes`` (what was assumed
        or derived).

    Raises
    ------
    ValidationFailed
        With one `Issue` (file, row, column, reason) per problem: a cell that is missing or not a number,
        negative or impossible irradiance (readings from -10 to 0 W/m2 are a pyranometer's night offset and
        read as 0, noted in ``attrs``), a repeated timestamp, a gap, a row off the file's time step. Nothing
        is returned for a file with any problem.
    """
    path = Path(path)
    name = path.name
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {tz!r}", issues=[Issue(f"unknown time zone {tz!r}")]) from None
    if label not in ("start", "end"):
        raise ValidationFailed("label must be 'start' or 'end'", issues=[Issue(f"unknown label {label!r}")])
    for what, value, limit in (("latitude", latitude, 90.0), ("longitude", longitude, 180.0)):
        if value is not None and not (math.isfinite(value) and -limit <= value <= limit):
            reason = f"{what} must be within -{limit:g}..{limit:g} degrees"
            raise ValidationFailed(reason, issues=[Issue(reason, column=what, value=str(value))])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(
            f"cannot read weather file {name}", issues=[Issue(exc.strerror or str(exc), file=name)]
        ) from None
    text = _decode(raw, name)
    kind = _detect_kind(path, text) if kind is None else {"tmy": "tmy3"}.get(kind.lower(), kind.lower())
    if kind not in WEATHER_KINDS:
        raise ValidationFailed(
            f"unknown weather file kind {kind!r}", issues=[Issue(f"expected one of {', '.join(WEATHER_KINDS)}")]
        )
    if year is not None and kind == "station":
        reason = "year relabels typical-year files (epw, tmy3, pvgis), not station data"
        raise ValidationFailed(f"{name} was not read", issues=[Issue(reason, file=name)])
    issues = IssueCollector()
    if kind == "epw":
        table = _read_epw(text, name, issues)
    elif kind == "tmy3":
        table = _read_tmy3(text, name, issues)
    elif kind == "pvgis":
        table = _read_pvgis(raw, text, name, issues)
    else:
        table = _read_station(text, name, issues, zone)
        table.label_end = label == "end"
    return _finish(table, issues, tz, year, latitude, longitude)


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ValidationFailed(
        f"{name} is not a text file", issues=[Issue("not UTF-8 or GB18030 text (a binary file?)", file=name)]
    )


def _detect_kind(path: Path, text: str) -> str:
    head = text.lstrip()[:4000].splitlines() or [""]
    if path.suffix.lower() == ".epw" or head[0].upper().startswith("LOCATION,"):
        return "epw"
    if head[0].startswith("Latitude (decimal degrees)"):
        return "pvgis"
    if len(head) > 1 and head[1].startswith("Date (MM/DD/YYYY)"):
        return "tmy3"
    return "station"


def _fail(issues: IssueCollector, file: str) -> NoReturn:
    issues.raise_if_any(f"{file} was not read")
    raise ValidationFailed(f"{file} was not read")


# -- EPW ---------------------------------------------------------------------------------------------------------

_EPW_FIELDS = {"temp_air_c": 6, "ghi_w_m2": 13, "dni_w_m2": 14, "dhi_w_m2": 15, "wind_speed_m_s": 21}
_EPW_NAMES = {
    "temp_air_c": "dry bulb temperature",
    "ghi_w_m2": "global horizontal radiation",
    "dni_w_m2": "direct normal radiation",
    "dhi_w_m2": "diffuse horizontal radiation",
    "wind_speed_m_s": "wind speed",
}


def _read_epw(text: str, name: str, issues: IssueCollector) -> _Table:
    lines = text.splitlines()
    location = lines[0].split(",") if lines else []
    meta = [_as_number(x) for x in location[6:9]]
    if len(location) < 10 or not location[0].strip().upper() == "LOCATION" or any(isinstance(m, str) for m in meta):
        issues.add(
            Issue("not an EPW LOCATION line (LOCATION,city,...,latitude,longitude,time zone,elevation)", name, 1)
        )
        _fail(issues, name)
    latitude, longitude = float(meta[0]), float(meta[1])  # type: ignore[arg-type]
    rows = [(i + 1, line) for i, line in enumerate(lines) if i >= 8 and line.strip()]
    if not rows:
        issues.add(Issue("no data rows after the 8 header lines", name, len(lines) + 1))
    for line_no, line in rows:
        cells = line.split(",")
        if len(cells) < 22:
            issues.add(Issue(f"expected 35 fields, found {len(cells)}", name, line_no))
            continue
        date = [_as_number(c) for c in cells[:4]]
        if any(isinstance(x, str) or x != int(x) for x in date):  # type: ignore[arg-type]
            issues.add(
                Issue("year, month, day and hour must be whole numbers", name, line_no, "date", ",".join(cells[:4]))
            )
        else:
            y, m, d, h = (int(x) for x in date)  # type: ignore[arg-type]
            if not _valid_date(y, m, d) or not 1 <= h <= 24:
                issues.add(Issue("not a valid date and hour (1-24)", name, line_no, "date", ",".join(cells[:4])))
        for column, k in _EPW_FIELDS.items():
            number = _as_number(cells[k])
            if isinstance(number, str):
                issues.add(Issue(f"value {number}", name, line_no, _EPW_NAMES[column], cells[k]))
    if issues:
        _fail(issues, name)
    try:
        data, _meta = pvlib.iotools.read_epw(io.StringIO(text))
    except Exception as exc:  # noqa: BLE001 - whatever pvlib trips on is a problem of the file
        issues.add(Issue(f"not readable as EPW ({exc})", name))
        _fail(issues, name)
    # pvlib labels EPW hour h (the hour ending at h:00) by its start, (h-1):00, in the file's standard time
    return _Table(
        file=name,
        kind="epw",
        times=pd.DatetimeIndex(data.index),
        lines=np.array([r for r, _ in rows]),
        values={c: data[p].to_numpy(dtype=float) for c, p in _PVLIB_NAMES.items()},
        columns=dict(_EPW_NAMES),
        time_column="date",
        latitude=latitude,
        longitude=longitude,
        missing_codes={"ghi_w_m2": 9999, "dni_w_m2": 9999, "dhi_w_m2": 9999, "temp_air_c": 99.9, "wind_speed_m_s": 999},
    )


_PVLIB_NAMES = {
    "ghi_w_m2": "ghi",
    "dni_w_m2": "dni",
    "dhi_w_m2": "dhi",
    "temp_air_c": "temp_air",
    "wind_speed_m_s": "wind_speed",
}


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


# -- TMY3 --------------------------------------------------------------------------------------------------------

_TMY3_COLUMNS = {
    "ghi_w_m2": "GHI (W/m^2)",
    "dni_w_m2": "DNI (W/m^2)",
    "dhi_w_m2": "DHI (W/m^2)",
    "temp_air_c": "Dry-bulb (C)",
    "wind_speed_m_s": "Wspd (m/s)",
}


def _read_tmy3(text: str, name: str, issues: IssueCollector) -> _Table:
    lines = text.splitlines()
    meta = [_as_number(x) for x in (lines[0].split(",")[3:6] if lines else [])]
    if len(meta) < 3 or any(isinstance(m, str) for m in meta):
        issues.add(Issue("not a TMY3 station line (USAF,name,state,time zone,latitude,longitude,elevation)", name, 1))
        _fail(issues, name)
    _tz_hours, latitude, longitude = (float(m) for m in meta)  # type: ignore[arg-type]
    header = next(csv.reader([lines[1]])) if len(lines) > 1 else []
    needed = ["Date (MM/DD/YYYY)", "Time (HH:MM)", *_TMY3_COLUMNS.values()]
    for col in needed:
        if col not in header:
            issues.add(Issue(f"TMY3 column {col!r} is missing", name, 2, col))
    if issues:
        _fail(issues, name)
    at = {col: header.index(col) for col in needed}
    rows = [(i + 1, line) for i, line in enumerate(lines) if i >= 2 and line.strip()]
    if not rows:
        issues.add(Issue("no data rows", name, 3))
    for line_no, cells in zip((r for r, _ in rows), csv.reader(line for _, line in rows), strict=True):
        if len(cells) < len(header):
            issues.add(Issue(f"expected {len(header)} fields, found {len(cells)}", name, line_no))
            continue
        date, time = cells[at["Date (MM/DD/YYYY)"]], cells[at["Time (HH:MM)"]]
        dm = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", date.strip())
        tm = re.fullmatch(r"(\d{1,2}):(\d{2})", time.strip())
        if not dm or not _valid_date(int(dm[3]), int(dm[1]), int(dm[2])):
            issues.add(Issue("not a date MM/DD/YYYY", name, line_no, "Date (MM/DD/YYYY)", date))
        if not tm or not (0 <= int(tm[1]) <= 24 and int(tm[2]) < 60):
            issues.add(Issue("not a time HH:MM (01:00-24:00)", name, line_no, "Time (HH:MM)", time))
        for col in _TMY3_COLUMNS.values():
            number = _as_number(cells[at[col]])
            if isinstance(number, str):
                issues.add(Issue(f"value {number}", name, line_no, col, cells[at[col]]))
    if issues:
        _fail(issues, name)
    try:
        data, _meta = pvlib.iotools.read_tmy3(io.StringIO(text), map_variables=True)
    except Exception as exc:  # noqa: BLE001
        issues.add(Issue(f"not readable as TMY3 ({exc})", name))
        _fail(issues, name)
    # TMY3 rows describe the hour ENDING at their label (01:00 .. 24:00); pvlib keeps that label
    times = pd.DatetimeIndex(data.index) - pd.Timedelta(hours=1)
    return _Table(
        file=name,
        kind="tmy3",
        times=times,
        lines=np.array([r for r, _ in rows]),
        values={c: data[p].to_numpy(dtype=float) for c, p in _PVLIB_NAMES.items()},
        columns=dict(_TMY3_COLUMNS),
        time_column="Date (MM/DD/YYYY)",
        latitude=latitude,
        longitude=longitude,
        missing_codes=dict.fromkeys(_TMY3_COLUMNS, -9900.0),
    )


# -- PVGIS TMY ---------------------------------------------------------------------------------------------------

_PVGIS_COLUMNS = {
    "ghi_w_m2": "G(h)",
    "dni_w_m2": "Gb(n)",
    "dhi_w_m2": "Gd(h)",
    "temp_air_c": "T2m",
    "wind_speed_m_s": "WS10m",
}
PVGIS_ROWS = 8760


def _read_pvgis(raw: bytes, text: str, name: str, issues: IssueCollector) -> _Table:
    lines = text.splitlines()
    position = [_as_number(line.split(":", 1)[1]) if ":" in line else "" for line in lines[:2]]
    if len(position) < 2 or any(isinstance(p, str) for p in position):
        issues.add(Issue("not a PVGIS TMY CSV (Latitude (decimal degrees): ... on the first line)", name, 1))
        _fail(issues, name)
    latitude, longitude = (float(p) for p in position)  # type: ignore[arg-type]
    head = next((i for i, line in enumerate(lines) if line.startswith("time(UTC)")), None)
    if head is None:
        issues.add(Issue("no header line starting time(UTC)", name))
        _fail(issues, name)
    assert head is not None
    header = [h.strip() for h in lines[head].split(",")]
    for col in _PVGIS_COLUMNS.values():
        if col not in header:
            issues.add(Issue(f"PVGIS column {col!r} is missing", name, head + 1, col))
    rows: list[tuple[int, str]] = []
    for i in range(head + 1, len(lines)):
        if not lines[i].strip():
            break
        rows.append((i + 1, lines[i]))
    if len(rows) != PVGIS_ROWS:
        issues.add(Issue(f"a PVGIS TMY has {PVGIS_ROWS} hourly rows; found {len(rows)}", name, head + 2))
    if issues:
        _fail(issues, name)
    at = {col: header.index(col) for col in _PVGIS_COLUMNS.values()}
    for line_no, line in rows:
        cells = line.split(",")
        if len(cells) != len(header):
            issues.add(Issue(f"expected {len(header)} fields, found {len(cells)}", name, line_no))
            continue
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2}):(\d{2})(\d{2})", cells[0].strip())
        if not m or not _valid_date(int(m[1]), int(m[2]), int(m[3])) or int(m[4]) > 23 or int(m[5]) > 59:
            issues.add(Issue("not a time YYYYMMDD:HHMM", name, line_no, "time(UTC)", cells[0]))
        for col, k in at.items():
            number = _as_number(cells[k])
            if isinstance(number, str):
                issues.add(Issue(f"value {number}", name, line_no, col, cells[k]))
    if issues:
        _fail(issues, name)
    try:
        data, _meta = pvlib.iotools.read_pvgis_tmy(io.BytesIO(raw), pvgis_format="csv", map_variables=True)
    except Exception as exc:  # noqa: BLE001
        issues.add(Issue(f"not readable as a PVGIS TMY CSV ({exc})", name))
        _fail(issues, name)
    return _Table(
        file=name,
        kind="pvgis",
        times=pd.DatetimeIndex(data.index),
        lines=np.array([r for r, _ in rows]),
        values={c: data[p].to_numpy(dtype=float) for c, p in _PVLIB_NAMES.items()},
        columns=dict(_PVGIS_COLUMNS),
        time_column="time(UTC)",
        latitude=latitude,
        longitude=longitude,
    )


# -- station CSV -------------------------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-.·:：]+", "", text)


_ALIASES: dict[str, tuple[str, ...]] = {
    "time": (
        "timestamp",
        "time",
        "datetime",
        "date",
        "ts",
        "tsstart",
        "intervalstart",
        "starttime",
        "localtime",
        "时间",
        "时间戳",
        "日期时间",
        "采集时间",
        "数据时间",
        "记录时间",
        "观测时间",
        "时刻",
        "日期",
    ),
    "ghi_w_m2": (
        "ghi",
        "globalhorizontalirradiance",
        "globalhorizontalradiation",
        "globalhorizontal",
        "globalirradiance",
        "globalradiation",
        "global",
        "irradiance",
        "g(h)",
        "总辐射",
        "总辐照度",
        "总辐射辐照度",
        "总辐射强度",
        "水平总辐射",
        "水平面总辐射",
        "水平总辐照度",
        "水平面总辐照度",
        "辐照度",
        "辐射强度",
        "太阳辐射",
    ),
    "dni_w_m2": (
        "dni",
        "directnormalirradiance",
        "directnormalradiation",
        "directnormal",
        "beamnormal",
        "directirradiance",
        "gb(n)",
        "直接辐射",
        "法向直接辐射",
        "直射辐射",
        "法向直射辐射",
        "直接辐照度",
        "法向直接辐照度",
        "直辐射",
    ),
    "dhi_w_m2": (
        "dhi",
        "diffusehorizontalirradiance",
        "diffusehorizontalradiation",
        "diffusehorizontal",
        "diffuseirradiance",
        "diffuse",
        "gd(h)",
        "散射辐射",
        "水平散射辐射",
        "水平面散射辐射",
        "散射辐照度",
        "散辐射",
    ),
    "temp_air_c": (
        "temperature",
        "temp",
        "tempair",
        "airtemperature",
        "ambienttemperature",
        "drybulb",
        "drybulbtemperature",
        "tair",
        "tamb",
        "t2m",
        "温度",
        "气温",
        "环境温度",
        "空气温度",
        "大气温度",
        "干球温度",
    ),
    "wind_speed_m_s": (
        "windspeed",
        "wind",
        "ws",
        "wspd",
        "ws10m",
        "风速",
        "平均风速",
        "风速度",
    ),
}
_ROLE_OF = {alias: role for role, aliases in _ALIASES.items() for alias in aliases}
_STATION_LABELS = {
    "ghi_w_m2": "global horizontal irradiance (GHI, 总辐射)",
    "dni_w_m2": "direct normal irradiance (DNI, 直接辐射)",
    "dhi_w_m2": "diffuse horizontal irradiance (DHI, 散射辐射)",
    "temp_air_c": "air temperature (temperature, 温度)",
    "wind_speed_m_s": "wind speed (风速)",
}


def _unit_key(unit: str) -> str:
    text = unicodedata.normalize("NFKC", unit).casefold()
    return re.sub(r"[\s^·*]+", "", text).replace("m²", "m2")


# unit key -> (factor, offset, per interval): canonical = value * factor + offset (an amount per interval is
# then divided by the step in hours)
_IRRADIANCE_UNITS = {
    **dict.fromkeys(("w/m2", "wm-2", "瓦/平方米", "瓦/米2"), (1.0, 0.0, False)),
    **dict.fromkeys(("kw/m2", "kwm-2", "千瓦/平方米"), (1000.0, 0.0, False)),
    **dict.fromkeys(("wh/m2", "whm-2"), (1.0, 0.0, True)),
    **dict.fromkeys(("kwh/m2", "kwhm-2"), (1000.0, 0.0, True)),
    **dict.fromkeys(("mj/m2", "mjm-2", "兆焦/平方米"), (1e6 / 3600.0, 0.0, True)),
}
_UNITS: dict[str, dict[str, tuple[float, float, bool]]] = {
    "ghi_w_m2": _IRRADIANCE_UNITS,
    "dni_w_m2": _IRRADIANCE_UNITS,
    "dhi_w_m2": _IRRADIANCE_UNITS,
    "temp_air_c": {
        **dict.fromkeys(("°c", "degc", "c", "摄氏度", "deg"), (1.0, 0.0, False)),
        "k": (1.0, -273.15, False),
        **dict.fromkeys(("°f", "degf", "f"), (5.0 / 9.0, -32.0 * 5.0 / 9.0, False)),
    },
    "wind_speed_m_s": {
        **dict.fromkeys(("m/s", "ms-1", "米/秒", "m/sec"), (1.0, 0.0, False)),
        **dict.fromkeys(("km/h", "kmh-1", "kph", "公里/小时", "千米/小时"), (1.0 / 3.6, 0.0, False)),
    },
}
_UNIT_HELP = {
    "ghi_w_m2": "W/m2, kW/m2, Wh/m2, kWh/m2 or MJ/m2",
    "temp_air_c": "degC, K or degF",
    "wind_speed_m_s": "m/s or km/h",
}
_UNIT_HELP["dni_w_m2"] = _UNIT_HELP["dhi_w_m2"] = _UNIT_HELP["ghi_w_m2"]


def _roles(cells: list[str]) -> dict[str, tuple[int, str | None]]:
    """Column index and unit of each recognised role in a header row (first match wins)."""
    found: dict[str, tuple[int, str | None]] = {}
    for k, cell in enumerate(cells):
        role = _ROLE_OF.get(_header_key(cell))
        unit: str | None = None
        if role is None:
            bare, unit = split_header_unit(cell)
            role = _ROLE_OF.get(_header_key(bare))
        if role is not None and role not in found:
            found[role] = (k, unit)
    return found


def _sniff_delimiter(lines: list[str]) -> str:
    sample = [ln for ln in lines if ln.strip()][:30]
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t", "|"):
        widths = [len(r) for r in csv.reader(sample, delimiter=delimiter) if len(r) > 1]
        if widths:
            modal = max(set(widths), key=widths.count)
            score = (widths.count(modal), modal)
            if score > best_score:
                best, best_score = delimiter, score
    return best


_TS_TRANSLATE = str.maketrans({"年": "-", "月": "-", "日": " ", "号": " ", "时": ":", "時": ":", "点": ":", "分": ":"})
_TS_RE = re.compile(
    r"(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T ]+(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?:\.(?P<f>\d+))?)?)?"
    r" *(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?"
)
NOT_A_TIMESTAMP = (
    "not a timestamp (expected e.g. 2025-06-01 12:15, 2025/6/1 12:15, 2025年6月1日 12时15分 or with +08:00)"
)


def _parse_timestamps(texts: pd.Series, zone: ZoneInfo) -> tuple[pd.DatetimeIndex, list[tuple[int, str]]]:
    """UTC instants of timestamp texts (NaT where unreadable) and (position, reason) of the bad ones."""
    norm = texts.map(lambda s: " ".join(unicodedata.normalize("NFKC", s).translate(_TS_TRANSLATE).split()))
    norm = norm.str.replace("秒", "", regex=False).str.rstrip(": ")
    parts = norm.str.extract("^" + _TS_RE.pattern + "$")
    matched = parts["y"].notna()
    num = {k: pd.to_numeric(parts[k], errors="coerce") for k in ("y", "mo", "d", "h", "mi", "s")}
    hour, minute, second = num["h"].fillna(0), num["mi"].fillna(0), num["s"].fillna(0)
    frac = parts["f"].fillna("").str.slice(0, 6).str.pad(6, side="right", fillchar="0")
    micro = pd.to_numeric(frac.where(frac != "000000", "0"), errors="coerce").fillna(0)
    midnight24 = (hour == 24) & (minute == 0) & (second == 0)
    bad_clock = (hour > 23) & ~midnight24 | (minute > 59) | (second > 59)
    days = pd.to_datetime(
        pd.DataFrame({"year": num["y"], "month": num["mo"], "day": num["d"]}), errors="coerce"
    ) + pd.to_timedelta(midnight24.astype(int), unit="D")
    naive = days + pd.to_timedelta(hour.where(~midnight24, 0) * 3600 + minute * 60 + second, unit="s")
    naive = naive + pd.to_timedelta(micro, unit="us")
    naive = naive.where(~bad_clock)
    zone_text = parts["z"].fillna("")
    has_zone = zone_text != ""
    offset_text = zone_text.str.replace(":", "", regex=False)
    sign = np.where(offset_text.str.startswith("-"), -1, 1)
    oh = pd.to_numeric(offset_text.str.slice(1, 3), errors="coerce").fillna(0)
    om = pd.to_numeric(offset_text.str.slice(3, 5), errors="coerce").fillna(0)
    offset = pd.to_timedelta(sign * (oh * 60 + om), unit="min")
    utc = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us, UTC]")
    aware = has_zone & naive.notna()
    if aware.any():
        utc[aware] = (naive[aware] - offset[aware]).dt.tz_localize("UTC")
    local = ~has_zone & naive.notna()
    if local.any():
        utc[local] = naive[local].dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    bad: list[tuple[int, str]] = []
    for pos in np.flatnonzero(utc.isna().to_numpy()):
        if not matched.iloc[pos]:
            reason = "value is missing" if not texts.iloc[pos].strip() else NOT_A_TIMESTAMP
        elif pd.isna(days.iloc[pos]):
            reason = "not a valid calendar date"
        elif bad_clock.iloc[pos]:
            reason = "not a valid time of day"
        else:
            reason = f"local time does not exist or is ambiguous in {zone.key} (give the UTC offset)"
        bad.append((int(pos), reason))
    return pd.DatetimeIndex(utc), bad


def _read_station(text: str, name: str, issues: IssueCollector, zone: ZoneInfo) -> _Table:
    lines = text.splitlines()
    delimiter = _sniff_delimiter(lines[:60])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    roles: dict[str, tuple[int, str | None]] = {}
    records: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            line_no = reader.line_num
            if header is None:
                found = _roles([c.strip() for c in cells])
                if "time" in found and len(found) > 1:
                    header, header_line, roles = [c.strip() for c in cells], line_no, found
                elif line_no >= 30:
                    break
                continue
            if any(c.strip() for c in cells):
                records.append((line_no, cells))
    except csv.Error as exc:
        issues.add(Issue(f"not readable as CSV ({exc})", name, reader.line_num))
        _fail(issues, name)
    if header is None:
        names = "; ".join(f"{role}: {', '.join(a[:6])}" for role, a in _ALIASES.items())
        issues.add(
            Issue(f"no header row with a timestamp column and weather columns in the first 30 rows ({names})", name)
        )
        _fail(issues, name)
    assert header is not None
    if "ghi_w_m2" not in roles and not {"dni_w_m2", "dhi_w_m2"} <= set(roles):
        issues.add(Issue(f"no column of {_STATION_LABELS['ghi_w_m2']}", name, header_line))
    if "temp_air_c" not in roles:
        issues.add(Issue(f"no column of {_STATION_LABELS['temp_air_c']}", name, header_line))
    factors: dict[str, tuple[float, float, bool]] = {}
    for role, (k, unit) in roles.items():
        if role == "time":
            continue
        units = _UNITS[role]
        if unit is None:
            factors[role] = next(iter(units.values()))
        elif _unit_key(unit) in units:
            factors[role] = units[_unit_key(unit)]
        else:
            issues.add(Issue(f"unknown unit {unit!r}; use {_UNIT_HELP[role]}", name, header_line, header[k]))
    if not records:
        issues.add(Issue("no data rows after the header", name, header_line))
    if issues:
        _fail(issues, name)
    used = {role: k for role, (k, _u) in roles.items()}
    clock = _clock_column(header, records, used["time"])
    width = max([*used.values(), clock or 0]) + 1
    short = [(line_no, cells) for line_no, cells in records if len(cells) < width]
    for line_no, cells in short:
        issues.add(Issue(f"expected {len(header)} fields, found {len(cells)}", name, line_no))
    records = [r for r in records if len(r[1]) >= width]
    lines_arr = np.array([line_no for line_no, _ in records], dtype=int)
    time_col = header[used["time"]]
    stamps = [cells[used["time"]].strip() for _, cells in records]
    if clock is not None:  # a date column and a time-of-day column (日期, 时间)
        time_col = f"{time_col} {header[clock]}"
        stamps = [f"{d} {cells[clock].strip()}" for d, (_, cells) in zip(stamps, records, strict=True)]
    times, bad_times = _parse_timestamps(pd.Series(stamps, dtype=str), zone)
    for pos, reason in bad_times:
        issues.add(Issue(reason, name, int(lines_arr[pos]), time_col, stamps[pos]))
    values: dict[str, np.ndarray] = {}
    per_interval: set[str] = set()
    for role, k in used.items():
        if role == "time":
            continue
        texts = pd.Series([cells[k].strip() for _, cells in records], dtype=str)
        nfkc = texts.map(lambda s: s if s.isascii() else unicodedata.normalize("NFKC", s).strip())
        number = pd.to_numeric(nfkc, errors="coerce").to_numpy(dtype=float, copy=True)
        for pos in np.flatnonzero(~np.isfinite(number)):
            cell = texts.iloc[pos]
            reason = "value is missing" if not cell else "not a number"
            issues.add(Issue(reason, name, int(lines_arr[pos]), header[k], cell))
        number[~np.isfinite(number)] = np.nan
        factor, offset, amount = factors[role]
        values[role] = number * factor + offset
        if amount:
            per_interval.add(role)
    return _Table(
        file=name,
        kind="station",
        times=times,
        lines=lines_arr,
        values=values,
        columns={role: header[k] for role, k in used.items() if role != "time"},
        time_column=time_col,
        per_interval=per_interval,
    )


def _clock_column(header: list[str], records: list[tuple[int, list[str]]], date: int) -> int | None:
    """A second timestamp-like column holding the time of day when the first holds only dates."""
    first = records[0][1] if records else []
    if len(first) <= date or ":" in first[date]:
        return None
    for k, cell in enumerate(header):
        if k != date and k < len(first) and _ROLE_OF.get(_header_key(split_header_unit(cell)[0])) == "time":
            if re.fullmatch(r"\d{1,2}[:时点]\d{2}.*", unicodedata.normalize("NFKC", records[0][1][k]).strip()):
                return k
    return None


# -- common checks and completion --------------------------------------------------------------------------------


def _finish(
    t: _Table, issues: IssueCollector, tz: str, year: int | None, latitude: float | None, longitude: float | None
) -> pd.DataFrame:
    """Time axis (typical-year labels, zone, order, repeats, grid, gaps), value checks, then completion."""
    notes = t.notes
    values = {c: np.array(v, dtype=float) for c, v in t.values.items()}  # own, writable copies
    lines = t.lines
    starts: pd.DatetimeIndex | None = None
    step: pd.Timedelta | None = None
    typical = False
    target = year if year is not None else TYPICAL_YEAR
    readable = np.asarray(t.times.notna())
    if len(lines) < 2:
        issues.add(Issue("at least two rows are needed to know the interval length", t.file))
    elif not readable.all():
        # rows with unreadable timestamps are reported already; still name repeats among the others
        some = t.times[readable].tz_convert(tz)
        order = np.argsort(some.asi8, kind="stable")
        _check_grid(some[order], lines[readable][order], t, issues, gaps=False)
    else:
        starts = t.times
        if t.kind != "station":
            starts, typical = _relabel_year(t, issues, year)
        if starts is not None:
            starts = starts.tz_convert(tz)
            order = np.argsort(starts.asi8, kind="stable")
            starts, lines = starts[order], lines[order]
            values = {c: v[order] for c, v in values.items()}
            step = _check_grid(starts, lines, t, issues)
    if step is not None:
        step_h = step / pd.Timedelta(hours=1)
        for column in t.per_interval:
            values[column] = values[column] / step_h  # Wh/m2 per interval -> mean W/m2
    _check_values(values, lines, t, issues, notes)
    issues.issues.sort(key=lambda i: i.row or 0)  # in file order, the header's problems first
    issues.raise_if_any(f"{t.file} was not read")
    assert starts is not None and step is not None

    if t.label_end:
        starts = starts - step
    index = pd.date_range(starts[0], periods=len(starts), freq=step, name="ts_start")
    if typical:
        # a full typical year labelled in another zone is rotated to cover the local calendar year
        first = pd.Timestamp(target, 1, 1).tz_localize(tz)
        following = pd.Timestamp(target + 1, 1, 1).tz_localize(tz)
        full = pd.date_range(first, following, freq=step, inclusive="left", name="ts_start")
        aligned = (index[0] - first) % step == pd.Timedelta(0)
        if len(full) == len(index) and index[0] != first and aligned:
            before = int(index.searchsorted(first))  # rows before the local year: moved to its end
            after = len(index) - int(index.searchsorted(following))  # rows after it: moved to its start
            values = {c: np.roll(v, after - before) for c, v in values.items()}
            index = full
            notes.append(f"typical year rotated to cover {target} in {tz}")
    lat = latitude if latitude is not None else t.latitude
    lon = longitude if longitude is not None else t.longitude
    frame = _complete(values, index, t, lat, lon, notes)
    frame.attrs = {"file": t.file, "kind": t.kind, "latitude": lat, "longitude": lon, "notes": notes}
    return frame


def _unit_ns(index: pd.DatetimeIndex) -> int:
    return {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[index.unit]


def _relabel_year(t: _Table, issues: IssueCollector, year: int | None) -> tuple[pd.DatetimeIndex | None, bool]:
    """Give the rows of a typical-year file (months from different years) one year, in the file's own zone."""
    local = t.times.tz_localize(None)
    if year is None and len(set(local.year)) == 1:
        return t.times, False
    target = year if year is not None else TYPICAL_YEAR
    feb_29 = (local.month == 2) & (local.day == 29)
    spans_it = ((local.month == 2) & (local.day == 28)).any() and ((local.month == 3) & (local.day == 1)).any()
    if calendar.isleap(target) and spans_it and not feb_29.any():
        issues.add(Issue(f"the file has no 29 February: choose a non-leap year, not {target}", t.file))
        return None, True
    relabelled = pd.to_datetime(
        pd.DataFrame(
            {"year": target, "month": local.month, "day": local.day, "hour": local.hour, "minute": local.minute}
        ),
        errors="coerce",
    )
    bad = np.flatnonzero(relabelled.isna().to_numpy())
    for pos in bad:
        issues.add(Issue(f"29 February does not exist in {target}", t.file, int(t.lines[pos]), t.time_column))
    if len(bad):
        return None, True
    return pd.DatetimeIndex(relabelled).tz_localize(t.times.tz), True


def _check_grid(
    starts: pd.DatetimeIndex, lines: np.ndarray, t: _Table, issues: IssueCollector, *, gaps: bool = True
) -> pd.Timedelta | None:
    """Repeated timestamps, rows off the file's step and gaps of sorted row labels; the step (most common)."""
    ticks = starts.asi8
    repeat = np.r_[False, ticks[1:] == ticks[:-1]]
    first_line: dict[int, int] = {}
    for pos in range(len(ticks)):
        if repeat[pos]:
            issues.add(
                Issue(
                    f"timestamp {starts[pos].isoformat()} repeats row {first_line[int(ticks[pos])]}",
                    t.file,
                    int(lines[pos]),
                    t.time_column,
                )
            )
        else:
            first_line[int(ticks[pos])] = int(lines[pos])
    unique, unique_lines = starts[~repeat], lines[~repeat]
    if not gaps:
        return None
    if len(unique) < 2:
        issues.add(Issue("at least two distinct timestamps are needed to know the interval length", t.file))
        return None
    diffs = np.diff(unique.asi8)
    steps, counts = np.unique(diffs, return_counts=True)
    step_ticks = int(steps[np.argmax(counts)])
    step = pd.Timedelta(step_ticks * _unit_ns(unique), unit="ns")
    off_grid = (unique.asi8 - unique.asi8[0]) % step_ticks != 0
    for pos in np.flatnonzero(off_grid):
        issues.add(
            Issue(
                f"timestamp {unique[pos].isoformat()} is off the file's {_step_text(step)} grid",
                t.file,
                int(unique_lines[pos]),
                t.time_column,
            )
        )
    grid, grid_lines = unique[~off_grid], unique_lines[~off_grid]
    for pos in np.flatnonzero(np.diff(grid.asi8) > step_ticks):
        missing = (grid.asi8[pos + 1] - grid.asi8[pos]) // step_ticks - 1
        issues.add(
            Issue(
                f"gap: {missing} missing interval(s) of {_step_text(step)} from {(grid[pos] + step).isoformat()} "
                f"to {(grid[pos + 1] - step).isoformat()}",
                t.file,
                int(grid_lines[pos + 1]),
                t.time_column,
            )
        )
    return step


_LIMITS = {
    "ghi_w_m2": (-ZERO_OFFSET_W_M2, IRRADIANCE_MAX_W_M2, "W/m2"),
    "dni_w_m2": (-ZERO_OFFSET_W_M2, IRRADIANCE_MAX_W_M2, "W/m2"),
    "dhi_w_m2": (-ZERO_OFFSET_W_M2, IRRADIANCE_MAX_W_M2, "W/m2"),
    "temp_air_c": (*TEMP_AIR_RANGE_C, "degC"),
    "wind_speed_m_s": (0.0, WIND_SPEED_MAX_M_S, "m/s"),
}


def _check_values(
    values: dict[str, np.ndarray], lines: np.ndarray, t: _Table, issues: IssueCollector, notes: list[str]
) -> None:
    """Missing-value codes and impossible values; a pyranometer's small night offset reads as 0 (noted)."""
    offsets = 0
    for column, v in values.items():
        low, high, unit = _LIMITS[column]
        code = t.missing_codes.get(column)
        for pos in np.flatnonzero((v < low) | (v > high)):
            x = float(v[pos])
            if code is not None and x == code:
                reason = f"missing value (the file marks it {code:g})"
            elif x < 0 and unit == "W/m2":
                reason = f"negative irradiance, below the -{ZERO_OFFSET_W_M2:g} W/m2 a pyranometer may read at night"
            elif x < 0 and column == "wind_speed_m_s":
                reason = "negative wind speed"
            else:
                reason = f"outside {low:g}..{high:g} {unit}: not physical"
            issues.add(Issue(reason, t.file, int(lines[pos]), t.columns[column], f"{x:g}"))
        if unit == "W/m2":
            night = (v < 0) & (v >= low)
            offsets += int(night.sum())
            v[night] = 0.0
    if offsets:
        notes.append(f"{offsets} irradiance readings between -{ZERO_OFFSET_W_M2:g} and 0 W/m2 read as 0")


def _step_text(step: pd.Timedelta) -> str:
    minutes = step / pd.Timedelta(minutes=1)
    return f"{minutes:g}-minute" if minutes < 60 else f"{minutes / 60:g}-hour"


def _complete(
    values: dict[str, np.ndarray],
    index: pd.DatetimeIndex,
    t: _Table,
    latitude: float | None,
    longitude: float | None,
    notes: list[str],
) -> pd.DataFrame:
    """Fill in irradiance components (Erbs or closure) and a missing wind speed."""
    have = {c for c in ("ghi_w_m2", "dni_w_m2", "dhi_w_m2") if c in values}
    if have != {"ghi_w_m2", "dni_w_m2", "dhi_w_m2"}:
        if latitude is None or longitude is None:
            raise ValidationFailed(
                f"{t.file} was not read",
                issues=[
                    Issue(
                        "the file has no DNI/DHI: give the station's latitude and longitude to split GHI into them",
                        t.file,
                    )
                ],
            )
        sun = sun_geometry(index, latitude, longitude)
        zenith = sun.zenith_deg
        cos_z = np.clip(np.cos(np.radians(zenith)), 0.0, None)
        if have == {"ghi_w_m2"}:
            doy = (index + (index[1] - index[0]) / 2).tz_convert("UTC").day_of_year.to_numpy()
            split = pvlib.irradiance.erbs(values["ghi_w_m2"], zenith, doy)
            values["dni_w_m2"] = np.nan_to_num(np.asarray(split["dni"], dtype=float))
            values["dhi_w_m2"] = np.nan_to_num(np.asarray(split["dhi"], dtype=float))
            notes.append("DNI and DHI split from GHI with the Erbs model (pvlib.irradiance.erbs)")
        elif have == {"ghi_w_m2", "dhi_w_m2"}:
            dni = pvlib.irradiance.dni(values["ghi_w_m2"], values["dhi_w_m2"], zenith)
            values["dni_w_m2"] = np.nan_to_num(np.asarray(dni, dtype=float))
            notes.append("DNI from (GHI - DHI) / cos(zenith) (pvlib.irradiance.dni)")
        elif have == {"ghi_w_m2", "dni_w_m2"}:
            values["dhi_w_m2"] = np.clip(values["ghi_w_m2"] - values["dni_w_m2"] * cos_z, 0.0, None)
            notes.append("DHI from GHI - DNI cos(zenith)")
        else:  # DNI and DHI
            values["ghi_w_m2"] = values["dni_w_m2"] * cos_z + values["dhi_w_m2"]
            notes.append("GHI from DNI cos(zenith) + DHI")
    if "wind_speed_m_s" not in values:
        values["wind_speed_m_s"] = np.full(len(index), WIND_SPEED_DEFAULT_M_S)
        notes.append(f"no wind speed in the file: {WIND_SPEED_DEFAULT_M_S:g} m/s assumed")
    return pd.DataFrame({c: np.asarray(values[c], dtype=float) for c in WEATHER_COLUMNS}, index=index)


# ===============================================================================================================
# performance


@dataclass(frozen=True)
class PerformanceRatio:
    """Daily and period performance ratio of one array.

    Attributes
    ----------
    daily : pandas.DataFrame
        One row per local day (index ``day``, `datetime.date`): ``measured_kwh`` [kWh], either
        ``insolation_kwh_m2`` (plane-of-array H [kWh/m2]) with ``reference_yield_h`` (H / G_STC [h]) and
        ``final_yield_h`` (E / P_STC [kWh/kWp = h]), or ``expected_kwh`` [kWh]; ``pr`` [-] (NaN on skipped
        days) and ``skipped`` (why the day was left out, "" when used).
    period : float
        PR over the days used, from the summed energies (not the mean of daily ratios) [-]; NaN if none.
    basis : str
        ``"insolation"``: IEC 61724-1 PR = E_AC / (P_STC x H_POA / G_STC); ``"model"``: IEC 61724-1
        performance index, measured / expected energy.
    """

    daily: pd.DataFrame
    period: float
    basis: str

    @property
    def days_used(self) -> int:
        return int((self.daily["skipped"] == "").sum())


def performance_ratio(
    measured_kwh: pd.Series,
    poa_w_m2: pd.Series | None = None,
    kwp: float | None = None,
    *,
    expected_kwh: pd.Series | None = None,
    min_insolation_kwh_m2: float = MIN_INSOLATION_KWH_M2,
    min_expected_kwh: float | None = None,
) -> PerformanceRatio:
    """Performance ratio (IEC 61724-1) per local day and over the period.

    ``PR = Y_f / Y_r = (E_AC / P_STC) / (H_POA / G_STC)``: AC energy per kWp over the plane-of-array
    insolation in hours at 1 kW/m2. With `expected_kwh` instead of `poa_w_m2` the ratio is the performance
    index ``E_measured / E_expected`` against modelled production (`park_pv_kw` x step).

    Parameters
    ----------
    measured_kwh : pandas.Series
        Metered AC energy per interval [kWh] on a time-zone aware index of interval starts; NaN = missing.
    poa_w_m2 : pandas.Series, optional
        Mean plane-of-array irradiance per interval [W/m2] (a POA pyranometer or `plane_of_array`).
    kwp : float, optional
        DC nameplate P_STC [kWp]; required with `poa_w_m2`.
    expected_kwh : pandas.Series, optional
        Modelled AC energy per interval [kWh], instead of `poa_w_m2`.
    min_insolation_kwh_m2 : float
        Days with less plane-of-array insolation are skipped as too dull [kWh/m2].
    min_expected_kwh : float, optional
        With `expected_kwh`: days expecting less are skipped [kWh]; default 20 % of the best day's.

    Returns
    -------
    PerformanceRatio
        Days with incomplete data in either series, or too little light, are kept in ``daily`` with the
        reason in ``skipped``.
    """
    if (poa_w_m2 is None) == (expected_kwh is None):
        raise ValidationFailed("give either poa_w_m2 (IEC 61724-1 PR) or expected_kwh (performance index)")
    measured = _daily(measured_kwh, "measured_kwh", amount=True)
    if poa_w_m2 is not None:
        if kwp is None or not math.isfinite(kwp) or kwp <= 0:
            raise ValidationFailed("kwp must be > 0 [kWp]", issues=[Issue("kwp must be > 0 [kWp]", column="kwp")])
        light = _daily(poa_w_m2, "poa_w_m2", amount=False, tz=measured.attrs["tz"])
        days = measured.index.union(light.index)
        m, h = measured.reindex(days), light.reindex(days)
        insolation = h["total"] / 1000.0  # Wh/m2 -> kWh/m2
        daily = pd.DataFrame(
            {
                "measured_kwh": m["total"],
                "insolation_kwh_m2": insolation,
                "reference_yield_h": insolation / (G_STC_W_M2 / 1000.0),
                "final_yield_h": m["total"] / kwp,
            },
            index=days,
        )
        skipped = _skip_reasons(m, h, "measured", "irradiance")
        dull = (skipped == "") & (insolation < min_insolation_kwh_m2)
        skipped[dull] = [
            f"too little light: {x:.2f} kWh/m2 < {min_insolation_kwh_m2:g} kWh/m2 in the array plane"
            for x in insolation[dull]
        ]
        daily["pr"] = (daily["final_yield_h"] / daily["reference_yield_h"]).where(skipped == "")
        used = skipped == ""
        period = _ratio(daily.loc[used, "measured_kwh"].sum(), kwp * daily.loc[used, "reference_yield_h"].sum())
        basis = "insolation"
    else:
        assert expected_kwh is not None
        model = _daily(expected_kwh, "expected_kwh", amount=True, tz=measured.attrs["tz"])
        days = measured.index.union(model.index)
        m, e = measured.reindex(days), model.reindex(days)
        daily = pd.DataFrame({"measured_kwh": m["total"], "expected_kwh": e["total"]}, index=days)
        skipped = _skip_reasons(m, e, "measured", "modelled")
        limit = _min_expected(e["total"].where(skipped == ""), min_expected_kwh)
        dull = (skipped == "") & (daily["expected_kwh"] < limit)
        skipped[dull] = [
            f"too little light: expected {x:.1f} kWh < {limit:.1f} kWh" for x in daily["expected_kwh"][dull]
        ]
        used = skipped == ""
        daily["pr"] = (daily["measured_kwh"] / daily["expected_kwh"]).where(used)
        period = _ratio(daily.loc[used, "measured_kwh"].sum(), daily.loc[used, "expected_kwh"].sum())
        basis = "model"
    daily["skipped"] = skipped
    daily.index.name = "day"
    return PerformanceRatio(daily=daily, period=period, basis=basis)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def _daily(series: pd.Series, what: str, *, amount: bool, tz: Any = None) -> pd.DataFrame:
    """Per local day: ``total`` (sum of an amount, or of mean power x step hours), ``count`` of intervals with
    a value and ``expected`` intervals in that day."""
    index = series.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValidationFailed(
            f"{what} must be indexed by time-zone aware interval starts",
            issues=[Issue("timestamps need a time zone", column=what)],
        )
    if index.has_duplicates:
        raise ValidationFailed(f"{what} has repeated timestamps", issues=[Issue("repeated timestamps", column=what)])
    values = pd.to_numeric(series, errors="coerce").astype(float)
    if tz is not None:
        index = index.tz_convert(tz)
    values.index = index
    values = values.sort_index()
    index = values.index
    if len(index) < 2:
        raise ValidationFailed(f"{what} needs at least two intervals", issues=[Issue("too short", column=what)])
    diffs = np.diff(index.asi8)
    steps, counts = np.unique(diffs, return_counts=True)
    step = pd.Timedelta(int(steps[np.argmax(counts)]), unit=index.unit)
    step_h = step / pd.Timedelta(hours=1)
    day = index.normalize()
    grouped = (values if amount else values * step_h).groupby(day)
    out = pd.DataFrame({"total": grouped.sum(min_count=1), "count": grouped.count()})
    midnights = pd.DatetimeIndex(out.index)
    out["expected"] = np.rint(((midnights + pd.Timedelta(hours=36)).normalize() - midnights) / step).astype(int)
    out.index = pd.Index(midnights.date, name="day")
    out.attrs["tz"] = index.tz
    return out


def _skip_reasons(a: pd.DataFrame, b: pd.DataFrame, a_name: str, b_name: str) -> pd.Series:
    reasons = []
    for (_, ra), (_, rb) in zip(a.iterrows(), b.iterrows(), strict=True):
        why = []
        for r, name in ((ra, a_name), (rb, b_name)):
            if pd.isna(r["count"]) or r["count"] == 0:
                why.append(f"no {name} data")
            elif r["count"] < r["expected"]:
                why.append(f"{name} data cover {int(r['count'])} of {int(r['expected'])} intervals")
        reasons.append("; ".join(why))
    return pd.Series(reasons, index=a.index, dtype=object)


def _min_expected(expected: pd.Series, min_expected_kwh: float | None) -> float:
    if min_expected_kwh is not None:
        if not math.isfinite(min_expected_kwh) or min_expected_kwh < 0:
            raise ValidationFailed("min_expected_kwh must be >= 0 [kWh]")
        return float(min_expected_kwh)
    best = expected.max()
    return float(MIN_EXPECTED_SHARE * best) if pd.notna(best) else 0.0


@dataclass(frozen=True)
class Alert:
    """A day on which an array's metered energy is checked against its modelled production.

    Attributes
    ----------
    day : datetime.date
        Local calendar day.
    array : str
        Array (asset or channel) code.
    measured_kwh, expected_kwh : float or None
        Metered and modelled AC energy of the day [kWh]; None when the day has no data.
    ratio : float or None
        measured / expected [-]; None when undefined.
    kind : str
        ``"underperformance"`` (ratio below the threshold), ``"too_little_light"`` (skipped: too dull to
        judge) or ``"missing_data"`` (skipped: incomplete meter or model data).
    reason : str
        The sentence shown to the operator.
    """

    day: dt.date
    array: str
    measured_kwh: float | None
    expected_kwh: float | None
    ratio: float | None
    kind: str
    reason: str


def underperformance_alerts(
    measured_kwh: pd.Series | pd.DataFrame,
    expected_kwh: pd.Series | pd.DataFrame,
    threshold: float = 0.85,
    min_expected_kwh: float | None = None,
    *,
    array: str | None = None,
) -> list[Alert]:
    """Days on which metered PV energy fell below `threshold` x modelled energy, and days that were skipped.

    Parameters
    ----------
    measured_kwh : pandas.Series or pandas.DataFrame
        Metered AC energy per interval [kWh] of one array (Series) or of several (one column per array), on
        a time-zone aware index of interval starts; NaN = missing.
    expected_kwh : pandas.Series or pandas.DataFrame
        Modelled AC energy per interval [kWh] (e.g. ``park_pv_kw(...) * step_h``), same shape of columns.
    threshold : float
        Alert when measured / expected < threshold [-], 0 < threshold <= 1.
    min_expected_kwh : float, optional
        Days expecting less are too dull to judge [kWh]; default 20 % of the array's best day.
    array : str, optional
        Code of a Series' array; default the Series' name.

    Returns
    -------
    list of Alert
        Sorted by day and array: every underperforming day, and every skipped day with its reason
        (``kind`` ``"too_little_light"`` or ``"missing_data"``). Days that pass produce nothing.
    """
    if not (isinstance(threshold, int | float) and 0 < threshold <= 1):
        raise ValidationFailed("threshold must be within 0 < threshold <= 1", issues=[Issue("bad threshold")])
    if isinstance(measured_kwh, pd.DataFrame) != isinstance(expected_kwh, pd.DataFrame):
        raise ValidationFailed("give measured and expected energy both as Series or both as DataFrames")
    if isinstance(measured_kwh, pd.DataFrame):
        assert isinstance(expected_kwh, pd.DataFrame)
        only = sorted(set(map(str, measured_kwh.columns)) ^ set(map(str, expected_kwh.columns)))
        if only:
            raise ValidationFailed(
                "measured and expected energy must cover the same arrays",
                issues=[Issue("only in one of measured / expected", column=c) for c in only],
            )
        pairs = [(str(c), measured_kwh[c], expected_kwh[c]) for c in measured_kwh.columns]
    else:
        code = array if array is not None else "" if measured_kwh.name is None else str(measured_kwh.name)
        pairs = [(code, measured_kwh, expected_kwh)]
    alerts: list[Alert] = []
    for code, measured, expected in pairs:
        pr = performance_ratio(measured, expected_kwh=expected, min_expected_kwh=min_expected_kwh)
        for day, row in pr.daily.iterrows():
            m = None if pd.isna(row["measured_kwh"]) else float(row["measured_kwh"])
            e = None if pd.isna(row["expected_kwh"]) else float(row["expected_kwh"])
            ratio = m / e if m is not None and e else None
            if row["skipped"]:
                kind = "too_little_light" if row["skipped"].startswith("too little light") else "missing_data"
                alerts.append(Alert(day, code, m, e, ratio, kind, f"not judged: {row['skipped']}"))
            elif ratio is not None and ratio < threshold:
                assert m is not None and e is not None
                reason = f"measured {m:.1f} kWh is {ratio:.0%} of the expected {e:.1f} kWh (threshold {threshold:.0%})"
                alerts.append(Alert(day, code, m, e, ratio, "underperformance", reason))
    alerts.sort(key=lambda a: (a.day, a.array))
    return alerts
