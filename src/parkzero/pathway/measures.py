"""Abatement measures and the marginal abatement cost curve (MACC).

A measure is something a park or tenant can build or buy (PV blocks, a heat pump, an EAF instead of a blast
furnace, green power, offsets) with its costs, life, ramp-up and the emissions it avoids each year. One unit of a
measure avoids, in year y and at full ramp::

    abatement[y] = abatement_tco2e_per_year + abatement_share x baseline[subject, y]
                   + grid_mwh_saved_per_year x grid_factor[y]          [tCO2e/yr]

so a PV block avoids less as the grid decarbonises, and electrification (negative ``grid_mwh_saved_per_year``)
avoids fuel emissions but adds grid emissions.

MACC (the McKinsey convention)
------------------------------
For each measure, in the year asked::

    CRF(r, n)        = r (1 + r)^n / ((1 + r)^n - 1)                  [1/yr]  (1 / n when r = 0)
    annual cost      = CRF(r, lifetime) x capex + opex - savings      [CNY/yr]
    cost per tonne   = annual cost / abatement                        [CNY/tCO2e]

bars sorted by cost per tonne (cheapest first), each as wide as its abatement (all its units), with the
cumulative abatement at the end of each bar. Like every MACC it adds measures up as if they did not interact
(two measures on the same furnace are counted twice) and ignores exclusive groups and timing: the portfolio
optimiser (`parkzero.pathway.optimise`) handles both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parkzero.energy.sizing import capital_recovery_factor
from parkzero.errors import Issue, ValidationFailed
from parkzero.pathway.baseline import Baseline
from parkzero.pathway.datafile import read_toml

MEASURE_KINDS = (
    "pv",
    "storage",
    "efficiency",
    "waste_heat_recovery",
    "electrification",
    "fuel_switch",
    "eaf_instead_of_bf_bof",
    "hydrogen_dri",
    "green_power_purchase",
    "ccus",
    "offsets",
    "other",
)
OFFSET_KINDS = ("offsets",)  # reduce net emissions only: they never lower the subject's gross emissions
CO_BENEFIT_KEYS = ("so2_t", "nox_t", "pm_t", "voc_t")  # air pollutants avoided per unit and year [t/yr]


@dataclass(frozen=True, kw_only=True)
class Measure:
    """One abatement measure (per unit for repeatable measures).

    Parameters
    ----------
    code : str
        Identifier, unique in a portfolio.
    name : str
        Human-readable name.
    kind : str
        One of `MEASURE_KINDS`; ``"offsets"`` lower net emissions only.
    subject : str or None
        Tenant whose emissions it cuts (a subject of the baseline); None for the park as a whole.
    capex_cny : float
        Investment per unit [CNY], >= 0.
    opex_cny_per_year : float
        Operation and maintenance per unit (or the price of what is bought: green power premium, offsets)
        [CNY/yr], >= 0.
    savings_cny_per_year : float
        Energy and other costs saved per unit at full ramp [CNY/yr], >= 0.
    lifetime_years : float
        Service life [yr], > 0.
    ramp_up_years : int
        Years to full effect: a unit built in year y abates ``min(1, (k + 1) / (ramp_up_years + 1))`` of its full
        abatement in year y + k (0: full from the build year).
    abatement_tco2e_per_year : float
        Fixed emissions avoided per unit at full ramp [tCO2e/yr].
    abatement_share : float
        Share of the subject's baseline emissions avoided per unit at full ramp [-], 0..1.
    grid_mwh_saved_per_year : float
        Grid electricity avoided per unit at full ramp [MWh/yr], valued at each year's grid factor; negative for
        electricity added (electrification).
    earliest_year, latest_year : int
        Years in which a unit may be built.
    exclusive_group : str or None
        Measures of one group cannot coexist (EAF vs H2-DRI for the same furnace); such measures have one unit.
    max_units : int
        Units that may be built (PV blocks), >= 1.
    fuel_saved_per_year : dict of str to float
        Fuel or process activity avoided per unit at full ramp, keyed by an activity code of the pollutant factors
        whose name carries its unit (``natural_gas_m3``, ``coal_t``) [unit/yr]; negative for activity added. The
        co-benefits model (`parkzero.pathway.pollution`) turns it, with ``grid_mwh_saved_per_year``, into air
        pollutants; it does not change the CO2 abatement stated above.
    co_benefits : dict of str to float
        Air pollutants avoided per unit and year at full ramp [t/yr], keys from `CO_BENEFIT_KEYS`, when stated
        directly (measured); empty to have them computed from ``fuel_saved_per_year``.
    source : str
        Where the figures come from.
    assumption : str
        Which figures are illustrative assumptions rather than sourced facts.
    """

    code: str
    name: str
    kind: str
    subject: str | None = None
    capex_cny: float = 0.0
    opex_cny_per_year: float = 0.0
    savings_cny_per_year: float = 0.0
    lifetime_years: float = 25.0
    ramp_up_years: int = 0
    abatement_tco2e_per_year: float = 0.0
    abatement_share: float = 0.0
    grid_mwh_saved_per_year: float = 0.0
    earliest_year: int = 2025
    latest_year: int = 2060
    exclusive_group: str | None = None
    max_units: int = 1
    fuel_saved_per_year: dict[str, float] = field(default_factory=dict)
    co_benefits: dict[str, float] = field(default_factory=dict)
    source: str = ""
    assumption: str = ""

    @property
    def is_offset(self) -> bool:
        """True for measures that lower net emissions only."""
        return self.kind in OFFSET_KINDS


@dataclass(frozen=True)
class MaccRow:
    """One bar of a marginal abatement cost curve (all units of the measure); money per year [CNY/yr]."""

    code: str
    name: str
    kind: str
    subject: str | None
    exclusive_group: str | None
    units: int
    crf: float  # [1/yr]
    annualised_capex_cny: float
    opex_cny: float
    savings_cny: float
    annual_cost_cny: float
    abatement_tco2e: float  # bar width [tCO2e/yr]
    cost_cny_per_tco2e: float  # bar height
    cumulative_tco2e: float  # right end of the bar [tCO2e/yr]

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# -- checks ------------------------------------------------------------------------------------------
def _issue(code: str, fld: str, reason: str, value: Any = None) -> Issue:
    return Issue(reason, column=f"{code}: {fld}", value=None if value is None else str(value))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def measure_issues(measures: Sequence[Measure]) -> list[Issue]:
    """Everything wrong with `measures`, each issue naming the measure code and the field."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for m in measures:
        code = m.code or "(no code)"
        if not m.code or m.code in seen:
            issues.append(_issue(code, "code", "must be a unique, non-empty code"))
        seen.add(m.code)
        if m.kind not in MEASURE_KINDS:
            issues.append(_issue(code, "kind", f"unknown kind; one of {', '.join(MEASURE_KINDS)}", m.kind))
        for name in ("capex_cny", "opex_cny_per_year", "savings_cny_per_year"):
            value = getattr(m, name)
            if not _finite(value) or value < 0:
                issues.append(_issue(code, name, "must be a finite number >= 0", value))
        if not _finite(m.lifetime_years) or m.lifetime_years <= 0:
            issues.append(_issue(code, "lifetime_years", "must be a finite number of years > 0", m.lifetime_years))
        if not isinstance(m.ramp_up_years, int) or m.ramp_up_years < 0:
            issues.append(_issue(code, "ramp_up_years", "must be a whole number of years >= 0", m.ramp_up_years))
        for name in ("abatement_tco2e_per_year", "grid_mwh_saved_per_year"):
            if not _finite(getattr(m, name)):
                issues.append(_issue(code, name, "must be a finite number", getattr(m, name)))
        if not _finite(m.abatement_share) or not 0 <= m.abatement_share * max(1, m.max_units) <= 1:
            issues.append(
                _issue(code, "abatement_share", "all units together must avoid a share 0..1", m.abatement_share)
            )
        if all(
            _finite(getattr(m, n)) for n in ("abatement_tco2e_per_year", "abatement_share", "grid_mwh_saved_per_year")
        ):
            if m.abatement_tco2e_per_year == 0 and m.abatement_share == 0 and m.grid_mwh_saved_per_year == 0:
                issues.append(_issue(code, "abatement_tco2e_per_year", "the measure abates nothing", 0))
            elif m.abatement_tco2e_per_year < 0 and m.abatement_share <= 0 and m.grid_mwh_saved_per_year <= 0:
                issues.append(_issue(code, "abatement_tco2e_per_year", "the measure only adds emissions"))
        if not isinstance(m.earliest_year, int) or not isinstance(m.latest_year, int):
            issues.append(_issue(code, "earliest_year", "years must be whole numbers"))
        elif m.earliest_year > m.latest_year:
            issues.append(_issue(code, "earliest_year", f"is after latest_year {m.latest_year}", m.earliest_year))
        if not isinstance(m.max_units, int) or m.max_units < 1:
            issues.append(_issue(code, "max_units", "must be a whole number >= 1", m.max_units))
        if m.exclusive_group is not None:
            if m.max_units != 1:
                issues.append(_issue(code, "max_units", "a measure in an exclusive group has one unit", m.max_units))
        for name, table in (("fuel_saved_per_year", m.fuel_saved_per_year), ("co_benefits", m.co_benefits)):
            if not isinstance(table, dict) or not all(isinstance(k, str) and _finite(v) for k, v in table.items()):
                issues.append(_issue(code, name, "must map names to finite numbers", table))
        unknown = sorted(set(m.co_benefits) - set(CO_BENEFIT_KEYS))
        if unknown:
            issues.append(_issue(code, "co_benefits", f"unknown key(s); use {', '.join(CO_BENEFIT_KEYS)}", unknown))
    return issues


def validate_measures(measures: Sequence[Measure]) -> None:
    """Raise ValidationFailed naming every bad measure and field (see `measure_issues`)."""
    issues = measure_issues(measures)
    if issues:
        raise ValidationFailed(f"{len(issues)} problem(s) in the measures: {_names(issues)}", issues=issues)


def _names(issues: list[Issue]) -> str:
    return ", ".join(dict.fromkeys(i.column or "" for i in issues))


# -- physics of one unit -----------------------------------------------------------------------------
def unit_abatement_tco2e(
    measure: Measure,
    years: np.ndarray,
    baseline: Baseline | None = None,
    grid_factor_tco2_per_mwh: float | np.ndarray | None = None,
) -> np.ndarray:
    """Emissions one unit avoids per year at full ramp [tCO2e/yr] (the formula of the module docstring).

    Parameters
    ----------
    measure : Measure
    years : numpy.ndarray
        The years asked.
    baseline : Baseline or None
        Gives the subject's emissions (for ``abatement_share``; the park total for a park-wide measure) and the
        grid factor per year.
    grid_factor_tco2_per_mwh : float or numpy.ndarray or None
        Grid factor [tCO2/MWh] per year asked; overrides the baseline's.

    Raises
    ------
    ValidationFailed
        When the measure needs a baseline or grid factor that is not given, or names an unknown subject.
    """
    years = np.asarray(years, dtype=int)
    out = np.full(years.size, float(measure.abatement_tco2e_per_year))
    if measure.abatement_share:
        if baseline is None:
            raise ValidationFailed(
                f"measure {measure.code}: abatement_share needs a baseline",
                issues=[_issue(measure.code, "abatement_share", "is a share of baseline emissions: give a baseline")],
            )
        if measure.subject is None or measure.subject == baseline.park_code:
            series = baseline.total_tco2e
        elif measure.subject in baseline.emissions_tco2e:
            series = np.asarray(baseline.emissions_tco2e[measure.subject], dtype=float)
        else:
            raise ValidationFailed(
                f"measure {measure.code}: unknown subject {measure.subject}",
                issues=[_issue(measure.code, "subject", "is not a subject of the baseline", measure.subject)],
            )
        out += measure.abatement_share * series[[baseline.index(y) for y in years]]
    if measure.grid_mwh_saved_per_year:
        factor = grid_factor_tco2_per_mwh
        if factor is None and baseline is not None and baseline.grid_factor_tco2_per_mwh is not None:
            factor = np.asarray(baseline.grid_factor_tco2_per_mwh)[[baseline.index(y) for y in years]]
        if factor is None:
            raise ValidationFailed(
                f"measure {measure.code}: grid_mwh_saved_per_year needs a grid factor",
                issues=[_issue(measure.code, "grid_mwh_saved_per_year", "give a baseline with a grid factor")],
            )
        out += measure.grid_mwh_saved_per_year * np.broadcast_to(np.asarray(factor, dtype=float), years.shape)
    return out


def operating_fraction(measure: Measure, years_since_build: np.ndarray, *, renew: bool = True) -> np.ndarray:
    """Share of full abatement a unit gives ``k`` years after the year it was built [-].

    ``min(1, (k + 1) / (ramp_up_years + 1))`` for ``k >= 0`` (0 before the build); without renewal also times
    the share of year k still within the lifetime, ``clip(lifetime - k, 0, 1)``.
    """
    k = np.asarray(years_since_build, dtype=float)
    f = np.where(k >= 0, np.minimum(1.0, (k + 1.0) / (measure.ramp_up_years + 1.0)), 0.0)
    if not renew:
        f = f * np.clip(measure.lifetime_years - k, 0.0, 1.0)
    return f


# -- MACC --------------------------------------------------------------------------------------------
def macc(
    measures: Sequence[Measure],
    discount_rate: float,
    year: int,
    *,
    baseline: Baseline | None = None,
    grid_factor_tco2_per_mwh: float | None = None,
) -> list[MaccRow]:
    """Marginal abatement cost curve of `measures` in `year` (see the module docstring).

    Parameters
    ----------
    measures : sequence of Measure
    discount_rate : float
        Real discount rate r for the capital recovery factor [1/yr] (0.06 for 6 %).
    year : int
        Year whose abatement (grid factor, baseline share) the bars use.
    baseline : Baseline or None
        For measures that cut a share of a subject's emissions or save grid electricity.
    grid_factor_tco2_per_mwh : float or None
        Grid factor [tCO2/MWh] in `year`; overrides the baseline's.

    Returns
    -------
    list of MaccRow
        Sorted by cost per tonne (then code), with cumulative abatement [tCO2e/yr].

    Raises
    ------
    ValidationFailed
        A bad measure (naming it and the field), a measure that avoids nothing in `year`, or a bad discount rate.
    """
    issues = measure_issues(measures)
    if not _finite(discount_rate) or not -0.5 < discount_rate < 1:
        issues.append(Issue("is a fraction per year (0.06 for 6 %)", column="macc: discount_rate"))
    if issues:
        raise ValidationFailed(f"MACC rejected: {_names(issues)}", issues=issues)
    rows = []
    for m in measures:
        abatement = float(unit_abatement_tco2e(m, np.array([year]), baseline, grid_factor_tco2_per_mwh)[0])
        if abatement <= 0:
            issues.append(_issue(m.code, "abatement_tco2e_per_year", f"avoids {abatement:g} tCO2e in {year}: no bar"))
            continue
        crf = capital_recovery_factor(discount_rate, m.lifetime_years)
        units = m.max_units
        capex, opex, savings = crf * m.capex_cny * units, m.opex_cny_per_year * units, m.savings_cny_per_year * units
        cost = capex + opex - savings
        width = abatement * units
        rows.append((cost / width, m, units, crf, capex, opex, savings, cost, width))
    if issues:
        raise ValidationFailed(f"MACC rejected: {_names(issues)}", issues=issues)
    rows.sort(key=lambda r: (r[0], r[1].code))
    out, cumulative = [], 0.0
    for per_t, m, units, crf, capex, opex, savings, cost, width in rows:
        cumulative += width
        out.append(
            MaccRow(
                m.code,
                m.name,
                m.kind,
                m.subject,
                m.exclusive_group,
                units,
                crf,
                capex,
                opex,
                savings,
                cost,
                width,
                per_t,
                cumulative,
            )
        )
    return out


# -- library -----------------------------------------------------------------------------------------
def load_measures(path: str | Path | None = None) -> list[Measure]:
    """Read measures from a TOML file with one ``[[measure]]`` table per measure.

    Parameters
    ----------
    path : str or pathlib.Path or None
        The file; None reads the library `parkzero/pathway/data/measures.toml` (illustrative figures: read each
        measure's ``assumption``).

    Raises
    ------
    ValidationFailed
        Not TOML, unknown fields, or any bad measure (naming its code and the field); nothing is returned then.
    """
    where, doc = read_toml(path, "measures.toml")
    raw = doc.get("measure")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(f"{where}: no [[measure]] tables found")
    fields = set(Measure.__dataclass_fields__)
    issues, measures = [], []
    for entry in raw:
        unknown = sorted(set(entry) - fields)
        missing = [k for k in ("code", "name", "kind") if k not in entry]
        if unknown or missing:
            code = str(entry.get("code", "(no code)"))
            issues.append(_issue(code, ", ".join(unknown + missing), "unknown field(s)" if unknown else "missing"))
            continue
        measures.append(Measure(**entry))
    issues += measure_issues(measures)
    if issues:
        raise ValidationFailed(f"{where}: {len(issues)} problem(s) in the measures; none was loaded", issues=issues)
    return measures


__all__ = [
    "CO_BENEFIT_KEYS",
    "MEASURE_KINDS",
    "OFFSET_KINDS",
    "MaccRow",
    "Measure",
    "load_measures",
    "macc",
    "measure_issues",
    "operating_fraction",
    "unit_abatement_tco2e",
    "validate_measures",
]
