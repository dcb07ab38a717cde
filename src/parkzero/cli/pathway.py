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


GRID_FACTOR_ID = "electricity.cn.east_china"  # the park's regional grid (Shanghai is in East China)


def _latest_grid_factor(year: int) -> float:
    """The shipped East China grid factor of `year`, or the latest one before it [tCO2/MWh], said on stderr."""
    from parkzero.factors.library import shipped_sets

    rows = [f for s in shipped_sets() for f in s.rows if f.factor_id == GRID_FACTOR_ID and f.year_from is not None]
    earlier = [f for f in rows if f.year_from <= year] or rows
    f = max(earlier, key=lambda f: f.year_from or 0)
    err.print(f"grid factor {f.value:g} {f.unit}: {GRID_FACTOR_ID} of {f.year_from} ({f.source}); "
              f"give --grid-factor for {year}'s expected value", markup=False)  # fmt: skip
    return float(f.value)


def _air_stated(m) -> bool:
    """True where a measure states what its air pollutants follow from (or offsets: none, by definition)."""
    return bool(m.co_benefits or m.fuel_saved_per_year or m.grid_mwh_saved_per_year or m.is_offset)


@pathway_app.command("macc")
def macc_command(
    year: Annotated[int, typer.Option(help="The year the curve is drawn for.")] = 2030,
    discount_rate: Annotated[float, typer.Option(help="Real discount rate for the annuities (0.06 = 6 %).")] = 0.06,
    grid_factor: Annotated[
        float | None,
        typer.Option(help="Grid factor of that year [tCO2/MWh] (default: the latest shipped East China factor)."),
    ] = None,
    file: Annotated[Path | None, typer.Option(help="A measures TOML file (default: the shipped library).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Marginal abatement cost curve: cost per tCO2e (annualised capex + opex - savings) / annual abatement,
    cheapest first, with the cumulative abatement and the air pollutants each avoids."""
    from parkzero.pathway import measures, pollution

    library = measures.load_measures(file)
    if grid_factor is None:
        grid_factor = _latest_grid_factor(year)
    shared = [m for m in library if m.abatement_share]  # their abatement is a share of a subject's baseline
    for m in shared:
        err.print(
            f"{m.code}: abates {m.abatement_share:.0%} of {m.subject or 'the park'}'s baseline: not on a curve without one"
        )
    fixed = [m for m in library if not m.abatement_share]
    rows = measures.macc(fixed, discount_rate, year, grid_factor_tco2_per_mwh=grid_factor)
    factors, by_code = pollution.load_pollutant_factors(), {m.code: m for m in fixed}
    air = {r.code: pollution.measure_co_control(by_code[r.code], factors, year, discount_rate,
                                                grid_factor_tco2_per_mwh=grid_factor) for r in rows}  # fmt: skip
    emit([{"measure": r.code, "kind": r.kind, "cost_cny_per_tco2e": round(r.cost_cny_per_tco2e, 1),
           "abatement_tco2e": round(r.abatement_tco2e, 1), "cumulative_tco2e": round(r.cumulative_tco2e, 1),
           "annual_cost_cny": round(r.annual_cost_cny), "apeq_t": round(air[r.code].apeq_t * r.units, 3),
           "co_control": air[r.code].quadrant if _air_stated(by_code[r.code]) else "not stated"}
          for r in rows], fmt, title=f"MACC {year}")  # fmt: skip
    err.print(
        "apeq_t: air pollutants avoided by all units [t/yr, SO2-equivalent weights of the Environmental"
        " Protection Tax Law]; co_control: the quadrant of carbon and air (both reduced, carbon only, ...)"
    )


@pathway_app.command("optimise")
def optimise_command(
    scenario: Annotated[
        Path | None, typer.Argument(help="A scenario TOML file (default: the shipped demo park).")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Stop HiGHS after this many seconds.")] = 60.0,
    fmt: FormatOpt = Format.table,
) -> None:
    """Choose measures and their years to meet the scenario's targets at least discounted cost (MILP), then
    print the builds; the pathway (peak year, neutrality, residual, air pollutants avoided, targets) goes to
    stderr."""
    from parkzero.pathway import optimise, pollution
    from parkzero.pathway.scenario import load_scenario

    s = load_scenario(scenario)
    p = optimise.optimise_portfolio(s.portfolio_input, time_limit_s=time_limit)
    factors = pollution.load_pollutant_factors()
    air = pollution.scenario_co_benefits(p, s.measures, factors, renew=s.portfolio_input.renew_at_end_of_life)
    years = [int(y) for y in air.years]
    shown = sorted({min(2030, years[-1]), years[-1]})
    base = s.portfolio_input.baseline
    control = {y: pollution.scenario_co_control(p, air, pollution.baseline_pollutants(base, factors, y), y)
               for y in shown}  # fmt: skip
    if fmt == Format.json:  # the whole plan, series included
        co = {k: dict(zip(years, v.round(6).tolist(), strict=True)) for k, v in air.avoided_t.items()}
        co["apeq_t"] = dict(zip(years, air.apeq_t.round(6).tolist(), strict=True))
        cc = {y: {"quadrant": c.quadrant, "elasticity": c.elasticity, "apeq_before_t": c.apeq_before_t,
                  "apeq_reduction_t": c.apeq_reduction_t, "explanation": c.explanation} for y, c in control.items()}  # fmt: skip
        emit([{"scenario": s.name, "park": s.park, **p.as_dict(), "air_pollutants_avoided_t": co,
               "co_control": cc}], fmt)  # fmt: skip
        return
    emit([{"measure": b.code, "kind": b.kind, "subject": b.subject or s.park, "year": b.year, "units": b.units,
           "capex_cny": round(b.capex_cny), "cost_cny_per_tco2e": round(b.levelised_cost_cny_per_tco2e, 1)}
          for b in p.builds], fmt, title=f"{s.name} ({s.file})")  # fmt: skip
    first, last = int(p.years[0]), int(p.years[-1])
    err.print(
        f"{p.status}, gap {100 * p.mip_gap:.3g} %, {p.solve_s:.2f} s; discounted cost {p.discounted_cost_cny:,.0f} CNY"
        f" (to {first}); peak {p.peak_year}; neutral from {p.neutral_year or 'never'}; {last}: residual"
        f" {p.residual_tco2e:,.0f} tCO2e gross, gap to neutrality {p.gap_to_neutrality_tco2e:,.0f} tCO2e"
    )
    for y in shown:
        i = years.index(y)
        err.print(f"{y}: air pollutants avoided " + ", ".join(f"{k.removesuffix('_t')} {v[i]:,.2f} t"
                  for k, v in air.avoided_t.items()) + f" (APeq {air.apeq_t[i]:,.2f} t, SO2-normalised)")  # fmt: skip
        err.print(f"{y}: co-control {control[y].explanation}", markup=False)
    if not base.fuel:
        err.print("the tenants state no fuel (fuel_per_unit): the baseline's air pollutants count grid power only")
    for t in p.targets:
        state = "not modelled" if not t.modelled else ("met" if t.met else f"short {t.shortfall_tco2e:,.0f} tCO2e")
        err.print(f"target {t.code}: {state}{f' ({t.note})' if t.note else ''}")


def _store():
    from parkzero.cli.main import _store as open_configured

    return open_configured()


@pathway_app.command("progress")
def progress_command(
    park: Annotated[str, typer.Option(help="Park code.")],
    regime: Annotated[str, typer.Option(help="Regime of the closed inventories judged on.")] = "ghg-protocol",
    fmt: FormatOpt = Format.table,
) -> None:
    """The park's stored targets (the park's and its tenants'), each judged on its closed inventories."""
    from parkzero.pathway import district
    from parkzero.registry.scope import Scope

    rows = [{"target": s.target.code, "subject": s.target.subject, "kind": s.target.kind,
             "target_year": s.target.target_year, "status": s.progress.status if s.progress else "not judged",
             "explanation": s.progress.explanation if s.progress else s.reason}
            for s in district.target_standings(_store(), Scope.system("cli"), park, regime=regime)]  # fmt: skip
    emit(rows, fmt, title=f"Targets of {park} on its closed {regime} inventories")


@pathway_app.command("district")
def district_command(
    regime: Annotated[str, typer.Option(help="Regime of the closed inventories compared.")] = "ghg-protocol",
    report: Annotated[Path | None, typer.Option(help="Also write the report: a .pdf or .xlsx file.")] = None,
    lang: Annotated[str, typer.Option(help="Report language: en or zh.")] = "en",
    fmt: FormatOpt = Format.table,
) -> None:
    """Every park side by side (closed park-level inventories only): emissions, intensity, 910 core indicator,
    targets, recognitions and air pollutants."""
    from parkzero.pathway import district
    from parkzero.registry.scope import Scope

    parks = [p.as_dict() for p in district.district(_store(), Scope.system("cli"), regime=regime)]
    if report is not None:
        from parkzero.reports import district as district_report

        if report.suffix not in (".pdf", ".xlsx"):
            raise ValidationFailed(f"{report}: the report is a .pdf or an .xlsx file")
        write = district_report.district_pdf if report.suffix == ".pdf" else district_report.district_xlsx
        report.write_bytes(write(parks, lang))
        err.print(f"wrote {report}")
    emit([{"park": p["park"], "latest_year": p["latest_year"], "total_tco2e": p["total_tco2e"],
           "energy_tce": p["energy_tce"], "tco2e_per_10k_cny": p["tco2e_per_10k_cny"],
           "core_910_tco2_per_tce": (p["core_910"] or {}).get("tco2_per_tce"),
           "core_910_passed": (p["core_910"] or {}).get("passed"),
           "targets_off_track": sum(t["status"] in ("off track", "missed") for t in p["targets"]),
           "recognitions": sum(p["recognitions"].values())} for p in parks], fmt,
         title=f"District: closed {regime} park inventories")  # fmt: skip


@pathway_app.command("recognitions")
def recognitions_command(
    park: Annotated[str, typer.Option(help="Park code.")],
    load: Annotated[Path | None, typer.Option("--import", help="Record every recognition of this JSON file.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The park's recognitions (green factories, supply chains, products, zero-carbon units), or import a file."""
    from parkzero.pathway import records
    from parkzero.registry.scope import Scope

    store, scope = _store(), Scope.system("cli")
    if load is not None:
        try:
            text = load.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"{load}: cannot read the recognitions ({exc})") from None
        err.print(f"recorded {len(records.import_recognitions(store, scope, park, text, str(load)))} recognition(s)")
    emit([{k: ("; ".join(v) if k == "evidence" else v) for k, v in r.items()}
          for r in records.list_recognitions(store, scope, park)], fmt, title=f"Recognitions in {park}")  # fmt: skip
