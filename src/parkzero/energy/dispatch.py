"""Optimal dispatch of the park's flexible assets over a horizon of 15-minute steps (linopy + HiGHS).

One linear programme per plan, in the spirit of PyPSA's operational optimisation, with one variable array per
asset kind (asset x step), so 50 assets cost little more to build than 5:

- **batteries**: charge and discharge power, state of charge with charge/discharge efficiencies, SOC limits,
  a resilience reserve, a terminal SOC (no free energy from draining the battery at the horizon's end) and a
  degradation cost per kWh discharged. The LP is solved first; if any battery would charge and discharge in the
  same step (possible when energy must be burnt, e.g. under negative prices), the plan is solved again with
  one binary per battery and step forbidding it.
- **shiftable loads**: an energy to deliver within a window of steps, between power limits.
- **EV sessions**: an energy to deliver between arrival and departure, up to the charge point's power.
- **HVAC with pre-cooling**: one thermal node per zone (1R1C): ``T[t+1] = T[t] + dt/C (UA (T_out - T) + gains
  - Q_cool)``, electric power ``Q_cool / COP``, comfort band kept softly (a violation costs
  `COMFORT_PENALTY_CNY_PER_KH`, so a hot day never makes the plan infeasible).
- **PV** may be curtailed; **grid** import and export limits and the transformer limit hold in every step.

Objective [CNY] = energy cost - export income + demand charge on the increase of the month's maximum demand
above the peak already reached + carbon price x grid emissions (15-minute intensity) + degradation + comfort
penalty.

A plan never crashes the control loop: bad inputs raise `ValidationFailed` naming the asset and field before
solving (`check`); when the solver fails, finds the problem infeasible or runs out of time, `plan` returns the
safe fallback plan (`fallback_plan`: batteries on self-consumption above their reserve, loads on their baseline
schedule, EVs charged on arrival, HVAC on its thermostat) with ``status="fallback"`` and the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from parkzero.energy import lp
from parkzero.errors import Issue, ValidationFailed

STEP_H = 0.25
COMFORT_PENALTY_CNY_PER_KH = 50.0  # per kelvin-hour outside the band: far above any energy price
SIMULTANEOUS_TOL_KW = 1e-3


@dataclass(frozen=True)
class Battery:
    """A stationary battery (the registry's ``battery`` asset params).

    Parameters
    ----------
    energy_kwh, power_kw : float
        Usable nameplate energy [kWh] and charge/discharge power [kW].
    eta_charge, eta_discharge : float
        One-way efficiencies [-].
    soc_min_pct, soc_max_pct : float
        State-of-charge limits [% of energy_kwh].
    reserve_pct : float
        SOC kept for outages [% of energy_kwh]; the plan never goes below max(soc_min, reserve).
    degradation_cny_per_kwh : float
        Wear cost per kWh discharged [CNY/kWh].
    """

    code: str
    energy_kwh: float
    power_kw: float
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min_pct: float = 10.0
    soc_max_pct: float = 95.0
    reserve_pct: float = 0.0
    degradation_cny_per_kwh: float = 0.05

    @classmethod
    def from_params(cls, code: str, params: Mapping) -> Battery:
        names = set(cls.__dataclass_fields__) - {"code"}
        return cls(code, **{k: float(v) for k, v in params.items() if k in names})

    @property
    def soc_floor_kwh(self) -> float:
        return self.energy_kwh * max(self.soc_min_pct, self.reserve_pct) / 100.0

    @property
    def soc_ceiling_kwh(self) -> float:
        return self.energy_kwh * self.soc_max_pct / 100.0


@dataclass(frozen=True)
class ShiftableLoad:
    """Process energy that may move within a window of steps ``[start_step, end_step)``.

    Parameters
    ----------
    energy_kwh : float
        Energy to deliver inside the window [kWh].
    power_min_kw, power_max_kw : float
        Power limits while in the window [kW].
    baseline_kw : numpy.ndarray, optional
        The schedule without control, one value per step of the horizon [kW] (the fallback plan runs it).
    """

    code: str
    energy_kwh: float
    start_step: int
    end_step: int
    power_max_kw: float
    power_min_kw: float = 0.0
    baseline_kw: np.ndarray | None = None


@dataclass(frozen=True)
class EvSession:
    """One EV charging session: `energy_kwh` delivered in steps ``[arrival_step, departure_step)`` [kWh, kW]."""

    code: str
    arrival_step: int
    departure_step: int
    energy_kwh: float
    power_max_kw: float


@dataclass(frozen=True)
class Hvac:
    """A cooled zone as one thermal node (1R1C) with its chiller.

    Parameters
    ----------
    cooling_max_kw : float
        Maximum thermal cooling [kW thermal].
    cop : float
        Coefficient of performance [-]: electric power = cooling / cop.
    capacitance_kwh_per_k, ua_kw_per_k : float
        Thermal capacity [kWh/K] and envelope conductance [kW/K] of the zone.
    temp_start_c : float
        Zone temperature at the start of the horizon [degC].
    temp_min_c, temp_max_c : numpy.ndarray or float
        Comfort band per step [degC] (wide when the zone is empty).
    outdoor_c, gains_kw : numpy.ndarray
        Outdoor temperature [degC] and internal + solar gains [kW thermal] per step.
    """

    code: str
    cooling_max_kw: float
    cop: float
    capacitance_kwh_per_k: float
    ua_kw_per_k: float
    temp_start_c: float
    temp_min_c: np.ndarray | float
    temp_max_c: np.ndarray | float
    outdoor_c: np.ndarray
    gains_kw: np.ndarray


@dataclass(frozen=True)
class Grid:
    """The park connection.

    Parameters
    ----------
    import_max_kw, export_max_kw : float
        Limits of import and export [kW] (export 0 = no feed-in allowed).
    transformer_kva, power_factor : float, optional
        Transformer rating [kVA] and the power factor that turns it into a kW limit [-].
    demand_charge_cny_per_kw_month : float
        Two-part tariff demand charge on the month's maximum 15-minute demand [CNY/kW-month].
    peak_so_far_kw : float
        Maximum demand already reached this month [kW]: only an increase above it costs.
    """

    import_max_kw: float = math.inf
    export_max_kw: float = math.inf
    transformer_kva: float | None = None
    power_factor: float = 0.95
    demand_charge_cny_per_kw_month: float = 0.0
    peak_so_far_kw: float = 0.0

    @property
    def import_limit_kw(self) -> float:
        kva = math.inf if self.transformer_kva is None else self.transformer_kva * self.power_factor
        return min(self.import_max_kw, kva)

    @property
    def export_limit_kw(self) -> float:
        kva = math.inf if self.transformer_kva is None else self.transformer_kva * self.power_factor
        return min(self.export_max_kw, kva)


@dataclass
class DispatchInput:
    """Everything one plan needs; arrays have one value per step of `index` (15-minute steps).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Step start times, time-zone aware, regular 15 minutes.
    base_load_kw, pv_kw : numpy.ndarray
        Forecast uncontrolled load and available PV output [kW].
    import_price_cny_per_kwh, export_price_cny_per_kwh : numpy.ndarray or float
        Energy prices [CNY/kWh].
    grid_intensity_kg_per_kwh : numpy.ndarray or float
        CO2 intensity of grid import [kgCO2/kWh].
    carbon_price_cny_per_t : float
        Price put on emissions in the objective [CNY/tCO2].
    soc_start_kwh, soc_end_kwh : dict
        Battery code -> energy at the start, and the minimum at the end (default: the start value) [kWh].
    time_limit_s : float
        Solver time limit [s]; on time-out the fallback plan is returned.
    """

    index: pd.DatetimeIndex
    base_load_kw: np.ndarray
    pv_kw: np.ndarray
    import_price_cny_per_kwh: np.ndarray | float
    export_price_cny_per_kwh: np.ndarray | float = 0.0
    grid_intensity_kg_per_kwh: np.ndarray | float = 0.0
    carbon_price_cny_per_t: float = 0.0
    grid: Grid = field(default_factory=Grid)
    batteries: Sequence[Battery] = ()
    shiftable: Sequence[ShiftableLoad] = ()
    ev_sessions: Sequence[EvSession] = ()
    hvac: Sequence[Hvac] = ()
    soc_start_kwh: Mapping[str, float] = field(default_factory=dict)
    soc_end_kwh: Mapping[str, float] = field(default_factory=dict)
    time_limit_s: float = 10.0
    binaries: str = "auto"  # "auto": LP, then MILP if a battery charges and discharges at once; "always"; "never"

    @property
    def n(self) -> int:
        return len(self.index)


@dataclass
class DispatchPlan:
    """A plan: per-step powers (frame columns in kW, SOC in kWh, temperatures in degC) and its costs.

    Columns: ``grid_import_kw``, ``grid_export_kw``, ``pv_used_kw``, ``pv_curtailed_kw``, ``base_load_kw``, and
    per asset ``battery/{code}/charge_kw``, ``.../discharge_kw``, ``.../soc_kwh`` (end of step),
    ``shift/{code}/kw``, ``ev/{code}/kw``, ``hvac/{code}/kw`` (electric) and ``hvac/{code}/temp_c`` (end of step).
    """

    frame: pd.DataFrame
    costs: dict[str, float]
    status: str  # "optimal" or "fallback"
    reason: str = ""
    solve_s: float = 0.0
    milp: bool = False
    notes: list[str] = field(default_factory=list)

    def setpoints(self) -> dict[str, pd.Series]:
        """Asset code -> power setpoint per step [kW]; batteries positive when discharging."""
        out: dict[str, pd.Series] = {}
        for col in self.frame.columns:
            kind, _, rest = col.partition("/")
            code, _, what = rest.rpartition("/")
            if kind == "battery" and what == "charge_kw":
                out[code] = self.frame[f"battery/{code}/discharge_kw"] - self.frame[col]
            elif kind in ("shift", "ev", "hvac") and what == "kw":
                out[code] = self.frame[col]
        return out


def _series(value: np.ndarray | float, n: int, name: str, index: pd.DatetimeIndex, issues: list[Issue]) -> np.ndarray:
    arr = np.full(n, float(value)) if np.isscalar(value) else np.asarray(value, dtype=float)
    if arr.shape != (n,):
        issues.append(Issue(f"has {arr.size} values for {n} steps", column=name))
        return np.zeros(n)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        issues.append(Issue(f"missing for {bad.size} steps, first at {index[bad[0]].isoformat()}", column=name))
    return arr


def fill_gaps(values: np.ndarray, name: str) -> tuple[np.ndarray, str | None]:
    """Fill NaN in a forecast by linear interpolation (ends held) and say so; all-NaN raises [same unit].

    Forecast gaps must not stop the control loop; prices and limits are never filled (see `check`).
    """
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr)
    if not bad.any():
        return arr, None
    if bad.all():
        raise ValidationFailed(f"forecast {name} has no values at all: cannot plan")
    steps = np.arange(arr.size)
    filled = arr.copy()
    filled[bad] = np.interp(steps[bad], steps[~bad], arr[~bad])
    return filled, f"{name}: {int(bad.sum())} missing steps filled by linear interpolation"


def check(inp: DispatchInput) -> list[str]:
    """Validate a plan's inputs; raise `ValidationFailed` naming each bad asset/field. Returns notes.

    Forecast gaps (load, PV) are filled and noted; missing prices, SOC outside its limits, windows outside the
    horizon and energies that cannot fit their window are errors.
    """
    issues: list[Issue] = []
    notes: list[str] = []
    n = inp.n
    if n == 0:
        raise ValidationFailed("the plan has no steps")
    if inp.index.tz is None:
        issues.append(Issue("the step times must be time-zone aware", column="index"))
    elif n > 1 and not (inp.index[1:] - inp.index[:-1] == pd.Timedelta(hours=STEP_H)).all():
        issues.append(Issue("steps must be regular 15-minute intervals", column="index"))
    for name in ("base_load_kw", "pv_kw"):
        arr = np.asarray(getattr(inp, name), dtype=float)
        if arr.shape != (n,):
            issues.append(Issue(f"has {arr.size} values for {n} steps", column=name))
            continue
        filled, note = fill_gaps(arr, name)
        if note:
            notes.append(note)
        setattr(inp, name, filled)
    if np.any(np.asarray(inp.pv_kw) < 0):
        issues.append(Issue("PV power cannot be negative", column="pv_kw"))
    for name in ("import_price_cny_per_kwh", "export_price_cny_per_kwh", "grid_intensity_kg_per_kwh"):
        setattr(inp, name, _series(getattr(inp, name), n, name, inp.index, issues))
    for b in inp.batteries:
        where = f"battery {b.code}"
        if b.energy_kwh <= 0 or b.power_kw <= 0:
            issues.append(Issue("energy_kwh and power_kw must be positive", column=f"{where}.energy_kwh"))
        if not (0 < b.eta_charge <= 1 and 0 < b.eta_discharge <= 1):
            issues.append(Issue("efficiencies must be in (0, 1]", column=f"{where}.eta_charge"))
        if not (0 <= b.soc_min_pct < b.soc_max_pct <= 100):
            issues.append(Issue("need 0 <= soc_min_pct < soc_max_pct <= 100", column=f"{where}.soc_min_pct"))
        if b.reserve_pct > b.soc_max_pct:
            issues.append(Issue("reserve above the SOC ceiling", column=f"{where}.reserve_pct"))
        soc = inp.soc_start_kwh.get(b.code)
        if soc is None or not math.isfinite(soc):
            issues.append(Issue("no starting state of charge", column=f"{where}.soc_start_kwh"))
        elif not (b.energy_kwh * b.soc_min_pct / 100 - 1e-6 <= soc <= b.soc_ceiling_kwh + 1e-6):
            issues.append(
                Issue(
                    f"starting SOC {soc:.1f} kWh is outside the limits "
                    f"[{b.energy_kwh * b.soc_min_pct / 100:.1f}, {b.soc_ceiling_kwh:.1f}] kWh",
                    column=f"{where}.soc_start_kwh",
                )
            )
    for s in inp.shiftable:
        where = f"shiftable load {s.code}"
        if not (0 <= s.start_step < s.end_step <= n):
            issues.append(Issue(f"window [{s.start_step}, {s.end_step}) is outside the {n} steps", column=where))
            continue
        steps = s.end_step - s.start_step
        if s.energy_kwh > s.power_max_kw * steps * STEP_H + 1e-6:
            issues.append(
                Issue(
                    f"{s.energy_kwh:.1f} kWh cannot fit in {steps} steps at {s.power_max_kw:.1f} kW "
                    f"(at most {s.power_max_kw * steps * STEP_H:.1f} kWh)",
                    column=f"{where}.energy_kwh",
                )
            )
        if s.energy_kwh < s.power_min_kw * steps * STEP_H - 1e-6:
            issues.append(Issue("less energy than the minimum power draws", column=f"{where}.energy_kwh"))
    for e in inp.ev_sessions:
        where = f"EV session {e.code}"
        if not (0 <= e.arrival_step < e.departure_step <= n):
            issues.append(Issue(f"[{e.arrival_step}, {e.departure_step}) is outside the {n} steps", column=where))
        elif e.energy_kwh > e.power_max_kw * (e.departure_step - e.arrival_step) * STEP_H + 1e-6:
            issues.append(Issue("energy cannot be delivered before departure", column=f"{where}.energy_kwh"))
    for h in inp.hvac:
        where = f"hvac {h.code}"
        if h.cop <= 0 or h.capacitance_kwh_per_k <= 0 or h.ua_kw_per_k < 0:
            issues.append(Issue("cop and capacitance must be positive", column=where))
        for name in ("outdoor_c", "gains_kw", "temp_min_c", "temp_max_c"):
            _series(getattr(h, name), n, f"{where}.{name}", inp.index, issues)
    floor = np.asarray(inp.base_load_kw) - np.asarray(inp.pv_kw) - sum(b.power_kw for b in inp.batteries)
    over = np.flatnonzero(floor > inp.grid.import_limit_kw + 1e-6)
    if over.size and np.isfinite(inp.grid.import_limit_kw):
        t = over[0]
        issues.append(
            Issue(
                f"import limit {inp.grid.import_limit_kw:.0f} kW is below what the park must draw at "
                f"{inp.index[t].isoformat()} ({floor[t]:.0f} kW after all PV and battery power)",
                column="grid.import_max_kw",
            )
        )
    if issues:
        raise ValidationFailed("the dispatch inputs are not usable", issues=issues)
    return notes


def plan(inp: DispatchInput) -> DispatchPlan:
    """Solve one plan; bad inputs raise `ValidationFailed`, a failing solver gives the fallback plan."""
    notes = check(inp)
    started = time.perf_counter()
    try:
        result = _solve(inp, milp=inp.binaries == "always")
        if result is not None and inp.binaries == "auto" and _simultaneous(result, inp):
            result = _solve(inp, milp=True)
            if result is not None:
                result.milp = True
    except Exception as exc:  # noqa: BLE001 - any solver failure must leave the control loop running
        result = None
        reason = f"solver error: {exc}"
    else:
        reason = "" if result is not None else "solver found no optimal plan (infeasible or out of time)"
    elapsed = time.perf_counter() - started
    if result is None:
        fb = fallback_plan(inp)
        fb.reason, fb.solve_s, fb.notes = reason, elapsed, notes + fb.notes
        return fb
    result.solve_s, result.notes = elapsed, notes
    return result


def _simultaneous(p: DispatchPlan, inp: DispatchInput) -> bool:
    for b in inp.batteries:
        both = np.minimum(p.frame[f"battery/{b.code}/charge_kw"], p.frame[f"battery/{b.code}/discharge_kw"])
        if (both > SIMULTANEOUS_TOL_KW).any():
            return True
    return False


def _solve(inp: DispatchInput, *, milp: bool) -> DispatchPlan | None:
    """Solve on the cached model of the same structure, updated with this plan's numbers (see `_Template`)."""
    key = _signature(inp, milp)
    template = _TEMPLATES.pop(key, None) or _Template(_build_model(inp, milp=milp))
    _TEMPLATES[key] = template  # most recently used last
    while len(_TEMPLATES) > 32:
        _TEMPLATES.pop(next(iter(_TEMPLATES)))
    result = template.solve(inp)
    if not result.optimal:
        return None
    return _plan_from_solution(result.values, inp)


def _build_model(inp: DispatchInput, *, milp: bool):
    """The linopy model of a plan (variables and constraints named as `_Template` expects)."""
    import linopy
    import xarray as xr

    n, dt = inp.n, STEP_H
    steps = pd.RangeIndex(n, name="step")

    def arr(values: np.ndarray | float) -> xr.DataArray:
        return xr.DataArray(np.broadcast_to(np.asarray(values, dtype=float), (n,)).copy(), coords=[steps])

    def per_asset(rows: list[np.ndarray], codes: list[str], dim: str) -> xr.DataArray:
        return xr.DataArray(np.vstack(rows), coords=[pd.Index(codes, name=dim), steps])

    first = arr(np.r_[1.0, np.zeros(n - 1)])
    keep = 1.0 - first  # 0 in the first step: no previous state there
    m = linopy.Model()
    g = inp.grid
    imp = m.add_variables(lower=0, upper=g.import_limit_kw, coords=[steps], name="import_kw")
    exp = m.add_variables(lower=0, upper=g.export_limit_kw, coords=[steps], name="export_kw")
    pv = m.add_variables(lower=0, upper=arr(inp.pv_kw), coords=[steps], name="pv_used_kw")
    supply = imp - exp + pv
    demand = arr(inp.base_load_kw)
    cost = (arr(inp.import_price_cny_per_kwh) * dt * imp).sum() - (arr(inp.export_price_cny_per_kwh) * dt * exp).sum()
    carbon_cny_per_kwh = arr(inp.grid_intensity_kg_per_kwh) / 1000.0 * inp.carbon_price_cny_per_t
    cost = cost + (carbon_cny_per_kwh * dt * imp).sum()
    if g.demand_charge_cny_per_kw_month > 0:
        peak = m.add_variables(lower=0, name="peak_increase_kw")
        m.add_constraints(imp - peak <= g.peak_so_far_kw, name="peak")
        cost = cost + g.demand_charge_cny_per_kw_month * peak

    if inp.batteries:
        bs = list(inp.batteries)
        codes = [b.code for b in bs]
        bdim = pd.Index(codes, name="battery")
        power = xr.DataArray([b.power_kw for b in bs], coords=[bdim])
        ch = m.add_variables(lower=0, upper=power, coords=[bdim, steps], name="charge_kw")
        dis = m.add_variables(lower=0, upper=power, coords=[bdim, steps], name="discharge_kw")
        start = xr.DataArray([float(inp.soc_start_kwh[c]) for c in codes], coords=[bdim])
        # a starting SOC below the reserve (after an outage) is allowed: the floor is then held there
        floor = [max(b.energy_kwh * b.soc_min_pct / 100, min(b.soc_floor_kwh, inp.soc_start_kwh[b.code])) for b in bs]
        soc = m.add_variables(
            lower=xr.DataArray(floor, coords=[bdim]).broadcast_like(arr(0.0)),
            upper=xr.DataArray([b.soc_ceiling_kwh for b in bs], coords=[bdim]).broadcast_like(arr(0.0)),
            coords=[bdim, steps],
            name="soc_kwh",
        )
        eta_c = xr.DataArray([b.eta_charge for b in bs], coords=[bdim])
        eta_d = xr.DataArray([b.eta_discharge for b in bs], coords=[bdim])
        # soc[t] = soc[t-1] + eta_c dt ch[t] - dt/eta_d dis[t]; soc[-1] = start (roll wraps; `keep` drops it)
        m.add_constraints(
            soc - keep * soc.roll(step=1) - eta_c * dt * ch + dt / eta_d * dis == first * start, name="soc_balance"
        )
        end = xr.DataArray(
            [
                min(float(inp.soc_end_kwh.get(c, inp.soc_start_kwh[c])), b.soc_ceiling_kwh)
                for c, b in zip(codes, bs, strict=True)
            ],
            coords=[bdim],
        )
        m.add_constraints(soc.isel(step=-1) >= end, name="soc_end")
        if milp:
            charging = m.add_variables(coords=[bdim, steps], name="charging", binary=True)
            m.add_constraints(ch - power * charging <= 0, name="charge_only_when_charging")
            m.add_constraints(dis + power * charging <= power, name="discharge_only_when_not_charging")
        supply = supply + dis.sum("battery") - ch.sum("battery")
        deg = xr.DataArray([b.degradation_cny_per_kwh for b in bs], coords=[bdim])
        cost = cost + (deg * dt * dis).sum()

    def windowed(rows: list[tuple[str, int, int, float, float, float]], dim: str, name: str):
        """Loads that draw `energy` [kWh] in steps [lo, hi) between `pmin` and `pmax` [kW]."""
        codes = [r[0] for r in rows]
        inside = [np.isin(np.arange(n), np.arange(lo, hi)) for _, lo, hi, *_ in rows]
        upper = per_asset([np.where(w, r[4], 0.0) for w, r in zip(inside, rows, strict=True)], codes, dim)
        lower = per_asset([np.where(w, r[3], 0.0) for w, r in zip(inside, rows, strict=True)], codes, dim)
        var = m.add_variables(lower=lower, upper=upper, name=name)
        energy = xr.DataArray([r[5] for r in rows], coords=[pd.Index(codes, name=dim)])
        m.add_constraints((var * dt).sum("step") == energy, name=f"{name}_energy")
        return var

    load = 0
    if inp.shiftable:
        rows = [(s.code, s.start_step, s.end_step, s.power_min_kw, s.power_max_kw, s.energy_kwh) for s in inp.shiftable]
        load = load + windowed(rows, "shiftable", "shift_kw").sum("shiftable")
    if inp.ev_sessions:
        rows = [(e.code, e.arrival_step, e.departure_step, 0.0, e.power_max_kw, e.energy_kwh) for e in inp.ev_sessions]
        load = load + windowed(rows, "session", "ev_kw").sum("session")
    if inp.hvac:
        hs = list(inp.hvac)
        hcodes = [h.code for h in hs]
        hdim = pd.Index(hcodes, name="zone")

        def rows(name: str) -> xr.DataArray:
            return per_asset([np.broadcast_to(np.asarray(getattr(h, name), float), (n,)) for h in hs], hcodes, "zone")

        q = m.add_variables(
            lower=0,
            upper=xr.DataArray([h.cooling_max_kw for h in hs], coords=[hdim]).broadcast_like(arr(0.0)),
            name="cooling_kw",
        )
        temp = m.add_variables(coords=[hdim, steps], name="temp_c")
        too_hot = m.add_variables(lower=0, coords=[hdim, steps], name="too_hot_k")
        too_cold = m.add_variables(lower=0, coords=[hdim, steps], name="too_cold_k")
        cap = xr.DataArray([h.capacitance_kwh_per_k for h in hs], coords=[hdim])
        ua = xr.DataArray([h.ua_kw_per_k for h in hs], coords=[hdim])
        t0 = xr.DataArray([h.temp_start_c for h in hs], coords=[hdim])
        # C (T[t] - T[t-1]) = dt (UA (T_out - T[t-1]) + gains - Q)  (explicit Euler on the previous state)
        prev = keep * temp.roll(step=1)
        m.add_constraints(
            cap * temp - (cap - dt * ua) * prev + dt * q
            == dt * (ua * rows("outdoor_c") + rows("gains_kw")) + first * (cap - dt * ua) * t0,
            name="zone_heat_balance",
        )
        m.add_constraints(temp - too_hot <= rows("temp_max_c"), name="comfort_max")
        m.add_constraints(temp + too_cold >= rows("temp_min_c"), name="comfort_min")
        cop = xr.DataArray([h.cop for h in hs], coords=[hdim])
        load = load + (q / cop).sum("zone")
        cost = cost + COMFORT_PENALTY_CNY_PER_KH * dt * (too_hot + too_cold).sum()

    m.add_constraints(supply - load == demand, name="power_balance")
    m.add_objective(cost)
    return m


_TEMPLATES: dict[tuple, _Template] = {}


def _signature(inp: DispatchInput, milp: bool) -> tuple:
    """What fixes a plan's model structure and coefficients; plans that share it share one compiled model."""
    g = inp.grid
    return (
        inp.n,
        milp,
        g.demand_charge_cny_per_kw_month > 0,
        tuple(
            (b.code, b.energy_kwh, b.power_kw, b.eta_charge, b.eta_discharge, b.soc_min_pct, b.soc_max_pct)
            for b in inp.batteries
        ),
        tuple((s.code, s.start_step, s.end_step) for s in inp.shiftable),
        tuple((e.code, e.arrival_step, e.departure_step) for e in inp.ev_sessions),
        tuple((h.code, h.cop, h.capacitance_kwh_per_k, h.ua_kw_per_k) for h in inp.hvac),
    )


class _Template:
    """A compiled dispatch model whose numbers are replaced for each plan of the same `_signature`.

    What changes between plans: prices and intensities (costs), the demand rate, degradation; PV, import and
    export limits, SOC floors, window and cooling limits (bounds); demand, starting and final SOC, window
    energies, the month's peak so far, thermal loads and comfort bands (right-hand sides). The constraint
    matrix depends only on the signature.
    """

    def __init__(self, model):
        self.lp = lp.CompiledModel(model)

    def solve(self, inp: DispatchInput) -> lp.LpResult:
        c, n, dt = self.lp, inp.n, STEP_H
        g = inp.grid
        price = np.broadcast_to(np.asarray(inp.import_price_cny_per_kwh, float), (n,))
        intensity = np.broadcast_to(np.asarray(inp.grid_intensity_kg_per_kwh, float), (n,))
        export_price = np.broadcast_to(np.asarray(inp.export_price_cny_per_kwh, float), (n,))
        c.set_costs(c.cols("import_kw"), (price + intensity / 1000.0 * inp.carbon_price_cny_per_t) * dt)
        c.set_costs(c.cols("export_kw"), -export_price * dt)
        c.set_bounds(c.cols("import_kw"), 0.0, g.import_limit_kw)
        c.set_bounds(c.cols("export_kw"), 0.0, g.export_limit_kw)
        c.set_bounds(c.cols("pv_used_kw"), 0.0, np.asarray(inp.pv_kw, float))
        c.set_rhs("power_balance", np.asarray(inp.base_load_kw, float))
        if g.demand_charge_cny_per_kw_month > 0:
            c.set_costs(c.cols("peak_increase_kw"), g.demand_charge_cny_per_kw_month)
            c.set_rhs("peak", g.peak_so_far_kw)
        if inp.batteries:
            bs = list(inp.batteries)
            start = np.array([float(inp.soc_start_kwh[b.code]) for b in bs])
            floor = np.array(
                [
                    max(b.energy_kwh * b.soc_min_pct / 100, min(b.soc_floor_kwh, s0))
                    for b, s0 in zip(bs, start, strict=True)
                ]
            )
            ceiling = np.array([b.soc_ceiling_kwh for b in bs])
            c.set_bounds(c.cols("soc_kwh"), floor[:, None], ceiling[:, None])
            first = np.zeros((len(bs), n))
            first[:, 0] = start
            c.set_rhs("soc_balance", first)
            end = [
                min(float(inp.soc_end_kwh.get(b.code, s0)), b.soc_ceiling_kwh) for b, s0 in zip(bs, start, strict=True)
            ]
            c.set_rhs("soc_end", np.array(end))
            c.set_costs(c.cols("discharge_kw"), np.array([b.degradation_cny_per_kwh for b in bs])[:, None] * dt)
        for name, dim_rows in (
            (
                "shift_kw",
                [(s.start_step, s.end_step, s.power_min_kw, s.power_max_kw, s.energy_kwh) for s in inp.shiftable],
            ),
            ("ev_kw", [(e.arrival_step, e.departure_step, 0.0, e.power_max_kw, e.energy_kwh) for e in inp.ev_sessions]),
        ):
            if not dim_rows:
                continue
            lower, upper = np.zeros((len(dim_rows), n)), np.zeros((len(dim_rows), n))
            for i, (lo, hi, pmin, pmax, _) in enumerate(dim_rows):
                lower[i, lo:hi], upper[i, lo:hi] = pmin, pmax
            c.set_bounds(c.cols(name), lower, upper)
            c.set_rhs(f"{name}_energy", np.array([r[4] for r in dim_rows]))
        if inp.hvac:
            hs = list(inp.hvac)

            def rows(name: str) -> np.ndarray:
                return np.vstack([np.broadcast_to(np.asarray(getattr(h, name), float), (n,)) for h in hs])

            cap = np.array([h.capacitance_kwh_per_k for h in hs])[:, None]
            ua = np.array([h.ua_kw_per_k for h in hs])[:, None]
            rhs = dt * (ua * rows("outdoor_c") + rows("gains_kw"))
            rhs[:, 0] += (cap[:, 0] - dt * ua[:, 0]) * np.array([h.temp_start_c for h in hs])
            c.set_rhs("zone_heat_balance", rhs)
            c.set_rhs("comfort_max", rows("temp_max_c"))
            c.set_rhs("comfort_min", rows("temp_min_c"))
            c.set_bounds(c.cols("cooling_kw"), 0.0, np.array([h.cooling_max_kw for h in hs])[:, None])
        return c.solve(time_limit_s=inp.time_limit_s)


def _plan_from_solution(sol: dict[str, np.ndarray], inp: DispatchInput) -> DispatchPlan:
    """The plan's frame from the solution arrays (rows of per-asset variables in the inputs' order)."""
    cols: dict[str, np.ndarray] = {
        "grid_import_kw": sol["import_kw"],
        "grid_export_kw": sol["export_kw"],
        "pv_used_kw": sol["pv_used_kw"],
        "pv_curtailed_kw": np.asarray(inp.pv_kw) - sol["pv_used_kw"],
        "base_load_kw": np.asarray(inp.base_load_kw, dtype=float),
    }
    for i, b in enumerate(inp.batteries):
        for var in ("charge_kw", "discharge_kw", "soc_kwh"):
            cols[f"battery/{b.code}/{var}"] = sol[var][i]
    for i, s in enumerate(inp.shiftable):
        cols[f"shift/{s.code}/kw"] = sol["shift_kw"][i]
    for i, e in enumerate(inp.ev_sessions):
        cols[f"ev/{e.code}/kw"] = sol["ev_kw"][i]
    for i, h in enumerate(inp.hvac):
        cols[f"hvac/{h.code}/kw"] = sol["cooling_kw"][i] / h.cop
        cols[f"hvac/{h.code}/temp_c"] = sol["temp_c"][i]
    frame = pd.DataFrame(
        {k: np.clip(np.asarray(v, float), 0, None) if k.endswith("kw") else v for k, v in cols.items()}, index=inp.index
    )
    return DispatchPlan(frame=frame, costs=plan_costs(frame, inp), status="optimal")


def plan_costs(frame: pd.DataFrame, inp: DispatchInput) -> dict[str, float]:
    """Cost items of a plan [CNY] and its grid emissions [kgCO2], recomputed from the powers."""
    dt = STEP_H
    imp, exp = frame["grid_import_kw"].to_numpy(), frame["grid_export_kw"].to_numpy()
    price = np.broadcast_to(np.asarray(inp.import_price_cny_per_kwh, float), imp.shape)
    export_price = np.broadcast_to(np.asarray(inp.export_price_cny_per_kwh, float), imp.shape)
    intensity = np.broadcast_to(np.asarray(inp.grid_intensity_kg_per_kwh, float), imp.shape)
    emissions_kg = float((imp * intensity * dt).sum())
    peak = float(imp.max()) if imp.size else 0.0
    discharged = sum(
        float(frame[f"battery/{b.code}/discharge_kw"].sum() * dt) * b.degradation_cny_per_kwh for b in inp.batteries
    )
    costs = {
        "energy_cny": float((imp * price * dt).sum()),
        "export_income_cny": float((exp * export_price * dt).sum()),
        "demand_cny": inp.grid.demand_charge_cny_per_kw_month * max(0.0, peak - inp.grid.peak_so_far_kw),
        "carbon_cny": emissions_kg / 1000.0 * inp.carbon_price_cny_per_t,
        "degradation_cny": discharged,
        "emissions_kg": emissions_kg,
        "peak_kw": peak,
    }
    costs["total_cny"] = (
        costs["energy_cny"] - costs["export_income_cny"] + costs["demand_cny"] + costs["carbon_cny"] + discharged
    )
    return costs


def fallback_plan(inp: DispatchInput) -> DispatchPlan:
    """The safe plan used when no optimal plan is available; it needs no solver and is always feasible.

    Batteries serve the park's net load from PV surplus (self-consumption) and never go below their reserve;
    shiftable loads run their baseline schedule (or spread evenly over the window); EVs charge at full power
    from arrival; each HVAC zone is cooled just enough to stay at its upper comfort limit.
    """
    n, dt = inp.n, STEP_H
    cols: dict[str, np.ndarray] = {}
    controlled = np.zeros(n)
    for s in inp.shiftable:
        if s.baseline_kw is not None and np.asarray(s.baseline_kw).shape == (n,):
            kw = np.asarray(s.baseline_kw, float)
        else:
            kw = np.zeros(n)
            kw[s.start_step : s.end_step] = s.energy_kwh / ((s.end_step - s.start_step) * dt)
        cols[f"shift/{s.code}/kw"] = kw
        controlled += kw
    for e in inp.ev_sessions:
        kw = np.zeros(n)
        remaining = e.energy_kwh
        for t in range(e.arrival_step, e.departure_step):
            kw[t] = min(e.power_max_kw, remaining / dt)
            remaining -= kw[t] * dt
        cols[f"ev/{e.code}/kw"] = kw
        controlled += kw
    for h in inp.hvac:
        tmax = np.broadcast_to(np.asarray(h.temp_max_c, float), (n,))
        out = np.broadcast_to(np.asarray(h.outdoor_c, float), (n,))
        gains = np.broadcast_to(np.asarray(h.gains_kw, float), (n,))
        temp, q, temps = h.temp_start_c, np.zeros(n), np.zeros(n)
        for t in range(n):
            free = temp + dt / h.capacitance_kwh_per_k * (h.ua_kw_per_k * (out[t] - temp) + gains[t])
            q[t] = np.clip((free - tmax[t]) * h.capacitance_kwh_per_k / dt, 0.0, h.cooling_max_kw)
            temp = free - dt / h.capacitance_kwh_per_k * q[t]
            temps[t] = temp
        cols[f"hvac/{h.code}/kw"] = q / h.cop
        cols[f"hvac/{h.code}/temp_c"] = temps
        controlled += q / h.cop
    net = np.asarray(inp.base_load_kw, float) + controlled - np.asarray(inp.pv_kw, float)
    for b in inp.batteries:
        ch, dis, soc = self_consumption(net, b, float(inp.soc_start_kwh.get(b.code, b.soc_floor_kwh)))
        cols[f"battery/{b.code}/charge_kw"], cols[f"battery/{b.code}/discharge_kw"] = ch, dis
        cols[f"battery/{b.code}/soc_kwh"] = soc
        net = net + ch - dis
    limit = inp.grid.export_limit_kw
    export = np.minimum(np.clip(-net, 0.0, None), limit)
    curtailed = np.clip(-net, 0.0, None) - export
    frame = pd.DataFrame(
        {
            "grid_import_kw": np.clip(net, 0.0, None),
            "grid_export_kw": export,
            "pv_used_kw": np.asarray(inp.pv_kw, float) - curtailed,
            "pv_curtailed_kw": curtailed,
            "base_load_kw": np.asarray(inp.base_load_kw, float),
            **cols,
        },
        index=inp.index,
    )
    return DispatchPlan(frame=frame, costs=plan_costs(frame, inp), status="fallback")


def self_consumption(
    net_kw: np.ndarray, battery: Battery, soc_start_kwh: float, dt_h: float = STEP_H
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rule-based self-consumption: charge from PV surplus, discharge into the net load, within SOC limits.

    Parameters
    ----------
    net_kw : numpy.ndarray
        Load minus PV per step [kW]; negative = surplus.
    battery : Battery
        The battery; it never goes below max(soc_min, reserve) or above soc_max.
    soc_start_kwh : float
        Energy stored at the start [kWh].

    Returns
    -------
    charge_kw, discharge_kw, soc_kwh : numpy.ndarray
        Powers per step [kW] and SOC at the end of each step [kWh].
    """
    n = len(net_kw)
    ch, dis, socs = np.zeros(n), np.zeros(n), np.zeros(n)
    soc = soc_start_kwh
    floor, ceiling = battery.soc_floor_kwh, battery.soc_ceiling_kwh
    for t in range(n):
        if net_kw[t] < 0:
            room = max(0.0, ceiling - soc) / (battery.eta_charge * dt_h)
            ch[t] = min(-net_kw[t], battery.power_kw, room)
            soc += ch[t] * battery.eta_charge * dt_h
        elif net_kw[t] > 0:
            avail = max(0.0, soc - floor) * battery.eta_discharge / dt_h
            dis[t] = min(net_kw[t], battery.power_kw, avail)
            soc -= dis[t] / battery.eta_discharge * dt_h
        socs[t] = soc
    return ch, dis, socs
