"""Pollution and carbon together: air pollutants from the activity data that gives carbon, and their co-control.

SO2, NOx, PM and VOC come from the same activity as CO2 (fuel burned, grid electricity, tonnes of steel), through
factors kept as data (``pathway/data/pollutant_factors.toml``, each with its source and a ``verified`` flag)::

    kg_per_unit[a, p] = (base[a, p] + per_percent_sulfur[a, p] x sulfur_percent[a]) x (1 - removal[a, p])
    tonnes[p]         = sum_a quantity[a] x kg_per_unit[a, p] / 1000                              [t]

A pollutant a factor does not give is *not covered* (listed, never taken as zero). One unit of a measure avoids per
year at full ramp its stated ``co_benefits`` (measured), or else the pollutants of its ``fuel_saved_per_year``
(activity avoided, negative for added) and of ``grid_mwh_saved_per_year`` at the ``grid_mwh`` factor. A portfolio
avoids in year t ``sum_builds units x co_benefit x operating_fraction(t - build year)``: the units, ramp-up and
renewal the optimiser counts for abatement (`parkzero.pathway.optimise`), so both series move together.

Co-control (毛显强等, 协同控制效应坐标系)
---------------------------------------
Pollutants are added up as the air pollutant equivalent, weighted by the pollution equivalent values of the
Environmental Protection Tax Law (附表二: SO2 0.95 kg, NOx 0.95 kg, 烟尘 2.18 kg) and normalised to SO2::

    APeq [t] = sum_p tonnes[p] x 0.95 kg / equivalent_kg[p]        (VOC has no value there: reported beside it)
    Els      = (dAPeq / APeq) / (dCO2 / CO2)

A change falls in one quadrant of (CO2 reduction, APeq reduction): I "both reduced" (co-control), IV "carbon
only", II "pollutants only", III "neither"; Els > 1 means air pollutants fall proportionally faster than CO2.
The weighting and the elasticity follow Mao Xianqiang et al. (e.g. J. Clean. Prod. 67 (2014) 220-227 on coal
power; Environ. Sci. Technol. 47 (2013) 12002-12010 on iron and steel), cited from memory: check them there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parkzero.energy.sizing import capital_recovery_factor
from parkzero.errors import Issue, ValidationFailed
from parkzero.pathway.baseline import Baseline
from parkzero.pathway.datafile import read_toml
from parkzero.pathway.measures import CO_BENEFIT_KEYS, Measure, operating_fraction, unit_abatement_tco2e
from parkzero.pathway.optimise import Portfolio

POLLUTANTS = ("so2", "nox", "pm", "voc")  # CO_BENEFIT_KEYS without the "_t"
FORMAT = "parkzero-pollutant-factors"
FORMAT_VERSION = 1
QUADRANTS = ("both reduced", "carbon only", "pollutants only", "neither")
_ROMAN = {"both reduced": "I", "pollutants only": "II", "neither": "III", "carbon only": "IV"}
_TOP_FIELDS = {"format", "format_version", "apeq", "factor"}
_APEQ_FIELDS = {"source", "verified", "read_at", "note", "equivalent_kg"}
_FACTOR_FIELDS = {"code", "name", "unit", "control", "source", "verified", "note", "read_at", "kg_per_unit"}
_FACTOR_FIELDS |= {"sulfur", "removal"}
_SULFUR_FIELDS = {"percent", "note", "kg_per_unit_per_percent"}


@dataclass(frozen=True)
class PollutantFactor:
    """Air pollutants per unit of one activity [kg/unit] (sulfur and removal applied), with their source."""

    code: str  # ends with the unit: natural_gas_m3, coal_t, grid_mwh
    name: str
    unit: str
    control: str  # "uncontrolled", "typical control (...)"
    source: str  # document, table, year, edition
    verified: bool  # True only when the figures were read in a stored text (see read_at and note)
    kg_per_unit: dict[str, float]  # covered pollutants only
    derivation: dict[str, str] = field(default_factory=dict)  # arithmetic of sulfur-dependent or reduced ones
    note: str = ""
    read_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class PollutantFactors:
    """A checked factor file: factors by activity code and the APeq weights [kg per pollution equivalent]."""

    factors: dict[str, PollutantFactor]
    equivalent_kg: dict[str, float]  # so2, nox, pm; VOC has none
    apeq_source: str
    apeq_verified: bool
    file: str = ""

    def apeq_t(self, tonnes: Mapping[str, Any]) -> Any:
        """APeq [t, SO2-normalised] of tonnes per pollutant (floats or arrays); pollutants without weight left out."""
        ref = self.equivalent_kg["so2"]
        return sum((tonnes.get(p, 0.0) * (ref / v) for p, v in self.equivalent_kg.items()), 0.0)


@dataclass(frozen=True)
class PollutantLine:
    """One activity x pollutant term of a result: ``quantity x factor / 1000 = tonnes``."""

    activity: str
    quantity: float  # [unit]
    unit: str
    pollutant: str
    factor_kg_per_unit: float
    tonnes: float
    source: str
    verified: bool


@dataclass(frozen=True)
class PollutantResult:
    """Air pollutants of some activity: tonnes per pollutant, every term, and what no factor covers."""

    tonnes: dict[str, float]  # per pollutant [t]
    lines: list[PollutantLine]
    not_covered: dict[str, list[str]]  # pollutant -> activity codes whose factor does not give it
    apeq_t: float  # [t, SO2-normalised]


# -- the factor file -----------------------------------------------------------------------------------------
def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _rejected(head: str, issues: list[Issue]) -> ValidationFailed:
    return ValidationFailed(f"{head}: {', '.join(dict.fromkeys(i.column or '' for i in issues))}", issues=issues)


class _Check:
    """Collects issues naming the file, the item (factor code) and the field."""

    def __init__(self, where: str):
        self.where, self.issues = where, []

    def bad(self, item: str, fld: str, reason: str, value: Any = None) -> None:
        shown = None if value is None else str(value)
        self.issues.append(Issue(reason, file=self.where, column=f"{item}: {fld}", value=shown))

    def unknown(self, item: str, raw: Mapping, allowed: set[str], prefix: str = "") -> None:
        for key in sorted(set(raw) - allowed):
            self.bad(item, prefix + key, f"unknown field (known: {', '.join(sorted(allowed))})")

    def text(self, item: str, raw: Mapping, key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            self.bad(item, key, "missing" if value is None else "must be a non-empty text", value)
            return ""
        return value.strip()

    def amounts(self, item: str, raw: Any, fld: str, *, upper: float = math.inf) -> dict[str, float]:
        """A table of pollutant -> number in [0, upper]."""
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.bad(item, fld, "must be a table of pollutant = number", raw)
            return {}
        out = {}
        for p, v in raw.items():
            if p not in POLLUTANTS:
                self.bad(item, f"{fld}.{p}", f"unknown pollutant; one of {', '.join(POLLUTANTS)}", p)
            elif not _finite(v) or not 0 <= v <= upper:
                self.bad(item, f"{fld}.{p}", f"must be a finite number in [0, {upper:g}]", v)
            else:
                out[p] = float(v)
        return out


def _factor(raw: Mapping, check: _Check) -> PollutantFactor | None:
    item = raw.get("code") if isinstance(raw.get("code"), str) and raw.get("code") else "(no code)"
    n = len(check.issues)
    check.unknown(item, raw, _FACTOR_FIELDS)
    code, name, unit, control, source = (
        check.text(item, raw, k) for k in ("code", "name", "unit", "control", "source")
    )
    if not isinstance(raw.get("verified"), bool):
        check.bad(item, "verified", "must be true or false", raw.get("verified"))
    token = "_" + unit.lower().replace("nm3", "m3")
    if code and unit and not code.lower().endswith(token):
        check.bad(item, "code", f"must carry the activity unit: end with {token!r} for unit {unit!r}", code)
    base = check.amounts(item, raw.get("kg_per_unit"), "kg_per_unit")
    percent, per_percent, sulfur = 0.0, {}, raw.get("sulfur")
    if sulfur is not None:
        if not isinstance(sulfur, Mapping):
            check.bad(item, "sulfur", "must be a table with percent and kg_per_unit_per_percent")
        else:
            check.unknown(item, sulfur, _SULFUR_FIELDS, "sulfur.")
            percent = sulfur.get("percent")
            if not _finite(percent) or not 0 <= percent <= 100:
                check.bad(item, "sulfur.percent", "must be the assumed sulfur content in [0, 100] wt %", percent)
                percent = 0.0
            per_percent = check.amounts(item, sulfur.get("kg_per_unit_per_percent"), "sulfur.kg_per_unit_per_percent")
    removal = check.amounts(item, raw.get("removal"), "removal", upper=1.0)
    covered = [p for p in POLLUTANTS if p in base or p in per_percent]
    if not covered and "kg_per_unit" not in raw:
        check.bad(item, "kg_per_unit", "missing")
    elif not covered:
        check.bad(item, "kg_per_unit", "gives no pollutant")
    for p in sorted(set(removal) - set(covered)):
        check.bad(item, f"removal.{p}", "removes a pollutant the factor does not give", p)
    read_at = raw.get("read_at", [])
    if not isinstance(read_at, list) or not all(isinstance(x, str) for x in read_at):
        check.bad(item, "read_at", "must be a list of texts", read_at)
        read_at = []
    if len(check.issues) > n:
        return None
    kg, derivation = {}, {}
    for p in covered:
        value = base.get(p, 0.0) + per_percent.get(p, 0.0) * percent
        steps = [f"{base[p]:g}"] if p in base else []
        if p in per_percent:
            steps.append(f"{per_percent[p]:g} per % S x {percent:g} % S")
        if p in removal:
            value *= 1.0 - removal[p]
            steps = [f"({' + '.join(steps)}) x (1 - {removal[p]:g} removed)"]
        kg[p] = value
        if p in per_percent or p in removal:
            derivation[p] = f"{' + '.join(steps)} = {value:.6g} kg/{unit}"
    note = raw.get("note", "")
    return PollutantFactor(code, name, unit, control, source, raw["verified"], kg, derivation, note, tuple(read_at))


def load_pollutant_factors(path: str | Path | None = None) -> PollutantFactors:
    """Read and strictly check a pollutant factor file (format of ``pathway/data/pollutant_factors.toml``).

    Parameters
    ----------
    path : str or pathlib.Path or None
        The file; None reads the shipped ``parkzero/pathway/data/pollutant_factors.toml``.

    Raises
    ------
    ValidationFailed
        Not TOML, a wrong format, or any bad entry (missing source or unit, negative factor, unknown pollutant or
        field, a code that does not end with its unit), each issue naming the file, the factor code and the field;
        nothing is returned then.
    """
    where, doc = read_toml(path, "pollutant_factors.toml")
    check = _Check(where)
    check.unknown("file", doc, _TOP_FIELDS)
    if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
        check.bad("file", "format", f"must be format = {FORMAT!r}, format_version = {FORMAT_VERSION}")
    apeq = doc.get("apeq") if isinstance(doc.get("apeq"), Mapping) else {}
    check.unknown("apeq", apeq, _APEQ_FIELDS)
    apeq_source = check.text("apeq", apeq, "source")
    if not isinstance(apeq.get("verified"), bool):
        check.bad("apeq", "verified", "must be true or false", apeq.get("verified"))
    equivalent = check.amounts("apeq", apeq.get("equivalent_kg"), "equivalent_kg")
    for p, v in equivalent.items():
        if v <= 0:
            check.bad("apeq", f"equivalent_kg.{p}", "must be > 0 kg per pollution equivalent", v)
    if "so2" not in equivalent:
        check.bad("apeq", "equivalent_kg.so2", "missing (APeq is normalised to SO2)")
    raw = doc.get("factor")
    if not isinstance(raw, list) or not raw:
        check.bad("file", "factor", "no [[factor]] tables found")
        raw = []
    factors: dict[str, PollutantFactor] = {}
    for entry in raw:
        f = _factor(entry, check) if isinstance(entry, Mapping) else None
        if f is not None and f.code in factors:
            check.bad(f.code, "code", "appears twice")
        elif f is not None:
            factors[f.code] = f
    if check.issues:
        names = ", ".join(dict.fromkeys(i.column or "" for i in check.issues))
        detail = f"{where}: {len(check.issues)} problem(s) in the pollutant factors ({names}); none was loaded"
        raise ValidationFailed(detail, issues=check.issues)
    return PollutantFactors(factors, equivalent, apeq_source, apeq["verified"], where)


# -- activity -> tonnes ------------------------------------------------------------------------------------------
def pollutants_from_activity(activity: Mapping[str, float], factors: PollutantFactors) -> PollutantResult:
    """Air pollutants of some activity [t], term by term.

    Parameters
    ----------
    activity : mapping of str to float
        Quantity per activity code, in the unit the code ends with (``{"natural_gas_m3": 1e6, "grid_mwh": -3244}``);
        negative for activity added.
    factors : PollutantFactors

    Raises
    ------
    ValidationFailed
        An activity code without a factor (naming each one) or a quantity that is not a finite number.
    """
    issues = []
    for code, qty in activity.items():
        if code not in factors.factors:
            known = ", ".join(sorted(factors.factors))
            issues.append(Issue(f"no pollutant factor for this activity code (known: {known})", column=code))
        elif not _finite(qty):
            issues.append(Issue("must be a finite quantity", column=code, value=str(qty)))
    if issues:
        raise _rejected("activity rejected (unknown codes are named, never dropped)", issues)
    tonnes = dict.fromkeys(POLLUTANTS, 0.0)
    lines, not_covered = [], {}
    for code, qty in activity.items():
        f = factors.factors[code]
        for p in POLLUTANTS:
            if p not in f.kg_per_unit:
                not_covered.setdefault(p, []).append(code)
                continue
            t = float(qty) * f.kg_per_unit[p] / 1000.0
            tonnes[p] += t
            lines.append(PollutantLine(code, float(qty), f.unit, p, f.kg_per_unit[p], t, f.source, f.verified))
    return PollutantResult(tonnes, lines, not_covered, float(factors.apeq_t(tonnes)))


# -- measures and scenarios --------------------------------------------------------------------------------------
def measure_co_benefits(measure: Measure, factors: PollutantFactors) -> dict[str, float]:
    """Air pollutants one unit of `measure` avoids per year at full ramp [t/yr], keys `CO_BENEFIT_KEYS`.

    A key stated in ``measure.co_benefits`` is taken as stated; the others come from ``fuel_saved_per_year`` plus
    ``grid_mwh_saved_per_year`` x the ``grid_mwh`` factor (negative: added). Put electricity in
    ``fuel_saved_per_year["grid_mwh"]`` only when the CO2 abatement already includes it (an EAF's power), so it is
    not counted twice. Pollutants a factor does not cover count as 0 here (`pollutants_from_activity` lists them).

    Raises
    ------
    ValidationFailed
        ``fuel_saved_per_year`` names an activity code without a factor (naming the measure and the code).
    """
    stated = {k: float(v) for k, v in measure.co_benefits.items() if k in CO_BENEFIT_KEYS}
    activity = {k: float(v) for k, v in measure.fuel_saved_per_year.items() if v}
    if measure.grid_mwh_saved_per_year:
        activity["grid_mwh"] = activity.get("grid_mwh", 0.0) + float(measure.grid_mwh_saved_per_year)
    if len(stated) == len(CO_BENEFIT_KEYS) or not activity:
        return {k: stated.get(k, 0.0) for k in CO_BENEFIT_KEYS}
    unknown = sorted(set(activity) - set(factors.factors))
    if unknown:
        fld = "grid_mwh_saved_per_year" if unknown == ["grid_mwh"] else "fuel_saved_per_year"
        issues = [
            Issue("no pollutant factor for this activity code", column=f"{measure.code}: {fld}", value=c)
            for c in unknown
        ]
        raise _rejected(f"measure {measure.code}: unknown activity code(s) {', '.join(unknown)}", issues)
    tonnes = pollutants_from_activity(activity, factors).tonnes
    return {f"{p}_t": stated.get(f"{p}_t", tonnes[p]) for p in POLLUTANTS}


@dataclass(frozen=True, eq=False)
class ScenarioCoBenefits:
    """Air pollutants a portfolio avoids, per year [t/yr]."""

    years: np.ndarray
    avoided_t: dict[str, np.ndarray]  # per key of CO_BENEFIT_KEYS
    by_measure_t: dict[str, dict[str, np.ndarray]]  # measure code -> key -> per year
    apeq_t: np.ndarray  # avoided APeq [t/yr, SO2-normalised]


def scenario_co_benefits(
    portfolio: Portfolio, measures: Sequence[Measure], factors: PollutantFactors, *, renew: bool = True
) -> ScenarioCoBenefits:
    """Air pollutants avoided each year by the builds of `portfolio` [t/yr].

    Parameters
    ----------
    portfolio : Portfolio
        From `optimise_portfolio`; its builds (units, build year) are counted as the optimiser counts abatement.
    measures : sequence of Measure
        The candidates given to the optimiser (every built code must be among them).
    factors : PollutantFactors
    renew : bool
        The ``renew_at_end_of_life`` of the portfolio input: True renews units like for like, False ends their
        effect after the lifetime.
    """
    by_code = {m.code: m for m in measures}
    missing = sorted({b.code for b in portfolio.builds} - set(by_code))
    if missing:
        raise _rejected(
            "portfolio builds unknown measure(s)", [Issue("not among the measures", column=c) for c in missing]
        )
    years = np.asarray(portfolio.years, dtype=int)
    per_unit = {c: measure_co_benefits(by_code[c], factors) for c in dict.fromkeys(b.code for b in portfolio.builds)}
    by_measure = {c: {k: np.zeros(years.size) for k in CO_BENEFIT_KEYS} for c in per_unit}
    for b in portfolio.builds:
        share = b.units * operating_fraction(by_code[b.code], years - b.year, renew=renew)
        for k in CO_BENEFIT_KEYS:
            by_measure[b.code][k] += per_unit[b.code][k] * share
    avoided = {k: sum((v[k] for v in by_measure.values()), np.zeros(years.size)) for k in CO_BENEFIT_KEYS}
    apeq = np.asarray(factors.apeq_t({k[:-2]: v for k, v in avoided.items()}), dtype=float) * np.ones(years.size)
    return ScenarioCoBenefits(years, avoided, by_measure, apeq)


# -- co-control --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoControl:
    """How a change cuts air pollutants and carbon together (see the module docstring)."""

    apeq_before_t: float  # [t]
    apeq_reduction_t: float  # [t], > 0 for less
    co2_before_tco2e: float
    co2_reduction_tco2e: float  # > 0 for less
    elasticity: float | None  # Els; None when a base or the CO2 change is 0
    quadrant: str  # one of QUADRANTS
    explanation: str
    voc_reduction_t: float | None = None  # reported beside APeq


def _quadrant(co2_reduction: float, apeq_reduction: float) -> str:
    if co2_reduction > 0:
        return "both reduced" if apeq_reduction > 0 else "carbon only"
    return "pollutants only" if apeq_reduction > 0 else "neither"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.2f} %" if whole > 0 else "n/a (no base)"


def co_control(
    apeq_before_t: float,
    apeq_reduction_t: float,
    co2_before_tco2e: float,
    co2_reduction_tco2e: float,
    *,
    voc_reduction_t: float | None = None,
) -> CoControl:
    """Co-control of a change: APeq and CO2 reductions, their cross-elasticity and quadrant, with the arithmetic.

    Parameters
    ----------
    apeq_before_t, co2_before_tco2e : float
        APeq [t] and CO2 [tCO2e] before the change (the baseline of the year), >= 0.
    apeq_reduction_t, co2_reduction_tco2e : float
        Reductions [t], [tCO2e]; negative for increases.
    voc_reduction_t : float or None
        VOC reduction [t], reported beside APeq.

    Raises
    ------
    ValidationFailed
        A value that is not finite, or a negative base.
    """
    values = {"apeq_before_t": apeq_before_t, "apeq_reduction_t": apeq_reduction_t}
    values |= {"co2_before_tco2e": co2_before_tco2e, "co2_reduction_tco2e": co2_reduction_tco2e}
    bad = [k for k, v in values.items() if not _finite(v) or ("before" in k and v < 0)]
    if bad:
        raise _rejected(
            "co-control rejected", [Issue("must be finite, bases >= 0", column=k, value=str(values[k])) for k in bad]
        )
    quadrant = _quadrant(co2_reduction_tco2e, apeq_reduction_t)
    text = (
        f"APeq {apeq_before_t:,.3f} t, reduced by {apeq_reduction_t:,.3f} t ({_pct(apeq_reduction_t, apeq_before_t)}); "
        f"CO2 {co2_before_tco2e:,.1f} tCO2e, reduced by {co2_reduction_tco2e:,.1f} tCO2e "
        f"({_pct(co2_reduction_tco2e, co2_before_tco2e)})"
    )
    elasticity = None
    if apeq_before_t > 0 and co2_before_tco2e > 0 and co2_reduction_tco2e != 0:
        elasticity = (apeq_reduction_t / apeq_before_t) / (co2_reduction_tco2e / co2_before_tco2e)
        text += f"; Els = {_pct(apeq_reduction_t, apeq_before_t)} / {_pct(co2_reduction_tco2e, co2_before_tco2e)} = {elasticity:.3f}"
    else:
        text += "; Els undefined (a base or the CO2 change is zero)"
    inside = co2_reduction_tco2e != 0 and apeq_reduction_t != 0
    text += f"; {quadrant}" + (f" (quadrant {_ROMAN[quadrant]})" if inside else " (on an axis)")
    if voc_reduction_t is not None:
        text += f"; VOC (not in APeq) reduced by {voc_reduction_t:,.3f} t"
    numbers = (float(v) for v in values.values())
    return CoControl(*numbers, elasticity, quadrant, text, voc_reduction_t)


def baseline_pollutants(baseline: Baseline, factors: PollutantFactors, year: int) -> PollutantResult:
    """Air pollutants of the baseline in `year` [t]: the fuel its tenants burn (`Tenant.fuel_per_unit`) and the
    grid electricity they draw (``grid_mwh``). A tenant that states no fuel contributes its electricity only: the
    result is then a lower bound (its emissions say nothing about what was burnt).

    Raises
    ------
    ValidationFailed
        `year` outside the baseline, or a fuel code without a pollutant factor (named).
    """
    try:
        i = baseline.index(year)
    except ValueError as exc:
        raise _rejected("baseline pollutants rejected", [Issue(str(exc), column="year", value=str(year))]) from None
    activity: dict[str, float] = {}
    for fuels in baseline.fuel.values():
        for code, series in fuels.items():
            activity[code] = activity.get(code, 0.0) + float(series[i])
    grid = sum(float(v[i]) for v in baseline.electricity_mwh.values())
    if grid:
        activity["grid_mwh"] = activity.get("grid_mwh", 0.0) + grid
    return pollutants_from_activity(activity, factors)


def scenario_co_control(
    portfolio: Portfolio, benefits: ScenarioCoBenefits, baseline: PollutantResult, year: int
) -> CoControl:
    """Co-control of a portfolio in `year`: its avoided APeq against the baseline's, its gross CO2 cut against the
    baseline's CO2 (offsets excluded: they avoid no air pollution).

    `baseline` holds the park's air pollutants in that year without measures (`pollutants_from_activity` of the
    activity behind the baseline's CO2).
    """
    where = np.nonzero(np.asarray(portfolio.years) == year)[0]
    if where.size == 0:
        raise _rejected("co-control rejected", [Issue("not a year of the portfolio", column="year", value=str(year))])
    i = int(where[0])
    co2_before = float(portfolio.baseline_tco2e[i])
    co2_cut = co2_before - float(portfolio.emissions_tco2e[i])
    voc = float(benefits.avoided_t["voc_t"][i])
    return co_control(baseline.apeq_t, float(benefits.apeq_t[i]), co2_before, co2_cut, voc_reduction_t=voc)


@dataclass(frozen=True)
class MeasureCoControl:
    """Per-unit co-control view of a measure in one year (money and tonnes per unit and year at full ramp)."""

    code: str
    year: int
    co_benefits_t: dict[str, float]  # [t/yr]
    apeq_t: float  # [t/yr]
    abatement_tco2e: float  # [tCO2e/yr]
    apeq_t_per_tco2e: float | None  # [t APeq / tCO2e]
    annual_cost_cny: float  # CRF x capex + opex - savings [CNY/yr]
    cny_per_t_apeq: float | None  # the whole annual cost over the APeq avoided, as the MACC puts it over CO2
    quadrant: str


def measure_co_control(
    measure: Measure,
    factors: PollutantFactors,
    year: int,
    discount_rate: float,
    *,
    baseline: Baseline | None = None,
    grid_factor_tco2_per_mwh: float | None = None,
) -> MeasureCoControl:
    """APeq per tCO2e and CNY per tonne of APeq of one unit of `measure` in `year`.

    Abatement as in `measures.unit_abatement_tco2e` (needs `baseline` or `grid_factor_tco2_per_mwh` when the
    measure has a share or grid electricity); cost as in the MACC, ``CRF(discount_rate, lifetime) x capex + opex
    - savings``. CNY per t APeq carries the whole cost: it is not an allocation between carbon and air.
    """
    benefits = measure_co_benefits(measure, factors)
    apeq = float(factors.apeq_t({k[:-2]: v for k, v in benefits.items()}))
    tco2e = float(unit_abatement_tco2e(measure, np.array([year]), baseline, grid_factor_tco2_per_mwh)[0])
    crf = capital_recovery_factor(discount_rate, measure.lifetime_years)
    cost = crf * measure.capex_cny + measure.opex_cny_per_year - measure.savings_cny_per_year
    per_tco2e, per_apeq = (apeq / tco2e if tco2e else None), (cost / apeq if apeq > 0 else None)
    return MeasureCoControl(
        measure.code, year, benefits, apeq, tco2e, per_tco2e, cost, per_apeq, _quadrant(tco2e, apeq)
    )


# -- the ledger's activity -------------------------------------------------------------------------------------
def inventory_activity(lines: Sequence[Mapping], scope2_method: str) -> tuple[dict[str, float], list[str]]:
    """The activity of an inventory's lines as pollutant activity codes, and what has no code (by category).

    Fuel burnt is read from the CO2 line of each source and month (its CH4 and N2O lines repeat the same
    activity) through the fuel's factor id (`parkzero.pathway.derive.FUEL_FACTOR_IDS`); grid electricity from the
    Scope 2 electricity lines of `scope2_method` [kWh / 1000 = MWh]. Process, fugitive, heat, steam and Scope 3
    lines have no factor here: their categories are returned, never their sources (a tenant's).
    """
    from parkzero.pathway.derive import FUEL_FACTOR_IDS, activity_unit

    by_factor = {fid: code for code, fid in FUEL_FACTOR_IDS.items()}
    activity: dict[str, float] = {}
    missing: set[str] = set()
    for ln in lines:
        if ln["gas"] != "CO2" and ln["category"] != "electricity":
            continue
        if ln["scope"] == 2 and ln["category"] == "electricity":
            if ln["scope2_method"] == scope2_method and ln["activity_unit"] == "kWh":
                activity["grid_mwh"] = activity.get("grid_mwh", 0.0) + float(ln["activity_amount"]) / 1000.0
            continue
        ids = [f.get("factor_id") for f in (ln.get("trace") or {}).get("factors", [])]
        code = next((by_factor[i] for i in ids if i in by_factor), None)
        if ln["scope"] == 1 and code and ln["activity_unit"] == activity_unit(code):
            activity[code] = activity.get(code, 0.0) + float(ln["activity_amount"])
        else:
            missing.add(f"scope {ln['scope']} {ln['category']}")
    return activity, sorted(missing)


__all__ = [
    "FORMAT",
    "POLLUTANTS",
    "QUADRANTS",
    "CoControl",
    "MeasureCoControl",
    "PollutantFactor",
    "PollutantFactors",
    "PollutantLine",
    "PollutantResult",
    "ScenarioCoBenefits",
    "baseline_pollutants",
    "co_control",
    "inventory_activity",
    "load_pollutant_factors",
    "measure_co_benefits",
    "measure_co_control",
    "pollutants_from_activity",
    "scenario_co_benefits",
    "scenario_co_control",
]
