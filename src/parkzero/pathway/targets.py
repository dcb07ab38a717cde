"""Carbon targets as data, checked for sense, and progress against them.

A target binds one subject (a park or enterprise code, or ``"national"`` / ``"shanghai"``) to one of the kinds in
`TARGET_KINDS`. The library `data/targets.toml` holds the national, Shanghai and Baowu targets of DESIGN.md §6,
each with its source.

Kinds and what `value` means
----------------------------
=============================  ======================================================================  ==========
kind                           meaning                                                                 value
=============================  ======================================================================  ==========
``absolute_peak``              emissions peak no later than ``target_year`` (non-increasing after it)   (none)
``neutral``                    net emissions (after offsets) <= 0 from ``target_year`` on               (none)
``absolute_cap``               emissions <= value in ``target_year``                                    tCO2e
``intensity_reduction``        emissions per unit of activity fall by value % from base to target year  %
``non_fossil_share``           non-fossil share of energy use >= value % in ``target_year``             %
``energy_intensity_reduction`` energy per unit of activity falls by value % from base to target year    %
=============================  ======================================================================  ==========

Progress arithmetic (`progress`)
--------------------------------
With the latest observed year ``ly`` and value ``h[ly]``, the level the target asks for is ``L`` (the cap; the
base-year value x (1 - value/100) for a reduction; 0 for neutrality; the share for a share target) and
``n = target_year - ly`` years are left:

- gap = ``h[ly] - L`` (``L - h[ly]`` for a share), positive while there is still a way to go;
- required change per year = gap / n (straight line) [unit/yr];
- required annual reduction = ``1 - (L / h[ly])^(1/n)`` [%/yr] (compound, as reduction targets are stated);
  for neutrality (L = 0) the compound rate is undefined and the straight-line rate ``100 / n`` % of today's
  value per year is given instead;
- trend = ``(h[ly] - h[fy]) / (ly - fy)`` from the first observed year ``fy`` (straight line) [unit/yr], and the
  projection ``h[ly] + trend x n``: "on track" when the projection reaches L, "off track" otherwise;
- once the target year is observed the status is "met" or "missed", judged on ``h[target_year]``.

A peak target has no level: what matters is the annual growth ``g = h[ly] - h[ly-1]``. It is on track when
``g <= 0``, or when growth is slowing (``g < g_prev``) fast enough to stop by the target year at the current
slowdown (``ly + g / (g_prev - g) <= target_year``); the required change per year is ``g / n`` (the growth to
remove each year). It is met when the highest value after the target year does not exceed the highest value up
to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parkzero.errors import Issue, ValidationFailed
from parkzero.pathway.datafile import read_toml

TARGET_KINDS = (
    "absolute_peak",
    "neutral",
    "absolute_cap",
    "intensity_reduction",
    "non_fossil_share",
    "energy_intensity_reduction",
)
_NEEDS_VALUE = {"absolute_cap", "intensity_reduction", "non_fossil_share", "energy_intensity_reduction"}
_NEEDS_BASE = {"intensity_reduction", "energy_intensity_reduction"}
_PERCENT = {"intensity_reduction", "non_fossil_share", "energy_intensity_reduction"}


@dataclass(frozen=True, kw_only=True)
class Target:
    """One carbon or energy target of one subject.

    Parameters
    ----------
    code : str
        Identifier, unique in a target set (``"cn-neutral-2060"``).
    subject : str
        Whose target: a park or enterprise code, or ``"national"`` / ``"shanghai"``.
    kind : str
        One of `TARGET_KINDS`.
    target_year : int
        Year by which (peak, neutral) or in which (cap, reduction, share) the target holds.
    base_year : int or None
        Reference year of a reduction target; None for the other kinds.
    value : float or None
        The figure (see the module docstring): tCO2e for a cap, % for reductions and shares; None for peak and
        neutrality.
    unit : str
        Unit of `value` (``"tCO2e"``, ``"%"``), or of the subject's emissions for peak and neutrality.
    source : str
        Where the figure comes from (document number, roadmap).
    note : str
        How the source's words were read into the fields.
    """

    code: str
    subject: str
    kind: str
    target_year: int
    base_year: int | None = None
    value: float | None = None
    unit: str = ""
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Progress:
    """Where a subject stands against one target (see the module docstring for the arithmetic).

    ``gap`` and ``required_change_per_year`` are in the unit of the history given (tCO2e, tCO2e per unit, %);
    ``required_annual_reduction_pct`` is None for peak and share targets and once the target year is observed.
    """

    target_code: str
    status: str  # "met" | "missed" | "on track" | "off track"
    latest_year: int
    latest_value: float
    required_value: float | None  # the level L the target asks for; None for a peak
    gap: float
    years_left: int
    required_change_per_year: float | None  # [unit/yr]
    required_annual_reduction_pct: float | None  # [%/yr]
    trend_per_year: float  # [unit/yr], straight line from the first to the latest observed year
    projected_value: float | None  # latest + trend x years_left, at the target year
    explanation: str


# -- reading and checking ----------------------------------------------------------------------------
def _issue(code: str, fld: str, reason: str, value: Any = None, where: str | None = None) -> Issue:
    return Issue(reason, file=where, column=f"{code}: {fld}", value=None if value is None else str(value))


def _check(target: Target, issues: list[Issue], where: str | None = None) -> None:
    """Structural checks that hold whatever today is."""
    code = target.code or "(no code)"
    if not target.code:
        issues.append(_issue(code, "code", "must not be empty", where=where))
    if not target.subject:
        issues.append(_issue(code, "subject", "must not be empty", where=where))
    if target.kind not in TARGET_KINDS:
        issues.append(_issue(code, "kind", f"unknown kind; one of {', '.join(TARGET_KINDS)}", target.kind, where))
        return
    if not _is_year(target.target_year):
        issues.append(_issue(code, "target_year", "must be a whole year", target.target_year, where))
    if target.kind in _NEEDS_BASE:
        if target.base_year is None or not _is_year(target.base_year):
            issues.append(_issue(code, "base_year", f"a {target.kind} target needs a base year", target.base_year))
        elif _is_year(target.target_year) and target.base_year > target.target_year:
            issues.append(
                _issue(code, "base_year", f"is after target_year {target.target_year}", target.base_year, where)
            )
    if target.kind in _NEEDS_VALUE:
        if not isinstance(target.value, int | float) or not math.isfinite(target.value):
            issues.append(_issue(code, "value", f"a {target.kind} target needs a finite value", target.value, where))
        elif target.value < 0:
            issues.append(_issue(code, "value", "must not be negative", target.value, where))
        elif target.kind in _PERCENT and target.value > 100:
            issues.append(_issue(code, "value", "is a percentage and must be <= 100", target.value, where))
    elif target.value is not None:
        issues.append(_issue(code, "value", f"a {target.kind} target takes no value", target.value, where))


def _is_year(year: Any) -> bool:
    return isinstance(year, int) and not isinstance(year, bool) and 1900 <= year <= 2200


def validate_target(target: Target, today_year: int) -> None:
    """Reject a target that cannot be planned for from `today_year`.

    Parameters
    ----------
    target : Target
        The target.
    today_year : int
        The current year; a target year before it is in the past.

    Raises
    ------
    ValidationFailed
        Naming the target code and the field: an unknown kind, a target year in the past, a base year after the
        target year, a missing, negative or (for a percentage) over-100 value.
    """
    issues: list[Issue] = []
    _check(target, issues)
    if target.kind in TARGET_KINDS and _is_year(target.target_year) and target.target_year < today_year:
        issues.append(_issue(target.code, "target_year", f"is in the past (before {today_year})", target.target_year))
    if issues:
        fields = ", ".join(i.column or "" for i in issues)
        raise ValidationFailed(f"target {target.code} rejected: {fields}", issues=issues)


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read targets from a TOML file with one ``[[target]]`` table per target.

    Parameters
    ----------
    path : str or pathlib.Path or None
        The file; None reads the library `parkzero/pathway/data/targets.toml`.

    Returns
    -------
    list of Target

    Raises
    ------
    ValidationFailed
        Not TOML, an unknown field, or any target structurally wrong (naming its code and field); nothing is
        returned unless all are right. Past target years are allowed here (Baowu's 2023 peak is history):
        `validate_target` rejects them for planning.
    """
    where, doc = read_toml(path, "targets.toml")
    raw = doc.get("target")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(f"{where}: no [[target]] tables found")
    fields = set(Target.__dataclass_fields__)
    issues: list[Issue] = []
    targets: list[Target] = []
    seen: set[str] = set()
    for entry in raw:
        code = str(entry.get("code", "(no code)"))
        unknown = sorted(set(entry) - fields)
        if unknown or "target_year" not in entry or "kind" not in entry:
            reason = f"unknown field(s) {', '.join(unknown)}" if unknown else "needs kind and target_year"
            issues.append(_issue(code, ", ".join(unknown) or "target_year", reason, where=where))
            continue
        target = Target(**entry)
        _check(target, issues, where)
        if target.code in seen:
            issues.append(_issue(target.code, "code", "duplicate target code", where=where))
        seen.add(target.code)
        targets.append(target)
    if issues:
        raise ValidationFailed(f"{where}: {len(issues)} problem(s) in the targets; none was loaded", issues=issues)
    return targets


# -- progress ----------------------------------------------------------------------------------------
def progress(target: Target, history: Mapping[int, float]) -> Progress:
    """Status of `target` given observed values, with the gap and the rate still required.

    Parameters
    ----------
    target : Target
        The target.
    history : mapping of int to float
        Observed values by year, in the target's terms: emissions [tCO2e] for peak, neutral and cap targets
        (net of offsets for neutral), intensity [tCO2e per unit] or energy intensity for reductions, share [%]
        for a non-fossil share.

    Returns
    -------
    Progress
        Status, gap, required change [unit/yr] and compound reduction [%/yr], trend and projection, and the
        arithmetic as text.

    Raises
    ------
    ValidationFailed
        A malformed target, an empty or non-finite history, or a reduction target without its base year in the
        history (naming the target code and the field).
    """
    issues: list[Issue] = []
    _check(target, issues)
    h = {int(y): float(v) for y, v in history.items()}
    if not h:
        issues.append(_issue(target.code, "history", "is empty: give at least one observed year"))
    elif not all(math.isfinite(v) for v in h.values()):
        issues.append(_issue(target.code, "history", "holds a missing or infinite value"))
    if not issues and target.kind in _NEEDS_BASE and target.base_year not in h:
        issues.append(_issue(target.code, "history", f"has no value for base_year {target.base_year}"))
    if issues:
        raise ValidationFailed(f"progress against target {target.code}: bad input", issues=issues)

    years = sorted(h)
    fy, ly, ty = years[0], years[-1], target.target_year
    latest = h[ly]
    trend = (latest - h[fy]) / (ly - fy) if ly > fy else 0.0
    n = ty - ly
    if target.kind == "absolute_peak":
        return _peak_progress(target, h, years, trend)

    if target.kind == "absolute_cap":
        level, how = float(target.value), f"cap {target.value:g}"
    elif target.kind == "neutral":
        level, how = 0.0, "net zero"
    elif target.kind == "non_fossil_share":
        level, how = float(target.value), f"share {target.value:g} %"
    else:
        base = h[target.base_year]
        level = base * (1.0 - float(target.value) / 100.0)
        how = f"{base:g} x (1 - {target.value:g} %) = {level:g} (base year {target.base_year})"
    rising = target.kind == "non_fossil_share"  # the only kind where higher is better
    gap = (level - latest) if rising else (latest - level)

    if ly >= ty:
        judged_year = ty if ty in h else ly
        judged = h[judged_year]
        if target.kind == "neutral":
            ok = all(h[y] <= 0.0 for y in years if y >= ty)
        else:
            ok = judged >= level if rising else judged <= level
        text = f"{judged_year}: {judged:g} against {how}: {'met' if ok else 'missed'}"
        return Progress(
            target.code, "met" if ok else "missed", ly, latest, level, gap, 0, None, None, trend, None, text
        )

    projected = latest + trend * n
    on_track = projected >= level if rising else projected <= level
    per_year = gap / n
    if rising:
        rate = None
        rate_text = ""
    elif gap <= 0:
        rate, rate_text = 0.0, "; already at or below the level"
    elif level > 0:
        rate = 100.0 * (1.0 - (level / latest) ** (1.0 / n))
        rate_text = f"; compound 1 - ({level:g} / {latest:g})^(1/{n}) = {rate:.2f} %/yr"
    else:
        rate = 100.0 / n
        rate_text = f"; to zero in a straight line 100 % / {n} = {rate:.2f} % of {ly}'s value per year"
    text = (
        f"{ly}: {latest:g}; target {how} in {ty}; gap {gap:g} over {n} yr = {per_year:g}/yr{rate_text}; "
        f"trend {trend:g}/yr projects {projected:g} in {ty}: {'on' if on_track else 'off'} track"
    )
    status = "on track" if on_track else "off track"
    return Progress(target.code, status, ly, latest, level, gap, n, per_year, rate, trend, projected, text)


def _peak_progress(target: Target, h: dict[int, float], years: list[int], trend: float) -> Progress:
    ly, ty = years[-1], target.target_year
    latest = h[ly]
    growth = latest - h[ly - 1] if ly - 1 in h else 0.0
    if ly > ty:
        before = max(h[y] for y in years if y <= ty) if years[0] <= ty else -math.inf
        after = max(h[y] for y in years if y > ty)
        ok = after <= before
        text = f"highest after {ty}: {after:g}; highest up to {ty}: {before:g}: {'met' if ok else 'missed'}"
        gap = max(0.0, after - before)
        return Progress(target.code, "met" if ok else "missed", ly, latest, None, gap, 0, None, None, trend, None, text)
    n = ty - ly
    gap = max(0.0, growth)
    if growth <= 0:
        on_track, why = True, f"{ly} change {growth:g} <= 0: no longer rising"
    elif ly - 2 in h and growth < h[ly - 1] - h[ly - 2]:
        slowdown = (h[ly - 1] - h[ly - 2]) - growth
        stop = ly + growth / slowdown
        on_track = stop <= ty
        why = f"growth {growth:g}/yr slowing by {slowdown:g}/yr stops in {stop:.1f}"
    else:
        on_track, why = False, f"growth {growth:g}/yr is not slowing"
    per_year = gap / n if n > 0 else gap
    text = f"{why}; to peak by {ty} growth must fall by {per_year:g}/yr each year: {'on' if on_track else 'off'} track"
    status = "on track" if on_track else "off track"
    return Progress(target.code, status, ly, latest, None, gap, n, per_year, None, trend, None, text)


__all__ = ["TARGET_KINDS", "Progress", "Target", "load_targets", "progress", "validate_target"]
