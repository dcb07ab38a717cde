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
