"""Abatement measures computed from the platform's own models instead of typed in.

Each function turns a model result into a `Measure` (one unit), with ``source`` saying what was computed from
what (model, inputs, factor ids with their set, version and source document) and ``assumption`` saying what is
still assumed:

- `pv_measure`: a PV-only plan of `parkzero.energy.sizing` against its business as usual (BAU), per block of
  ``block_kwp``; `pv_yield_measure`: the pvlib output of one array (`parkzero.energy.pv`) with an assumed
  self-consumed share, where there is no load to size against;
- `storage_measure`: a battery-only plan of the sizing; it abates only through PV surplus it keeps on site;
- `efficiency_measure`: an IPMVP savings report of `parkzero.energy.mv`, refused unless it is significant and
  meets ASHRAE Guideline 14;
- `electrification_measure`, `fuel_switch_measure`: a fuel quantity (from the ledger) and the Chinese combustion
  method (`parkzero.accounting.rules.combustion`: activity x NCV x carbon content x oxidation x 44/12) with the
  factors of the library.

Money follows `Measure`: ``savings_cny_per_year`` is energy no longer bought (and export income), what is bought
instead (electricity for a heat pump, the new fuel) is in ``opex_cny_per_year``, so both stay >= 0.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from parkzero.accounting import rules
from parkzero.energy.mv import SavingsReport
from parkzero.energy.sizing import Case, SizingInput, SizingResult
from parkzero.errors import Issue, ValidationFailed
from parkzero.factors.library import Factor, shipped_sets
from parkzero.factors.units import parse_factor_unit
from parkzero.pathway.measures import Measure

# activity code (unit in the name, as the pollutant factors key them) -> fuel factor id of the library
FUEL_FACTOR_IDS = {
    "natural_gas_m3": "fuel.natural_gas",
    "coal_t": "fuel.bituminous_coal",
    "diesel_t": "fuel.diesel",
    "fuel_oil_t": "fuel.fuel_oil",
    "lpg_t": "fuel.lpg",
    "coke_t": "fuel.coke",
}
_ACTIVITY_UNIT = {"m3": "Nm3", "t": "t"}  # natural gas is billed in standard m3, the unit of its NCV


def activity_unit(fuel_code: str) -> str:
    """The ledger's canonical unit of a fuel code's quantity (``natural_gas_m3`` -> ``Nm3``, ``coal_t`` -> ``t``)."""
    return _ACTIVITY_UNIT[fuel_code.rsplit("_", 1)[1]]


DAYS_PER_YEAR = 365.0
_GJ_PER_MWH = 3.6


# -- checks and citations --------------------------------------------------------------------------
def _fail(code: str, what: str, issues: list[Issue]) -> ValidationFailed:
    names = ", ".join(dict.fromkeys(i.column or "" for i in issues))
    return ValidationFailed(f"measure {code} not derived from {what}: {names}", issues=issues)


def _bad(issues: list[Issue], code: str, fld: str, reason: str, value: Any = None) -> None:
    issues.append(Issue(reason, column=f"{code}: {fld}", value=None if value is None else str(value)))


def _numbers(
    issues: list[Issue],
    code: str,
    *,
    positive: dict | None = None,
    fractions: dict | None = None,
    shares: dict | None = None,
    **nonnegative: Any,
) -> None:
    """An issue per value not finite and >= 0 (`positive` > 0, `fractions` in (0, 1], `shares` in [0, 1])."""
    for group, (low_ok, high, text) in (
        (nonnegative, (True, math.inf, ">= 0")),
        (positive or {}, (False, math.inf, "> 0")),
        (fractions or {}, (False, 1.0, "in (0, 1]")),
        (shares or {}, (True, 1.0, "in [0, 1]")),
    ):
        for fld, x in group.items():
            ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            if not ok or x < 0 or (x == 0 and not low_ok) or x > high:
                _bad(issues, code, fld, f"must be a finite number {text}", x)


def _split(savings_cny: float, opex_cny: float) -> tuple[float, float]:
    """(savings, opex) [CNY/yr], both >= 0: a net cost increase moves into opex."""
    return max(0.0, float(savings_cny)), max(0.0, float(opex_cny)) + max(0.0, -float(savings_cny))


def _cite(factors: Sequence[Factor]) -> str:
    """Factor ids and values grouped by set, with version and source document."""
    groups: dict[tuple, list[str]] = {}
    for f in factors:
        years = f" ({f.year_from}-{f.year_to})" if f.year_from or f.year_to else ""
        unit = "" if f.unit == "1" else f" {f.unit}"
        key = (f.factor_id, f.set_code, f.set_version, f.source, f.table)
        groups.setdefault(key, []).append(f"{f.parameter} {f.value:g}{unit}{years}")
    return "; ".join(
        f"{fid} {', '.join(v)} ({code} {version}; {source}{', ' + table if table else ''})"
        for (fid, code, version, source, table), v in groups.items()
    )


@functools.cache
def _shipped_rows() -> tuple[Factor, ...]:
    return tuple(f for s in shipped_sets() for f in s.rows)


def _fuel(
    issues: list[Issue], code: str, fld: str, fuel_code: Any, factors: Sequence[Factor] | None
) -> tuple[str, tuple[Factor, Factor, Factor]] | None:
    """Activity unit and (NCV, carbon content, oxidation) rows of a fuel, or None after adding an issue."""
    if not isinstance(fuel_code, str) or fuel_code not in FUEL_FACTOR_IDS:
        _bad(issues, code, fld, f"unknown fuel; one of {', '.join(FUEL_FACTOR_IDS)}", fuel_code)
        return None
    fid, rows = FUEL_FACTOR_IDS[fuel_code], _shipped_rows() if factors is None else factors
    found = []
    for parameter in ("ncv", "carbon_content", "oxidation"):
        match = [f for f in rows if f.factor_id == fid and f.parameter == parameter]
        if len(match) != 1:
            many = f"{len(match)} rows ({', '.join(f'{f.set_code} {f.set_version}' for f in match)}): pass one set"
            _bad(issues, code, fld, f"factor {fid} {parameter}: " + (many if match else "not in the library"))
            return None
        found.append(match[0])
    return activity_unit(fuel_code), (found[0], found[1], found[2])


def _gj_per_unit(ncv: Factor, unit: str) -> float:
    """Net calorific value per unit of the activity [GJ/unit] (Nm3 or t)."""
    fu = parse_factor_unit(ncv.unit)
    if fu.measures != "energy_gj" or fu.activity_canonical != unit:
        raise ValidationFailed(f"factor {ncv.factor_id}: NCV in {ncv.unit} is not energy per {unit}")
    return ncv.value * fu.per_canonical_activity()


def _factor_notes(fuel_codes: Sequence[str], factors: Sequence[Factor]) -> str:
    """What the fuel codes and factors leave assumed: gas m3 as Nm3, coal as bituminous coal, unverified sets."""
    notes = ["natural_gas_m3 read as standard m3 (Nm3)"] if "natural_gas_m3" in fuel_codes else []
    notes += ["coal_t taken as bituminous coal (烟煤)"] if "coal_t" in fuel_codes else []
    sets = sorted({f"{f.set_code} {f.set_version}" for f in factors if "UNVERIFIED" in (f.note or "").upper()})
    notes += [f"factors of {', '.join(sets)} are UNVERIFIED against the primary table"] if sets else []
    return "".join(f"; {n}" for n in notes)


# -- PV and storage from the sizing ----------------------------------------------------------------
def _savings_cny(plan: Case, bau: Case) -> float:
    """Energy bought, demand charges and export income of the plan against BAU at the sizing's tariff [CNY/yr]."""
    p, b = plan.costs, bau.costs
    return (
        (b.energy_cny - p.energy_cny)
        + (b.demand_charge_cny - p.demand_charge_cny)
        + (p.export_income_cny - b.export_income_cny)
    )


def pv_measure(
    sizing: SizingResult,
    inp: SizingInput,
    *,
    code: str = "pv-block",
    name: str | None = None,
    block_kwp: float = 1000.0,
    export_displaces_grid: bool = False,
    subject: str | None = None,
) -> Measure:
    """A PV block measure from a PV-only sizing (`parkzero.energy.sizing.size_system` with no new battery).

    Per kWp of new PV, scaled to `block_kwp`: generation = plan - BAU generation after curtailment [kWh/yr];
    grid import saved = BAU - plan import (the self-consumed part) plus, if `export_displaces_grid`, the extra
    export; savings = energy, demand charges and export income at the sizing's tariff; capex = the plan's
    investment [CNY]; opex = ``opex_cny_per_kwp_year`` of the new PV; lifetime = kWp-weighted surface lifetime.
    ``max_units`` = whole blocks in the sized PV (at least 1).

    Raises
    ------
    ValidationFailed
        No new PV in the plan, a new battery in it (its savings cannot be split from one sizing), bad `block_kwp`.
    """
    plan, bau, issues = sizing.plan, sizing.bau, []
    new_kwp = float(sum(plan.pv_new_kwp.values()))
    _numbers(issues, code, positive={"block_kwp": block_kwp})
    if new_kwp <= 0:
        _bad(issues, code, "pv_new_kwp", "the sizing builds no new PV", new_kwp)
    if plan.battery_new_kwh > 0 or plan.battery_new_kw > 0:
        why = "the plan also adds a battery: size PV alone (battery=None) here, the battery with storage_measure"
        _bad(issues, code, "battery_new_kwh", why, plan.battery_new_kwh)
    if issues:
        raise _fail(code, "the sizing", issues)
    per_block = block_kwp / new_kwp
    generation_kwh = plan.pv_generation_kwh - bau.pv_generation_kwh
    export_kwh = plan.grid_export_kwh - bau.grid_export_kwh
    import_saved_kwh = bau.grid_import_kwh - plan.grid_import_kwh
    grid_kwh = import_saved_kwh + (export_kwh if export_displaces_grid else 0.0)
    surfaces = [s for s in inp.surfaces if plan.pv_new_kwp.get(s.code, 0.0) > 0]
    opex = sum(s.opex_cny_per_kwp_year * plan.pv_new_kwp[s.code] for s in surfaces)
    lifetime = sum(s.lifetime_years * plan.pv_new_kwp[s.code] for s in surfaces) / new_kwp
    yield_kwh_per_kwp = generation_kwh / new_kwp
    savings, opex = _split(_savings_cny(plan, bau) * per_block, opex * per_block)
    own_pct = 100 * (generation_kwh - export_kwh) / generation_kwh if generation_kwh > 0 else 0.0
    return Measure(
        code=code,
        name=name or f"PV, {block_kwp:,.0f} kWp block",
        kind="pv",
        subject=subject,
        capex_cny=plan.capex_cny * per_block,
        opex_cny_per_year=opex,
        savings_cny_per_year=savings,
        lifetime_years=lifetime,
        grid_mwh_saved_per_year=grid_kwh / 1000 * per_block,
        max_units=max(1, math.floor(new_kwp / block_kwp + 1e-9)),
        source=f"parkzero.energy.sizing plan against BAU ({sizing.status}): {new_kwp:,.1f} kWp new PV on "
        f"{', '.join(s.code for s in surfaces)} yields {yield_kwh_per_kwp:,.1f} kWh/kWp/yr, {own_pct:.1f} % "
        f"self-consumed; grid import falls {import_saved_kwh / 1000:,.3f} MWh/yr, export rises "
        f"{export_kwh / 1000:,.3f} MWh/yr; savings at the sizing's tariff; capex and O&M from its surfaces",
        assumption=f"figures of the sized {new_kwp:,.1f} kWp scaled linearly to {block_kwp:,.0f} kWp blocks "
        "(self-consumption falls as PV grows); exported PV "
        + ("counted as displacing grid power" if export_displaces_grid else "not counted as abating")
        + "; the sizing's yield, load and tariff repeat every year (no degradation); emissions valued at each "
        "year's grid factor",
    )


def pv_yield_measure(
    ac_power_kw: pd.Series,
    array_kwp: float,
    *,
    self_consumed_share: float,
    import_price_cny_per_kwh: float,
    capex_cny_per_kwp: float,
    opex_cny_per_kwp_year: float,
    export_price_cny_per_kwh: float = 0.0,
    lifetime_years: float = 25.0,
    block_kwp: float = 1000.0,
    export_displaces_grid: bool = False,
    code: str = "pv-block",
    name: str | None = None,
    max_units: int = 1,
    subject: str | None = None,
) -> Measure:
    """A PV block measure from one year of an array's modelled AC output (`parkzero.energy.pv.array_power_kw`).

    yield [kWh/kWp/yr] = sum(AC power [kW] x step [h]) / `array_kwp`; per block: grid saved = block_kwp x yield x
    `self_consumed_share` [-] (plus the exported rest if `export_displaces_grid`); savings = self-consumed kWh x
    import price + exported kWh x export price [CNY/kWh]; capex and O&M per kWp [CNY/kWp], [CNY/kWp/yr].

    Raises
    ------
    ValidationFailed
        A series that is not one regular, time-aware year (8,760 to 8,784 h), or a bad number, naming the field.
    """
    issues: list[Issue] = []
    _numbers(
        issues,
        code,
        positive={"array_kwp": array_kwp, "block_kwp": block_kwp, "lifetime_years": lifetime_years},
        shares={"self_consumed_share": self_consumed_share},
        import_price_cny_per_kwh=import_price_cny_per_kwh,
        export_price_cny_per_kwh=export_price_cny_per_kwh,
        capex_cny_per_kwp=capex_cny_per_kwp,
        opex_cny_per_kwp_year=opex_cny_per_kwp_year,
    )
    index = ac_power_kw.index if isinstance(ac_power_kw, pd.Series) else None
    step_h = hours = math.nan
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or len(index) < 2:
        _bad(issues, code, "ac_power_kw", "must be a pandas Series on a time-zone aware index (pv.py output)")
    else:
        step_h = (index[1] - index[0]) / pd.Timedelta(hours=1)
        hours = len(index) * step_h
        if not 8760 <= hours <= 8784 or not np.isfinite(ac_power_kw.to_numpy(dtype=float)).all():
            _bad(issues, code, "ac_power_kw", "must cover one year (8,760-8,784 h) with finite values", hours)
    if issues:
        raise _fail(code, "the PV yield", issues)
    yield_kwh_per_kwp = float(ac_power_kw.sum()) * step_h / array_kwp
    block_kwh = block_kwp * yield_kwh_per_kwp
    own_kwh, export_kwh = block_kwh * self_consumed_share, block_kwh * (1 - self_consumed_share)
    return Measure(
        code=code,
        name=name or f"PV, {block_kwp:,.0f} kWp block",
        kind="pv",
        subject=subject,
        capex_cny=capex_cny_per_kwp * block_kwp,
        opex_cny_per_year=opex_cny_per_kwp_year * block_kwp,
        savings_cny_per_year=own_kwh * import_price_cny_per_kwh + export_kwh * export_price_cny_per_kwh,
        lifetime_years=lifetime_years,
        grid_mwh_saved_per_year=(own_kwh + (export_kwh if export_displaces_grid else 0.0)) / 1000,
        max_units=max_units,
        source=f"parkzero.energy.pv (pvlib) AC output of a {array_kwp:,.1f} kWp array over {hours:,.0f} h: "
        f"{yield_kwh_per_kwp:,.1f} kWh/kWp/yr",
        assumption=f"{100 * self_consumed_share:.0f} % self-consumed (no load modelled: size it with "
        f"parkzero.energy.sizing for a computed share); import {import_price_cny_per_kwh:g} and export "
        f"{export_price_cny_per_kwh:g} CNY/kWh, capex {capex_cny_per_kwp:g} CNY/kWp, O&M "
        f"{opex_cny_per_kwp_year:g} CNY/kWp/yr and {lifetime_years:g} yr given; exported PV "
        + ("counted as displacing grid power" if export_displaces_grid else "not counted as abating"),
    )


def storage_measure(
    sizing: SizingResult,
    inp: SizingInput,
    *,
    code: str = "battery",
    name: str | None = None,
    subject: str | None = None,
) -> Measure:
    """A battery measure from a battery-only sizing (PV, if any, already existing) against its BAU.

    Savings = energy, demand charges and export income of the dispatch against BAU [CNY/yr]; capex = the plan's
    investment [CNY]; opex = plan - BAU O&M and wear [CNY/yr]; lifetime = the battery option's. Grid MWh saved =
    BAU - plan import [MWh/yr]: storage lowers import only with PV surplus it keeps instead of curtailing or
    exporting; its cycle losses (of grid-charged cycles too) are subtracted.

    Raises
    ------
    ValidationFailed
        No new battery, new PV in the plan, or a dispatch that keeps no PV surplus (import does not fall).
    """
    plan, bau, issues = sizing.plan, sizing.bau, []
    battery = inp.battery
    if battery is None or plan.battery_new_kwh <= 0:
        _bad(issues, code, "battery_new_kwh", "the sizing builds no new battery", plan.battery_new_kwh)
    if any(v > 0 for v in plan.pv_new_kwp.values()):
        _bad(issues, code, "pv_new_kwp", "the plan also adds PV: give it as existing_kwp to size the battery alone")
    kept_kwh = (bau.curtailment_kwh + bau.grid_export_kwh) - (plan.curtailment_kwh + plan.grid_export_kwh)
    saved_kwh = bau.grid_import_kwh - plan.grid_import_kwh
    if not issues and saved_kwh <= 0:
        why = (
            f"the dispatch keeps {kept_kwh / 1000:,.3f} MWh/yr of PV surplus and import changes by "
            f"{-saved_kwh / 1000:+,.3f} MWh/yr: storage abates only through PV it keeps (a cost measure here)"
        )
        _bad(issues, code, "grid_mwh_saved_per_year", why, saved_kwh / 1000)
    if issues or battery is None:
        raise _fail(code, "the sizing", issues)
    savings, opex = _split(_savings_cny(plan, bau), plan.costs.opex_cny - bau.costs.opex_cny)
    return Measure(
        code=code,
        name=name or f"Battery storage, {plan.battery_new_kwh:,.0f} kWh / {plan.battery_new_kw:,.0f} kW",
        kind="storage",
        subject=subject,
        capex_cny=plan.capex_cny,
        opex_cny_per_year=opex,
        savings_cny_per_year=savings,
        lifetime_years=battery.lifetime_years,
        grid_mwh_saved_per_year=saved_kwh / 1000,
        source=f"parkzero.energy.sizing plan against BAU ({sizing.status}): {plan.battery_new_kwh:,.1f} kWh / "
        f"{plan.battery_new_kw:,.1f} kW new battery keeps {kept_kwh / 1000:,.3f} MWh/yr of PV surplus; import "
        f"falls {saved_kwh / 1000:,.3f} MWh/yr after losses; discharged {plan.battery_discharge_kwh / 1000:,.3f} "
        "MWh/yr; savings at the sizing's tariff; capex and O&M from its battery option",
        assumption="the sizing's load, PV and tariff repeat every year; surplus PV that was exported is counted "
        "as abating when kept (if the export displaced grid power elsewhere, keeping it abates nothing net); "
        "emissions valued at each year's grid factor",
    )


# -- efficiency from M&V ---------------------------------------------------------------------------
def efficiency_measure(
    report: SavingsReport,
    *,
    code: str,
    name: str,
    price_cny_per_kwh: float,
    capex_cny: float,
    lifetime_years: float,
    opex_cny_per_year: float = 0.0,
    conservative: bool = False,
    subject: str | None = None,
) -> Measure:
    """An electricity-efficiency measure from an IPMVP savings report (`parkzero.energy.mv.savings`).

    Avoided energy per year = savings [kWh] x 365 / reporting days (or, if `conservative`, the lower end of the
    interval, savings - uncertainty); savings [CNY/yr] = avoided kWh x `price_cny_per_kwh`.

    Raises
    ------
    ValidationFailed
        Savings not statistically significant, not positive, or the baseline failing ASHRAE Guideline 14
        (model CV(RMSE)/NMBE for the reporting length, or uncertainty >= 50 % at 68 %); bad costs.
    """
    issues: list[Issue] = []
    _numbers(
        issues,
        code,
        positive={"lifetime_years": lifetime_years},
        price_cny_per_kwh=price_cny_per_kwh,
        capex_cny=capex_cny,
        opex_cny_per_year=opex_cny_per_year,
    )
    interval = f"{report.savings_kwh:,.0f} +- {report.uncertainty_kwh:,.0f} kWh at {100 * report.confidence:g} %"
    if report.savings_kwh <= 0:
        _bad(issues, code, "savings_kwh", "the measured use did not fall below the adjusted baseline", interval)
    if not report.significant:
        _bad(issues, code, "significant", "savings are not statistically significant (the interval holds 0)", interval)
    if not report.meets_g14_model:
        why = f"baseline CV(RMSE) (limit {report.cv_rmse_limit_pct:g} %) or NMBE fails ASHRAE Guideline 14"
        _bad(issues, code, "meets_g14_model", why, f"{report.baseline_cv_rmse_pct:.1f} %")
    if not report.meets_g14_uncertainty:
        why = "uncertainty at 68 % is not below 50 % of the savings (ASHRAE Guideline 14)"
        _bad(issues, code, "meets_g14_uncertainty", why, f"{report.fractional_uncertainty_pct:.0f} %")
    if issues:
        raise _fail(code, "the M&V report", issues)
    per_year = DAYS_PER_YEAR / report.n_days
    saved_kwh = (report.lower_kwh if conservative else report.savings_kwh) * per_year
    return Measure(
        code=code,
        name=name,
        kind="efficiency",
        subject=subject,
        capex_cny=capex_cny,
        opex_cny_per_year=opex_cny_per_year,
        savings_cny_per_year=saved_kwh * price_cny_per_kwh,
        lifetime_years=lifetime_years,
        grid_mwh_saved_per_year=saved_kwh / 1000,
        source=f"parkzero.energy.mv IPMVP savings {report.reporting_start}..{report.reporting_end} "
        f"({report.n_days} d): adjusted baseline {report.adjusted_baseline_kwh:,.0f} kWh - measured "
        f"{report.measured_kwh:,.0f} kWh = {interval} confidence ({report.savings_pct:.1f} %); baseline CV(RMSE) "
        f"{report.baseline_cv_rmse_pct:.1f} % meets ASHRAE Guideline 14; per year x {DAYS_PER_YEAR:g} / "
        f"{report.n_days} = {report.savings_kwh * per_year / 1000:,.3f} +- {report.uncertainty_kwh * per_year / 1000:,.3f} MWh/yr",
        assumption=f"the metered savings are grid electricity and last {lifetime_years:g} yr; "
        + ("the lower end of the interval is used; " if conservative else "")
        + ("" if report.n_days >= DAYS_PER_YEAR else f"{report.n_days} reporting days stand for a year; ")
        + f"price {price_cny_per_kwh:g} CNY/kWh, capex and O&M given",
    )


# -- electrification and fuel switch from a fuel quantity ------------------------------------------
def electrification_measure(
    fuel_code: str,
    fuel_quantity_per_year: float,
    *,
    code: str,
    name: str,
    cop: float,
    fuel_efficiency: float = 0.9,
    capex_cny: float = 0.0,
    opex_cny_per_year: float = 0.0,
    lifetime_years: float = 20.0,
    fuel_price_cny_per_unit: float = 0.0,
    electricity_price_cny_per_kwh: float = 0.0,
    factors: Sequence[Factor] | None = None,
    subject: str | None = None,
    ramp_up_years: int = 0,
) -> Measure:
    """Electric equipment (heat pump, electric vehicles) replacing fuel burnt on site.

    CO2 avoided = fuel x NCV x carbon content x oxidation x 44/12 [tCO2/yr] (`parkzero.accounting.rules.
    combustion`); useful energy = fuel x NCV x `fuel_efficiency` [GJ/yr]; electricity added = useful / 3.6 /
    `cop` [MWh/yr], negative ``grid_mwh_saved_per_year``. Savings = fuel x `fuel_price_cny_per_unit`; the power
    bought is in opex (with O&M `opex_cny_per_year`).

    Parameters
    ----------
    fuel_code : str
        One of `FUEL_FACTOR_IDS` (``natural_gas_m3``, ``coal_t`` ...); the quantity is in its unit [unit/yr].
    cop : float
        Useful energy out per electricity in [-], > 0 (3 for an industrial heat pump).
    fuel_efficiency : float
        Useful energy per fuel energy of the equipment replaced [-], 0..1.
    factors : sequence of Factor, optional
        Factor rows (`parkzero.factors.load_factors`); default the shipped sets.

    Raises
    ------
    ValidationFailed
        Unknown fuel, missing factor, or a bad number (negative COP, fuel not finite), naming code and field.
    """
    issues: list[Issue] = []
    fuel = _fuel(issues, code, "fuel_code", fuel_code, factors)
    _numbers(
        issues,
        code,
        positive={"fuel_quantity_per_year": fuel_quantity_per_year, "cop": cop, "lifetime_years": lifetime_years},
        fractions={"fuel_efficiency": fuel_efficiency},
        capex_cny=capex_cny,
        opex_cny_per_year=opex_cny_per_year,
        fuel_price_cny_per_unit=fuel_price_cny_per_unit,
        electricity_price_cny_per_kwh=electricity_price_cny_per_kwh,
    )
    if issues or fuel is None:
        raise _fail(code, "the fuel", issues)
    unit, used = fuel
    burnt = rules.combustion(fuel_quantity_per_year, unit, *used, what=code)
    useful_gj = fuel_quantity_per_year * _gj_per_unit(used[0], unit) * fuel_efficiency
    power_mwh = useful_gj / _GJ_PER_MWH / cop
    return Measure(
        code=code,
        name=name,
        kind="electrification",
        subject=subject,
        capex_cny=capex_cny,
        opex_cny_per_year=opex_cny_per_year + power_mwh * 1000 * electricity_price_cny_per_kwh,
        savings_cny_per_year=fuel_quantity_per_year * fuel_price_cny_per_unit,
        lifetime_years=lifetime_years,
        ramp_up_years=ramp_up_years,
        abatement_tco2e_per_year=burnt.tco2e,
        grid_mwh_saved_per_year=-power_mwh,
        fuel_saved_per_year={fuel_code: float(fuel_quantity_per_year)},
        source=f"parkzero.accounting.rules.combustion: {burnt.formula}; useful {useful_gj:,.1f} GJ/yr / 3.6 / COP "
        f"{cop:g} = {power_mwh:,.3f} MWh/yr added; factors " + _cite(used),
        assumption=f"COP {cop:g} and efficiency {100 * fuel_efficiency:g} % of the equipment replaced (same "
        f"useful energy); fuel {fuel_price_cny_per_unit:g} CNY/unit and power {electricity_price_cny_per_kwh:g} "
        f"CNY/kWh (in opex); capex, O&M and {lifetime_years:g} yr given; CH4/N2O of combustion not counted; "
        "the added power emits at each year's grid factor" + _factor_notes([fuel_code], used),
    )


def fuel_switch_measure(
    fuel_code: str,
    fuel_quantity_per_year: float,
    new_fuel_code: str,
    *,
    code: str,
    name: str,
    fuel_efficiency: float = 0.9,
    new_fuel_efficiency: float = 0.9,
    capex_cny: float = 0.0,
    opex_cny_per_year: float = 0.0,
    lifetime_years: float = 20.0,
    fuel_price_cny_per_unit: float = 0.0,
    new_fuel_price_cny_per_unit: float = 0.0,
    factors: Sequence[Factor] | None = None,
    subject: str | None = None,
    ramp_up_years: int = 0,
) -> Measure:
    """A lower-carbon fuel for the same useful energy (a coal boiler to gas).

    New fuel = fuel x NCV x `fuel_efficiency` / (new NCV x `new_fuel_efficiency`) [unit/yr]; abatement = CO2 of
    the old fuel - CO2 of the new (`parkzero.accounting.rules.combustion`) [tCO2/yr]; ``fuel_saved_per_year`` has
    the old fuel positive and the new negative. Savings = old fuel x its price; the new fuel bought is in opex.

    Raises
    ------
    ValidationFailed
        Unknown fuels, the same fuel twice, missing factors, or a bad number, naming code and field.
    """
    issues: list[Issue] = []
    old = _fuel(issues, code, "fuel_code", fuel_code, factors)
    new = _fuel(issues, code, "new_fuel_code", new_fuel_code, factors)
    if fuel_code == new_fuel_code:
        _bad(issues, code, "new_fuel_code", "is the fuel replaced", new_fuel_code)
    _numbers(
        issues,
        code,
        positive={"fuel_quantity_per_year": fuel_quantity_per_year, "lifetime_years": lifetime_years},
        fractions={"fuel_efficiency": fuel_efficiency, "new_fuel_efficiency": new_fuel_efficiency},
        capex_cny=capex_cny,
        opex_cny_per_year=opex_cny_per_year,
        fuel_price_cny_per_unit=fuel_price_cny_per_unit,
        new_fuel_price_cny_per_unit=new_fuel_price_cny_per_unit,
    )
    if issues or old is None or new is None:
        raise _fail(code, "the fuels", issues)
    useful_gj = fuel_quantity_per_year * _gj_per_unit(old[1][0], old[0]) * fuel_efficiency
    new_quantity = useful_gj / new_fuel_efficiency / _gj_per_unit(new[1][0], new[0])
    burnt_old = rules.combustion(fuel_quantity_per_year, old[0], *old[1], what=code)
    burnt_new = rules.combustion(new_quantity, new[0], *new[1], what=code)
    return Measure(
        code=code,
        name=name,
        kind="fuel_switch",
        subject=subject,
        capex_cny=capex_cny,
        opex_cny_per_year=opex_cny_per_year + new_quantity * new_fuel_price_cny_per_unit,
        savings_cny_per_year=float(fuel_quantity_per_year * fuel_price_cny_per_unit),
        lifetime_years=lifetime_years,
        ramp_up_years=ramp_up_years,
        abatement_tco2e_per_year=burnt_old.tco2e - burnt_new.tco2e,
        fuel_saved_per_year={fuel_code: float(fuel_quantity_per_year), new_fuel_code: -new_quantity},
        source=f"parkzero.accounting.rules.combustion: old {burnt_old.formula}; new {burnt_new.formula} (same "
        f"useful {useful_gj:,.1f} GJ/yr); factors " + _cite((*old[1], *new[1])),
        assumption=f"efficiencies {100 * fuel_efficiency:g} % old and {100 * new_fuel_efficiency:g} % new; prices "
        f"{fuel_price_cny_per_unit:g} and {new_fuel_price_cny_per_unit:g} CNY/unit (new fuel in opex); capex, "
        f"O&M and {lifetime_years:g} yr given; CH4/N2O not counted"
        + _factor_notes([fuel_code, new_fuel_code], (*old[1], *new[1])),
    )


__all__ = [
    "FUEL_FACTOR_IDS",
    "activity_unit",
    "efficiency_measure",
    "electrification_measure",
    "fuel_switch_measure",
    "pv_measure",
    "pv_yield_measure",
    "storage_measure",
]
