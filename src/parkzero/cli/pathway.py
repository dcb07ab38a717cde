"""CLI of the road to zero: `parkzero pathway sets|evaluate …` (indicator sets and score cards) and, with the
portfolio optimiser, `targets|macc|optimise`.

Data goes to stdout (`--format table|csv|json`), notes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from parkzero.cli.output import Format, emit, err
from parkzero.errors import ValidationFailed

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
pathway_app = typer.Typer(help="Targets, pathways, abatement measures and zero-carbon / green evaluations.",
                          no_args_is_help=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(pathway_app, name="pathway")


def _json_file(path: Path | None, what: str) -> dict:
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"{path}: {what} is not a readable JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise ValidationFailed(f"{path}: {what} is a JSON object of indicator code -> value")
    return doc


@pathway_app.command("sets")
def sets_command(fmt: FormatOpt = Format.table) -> None:
    """The shipped indicator sets with their source and whether their figures are verified."""
    from parkzero.pathway import evaluations

    rows = []
    for code, path in sorted(evaluations.shipped_indicator_sets().items()):
        s = evaluations.load_indicator_set(path)
        unverified = sum(not i.verified for i in s.indicators)
        rows.append({"name": path.stem, "code": code, "title": s.title, "version": s.version, "source": s.source.document,
                     "indicators": len(s.indicators), "unverified_indicators": unverified,
                     "verified": s.verified})  # fmt: skip
    emit(rows, fmt, title="Indicator sets (data files: a new local standard is a file)")


@pathway_app.command("evaluate")
def evaluate_command(
    indicator_set: Annotated[str, typer.Argument(help="A shipped set's name (see `pathway sets`) or a TOML file.")],
    values: Annotated[Path, typer.Option(help="JSON: indicator code -> value in the indicator's unit.")],
    size: Annotated[float | None, typer.Option(help="The set's size quantity (e.g. energy use [tce/yr]).")] = None,
    evidence: Annotated[Path | None, typer.Option(help="JSON: indicator code -> list of evidence references.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Score values and evidence against an indicator set: each indicator with the threshold used and why."""
    from parkzero.pathway import evaluations

    card = evaluations.evaluate(indicator_set, _json_file(values, "values"), size_quantity=size,
                                evidence=_json_file(evidence, "evidence") or None)  # fmt: skip
    emit(
        [{"indicator": r.code, "kind": r.kind, "value": r.value, "unit": r.unit, "threshold": r.threshold,
          "size_class": r.size_class, "status": r.status, "score": r.score, "verified": r.verified,
          "why": r.explanation or r.threshold_basis} for r in card.results],
        fmt,
        title=f"{card.set_title} ({card.source})",
    )  # fmt: skip
    err.print(
        f"core passed: {card.core_passed}; guiding passed: {card.guiding_passed}; score {card.score} of"
        f" {card.max_score}; grade {card.grade or '-'} ({card.grade_reason})"
    )
    for label, codes in (("missing", card.missing), ("failed", card.failed), ("evidence missing", card.evidence_missing),
                         ("on unverified figures", card.unverified)):  # fmt: skip
        if codes:
            err.print(f"{label}: {', '.join(codes)}")


@pathway_app.command("targets")
def targets_command(
    file: Annotated[
        Path | None,
        typer.Option(help="A targets TOML file (default: the shipped national, Shanghai and company targets)."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Targets with their source: peak, neutrality, caps, intensity and share targets."""
    from parkzero.pathway import targets

    emit([{"code": t.code, "subject": t.subject, "kind": t.kind, "base_year": t.base_year, "target_year": t.target_year,
           "value": t.value, "unit": t.unit, "source": t.source} for t in targets.load_targets(file)],
         fmt, title="Targets")  # fmt: skip


@pathway_app.command("macc")
def macc_command(
    year: Annotated[int, typer.Option(help="The year the curve is drawn for.")] = 2030,
    discount_rate: Annotated[float, typer.Option(help="Real discount rate for the annuities (0.06 = 6 %).")] = 0.06,
    grid_factor: Annotated[
        float | None, typer.Option(help="Grid factor of that year [tCO2/MWh] for measures that save electricity.")
    ] = None,
    file: Annotated[Path | None, typer.Option(help="A measures TOML file (default: the shipped library).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Marginal abatement cost curve: cost per tCO2e (annualised capex + opex - savings) / annual abatement,
    cheapest first, with the cumulative abatement."""
    from parkzero.pathway import measures

    library = measures.load_measures(file)
    shared = [m for m in library if m.abatement_share]  # their abatement is a share of a subject's baseline
    for m in shared:
        err.print(
            f"{m.code}: abates {m.abatement_share:.0%} of {m.subject or 'the park'}'s baseline: not on a curve without one"
        )
    fixed = [m for m in library if not m.abatement_share]
    rows = measures.macc(fixed, discount_rate, year, grid_factor_tco2_per_mwh=grid_factor)
    emit([{"measure": r.code, "kind": r.kind, "cost_cny_per_tco2e": round(r.cost_cny_per_tco2e, 1),
           "abatement_tco2e": round(r.abatement_tco2e, 1), "cumulative_tco2e": round(r.cumulative_tco2e, 1),
           "annual_cost_cny": round(r.annual_cost_cny)} for r in rows], fmt, title=f"MACC {year}")  # fmt: skip
