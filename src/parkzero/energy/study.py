"""Park energy studies: one park's data gathered for a replay, a sizing and a resilience study.

The physics and the optimisation live in `simulate`, `sizing` and `resilience`; this module only reads a park
(from the store, or the demo generated in memory) and turns its registry and 15-minute channel energies into
their inputs, so that the API, the pages, the CLI and the benchmark all study a park the same way.

- `from_store(store, scope, park, start, end)` / `demo_record(year)`: the registry, the 15-minute energies of
  every electricity channel [kWh] and the assembled `simulate.ParkData`;
- `economics(...)`: tariff, monthly flat price, grid intensity with its source, carbon price;
- `sizing_input(record, econ)`: one surface per ``pv_array`` asset (usable area from ``surface_area_m2``, hourly
  yield per kWp from the array's own measured output, or from pvlib and a weather frame), the battery option,
  hourly load and prices;
- `load_tiers(record)`: the park's load split into outage tiers by building use (data centres are critical);
- `resilience(record, soc_kwh)`: the outage sweep and the bad-weather spells for those tiers.

Park-level studies show the grid, PV, storage and, in the outage tiers, tenants' loads: only the park's operator
or the system may run them (`Forbidden` otherwise; a regulator sees parks' aggregates elsewhere).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from parkzero.energy import pv as pvmod
from parkzero.energy import resilience as res
from parkzero.energy import simulate, sizing
from parkzero.energy import tariff as tariffs
from parkzero.energy.dispatch import STEP_H
from parkzero.errors import Forbidden, Issue, NotFound, ValidationFailed
from parkzero.registry.scope import Scope
from parkzero.store import Store

__all__ = [
    "DEFAULT_BATTERY_OPTION",
    "DEFAULT_CARBON_PRICE_CNY_PER_T",
    "DEFAULT_FLAT_PRICE_CNY_PER_KWH",
    "DEFAULT_TARIFF",
    "DEFAULT_TIER_BY_USE",
    "ParkRecord",
    "demo_record",
    "between",
    "dashboard",
    "economics",
    "from_store",
    "jsonable",
    "measured_savings",
    "load_tiers",
    "resilience",
    "sizing_input",
]

DEFAULT_TARIFF = "sh_large_industry_35kv"
# planning assumptions, stated and overridable (not constants of nature):
DEFAULT_FLAT_PRICE_CNY_PER_KWH = 0.62  # a monthly agency purchase price level for Shanghai industry (input)
DEFAULT_CARBON_PRICE_CNY_PER_T = 100.0  # near China's national ETS allowance price in 2025
DEFAULT_PV_CAPEX_CNY_PER_KWP = {"roof": 3200.0, "facade": 4500.0}  # installed C&I rooftop PV / BIPV, 2025
DEFAULT_PV_OPEX_CNY_PER_KWP_YEAR = 40.0
DEFAULT_BATTERY_OPTION = sizing.BatteryOption(capex_cny_per_kwh=900.0, capex_cny_per_kw=300.0)  # LFP, 2025

# outage tier of each building use: (tier name, priority, sheddable, shed_below_soc_pct)
DEFAULT_TIER_BY_USE: dict[str, tuple[str, int, bool, float]] = {
    "data_centre": (res.CRITICAL, 0, False, 0.0),
    "laboratory": ("laboratories", 3, True, 50.0),
    "office": ("offices", 2, True, 80.0),
    "residential": ("offices", 2, True, 80.0),
    "industrial": ("process", 1, True, 100.0),
}
OTHER_TIER = ("other", 0, True, 100.0)  # parking, EV charging, street lighting, loads of no building


@dataclass
class ParkRecord:
    """One park over whole local days: registry document, channel energies and the replay's `ParkData`.

    Attributes
    ----------
    registry : dict
        ``parkzero-registry`` document of the one park.
    index : pandas.DatetimeIndex
        15-minute step starts, park-local.
    values_kwh : dict of str to numpy.ndarray
        Energy per step of every top-level electricity channel [kWh].
    data : simulate.ParkData
    """

    registry: dict
    index: pd.DatetimeIndex
    values_kwh: dict[str, np.ndarray]
    data: simulate.ParkData

    @property
    def park(self) -> dict:
        return self.registry["parks"][0]


def _electric_channels(park: dict) -> list[dict]:
    """Top-level active-energy channels with their meter's building and enterprise."""
    out = []
    for m in park.get("meters", []):
        for ch in m.get("channels", []):
            if ch.get("quantity_kind") == "active_energy" and not ch.get("parent"):
                out.append({**ch, "building": m.get("building"), "enterprise": m.get("enterprise")})
    return out


def _day_index(d0: date, d1: date, tz: ZoneInfo) -> pd.DatetimeIndex:
    start = pd.Timestamp(datetime.combine(d0, time(0), tz))
    end = pd.Timestamp(datetime.combine(d1, time(0), tz))
    return pd.date_range(start, end, freq="15min", inclusive="left")


def from_store(store: Store, scope: Scope, park_code: str, start: date, end: date) -> ParkRecord:
    """Read a park's registry and the 15-minute energies of its electricity channels over local days [start, end).

    Raises
    ------
    Forbidden
        `scope` is not the park's operator (a tenant sees only its own consumption).
    NotFound
        No park `park_code`.
    ValidationFailed
        A channel lacks readings in the period (named, with the count), or the period is not whole days.
    """
    from parkzero.registry.io import export_registry
    from parkzero.store.timeseries import series

    if not (scope.is_system or scope.role == "operator"):
        raise Forbidden(
            "park energy studies are the park operator's: they show the grid, PV, storage and every tenant's load"
        )
    if not isinstance(start, date) or not isinstance(end, date) or not start < end:
        raise ValidationFailed("a study runs over local days [start, end) with start before end")
    doc = export_registry(store, scope, park_code)
    if not doc.get("parks"):
        raise NotFound(f"no park {park_code!r}")
    park = doc["parks"][0]
    tz = ZoneInfo(park["timezone"])
    index = _day_index(start, end, tz)
    flexible = {a["code"] for a in park.get("assets", []) if a["kind"] == "flexible_load"}
    codes = [ch["code"] for ch in _electric_channels(park)] + [
        ch["code"]
        for m in park.get("meters", [])
        for ch in m.get("channels", [])
        if (ch.get("parent") and ch.get("asset") in flexible and ch.get("quantity_kind") == "active_energy")
        or ch.get("purpose") == "battery_soc"
    ]
    found = series(
        store,
        scope,
        park_code,
        codes,
        index[0].to_pydatetime(),
        (index[-1] + pd.Timedelta("15min")).to_pydatetime(),
        "PT15M",
    )
    values: dict[str, np.ndarray] = {}
    position = pd.Series(np.arange(len(index)), index=index)
    for code, s in zip(codes, found, strict=True):
        arr = np.full(len(index), np.nan)
        if s.timestamps:
            at = position.reindex(pd.DatetimeIndex(s.timestamps).tz_convert(tz)).to_numpy()
            ok = ~np.isnan(at)
            arr[at[ok].astype(int)] = np.array([np.nan if v is None else v for v in s.values], dtype=float)[ok]
        values[code] = arr
    return ParkRecord(doc, index, values, simulate.park_data(doc, values, index))


def demo_record(year: int, seed: int = 42) -> ParkRecord:
    """The demo park for one local year, generated in memory (no store)."""
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
    return ParkRecord(doc, index, values, simulate.park_data(doc, values, index))


def economics(
    year: int,
    *,
    tariff_code: str = DEFAULT_TARIFF,
    flat_price_cny_per_kwh: float | Mapping = DEFAULT_FLAT_PRICE_CNY_PER_KWH,
    carbon_price_cny_per_t: float = DEFAULT_CARBON_PRICE_CNY_PER_T,
) -> simulate.Economics:
    """Prices and intensities of a study year: the tariff, the flat price, the East China grid factor."""
    intensity, source = simulate.grid_factor(year)
    return simulate.Economics(
        tariff=tariffs.get_tariff(tariff_code),
        flat_price_cny_per_kwh=flat_price_cny_per_kwh,
        grid_intensity_kg_per_kwh=intensity,
        intensity_source=source,
        carbon_price_cny_per_t=carbon_price_cny_per_t,
        grid_low_carbon_share=simulate.grid_low_carbon_share(year),
    )


# --- sizing ----------------------------------------------------------------------------------------------------


def _hourly(values: np.ndarray) -> np.ndarray:
    """Mean of each hour's four 15-minute values."""
    return np.asarray(values, dtype=float).reshape(-1, 4).mean(axis=1)


def _pv_channels(rec: ParkRecord) -> dict[str, str]:
    """pv_array asset code -> its generation channel code."""
    return {
        ch["asset"]: ch["code"]
        for ch in _electric_channels(rec.park)
        if ch.get("purpose") == "pv_generation" and ch.get("asset")
    }


def surfaces(
    rec: ParkRecord,
    weather: pd.DataFrame | None = None,
    *,
    capex_cny_per_kwp: Mapping[str, float] = DEFAULT_PV_CAPEX_CNY_PER_KWP,
    opex_cny_per_kwp_year: float = DEFAULT_PV_OPEX_CNY_PER_KWP_YEAR,
) -> list[sizing.Surface]:
    """One sizing surface per ``pv_array`` asset of the park, hourly.

    The usable area is the asset's ``surface_area_m2`` parameter; without it the surface can hold only what is
    installed (area = kWp / density). The yield per kWp is the array's measured generation / kWp, or, with a
    `weather` frame on the record's index, pvlib's model of the array (orientation, mounting, losses).
    """
    chans = _pv_channels(rec)
    sun = None
    if weather is not None:
        if len(weather) != len(rec.index):
            raise ValidationFailed(f"weather has {len(weather)} steps for the study's {len(rec.index)}")
        sun = pvmod.sun_geometry(rec.index, rec.park["latitude"], rec.park["longitude"])
    out = []
    issues: list[Issue] = []
    for asset in rec.park.get("assets", []):
        if asset["kind"] != "pv_array":
            continue
        code, p = asset["code"], asset["params"]
        array = pvmod.PvArray.from_params(code, p)
        kind = array.mounting
        if sun is not None:
            unit = pvmod.PvArray.from_params(code, {**p, "kwp": 1.0, "area_m2": None})
            yield_kw = pvmod.array_power_kw(weather.set_axis(rec.index), sun, unit)
        elif code in chans:
            yield_kw = rec.values_kwh[chans[code]] / STEP_H / array.kwp
        else:
            issues.append(Issue(f"PV array {code!r} has no generation channel and no weather was given", column=code))
            continue
        density = sizing.DEFAULT_KWP_PER_M2[kind]
        area = float(p.get("surface_area_m2") or array.kwp / density)
        out.append(
            sizing.Surface(
                code=code,
                kind=kind,
                area_m2=max(area, array.kwp / density),
                yield_kw_per_kwp=np.clip(_hourly(yield_kw), 0.0, None),
                capex_cny_per_kwp=float(capex_cny_per_kwp[kind]),
                opex_cny_per_kwp_year=opex_cny_per_kwp_year,
                existing_kwp=array.kwp,
            )
        )
    if issues:
        raise ValidationFailed("cannot size the park's PV", issues=issues)
    return out


def sizing_input(
    rec: ParkRecord,
    econ: simulate.Economics,
    *,
    weather: pd.DataFrame | None = None,
    battery: sizing.BatteryOption | None = DEFAULT_BATTERY_OPTION,
    **constraints,
) -> sizing.SizingInput:
    """The hourly sizing problem of a whole year of the park.

    Load is everything the park consumes (flexible loads at their metered profile); the import price is the
    tariff's energy price at the flat price; the demand charge is the tariff's rate on the monthly peak; the
    existing batteries are the battery option's existing capacity. `constraints` pass to `sizing.SizingInput`
    (``min_renewable_share``, ``max_co2_tco2_per_year``, ``budget_cny``, ``discount_rate``, ...). A leap year is
    sized on its 365 days without 29 February (the sizing's year is 8760 hours), and so is its `weather`.
    """
    if len(rec.index) == (sizing.HOURS_PER_YEAR + 24) * 4:
        leap = (rec.index.month == 2) & (rec.index.day == 29)
        if leap.sum() == 96:
            rec = _keep(rec, ~leap)
            weather = None if weather is None or len(weather) != len(leap) else weather[~leap]
    if len(rec.index) != sizing.HOURS_PER_YEAR * 4:
        raise ValidationFailed(
            f"a sizing needs one whole year of 15-minute data (35,040 steps); the record has {len(rec.index)}"
        )
    d = rec.data
    load = d.load_kw + sum((f.baseline_kw for f in d.flexible), np.zeros(len(rec.index)))
    prices = tariffs.energy_prices(rec.index, econ.tariff, econ.flat_price_cny_per_kwh)
    if battery is not None and d.batteries:
        from dataclasses import replace

        battery = replace(
            battery,
            existing_kwh=sum(b.energy_kwh for b in d.batteries),
            existing_kw=sum(b.power_kw for b in d.batteries),
        )
    hours = rec.index[::4]
    return sizing.SizingInput(
        load_kw=_hourly(load),
        import_price_cny_per_kwh=_hourly(prices),
        export_price_cny_per_kwh=econ.tariff.export_price_cny_per_kwh,
        demand_charge_cny_per_kw_month=tariffs.demand_charge_rate(econ.tariff, econ.demand_basis)
        if econ.tariff.two_part
        else 0.0,
        hour_month=np.asarray(hours.month),
        grid_intensity_tco2_per_kwh=np.asarray(econ.grid_intensity_kg_per_kwh) / 1000.0
        if np.ndim(econ.grid_intensity_kg_per_kwh) == 0
        else _hourly(econ.grid_intensity_kg_per_kwh) / 1000.0,
        surfaces=surfaces(rec, weather),
        battery=battery,
        carbon_price_cny_per_tco2=econ.carbon_price_cny_per_t,
        export_limit_kw=d.grid.export_limit_kw,
        import_limit_kw=d.grid.import_limit_kw,
        **constraints,
    )


# --- resilience -------------------------------------------------------------------------------------------------


def load_tiers(
    rec: ParkRecord,
    tier_by_use: Mapping[str, tuple[str, int, bool, float]] = DEFAULT_TIER_BY_USE,
    critical_channels: Sequence[str] = (),
) -> list[res.LoadTier]:
    """The park's consumption split into outage tiers by the use of each channel's building.

    A channel in `critical_channels` is critical whatever its building. Flexible-load channels go with their
    building like any other load. Tiers come out critical first, then by descending priority.
    """
    uses = {b["code"]: b.get("use") for b in rec.park.get("buildings", [])}
    loads = {ch["code"] for ch in _electric_channels(rec.park) if ch.get("purpose") in ("load", "ev_charging")}
    unknown = [c for c in critical_channels if c not in loads]
    if unknown:  # a grid, PV, battery or sub-meter channel would otherwise be ignored without a word
        raise ValidationFailed(
            f"no electricity load channel {', '.join(map(repr, unknown))} in the park"
            " (critical channels are top-level meter channels of purpose load or ev_charging)"
        )
    kw: dict[tuple[str, int, bool, float], np.ndarray] = {}
    for ch in _electric_channels(rec.park):
        if ch.get("purpose") not in ("load", "ev_charging"):
            continue
        if ch["code"] in critical_channels:
            tier = (res.CRITICAL, 0, False, 0.0)
        elif ch.get("purpose") == "ev_charging":
            tier = OTHER_TIER
        else:
            tier = tier_by_use.get(uses.get(ch.get("building")) or "", OTHER_TIER)
        values = np.nan_to_num(rec.values_kwh[ch["code"]] / STEP_H)
        kw[tier] = kw.get(tier, 0.0) + values
    merged: dict[str, res.LoadTier] = {}
    for (name, priority, sheddable, shed_pct), series_kw in kw.items():
        if name in merged:  # two uses sharing a tier name add up (the first settings win)
            t = merged[name]
            merged[name] = res.LoadTier(name, t.kw + series_kw, t.priority, t.sheddable, t.shed_below_soc_pct)
        else:
            merged[name] = res.LoadTier(name, np.asarray(series_kw, dtype=float), priority, sheddable, shed_pct)
    if not any(not t.sheddable for t in merged.values()):
        raise ValidationFailed(
            "no critical load: name critical channels or give a building the use 'data_centre'",
            issues=[Issue("no building use or channel maps to the critical tier", column="critical_channels")],
        )
    return sorted(merged.values(), key=lambda t: (t.sheddable, -t.priority))


def standby_generator(rec: ParkRecord) -> res.Generator | None:
    """The park's ``generator`` assets as one standby generator (powers and fuel added), or None."""
    gens = [a for a in rec.park.get("assets", []) if a["kind"] == "generator"]
    if not gens:
        return None
    issues = [
        Issue(f"generator {a['code']!r} needs power_kw and fuel_litres or fuel_kwh", column=a["code"])
        for a in gens
        if "power_kw" not in a["params"] or not ({"fuel_litres", "fuel_kwh"} & set(a["params"]))
    ]
    if issues:
        raise ValidationFailed("cannot model the standby generators", issues=issues)
    units = [
        res.Generator(
            power_kw=float(a["params"]["power_kw"]),
            efficiency=float(a["params"].get("efficiency", 0.35)),
            fuel_kwh=a["params"].get("fuel_kwh"),
            fuel_litres=a["params"].get("fuel_litres"),
        )
        for a in gens
    ]
    fuel_kwh = sum(g.fuel_energy_kwh for g in units)
    electric_kwh = sum(g.fuel_energy_kwh * g.efficiency for g in units)
    return res.Generator(
        power_kw=sum(g.power_kw for g in units),
        efficiency=electric_kwh / fuel_kwh if fuel_kwh and math.isfinite(fuel_kwh) else units[0].efficiency,
        fuel_kwh=fuel_kwh,
    )


def resilience(
    rec: ParkRecord,
    soc_kwh: Mapping[str, float | np.ndarray] | None = None,
    *,
    tiers: Sequence[res.LoadTier] | None = None,
    **options,
) -> res.ResilienceReport:
    """Outage sweep (hourly starts) and bad-weather spells of the park's tiers, PV and batteries.

    `soc_kwh`: battery code -> SOC at the start of each step (a replay's trace, see `resilience.step_start_soc`)
    or one value; by default every battery at its dispatch floor (soc_min or its reserve), the cautious case.
    `options` pass to `resilience.resilience_report` (``duration_h``, ``max_hours``, ``days``); the park's
    ``generator`` assets are the standby generator unless ``generator`` is given (None for none).
    """
    d = rec.data
    if "generator" not in options:  # a generator given (None for none) spares reading the park's own
        options["generator"] = standby_generator(rec)
    if soc_kwh is None:
        soc_kwh = {b.code: b.soc_floor_kwh for b in d.batteries}
    return res.resilience_report(
        tiers if tiers is not None else load_tiers(rec), d.pv_kw, rec.index, d.batteries, soc_kwh, **options
    )


# --- the dashboard: one day's plan against what the meters saw ----------------------------------------------


def between(rec: ParkRecord, d0: date, d1: date) -> ParkRecord:
    """The same record over local days [d0, d1)."""
    tz = rec.index.tz
    start = pd.Timestamp(datetime.combine(d0, time(0)), tz=tz)
    end = pd.Timestamp(datetime.combine(d1, time(0)), tz=tz)
    keep = (rec.index >= start) & (rec.index < end)
    return ParkRecord(
        rec.registry, rec.index[keep], {c: v[keep] for c, v in rec.values_kwh.items()}, rec.data.between(start, end)
    )


def _keep(rec: ParkRecord, keep: np.ndarray) -> ParkRecord:
    """The same record on the steps where `keep` is true (whole days, e.g. a leap year without 29 February)."""
    d = rec.data
    data = dataclasses.replace(
        d,
        index=d.index[keep],
        load_kw=d.load_kw[keep],
        pv_kw=d.pv_kw[keep],
        flexible=[dataclasses.replace(f, baseline_kw=f.baseline_kw[keep]) for f in d.flexible],
    )
    return ParkRecord(rec.registry, rec.index[keep], {c: v[keep] for c, v in rec.values_kwh.items()}, data)


def _channel(rec: ParkRecord, purpose: str) -> np.ndarray | None:
    codes = [ch["code"] for ch in _electric_channels(rec.park) if ch.get("purpose") == purpose]
    if not codes:
        return None
    return sum((np.nan_to_num(rec.values_kwh[c]) for c in codes), np.zeros(len(rec.index))) / STEP_H


def _rounded(values: np.ndarray | None, digits: int = 1) -> list[float | None] | None:
    if values is None:
        return None
    return [None if not np.isfinite(v) else round(float(v), digits) for v in values]


def dashboard(rec: ParkRecord, day: date, econ: simulate.Economics, *, savings_days: int = 7) -> dict:
    """The energy dashboard of one local day, from a record covering at least 14 days before it and the day.

    - ``day``: per 15-minute step the MPC's plan (grid import, battery SOC, from its day-ahead forecasts and
      intraday re-plans), what the meters saw (grid import, PV, battery SOC where a ``battery_soc`` channel is
      recorded), the PV and load forecasts against the actual, and the tariff price [CNY/kWh];
    - ``savings``: the last `savings_days` days up to `day` replayed under no control, the self-consumption rule
      and MPC, with cost and CO2 of each and MPC's savings against both [%];
    - ``forecast``: day-ahead MAE, RMSE of load and PV over the savings window [kW].
    """
    from parkzero.energy.forecast import skill

    first = day - pd.Timedelta(days=savings_days - 1).to_pytimedelta()
    if rec.index[0] > pd.Timestamp(datetime.combine(first, time(0)), tz=rec.index.tz) - pd.Timedelta(days=14):
        raise ValidationFailed(
            f"the dashboard of {day} needs readings from {first - pd.Timedelta(days=14).to_pytimedelta()}"
            " (14 days to train the forecasts before the savings window)"
        )
    day_end = pd.Timestamp(datetime.combine(day + pd.Timedelta(days=1).to_pytimedelta(), time(0)), tz=rec.index.tz)
    if rec.index[-1] + pd.Timedelta(minutes=15) < day_end:
        raise ValidationFailed(
            f"the dashboard of {day} needs readings up to the end of that day; the record ends at"
            f" {(rec.index[-1] + pd.Timedelta(minutes=15)).isoformat()}"
        )
    window = between(rec, first, day + pd.Timedelta(days=1).to_pytimedelta())
    history = between(rec, rec.index[0].date(), first).data
    runs = {s: simulate.replay(window.data, econ, s, history=history) for s in simulate.STRATEGIES}
    figures = {s: simulate.kpis(r, econ) for s, r in runs.items()}
    vs = simulate.compare(figures["mpc"], [figures["none"], figures["rule"]])
    mpc = runs["mpc"].frame
    today = mpc.index >= pd.Timestamp(datetime.combine(day, time(0)), tz=rec.index.tz)
    day_rec = between(rec, day, day + pd.Timedelta(days=1).to_pytimedelta())
    capacity = sum(b.energy_kwh for b in rec.data.batteries)
    planned_soc = sum((mpc[f"battery/{b.code}/soc_kwh"].to_numpy() for b in rec.data.batteries), np.zeros(len(mpc)))
    soc_codes = [
        ch["code"]
        for m in rec.park.get("meters", [])
        for ch in m.get("channels", [])
        if ch.get("purpose") == "battery_soc" and ch["code"] in day_rec.values_kwh
    ]
    actual_soc = (
        np.mean([day_rec.values_kwh[c] for c in soc_codes], axis=0) if soc_codes else None
    )  # [%] of capacity, as the BMS reports
    prices = tariffs.energy_prices(day_rec.index, econ.tariff, econ.flat_price_cny_per_kwh)
    labels = tariffs.period_labels(day_rec.index, econ.tariff)
    return {
        "park": rec.park["code"],
        "date": day.isoformat(),
        "tariff": econ.tariff.code,
        "intensity_source": econ.intensity_source,
        "day": {
            "time": [t.strftime("%H:%M") for t in day_rec.index],
            "price_cny_per_kwh": _rounded(prices, 4),
            "period": [str(x) for x in labels],
            "plan_grid_import_kw": _rounded(mpc["grid_import_kw"].to_numpy()[today]),
            "actual_grid_import_kw": _rounded(_channel(day_rec, "grid_import")),
            "actual_grid_export_kw": _rounded(_channel(day_rec, "grid_export")),
            "plan_soc_pct": _rounded(planned_soc[today] / capacity * 100) if capacity else None,
            "actual_soc_pct": _rounded(actual_soc),
            "pv_forecast_kw": _rounded(mpc["pv_forecast_kw"].to_numpy()[today]),
            "pv_actual_kw": _rounded(day_rec.data.pv_kw),
            "load_forecast_kw": _rounded(mpc["load_forecast_kw"].to_numpy()[today]),
            "load_actual_kw": _rounded(day_rec.data.load_kw),
        },
        "savings": {
            "start": first.isoformat(),
            "end": day.isoformat(),
            "days": savings_days,
            "strategies": {s: k.as_dict() for s, k in figures.items()},
            "mpc_vs": vs,
            "plans": runs["mpc"].plans,
            "fallbacks": runs["mpc"].fallbacks,
        },
        "forecast": {
            "load_kw": skill(window.data.load_kw, mpc["load_forecast_kw"].to_numpy()),
            "pv_kw": skill(window.data.pv_kw, mpc["pv_forecast_kw"].to_numpy()),
        },
    }


# --- measured savings (IPMVP option C / B on a meter) -------------------------------------------------------


def measured_savings(
    store: Store,
    scope: Scope,
    park_code: str,
    channel_codes: Sequence[str],
    baseline: tuple[date, date],
    reporting: tuple[date, date],
    *,
    temperature_channel: str | None = None,
    confidence: float = 0.9,
) -> dict:
    """IPMVP savings of the energy of `channel_codes` (summed): baseline model on the baseline days [d0, d1),
    adjusted baseline, measured use and savings with their ASHRAE Guideline 14 uncertainty on the reporting days.

    Energy channels must be visible to `scope` (a tenant uses its own meters). The outdoor temperature comes from
    the park's ``weather`` temperature channel (`temperature_channel` or the first one): weather is park-wide
    and is read whoever asks, the only data read outside `scope`.
    """
    from parkzero.energy import mv
    from parkzero.registry import repo
    from parkzero.store.timeseries import series

    for name, (d0, d1) in (("baseline", baseline), ("reporting", reporting)):
        if not d0 < d1:
            raise ValidationFailed(f"{name} period: start {d0} must be before end {d1}")
    if not channel_codes:
        raise ValidationFailed("name at least one energy channel")
    park = repo.get_park(store, scope, park_code)
    tz = ZoneInfo(park["timezone"])
    visible = repo.channel_index(store, scope, park_code)
    hidden = [c for c in channel_codes if c not in visible]
    if hidden:  # the same answer for a channel that does not exist and one of another tenant
        raise NotFound(f"no channel {', '.join(map(repr, hidden))} in park {park_code!r} visible to you")
    system = Scope.system()
    weather = [
        c
        for c in repo.channel_index(store, system, park_code).values()
        if c.purpose == "weather" and c.quantity_kind == "temperature"
    ]
    if temperature_channel is not None:
        weather = [c for c in weather if c.code == temperature_channel]
    if not weather:
        raise ValidationFailed(
            f"park {park_code!r} has no weather temperature channel"
            + (f" called {temperature_channel!r}" if temperature_channel else "")
        )
    start = datetime.combine(min(baseline[0], reporting[0]), time(0), tz)
    end = datetime.combine(max(baseline[1], reporting[1]), time(0), tz)
    energy = series(store, scope, park_code, list(channel_codes), start, end, "PT1H")
    for s in energy:
        if s.unit != "kWh":
            raise ValidationFailed(f"channel {s.channel!r} is in {s.unit}, not kWh: savings need energy channels")
    (temp,) = series(store, system, park_code, [weather[0].code], start, end, "PT1H")
    empty = [s.channel for s in (*energy, temp) if all(v is None for v in s.values)]
    if empty:  # named here, rather than an unnamed failure of the model on days of nothing
        raise ValidationFailed(
            f"channel {', '.join(map(repr, empty))} has no readings between {start.date()} and {end.date()}"
        )

    def frame(s) -> pd.Series:
        idx = pd.DatetimeIndex(s.timestamps).tz_convert(tz)
        return pd.Series([np.nan if v is None else v for v in s.values], index=idx, dtype=float)

    hours = pd.date_range(start, end, freq="1h", inclusive="left")
    total = sum((frame(s).reindex(hours) for s in energy), pd.Series(0.0, index=hours))
    daily = mv.daily_frame(total, frame(temp).reindex(hours))
    local = daily.index.date
    base = daily[(local >= baseline[0]) & (local < baseline[1])]
    rep = daily[(local >= reporting[0]) & (local < reporting[1])]
    model = mv.baseline_model(base)
    report = mv.savings(model, rep, confidence)
    return {
        "park": park_code,
        "channels": list(channel_codes),
        "temperature_channel": weather[0].code,
        "baseline": {"start": baseline[0].isoformat(), "end": baseline[1].isoformat()},
        "reporting": {"start": reporting[0].isoformat(), "end": reporting[1].isoformat()},
        "model": jsonable(model),
        "savings": {**jsonable(report), "lower_kwh": report.lower_kwh, "upper_kwh": report.upper_kwh},
    }


def jsonable(value: Any) -> Any:
    """Plain JSON types from result dataclasses: dates as ISO text, numpy numbers as floats, NaN, inf and NaT as
    None; frames (per-day detail) are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not isinstance(getattr(value, f.name), (pd.DataFrame, pd.Series)) and not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if value is pd.NaT or (isinstance(value, np.datetime64) and np.isnat(value)):
        return None
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def representative_weeks(inp: sizing.SizingInput) -> sizing.SizingInput:
    """The same sizing on 12 weeks, the week starting on each month's 10th day, each hour standing for
    8760 / 2016 hours (PyPSA's snapshot weighting): a trade-off curve in seconds instead of minutes."""
    if len(inp.load_kw) != sizing.HOURS_PER_YEAR:
        raise ValidationFailed("representative weeks are taken from an hourly year of 8760 hours")
    starts = [int(np.flatnonzero(inp.hour_month == m)[0]) + 9 * 24 for m in range(1, 13)]
    keep = np.concatenate([np.arange(s, s + 168) for s in starts])

    def cut(v: Any) -> Any:
        return v[keep] if isinstance(v, np.ndarray) and v.shape == (sizing.HOURS_PER_YEAR,) else v

    return dataclasses.replace(
        inp,
        load_kw=cut(inp.load_kw),
        import_price_cny_per_kwh=cut(inp.import_price_cny_per_kwh),
        export_price_cny_per_kwh=cut(inp.export_price_cny_per_kwh),
        hour_month=cut(inp.hour_month),
        grid_intensity_tco2_per_kwh=cut(inp.grid_intensity_tco2_per_kwh),
        surfaces=[dataclasses.replace(s, yield_kw_per_kwp=cut(s.yield_kw_per_kwp)) for s in inp.surfaces],
        hour_weight=sizing.HOURS_PER_YEAR / len(keep),
    )


def tradeoff_points(inp: sizing.SizingInput, shares: Sequence[float] | None = None, points: int = 5) -> list[dict]:
    """Least lifecycle cost at each renewable share, on representative weeks (see `representative_weeks`).

    Without `shares`: `points` shares evenly from the least-cost plan's share up to the most the surfaces,
    the battery and the grid limits allow (`sizing.max_renewable_share`).
    """
    weeks = representative_weeks(inp)
    if shares is None:
        free = sizing.size_system(dataclasses.replace(weeks, min_renewable_share=None)).renewable_share_pct / 100
        top = sizing.max_renewable_share(weeks) * 0.999
        shares = [float(x) for x in np.linspace(min(free, top), top, points)]
    results = sizing.tradeoff(weeks, list(shares))
    return [
        {
            "min_renewable_share": float(share),
            "renewable_share_pct": r.renewable_share_pct,
            "annual_cost_cny": r.costs.total_cny,
            "npv_cny": r.npv_cny,
            "pv_kwp": sum(r.pv_kwp.values()),
            "battery_kwh": r.battery_kwh,
            "co2_tco2_per_year": r.co2_tco2_per_year,
        }
        for share, r in zip(shares, results, strict=True)
    ]


def tariff_dict(t: tariffs.Tariff, *, detail: bool = False) -> dict:
    """A tariff as plain values: charges, export price, sources, unverified items; seasons with `detail`."""
    out = {
        "code": t.code,
        "name": t.name,
        "name_zh": t.name_zh,
        "region": t.region,
        "kind": t.kind,
        "voltage_class": t.voltage_class,
        "demand_charge_cny_per_kw_month": t.demand_charge_cny_per_kw_month,
        "capacity_charge_cny_per_kva_month": t.capacity_charge_cny_per_kva_month,
        "export_price_cny_per_kwh": t.export_price_cny_per_kwh,
        "effective_from": t.effective_from,
        "source": list(t.source),
        "unverified_items": list(t.unverified_items),
    }
    if detail:
        out.update(
            seasons=jsonable(t.seasons),
            deep_valley=jsonable(t.deep_valley),
            penalty_factor=t.penalty_factor,
            penalty_tolerance_pct=t.penalty_tolerance_pct,
            contract_floor_pct_of_kva=t.contract_floor_pct_of_kva,
            item_sources=jsonable(t.item_sources),
            note=t.note,
        )
    return out
