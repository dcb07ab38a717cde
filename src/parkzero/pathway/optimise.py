"""The portfolio MILP: which measures to build, and when, to meet the targets at least discounted cost.

A multi-year investment model in the manner of TIMES / OSeMOSYS and PyPSA's multi-investment-period capacity
expansion, written with linopy and solved with HiGHS (quietly, through `parkzero.energy.lp`).

Model (years t of the baseline, measures m, subjects s; one unit = one build of a measure)
------------------------------------------------------------------------------------------
Decision: ``built[m, t]`` = units of m built in or before year t (integer, 0 .. max_units; binary for one-unit
measures), defined for t in [earliest, latest] of m and held at ``built[m, latest]`` afterwards:
``built[m, t] >= built[m, t-1]``. Cumulative "built by" variables rather than per-year builds: the same
solutions, but a year's abatement then needs only the few terms of the ramp per measure, not one per earlier
build year (about 5 instead of up to 36 terms per measure and row).

- abatement of m in year t: ``a[m, t] x sum_j f[m, t - j] x (built[m, j] - built[m, j-1])``, with ``a`` one unit's
  full-ramp abatement (`measures.unit_abatement_tco2e`) and ``f`` the ramp (`measures.operating_fraction`),
  rewritten on ``built`` so that a row holds about ramp_up_years + 2 terms per measure (precomputed, vectorised);
- gross emissions per subject ``E[s, t] = baseline[s, t] - sum_{m of s, not offsets} abatement[m, t] >= 0``; the
  park's ``E[t] = sum_s E[s, t] - park-wide measures >= 0``; net ``N[t] = E[t] - offset measures - bought
  offsets[t]`` (may go below zero);
- targets (on the park, or on a subject of the baseline when the target names it): cap ``E[ty] <= value``;
  intensity ``E[ty] <= (1 - value/100) x E0[by] / activity[by] x activity[ty]`` (E0 the baseline);
  neutrality ``N[t] <= 0`` for every t >= ty; peak ``E[t+1] <= E[t]`` for every t >= ty. Each row has a
  shortfall variable priced far above any measure (see `_penalty`), so one solve both plans and, when a target
  cannot be met, says which and by how much; a plan with a shortfall is re-solved once with the shortfalls
  fixed at zero to confirm it is real. Non-fossil share and energy intensity targets need an energy model and
  are reported as not modelled;
- at most one measure of each exclusive group: ``sum_{m in g} built[m, latest_m] <= 1``;
- optional budgets on the initial capex: per year ``sum_m capex[m] x (built[m, t] - built[m, t-1]) <= budget[t]``
  and in total ``sum_m capex[m] x built[m, latest_m] <= total``.

Objective [CNY, discounted to the start of the base year]: for each unit built in year j,
``sum_{t >= j} DF[t] x (CRF x capex + opex - savings x f[t - j])`` (annualised capex paid each year in use within
the horizon, as PyPSA does, so a late build is not charged for years after the horizon), plus bought offsets at
their price, plus an optional carbon price on gross emissions. A year's flows fall at its end,
``DF[t] = (1 + r)^-(t - base_year + 1)``, so the annuities of one life are worth the capex at the start of the
build year: ``CRF x sum_{k=1..n} (1 + r)^-k = 1``.

Renewal: a unit is renewed like for like at the end of its life (its annuity and abatement go on to the end of
the horizon); ``renew_at_end_of_life=False`` ends both after the lifetime instead.

Limits (stated so that a reader can disagree): measures add up (two measures on one tenant are not made to
interact, beyond the floor ``E[s, t] >= 0``); costs are real and constant over time (no learning curves); gross
emissions carry the cap, peak and intensity targets, offsets only neutrality.

Solve time (`bench/pathway.py`, 2-core machine): 200 measures over 2025-2060 give about 3,900 columns and 3,600
rows; building takes about 0.3 s and HiGHS proves a 1e-4 relative gap in about 1-2 s (up to 6 s over six other
seeds of the generated measures). A target that cannot be met is slower to diagnose (tens of seconds on the
20-measure case tried), because the least shortfall must be proven, not only a plan found.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import linopy
import numpy as np
import pandas as pd
import xarray as xr

from parkzero.energy.lp import CompiledModel
from parkzero.energy.sizing import capital_recovery_factor
from parkzero.errors import Issue, ValidationFailed
from parkzero.pathway.baseline import Baseline, step_series
from parkzero.pathway.measures import Measure, measure_issues, operating_fraction, unit_abatement_tco2e
from parkzero.pathway.targets import Target, validate_target

MODELLED_KINDS = ("absolute_peak", "neutral", "absolute_cap", "intensity_reduction")
MIP_REL_GAP = 1e-4  # [-] relative MIP gap the solver proves
_TOL = 1e-6  # [-] shortfalls below this share of the baseline peak count as met
_ZERO = 1e-7


@dataclass(frozen=True, kw_only=True, eq=False)
class PortfolioInput:
    """Everything the portfolio optimiser needs.

    Parameters
    ----------
    baseline : Baseline
        Emissions without measures per subject and year (its years are the horizon).
    measures : sequence of Measure
        The candidates.
    targets : sequence of Target
        The targets to meet; subjects that are not subjects of the baseline mean the park as a whole. Target years
        before the baseline's first year are rejected (`targets.validate_target` with that year as today).
    discount_rate : float
        Real discount rate [1/yr] (0.06 for 6 %).
    base_year : int or None
        Year costs are discounted to; None for the first year of the baseline.
    carbon_price_cny_per_tco2e : float or mapping of int to float
        Price on gross emissions [CNY/tCO2e] (a mapping gives the price from each year on).
    offset_price_cny_per_tco2e : float or None
        Price of bought offsets [CNY/tCO2e], a continuous purchase each year that lowers net emissions only;
        None for no bought offsets.
    offset_limit_tco2e_per_year : float
        Most offsets bought in a year [tCO2e/yr].
    annual_budget_cny : float or mapping of int to float or None
        Cap on the initial capex of the units built in a year [CNY/yr]; renewals are not counted.
    total_budget_cny : float or None
        Cap on the initial capex of all units built [CNY] (undiscounted).
    renew_at_end_of_life : bool
        Units renewed like for like at the end of their life (True), or gone after it (False).
    """

    baseline: Baseline
    measures: Sequence[Measure]
    targets: Sequence[Target]
    discount_rate: float = 0.06
    base_year: int | None = None
    carbon_price_cny_per_tco2e: float | Mapping[int, float] = 0.0
    offset_price_cny_per_tco2e: float | None = None
    offset_limit_tco2e_per_year: float = math.inf
    annual_budget_cny: float | Mapping[int, float] | None = None
    total_budget_cny: float | None = None
    renew_at_end_of_life: bool = True


@dataclass(frozen=True)
class Build:
    """Units of one measure built in one year, with what they cost and avoid."""

    code: str
    name: str
    kind: str
    subject: str | None
    year: int
    units: int
    capex_cny: float  # initial investment of these units [CNY]
    discounted_cost_cny: float  # annuities + opex - savings over the horizon, discounted [CNY]
    discounted_abatement_tco2e: float  # abatement over the horizon, discounted at the same rate [tCO2e]
    levelised_cost_cny_per_tco2e: float  # the two above divided [CNY/tCO2e]


@dataclass(frozen=True)
class TargetOutcome:
    """How the plan stands against one target."""

    code: str
    kind: str
    applied_to: str  # the subject whose emissions the target bounds, or the park code
    modelled: bool
    met: bool | None  # None when not modelled
    shortfall_tco2e: float  # largest shortfall over the target's years (0 when met)
    shortfall_year: int | None
    shadow_price_cny_per_tco2e: float | None  # LP relaxation, discounted to the base year; see Portfolio
    note: str = ""


@dataclass(frozen=True, eq=False)
class Portfolio:
    """The chosen measures and the pathway they give.

    ``shadow_price_cny_per_tco2e`` of a target is the dual of its rows in the LP relaxation (integrality
    dropped, one extra LP solve): what one more tonne of tightening would cost at the margin, in CNY discounted
    to the base year, summed over the target's years. It is a guide, not the MILP's exact marginal cost.
    """

    status: str
    mip_gap: float  # relative gap proven [-]
    objective_cny: float
    solve_s: float
    years: np.ndarray
    builds: list[Build]
    baseline_tco2e: np.ndarray
    emissions_tco2e: np.ndarray  # gross, per year
    net_tco2e: np.ndarray  # after offsets
    offsets_tco2e: np.ndarray  # offset measures + bought offsets
    bought_offsets_tco2e: np.ndarray
    subject_emissions_tco2e: dict[str, np.ndarray]
    abatement_tco2e: dict[str, np.ndarray]  # per chosen measure and year
    peak_year: int
    neutral_year: int | None  # first year from which net emissions stay <= 0; None if never
    gap_to_neutrality_tco2e: float  # net emissions left in the last year (0 when neutral)
    residual_tco2e: float  # gross emissions in the last year
    discounted_cost_cny: float  # measures + bought offsets (carbon price and penalties excluded)
    cost_breakdown_cny: dict[str, float]
    targets: list[TargetOutcome] = field(default_factory=list)

    def as_dict(self) -> dict:
        years = [int(y) for y in self.years]

        def series(a: np.ndarray) -> dict[int, float]:
            return dict(zip(years, np.round(np.asarray(a, dtype=float), 3).tolist(), strict=True))

        return {
            "status": self.status,
            "mip_gap": self.mip_gap,
            "objective_cny": self.objective_cny,
            "solve_s": self.solve_s,
            "builds": [b.__dict__ for b in self.builds],
            "baseline_tco2e": series(self.baseline_tco2e),
            "emissions_tco2e": series(self.emissions_tco2e),
            "net_tco2e": series(self.net_tco2e),
            "offsets_tco2e": series(self.offsets_tco2e),
            "peak_year": self.peak_year,
            "neutral_year": self.neutral_year,
            "gap_to_neutrality_tco2e": self.gap_to_neutrality_tco2e,
            "residual_tco2e": self.residual_tco2e,
            "discounted_cost_cny": self.discounted_cost_cny,
            "cost_breakdown_cny": self.cost_breakdown_cny,
            "targets": [t.__dict__ for t in self.targets],
        }


# -- preparing the numbers ----------------------------------------------------------------------------
@dataclass(eq=False)
class _Data:
    inp: PortfolioInput
    years: np.ndarray  # (T,)
    subjects: list[str]
    measures: list[Measure]
    first: np.ndarray  # (M,) index of the first / last build year
    last: np.ndarray
    units: np.ndarray  # (M,) max units
    weight: np.ndarray  # (M, T, T) [m, t, j]: abatement in year t per unit of built[m, j]
    per_unit: np.ndarray  # (M, T) abatement one unit built in year j gives over the horizon, discounted
    cost: np.ndarray  # (M, T) [m, j]: discounted cost of one unit built in year j [CNY]
    capex_part: np.ndarray  # (M, T) the annuities in it
    opex_part: np.ndarray
    savings_part: np.ndarray
    discount: np.ndarray  # (T,) discount factor
    carbon_price: np.ndarray  # (T,)
    group: np.ndarray  # (M,) subject index, len(subjects) for park-wide
    offset: np.ndarray  # (M,) bool
    targets: list[Target]
    skipped: list[TargetOutcome]


def _issue(code: str, fld: str, reason: str, value=None) -> Issue:
    return Issue(reason, column=f"{code}: {fld}", value=None if value is None else str(value))


def _prepare(inp: PortfolioInput) -> _Data:
    b = inp.baseline
    years = b.years
    T, y0, y1 = years.size, int(years[0]), int(years[-1])
    subjects = b.subjects
    measures = list(inp.measures)
    issues = measure_issues(measures)
    if b.park_code in subjects:
        issues.append(_issue("baseline", "park_code", "must differ from every subject code", b.park_code))
    r = inp.discount_rate
    if not isinstance(r, int | float) or not -0.5 < r < 1:
        issues.append(_issue("portfolio", "discount_rate", "is a fraction per year (0.06 for 6 %)", r))
    for m in measures:
        if m.subject is not None and m.subject != b.park_code and m.subject not in subjects:
            issues.append(_issue(m.code, "subject", "is not a subject of the baseline", m.subject))
        if isinstance(m.earliest_year, int) and isinstance(m.latest_year, int):
            if m.earliest_year > y1 or m.latest_year < y0:
                issues.append(_issue(m.code, "earliest_year", f"cannot be built within {y0}-{y1}"))
    targets, skipped = [], []
    for t in inp.targets:
        try:
            validate_target(t, y0)
        except ValidationFailed as exc:
            issues += exc.issues
            continue
        applied = t.subject if t.subject in subjects else b.park_code
        if t.kind not in MODELLED_KINDS:
            note = "needs an energy model: not modelled by the portfolio optimiser"
            skipped.append(TargetOutcome(t.code, t.kind, applied, False, None, 0.0, None, None, note))
            continue
        if t.target_year > y1:
            issues.append(_issue(t.code, "target_year", f"is after the baseline's last year {y1}", t.target_year))
        if t.kind == "intensity_reduction":
            act = b.activity.get(t.subject) if t.subject in subjects else b.park_activity
            if t.base_year is None or not y0 <= t.base_year <= y1:
                issues.append(_issue(t.code, "base_year", f"must lie within the baseline {y0}-{y1}", t.base_year))
            elif act is None or float(np.asarray(act)[t.base_year - y0]) <= 0:
                issues.append(_issue(t.code, "subject", "has no activity in the base year for an intensity target"))
        targets.append(t)
    if issues:
        raise ValidationFailed(f"portfolio input rejected: {_names(issues)}", issues=issues)

    base_year = y0 if inp.base_year is None else int(inp.base_year)
    discount = (1.0 + r) ** -(years - base_year + 1).astype(float)  # each year's flows at its end
    carbon = step_series(inp.carbon_price_cny_per_tco2e, years)
    M = len(measures)
    first = np.array([max(m.earliest_year, y0) - y0 for m in measures], dtype=int)
    last = np.array([min(m.latest_year, y1) - y0 for m in measures], dtype=int)
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]  # [t, j] = t - j
    weight = np.zeros((M, T, T))
    parts = np.zeros((3, M, T))
    per_unit = np.zeros((M, T))
    renew = inp.renew_at_end_of_life
    for i, m in enumerate(measures):
        a = unit_abatement_tco2e(m, years, b)  # (T,)
        f = operating_fraction(m, lag, renew=renew)  # [t, j]
        delta = f - operating_fraction(m, lag - 1, renew=renew)
        w = a[:, None] * delta
        w[:, last[i]] = a * f[:, last[i]]
        w[:, : first[i]] = 0.0
        w[:, last[i] + 1 :] = 0.0
        weight[i] = w
        paying = (lag >= 0) * (1.0 if renew else np.clip(m.lifetime_years - lag, 0.0, 1.0))
        annuity = capital_recovery_factor(r, m.lifetime_years) * m.capex_cny
        parts[0, i] = discount @ (annuity * paying)
        parts[1, i] = discount @ (m.opex_cny_per_year * paying)
        parts[2, i] = discount @ (m.savings_cny_per_year * f)
        per_unit[i] = discount @ (a[:, None] * f)
    cost = parts[0] + parts[1] - parts[2]
    group = np.array([subjects.index(m.subject) if m.subject in subjects else len(subjects) for m in measures])
    offset = np.array([m.is_offset for m in measures], dtype=bool)
    return _Data(
        inp=inp, years=years, subjects=subjects, measures=measures, first=first, last=last,
        units=np.array([m.max_units for m in measures], dtype=int), weight=weight, per_unit=per_unit, cost=cost,
        capex_part=parts[0], opex_part=parts[1], savings_part=parts[2], discount=discount, carbon_price=carbon,
        group=group.astype(int), offset=offset, targets=targets, skipped=skipped,
    )  # fmt: skip


def _names(issues: list[Issue]) -> str:
    return ", ".join(dict.fromkeys(i.column or "" for i in issues))


# -- the model ------------------------------------------------------------------------------------------
def _expr(model: linopy.Model, labels: np.ndarray, coeffs: np.ndarray, coords: Sequence[pd.Index]):
    """A linear expression from term arrays shaped ``(*coords, terms)`` (label -1 = no term)."""
    dims = [c.name for c in coords] + ["_term"]
    data = xr.Dataset(
        {"coeffs": (dims, np.asarray(coeffs, dtype=float)), "vars": (dims, np.asarray(labels, dtype=np.int64))},
        coords={c.name: c for c in coords},
    )
    return linopy.LinearExpression(data, model)


def _pack(rows: np.ndarray, labels: np.ndarray, coeffs: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Scatter terms (row, label, coeff) into padded ``(n_rows, terms)`` arrays."""
    order = np.argsort(rows, kind="stable")
    rows, labels, coeffs = rows[order], labels[order], coeffs[order]
    counts = np.bincount(rows, minlength=n_rows)
    width = max(1, int(counts.max(initial=0)))
    pos = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    out_l = np.full((n_rows, width), -1, dtype=np.int64)
    out_c = np.zeros((n_rows, width))
    out_l[rows, pos] = labels
    out_c[rows, pos] = coeffs
    return out_l, out_c


def _cat(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate term arrays along the term axis (broadcasting the leading axes)."""
    shape = np.broadcast_shapes(*(p[0].shape[:-1] for p in parts))
    labels = [np.broadcast_to(p[0], (*shape, p[0].shape[-1])) for p in parts]
    coeffs = [np.broadcast_to(p[1], (*shape, p[1].shape[-1])) for p in parts]
    return np.concatenate(labels, axis=-1), np.concatenate(coeffs, axis=-1)


def _penalty(d: _Data) -> float:
    """Price of a tonne of shortfall [CNY/tCO2e]: missing a target by 1e-4 of the baseline peak costs more than
    building every unit at its dearest, so a target is missed only when nothing can meet it (a smaller miss that
    the solver might prefer is caught by the confirming re-solve)."""
    scale = max(1.0, float(d.inp.baseline.total_tco2e.max()))
    every_unit = float((np.abs(d.cost).max(axis=1, initial=0.0) * d.units).sum())
    dearest = max(float(d.inp.offset_price_cny_per_tco2e or 0.0), float(d.carbon_price.max(initial=0.0)), 1.0)
    return max(every_unit / (1e-4 * scale), 100.0 * dearest)


class _Milp:
    """The linopy model of one portfolio; term arrays are built in numpy and handed to linopy whole."""

    def __init__(self, d: _Data):
        self.d = d
        T, M = d.years.size, len(d.measures)
        m = self.m = linopy.Model()
        self.year = pd.Index(d.years, name="year")
        self.measure = pd.Index([x.code for x in d.measures], name="measure")
        self.subject = pd.Index(d.subjects, name="subject")
        j = np.arange(T)
        self.inside = (j[None, :] >= d.first[:, None]) & (j[None, :] <= d.last[:, None])  # (M, T) build window
        self.later = self.inside & (j[None, :] > d.first[:, None])  # rows that compare with the year before
        self.built = m.add_variables(
            lower=0,
            upper=xr.DataArray(
                np.broadcast_to(d.units[:, None], (M, T)).astype(float), coords=[self.measure, self.year]
            ),
            mask=xr.DataArray(self.inside, coords=[self.measure, self.year]),
            integer=True,
            name="built",
        )
        self.e_sub = m.add_variables(lower=0, coords=[self.subject, self.year], name="emissions_subject_tco2e")
        self.e = m.add_variables(lower=0, coords=[self.year], name="emissions_tco2e")
        self.net = m.add_variables(coords=[self.year], name="net_tco2e")
        self.bought = None
        if d.inp.offset_price_cny_per_tco2e is not None:
            limit = float(d.inp.offset_limit_tco2e_per_year)
            self.bought = m.add_variables(lower=0, upper=limit, coords=[self.year], name="bought_offsets_tco2e")
        self.bl = self.built.labels.values  # (M, T), -1 outside the window
        self.prev = np.concatenate([np.full((M, 1), -1), self.bl[:, :-1]], axis=1)  # built[m, t-1]
        self.objective: list[tuple[np.ndarray, np.ndarray]] = []  # (labels, coefficients)
        self._order()
        self._balances()
        self._exclusive()
        self._budgets()
        self.penalty = _penalty(d)
        self.target_rows: list[tuple[Target, str, str, np.ndarray]] = []  # target, row and shortfall names, years
        for n, t in enumerate(d.targets):
            self._target(n, t)
        self._objective()

    def _order(self) -> None:
        """built[m, t] >= built[m, t-1] within the build window."""
        if not self.later.any():
            return
        lab = np.stack([np.where(self.later, self.bl, -1), np.where(self.later, self.prev, -1)], axis=-1)
        coords = [self.measure, self.year]
        expr = _expr(self.m, lab, np.broadcast_to([1.0, -1.0], lab.shape), coords)
        self.m.add_constraints(expr, ">=", 0.0, name="built_monotone", mask=xr.DataArray(self.later, coords=coords))

    def _balances(self) -> None:
        """Subject, park and net emissions from the baseline and the abatement terms."""
        d, m, T, S = self.d, self.m, self.d.years.size, len(self.d.subjects)
        mi, ti, ji = np.nonzero(d.weight)  # abatement of m in year t per unit of built[m, j]
        coef, lab, g = d.weight[mi, ti, ji], self.bl[mi, ji], d.group[mi]
        phys, off = ~d.offset[mi], d.offset[mi]
        # rows (group, year): groups 0..S-1 the subjects, S the park-wide measures
        self.ab_phys = [a.reshape(S + 1, T, -1) for a in _pack((g * T + ti)[phys], lab[phys], coef[phys], (S + 1) * T)]
        self.ab_off = [a.reshape(S + 1, T, -1) for a in _pack((g * T + ti)[off], lab[off], coef[off], (S + 1) * T)]
        one = np.ones((1, 1))
        # E[s, t] + abatement of s's measures = baseline[s, t]
        base = np.array([np.asarray(d.inp.baseline.emissions_tco2e[s], dtype=float) for s in d.subjects])
        self.base = base.reshape(S, T)
        lab, cf = _cat(
            (self.e_sub.labels.values[..., None], np.ones((S, T, 1))), (self.ab_phys[0][:S], self.ab_phys[1][:S])
        )
        coords = [self.subject, self.year]
        m.add_constraints(
            _expr(m, lab, cf, coords), "=", xr.DataArray(self.base, coords=coords), name="subject_balance"
        )
        # E[t] - sum_s E[s, t] + park-wide abatement = 0
        lab, cf = _cat(
            (self.e.labels.values[:, None], one),
            (self.e_sub.labels.values.T, -np.ones((T, S))),
            (self.ab_phys[0][S], self.ab_phys[1][S]),
        )
        m.add_constraints(_expr(m, lab, cf, [self.year]), "=", 0.0, name="park_balance")
        # N[t] - E[t] + offset measures + bought offsets = 0
        parts = [(self.net.labels.values[:, None], one), (self.e.labels.values[:, None], -one)]
        parts.append(_pack(ti[off], self.bl[mi, ji][off], coef[off], T))
        if self.bought is not None:
            parts.append((self.bought.labels.values[:, None], one))
        lab, cf = _cat(*parts)
        m.add_constraints(_expr(m, lab, cf, [self.year]), "=", 0.0, name="net_balance")

    def _exclusive(self) -> None:
        """At most one measure of each exclusive group, counted by its last build year."""
        d, groups = self.d, {}
        for i, x in enumerate(d.measures):
            if x.exclusive_group is not None:
                groups.setdefault(x.exclusive_group, []).append(i)
        groups = {k: v for k, v in groups.items() if len(v) > 1}
        if not groups:
            return
        rows = np.concatenate([[n] * len(v) for n, v in enumerate(groups.values())])
        labels = np.concatenate([self.bl[v, d.last[v]] for v in groups.values()])
        lab, cf = _pack(rows, labels, np.ones(labels.size), len(groups))
        expr = _expr(self.m, lab, cf, [pd.Index(list(groups), name="exclusive_group")])
        self.m.add_constraints(expr, "<=", 1.0, name="exclusive")

    def _budgets(self) -> None:
        """Initial capex of the units built in a year, and of all units built."""
        d, inp, M, T = self.d, self.d.inp, len(self.d.measures), self.d.years.size
        capex = np.broadcast_to(np.array([x.capex_cny for x in d.measures])[:, None], (M, T))
        if inp.annual_budget_cny is not None:  # capex x (built[m, t] - built[m, t-1])
            rows = np.concatenate([np.nonzero(self.inside)[1], np.nonzero(self.later)[1]])
            labels = np.concatenate([self.bl[self.inside], self.prev[self.later]])
            lab, cf = _pack(rows, labels, np.concatenate([capex[self.inside], -capex[self.later]]), T)
            limit = xr.DataArray(step_series(inp.annual_budget_cny, d.years), coords=[self.year])
            self.m.add_constraints(_expr(self.m, lab, cf, [self.year]), "<=", limit, name="annual_budget")
        if inp.total_budget_cny is not None:
            lab, cf = self.bl[np.arange(M), d.last][None, :], capex[:, 0][None, :]
            expr = _expr(self.m, lab, cf, [pd.Index([0], name="total")])
            self.m.add_constraints(expr, "<=", float(inp.total_budget_cny), name="total_budget")

    def _target(self, n: int, t: Target) -> None:
        """Rows of one target, each with a priced shortfall variable."""
        d, b, T, y0 = self.d, self.d.inp.baseline, self.d.years.size, int(self.d.years[0])
        one = np.ones((1, 1))
        s = d.subjects.index(t.subject) if t.subject in d.subjects else None
        gross = self.e.labels.values if s is None else self.e_sub.labels.values[s]
        ty = t.target_year - y0
        if t.kind in ("absolute_cap", "intensity_reduction"):
            rows = np.array([ty])
            if t.kind == "absolute_cap":
                rhs = np.array([float(t.value)])
            else:  # (1 - x) x E0[by] / activity[by] x activity[ty]
                by = t.base_year - y0
                e0 = b.total_tco2e if s is None else self.base[s]
                act = np.asarray(b.park_activity if s is None else b.activity[t.subject], dtype=float)
                rhs = np.array([(1.0 - float(t.value) / 100.0) * e0[by] / act[by] * act[ty]])
            terms = [(gross[rows][:, None], one)]
        elif t.kind == "neutral":  # N[t] <= 0 for t >= ty
            rows = np.arange(max(ty, 0), T)
            rhs = np.zeros(rows.size)
            if s is None:
                terms = [(self.net.labels.values[rows][:, None], one)]
            else:  # the subject's gross emissions less its own offset measures
                terms = [(gross[rows][:, None], one), (self.ab_off[0][s][rows], -self.ab_off[1][s][rows])]
        else:  # absolute_peak: E[t+1] - E[t] <= 0 for t >= ty
            rows = np.arange(max(ty, 0), T - 1)
            rhs = np.zeros(rows.size)
            terms = [(np.stack([gross[rows + 1], gross[rows]], axis=-1), np.array([[1.0, -1.0]]))]
        if rows.size == 0:
            return
        idx = pd.Index(d.years[rows], name="year")
        short = self.m.add_variables(lower=0, coords=[idx], name=f"shortfall_{n}")
        lab, cf = _cat(*terms, (short.labels.values[:, None], -one))
        self.m.add_constraints(_expr(self.m, lab, cf, [idx]), "<=", xr.DataArray(rhs, coords=[idx]), name=f"target_{n}")
        self.target_rows.append((t, f"target_{n}", f"shortfall_{n}", d.years[rows]))
        self.objective.append((short.labels.values, np.full(rows.size, self.penalty)))

    def _objective(self) -> None:
        """Discounted cost: a unit built in year j costs c[j]; on the cumulative variables that is
        ``(c[j] - c[j+1]) x built[m, j]``, and ``c[last] x built[m, last]``."""
        d, M, T = self.d, len(self.d.measures), self.d.years.size
        nxt = np.concatenate([d.cost[:, 1:], np.zeros((M, 1))], axis=1)
        per_built = np.where(np.arange(T)[None, :] == d.last[:, None], d.cost, d.cost - nxt)
        objective = [*self.objective, (self.bl[self.inside], per_built[self.inside])]
        if self.bought is not None:
            objective.append((self.bought.labels.values, d.discount * float(d.inp.offset_price_cny_per_tco2e)))
        if np.any(d.carbon_price):
            objective.append((self.e.labels.values, d.discount * d.carbon_price))
        lab = np.concatenate([o[0].ravel() for o in objective])
        cf = np.concatenate([np.broadcast_to(o[1], o[0].shape).ravel() for o in objective])
        self.m.add_objective(_expr(self.m, lab, cf, []))


# -- solving and reading ---------------------------------------------------------------------------------
def _run(cm: CompiledModel, time_limit_s: float, gap: float) -> tuple[str, dict[str, np.ndarray] | None]:
    """Solve; values of every variable when HiGHS has a feasible solution (optimal or stopped at the limit)."""
    result = cm.solve(time_limit_s=time_limit_s, mip_rel_gap=gap)
    if result.optimal:
        return result.status, result.values
    if cm.h.getInfo().primal_solution_status != 2:  # 2 = feasible
        return result.status, None
    col = np.asarray(cm.h.getSolution().col_value)
    values = {}
    for name in cm.model.variables:
        cols = cm.cols(name)
        values[name] = np.where(cols >= 0, col[np.clip(cols, 0, None)], np.nan)
    return result.status, values


def optimise_portfolio(
    inp: PortfolioInput,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = MIP_REL_GAP,
    shadow_prices: bool = True,
) -> Portfolio:
    """Choose measures and their build years to meet the targets at least discounted cost.

    Parameters
    ----------
    inp : PortfolioInput
        Baseline, candidate measures, targets and economics.
    time_limit_s : float
        HiGHS stops after this [s]; the best plan found is returned with its gap.
    mip_rel_gap : float
        Relative optimality gap to prove [-].
    shadow_prices : bool
        Also solve the LP relaxation for the targets' shadow prices (one extra LP solve).

    Returns
    -------
    Portfolio

    Raises
    ------
    ValidationFailed
        A bad measure or target (naming it and the field), or targets that no choice of the measures can meet
        within the budgets (naming each and the shortfall [tCO2e] and year).
    RuntimeError
        When HiGHS finds no plan within the time limit.
    """
    started = time.perf_counter()
    d = _prepare(inp)
    lp = _Milp(d)
    cm = CompiledModel(lp.m)
    status, values = _run(cm, time_limit_s, mip_rel_gap)
    if values is None:
        raise RuntimeError(f"HiGHS found no portfolio in {time_limit_s:g} s: {status}")
    scale = max(1.0, float(d.inp.baseline.total_tco2e.max()))
    short = _shortfalls(lp, values, _TOL * scale)
    if short:
        least = status == "Optimal"  # the shortfalls are the least the measures allow
        for _, _, name, _ in lp.target_rows:  # confirm: is there a plan without any shortfall?
            cm.set_bounds(cm.cols(name), 0.0, 0.0)
        status2, values2 = _run(cm, time_limit_s, mip_rel_gap)
        if values2 is None:
            raise _unmet(d, short, least=least, proven=status2 == "Infeasible")
        status, values = status2, values2
    gap = float(cm.h.getInfo().mip_gap)
    objective = float(cm.h.getInfo().objective_function_value)
    duals = _relaxation_duals(cm, lp) if shadow_prices else {}
    return _portfolio(d, lp, values, status, gap, objective, duals, time.perf_counter() - started)


def _shortfalls(lp: _Milp, values: dict[str, np.ndarray], tol: float) -> list[tuple[Target, float, int]]:
    out = []
    for t, _, name, years in lp.target_rows:
        s = np.nan_to_num(values[name])
        if s.max(initial=0.0) > tol:
            k = int(np.argmax(s))
            out.append((t, float(s[k]), int(years[k])))
    return out


def _unmet(d: _Data, short: list[tuple[Target, float, int]], *, least: bool, proven: bool) -> ValidationFailed:
    within = "with every measure available" + (
        " and the budgets" if d.inp.annual_budget_cny or d.inp.total_budget_cny else ""
    )
    cannot = f"cannot be met {within}" if proven else f"was not met by any plan found {within} within the time limit"
    by = "" if least else "up to "
    issues = []
    for t, amount, year in short:
        if t.kind == "absolute_peak":
            reason = f"{cannot}: emissions still rise by {by}{amount:,.1f} tCO2e into {year + 1}"
        elif t.kind == "neutral":
            reason = f"{cannot}: net emissions stay at {by}{amount:,.1f} tCO2e in {year}"
        else:
            reason = f"{cannot}: short by {by}{amount:,.1f} tCO2e in {year}"
        issues.append(Issue(reason, column=f"{t.code}: {t.kind}", value=f"{amount:.1f} tCO2e in {year}"))
    detail = "; ".join(f"{t.code} short by {by}{a:,.1f} tCO2e in {y}" for t, a, y in short)
    head = "targets cannot be met" if proven else "no plan found that meets the targets"
    return ValidationFailed(f"{head}: {detail}", issues=issues)


def _relaxation_duals(cm: CompiledModel, lp: _Milp) -> dict[str, float]:
    """Row duals of each target in the LP relaxation [CNY per tCO2e], summed over the target's rows."""
    integer = np.flatnonzero(np.isin(cm.model.matrices.vtypes, ("B", "I")))
    if integer.size:
        cm.h.changeColsIntegrality(integer.size, integer.astype(np.int32), np.zeros(integer.size, dtype=np.uint8))
    cm.h.run()
    if cm.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return {}
    dual = np.asarray(cm.h.getSolution().row_dual)
    return {name: float(-dual[cm.rows(name).ravel()].sum()) + 0.0 for _, name, _, _ in lp.target_rows}


def _portfolio(d: _Data, lp: _Milp, values, status, gap, objective, duals, elapsed) -> Portfolio:
    T = d.years.size
    built = np.rint(np.nan_to_num(values["built"]))  # (M, T), 0 outside [first, last]
    j = np.arange(T)
    held = np.where(j[None, :] > d.last[:, None], built[np.arange(len(d.measures)), d.last][:, None], built)
    new = np.diff(np.concatenate([np.zeros((len(d.measures), 1)), held], axis=1), axis=1)
    abatement = np.einsum("mtj,mj->mt", d.weight, built)
    builds = []
    for i, k in zip(*np.nonzero(new > 0.5), strict=True):
        x, units = d.measures[i], int(new[i, k])
        cost, tonnes = units * d.cost[i, k], units * d.per_unit[i, k]
        builds.append(
            Build(
                x.code,
                x.name,
                x.kind,
                x.subject,
                int(d.years[k]),
                units,
                units * x.capex_cny,
                float(cost),
                float(tonnes),
                float(cost / tonnes) if tonnes > 0 else math.nan,
            )
        )
    builds.sort(key=lambda b: (b.year, b.code))
    gross = _clean(values["emissions_tco2e"])
    net = _clean(values["net_tco2e"])
    bought = _clean(values["bought_offsets_tco2e"]) if lp.bought is not None else np.zeros(T)
    offset_measures = abatement[d.offset].sum(axis=0) if d.offset.any() else np.zeros(T)
    tol = _TOL * max(1.0, float(d.inp.baseline.total_tco2e.max()))
    later_ok = np.flip(np.logical_and.accumulate(np.flip(net <= tol)))
    neutral_year = int(d.years[int(np.argmax(later_ok))]) if later_ok.any() else None
    price = float(d.inp.offset_price_cny_per_tco2e or 0.0)
    breakdown = {
        "capex_annuities_cny": float((new * d.capex_part).sum()),
        "opex_cny": float((new * d.opex_part).sum()),
        "savings_cny": float((new * d.savings_part).sum()),
        "bought_offsets_cny": float((d.discount * price * bought).sum()),
        "carbon_price_cny": float((d.discount * d.carbon_price * gross).sum()),
    }
    discounted = (
        breakdown["capex_annuities_cny"]
        + breakdown["opex_cny"]
        - breakdown["savings_cny"]
        + breakdown["bought_offsets_cny"]
    )
    outcomes = list(d.skipped)
    for t, name, short_name, years in lp.target_rows:
        s = np.nan_to_num(values[short_name])
        k = int(np.argmax(s))
        met = bool(s[k] <= tol)
        applied = t.subject if t.subject in d.subjects else d.inp.baseline.park_code
        outcomes.append(
            TargetOutcome(
                t.code,
                t.kind,
                applied,
                True,
                met,
                0.0 if met else float(s[k]),
                None if met else int(years[k]),
                duals.get(name),
            )
        )
    return Portfolio(
        status=status,
        mip_gap=gap,
        objective_cny=objective,
        solve_s=elapsed,
        years=d.years,
        builds=builds,
        baseline_tco2e=d.inp.baseline.total_tco2e,
        emissions_tco2e=gross,
        net_tco2e=net,
        offsets_tco2e=offset_measures + bought,
        bought_offsets_tco2e=bought,
        subject_emissions_tco2e={s: _clean(values["emissions_subject_tco2e"][i]) for i, s in enumerate(d.subjects)},
        abatement_tco2e={d.measures[i].code: abatement[i] for i in np.nonzero(held[:, -1] > 0.5)[0]},
        peak_year=int(d.years[int(np.argmax(gross))]),
        neutral_year=neutral_year,
        gap_to_neutrality_tco2e=max(0.0, float(net[-1])),
        residual_tco2e=float(gross[-1]),
        discounted_cost_cny=float(discounted),
        cost_breakdown_cny=breakdown,
        targets=outcomes,
    )


def _clean(values) -> np.ndarray:
    arr = np.nan_to_num(np.asarray(values, dtype=float))
    return np.where(np.abs(arr) < _ZERO, 0.0, arr)


__all__ = [
    "MIP_REL_GAP",
    "MODELLED_KINDS",
    "Build",
    "Portfolio",
    "PortfolioInput",
    "TargetOutcome",
    "optimise_portfolio",
]
