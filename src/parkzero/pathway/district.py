"""Progress from the closed inventories, and the district view: many parks side by side.

Every figure here comes from *closed* inventories (the audited, locked results; the latest version of each
year), never from drafts, and, for a regulator, only from park-level inventories: a regulator sees parks'
aggregates (emissions, intensity, targets, evaluations, recognitions, air pollutants), never a tenant's lines.

Figures of one year (`YearFigures`), from the inventory's stored totals and denominators:

- ``total_tco2e``: the regime's total under its last Scope 2 method (market where reported, as the regime's
  intensities use) [tCO2e];
- ``tco2e_per_10k_cny`` = total / output value [tCO2e per 10^4 CNY]; ``tce_per_10k_cny`` = energy / output value;
- the 910 core indicator from the same year's closed ``zcp-910`` inventory: energy CO2 / energy use [tCO2/tce].

Air pollutants of a park-year come from the activity of its closed inventory's lines (fuel burnt, grid
electricity used: the same data as the carbon) through `parkzero.pathway.pollution`; activity the factor set has
no factor for is listed as not counted, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parkzero.accounting import inventory
from parkzero.errors import ValidationFailed
from parkzero.pathway import evaluations, records
from parkzero.pathway.targets import Progress, Target, progress
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

CORE_REGIME = "zcp-910"  # the regime whose inventory gives the 910 core indicator


@dataclass(frozen=True)
class YearFigures:
    """One subject's closed inventory of one year, reduced to what targets and the district need."""

    year: int
    inventory_id: int
    version: int
    regime: str
    method: str  # Scope 2 method of the total
    total_tco2e: float
    energy_tce: float
    output_value_10k_cny: float | None
    tco2e_per_10k_cny: float | None
    tce_per_10k_cny: float | None
    tco2_per_tce_energy: float | None  # CO2 of energy use per tce, as the inventory's intensities give it


@dataclass(frozen=True)
class Standing:
    """Where one target stands on the closed inventories (``progress`` None, with the reason, when it cannot)."""

    target: Target
    measure: str  # what history it was judged on, with its unit
    progress: Progress | None
    reason: str = ""


def inventory_history(
    store: Store, scope: Scope, park_code: str, *, enterprise: str | None = None, regime: str = "ghg-protocol"
) -> dict[int, YearFigures]:
    """Year -> figures of the latest closed inventory of the park (or `enterprise`) under `regime`."""
    latest: dict[int, dict] = {}
    for inv in inventory.list_inventories(store, scope, park_code):
        if inv["status"] != "closed" or inv["regime"] != regime or inv["enterprise"] != enterprise:
            continue
        if inv["year"] not in latest or inv["version"] > latest[inv["year"]]["version"]:
            latest[inv["year"]] = inv
    out = {}
    for year, inv in sorted(latest.items()):
        res = inventory.result(store, scope, park_code, inv["id"], with_lines=False)
        method = res["intensities"]["method"]
        total = float(res["totals"][f"total_{method}"])
        energy = float(res["totals"]["energy_tce"])
        value = res["denominators"].get("output_value_10k_cny")
        out[year] = YearFigures(
            year=year, inventory_id=int(inv["id"]), version=int(inv["version"]), regime=regime, method=method,
            total_tco2e=total, energy_tce=energy, output_value_10k_cny=value,
            tco2e_per_10k_cny=total / value if value else None, tce_per_10k_cny=energy / value if value else None,
            tco2_per_tce_energy=res["intensities"].get("tco2_per_tce_energy"),
        )  # fmt: skip
    return out


_MEASURES = {
    "absolute_peak": ("total_tco2e", "tCO2e"),
    "neutral": ("total_tco2e", "tCO2e"),
    "absolute_cap": ("total_tco2e", "tCO2e"),
    "intensity_reduction": ("tco2e_per_10k_cny", "tCO2e per 10^4 CNY output value"),
    "energy_intensity_reduction": ("tce_per_10k_cny", "tce per 10^4 CNY output value"),
}


def standing(target: Target, history: dict[int, YearFigures]) -> Standing:
    """Judge `target` on closed-inventory `history` (see `targets.progress` for the arithmetic)."""
    if target.kind not in _MEASURES:
        return Standing(target, "", None, f"{target.kind} is not in the inventories (needs the energy mix)")
    attr, unit = _MEASURES[target.kind]
    series = {y: getattr(f, attr) for y, f in history.items() if getattr(f, attr) is not None}
    measure = f"{attr} [{unit}] of the closed {next(iter(history.values())).regime if history else ''} inventories"
    if not series:
        why = "no closed inventory yet" if not history else "no output value recorded for the closed years"
        return Standing(target, measure, None, why)
    try:
        return Standing(target, measure, progress(target, series))
    except ValidationFailed as exc:
        return Standing(target, measure, None, exc.detail)


def target_standings(store: Store, scope: Scope, park_code: str, *, regime: str = "ghg-protocol") -> list[Standing]:
    """Every target of the park the caller may see, judged on its subject's closed inventories."""
    out, cache = [], {}
    for t in records.list_targets(store, scope, park_code):
        enterprise = None if t.subject == park_code else t.subject
        if enterprise not in cache:
            cache[enterprise] = inventory_history(store, scope, park_code, enterprise=enterprise, regime=regime)
        out.append(standing(t, cache[enterprise]))
    return out


# -- the district -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParkSummary:
    """One park as the district sees it: aggregates only."""

    park: str
    name: str
    regime: str
    history: dict[int, YearFigures]
    latest: YearFigures | None
    core_910: evaluations.CoreIndicator910 | None
    core_910_year: int | None
    core_910_reason: str
    standings: list[Standing]
    recognitions: dict[str, int]  # kind -> number held
    pollutants: dict = field(default_factory=dict)  # filled by `parkzero.pathway.pollution` where available

    def as_dict(self) -> dict:
        latest = self.latest
        return {
            "park": self.park,
            "name": self.name,
            "regime": self.regime,
            "latest_year": latest.year if latest else None,
            "total_tco2e": latest.total_tco2e if latest else None,
            "energy_tce": latest.energy_tce if latest else None,
            "tco2e_per_10k_cny": latest.tco2e_per_10k_cny if latest else None,
            "history_tco2e": {y: f.total_tco2e for y, f in self.history.items()},
            "core_910": None if self.core_910 is None else {**self.core_910.__dict__, "year": self.core_910_year},
            "core_910_reason": self.core_910_reason,
            "targets": [
                {
                    "code": s.target.code,
                    "kind": s.target.kind,
                    "target_year": s.target.target_year,
                    "status": s.progress.status if s.progress else "not judged",
                    "explanation": s.progress.explanation if s.progress else s.reason,
                    "measure": s.measure,
                }
                for s in self.standings
            ],  # fmt: skip
            "recognitions": self.recognitions,
            "pollutants": self.pollutants,
        }


def _core(store: Store, scope: Scope, park_code: str) -> tuple[evaluations.CoreIndicator910 | None, int | None, str]:
    core = inventory_history(store, scope, park_code, regime=CORE_REGIME)
    if not core:
        return None, None, f"no closed {CORE_REGIME} inventory of the park"
    f = core[max(core)]
    if not f.energy_tce or f.tco2_per_tce_energy is None:
        return None, f.year, f"{f.year}: no energy use recorded (tce), so no tCO2 per tce"
    return evaluations.core_indicator_910(f.tco2_per_tce_energy * f.energy_tce, f.energy_tce), f.year, ""


def _year_pollutants(store: Store, park_code: str, f: YearFigures, factors) -> tuple[dict, float]:
    from parkzero.pathway import pollution

    # the caller saw this closed park inventory in its history; its lines are read here and only totals leave
    res = inventory.result(store, Scope.system(), park_code, f.inventory_id)
    scope2 = res["regime"]["scope2_methods"][0]
    activity, missing = pollution.inventory_activity(res["lines"], scope2)
    known = {k: v for k, v in activity.items() if k in factors.factors}
    out = pollution.pollutants_from_activity(known, factors)
    not_counted = missing + sorted(set(activity) - set(known))
    not_covered = sorted({f"{p} of {a}" for p, acts in out.not_covered.items() for a in acts})
    return {"year": f.year, **{f"{p}_t": round(t, 6) for p, t in out.tonnes.items()}, "apeq_t": round(out.apeq_t, 6),
            "not_counted": not_counted, "not_covered": not_covered,
            "activity": {k: round(v, 3) for k, v in known.items()}}, out.apeq_t  # fmt: skip


def _pollutants(store: Store, park_code: str, history: dict[int, YearFigures]) -> dict:
    """Air pollutants of the latest closed year and the co-control against the year before (if closed)."""
    if not history:
        return {}
    from parkzero.pathway import pollution

    factors = pollution.load_pollutant_factors()
    latest = history[max(history)]
    out, apeq = _year_pollutants(store, park_code, latest, factors)
    before = history.get(latest.year - 1)
    out["co_control"] = None
    if before is not None:
        _, apeq_before = _year_pollutants(store, park_code, before, factors)
        cc = pollution.co_control(apeq_before, apeq_before - apeq, before.total_tco2e,
                                  before.total_tco2e - latest.total_tco2e)  # fmt: skip
        out["co_control"] = {"from_year": before.year, "quadrant": cc.quadrant, "elasticity": cc.elasticity,
                             "explanation": cc.explanation}  # fmt: skip
    return out


def park_summary(store: Store, scope: Scope, park_code: str, *, regime: str = "ghg-protocol") -> ParkSummary:
    """The aggregates of one park the caller may see (closed park-level inventories only)."""
    park = repo.get_park(store, scope, park_code)
    history = inventory_history(store, scope, park_code, regime=regime)
    core, core_year, core_reason = _core(store, scope, park_code)
    # the park's own targets, judged on the history above (a tenant's are judged on the tenant's inventories)
    park_targets = [standing(t, history) for t in records.list_targets(store, scope, park_code)
                    if t.subject == park_code]  # fmt: skip
    held: dict[str, int] = {}
    for r in records.list_recognitions(store, scope, park_code):
        held[r["kind"]] = held.get(r["kind"], 0) + 1
    summary = ParkSummary(
        pollutants=_pollutants(store, park_code, history),
        park=park_code, name=park["name"], regime=regime, history=history,
        latest=history[max(history)] if history else None, core_910=core, core_910_year=core_year,
        core_910_reason=core_reason, standings=park_targets, recognitions=held,
    )  # fmt: skip
    return summary


def district(store: Store, scope: Scope, *, regime: str = "ghg-protocol") -> list[ParkSummary]:
    """Every park the caller may see, side by side (a district regulator: all parks; a park's user: its own)."""
    scope.require_any("operator", "verifier", "regulator")
    return [park_summary(store, scope, p["code"], regime=regime) for p in repo.list_parks(store, scope)]


__all__ = [
    "CORE_REGIME",
    "ParkSummary",
    "Standing",
    "YearFigures",
    "district",
    "inventory_history",
    "park_summary",
    "standing",
    "target_standings",
]
