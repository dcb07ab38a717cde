"""Resilience of the islanded park: how long the critical loads survive a grid outage or a spell of bad weather.

The method follows NREL REopt's outage simulator (``simulate_outages`` in REopt.jl, ``src/outagesim/
outage_simulator.jl``): an outage is simulated step by step from its first step, with the park running as an
islanded microgrid on its PV, its batteries and, optionally, a backup generator. The **survivable time** of an
outage is the time during which the critical load is fully served from the start, counted in whole 15-minute
steps: the step that cannot be fully served does not count (REopt likewise returns ``i / n_steps_per_hour`` for
the first failing step ``i``). Simulating an outage that starts at every step (or every hour) of a year gives the
distribution of survivable hours and the probability of surviving an outage of a given duration (`outage_sweep`).

One islanded step (`islanded`):

1. **Tiers to serve.** Critical tiers (``sheddable=False``: data centre IT, control room, wastewater) are never
   shed. Sheddable tiers are served in descending ``priority`` while the step's supply (PV + what the batteries
   can deliver + the generator) carries them; the first tier that cannot be carried is shed with every tier of
   lower priority, so a lower-priority load never runs while a higher one is off. A tier may also be shed
   pre-emptively while the batteries' SOC is below its ``shed_below_soc_pct``: shedding only when a tier can no
   longer be carried saves nothing once the stored energy is gone (the tests show it), whereas shedding at a SOC
   threshold keeps that energy for the critical load.
2. **PV** serves the load; a surplus charges the batteries (within their power and soc_max), the rest is
   curtailed (there is no grid to export to).
3. **A deficit** is served by the batteries down to their soc_min, not just down to the dispatch reserve (the
   reserve exists for exactly this), shared in proportion to what each can deliver in the step; then by the
   generator while its fuel lasts. Batteries go first so that a battery is not held full by the generator when the
   next day's PV could fill it.
4. **Failure.** In the first step the critical tiers cannot be served in full, the island fails: the rest of the
   outage is a blackout in which every tier's load is unserved (a black start of the collapsed island is not
   modelled).

Differences from REopt: one-way efficiencies and SOC limits per battery (REopt applies a round-trip efficiency on
charging and drains to 0 kWh); batteries before the generator (REopt runs the generator first); load tiers with
shedding; constant generator efficiency (no part-load fuel curve: with a lightly loaded generator the result is
optimistic). As in REopt, a sweep treats the record as cyclic: an outage starting on 31 December continues into
the data of 1 January.

Bad inputs raise `ValidationFailed` naming the field and the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from parkzero.energy.dispatch import STEP_H, Battery
from parkzero.errors import Issue, ValidationFailed

__all__ = [
    "DIESEL_KWH_PER_KG",
    "BadWeatherResult",
    "Generator",
    "IslandResult",
    "LoadTier",
    "ResilienceReport",
    "SweepResult",
    "WeatherScenario",
    "bad_weather",
    "islanded",
    "outage_sweep",
    "resilience_report",
    "step_start_soc",
]

# diesel NCV 42.652 GJ/t (GB/T 32150-2015 Table B.1, as in factors/data/cn_fuels.csv) / 3.6 GJ/MWh = 11.848 kWh/kg
DIESEL_KWH_PER_KG = 42.652 / 3.6
TOL_KW = 1e-6  # a load counts as served if the shortfall is below this [kW]
CRITICAL = "critical"

SocInput = Mapping[str, float | np.ndarray] | Sequence[float]


# --------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class LoadTier:
    """A group of loads switched together in an outage.

    Parameters
    ----------
    name : str
        Unique name, e.g. ``"critical"``, ``"process"``, ``"offices"``. A tier named ``"critical"`` must not be
        sheddable.
    kw : numpy.ndarray
        Demand per 15-minute step [kW], one value per step of the record.
    priority : int
        Shedding order among sheddable tiers: the lowest priority is shed first [-]. Ignored for critical tiers.
    sheddable : bool
        False for the critical load (never shed: the island fails if it cannot be served).
    shed_below_soc_pct : float
        Shed this tier whenever the batteries' stored energy at the start of a step is below this share of their
        total nameplate energy [% of energy_kwh]. 0 (default): shed only in steps where it cannot be carried;
        100: shed for the whole outage (unless no battery is present: without storage there is nothing to keep).
    """

    name: str
    kw: np.ndarray
    priority: int = 0
    sheddable: bool = True
    shed_below_soc_pct: float = 0.0


@dataclass(frozen=True)
class Generator:
    """A backup generator with the fuel on site; give the fuel either as energy or as litres of diesel.

    Parameters
    ----------
    power_kw : float
        Rated electric output [kW].
    efficiency : float
        Electricity out / fuel energy in (net calorific value), taken as constant at every load [-].
    fuel_kwh : float, optional
        Fuel energy on site at the outage start [kWh of fuel, NCV]; ``math.inf`` for a piped gas supply.
    fuel_litres : float, optional
        Diesel on site at the outage start [L].
    density_kg_per_l : float
        Fuel density used to convert litres [kg/L]; 0.84 kg/L is typical for Chinese 0# diesel.
    kwh_per_kg : float
        Fuel net calorific value [kWh/kg]; diesel 42.652 GJ/t = 11.85 kWh/kg.
    """

    power_kw: float
    efficiency: float = 0.35
    fuel_kwh: float | None = None
    fuel_litres: float | None = None
    density_kg_per_l: float = 0.84
    kwh_per_kg: float = DIESEL_KWH_PER_KG

    @property
    def fuel_energy_kwh(self) -> float:
        """Fuel energy on site [kWh], from `fuel_kwh` or from `fuel_litres` (1 L diesel = 9.95 kWh)."""
        if self.fuel_kwh is not None:
            return float(self.fuel_kwh)
        if self.fuel_litres is not None:
            return float(self.fuel_litres) * self.density_kg_per_l * self.kwh_per_kg
        return 0.0


def step_start_soc(soc_end_kwh: np.ndarray, soc_start_kwh: float) -> np.ndarray:
    """SOC at the start of each step from a dispatch trace of SOC at the end of each step [kWh].

    `parkzero.energy.dispatch.self_consumption` and the dispatch plan's ``battery/{code}/soc_kwh`` column give the
    SOC at the end of a step; an outage starting at step ``t`` finds the SOC at the end of step ``t - 1``.
    """
    soc = np.asarray(soc_end_kwh, dtype=float)
    return np.r_[float(soc_start_kwh), soc[:-1]]


# --------------------------------------------------------------------------------------------------- results


@dataclass
class IslandResult:
    """One islanded outage.

    Attributes
    ----------
    start_step, max_steps : int
        First step of the outage (position in the record) and its length in steps.
    survived_steps : int
        Steps with the critical load fully served from the start.
    capped_by : str or None
        ``"max_steps"`` when the critical load was served for the whole outage (the true survival is at least
        this), ``"end of record"`` when the record ended first (``wrap=False``), None when the island failed.
    failed_step : int or None
        Position in the record of the first step the critical load could not be fully served.
    unserved_kwh : dict
        Tier name -> energy not served over the whole outage, shed and blackout [kWh].
    shed_hours : dict
        Sheddable tier name -> time shed while the island was running [h].
    blackout_hours : float
        Time from the failure to the end of the outage [h].
    soc_kwh, served_kw : dict
        Battery code -> SOC at the end of each step the island ran [kWh]; tier name -> power served [kW].
    pv_used_kw, pv_curtailed_kw, generator_kw : numpy.ndarray
        Per step the island ran [kW].
    fuel_used_kwh : float
        Generator fuel burnt [kWh of fuel].
    """

    start_step: int
    max_steps: int
    survived_steps: int
    capped_by: str | None
    failed_step: int | None
    unserved_kwh: dict[str, float]
    shed_hours: dict[str, float]
    blackout_hours: float
    soc_kwh: dict[str, np.ndarray]
    served_kw: dict[str, np.ndarray]
    pv_used_kw: np.ndarray
    pv_curtailed_kw: np.ndarray
    generator_kw: np.ndarray
    fuel_used_kwh: float
    critical: list[str] = field(default_factory=list)
    start_time: pd.Timestamp | None = None

    @property
    def survivable_hours(self) -> float:
        """Time the critical load was fully served from the outage start, in whole steps [h]."""
        return self.survived_steps * STEP_H

    @property
    def capped(self) -> bool:
        return self.capped_by is not None

    @property
    def outage_hours(self) -> float:
        return self.max_steps * STEP_H

    @property
    def pv_used_kwh(self) -> float:
        return float(self.pv_used_kw.sum() * STEP_H)

    @property
    def pv_curtailed_kwh(self) -> float:
        return float(self.pv_curtailed_kw.sum() * STEP_H)

    @property
    def generator_kwh(self) -> float:
        return float(self.generator_kw.sum() * STEP_H)

    def summary(self) -> str:
        """One or two sentences for a page."""
        start = f" from {self.start_time:%Y-%m-%d %H:%M}" if self.start_time is not None else ""
        if self.capped_by == "max_steps":
            head = f"Critical load served for the whole {self.outage_hours:,.2f} h outage{start} (capped: survives at least this)"
        elif self.capped_by == "end of record":
            head = f"Critical load served for {self.survivable_hours:,.2f} h{start} until the record ended (capped: survives at least this)"
        else:
            head = (
                f"Critical load served for {self.survivable_hours:,.2f} h of a {self.outage_hours:,.2f} h outage{start}; "
                "the step that could not be fully served is not counted"
            )
        shed = [f"{k} shed {v:,.2f} h" for k, v in self.shed_hours.items() if v > 0]
        return head + (f"; {', '.join(shed)}" if shed else "") + "."

    def as_dict(self, *, traces: bool = False) -> dict:
        """Plain JSON-ready values; per-step traces only when asked."""
        out = {
            "start_step": self.start_step,
            "start_time": None if self.start_time is None else self.start_time.isoformat(),
            "outage_hours": self.outage_hours,
            "survivable_hours": self.survivable_hours,
            "capped": self.capped,
            "capped_by": self.capped_by,
            "failed_step": self.failed_step,
            "unserved_kwh": dict(self.unserved_kwh),
            "shed_hours": dict(self.shed_hours),
            "blackout_hours": self.blackout_hours,
            "pv_used_kwh": self.pv_used_kwh,
            "pv_curtailed_kwh": self.pv_curtailed_kwh,
            "generator_kwh": self.generator_kwh,
            "fuel_used_kwh": self.fuel_used_kwh,
            "summary": self.summary(),
        }
        if traces:
            out["soc_kwh"] = {k: v.tolist() for k, v in self.soc_kwh.items()}
            out["served_kw"] = {k: v.tolist() for k, v in self.served_kw.items()}
            out["pv_used_kw"] = self.pv_used_kw.tolist()
            out["pv_curtailed_kw"] = self.pv_curtailed_kw.tolist()
            out["generator_kw"] = self.generator_kw.tolist()
        return out


@dataclass
class SweepResult:
    """Outages starting at every `every_steps`-th step of the record, each simulated up to `max_hours`.

    Attributes
    ----------
    start_steps : numpy.ndarray
        Positions of the outage starts in the record.
    survivable_hours : numpy.ndarray
        Survivable time of each outage, capped at `max_hours` [h].
    duration_h : float
        The outage duration whose survival probability is reported [h].
    max_hours : float
        Cap of each simulation [h]; statistics of capped outages are lower bounds.
    mean_unserved_kwh, mean_shed_hours : dict
        Tier name -> mean over the starts of the unserved energy in an outage of `max_hours` [kWh] and of the time
        shed while running [h].
    starts : pandas.DatetimeIndex or None
        Start times when the record's index was given.
    elapsed_s : float
        Run time of the simulation [s].
    """

    start_steps: np.ndarray
    survivable_hours: np.ndarray
    duration_h: float
    max_hours: float
    mean_unserved_kwh: dict[str, float]
    mean_shed_hours: dict[str, float]
    starts: pd.DatetimeIndex | None = None
    elapsed_s: float = 0.0

    def _q(self, q: float) -> float:
        # empirical quantile (inverted CDF): a survival some outage actually had, never an interpolation
        return float(np.quantile(self.survivable_hours, q, method="inverted_cdf"))

    @property
    def min_hours(self) -> float:
        return float(self.survivable_hours.min())

    @property
    def mean_hours(self) -> float:
        """Mean survivable time [h]; a lower bound when some outages are capped."""
        return float(self.survivable_hours.mean())

    @property
    def p10_hours(self) -> float:
        """Survival reached by at least 90 % of the outage starts [h]."""
        return self._q(0.10)

    @property
    def p50_hours(self) -> float:
        return self._q(0.50)

    @property
    def capped_share(self) -> float:
        """Share of the outages that survived the whole `max_hours` [-]."""
        return float((self.survivable_hours >= self.max_hours).mean())

    def probability_of_surviving(self, hours: float) -> float:
        """Share of the outage starts whose critical load survives at least `hours` [-] (``hours`` <= max_hours)."""
        if hours > self.max_hours + 1e-9:
            raise ValidationFailed(
                "cannot tell survival beyond the simulated cap",
                issues=[Issue(f"{hours} h is beyond max_hours {self.max_hours} h", column="hours")],
            )
        return float((self.survivable_hours >= hours - 1e-9).mean())

    @property
    def probability(self) -> float:
        """Probability of surviving an outage of `duration_h` [-]."""
        return self.probability_of_surviving(self.duration_h)

    def survival_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """Whole hours 1..max_hours and the probability of surviving each (REopt's ``probs_of_surviving``)."""
        hours = np.arange(1, math.floor(self.max_hours) + 1, dtype=float)
        ordered = np.sort(self.survivable_hours)
        prob = 1.0 - np.searchsorted(ordered, hours - 1e-9, side="left") / ordered.size
        return hours, prob

    def probability_by_month(self) -> dict[int, float]:
        """Month of the outage start -> probability of surviving `duration_h` (needs the index) [-]."""
        if self.starts is None:
            return {}
        ok = pd.Series(self.survivable_hours >= self.duration_h - 1e-9, index=self.starts.month)
        return {int(m): float(v) for m, v in ok.groupby(level=0).mean().items()}

    @property
    def worst_start(self) -> pd.Timestamp | int:
        """Start (time, or step without an index) of the first outage with the shortest survival."""
        i = int(np.argmin(self.survivable_hours))
        return self.starts[i] if self.starts is not None else int(self.start_steps[i])

    def summary(self) -> str:
        n = self.survivable_hours.size
        return (
            f"Probability that the critical load survives a {self.duration_h:g} h outage: {self.probability:.1%} "
            f"({n:,} outage starts, each simulated up to {self.max_hours:g} h; {self.capped_share:.1%} survived the "
            f"whole {self.max_hours:g} h). Survivable hours: min {self.min_hours:,.2f}, p10 {self.p10_hours:,.2f}, "
            f"median {self.p50_hours:,.2f}, mean {self.mean_hours:,.2f}"
            + (" (a lower bound: capped outages count as the cap)." if self.capped_share > 0 else ".")
        )

    def as_dict(self, *, per_start: bool = False) -> dict:
        hours, prob = self.survival_curve()
        worst = self.worst_start
        out = {
            "starts": int(self.survivable_hours.size),
            "duration_h": self.duration_h,
            "max_hours": self.max_hours,
            "probability": self.probability,
            "min_hours": self.min_hours,
            "mean_hours": self.mean_hours,
            "p10_hours": self.p10_hours,
            "p50_hours": self.p50_hours,
            "capped_share": self.capped_share,
            "worst_start": worst.isoformat() if isinstance(worst, pd.Timestamp) else worst,
            "survival_curve": {"hours": hours.tolist(), "probability": prob.tolist()},
            "probability_by_month": self.probability_by_month(),
            "mean_unserved_kwh": dict(self.mean_unserved_kwh),
            "mean_shed_hours": dict(self.mean_shed_hours),
            "elapsed_s": self.elapsed_s,
            "summary": self.summary(),
        }
        if per_start:
            out["start_steps"] = self.start_steps.tolist()
            out["survivable_hours"] = self.survivable_hours.tolist()
        return out


@dataclass
class WeatherScenario:
    """An outage over a spell of days of the record.

    Attributes
    ----------
    kind : str
        ``"worst"`` (lowest PV energy of the record) or ``"scaled"`` (PV at `pv_scale_pct` of the record).
    first_day, last_day : datetime.date
        Local calendar days of the spell.
    pv_kwh : float
        PV energy available over the spell as simulated [kWh].
    pv_normal_kwh : float
        Mean PV energy of all spells of the same length in the record [kWh].
    pv_scale_pct : float
        Scale applied to the record's PV [%] (100 for the worst spell).
    result : IslandResult
        The outage over the spell, starting at 00:00 of `first_day`.
    """

    kind: str
    first_day: date
    last_day: date
    pv_kwh: float
    pv_normal_kwh: float
    pv_scale_pct: float
    result: IslandResult

    @property
    def pv_share_of_normal_pct(self) -> float:
        return 100.0 * self.pv_kwh / self.pv_normal_kwh if self.pv_normal_kwh > 0 else 0.0

    def summary(self) -> str:
        what = "Worst PV spell" if self.kind == "worst" else f"PV at {self.pv_scale_pct:g} %"
        return (
            f"{what} {self.first_day.isoformat()} to {self.last_day.isoformat()} "
            f"({self.pv_kwh:,.0f} kWh PV, {self.pv_share_of_normal_pct:.0f} % of an average spell): "
            + self.result.summary()
        )

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "pv_kwh": self.pv_kwh,
            "pv_normal_kwh": self.pv_normal_kwh,
            "pv_share_of_normal_pct": self.pv_share_of_normal_pct,
            "pv_scale_pct": self.pv_scale_pct,
            "result": self.result.as_dict(),
            "summary": self.summary(),
        }


@dataclass
class BadWeatherResult:
    """The worst spell of `days` days of PV in the record and, optionally, a spell with PV scaled down."""

    days: int
    worst: WeatherScenario
    scaled: WeatherScenario | None = None

    def summary(self) -> str:
        return " ".join(s.summary() for s in (self.worst, self.scaled) if s is not None)

    def as_dict(self) -> dict:
        return {
            "days": self.days,
            "worst": self.worst.as_dict(),
            "scaled": None if self.scaled is None else self.scaled.as_dict(),
            "summary": self.summary(),
        }


@dataclass
class ResilienceReport:
    """The outage sweep and the bad-weather spells of one park configuration, for a page or the API."""

    sweep: SweepResult
    bad_weather: BadWeatherResult | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [self.sweep.summary()]
        if self.bad_weather is not None:
            parts.append(self.bad_weather.summary())
        return "\n".join(parts + self.notes)

    def as_dict(self) -> dict:
        return {
            "sweep": self.sweep.as_dict(),
            "bad_weather": None if self.bad_weather is None else self.bad_weather.as_dict(),
            "notes": list(self.notes),
            "summary": self.summary(),
        }


# --------------------------------------------------------------------------------------------------- checks


@dataclass
class _System:
    """Validated arrays: tiers (T, n), PV (n,), battery parameters (B,), generator."""

    names: list[str]
    kw: np.ndarray
    critical: np.ndarray  # bool (T,)
    order: list[int]  # sheddable tiers, served first to last (descending priority, then input order)
    threshold_pct: np.ndarray  # (T,)
    pv_kw: np.ndarray
    batteries: list[Battery]
    energy: np.ndarray
    power: np.ndarray
    floor: np.ndarray  # soc_min [kWh]
    ceiling: np.ndarray  # soc_max [kWh]
    eta_c: np.ndarray
    eta_d: np.ndarray
    gen_kw: float
    gen_eff: float
    fuel_kwh: float

    @property
    def n(self) -> int:
        return self.pv_kw.size


def _finite_array(value, name: str, n: int | None, issues: list[Issue]) -> np.ndarray | None:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        issues.append(Issue("is not a series of numbers", column=name))
        return None
    if arr.ndim != 1 or (n is not None and arr.size != n):
        what = f"{arr.size} values" if arr.ndim == 1 else f"shape {arr.shape}"
        issues.append(Issue(f"has {what} for {n} steps" if n is not None else f"has {what}", column=name))
        return None
    if arr.size == 0:
        issues.append(Issue("is empty", column=name))
        return None
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        issues.append(Issue(f"missing or infinite at {bad.size} steps, first at step {bad[0]}", column=name))
        return None
    neg = np.flatnonzero(arr < 0)
    if neg.size:
        issues.append(
            Issue(f"negative at {neg.size} steps, first at step {neg[0]}", column=name, value=str(arr[neg[0]]))
        )
        return None
    return arr


def _system(
    tiers: Sequence[LoadTier], pv_kw, batteries: Sequence[Battery], generator: Generator | None, issues: list[Issue]
) -> _System | None:
    tiers = list(tiers)
    n: int | None = None
    pv = None
    if pv_kw is not None:
        pv = _finite_array(pv_kw, "pv_kw", None, issues)
        n = None if pv is None else pv.size
    if not tiers:
        issues.append(Issue("no load tier given: at least the critical tier is needed", column="tiers"))
    rows: list[np.ndarray] = []
    names = [t.name for t in tiers]
    for i, t in enumerate(tiers):
        where = f"tiers[{t.name!r}]"
        if names.count(t.name) > 1 and names.index(t.name) == i:
            issues.append(Issue("tier names must be unique", column=f"{where}.name"))
        if t.name == CRITICAL and t.sheddable:
            issues.append(Issue("the critical tier is never shed: set sheddable=False", column=f"{where}.sheddable"))
        if not 0.0 <= float(t.shed_below_soc_pct) <= 100.0:
            issues.append(
                Issue("must be within 0-100 %", column=f"{where}.shed_below_soc_pct", value=str(t.shed_below_soc_pct))
            )
        arr = _finite_array(t.kw, f"{where}.kw", n, issues)
        if arr is not None and n is None:
            n = arr.size
        rows.append(arr if arr is not None else np.zeros(n or 1))
    if tiers and not any(not t.sheddable for t in tiers):
        issues.append(
            Issue("no critical tier: one tier must have sheddable=False (survival is measured on it)", column="tiers")
        )
    codes = [b.code for b in batteries]
    for b in batteries:
        where = f"battery {b.code}"
        if codes.count(b.code) > 1:
            issues.append(Issue("battery codes must be unique", column=f"{where}.code"))
        for name in ("energy_kwh", "power_kw"):
            v = float(getattr(b, name))
            if not (math.isfinite(v) and v > 0):
                issues.append(Issue("must be a positive number", column=f"{where}.{name}", value=str(v)))
        for name in ("eta_charge", "eta_discharge"):
            v = float(getattr(b, name))
            if not 0 < v <= 1:
                issues.append(Issue("must be within (0, 1]", column=f"{where}.{name}", value=str(v)))
        if not 0 <= b.soc_min_pct < b.soc_max_pct <= 100:
            issues.append(
                Issue(
                    "needs 0 <= soc_min_pct < soc_max_pct <= 100",
                    column=f"{where}.soc_min_pct",
                    value=f"{b.soc_min_pct}-{b.soc_max_pct}",
                )
            )
    gen_kw = gen_eff = fuel = 0.0
    if generator is not None:
        if not (math.isfinite(generator.power_kw) and generator.power_kw >= 0):
            issues.append(Issue("must be a number >= 0", column="generator.power_kw", value=str(generator.power_kw)))
        if not 0 < generator.efficiency <= 1:
            issues.append(
                Issue("must be within (0, 1]", column="generator.efficiency", value=str(generator.efficiency))
            )
        given = [k for k in ("fuel_kwh", "fuel_litres") if getattr(generator, k) is not None]
        if len(given) != 1:
            issues.append(
                Issue(
                    "give the fuel on site as exactly one of fuel_kwh or fuel_litres (math.inf for piped gas)",
                    column="generator.fuel_kwh",
                )
            )
        elif not generator.fuel_energy_kwh >= 0:
            issues.append(
                Issue("must be >= 0", column=f"generator.{given[0]}", value=str(getattr(generator, given[0])))
            )
        gen_kw, gen_eff, fuel = float(generator.power_kw), float(generator.efficiency), generator.fuel_energy_kwh
    if issues:
        return None
    assert n is not None
    kw = np.vstack(rows)
    sheddable = [i for i, t in enumerate(tiers) if t.sheddable]
    order = sorted(sheddable, key=lambda i: (-tiers[i].priority, i))

    def par(name: str) -> np.ndarray:
        return np.array([float(getattr(b, name)) for b in batteries], dtype=float)

    energy = par("energy_kwh")
    return _System(
        names=names,
        kw=kw,
        critical=np.array([not t.sheddable for t in tiers]),
        order=order,
        threshold_pct=np.array([float(t.shed_below_soc_pct) for t in tiers]),
        pv_kw=pv if pv is not None else np.zeros(n),
        batteries=list(batteries),
        energy=energy,
        power=par("power_kw"),
        floor=energy * par("soc_min_pct") / 100.0,
        ceiling=energy * par("soc_max_pct") / 100.0,
        eta_c=par("eta_charge"),
        eta_d=par("eta_discharge"),
        gen_kw=gen_kw,
        gen_eff=gen_eff if gen_eff > 0 else 1.0,
        fuel_kwh=fuel,
    )


def _soc_at(sys: _System, soc: SocInput, starts: np.ndarray, issues: list[Issue]) -> np.ndarray:
    """SOC of each battery at each start (S, B) [kWh] from one value or a per-step trace per battery."""
    bs = sys.batteries
    out = np.zeros((starts.size, len(bs)))
    if isinstance(soc, Mapping):
        unknown = sorted(set(soc) - {b.code for b in bs})
        for code in unknown:
            issues.append(Issue("no battery with this code", column=f"soc_start_kwh[{code!r}]"))
        values = [soc.get(b.code) for b in bs]
    else:
        values = list(soc)
        if len(values) != len(bs):
            issues.append(Issue(f"has {len(values)} values for {len(bs)} batteries", column="soc_start_kwh"))
            return out
    for j, (b, v) in enumerate(zip(bs, values, strict=True)):
        where = f"battery {b.code}.soc_start_kwh"
        if v is None:
            issues.append(Issue("missing: the SOC at the outage start is needed", column=where))
            continue
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 0:
            vals = np.full(starts.size, float(arr))
        elif arr.shape == (sys.n,):
            vals = arr[starts]
        else:
            issues.append(Issue(f"needs one value or one per step ({sys.n}), got shape {arr.shape}", column=where))
            continue
        lo, hi = sys.floor[j], sys.ceiling[j]
        tol = 1e-6 * b.energy_kwh + 1e-9
        bad = np.flatnonzero(~np.isfinite(vals) | (vals < lo - tol) | (vals > hi + tol))
        if bad.size:
            issues.append(
                Issue(
                    f"outside the limits {lo:g}-{hi:g} kWh (soc_min_pct-soc_max_pct)"
                    + (f" at {bad.size} starts, first at step {starts[bad[0]]}" if arr.ndim else ""),
                    column=where,
                    value=f"{vals[bad[0]]:g}",
                )
            )
            continue
        out[:, j] = np.clip(vals, lo, hi)
    return out


def _steps(hours: float, name: str, issues: list[Issue]) -> int:
    k = round(hours / STEP_H) if math.isfinite(hours) else 0
    if not math.isfinite(hours) or hours <= 0:
        issues.append(Issue("must be a positive number of hours", column=name, value=str(hours)))
    elif abs(k * STEP_H - hours) > 1e-9:
        issues.append(Issue(f"must be a whole number of {STEP_H * 60:g}-minute steps", column=name, value=str(hours)))
    return int(k)


def _raise(issues: list[Issue]) -> None:
    if issues:
        raise ValidationFailed("the resilience inputs are not usable", issues=issues)


# --------------------------------------------------------------------------------------------------- kernel


@dataclass
class _Outcome:
    survived: np.ndarray  # (S,) steps
    failed: np.ndarray  # (S,) bool
    unserved_kwh: np.ndarray  # (S, T)
    shed_steps: np.ndarray  # (S, T)
    fuel_used_kwh: np.ndarray  # (S,)
    traces: dict | None = None


def _split(total: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Share `total` (S,) among batteries in proportion to their `caps` (S, B)."""
    cap_sum = caps.sum(axis=1, keepdims=True)
    share = np.divide(caps, cap_sum, out=np.zeros_like(caps), where=cap_sum > 0)
    return share * total[:, None]


def _simulate(sys: _System, starts: np.ndarray, soc0: np.ndarray, n_steps: int, *, trace: bool = False) -> _Outcome:
    """Islanded operation of S outages at once, vectorised over the starts, one loop over the outage's steps.

    Only outages still running are simulated; the blackout after a failure is added from prefix sums at the end.
    """
    dt, n = STEP_H, sys.n
    n_tiers = len(sys.names)
    S = starts.size
    survived = np.zeros(S, dtype=int)
    failed = np.zeros(S, dtype=bool)
    unserved = np.zeros((S, n_tiers))
    shed = np.zeros((S, n_tiers))
    fuel_used = np.zeros(S)
    active = np.arange(S)
    soc = soc0.copy()
    fuel = np.full(S, sys.fuel_kwh)
    total_energy = sys.energy.sum()
    crit_rows = np.flatnonzero(sys.critical)
    tr: dict[str, list] = {k: [] for k in ("soc", "served", "pv_used", "pv_curtailed", "gen")} if trace else {}
    for k in range(n_steps):
        if active.size == 0:
            break
        idx = (starts[active] + k) % n
        loads = sys.kw[:, idx]  # (T, A)
        pv = sys.pv_kw[idx]
        s = soc[active]
        dis_cap = np.minimum(sys.power, np.maximum(s - sys.floor, 0.0) * sys.eta_d / dt)
        room = np.minimum(sys.power, np.maximum(sys.ceiling - s, 0.0) / (sys.eta_c * dt))
        gen_cap = np.minimum(sys.gen_kw, fuel[active] * sys.gen_eff / dt)
        cap = pv + dis_cap.sum(axis=1) + gen_cap + TOL_KW
        served = loads[crit_rows].sum(axis=0)
        ok = served <= cap
        on = np.zeros(loads.shape, dtype=bool)
        on[crit_rows] = ok
        soc_pct = s.sum(axis=1) / total_energy * 100.0 if total_energy > 0 else np.full(active.size, np.inf)
        still = ok.copy()
        for j in sys.order:
            above = soc_pct >= sys.threshold_pct[j]
            fits = served + loads[j] <= cap
            on[j] = still & above & fits
            still &= fits | ~above
            served = served + np.where(on[j], loads[j], 0.0)
        net = np.where(ok, served - pv, 0.0)
        deficit, surplus = np.maximum(net, 0.0), np.maximum(-net, 0.0)
        dis_total = np.minimum(deficit, dis_cap.sum(axis=1))
        gen_out = np.clip(deficit - dis_total, 0.0, gen_cap)
        ch_total = np.minimum(surplus, room.sum(axis=1))
        s = s - _split(dis_total, dis_cap) / sys.eta_d * dt + _split(ch_total, room) * sys.eta_c * dt
        soc[active] = np.clip(s, sys.floor, sys.ceiling)
        burnt = gen_out * dt / sys.gen_eff
        fuel[active] -= burnt
        fuel_used[active] += burnt
        unserved[active] += np.where(on, 0.0, loads).T * dt * ok[:, None]
        shed[active] += (~on & ok[None, :]).T
        survived[active] += ok
        if trace:
            pv_used = np.where(ok, np.minimum(pv, served) + ch_total, 0.0)
            if ok[0]:
                tr["soc"].append(soc[active[0]].copy())
                tr["served"].append(np.where(on[:, 0], loads[:, 0], 0.0))
                tr["pv_used"].append(pv_used[0])
                tr["pv_curtailed"].append(pv[0] - pv_used[0])
                tr["gen"].append(gen_out[0])
        if not ok.all():
            failed[active[~ok]] = True
            active = active[ok]
    if failed.any():
        # blackout from the failing step to the end of the outage: every tier unserved
        reps = -(-(n + n_steps) // n)
        cs = np.concatenate([np.zeros((n_tiers, 1)), np.cumsum(np.tile(sys.kw, reps), axis=1)], axis=1)
        f = np.flatnonzero(failed)
        first = starts[f] + survived[f]
        unserved[f] += (cs[:, starts[f] + n_steps] - cs[:, first]).T * dt
    traces = None
    if trace:
        B = len(sys.batteries)
        traces = {
            "soc": np.array(tr["soc"], dtype=float).reshape(len(tr["soc"]), B),
            "served": np.array(tr["served"], dtype=float).reshape(len(tr["served"]), n_tiers),
            "pv_used": np.array(tr["pv_used"], dtype=float),
            "pv_curtailed": np.array(tr["pv_curtailed"], dtype=float),
            "gen": np.array(tr["gen"], dtype=float),
        }
    return _Outcome(survived, failed, unserved, shed * dt, fuel_used, traces)


# --------------------------------------------------------------------------------------------------- API


def islanded(
    tiers: Sequence[LoadTier],
    pv_kw: np.ndarray | None,
    batteries: Sequence[Battery],
    soc_start_kwh: SocInput,
    start_step: int,
    max_steps: int,
    *,
    generator: Generator | None = None,
    wrap: bool = True,
    index: pd.DatetimeIndex | None = None,
) -> IslandResult:
    """Run the park as an islanded microgrid from `start_step` for up to `max_steps` 15-minute steps.

    Parameters
    ----------
    tiers : sequence of LoadTier
        The park's load split into tiers; at least one critical (``sheddable=False``).
    pv_kw : numpy.ndarray or None
        PV output available per step [kW]; None for no PV.
    batteries : sequence of Battery
        The batteries; in the island each may go down to its soc_min (below the dispatch reserve).
    soc_start_kwh : mapping or sequence
        Battery code -> SOC at the outage start [kWh] (a float, or a per-step trace of SOC at the start of each
        step, see `step_start_soc`), or one float per battery in order.
    start_step : int
        Position of the outage's first step in the record.
    max_steps : int
        Length of the outage [steps of 0.25 h]; survival is capped there.
    generator : Generator, optional
        Backup generator with a full tank at the outage start.
    wrap : bool
        Continue at the record's start when the outage runs past its end (a cyclic year, as REopt does); when
        False the outage stops at the end of the record and the result says it was capped by it.
    index : pandas.DatetimeIndex, optional
        The record's step start times, only to report the start time.

    Returns
    -------
    IslandResult
        ``survivable_hours`` counts whole steps with the critical load fully served from the start; the first step
        that cannot be fully served does not count.
    """
    issues: list[Issue] = []
    sys = _system(tiers, pv_kw, batteries, generator, issues)
    _raise(issues)
    assert sys is not None
    if not 0 <= int(start_step) < sys.n:
        issues.append(Issue(f"must be within 0-{sys.n - 1}", column="start_step", value=str(start_step)))
    if int(max_steps) < 1:
        issues.append(Issue("must be at least 1 step", column="max_steps", value=str(max_steps)))
    if index is not None and len(index) != sys.n:
        issues.append(Issue(f"has {len(index)} times for {sys.n} steps", column="index"))
    _raise(issues)
    start = int(start_step)
    steps = int(max_steps) if wrap else min(int(max_steps), sys.n - start)
    starts = np.array([start])
    soc0 = _soc_at(sys, soc_start_kwh, starts, issues)
    _raise(issues)
    out = _simulate(sys, starts, soc0, steps, trace=True)
    assert out.traces is not None
    survived = int(out.survived[0])
    if out.failed[0]:
        capped_by, failed_step = None, (start + survived) % sys.n
    else:
        capped_by, failed_step = ("max_steps" if steps == int(max_steps) else "end of record"), None
    tr = out.traces
    sheddable = [i for i in range(len(sys.names)) if not sys.critical[i]]
    return IslandResult(
        start_step=start,
        max_steps=steps,
        survived_steps=survived,
        capped_by=capped_by,
        failed_step=failed_step,
        unserved_kwh={name: float(out.unserved_kwh[0, i]) for i, name in enumerate(sys.names)},
        shed_hours={sys.names[i]: float(out.shed_steps[0, i]) for i in sheddable},
        blackout_hours=(steps - survived) * STEP_H,
        soc_kwh={b.code: tr["soc"][:, j] for j, b in enumerate(sys.batteries)},
        served_kw={name: tr["served"][:, i] for i, name in enumerate(sys.names)},
        pv_used_kw=tr["pv_used"],
        pv_curtailed_kw=tr["pv_curtailed"],
        generator_kw=tr["gen"],
        fuel_used_kwh=float(out.fuel_used_kwh[0]),
        critical=[sys.names[i] for i in np.flatnonzero(sys.critical)],
        start_time=None if index is None else index[start],
    )


def outage_sweep(
    tiers: Sequence[LoadTier],
    pv_kw: np.ndarray | None,
    batteries: Sequence[Battery],
    soc_kwh: SocInput,
    duration_h: float,
    *,
    max_hours: float = 72.0,
    every_steps: int = 1,
    generator: Generator | None = None,
    index: pd.DatetimeIndex | None = None,
) -> SweepResult:
    """Outages starting at every `every_steps`-th step of the record (1: every 15 minutes, 4: every hour).

    Parameters
    ----------
    tiers, pv_kw, batteries, generator
        As for `islanded`.
    soc_kwh : mapping or sequence
        Battery code -> SOC at the start of each step [kWh] (a per-step trace from the dispatch, see
        `step_start_soc`, or one value for every start).
    duration_h : float
        Outage duration whose survival probability is reported [h]; at most `max_hours`.
    max_hours : float
        Cap of each outage's simulation [h]; survivals reaching it are lower bounds.
    every_steps : int
        Step between two outage starts [steps of 0.25 h].
    index : pandas.DatetimeIndex, optional
        Step start times of the record, to report start times and the probability by month.

    Returns
    -------
    SweepResult
        Survivable hours per start with min, mean, p10, p50 and the probability of surviving `duration_h`. The
        record is treated as cyclic (an outage running past its end continues at its start), as REopt does.
    """
    started = time.perf_counter()
    issues: list[Issue] = []
    sys = _system(tiers, pv_kw, batteries, generator, issues)
    n_steps = _steps(float(max_hours), "max_hours", issues)
    _steps(float(duration_h), "duration_h", issues)
    if not issues and duration_h > max_hours:
        issues.append(Issue(f"is beyond max_hours {max_hours:g} h", column="duration_h", value=str(duration_h)))
    if int(every_steps) < 1:
        issues.append(Issue("must be at least 1", column="every_steps", value=str(every_steps)))
    _raise(issues)
    assert sys is not None
    if index is not None and len(index) != sys.n:
        issues.append(Issue(f"has {len(index)} times for {sys.n} steps", column="index"))
    starts = np.arange(0, sys.n, int(every_steps))
    soc0 = _soc_at(sys, soc_kwh, starts, issues)
    _raise(issues)
    out = _simulate(sys, starts, soc0, n_steps)
    sheddable = [i for i in range(len(sys.names)) if not sys.critical[i]]
    return SweepResult(
        start_steps=starts,
        survivable_hours=out.survived * STEP_H,
        duration_h=float(duration_h),
        max_hours=float(max_hours),
        mean_unserved_kwh={name: float(out.unserved_kwh[:, i].mean()) for i, name in enumerate(sys.names)},
        mean_shed_hours={sys.names[i]: float(out.shed_steps[:, i].mean()) for i in sheddable},
        starts=None if index is None else index[starts],
        elapsed_s=time.perf_counter() - started,
    )


def _whole_days(index: pd.DatetimeIndex, n: int, issues: list[Issue]) -> pd.DataFrame | None:
    """Local calendar days fully covered by the record: first step position and number of steps."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) != n:
        issues.append(Issue(f"needs a DatetimeIndex with one time per step ({n})", column="index"))
        return None
    if index.tz is None:
        issues.append(Issue("must be time-zone aware (park calendar, e.g. Asia/Shanghai)", column="index"))
        return None
    if n > 1 and not (index[1:] - index[:-1] == pd.Timedelta(hours=STEP_H)).all():
        issues.append(Issue("must be regular 15-minute steps", column="index"))
        return None
    local_day = index.normalize()
    frame = pd.DataFrame({"pos": np.arange(n), "day": local_day})
    days = frame.groupby("day", sort=True)["pos"].agg(["first", "count"])
    # a day shortened or lengthened by a DST change keeps its true number of steps
    nxt = pd.DatetimeIndex([(d + pd.Timedelta(hours=30)).normalize() for d in days.index])
    expected = np.asarray((nxt - days.index) / pd.Timedelta(minutes=15), dtype=int)
    days = days[days["count"].to_numpy() == expected]
    return days


def bad_weather(
    pv_kw: np.ndarray,
    index: pd.DatetimeIndex,
    days: int = 3,
    *,
    tiers: Sequence[LoadTier],
    batteries: Sequence[Battery] = (),
    soc_start_kwh: SocInput = (),
    generator: Generator | None = None,
    pv_scale_pct: float | None = None,
    scaled_start: date | pd.Timestamp | str | None = None,
) -> BadWeatherResult:
    """A multi-day bad-weather outage taken from the record, and optionally one with PV scaled down.

    Parameters
    ----------
    pv_kw : numpy.ndarray
        PV output available per step [kW].
    index : pandas.DatetimeIndex
        Step start times, time-zone aware (park calendar), regular 15 minutes.
    days : int
        Length of the spell [days of the park calendar].
    tiers, batteries, generator
        As for `islanded`.
    soc_start_kwh : mapping or sequence
        Battery SOC at the outage start [kWh]: one value, or a per-step trace (read at the spell's first step).
    pv_scale_pct : float, optional
        Also simulate a spell with PV at this share of the record's values [%].
    scaled_start : date, optional
        First day of the scaled spell; default: the spell of median PV energy (typical weather of the record).

    Returns
    -------
    BadWeatherResult
        ``worst``: the `days` consecutive whole days with the lowest PV energy (first on ties), with the outage
        starting at 00:00 of its first day and lasting the whole spell; ``scaled`` when `pv_scale_pct` is given.
    """
    issues: list[Issue] = []
    sys = _system(tiers, pv_kw, batteries, generator, issues)
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        issues.append(Issue("must be a whole number of days >= 1", column="days", value=str(days)))
    if pv_scale_pct is not None and not (math.isfinite(pv_scale_pct) and pv_scale_pct >= 0):
        issues.append(Issue("must be a share >= 0 %", column="pv_scale_pct", value=str(pv_scale_pct)))
    _raise(issues)
    assert sys is not None
    whole = _whole_days(index, sys.n, issues)
    _raise(issues)
    assert whole is not None
    dates = whole.index
    # spells of `days` consecutive whole days
    local = dates.tz_localize(None)
    gaps = np.asarray((local[1:] - local[:-1]) / pd.Timedelta(days=1)) if len(dates) > 1 else np.array([])
    spells = [i for i in range(len(dates) - days + 1) if days == 1 or (gaps[i : i + days - 1] == 1).all()]
    if not spells:
        issues.append(Issue(f"the record has no {days} consecutive whole days", column="index"))
    _raise(issues)
    firsts, counts = whole["first"].to_numpy(), whole["count"].to_numpy()
    cs = np.r_[0.0, np.cumsum(sys.pv_kw)]

    def energy(i: int) -> float:
        lo = firsts[i]
        hi = firsts[i + days - 1] + counts[i + days - 1]
        return float((cs[hi] - cs[lo]) * STEP_H)

    energies = np.array([energy(i) for i in spells])
    normal = float(energies.mean())

    def scenario(kind: str, i: int, scale_pct: float) -> WeatherScenario:
        lo = int(firsts[i])
        steps = int(counts[i : i + days].sum())
        pv = sys.pv_kw.copy()
        pv[lo : lo + steps] *= scale_pct / 100.0
        res = islanded(tiers, pv, batteries, soc_start_kwh, lo, steps, generator=generator, wrap=False, index=index)
        return WeatherScenario(
            kind=kind,
            first_day=dates[i].date(),
            last_day=dates[i + days - 1].date(),
            pv_kwh=energy(i) * scale_pct / 100.0,
            pv_normal_kwh=normal,
            pv_scale_pct=scale_pct,
            result=res,
        )

    worst = scenario("worst", spells[int(np.argmin(energies))], 100.0)
    scaled = None
    if pv_scale_pct is not None:
        if scaled_start is None:
            median = float(np.quantile(energies, 0.5, method="inverted_cdf"))
            i = spells[int(np.flatnonzero(energies == median)[0])]
        else:
            day = pd.Timestamp(scaled_start).date()
            where = [i for i in spells if dates[i].date() == day]
            if not where:
                issues.append(
                    Issue(
                        f"no spell of {days} whole days of the record starts on this day",
                        column="scaled_start",
                        value=str(day),
                    )
                )
                _raise(issues)
            i = where[0]
        scaled = scenario("scaled", i, float(pv_scale_pct))
    return BadWeatherResult(days=int(days), worst=worst, scaled=scaled)


def resilience_report(
    tiers: Sequence[LoadTier],
    pv_kw: np.ndarray | None,
    index: pd.DatetimeIndex,
    batteries: Sequence[Battery],
    soc_kwh: SocInput,
    *,
    duration_h: float = 24.0,
    max_hours: float = 72.0,
    every_steps: int = 4,
    days: int = 3,
    generator: Generator | None = None,
    pv_scale_pct: float | None = None,
    scaled_start: date | pd.Timestamp | str | None = None,
) -> ResilienceReport:
    """The outage sweep (hourly starts by default) and the bad-weather spells, bundled for a page or the API.

    Parameters are those of `outage_sweep` and `bad_weather`; `soc_kwh` is read at each outage's start.
    """
    sweep = outage_sweep(
        tiers,
        pv_kw,
        batteries,
        soc_kwh,
        duration_h,
        max_hours=max_hours,
        every_steps=every_steps,
        generator=generator,
        index=index,
    )
    weather = None
    notes = []
    if pv_kw is not None:
        weather = bad_weather(
            pv_kw,
            index,
            days,
            tiers=tiers,
            batteries=batteries,
            soc_start_kwh=soc_kwh,
            generator=generator,
            pv_scale_pct=pv_scale_pct,
            scaled_start=scaled_start,
        )
    else:
        notes.append("No PV given: the bad-weather spells were not simulated.")
    notes.append(
        "Batteries may use their dispatch reserve in an outage (down to soc_min); "
        "the step that cannot fully serve the critical load is not counted."
    )
    return ResilienceReport(sweep=sweep, bad_weather=weather, notes=notes)
