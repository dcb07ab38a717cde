"""Rule-based dispatch of the park battery on Shanghai's time-of-use periods (two charges, two discharges a day).

Periods from 沪发改价管〔2022〕50号 (see DESIGN §6): valley 22:00-06:00 all year; peak 08:00-15:00 and
18:00-21:00 in July-September, 08:00-11:00 and 18:00-21:00 in the other months. The rule:

- charge at rated power in the valley (22-06) and again in the flat hours between the two peaks (11-18, or
  15-18 in July-September), until the upper SOC limit;
- discharge at rated power in the peak hours until the lower SOC limit, but never more than the park's net
  load in the interval (the battery does not export); where a peak block holds a sharp peak (12-14 in July and
  August, 19-21 in January and December) the battery waits for the sharp peak and discharges from its start;
- idle otherwise.

Within one charging or discharging window the state of charge moves monotonically, so each window is solved
in closed form with a capped cumulative sum; only the ~4 windows a day are looped over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUMMER_MONTHS = (7, 8, 9)


@dataclass(frozen=True)
class BatteryParams:
    """Battery asset parameters (the registry's ``params`` of a ``battery`` asset)."""

    energy_kwh: float
    power_kw: float
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min_pct: float = 10.0
    soc_max_pct: float = 95.0

    @classmethod
    def from_params(cls, params: dict) -> BatteryParams:
        names = cls.__dataclass_fields__
        return cls(**{k: float(v) for k, v in params.items() if k in names})


def tou_actions(hour: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Battery action per interval: +1 charge, -1 discharge, 0 idle.

    Parameters
    ----------
    hour : numpy.ndarray
        Local hour of the interval start [h].
    month : numpy.ndarray
        Local calendar month, 1-12.
    """
    summer = np.isin(month, SUMMER_MONTHS)
    valley = (hour >= 22.0) | (hour < 6.0)
    morning_peak_end = np.where(summer, 15.0, 11.0)
    peak = ((hour >= 8.0) & (hour < morning_peak_end)) | ((hour >= 18.0) & (hour < 21.0))
    midday_flat = (hour >= morning_peak_end) & (hour < 18.0)
    # hold the charge for the sharp peak: Jul-Aug 12-14 (peak block 08-15), Jan and Dec 19-21 (block 18-21)
    wait = (np.isin(month, (7, 8)) & (hour >= 8.0) & (hour < 12.0)) | (
        np.isin(month, (1, 12)) & (hour >= 18.0) & (hour < 19.0)
    )
    return np.where(valley | midday_flat, 1, np.where(peak & ~wait, -1, 0)).astype(np.int8)


def dispatch(
    net_load_kwh: np.ndarray,
    actions: np.ndarray,
    battery: BatteryParams,
    dt_h: float = 0.25,
    soc_start_pct: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Charge and discharge energy and end-of-interval state of charge under the time-of-use rule.

    Parameters
    ----------
    net_load_kwh : numpy.ndarray
        Park load + EV charging - PV generation in each interval, before the battery [kWh].
    actions : numpy.ndarray
        +1 charge, -1 discharge, 0 idle per interval (see `tou_actions`).
    battery : BatteryParams
        Energy [kWh], power [kW], efficiencies [-] and SOC limits [%].
    dt_h : float
        Interval length [h].
    soc_start_pct : float, optional
        State of charge at the start of the first interval [%]; default the lower limit.

    Returns
    -------
    charge_kwh, discharge_kwh : numpy.ndarray
        AC energy into / out of the battery in each interval [kWh], both >= 0.
    soc_pct : numpy.ndarray
        State of charge at the end of each interval [%].
    """
    n = len(net_load_kwh)
    e_min = battery.energy_kwh * battery.soc_min_pct / 100.0
    e_max = battery.energy_kwh * battery.soc_max_pct / 100.0
    e = battery.energy_kwh * (battery.soc_min_pct if soc_start_pct is None else soc_start_pct) / 100.0
    stored = np.zeros(n)  # energy entering the cells [kWh]
    drawn = np.zeros(n)  # energy leaving the cells [kWh]
    step_kwh = battery.power_kw * dt_h
    bounds = np.r_[0, np.flatnonzero(np.diff(actions) != 0) + 1, n]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        action = actions[lo]
        if action > 0:
            cum = np.minimum(np.cumsum(np.full(hi - lo, step_kwh * battery.eta_charge)), max(e_max - e, 0.0))
            stored[lo:hi] = np.diff(cum, prepend=0.0)
            e += cum[-1]
        elif action < 0:
            ac_limit = np.minimum(step_kwh, np.clip(net_load_kwh[lo:hi], 0.0, None))
            cum = np.minimum(np.cumsum(ac_limit / battery.eta_discharge), max(e - e_min, 0.0))
            drawn[lo:hi] = np.diff(cum, prepend=0.0)
            e -= cum[-1]
    charge_kwh = stored / battery.eta_charge
    discharge_kwh = drawn * battery.eta_discharge
    e0 = battery.energy_kwh * (battery.soc_min_pct if soc_start_pct is None else soc_start_pct) / 100.0
    soc_pct = 100.0 * (e0 + np.cumsum(stored - drawn)) / battery.energy_kwh
    return charge_kwh, discharge_kwh, soc_pct
