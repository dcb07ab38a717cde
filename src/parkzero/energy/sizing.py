"""Sizing of PV (per roof or facade surface) and a battery for the least lifecycle cost, hourly over one year.

A capacity-expansion linear programme in the manner of PyPSA (``p_nom_extendable`` with an annuitised
``capital_cost``), written with linopy and solved with HiGHS. Capacities and the hourly dispatch are decided
together, so the PV size knows what the battery can shift and the battery knows what the tariff pays for.

Model (hours t of the modelled year, each standing for ``w = hour_weight`` hours; step length 1 h)
------------------------------------------------------------------------------------------------
Decisions: new PV ``pv_new[s]`` on each surface (0 .. area x kWp/m² - existing [kWp]), new battery energy and
power ``kwh_new``, ``kw_new``; hourly grid import and export, battery charge and discharge [kW] and stored energy
[kWh]; the import peak of each month [kW] when there is a demand charge.

- energy balance: ``pv[t] + import[t] + discharge[t] >= load[t] + export[t] + charge[t]``, with
  ``pv[t] = sum_s yield[s, t] x (existing_kwp[s] + pv_new[s])``; the surplus is curtailed PV
- ``import[t] + discharge[t] - charge[t] <= load[t]``: grid and battery feed the load (and the battery) only, so
  what is exported or curtailed is PV
- battery: ``soc[t] = (1 - self_discharge) x soc[t-1] + eta_charge x charge[t] - discharge[t] / eta_discharge``,
  cyclic over the modelled hours (the last hour stands before the first, as PyPSA's ``cyclic_state_of_charge``),
  ``soc_min x kWh <= soc[t] <= soc_max x kWh``, ``charge[t] + discharge[t] <= kW`` (one converter), and the new
  power between ``kw_per_kwh_min`` and ``kw_per_kwh_max`` times the new energy
- grid limits ``import <= import_limit_kw``, ``export <= export_limit_kw``; ``peak[m] >= import[t]`` in month m
- optional: ``sum w x import <= (1 - min_renewable_share) x sum w x load``,
  ``sum w x intensity x import <= max_co2_tco2_per_year``, initial capex ``<= budget_cny``. A target the limits
  cannot reach raises ValidationFailed saying how far they reach (the LP carries a heavily priced shortfall
  variable, so one solve both sizes and diagnoses).

Objective [CNY/yr]: annualised capex + replacements - residual value (all through the capital recovery factor of
the horizon, see `lifecycle_cost_factors`) + opex (and battery wear per kWh) + energy bought - export income +
demand charges + carbon price x grid emissions. PyPSA annuitises each asset over its own lifetime, which
assumes like-for-like renewal forever; here replacements at their (declining) cost and the residual value at
the end of the horizon are counted explicitly. The business-as-usual case (BAU) is the same model with the
capacities fixed at the existing assets; the investment's NPV is the difference of the two lifecycle costs.

Assumptions (stated so that a reader can disagree with them)
-------------------------------------------------------------
- Annual operating figures repeat unchanged over the horizon (real prices, no PV degradation).
- Existing assets are sunk: they carry opex but no capex, and they last the horizon.
- A PV replacement costs ``Surface.replacement_cost_factor`` (default 1.0) x today's capex; a battery replacement
  ``BatteryOption.replacement_cost_factor`` (default 0.6 ~ a 4 %/yr real price decline over 12 years:
  0.96^12 = 0.61) x today's capex. What is left of the last unit's life at the end of the horizon is credited as
  residual value (straight-line).
- Where the export price exceeds the cost of importing (price + carbon price x intensity) in an hour, the net
  cost is concave in the net position and an LP would import and export at once; the LP values export in those
  hours at the import cost (never over-stating PV), and the reported figures are recomputed from the hourly net
  position (import - export) at the real prices.
- The demand charge is taken on hourly mean import (tariffs read 15-minute maxima: a lower bound). Months missing
  from representative hours are represented by those present (charge x 12 / number of months present).
- Renewable share = share of the load not bought from the grid = (PV used on site - battery losses) / load.
  With PV as the only on-site source it equals self-sufficiency; defining it on imports means the LP cannot meet
  a share target by burning PV in battery losses.

Solve time: a full year with 10 surfaces, a battery and demand charges has about 53,000 rows and 44,000 columns;
HiGHS (dual simplex, through `parkzero.energy.lp`, quiet) sizes it in 4-11 s on a 2-core machine and BAU in under
a second; `tradeoff` re-solves warm from the previous basis (about 4-5 s a point); a renewable-share target at the
edge of what the limits allow is the hardest case (up to about 15 s). Representative days (``hour_weight``) take
well under a second. Rows with 8760 terms are avoided (annual sums and monthly peaks go through one variable per
day), and so is a soc_min row per hour (the stored energy is counted above soc_min, a bound).

Default densities `DEFAULT_KWP_PER_M2`: about 0.2 kWp per m² of module at STC (20 % efficient modules); a roof
keeps gaps for rows, access and fire paths, a facade loses windows and frames: 0.20 roof and 0.12 facade
[kWp/m²] are planning assumptions, to be replaced by the surface's own layout when there is one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from parkzero.energy.lp import CompiledModel, LpResult
from parkzero.errors import Issue, ValidationFailed

HOURS_PER_YEAR = 8760
DEFAULT_KWP_PER_M2 = {"roof": 0.20, "facade": 0.12}  # [kWp/m²], see the module docstring
SURFACE_KINDS = tuple(DEFAULT_KWP_PER_M2)
_TOL = 1e-6  # [-] relative tolerance before a shortfall against a target counts
_ZERO = 1e-7  # solver values below this magnitude are reported as 0
# Price of a kWh/yr of grid import above what a renewable-share target allows [CNY per kWh/yr]: far above what
# any PV or battery costs per kWh/yr it saves (a battery annuity of ~100 CNY/kWh/yr used once a year), so the LP
# misses a target only when the limits leave it no choice, and then by as little as they allow.
_PENALTY_CNY_PER_KWH = 1.0e4
_TIME_LIMIT_S = 300.0  # HiGHS gives up after this [s]; a full year takes 5-15 s
_INFEASIBLE = ("Infeasible", "Primal infeasible or unbounded")


# -- inputs ----------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False)
class Surface:
    """A roof or facade that can carry PV.

    Parameters
    ----------
    code : str
        Identifier, unique among the surfaces of one sizing.
    kind : str
        ``"roof"`` or ``"facade"``.
    area_m2 : float
        Usable area [m²].
    yield_kw_per_kwp : numpy.ndarray
        Hourly AC output per kWp installed [kW/kWp], one value per modelled hour (computed with pvlib from
        weather, orientation and losses).
    capex_cny_per_kwp : float
        Installed cost of new PV [CNY/kWp].
    opex_cny_per_kwp_year : float
        Operation and maintenance, on all installed PV (existing and new) [CNY/kWp/yr].
    lifetime_years : float
        Service life [yr]; shorter than the horizon means replacements, longer leaves a residual value.
    existing_kwp : float
        PV already installed on the surface [kWp] (sunk: no capex).
    kwp_per_m2 : float or None
        Installable power per area [kWp/m²]; None takes `DEFAULT_KWP_PER_M2` for the kind.
    replacement_cost_factor : float
        Cost of a replacement as a share of today's capex [-].
    """

    code: str
    kind: str
    area_m2: float
    yield_kw_per_kwp: np.ndarray
    capex_cny_per_kwp: float
    opex_cny_per_kwp_year: float
    lifetime_years: float = 25.0
    existing_kwp: float = 0.0
    kwp_per_m2: float | None = None
    replacement_cost_factor: float = 1.0

    @property
    def density_kwp_per_m2(self) -> float:
        """Installable power per area [kWp/m²]: ``kwp_per_m2``, or the kind's default (NaN for an unknown kind)."""
        if self.kwp_per_m2 is not None:
            return float(self.kwp_per_m2)
        return DEFAULT_KWP_PER_M2.get(self.kind, math.nan)

    @property
    def max_kwp(self) -> float:
        """Largest PV the area takes: area x density [kWp]."""
        return float(self.area_m2) * self.density_kwp_per_m2


@dataclass(frozen=True, kw_only=True)
class BatteryOption:
    """A battery that may be built (or enlarged), with its costs and technical limits.

    The defaults are planning assumptions for a lithium iron phosphate system, to be replaced by quotes.

    Parameters
    ----------
    capex_cny_per_kwh : float
        Cost of new energy capacity [CNY/kWh].
    capex_cny_per_kw : float
        Cost of new power capacity (converter) [CNY/kW].
    opex_share_per_year : float
        Yearly operation and maintenance as a share of capex [1/yr], on all installed capacity.
    lifetime_years : float
        Service life [yr].
    replacement_cost_factor : float
        Cost of a replacement as a share of today's capex [-] (the module docstring explains the default).
    eta_charge, eta_discharge : float
        Charging and discharging efficiency [-], in (0, 1].
    soc_min_pct, soc_max_pct : float
        State-of-charge window as a share of the energy capacity [%].
    self_discharge_pct_per_h : float
        Energy lost per hour as a share of the stored energy [%/h].
    throughput_cost_cny_per_kwh : float
        Wear per kWh discharged beyond the calendar ageing the lifetime covers [CNY/kWh]. The small default also
        breaks ties between equally cheap schedules, which sped HiGHS's simplex up about twofold on the
        full-year cases tried.
    existing_kwh, existing_kw : float
        Battery already installed [kWh], [kW] (sunk: no capex).
    max_kwh : float or None
        Largest total energy capacity (existing + new) the site takes [kWh]; None for no limit.
    kw_per_kwh_min, kw_per_kwh_max : float
        Range of the new power per new energy [kW/kWh] (0.25 .. 1: a 4-hour to a 1-hour battery).
    """

    capex_cny_per_kwh: float
    capex_cny_per_kw: float = 0.0
    opex_share_per_year: float = 0.02
    lifetime_years: float = 12.0
    replacement_cost_factor: float = 0.6
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min_pct: float = 5.0
    soc_max_pct: float = 95.0
    self_discharge_pct_per_h: float = 0.0
    throughput_cost_cny_per_kwh: float = 0.001
    existing_kwh: float = 0.0
    existing_kw: float = 0.0
    max_kwh: float | None = None
    kw_per_kwh_min: float = 0.25
    kw_per_kwh_max: float = 1.0


@dataclass(frozen=True, kw_only=True, eq=False)
class SizingInput:
    """Everything a sizing needs. Hourly arrays have one value per modelled hour.

    Parameters
    ----------
    load_kw : numpy.ndarray
        Park electricity demand [kW] (mean over each hour).
    import_price_cny_per_kwh : numpy.ndarray
        Energy price of grid import [CNY/kWh], >= 0 (time-of-use: `parkzero.energy.tariff` builds it).
    export_price_cny_per_kwh : float or numpy.ndarray
        Price paid for exported PV [CNY/kWh].
    demand_charge_cny_per_kw_month : float
        Demand (capacity) charge on the monthly import peak [CNY/kW/month].
    hour_month : numpy.ndarray
        Calendar month (1..12) of each modelled hour, for the monthly peaks.
    grid_intensity_tco2_per_kwh : float or numpy.ndarray
        CO2 of grid electricity [tCO2/kWh] (0.5500 tCO2/MWh East China 2023 = 0.00055 tCO2/kWh).
    surfaces : sequence of Surface
        Where PV can go.
    battery : BatteryOption or None
        The battery option; None for no battery.
    carbon_price_cny_per_tco2 : float
        Price put on grid emissions in the objective [CNY/tCO2].
    export_limit_kw, import_limit_kw : float
        Grid connection limits [kW].
    discount_rate : float
        Real discount rate [1/yr].
    horizon_years : int
        Appraisal horizon [yr].
    hour_weight : float
        Hours of the year each modelled hour stands for (PyPSA's snapshot weighting): 1 for 8760 hours, 365 for
        one representative day. ``len(load_kw) x hour_weight`` must be 8760.
    min_renewable_share : float or None
        Least share of the load covered on site [-], a fraction 0..1.
    max_co2_tco2_per_year : float or None
        Cap on grid emissions [tCO2/yr].
    budget_cny : float or None
        Cap on the initial investment [CNY] (replacements are not counted against it).
    """

    load_kw: np.ndarray
    import_price_cny_per_kwh: np.ndarray
    export_price_cny_per_kwh: float | np.ndarray
    demand_charge_cny_per_kw_month: float
    hour_month: np.ndarray
    grid_intensity_tco2_per_kwh: float | np.ndarray
    surfaces: Sequence[Surface]
    battery: BatteryOption | None = None
    carbon_price_cny_per_tco2: float = 0.0
    export_limit_kw: float = math.inf
    import_limit_kw: float = math.inf
    discount_rate: float = 0.06
    horizon_years: int = 25
    hour_weight: float = 1.0
    min_renewable_share: float | None = None
    max_co2_tco2_per_year: float | None = None
    budget_cny: float | None = None


# -- outputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnnualCosts:
    """Itemised cost of one year [CNY/yr]; capex items are annuities over the horizon."""

    capex_annuity_cny: float
    replacement_annuity_cny: float
    residual_value_annuity_cny: float  # <= 0: a credit for life left at the end of the horizon
    opex_cny: float
    energy_cny: float
    export_income_cny: float  # >= 0, subtracted in the total
    demand_charge_cny: float
    carbon_cny: float

    @property
    def operating_cny(self) -> float:
        """Yearly cash cost of running the park's electricity [CNY/yr]: all but the capex items."""
        return self.opex_cny + self.energy_cny - self.export_income_cny + self.demand_charge_cny + self.carbon_cny

    @property
    def total_cny(self) -> float:
        """Lifecycle cost per year [CNY/yr]."""
        return (
            self.capex_annuity_cny + self.replacement_annuity_cny + self.residual_value_annuity_cny + self.operating_cny
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "operating_cny": self.operating_cny, "total_cny": self.total_cny}


@dataclass(frozen=True)
class Case:
    """One sized and dispatched system: the optimised plan or business as usual. Energies per year."""

    pv_kwp: dict[str, float]  # installed per surface, existing + new [kWp]
    pv_new_kwp: dict[str, float]  # [kWp]
    battery_kwh: float
    battery_kw: float
    battery_new_kwh: float
    battery_new_kw: float
    capex_cny: float  # initial investment [CNY]
    costs: AnnualCosts
    lifecycle_cost_cny: float  # present value of all costs over the horizon [CNY]
    load_kwh: float
    pv_generation_kwh: float  # after curtailment
    curtailment_kwh: float
    grid_import_kwh: float
    grid_export_kwh: float
    battery_charge_kwh: float
    battery_discharge_kwh: float
    peak_import_kw: float  # largest monthly import peak [kW]
    renewable_share_pct: float
    self_consumption_pct: float | None  # None without PV generation
    self_sufficiency_pct: float
    co2_tco2_per_year: float
    solve_time_s: float  # model build and solve [s]
    hourly: dict[str, np.ndarray] = field(repr=False, default_factory=dict)  # [kW], soc [kWh]

    def as_dict(self, *, hourly: bool = False) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("costs", "hourly")}
        out["costs"] = self.costs.as_dict()
        if hourly:
            out["hourly"] = {k: v.tolist() for k, v in self.hourly.items()}
        return out


@dataclass(frozen=True)
class SizingResult:
    """The least-cost plan beside business as usual (BAU: existing assets only, the same model with the capacities
    fixed and without the optional targets).

    ``npv_cny`` is the present value of the plan against BAU over the horizon [CNY] (> 0: the investment
    pays); ``annual_saving_cny`` the yearly operating saving [CNY/yr]; paybacks in years (None when there is
    no investment or it does not pay back within the horizon). ``marginal_cost`` holds the shadow price of each
    binding optional constraint [CNY/yr per unit]: ``min_renewable_share`` per percentage point,
    ``max_co2_tco2_per_year`` per tCO2 (a marginal abatement cost), ``budget_cny`` per CNY of budget.
    """

    status: str
    plan: Case
    bau: Case
    npv_cny: float
    annual_saving_cny: float
    simple_payback_years: float | None
    discounted_payback_years: float | None
    marginal_cost: dict[str, float]
    constraints: dict[str, float]  # the optional constraints applied, by input name
    solve_time_s: float  # wall-clock of the whole sizing, both cases [s]

    @property
    def pv_kwp(self) -> dict[str, float]:
        return self.plan.pv_kwp

    @property
    def battery_kwh(self) -> float:
        return self.plan.battery_kwh

    @property
    def battery_kw(self) -> float:
        return self.plan.battery_kw

    @property
    def costs(self) -> AnnualCosts:
        return self.plan.costs

    @property
    def renewable_share_pct(self) -> float:
        return self.plan.renewable_share_pct

    @property
    def self_consumption_pct(self) -> float | None:
        return self.plan.self_consumption_pct

    @property
    def self_sufficiency_pct(self) -> float:
        return self.plan.self_sufficiency_pct

    @property
    def co2_tco2_per_year(self) -> float:
        return self.plan.co2_tco2_per_year

    def as_dict(self, *, hourly: bool = False) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("plan", "bau")}
        out["plan"] = self.plan.as_dict(hourly=hourly)
        out["bau"] = self.bau.as_dict(hourly=hourly)
        return out


# -- finance (pure functions) ----------------------------------------------------------------------
def capital_recovery_factor(discount_rate: float, years: float) -> float:
    """Share of an investment to pay each year to repay it with interest over ``years``.

    ``CRF = r (1 + r)^n / ((1 + r)^n - 1)``, and ``1 / n`` when ``r = 0``
    (CRF(0.06, 25) = 0.06 x 4.29187 / 3.29187 = 0.078227).

    Parameters
    ----------
    discount_rate : float
        Real discount rate r [1/yr].
    years : float
        Repayment period n [yr], > 0.

    Returns
    -------
    float
        Capital recovery factor [1/yr].
    """
    if discount_rate == 0:
        return 1.0 / years
    growth = (1.0 + discount_rate) ** years
    return discount_rate * growth / (growth - 1.0)


def lifecycle_cost_factors(
    lifetime_years: float, horizon_years: float, discount_rate: float, replacement_cost_factor: float = 1.0
) -> tuple[float, float]:
    """Present value of the replacements, and of the residual value, per CNY of initial capex.

    Replacements fall at ``k x lifetime`` for every k >= 1 with ``k x lifetime < horizon`` and cost
    ``replacement_cost_factor`` each; the unit in service at the end of the horizon is worth the unexpired share
    of its cost (straight-line). Lifecycle cost per CNY of capex = ``1 + replacements - residual``.

    Parameters
    ----------
    lifetime_years : float
        Service life [yr], > 0.
    horizon_years : float
        Appraisal horizon [yr].
    discount_rate : float
        Real discount rate [1/yr].
    replacement_cost_factor : float
        Cost of a replacement as a share of the initial capex [-].

    Returns
    -------
    replacements, residual : float
        Present values per CNY of initial capex [-].
    """
    replacements, k = 0.0, 1
    while k * lifetime_years < horizon_years - 1e-9:
        replacements += replacement_cost_factor / (1.0 + discount_rate) ** (k * lifetime_years)
        k += 1
    last_installed = (k - 1) * lifetime_years
    last_cost = 1.0 if k == 1 else replacement_cost_factor
    unexpired = max(0.0, last_installed + lifetime_years - horizon_years) / lifetime_years
    residual = last_cost * unexpired / (1.0 + discount_rate) ** horizon_years
    return replacements, residual


def simple_payback_years(capex_cny: float, annual_saving_cny: float) -> float | None:
    """Initial investment over yearly saving [yr]; None without investment or without a saving."""
    if capex_cny <= 0 or annual_saving_cny <= 0:
        return None
    return capex_cny / annual_saving_cny


def discounted_payback_years(
    capex_cny: float,
    annual_saving_cny: float,
    discount_rate: float,
    horizon_years: int,
    replacements_cny: Mapping[float, float] | None = None,
) -> float | None:
    """Years until the discounted savings repay the investment, interpolated within the year.

    Savings arrive at the end of each year; a replacement at time x is paid at the end of year ceil(x).

    Parameters
    ----------
    capex_cny : float
        Initial investment, paid at time 0 [CNY].
    annual_saving_cny : float
        Yearly operating saving [CNY/yr].
    discount_rate : float
        Real discount rate [1/yr].
    horizon_years : int
        Last year looked at [yr].
    replacements_cny : mapping of float to float, optional
        Replacement costs [CNY] by the time they fall due [yr].

    Returns
    -------
    float or None
        Discounted payback [yr]; None without investment or when it does not pay back within the horizon.
    """
    if capex_cny <= 0:
        return None
    due: dict[int, float] = {}
    for when, cost in (replacements_cny or {}).items():
        due[math.ceil(when - 1e-9)] = due.get(math.ceil(when - 1e-9), 0.0) + cost
    cumulative = -capex_cny
    for year in range(1, int(horizon_years) + 1):
        flow = (annual_saving_cny - due.get(year, 0.0)) / (1.0 + discount_rate) ** year
        if cumulative + flow >= 0 and flow > 0:
            return year - 1 + (-cumulative) / flow
        cumulative += flow
    return None


def _replacement_times(lifetime_years: float, horizon_years: float) -> list[float]:
    times, k = [], 1
    while k * lifetime_years < horizon_years - 1e-9:
        times.append(k * lifetime_years)
        k += 1
    return times


# -- validation ------------------------------------------------------------------------------------
@dataclass
class _Data:
    """Validated input as arrays, with the cost factors the LP needs."""

    inp: SizingInput
    n_hours: int
    weight: float
    load: np.ndarray
    price_import: np.ndarray
    price_export: np.ndarray
    price_export_lp: np.ndarray  # capped at the import cost, see the module docstring
    intensity: np.ndarray
    month: np.ndarray
    month_scale: float
    block: np.ndarray  # block (day, split at month changes) of each hour
    block_month: np.ndarray  # month of each block
    codes: list[str]
    yields: np.ndarray  # (surfaces, hours)
    pv_existing: np.ndarray
    pv_max: np.ndarray
    crf: float
    pv_capex_factor: np.ndarray  # annual cost per CNY of capex: CRF x (1 + replacements - residual)
    battery_capex_factor: float
    penalty_cny_per_kg: float  # price of a kgCO2/yr above max_co2_tco2_per_year, the share penalty's match


def _share(issues: list[Issue], name: str, value: Any) -> float:
    x = _number(issues, name, value, low=0)
    if x > 1:
        _issue(issues, name, f"is a fraction 0..1 (did you mean {x / 100:g}?)", value)
    return x


def _issue(issues: list[Issue], name: str, reason: str, value: Any = None) -> None:
    issues.append(Issue(reason=reason, column=name, value=None if value is None else str(value)))


def _number(
    issues: list[Issue],
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    allow_inf: bool = False,
) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        _issue(issues, name, "must be a number", value)
        return math.nan
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        _issue(issues, name, "must be a finite number", value)
    elif low is not None and (x < low or (low_open and x == low)):
        _issue(issues, name, f"must be {'>' if low_open else '>='} {low:g}", value)
    elif high is not None and x > high:
        _issue(issues, name, f"must be <= {high:g}", value)
    return x


def _series(
    issues: list[Issue], name: str, value: Any, n: int, *, low: float | None = None, scalar_ok: bool = False
) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _issue(issues, name, "must be an array of numbers")
        return np.zeros(n)
    if arr.ndim == 0 and scalar_ok:
        arr = np.full(n, float(arr))
    if arr.ndim != 1:
        _issue(issues, name, f"must be a one-dimensional array of {n} hourly values (got shape {arr.shape})")
        return np.zeros(n)
    if arr.size != n:
        _issue(issues, name, f"has {arr.size} hourly values; load_kw has {n}: all hourly arrays must match")
        return np.zeros(n)
    bad = ~np.isfinite(arr)
    if bad.any():
        _issue(issues, name, f"has {int(bad.sum())} missing or infinite value(s), first at hour {int(np.argmax(bad))}")
        return np.zeros(n)
    if low is not None and (arr < low).any():
        first = int(np.argmax(arr < low))
        _issue(issues, name, f"must be >= {low:g} (hour {first})", arr[first])
    return arr


def _prepare(inp: SizingInput) -> _Data:
    """Check the input; raise ValidationFailed naming every bad field."""
    issues: list[Issue] = []
    weight = _number(issues, "hour_weight", inp.hour_weight, low=0, low_open=True)
    load = np.asarray(inp.load_kw, dtype=float) if np.ndim(inp.load_kw) == 1 else np.zeros(0)
    n = load.size
    if np.ndim(inp.load_kw) != 1 or n == 0:
        _issue(issues, "load_kw", "must be a one-dimensional array of hourly values")
    elif math.isfinite(weight) and weight > 0 and abs(n * weight - HOURS_PER_YEAR) > 1e-6:
        _issue(
            issues,
            "load_kw",
            f"has {n} hourly values; with hour_weight {weight:g} a year needs "
            f"{HOURS_PER_YEAR / weight:g} (8760 / hour_weight)",
            n,
        )
    if issues:
        raise ValidationFailed(f"sizing input rejected: {', '.join(i.column or '' for i in issues)}", issues=issues)

    load = _series(issues, "load_kw", load, n, low=0)
    price_import = _series(issues, "import_price_cny_per_kwh", inp.import_price_cny_per_kwh, n, low=0)
    price_export = _series(issues, "export_price_cny_per_kwh", inp.export_price_cny_per_kwh, n, scalar_ok=True)
    intensity = _series(
        issues, "grid_intensity_tco2_per_kwh", inp.grid_intensity_tco2_per_kwh, n, low=0, scalar_ok=True
    )
    before = len(issues)
    month = _series(issues, "hour_month", inp.hour_month, n)
    if len(issues) == before and ((month != np.round(month)) | (month < 1) | (month > 12)).any():
        _issue(issues, "hour_month", "must hold whole months 1..12")
    _number(issues, "demand_charge_cny_per_kw_month", inp.demand_charge_cny_per_kw_month, low=0)
    carbon = _number(issues, "carbon_price_cny_per_tco2", inp.carbon_price_cny_per_tco2, low=0)
    _number(issues, "export_limit_kw", inp.export_limit_kw, low=0, allow_inf=True)
    _number(issues, "import_limit_kw", inp.import_limit_kw, low=0, allow_inf=True)
    rate = _number(issues, "discount_rate", inp.discount_rate, low=-1, low_open=True)
    horizon = inp.horizon_years
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        _issue(issues, "horizon_years", "must be a whole number of years >= 1", horizon)
    if not math.isnan(rate) and abs(rate) > 0.5:
        _issue(issues, "discount_rate", "is a fraction per year (0.06 for 6 %); must be within -0.5..0.5", rate)
    if inp.min_renewable_share is not None:
        _share(issues, "min_renewable_share", inp.min_renewable_share)
    if inp.max_co2_tco2_per_year is not None:
        _number(issues, "max_co2_tco2_per_year", inp.max_co2_tco2_per_year, low=0)
    if inp.budget_cny is not None:
        _number(issues, "budget_cny", inp.budget_cny, low=0)

    codes: list[str] = []
    yields, existing, pv_max = [], [], []
    for i, s in enumerate(inp.surfaces):
        where = f"surfaces[{s.code or i}]"
        if not s.code:
            _issue(issues, f"surfaces[{i}].code", "must not be empty")
        elif s.code in codes:
            _issue(issues, f"{where}.code", "appears twice: surface codes must be unique", s.code)
        codes.append(s.code)
        if s.kind not in SURFACE_KINDS:
            _issue(issues, f"{where}.kind", f"must be one of {', '.join(SURFACE_KINDS)}", s.kind)
        area = _number(issues, f"{where}.area_m2", s.area_m2, low=0)
        density = s.density_kwp_per_m2
        if s.kwp_per_m2 is not None:
            density = _number(issues, f"{where}.kwp_per_m2", s.kwp_per_m2, low=0, low_open=True)
        had = _number(issues, f"{where}.existing_kwp", s.existing_kwp, low=0)
        _number(issues, f"{where}.capex_cny_per_kwp", s.capex_cny_per_kwp, low=0)
        _number(issues, f"{where}.opex_cny_per_kwp_year", s.opex_cny_per_kwp_year, low=0)
        _number(issues, f"{where}.lifetime_years", s.lifetime_years, low=0, low_open=True)
        _number(issues, f"{where}.replacement_cost_factor", s.replacement_cost_factor, low=0)
        limit = area * density
        if math.isfinite(limit) and had > limit + 1e-9:
            _issue(
                issues,
                f"{where}.existing_kwp",
                f"exceeds what the area takes ({area:g} m² x {density:g} kWp/m² = {limit:g} kWp)",
                had,
            )
        yields.append(_series(issues, f"{where}.yield_kw_per_kwp", s.yield_kw_per_kwp, n, low=0))
        existing.append(had)
        pv_max.append(max(limit, had) if math.isfinite(limit) else 0.0)

    b = inp.battery
    if b is not None:
        for name in (
            "capex_cny_per_kwh",
            "capex_cny_per_kw",
            "opex_share_per_year",
            "replacement_cost_factor",
            "throughput_cost_cny_per_kwh",
            "existing_kwh",
            "existing_kw",
            "kw_per_kwh_min",
        ):
            _number(issues, f"battery.{name}", getattr(b, name), low=0)
        _number(issues, "battery.lifetime_years", b.lifetime_years, low=0, low_open=True)
        for name in ("eta_charge", "eta_discharge"):
            _number(issues, f"battery.{name}", getattr(b, name), low=0, low_open=True, high=1)
        lo = _number(issues, "battery.soc_min_pct", b.soc_min_pct, low=0, high=100)
        hi = _number(issues, "battery.soc_max_pct", b.soc_max_pct, low=0, high=100)
        if lo >= hi:
            _issue(issues, "battery.soc_max_pct", f"must be above soc_min_pct ({lo:g} %)", hi)
        loss = _number(issues, "battery.self_discharge_pct_per_h", b.self_discharge_pct_per_h, low=0)
        if loss >= 100:
            _issue(issues, "battery.self_discharge_pct_per_h", "must be below 100 %/h", loss)
        kw_max = _number(issues, "battery.kw_per_kwh_max", b.kw_per_kwh_max, low=0, low_open=True)
        if b.kw_per_kwh_min > kw_max:
            _issue(issues, "battery.kw_per_kwh_min", f"must not exceed kw_per_kwh_max ({kw_max:g})", b.kw_per_kwh_min)
        if b.max_kwh is not None:
            cap = _number(issues, "battery.max_kwh", b.max_kwh, low=0, allow_inf=True)
            if cap < b.existing_kwh:
                _issue(issues, "battery.max_kwh", f"is below the existing battery ({b.existing_kwh:g} kWh)", cap)
    if issues:
        fields = ", ".join(dict.fromkeys(i.column or "" for i in issues))
        raise ValidationFailed(f"sizing input rejected: {fields}", issues=issues)

    months = np.unique(month.astype(int))
    starts = (np.arange(n) % 24 == 0) | np.r_[True, month[1:] != month[:-1]]
    block = np.cumsum(starts) - 1
    crf = capital_recovery_factor(rate, horizon)

    def factor(lifetime: float, replacement: float) -> float:
        repl, resid = lifecycle_cost_factors(lifetime, horizon, rate, replacement)
        return crf * (1.0 + repl - resid)

    return _Data(
        inp=inp,
        n_hours=n,
        weight=weight,
        load=load,
        price_import=price_import,
        price_export=price_export,
        price_export_lp=np.minimum(price_export, price_import + carbon * intensity),
        intensity=intensity,
        month=month.astype(int),
        month_scale=12.0 / months.size,
        block=block,
        block_month=month.astype(int)[starts],
        codes=codes,
        yields=np.array(yields).reshape(len(codes), n),
        pv_existing=np.array(existing, dtype=float),
        pv_max=np.array(pv_max, dtype=float),
        crf=crf,
        pv_capex_factor=np.array([factor(s.lifetime_years, s.replacement_cost_factor) for s in inp.surfaces]),
        battery_capex_factor=factor(b.lifetime_years, b.replacement_cost_factor) if b is not None else 0.0,
        # a kg of CO2 is worth as much as the import that causes it at the cleanest hour (>= 0.1 kg/kWh)
        penalty_cny_per_kg=_PENALTY_CNY_PER_KWH / max(0.1, 1000.0 * float(intensity[intensity > 0].min(initial=1.0))),
    )


# -- the linear programme --------------------------------------------------------------------------
class _Lp:
    """The linopy model of one case; ``fixed`` freezes the capacities at the existing assets (BAU).

    The optional share and CO2 limits are elastic: a shortfall variable priced at `_PENALTY_CNY_PER_KWH` keeps
    the LP feasible, so an unreachable target comes back as a shortfall (how far the limits fall short) instead
    of a slow proof of infeasibility followed by more solves to explain it. The budget is a hard limit (spending
    nothing always meets it).
    """

    def __init__(self, d: _Data, *, fixed: bool):
        self.d, self.fixed = d, fixed
        self.compiled: CompiledModel | None = None
        self.result: LpResult | None = None
        inp, b = d.inp, d.inp.battery
        m = self.m = linopy.Model()
        hours = pd.RangeIndex(d.n_hours, name="time")
        blocks = pd.RangeIndex(int(d.block.max()) + 1, name="block")
        w = d.weight

        def hourly(values: np.ndarray) -> xr.DataArray:
            return xr.DataArray(values, coords=[hours])

        self._blocks = blocks
        self._block_of_hour = xr.DataArray(d.block, coords=[hours], name="block")
        self._block_sums: dict[str, linopy.Variable] = {}
        self.imp = m.add_variables(lower=0, upper=inp.import_limit_kw, coords=[hours], name="grid_import_kw")
        self.exp = m.add_variables(lower=0, upper=inp.export_limit_kw, coords=[hours], name="grid_export_kw")
        existing_pv = hourly(d.pv_existing @ d.yields)  # [kW]
        # Curtailment is the balance's surplus (the balance is an inequality). Grid and battery may feed no more
        # than the load and the charging, so the surplus is PV, and so is every exported kWh.
        supply = self.imp - self.exp
        grid_and_battery = self.imp
        self.pv_new = None
        if d.codes:
            surfaces = pd.Index(d.codes, name="surface")
            room = np.zeros(len(d.codes)) if fixed else d.pv_max - d.pv_existing
            self.pv_new = m.add_variables(lower=0, upper=xr.DataArray(room, coords=[surfaces]), name="pv_new_kwp")
            supply = supply + (xr.DataArray(d.yields, coords=[surfaces, hours]) * self.pv_new).sum("surface")
        self.kwh_new = self.kw_new = self.ch = self.dis = self.stored = None
        if b is not None:
            room_kwh = 0.0 if fixed else (np.inf if b.max_kwh is None else b.max_kwh - b.existing_kwh)
            self.kwh_new = m.add_variables(lower=0, upper=room_kwh, name="battery_new_kwh")
            self.kw_new = m.add_variables(lower=0, upper=b.kw_per_kwh_max * room_kwh, name="battery_new_kw")
            self.ch = m.add_variables(lower=0, coords=[hours], name="battery_charge_kw")
            self.dis = m.add_variables(lower=0, coords=[hours], name="battery_discharge_kw")
            # energy above the least state of charge [kWh]: soc = soc_min x kWh + stored, and stored >= 0 is a
            # bound rather than 8760 rows
            self.stored = m.add_variables(lower=0, coords=[hours], name="battery_stored_kwh")
            supply = supply + self.dis - self.ch
            grid_and_battery = grid_and_battery + self.dis - self.ch
            smin, window = b.soc_min_pct / 100, (b.soc_max_pct - b.soc_min_pct) / 100
            m.add_constraints(self.kw_new - b.kw_per_kwh_max * self.kwh_new <= 0, name="battery_kw_per_kwh_max")
            m.add_constraints(self.kw_new - b.kw_per_kwh_min * self.kwh_new >= 0, name="battery_kw_per_kwh_min")
            # one converter: charging and discharging share its power (and so never happen at once)
            m.add_constraints(self.ch + self.dis - self.kw_new <= b.existing_kw, name="battery_power")
            m.add_constraints(self.stored - window * self.kwh_new <= window * b.existing_kwh, name="battery_soc_max")
            keep = 1.0 - b.self_discharge_pct_per_h / 100
            balance = self.stored - keep * _previous_hour(self.stored, d.n_hours) - b.eta_charge * self.ch
            balance = balance + (1.0 / b.eta_discharge) * self.dis
            if keep < 1:  # self-discharge drains the energy below soc_min too
                balance = balance + ((1 - keep) * smin) * self.kwh_new
            m.add_constraints(balance == -(1 - keep) * smin * b.existing_kwh, name="battery_soc_balance")
        m.add_constraints(supply >= hourly(d.load) - existing_pv, name="energy_balance")
        m.add_constraints(grid_and_battery <= hourly(d.load), name="only_pv_exported")

        cost = (hourly(w * (d.price_import + inp.carbon_price_cny_per_tco2 * d.intensity)) * self.imp).sum()
        cost = cost - (hourly(w * d.price_export_lp) * self.exp).sum()
        self.peak = None
        if inp.demand_charge_cny_per_kw_month > 0:
            # two layers (hour -> block -> month) keep each peak variable in a few dozen rows instead of 730
            months = pd.Index(np.unique(d.month), name="month")
            self.peak = m.add_variables(lower=0, coords=[months], name="peak_import_kw")
            block_peak = m.add_variables(lower=0, coords=[blocks], name="block_peak_import_kw")
            m.add_constraints(self.imp - block_peak.sel(block=self._block_of_hour) <= 0, name="block_peak")
            block_month = xr.DataArray(d.block_month, coords=[blocks], name="month")
            m.add_constraints(block_peak - self.peak.sel(month=block_month) <= 0, name="monthly_peak")
            cost = cost + (inp.demand_charge_cny_per_kw_month * d.month_scale) * self.peak.sum()
        if self.pv_new is not None:
            per_kwp = [
                s.capex_cny_per_kwp * f + s.opex_cny_per_kwp_year
                for s, f in zip(inp.surfaces, d.pv_capex_factor, strict=True)
            ]
            cost = cost + (_per_surface(per_kwp, d.codes) * self.pv_new).sum()
        if b is not None:
            running = d.battery_capex_factor + b.opex_share_per_year
            cost = cost + (b.capex_cny_per_kwh * running) * self.kwh_new + (b.capex_cny_per_kw * running) * self.kw_new
            if b.throughput_cost_cny_per_kwh > 0:
                cost = cost + (w * b.throughput_cost_cny_per_kwh) * self.dis.sum()

        self.share_shortfall = self.co2_excess = None
        if not fixed:
            if inp.min_renewable_share is not None:
                self.share_shortfall = m.add_variables(lower=0, name="renewable_share_shortfall_kwh")
                cost = cost + _PENALTY_CNY_PER_KWH * self.share_shortfall
                self.set_min_share(inp.min_renewable_share)
            if inp.max_co2_tco2_per_year is not None:
                self.co2_excess = m.add_variables(lower=0, name="co2_excess_kg")
                cost = cost + d.penalty_cny_per_kg * self.co2_excess
                cap_kg = 1000.0 * inp.max_co2_tco2_per_year
                m.add_constraints(self.co2_kg_expr() - self.co2_excess <= cap_kg, name="max_co2_tco2_per_year")
            capex = self.capex_expr()
            if inp.budget_cny is not None and capex is not None:
                m.add_constraints(capex <= inp.budget_cny, name="budget_cny")
        m.add_objective(cost)

    def _blocked_sum(self, name: str, per_kw: np.ndarray) -> linopy.LinearExpression:
        """``sum_t per_kw[t] x import[t]`` through one variable per block: no row with 8760 terms."""
        if name not in self._block_sums:
            var = self.m.add_variables(lower=0, coords=[self._blocks], name=f"block_{name}")
            weighted = (xr.DataArray(per_kw, coords=self.imp.coords) * self.imp).groupby(self._block_of_hour).sum()
            self.m.add_constraints(var - weighted == 0, name=f"block_{name}")
            self._block_sums[name] = var
        return self._block_sums[name].sum()

    def import_expr(self) -> linopy.LinearExpression:
        """Grid import over the year [kWh/yr]."""
        return self._blocked_sum("import_kwh", np.full(self.d.n_hours, self.d.weight))

    def co2_kg_expr(self) -> linopy.LinearExpression:
        """Grid emissions over the year [kgCO2/yr] (kg keeps the coefficients near 1)."""
        return self._blocked_sum("co2_kg", 1000.0 * self.d.weight * self.d.intensity)

    def capex_expr(self) -> linopy.LinearExpression | None:
        """Initial investment [CNY]; None when nothing can be built."""
        inp, expr = self.d.inp, None
        if self.pv_new is not None:
            expr = (_per_surface([s.capex_cny_per_kwp for s in inp.surfaces], self.d.codes) * self.pv_new).sum()
        if inp.battery is not None:
            battery = inp.battery.capex_cny_per_kwh * self.kwh_new + inp.battery.capex_cny_per_kw * self.kw_new
            expr = battery if expr is None else expr + battery
        return expr

    def _allowed_import_kwh(self, share: float) -> float:
        return (1.0 - share) * self.d.weight * float(self.d.load.sum())

    def set_min_share(self, share: float) -> None:
        """Move the renewable-share target to ``share`` [-]: only the row's right-hand side changes."""
        if self.compiled is None:
            if "min_renewable_share" in self.m.constraints:
                self.m.remove_constraints("min_renewable_share")
            lhs = self.import_expr() - self.share_shortfall
            self.m.add_constraints(lhs <= self._allowed_import_kwh(share), name="min_renewable_share")
        else:
            self.compiled.set_rhs("min_renewable_share", np.asarray(self._allowed_import_kwh(share)))

    def solve(self, options: Mapping[str, Any] | None = None, time_limit_s: float = _TIME_LIMIT_S) -> bool:
        """Solve quietly with HiGHS (warm from the last basis when solved before); True for a proven optimum.

        Raises
        ------
        RuntimeError
            When HiGHS stops without an answer (time limit, numerical trouble); infeasibility returns False.
        ValueError
            For an option HiGHS does not know or a value it does not take.
        """
        if self.compiled is None:
            self.compiled = CompiledModel(self.m)
        for key, value in (options or {}).items():
            if self.compiled.h.setOptionValue(key, value).name != "kOk":
                raise ValueError(f"HiGHS rejects the option {key}={value!r}")
        self.result = self.compiled.solve(time_limit_s=time_limit_s)
        if not self.result.optimal and self.result.status not in _INFEASIBLE:
            raise RuntimeError(
                f"HiGHS stopped without a sizing after {self.result.solve_s:.1f} s: {self.result.status}"
            )
        return self.result.optimal

    def value(self, name: str) -> np.ndarray:
        """Solution of the linopy variable ``name`` (an array shaped like its labels)."""
        return _clean(self.result.values[name])

    def dual(self, name: str) -> float:
        """Shadow price of the single row ``name`` [objective units per unit of right-hand side]."""
        rows = self.compiled.rows(name).ravel()
        return float(np.asarray(self.compiled.h.getSolution().row_dual)[rows].sum())

    def unmet(self) -> list[Issue]:
        """The optional targets the solution falls short of, with how far the limits reach."""
        d, inp, found = self.d, self.d.inp, []
        within = "the surfaces' area, the battery and grid limits" + (
            f" and budget_cny {inp.budget_cny:g} CNY" if inp.budget_cny is not None else ""
        )
        load_kwh = d.weight * float(d.load.sum())
        if self.share_shortfall is not None:
            short_kwh = float(self.value("renewable_share_shortfall_kwh"))
            if short_kwh > _TOL * load_kwh:
                reached = inp.min_renewable_share - short_kwh / load_kwh
                found.append(
                    Issue(
                        reason=f"cannot be met: {within} let on-site PV cover at most {100 * reached:.1f} % of the load "
                        f"(asked {100 * inp.min_renewable_share:.1f} %)",
                        column="min_renewable_share",
                        value=f"{inp.min_renewable_share:g}",
                    )
                )
        if self.co2_excess is not None:
            excess_t = float(self.value("co2_excess_kg")) / 1000.0
            if excess_t > _TOL * max(inp.max_co2_tco2_per_year, 1.0):
                found.append(
                    Issue(
                        reason=f"cannot be met: with {within} grid emissions stay at "
                        f"{inp.max_co2_tco2_per_year + excess_t:.1f} tCO2/yr or more "
                        f"(asked <= {inp.max_co2_tco2_per_year:g})",
                        column="max_co2_tco2_per_year",
                        value=f"{inp.max_co2_tco2_per_year:g}",
                    )
                )
        return found


def _previous_hour(var: linopy.Variable, n_hours: int) -> linopy.Variable:
    """``var`` one hour earlier on the same labels, the last hour standing before the first (cyclic).

    Positions instead of ``shift``/``roll``: no NaN slots and no re-alignment, so the expression means the same
    under linopy's legacy and v1 arithmetic and raises no LinopySemanticsWarning.
    """
    return var.isel(time=np.roll(np.arange(n_hours), 1)).assign_coords(time=np.arange(n_hours))


def _per_surface(values: Sequence[float], codes: list[str]) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=float), coords=[pd.Index(codes, name="surface")])


def _clean(values: Any) -> np.ndarray:
    """Solver values as floats, with round-off below `_ZERO` set to 0."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.abs(arr) < _ZERO, 0.0, arr)


def _infeasible(d: _Data) -> ValidationFailed:
    reason = (
        "the load cannot be met in every hour even with every surface at its area limit and the largest battery: "
        "raise import_limit_kw"
    )
    return ValidationFailed(
        f"no sizing meets the load: import_limit_kw {d.inp.import_limit_kw:g} kW is too low",
        issues=[Issue(reason=reason, column="import_limit_kw", value=f"{d.inp.import_limit_kw:g}")],
    )


def _unmet_error(found: list[Issue]) -> ValidationFailed:
    detail = "; ".join(f"{i.column} {i.value}: {i.reason}" for i in found)
    return ValidationFailed(f"no sizing meets the constraints: {detail}", issues=found)


# -- reading a solution ----------------------------------------------------------------------------
def _case(lp: _Lp, solve_time_s: float) -> Case:
    """Read the solution, net import against export hour by hour, and price it at the real tariff."""
    d, inp, b = lp.d, lp.d.inp, lp.d.inp.battery
    w, n = d.weight, d.n_hours
    pv_new = lp.value("pv_new_kwp") if lp.pv_new is not None else np.zeros(0)
    pv_total = d.pv_existing + pv_new
    net = lp.value("grid_import_kw") - lp.value("grid_export_kw")
    imp, exp = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    kwh_new = kw_new = 0.0
    ch = dis = soc = np.zeros(n)
    if b is not None:
        kwh_new, kw_new = float(lp.value("battery_new_kwh")), float(lp.value("battery_new_kw"))
        ch, dis = lp.value("battery_charge_kw"), lp.value("battery_discharge_kw")
        soc = lp.value("battery_stored_kwh") + b.soc_min_pct / 100 * (b.existing_kwh + kwh_new)
    available = pv_total @ d.yields if d.codes else np.zeros(n)
    curt = _clean(np.maximum(available + imp + dis - d.load - exp - ch, 0.0))  # the balance's surplus
    pv_kw = available - curt

    capex_pv = np.array([s.capex_cny_per_kwp for s in inp.surfaces]) * pv_new
    capex_battery = b.capex_cny_per_kwh * kwh_new + b.capex_cny_per_kw * kw_new if b is not None else 0.0
    assets = [
        (float(c), s.lifetime_years, s.replacement_cost_factor) for c, s in zip(capex_pv, inp.surfaces, strict=True)
    ]
    if b is not None:
        assets.append((capex_battery, b.lifetime_years, b.replacement_cost_factor))
    replacements = residual = 0.0
    for cost, lifetime, factor in assets:
        repl, resid = lifecycle_cost_factors(lifetime, inp.horizon_years, inp.discount_rate, factor)
        replacements += cost * repl
        residual += cost * resid
    capex = float(sum(cost for cost, _, _ in assets))
    opex = float(np.dot([s.opex_cny_per_kwp_year for s in inp.surfaces], pv_total)) if d.codes else 0.0
    if b is not None:
        opex += b.opex_share_per_year * (
            b.capex_cny_per_kwh * (b.existing_kwh + kwh_new) + b.capex_cny_per_kw * (b.existing_kw + kw_new)
        )
        opex += w * b.throughput_cost_cny_per_kwh * float(dis.sum())
    peaks = np.array([imp[d.month == month].max() for month in np.unique(d.month)])
    co2 = w * float(d.intensity @ imp)
    costs = AnnualCosts(
        capex_annuity_cny=d.crf * capex,
        replacement_annuity_cny=d.crf * replacements,
        residual_value_annuity_cny=0.0 - d.crf * residual,
        opex_cny=opex,
        energy_cny=w * float(d.price_import @ imp),
        export_income_cny=w * float(d.price_export @ exp),
        demand_charge_cny=inp.demand_charge_cny_per_kw_month * d.month_scale * float(peaks.sum()),
        carbon_cny=inp.carbon_price_cny_per_tco2 * co2,
    )
    load_kwh = w * float(d.load.sum())
    generation_kwh = w * float(pv_kw.sum())
    import_kwh, export_kwh = w * float(imp.sum()), w * float(exp.sum())
    share_pct = 100.0 * (load_kwh - import_kwh) / load_kwh
    return Case(
        pv_kwp=dict(zip(d.codes, pv_total.tolist(), strict=True)),
        pv_new_kwp=dict(zip(d.codes, pv_new.tolist(), strict=True)),
        battery_kwh=(b.existing_kwh + kwh_new) if b is not None else 0.0,
        battery_kw=(b.existing_kw + kw_new) if b is not None else 0.0,
        battery_new_kwh=kwh_new,
        battery_new_kw=kw_new,
        capex_cny=capex,
        costs=costs,
        lifecycle_cost_cny=costs.total_cny / d.crf,
        load_kwh=load_kwh,
        pv_generation_kwh=generation_kwh,
        curtailment_kwh=w * float(curt.sum()),
        grid_import_kwh=import_kwh,
        grid_export_kwh=export_kwh,
        battery_charge_kwh=w * float(ch.sum()),
        battery_discharge_kwh=w * float(dis.sum()),
        peak_import_kw=float(peaks.max()),
        renewable_share_pct=share_pct,
        self_consumption_pct=100.0 * (generation_kwh - export_kwh) / generation_kwh if generation_kwh > 0 else None,
        self_sufficiency_pct=share_pct,
        co2_tco2_per_year=co2,
        solve_time_s=solve_time_s,
        hourly={
            "grid_import_kw": imp,
            "grid_export_kw": exp,
            "pv_generation_kw": pv_kw,
            "curtailment_kw": curt,
            "battery_charge_kw": ch,
            "battery_discharge_kw": dis,
            "battery_soc_kwh": soc,
        },
    )


def _replacements_due(d: _Data, plan: Case) -> dict[float, float]:
    """Replacement costs of the new assets [CNY] by the time they fall due [yr]."""
    inp, b, due = d.inp, d.inp.battery, {}
    items = [
        (s.capex_cny_per_kwp * plan.pv_new_kwp[s.code], s.lifetime_years, s.replacement_cost_factor)
        for s in inp.surfaces
    ]
    if b is not None:
        capex = b.capex_cny_per_kwh * plan.battery_new_kwh + b.capex_cny_per_kw * plan.battery_new_kw
        items.append((capex, b.lifetime_years, b.replacement_cost_factor))
    for capex, lifetime, factor in items:
        for when in _replacement_times(lifetime, inp.horizon_years):
            due[when] = due.get(when, 0.0) + capex * factor
    return due


def _result(d: _Data, lp: _Lp, plan: Case, bau: Case, condition: str, started: float) -> SizingResult:
    inp = d.inp
    saving = bau.costs.operating_cny - plan.costs.operating_cny
    marginal = {}
    if inp.min_renewable_share is not None:  # d cost / d share, per percentage point
        marginal["min_renewable_share"] = -lp.dual("min_renewable_share") * plan.load_kwh / 100
    if inp.max_co2_tco2_per_year is not None:  # rows are in kg: x 1000 for CNY per tCO2
        marginal["max_co2_tco2_per_year"] = -lp.dual("max_co2_tco2_per_year") * 1000
    if inp.budget_cny is not None:
        marginal["budget_cny"] = -lp.dual("budget_cny")
    names = ("min_renewable_share", "max_co2_tco2_per_year", "budget_cny")
    return SizingResult(
        status=condition,
        plan=plan,
        bau=bau,
        npv_cny=bau.lifecycle_cost_cny - plan.lifecycle_cost_cny,
        annual_saving_cny=saving,
        simple_payback_years=simple_payback_years(plan.capex_cny, saving),
        discounted_payback_years=discounted_payback_years(
            plan.capex_cny, saving, inp.discount_rate, inp.horizon_years, _replacements_due(d, plan)
        ),
        marginal_cost={k: float(_clean(v)) for k, v in marginal.items()},
        constraints={k: float(getattr(inp, k)) for k in names if getattr(inp, k) is not None},
        solve_time_s=time.perf_counter() - started,
    )


# -- public entry points ---------------------------------------------------------------------------
def _bau(d: _Data, options: Mapping[str, Any] | None) -> Case:
    started = time.perf_counter()
    lp = _Lp(d, fixed=True)
    if not lp.solve(options):
        raise ValidationFailed(
            "business as usual (existing assets only) cannot meet the load: raise import_limit_kw",
            issues=[
                Issue(
                    reason="the existing PV and battery and the grid cannot cover the load in every hour",
                    column="import_limit_kw",
                    value=f"{d.inp.import_limit_kw:g}",
                )
            ],
        )
    return _case(lp, time.perf_counter() - started)


def _solve_plan(lp: _Lp, options: Mapping[str, Any] | None) -> str:
    if not lp.solve(options):
        raise _infeasible(lp.d)
    found = lp.unmet()
    if found:
        raise _unmet_error(found)
    return "optimal"


def size_system(inp: SizingInput, *, solver_options: Mapping[str, Any] | None = None) -> SizingResult:
    """Least-lifecycle-cost PV per surface and battery, beside business as usual.

    Parameters
    ----------
    inp : SizingInput
        Load, tariff, surfaces, battery option and optional constraints.
    solver_options : mapping, optional
        Extra HiGHS options (``solver``, ``threads`` ...).

    Returns
    -------
    SizingResult
        The plan and BAU, NPV [CNY], paybacks [yr], KPIs and solve time [s].

    Raises
    ------
    ValidationFailed
        When an input is malformed (naming the field), or no sizing meets the constraints (naming the one that
        cannot be met and how far the limits reach).
    RuntimeError
        When HiGHS stops without an answer (time limit, numerical trouble).
    """
    started = time.perf_counter()
    d = _prepare(inp)
    bau = _bau(d, solver_options)
    point = time.perf_counter()
    lp = _Lp(d, fixed=False)
    condition = _solve_plan(lp, solver_options)
    plan = _case(lp, time.perf_counter() - point)
    return _result(d, lp, plan, bau, condition, started)


def tradeoff(
    inp: SizingInput, renewable_shares: Sequence[float], *, solver_options: Mapping[str, Any] | None = None
) -> list[SizingResult]:
    """Least-cost sizing for each renewable share: the cost against renewable share curve.

    The LP is built once and re-solved with each share as ``min_renewable_share`` (replacing any share on
    ``inp``); BAU is solved once and shared by all points.

    Parameters
    ----------
    inp : SizingInput
        As for `size_system`.
    renewable_shares : sequence of float
        Least shares of the load covered on site [-], fractions 0..1.

    Returns
    -------
    list of SizingResult
        One per share, in the order given; ``solve_time_s`` of each is its own re-solve [s].

    Raises
    ------
    ValidationFailed
        For a malformed input or share, or a share the limits cannot reach (saying how far they reach).
    """
    issues: list[Issue] = []
    for i, share in enumerate(renewable_shares):
        _share(issues, f"renewable_shares[{i}]", share)
    if not renewable_shares:
        _issue(issues, "renewable_shares", "must list at least one share")
    if issues:
        raise ValidationFailed(f"sizing input rejected: {', '.join(i.column or '' for i in issues)}", issues=issues)
    d = _prepare(replace(inp, min_renewable_share=float(renewable_shares[0])))
    bau = _bau(d, solver_options)
    lp = _Lp(d, fixed=False)
    results = []
    for share in renewable_shares:
        point = time.perf_counter()
        lp.d = replace(d, inp=replace(inp, min_renewable_share=float(share)))
        lp.set_min_share(float(share))
        condition = _solve_plan(lp, solver_options)
        plan = _case(lp, time.perf_counter() - point)
        results.append(_result(lp.d, lp, plan, bau, condition, point))
    return results


def max_renewable_share(inp: SizingInput, *, solver_options: Mapping[str, Any] | None = None) -> float:
    """Largest share of the load on-site PV can cover within the area, battery and grid limits [-].

    The right end of the `tradeoff` curve: least grid import, whatever the cost. ``budget_cny`` is honoured;
    ``min_renewable_share`` and ``max_co2_tco2_per_year`` are ignored.
    """
    d = _prepare(replace(inp, min_renewable_share=None, max_co2_tco2_per_year=None))
    lp = _Lp(d, fixed=False)
    lp.m.add_objective(lp.import_expr(), overwrite=True)
    if not lp.solve(solver_options):
        raise _infeasible(d)
    return 1.0 - lp.result.objective / (d.weight * float(d.load.sum()))


__all__ = [
    "DEFAULT_KWP_PER_M2",
    "AnnualCosts",
    "BatteryOption",
    "Case",
    "SizingInput",
    "SizingResult",
    "Surface",
    "capital_recovery_factor",
    "discounted_payback_years",
    "lifecycle_cost_factors",
    "max_renewable_share",
    "simple_payback_years",
    "size_system",
    "tradeoff",
]
