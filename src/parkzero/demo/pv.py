"""PV physics of the demo park: plane-of-array irradiance, cell temperature and PVWatts AC output.

The chain per array (all pvlib): solar position at the interval midpoints -> Hay-Davies transposition of
GHI/DNI/DHI onto the array plane (``pvlib.irradiance.get_total_irradiance``, ground albedo 0.2) -> the
beam component reduced by the Fresnel/glass incidence-angle modifier (``pvlib.iam.physical``), diffuse
and ground-reflected light by a flat 5 % -> Faiman cell temperature (``pvlib.temperature.faiman``; open
rack on roofs u0 = 25, u1 = 6.84; less ventilated facades u0 = 20, u1 = 3) -> PVWatts DC
(``pvlib.pvsystem.pvwatts_dc``, gamma -0.37 %/K) -> system losses ``losses_pct`` (soiling, wiring,
mismatch, availability...; PVWatts' default is 14 %) -> PVWatts inverter (``pvlib.inverter.pvwatts``,
nominal efficiency 96 %, DC/AC ratio 1.15, clipping above the AC rating).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib

ALBEDO = 0.2
DIFFUSE_IAM = 0.95
GAMMA_PDC_PER_K = -0.0037
INVERTER_EFFICIENCY = 0.96
DC_AC_RATIO = 1.15
FAIMAN = {"roof": (25.0, 6.84), "facade": (20.0, 3.0)}


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
    weather: pd.DataFrame, sun: SunGeometry, tilt_deg: float, azimuth_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Total and effective (after incidence-angle losses) irradiance on a plane [W/m2].

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` as from `shanghai_weather`.
    sun : SunGeometry
        Solar geometry of the same index.
    tilt_deg : float
        Plane tilt from horizontal [deg] (90 = vertical facade).
    azimuth_deg : float
        Direction the plane faces, clockwise from north [deg] (180 = south).

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
        albedo=ALBEDO,
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
    """Faiman cell temperature [degC] for a ``"roof"`` (ventilated) or ``"facade"`` (less ventilated) array."""
    u0, u1 = FAIMAN.get(mounting, FAIMAN["roof"])
    return np.asarray(pvlib.temperature.faiman(poa_global_w_m2, temp_air_c, wind_speed_m_s, u0=u0, u1=u1))


def pv_ac_power_kw(
    weather: pd.DataFrame,
    sun: SunGeometry,
    kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    mounting: str = "roof",
    losses_pct: float = 14.0,
) -> np.ndarray:
    """Mean AC output of one PV array over each interval [kW].

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
    poa_global, effective = plane_of_array(weather, sun, tilt_deg, azimuth_deg)
    temp_cell = cell_temperature_c(
        poa_global, weather["temp_air_c"].to_numpy(), weather["wind_speed_m_s"].to_numpy(), mounting
    )
    pdc_kw = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, kwp, GAMMA_PDC_PER_K) * (1.0 - losses_pct / 100.0)
    pac0_kw = kwp / DC_AC_RATIO
    pac_kw = pvlib.inverter.pvwatts(pdc_kw, pac0_kw / INVERTER_EFFICIENCY, eta_inv_nom=INVERTER_EFFICIENCY)
    return np.clip(np.nan_to_num(np.asarray(pac_kw, dtype=float)), 0.0, None)
