"""Replay a year of the park at 15 minutes under a control strategy and measure it against baselines.

Strategies:

- ``none``: no control. The battery stays idle, flexible loads run as metered, PV feeds the park and any
  surplus is exported up to the export limit (curtailed beyond it).
- ``rule``: a rule-based self-consumption controller (as Home Assistant / OpenEMS ship): the battery charges
  from PV surplus and discharges into the net load, above its reserve; flexible loads run as metered.
- ``mpc``: model predictive control with forecasts, not perfect foresight. Each local day a day-ahead plan
  (`parkzero.energy.dispatch.plan`) is made at 00:00 from the day-ahead forecasts of load and PV
  (`parkzero.energy.forecast`, trained on the history before the replay), and re-planned intraday at
  `REPLAN_HOURS` with the forecasts corrected by what was metered so far. The plan's battery and flexible-load
  setpoints are executed against the *actual* load and PV until the next re-plan; the grid takes the
  difference. The demand charge in each plan counts only an increase of the month's peak reached so far.

Flexible loads (``flexible_load`` assets) keep their metered energy per day and window: within each window
(e.g. 22:00-08:00, split at midnight into two calendar-day windows) the metered energy may be moved, never
cut; what the load drew outside its windows stays where it was. The process schedule is known a day ahead,
so it is not forecast.

Every result is computed, none assumed: cost is the itemised bill of the simulated grid import and export
under the park's tariff (`parkzero.energy.tariff.bill`), emissions are import x the grid intensity.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from parkzero.energy import dispatch, flows
from parkzero.energy import tariff as tariffs
from parkzero.energy.dispatch import STEP_H, Battery, DispatchInput, Grid, ShiftableLoad
from parkzero.errors import ValidationFailed

STRATEGIES = ("none", "rule", "mpc")
REPLAN_HOURS = (0, 6, 12, 18)
STEPS_PER_DAY = 96


@dataclass(frozen=True)
class FlexibleAsset:
    """A ``flexible_load`` asset with its metered baseline [kW per step] and its shifting window."""

    code: str
    baseline_kw: np.ndarray
    window_start: str  # "HH:MM", park-local
    window_end: str
    power_max_kw: float
    power_min_kw: float = 0.0


@dataclass
class ParkData:
    """The park's electricity per 15-minute step over a period, as a replay needs it.

    Attributes
    ----------
    index : pandas.DatetimeIndex
        Step starts, park-local, regular 15 minutes, whole local days.
    load_kw : numpy.ndarray
        Consumption that no strategy controls: every tenant's and the operator's metered load and EV charging,
        minus the flexible loads' own channels [kW].
    pv_kw : numpy.ndarray
        PV output available [kW] (the metered generation of all arrays).
    flexible : list of FlexibleAsset
    batteries : list of Battery
    grid : Grid
        Connection limits (transformer, export limit).
    latitude, longitude : float
        The park's position [deg] (the PV forecast's clear sky).
    """

    index: pd.DatetimeIndex
    load_kw: np.ndarray
    pv_kw: np.ndarray
    flexible: list[FlexibleAsset] = field(default_factory=list)
    batteries: list[Battery] = field(default_factory=list)
    grid: Grid = field(default_factory=Grid)
    latitude: float | None = None
    longitude: float | None = None

    def days(self) -> list[date]:
        return sorted(set(self.index.date))

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> ParkData:
        """The same park over [start, end)."""
        keep = (self.index >= start) & (self.index < end)
        return ParkData(
            self.index[keep],
            self.load_kw[keep],
            self.pv_kw[keep],
            [FlexibleAsset(f.code, f.baseline_kw[keep], *_window(f)) for f in self.flexible],
            self.batteries,
            self.grid,
            self.latitude,
            self.longitude,
        )


def _window(f: FlexibleAsset) -> tuple:
    return f.window_start, f.window_end, f.power_max_kw, f.power_min_kw


@dataclass(frozen=True)
class Economics:
    """Prices and intensities of a replay.

    Parameters
    ----------
    tariff : parkzero.energy.tariff.Tariff
        The park's electricity tariff.
    flat_price_cny_per_kwh : float or mapping
        Monthly flat price (the tariff's multipliers apply to it) [CNY/kWh].
    grid_intensity_kg_per_kwh : float or numpy.ndarray
        Grid CO2 intensity, flat or per step [kgCO2/kWh], with its source in `intensity_source`.
    carbon_price_cny_per_t : float
        Carbon price in the optimiser's objective [CNY/tCO2].
    grid_low_carbon_share : float
        Non-fossil share of grid power [-] for the low-carbon share of consumption.
    """

    tariff: tariffs.Tariff
    flat_price_cny_per_kwh: float | Mapping
    grid_intensity_kg_per_kwh: float | np.ndarray
    intensity_source: str
    carbon_price_cny_per_t: float = 0.0
    grid_low_carbon_share: float = 0.0
    demand_basis: str = "max_demand"
    contracted_demand_kw: float | None = None
    transformer_kva: float | None = None


@dataclass
class Replay:
    """What happened under one strategy: per-step powers and the counts of the control loop."""

    strategy: str
    # grid_import_kw, grid_export_kw, pv_used_kw, pv_curtailed_kw, load_kw, flexible_kw, battery/{code}/charge_kw,
    # .../discharge_kw, .../soc_kwh; the MPC adds its day-ahead load_forecast_kw and pv_forecast_kw
    frame: pd.DataFrame
    plans: int = 0
    fallbacks: int = 0
    milp_plans: int = 0
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Kpis:
    """Year figures of one replay."""

    strategy: str
    cost_cny: float
    energy_cny: float
    demand_cny: float
    export_income_cny: float
    emissions_t: float
    peak_kw: float
    self_sufficiency_pct: float
    self_consumption_pct: float
    low_carbon_share_pct: float
    grid_import_kwh: float
    consumption_kwh: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# --- the park's data -----------------------------------------------------------------------------------


def park_data(registry: dict, values_kwh: Mapping[str, np.ndarray], index: pd.DatetimeIndex) -> ParkData:
    """Assemble `ParkData` from a ``parkzero-registry`` document and per-channel energies per step [kWh].

    Channels used: top-level (no parent) active-energy channels of purpose ``load`` and ``ev_charging``
    (consumption), ``pv_generation`` (PV), and the active-energy channels of ``flexible_load`` assets. A channel
    the registry names but `values_kwh` lacks is an error: a replay never runs on part of the park silently.
    """
    park = registry["parks"][0]
    assets = {a["code"]: a for a in park.get("assets", [])}
    channels = [ch for m in park.get("meters", []) for ch in m.get("channels", [])]
    n = len(index)

    def kw(code: str) -> np.ndarray:
        if code not in values_kwh:
            raise ValidationFailed(f"no readings for channel {code!r}: the replay needs every electricity channel")
        arr = np.asarray(values_kwh[code], dtype=float)
        if arr.shape != (n,) or not np.isfinite(arr).all():
            missing = int((~np.isfinite(arr)).sum()) if arr.shape == (n,) else n
            raise ValidationFailed(f"channel {code!r} has {missing} missing 15-minute values in the period")
        return arr / STEP_H

    electric = [ch for ch in channels if ch.get("quantity_kind") == "active_energy"]
    load = sum(
        (kw(ch["code"]) for ch in electric if ch.get("purpose") in ("load", "ev_charging") and not ch.get("parent")),
        np.zeros(n),
    )
    pv = sum(
        (kw(ch["code"]) for ch in electric if ch.get("purpose") == "pv_generation" and not ch.get("parent")),
        np.zeros(n),
    )
    flexible = []
    for ch in electric:
        asset = assets.get(ch.get("asset") or "")
        if asset is None or asset["kind"] != "flexible_load":
            continue
        p = asset["params"]
        base = kw(ch["code"])
        load = load - base
        flexible.append(
            FlexibleAsset(
                asset["code"],
                base,
                str(p.get("window_start", "00:00")),
                str(p.get("window_end", "00:00")),
                float(p.get("power_max_kw", base.max())),
                float(p.get("power_min_kw", 0.0)),
            )
        )
    batteries = [Battery.from_params(a["code"], a["params"]) for a in assets.values() if a["kind"] == "battery"]
    connection = next((a["params"] for a in assets.values() if a["kind"] == "grid_connection"), {})
    grid = Grid(
        import_max_kw=float(connection.get("import_max_kw", np.inf)),
        export_max_kw=float(connection.get("export_max_kw", np.inf)),
        transformer_kva=float(connection["transformer_kva"]) if "transformer_kva" in connection else None,
    )
    return ParkData(
        index,
        np.clip(load, 0.0, None),
        pv,
        flexible,
        batteries,
        grid,
        park.get("latitude"),
        park.get("longitude"),
    )


def demo_park_data(year: int, seed: int = 42) -> tuple[ParkData, dict]:
    """The demo park's `ParkData` for one local year, generated in memory (no store), and its registry."""
    from parkzero.demo.park import demo_registry
    from parkzero.demo.readings import demo_readings
    from parkzero.demo.weather import year_index

    doc = demo_registry(seed)
    index = year_index(year)
    values: dict[str, np.ndarray] = {}
    for table in demo_readings(doc, year=year, seed=seed):
        codes = table.column("channel_code").to_numpy(zero_copy_only=False)
        vals = table.column("value").to_numpy()
        for code in dict.fromkeys(codes):
            values[code] = vals[codes == code]
    return park_data(doc, values, index), doc


# --- flexible-load windows -------------------------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def day_windows(f: FlexibleAsset) -> list[tuple[int, int]]:
    """The asset's windows within one local day as step ranges [start, end); a window across midnight splits."""
    lo, hi = _minutes(f.window_start) // 15, _minutes(f.window_end) // 15
    if lo == hi:
        return [(0, STEPS_PER_DAY)]
    return [(lo, hi)] if lo < hi else [(0, hi), (lo, STEPS_PER_DAY)]


# --- the replay --------------------------------------------------------------------------------------------


def replay(
    data: ParkData,
    econ: Economics,
    strategy: str,
    *,
    history: ParkData | None = None,
    soc_start_pct: float = 50.0,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Run one strategy over `data` (whole local days); ``mpc`` needs `history` to train its forecasts."""
    if strategy not in STRATEGIES:
        raise ValidationFailed(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    if len(data.index) % STEPS_PER_DAY:
        raise ValidationFailed("a replay runs over whole local days of 96 steps")
    started = time.perf_counter()
    prices = tariffs.energy_prices(data.index, econ.tariff, econ.flat_price_cny_per_kwh)
    soc0 = {b.code: b.energy_kwh * soc_start_pct / 100.0 for b in data.batteries}
    flex_kw = sum((f.baseline_kw for f in data.flexible), np.zeros(len(data.index)))
    if strategy == "mpc":
        out = _mpc(data, econ, prices, soc0, history, progress)
    else:
        net = data.load_kw + flex_kw - data.pv_kw
        cols: dict[str, np.ndarray] = {}
        for b in data.batteries:
            if strategy == "rule":
                ch, dis, soc = dispatch.self_consumption(net, b, soc0[b.code])
            else:
                ch, dis, soc = np.zeros(len(net)), np.zeros(len(net)), np.full(len(net), soc0[b.code])
            cols.update({f"battery/{b.code}/charge_kw": ch, f"battery/{b.code}/discharge_kw": dis})
            cols[f"battery/{b.code}/soc_kwh"] = soc
            net = net + ch - dis
        out = Replay(strategy, _grid_frame(data, net, cols | {"flexible_kw": flex_kw}))
    out.elapsed_s = time.perf_counter() - started
    return out


def _grid_frame(data: ParkData, net_kw: np.ndarray, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """Close the balance: import the deficit, export the surplus up to the limit, curtail the rest."""
    surplus = np.clip(-net_kw, 0.0, None)
    export = np.minimum(surplus, data.grid.export_limit_kw)
    return pd.DataFrame(
        {
            "grid_import_kw": np.clip(net_kw, 0.0, None),
            "grid_export_kw": export,
            "pv_used_kw": data.pv_kw - (surplus - export),
            "pv_curtailed_kw": surplus - export,
            "load_kw": data.load_kw,
            **cols,
        },
        index=data.index,
    )


def _mpc(
    data: ParkData,
    econ: Economics,
    prices: np.ndarray,
    soc0: dict[str, float],
    history: ParkData | None,
    progress: Callable[[int, int], None] | None,
) -> Replay:
    from parkzero.energy.forecast import LoadForecaster, PvForecaster

    if history is None or len(history.index) < 14 * STEPS_PER_DAY:
        raise ValidationFailed("the MPC replay needs at least 14 days of history before the period to train forecasts")
    if data.latitude is None or data.longitude is None:
        raise ValidationFailed("the park has no latitude/longitude: the PV forecast needs the park's position")
    load_hist = pd.Series(np.r_[history.load_kw, data.load_kw], index=history.index.append(data.index))
    pv_hist = pd.Series(np.r_[history.pv_kw, data.pv_kw], index=load_hist.index)
    train_end = data.index[0]
    load_model = LoadForecaster().fit(load_hist[load_hist.index < train_end])
    pv_model = PvForecaster(latitude=data.latitude, longitude=data.longitude).fit(pv_hist[pv_hist.index < train_end])

    n = len(data.index)
    intensity = np.broadcast_to(np.asarray(econ.grid_intensity_kg_per_kwh, float), (n,))
    export_price = econ.tariff.export_price_cny_per_kwh
    demand_rate = (
        tariffs.demand_charge_rate(econ.tariff, econ.demand_basis) if econ.demand_basis == "max_demand" else 0.0
    )
    flex_kw = np.zeros((len(data.flexible), n))
    battery_cols = {b.code: np.zeros((3, n)) for b in data.batteries}  # charge, discharge, soc
    soc = dict(soc0)
    imports = np.zeros(n)
    forecasts = np.zeros((2, n))  # the day-ahead load and PV forecasts [kW]
    replay_out = Replay("mpc", pd.DataFrame())
    days = data.days()
    month_peak: dict[tuple[int, int], float] = {}
    for d_i, day in enumerate(days):
        base = d_i * STEPS_PER_DAY
        day_index = data.index[base : base + STEPS_PER_DAY]
        history_to_day = load_hist[load_hist.index < day_index[0]]
        load_da = load_model.day_ahead(day, history_to_day)
        pv_da = pv_model.day_ahead(day, pv_hist[pv_hist.index < day_index[0]])
        forecasts[:, base : base + STEPS_PER_DAY] = load_da.to_numpy(), np.clip(pv_da.to_numpy(), 0.0, None)
        # energy of each flexible window still to deliver today [kWh], from the metered baseline
        windows = [
            [(lo, hi, float(f.baseline_kw[base + lo : base + hi].sum() * STEP_H)) for lo, hi in day_windows(f)]
            for f in data.flexible
        ]
        for r_i, hour in enumerate(REPLAN_HOURS):
            s0 = hour * 4
            s1 = REPLAN_HOURS[r_i + 1] * 4 if r_i + 1 < len(REPLAN_HOURS) else STEPS_PER_DAY
            if hour == 0:
                load_f, pv_f = load_da.to_numpy(), pv_da.to_numpy()
            else:
                issue = day_index[s0]
                observed = slice(base, base + s0)
                load_f = load_model.intraday(
                    issue, load_da, pd.Series(data.load_kw[observed], day_index[:s0])
                ).to_numpy()
                pv_f = pv_model.intraday(issue, pv_da, pd.Series(data.pv_kw[observed], day_index[:s0])).to_numpy()
            load_f, pv_f = load_f[-(STEPS_PER_DAY - s0) :], np.clip(pv_f[-(STEPS_PER_DAY - s0) :], 0.0, None)
            fixed_flex = np.zeros(STEPS_PER_DAY - s0)
            shiftable: list[ShiftableLoad] = []
            for f_i, f in enumerate(data.flexible):
                in_window = np.zeros(STEPS_PER_DAY, dtype=bool)
                for w_i, (lo, hi, energy) in enumerate(windows[f_i]):
                    in_window[lo:hi] = True
                    a, b = max(lo, s0), hi
                    if b <= a:
                        continue
                    done = float(flex_kw[f_i, base + lo : base + s0].sum() * STEP_H) if s0 > lo else 0.0
                    remaining = max(0.0, energy - done)
                    pmax = max(f.power_max_kw, remaining / ((b - a) * STEP_H))
                    shiftable.append(ShiftableLoad(f"{f.code}#{w_i}", remaining, a - s0, b - s0, pmax, 0.0))
                outside = ~in_window[s0:]
                fixed_flex += np.where(outside, f.baseline_kw[base + s0 : base + STEPS_PER_DAY], 0.0)
            key = (day.year, day.month)
            peak = month_peak.get(key, 0.0)
            inp = DispatchInput(
                day_index[s0:],
                load_f + fixed_flex,
                pv_f,
                prices[base + s0 : base + STEPS_PER_DAY],
                export_price,
                intensity[base + s0 : base + STEPS_PER_DAY],
                econ.carbon_price_cny_per_t,
                Grid(
                    data.grid.import_max_kw,
                    data.grid.export_max_kw,
                    data.grid.transformer_kva,
                    demand_charge_cny_per_kw_month=demand_rate,
                    peak_so_far_kw=peak,
                ),
                data.batteries,
                shiftable,
                soc_start_kwh=dict(soc),
                soc_end_kwh=dict(soc0),
                time_limit_s=5.0,
            )
            try:
                p = dispatch.plan(inp)
            except ValidationFailed as exc:  # e.g. a forecast that makes the limits impossible: run the fallback
                p = dispatch.fallback_plan(inp)
                p.reason = str(exc)
            replay_out.plans += 1
            replay_out.fallbacks += p.status == "fallback"
            replay_out.milp_plans += p.milp
            # execute [s0, s1) against the actual load and PV
            planned_kw = {c: p.frame[c].to_numpy() for c in p.frame.columns}
            guard_kw = max(peak, float(planned_kw["grid_import_kw"].max()))
            for t in range(s0, s1):
                g = base + t
                k = t - s0
                flex_now = 0.0
                for f_i, f in enumerate(data.flexible):
                    planned = sum(
                        planned_kw[f"shift/{s.code}/kw"][k] for s in shiftable if s.code.startswith(f"{f.code}#")
                    )
                    in_window = any(lo <= t < hi for lo, hi, _ in windows[f_i])
                    flex_kw[f_i, g] = planned if in_window else f.baseline_kw[g]
                    flex_now += flex_kw[f_i, g]
                net = data.load_kw[g] + flex_now - data.pv_kw[g]
                for b in data.batteries:
                    ch, dis = _execute_battery(b, soc, planned_kw, k, net, guard_kw)
                    battery_cols[b.code][:, g] = ch, dis, soc[b.code]
                    net += ch - dis
                imports[g] = max(net, 0.0)
                month_peak[key] = max(month_peak.get(key, 0.0), imports[g])
        if progress:
            progress(d_i + 1, len(days))
    cols: dict[str, np.ndarray] = {"flexible_kw": flex_kw.sum(axis=0)}
    net = data.load_kw + cols["flexible_kw"] - data.pv_kw
    cols["load_forecast_kw"], cols["pv_forecast_kw"] = forecasts
    for b in data.batteries:
        ch, dis, s = battery_cols[b.code]
        cols.update({f"battery/{b.code}/charge_kw": ch, f"battery/{b.code}/discharge_kw": dis})
        cols[f"battery/{b.code}/soc_kwh"] = s
        net = net + ch - dis
    replay_out.frame = _grid_frame(data, net, cols)
    return replay_out


def _execute_battery(
    b: Battery, soc: dict[str, float], planned_kw: dict[str, np.ndarray], k: int, net_kw: float, guard_kw: float
) -> tuple[float, float]:
    """Apply a battery's planned power within its physical limits; returns (charge_kw, discharge_kw).

    The plan's setpoint is kept, except that SOC limits always hold, the battery never discharges into the
    grid (more than the actual net load), and a peak guard acts on the actual load, as an EMS's real-time layer
    does: charging never lifts the import above `guard_kw` (the month's peak so far or the plan's peak, the
    larger), and when the actual import would exceed it the battery discharges to hold it there.
    """
    setpoint = float(planned_kw[f"battery/{b.code}/discharge_kw"][k] - planned_kw[f"battery/{b.code}/charge_kw"][k])
    if net_kw > guard_kw:
        setpoint = max(setpoint, net_kw - guard_kw)
    else:
        setpoint = max(setpoint, -(guard_kw - net_kw))
    floor = min(b.soc_floor_kwh, soc[b.code])
    if setpoint > 0:
        avail = max(0.0, soc[b.code] - floor) * b.eta_discharge / STEP_H
        dis = min(setpoint, b.power_kw, avail, max(net_kw, 0.0))
        soc[b.code] -= dis / b.eta_discharge * STEP_H
        return 0.0, dis
    room = max(0.0, b.soc_ceiling_kwh - soc[b.code]) / (b.eta_charge * STEP_H)
    ch = min(-setpoint, b.power_kw, room)
    soc[b.code] += ch * b.eta_charge * STEP_H
    return ch, 0.0


# --- figures -------------------------------------------------------------------------------------------------


def kpis(r: Replay, econ: Economics) -> Kpis:
    """The year figures of a replay: the tariff's bill, emissions, peak and the Home Assistant shares."""
    f = r.frame
    kwh = f * STEP_H
    bill = tariffs.bill(
        kwh["grid_import_kw"],
        econ.tariff,
        econ.flat_price_cny_per_kwh,
        export_kwh=kwh["grid_export_kw"],
        demand_basis=econ.demand_basis,
        contracted_demand_kw=econ.contracted_demand_kw,
        transformer_kva=econ.transformer_kva,
    )
    items = pd.DataFrame([i.__dict__ for i in bill.items])
    by_item = items.groupby("item")["amount_cny"].sum() if len(items) else pd.Series(dtype=float)
    intensity = np.broadcast_to(np.asarray(econ.grid_intensity_kg_per_kwh, float), (len(f),))
    charge = sum((kwh[c].sum() for c in f.columns if c.endswith("/charge_kw")), 0.0)
    discharge = sum((kwh[c].sum() for c in f.columns if c.endswith("/discharge_kw")), 0.0)
    balance = flows.balance_from_sums(
        {
            "grid_import": kwh["grid_import_kw"].sum(),
            "grid_export": kwh["grid_export_kw"].sum(),
            "pv_generation": kwh["pv_used_kw"].sum(),
            "battery_charge": charge,
            "battery_discharge": discharge,
        }
    )
    imported = float(kwh["grid_import_kw"].sum())
    consumption = float(balance.consumption_kwh or 0.0)
    low_carbon = 100.0 * (1.0 - imported * (1.0 - econ.grid_low_carbon_share) / consumption) if consumption else 0.0
    return Kpis(
        strategy=r.strategy,
        cost_cny=float(bill.total_cny),
        energy_cny=float(by_item.get("energy", 0.0)),
        demand_cny=float(
            by_item.get("demand", 0.0) + by_item.get("capacity", 0.0) + by_item.get("demand_penalty", 0.0)
        ),
        export_income_cny=-float(by_item.get("export", 0.0)),
        emissions_t=float((f["grid_import_kw"].to_numpy() * intensity * STEP_H).sum() / 1000.0),
        peak_kw=float(f["grid_import_kw"].max()),
        self_sufficiency_pct=float(balance.self_sufficiency_pct or 0.0),
        self_consumption_pct=float(balance.self_consumption_pct or 0.0),
        low_carbon_share_pct=low_carbon,
        grid_import_kwh=imported,
        consumption_kwh=consumption,
    )


RATIO_FIGURES = (
    "cost_cny",
    "emissions_t",
    "peak_kw",
    "self_sufficiency_pct",
    "self_consumption_pct",
    "low_carbon_share_pct",
)


def compare(result: Kpis, baselines: Iterable[Kpis]) -> dict[str, dict[str, float]]:
    """Each figure of `result` as a ratio to each baseline, and the cost and CO2 savings [%] against it."""
    out: dict[str, dict[str, float]] = {}
    for base in baselines:
        row = {
            f"{k}_ratio": (getattr(result, k) / getattr(base, k)) if getattr(base, k) else float("nan")
            for k in RATIO_FIGURES
        }
        row["cost_saving_pct"] = 100.0 * (1.0 - row["cost_cny_ratio"])
        row["co2_saving_pct"] = 100.0 * (1.0 - row["emissions_t_ratio"])
        out[base.strategy] = row
    return out


def grid_factor(year: int, factor_id: str = "electricity.cn.east_china") -> tuple[float, str]:
    """The shipped grid CO2 factor of the newest year <= `year` [kgCO2/kWh] and its source text."""
    from parkzero.factors.library import shipped_sets

    rows = [
        f
        for s in shipped_sets()
        for f in s.rows
        if f.factor_id == factor_id and f.parameter == "ef" and (f.year_from or 0) <= year
    ]
    if not rows:
        raise ValidationFailed(f"no shipped factor {factor_id!r} for {year} or earlier")
    f = max(rows, key=lambda r: r.year_from or 0)
    value = f.value if f.unit in ("tCO2/MWh", "kgCO2/kWh") else None
    if value is None:
        raise ValidationFailed(f"factor {factor_id!r} is in {f.unit}, not tCO2/MWh")
    return value, f"{f.label} {f.year_from}: {f.value} {f.unit} ({f.set_code} {f.set_version}; {f.source})"


def grid_low_carbon_share(year: int) -> float:
    """Non-fossil share of China's grid power: 1 - national average / fossil-fired factor, same year [-]."""
    average, _ = grid_factor(year, "electricity.cn.national_average")
    fossil, _ = grid_factor(year, "electricity.cn.fossil")
    return max(0.0, 1.0 - average / fossil)
