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

Park-level studies show grid, PV and storage: only the park's operator, an administrator or the system may run
them (`Forbidden` otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from parkzero.energy import pv as pvmod
from parkzero.energy import resilience as res
from parkzero.energy import simulate, sizing
from parkzero.energy import tariff as tariffs
from parkzero.energy.dispatch import STEP_H
from parkzero.energy.flows import sees_park_flows
from parkzero.errors import Forbidden, Issue, ValidationFailed
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
    "economics",
    "from_store",
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
        `scope` may not see park-level flows (a tenant sees only its own consumption).
    ValidationFailed
        A channel lacks readings in the period (named, with the count), or the period is not whole days.
    """
    from parkzero.registry.io import export_registry
    from parkzero.store.timeseries import series

    if not sees_park_flows(scope):
        raise Forbidden("park energy studies need the park operator's role: they show the grid, PV and storage")
    if not isinstance(start, date) or not isinstance(end, date) or not start < end:
        raise ValidationFailed("a study runs over local days [start, end) with start before end")
    doc = export_registry(store, scope, park_code)
    park = doc["parks"][0]
    tz = ZoneInfo(park["timezone"])
    index = _day_index(start, end, tz)
    codes = [ch["code"] for ch in _electric_channels(park)]
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
    (``min_renewable_share``, ``max_co2_tco2_per_year``, ``budget_cny``, ``discount_rate``, ...).
    """
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
    unknown = [c for c in critical_channels if c not in rec.values_kwh]
    if unknown:
        raise ValidationFailed(f"no electricity channel {', '.join(map(repr, unknown))} in the park")
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
    options.setdefault("generator", standby_generator(rec))
    if soc_kwh is None:
        soc_kwh = {b.code: b.soc_floor_kwh for b in d.batteries}
    return res.resilience_report(
        tiers if tiers is not None else load_tiers(rec), d.pv_kw, rec.index, d.batteries, soc_kwh, **options
    )
