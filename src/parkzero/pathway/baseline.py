"""Baseline (business-as-usual) emissions pathway of a park, tenant by tenant, year by year.

For tenant s in year y (y0 = the tenant's first year: the projection's start, or its planned arrival)::

    activity[s, y]  = activity[s, y0] x prod_{y0 < k <= y} (1 + growth[s, k] / 100),   0 before y0
    intensity[s, y] = (1 + intensity_change[s] / 100)^(y - y0)
    emissions[s, y] = activity[s, y] x intensity[s, y] x (direct[s] + electricity[s] x grid_factor[y])

with ``direct`` the scope 1 emissions [tCO2e] and ``electricity`` the grid electricity [MWh] per unit of activity,
and the grid factor [tCO2/MWh] interpolated linearly between the points given (flat outside them). The peak year
is the year of the highest park total; a peak in the last year means no peak within the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from parkzero.errors import Issue, ValidationFailed

FIRST_YEAR = 2025
LAST_YEAR = 2060


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """A subject of the baseline: one tenant (or the operator's common areas) and how it grows.

    Parameters
    ----------
    code : str
        Enterprise code, unique in a baseline.
    activity : float
        Activity in its first year [activity_unit/yr] (t of steel, m² of office, MWh of IT load...), >= 0.
    activity_unit : str
        Unit of the activity (``"t"``, ``"m2"``, ``"MWh_it"``).
    growth_pct_per_year : float or mapping of int to float
        Activity growth [%/yr]; a mapping gives the rate from each year on (``{2025: 5.0, 2031: 1.0}``).
    direct_tco2e_per_unit : float
        Scope 1 emissions per unit of activity in the first year [tCO2e/unit].
    electricity_mwh_per_unit : float
        Grid electricity per unit of activity in the first year [MWh/unit], turned into emissions by the grid
        factor of each year.
    fuel_per_unit : mapping of str to float
        Fuel burnt per unit of activity in the first year, by pollutant activity code whose name carries its unit
        (``{"natural_gas_m3": 6.7}``: Nm3 per t) [unit/unit]: what the direct emissions burn, for the air
        pollutants of the baseline (`parkzero.pathway.pollution.baseline_pollutants`); it does not change the
        emissions, which `direct_tco2e_per_unit` gives.
    intensity_change_pct_per_year : float
        Autonomous change of the intensities [%/yr] (negative: the tenant becomes more efficient without any
        measure of the pathway).
    start_year : int or None
        First year of a planned new tenant (no activity before it); None for a tenant there from the start.
    """

    code: str
    activity: float
    activity_unit: str = ""
    growth_pct_per_year: float | Mapping[int, float] = 0.0
    direct_tco2e_per_unit: float = 0.0
    electricity_mwh_per_unit: float = 0.0
    fuel_per_unit: Mapping[str, float] = field(default_factory=dict)
    intensity_change_pct_per_year: float = 0.0
    start_year: int | None = None


@dataclass(frozen=True, eq=False)
class Baseline:
    """Emissions per subject and year without any measure of the pathway.

    `project_baseline` builds one from tenants; tests and callers with their own projections may build one
    directly from arrays.

    Parameters
    ----------
    years : numpy.ndarray
        Consecutive years.
    emissions_tco2e : dict of str to numpy.ndarray
        Emissions per subject, one value per year [tCO2e/yr].
    activity : dict of str to numpy.ndarray
        Activity per subject and year [unit/yr] (for intensity targets); may be empty.
    activity_unit : dict of str to str
        Unit of each subject's activity.
    grid_factor_tco2_per_mwh : numpy.ndarray or None
        Grid emission factor per year [tCO2/MWh], for measures that save grid electricity.
    electricity_mwh : dict of str to numpy.ndarray
        Grid electricity per subject and year [MWh/yr]; may be empty.
    fuel : dict of str to dict of str to numpy.ndarray
        Fuel burnt per subject, activity code and year [unit/yr] (from `Tenant.fuel_per_unit`); may be empty.
    park_code : str
        Code standing for the park as a whole in targets.
    park_activity : numpy.ndarray or None
        An activity of the park as a whole per year (value added [CNY], energy use [tce]) for park intensity
        targets; None when there is none.
    """

    years: np.ndarray
    emissions_tco2e: dict[str, np.ndarray]
    activity: dict[str, np.ndarray] = field(default_factory=dict)
    activity_unit: dict[str, str] = field(default_factory=dict)
    grid_factor_tco2_per_mwh: np.ndarray | None = None
    electricity_mwh: dict[str, np.ndarray] = field(default_factory=dict)
    park_code: str = "park"
    park_activity: np.ndarray | None = None
    fuel: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        years = np.asarray(self.years, dtype=int)
        issues: list[Issue] = []
        if years.ndim != 1 or years.size == 0 or np.any(np.diff(years) != 1):
            issues.append(Issue("must be consecutive years", column="baseline: years"))
        for name, series in (("emissions_tco2e", self.emissions_tco2e), ("activity", self.activity)):
            for code, values in series.items():
                arr = np.asarray(values, dtype=float)
                if arr.shape != years.shape or not np.all(np.isfinite(arr)) or np.any(arr < 0):
                    issues.append(
                        Issue(f"needs {years.size} finite values >= 0, one per year", column=f"{code}: {name}")
                    )
        if not self.emissions_tco2e:
            issues.append(Issue("needs at least one subject", column="baseline: emissions_tco2e"))
        if issues:
            raise ValidationFailed("baseline rejected", issues=issues)
        object.__setattr__(self, "years", years)

    @property
    def subjects(self) -> list[str]:
        """Subject codes in order."""
        return list(self.emissions_tco2e)

    @property
    def total_tco2e(self) -> np.ndarray:
        """Park total per year [tCO2e/yr]."""
        return np.sum([np.asarray(v, dtype=float) for v in self.emissions_tco2e.values()], axis=0)

    @property
    def peak_year(self) -> int:
        """Year of the highest park total (the first such year); the last year means no peak within the horizon."""
        return int(self.years[int(np.argmax(self.total_tco2e))])

    def index(self, year: int) -> int:
        """Position of `year` in `years`; ValueError outside them."""
        i = int(year) - int(self.years[0])
        if not 0 <= i < self.years.size:
            raise ValueError(f"year {year} is outside the baseline {self.years[0]}-{self.years[-1]}")
        return i

    def as_dict(self) -> dict:
        years = [int(y) for y in self.years]
        return {
            "years": years,
            "peak_year": self.peak_year,
            "total_tco2e": dict(zip(years, self.total_tco2e.round(3).tolist(), strict=True)),
            "emissions_tco2e": {
                s: dict(zip(years, np.asarray(v, dtype=float).round(3).tolist(), strict=True))
                for s, v in self.emissions_tco2e.items()
            },
        }


def trajectory(points: Mapping[int, float], years: Sequence[int] | np.ndarray) -> np.ndarray:
    """Values per year interpolated linearly between `points`, held flat before the first and after the last.

    ``trajectory({2023: 0.55, 2060: 0.05}, [2025])`` = 0.55 + (0.05 - 0.55) x 2 / 37 = 0.52297.
    """
    xs = np.array(sorted(points), dtype=float)
    ys = np.array([points[int(x)] for x in xs], dtype=float)
    return np.interp(np.asarray(years, dtype=float), xs, ys)


def project_baseline(
    tenants: Sequence[Tenant],
    grid_factor_tco2_per_mwh: Mapping[int, float],
    *,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
    park_code: str = "park",
    park_activity: Mapping[int, float] | None = None,
) -> Baseline:
    """Project each tenant's activity and emissions from `first_year` to `last_year`.

    Parameters
    ----------
    tenants : sequence of Tenant
        The park's subjects, existing and planned.
    grid_factor_tco2_per_mwh : mapping of int to float
        Grid emission factor at some years [tCO2/MWh] (``{2023: 0.5500, 2060: 0.05}``: East China 2023, then an
        assumed decline), interpolated per year (see `trajectory`).
    first_year, last_year : int
        The horizon, both included.
    park_code : str
        Code of the park as a whole, for targets on the park.
    park_activity : mapping of int to float or None
        Points of a park-wide activity (interpolated like the grid factor), for park intensity targets.

    Returns
    -------
    Baseline

    Raises
    ------
    ValidationFailed
        Naming the tenant and field: duplicate or empty codes, negative activity or intensities, growth at or
        below -100 %, a start year outside the horizon; an empty or negative grid factor.
    """
    issues: list[Issue] = []
    years = np.arange(first_year, last_year + 1)
    if years.size == 0:
        issues.append(Issue("last_year must not be before first_year", column="baseline: last_year"))
    if not grid_factor_tco2_per_mwh or any(
        not math.isfinite(float(v)) or float(v) < 0 for v in grid_factor_tco2_per_mwh.values()
    ):
        issues.append(Issue("needs at least one year with a factor >= 0", column="baseline: grid_factor_tco2_per_mwh"))
    seen: set[str] = set()
    for t in tenants:
        code = t.code or "(no code)"
        if not t.code or t.code in seen:
            issues.append(Issue("must be a unique, non-empty code", column=f"{code}: code"))
        seen.add(t.code)
        for name in ("activity", "direct_tco2e_per_unit", "electricity_mwh_per_unit"):
            value = getattr(t, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                issues.append(Issue("must be a finite number >= 0", column=f"{code}: {name}", value=str(value)))
        fuels = t.fuel_per_unit if isinstance(t.fuel_per_unit, Mapping) else {"": t.fuel_per_unit}
        for fuel, value in fuels.items():
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                issues.append(Issue("must map activity codes to numbers >= 0", column=f"{code}: fuel_per_unit",
                                    value=f"{fuel} = {value}"))  # fmt: skip
        rates = t.growth_pct_per_year if isinstance(t.growth_pct_per_year, Mapping) else {0: t.growth_pct_per_year}
        for rate in [*rates.values(), t.intensity_change_pct_per_year]:
            if not math.isfinite(float(rate)) or float(rate) <= -100:
                issues.append(Issue("must be a rate above -100 %/yr", column=f"{code}: growth", value=str(rate)))
        if t.start_year is not None and not first_year <= t.start_year <= last_year:
            issues.append(Issue(f"must lie in {first_year}-{last_year}", column=f"{code}: start_year"))
    if issues:
        raise ValidationFailed("baseline rejected", issues=issues)

    factor = trajectory(grid_factor_tco2_per_mwh, years)
    emissions, activity, units, electricity, fuel = {}, {}, {}, {}, {}
    for t in tenants:
        y0 = first_year if t.start_year is None else t.start_year
        growth = step_series(t.growth_pct_per_year, years)
        grown = np.cumprod(np.where(years > y0, 1.0 + growth / 100.0, 1.0))
        act = np.where(years >= y0, float(t.activity) * grown, 0.0)
        scale = (1.0 + t.intensity_change_pct_per_year / 100.0) ** np.clip(years - y0, 0, None)
        mwh = act * scale * t.electricity_mwh_per_unit
        emissions[t.code] = act * scale * t.direct_tco2e_per_unit + mwh * factor
        activity[t.code], units[t.code], electricity[t.code] = act, t.activity_unit, mwh
        if t.fuel_per_unit:
            fuel[t.code] = {f: act * scale * float(q) for f, q in t.fuel_per_unit.items()}
    park = None if park_activity is None else trajectory(park_activity, years)
    return Baseline(years, emissions, activity, units, factor, electricity, park_code, park, fuel)


def step_series(rate: float | Mapping[int, float], years: np.ndarray) -> np.ndarray:
    """A value per year: a constant, or each mapping value from its year on (the first value before that).

    ``step_series({2025: 5.0, 2031: 1.0}, [2030, 2031])`` = [5.0, 1.0].
    """
    if not isinstance(rate, Mapping):
        return np.full(years.size, float(rate))
    starts = sorted(rate)
    out = np.full(years.size, float(rate[starts[0]]))
    for y in starts:
        out[years >= y] = float(rate[y])
    return out


__all__ = ["FIRST_YEAR", "LAST_YEAR", "Baseline", "Tenant", "project_baseline", "step_series", "trajectory"]
