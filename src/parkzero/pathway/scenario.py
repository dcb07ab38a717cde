"""A pathway scenario as a file: the baseline (tenants, growth, grid-factor trajectory, planned tenants), the
targets, the candidate measures and the economics, read into a `PortfolioInput` for the optimiser.

The file is TOML::

    [scenario]
    name = "Demo park to 2060"
    park = "demo"                      # the park code targets on the park use
    first_year = 2025                  # horizon, both years included
    last_year = 2060
    discount_rate = 0.06               # real [1/yr]
    measures = "measures.toml"         # relative to this file; omitted: the shipped library
    offset_price_cny_per_tco2e = 1000  # optional: bought offsets allowed at this price
    total_budget_cny = 2e9             # optional caps on initial capex [CNY]
    annual_budget_cny = 2e8
    carbon_price_cny_per_tco2e = 80    # optional, or a table year -> price from that year on

    [grid_factor_tco2_per_mwh]         # points, interpolated per year [tCO2/MWh]
    2023 = 0.5500
    2060 = 0.05

    [[tenant]]                         # fields of parkzero.pathway.baseline.Tenant
    code = "steel"
    activity = 300000
    growth_pct_per_year = { 2025 = 1.0, 2031 = 0.0 }

    [[target]]                         # fields of parkzero.pathway.targets.Target
    code = "park-peak-2030"
    subject = "demo"
    kind = "absolute_peak"
    target_year = 2030

    [[derived]]                        # a measure computed by parkzero.pathway.derive (arguments of the method)
    method = "electrification"         # or "fuel_switch"
    code = "steel-induction-reheating"
    fuel_code = "natural_gas_m3"       # from the tenant's closed inventory
    fuel_quantity_per_year = 2.4e6
    cop = 0.95                         # induction heating: useful energy per electricity
    capex_cny = 4.0e7
    subject = "steel"
    earliest_year = 2027               # planning fields set on the result: earliest/latest_year, max_units,
                                       # exclusive_group

Every problem is reported at once, naming the file, the table and the field; nothing is returned then.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parkzero.errors import Issue, ValidationFailed
from parkzero.pathway.baseline import Tenant, project_baseline
from parkzero.pathway.datafile import read_toml
from parkzero.pathway.measures import Measure, load_measures, validate_measures
from parkzero.pathway.optimise import PortfolioInput
from parkzero.pathway.targets import Target

_SCENARIO_KEYS = {
    "name", "park", "first_year", "last_year", "discount_rate", "measures", "offset_price_cny_per_tco2e",
    "offset_limit_tco2e_per_year", "total_budget_cny", "annual_budget_cny", "carbon_price_cny_per_tco2e",
    "renew_at_end_of_life",
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class Scenario:
    """A scenario read from its file: its name, park, and what the optimiser takes."""

    name: str
    park: str
    file: str
    portfolio_input: PortfolioInput
    tenants: list[Tenant]
    measures: list[Measure]


def _years(table: Any, where: str, issues: list[Issue], file: str) -> dict[int, float] | None:
    """A TOML table of year -> number (keys are strings in TOML)."""
    if not isinstance(table, dict) or not table:
        issues.append(Issue("must be a table of year = number", file=file, column=where))
        return None
    out = {}
    for k, v in table.items():
        if not str(k).isdigit() or not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            issues.append(Issue("each entry is year = number", file=file, column=f"{where}.{k}", value=str(v)))
            continue
        out[int(k)] = float(v)
    return out


def _records(doc: dict, name: str, cls: type, file: str, issues: list[Issue]) -> list:
    out = []
    fields = set(cls.__dataclass_fields__)
    for row, raw in enumerate(doc.get(name) or [], start=1):
        code = str(raw.get("code", "(no code)"))
        unknown = sorted(set(raw) - fields)
        if unknown:
            issues.append(Issue(f"unknown field(s) {', '.join(unknown)}", file=file, row=row, column=f"{name} {code}"))
            continue
        raw = dict(raw)
        if isinstance(raw.get("growth_pct_per_year"), dict):  # year keys are strings in TOML
            raw["growth_pct_per_year"] = _years(raw["growth_pct_per_year"], f"{name} {code}: growth_pct_per_year",
                                                issues, file) or {}  # fmt: skip
        try:
            out.append(cls(**raw))
        except TypeError as exc:  # a required field missing
            issues.append(Issue(str(exc).split(".__init__() ")[-1], file=file, row=row, column=f"{name} {code}"))
    return out


_DERIVE = {"electrification": "electrification_measure", "fuel_switch": "fuel_switch_measure"}
_PLANNING = ("earliest_year", "latest_year", "max_units", "exclusive_group")  # set on the derived measure


def _derived(rows: list, file: str) -> list[Measure]:
    """Measures computed by `parkzero.pathway.derive` from the ``[[derived]]`` tables (all problems at once)."""
    from parkzero.pathway import derive

    issues: list[Issue] = []
    out = []
    for row, raw in enumerate(rows, start=1):
        raw = dict(raw)
        code = str(raw.get("code", "(no code)"))
        method = raw.pop("method", None)
        if method not in _DERIVE:
            issues.append(Issue(f"method must be one of {', '.join(_DERIVE)}", file=file, row=row,
                                column=f"derived {code}: method", value=str(method)))  # fmt: skip
            continue
        planning = {k: raw.pop(k) for k in _PLANNING if k in raw}
        try:
            m = getattr(derive, _DERIVE[method])(**raw)
        except TypeError as exc:  # a missing or unknown argument
            reason = str(exc).split("() ")[-1]
            issues.append(Issue(reason, file=file, row=row, column=f"derived {code}"))
            continue
        except ValidationFailed as exc:
            issues += [Issue(i.reason, file=file, row=row, column=f"derived {i.column}", value=i.value)
                       for i in exc.issues] or [Issue(exc.detail, file=file, row=row, column=f"derived {code}")]  # fmt: skip
            continue
        out.append(dataclasses.replace(m, **planning))
    if issues:
        raise ValidationFailed(f"{file}: {len(issues)} problem(s) in the derived measures", issues=issues)
    return out


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario file (None: the shipped demo park scenario) into a checked `PortfolioInput`.

    Raises
    ------
    ValidationFailed
        Not TOML, unknown keys, bad tenants, targets or measures (each named with its field), a target before the
        horizon; nothing is returned then.
    """
    file, doc = read_toml(path, "demo_scenario.toml")
    base = None if path is None else Path(path).parent
    issues: list[Issue] = []
    head = doc.get("scenario")
    if not isinstance(head, dict):
        raise ValidationFailed(f"{file}: no [scenario] table")
    for key in sorted(set(head) - _SCENARIO_KEYS):
        issues.append(Issue("unknown key", file=file, column=f"scenario.{key}"))
    for key in sorted(set(doc) - {"scenario", "grid_factor_tco2_per_mwh", "tenant", "target", "derived"}):
        issues.append(Issue("unknown table", file=file, column=key))
    for key in ("name", "park"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            issues.append(Issue("missing or empty", file=file, column=f"scenario.{key}"))
    grid = _years(doc.get("grid_factor_tco2_per_mwh"), "grid_factor_tco2_per_mwh", issues, file)
    tenants = _records(doc, "tenant", Tenant, file, issues)
    targets = _records(doc, "target", Target, file, issues)
    if not tenants:
        issues.append(Issue("give at least one [[tenant]]", file=file, column="tenant"))
    carbon = head.get("carbon_price_cny_per_tco2e", 0.0)
    if isinstance(carbon, dict):
        carbon = _years(carbon, "scenario.carbon_price_cny_per_tco2e", issues, file) or 0.0
    budget = head.get("annual_budget_cny")
    if isinstance(budget, dict):
        budget = _years(budget, "scenario.annual_budget_cny", issues, file)
    if issues:
        raise ValidationFailed(f"{file}: {len(issues)} problem(s) in the scenario", issues=issues)
    measures_file = head.get("measures")
    measures = load_measures(None if measures_file is None else (base or Path(".")) / measures_file)
    measures += _derived(doc.get("derived") or [], file)
    validate_measures(measures)  # a derived code clashing with the library's is named
    baseline = project_baseline(tenants, grid or {}, first_year=int(head.get("first_year", 2025)),
                                last_year=int(head.get("last_year", 2060)), park_code=head["park"])  # fmt: skip
    inp = PortfolioInput(
        baseline=baseline, measures=measures, targets=targets, discount_rate=float(head.get("discount_rate", 0.06)),
        carbon_price_cny_per_tco2e=carbon, offset_price_cny_per_tco2e=head.get("offset_price_cny_per_tco2e"),
        offset_limit_tco2e_per_year=float(head.get("offset_limit_tco2e_per_year", math.inf)),
        annual_budget_cny=budget, total_budget_cny=head.get("total_budget_cny"),
        renew_at_end_of_life=bool(head.get("renew_at_end_of_life", True)),
    )  # fmt: skip
    return Scenario(name=head["name"], park=head["park"], file=file, portfolio_input=inp, tenants=tenants,
                    measures=measures)  # fmt: skip


__all__ = ["Scenario", "load_scenario"]
