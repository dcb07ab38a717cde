"""CLI of the carbon ledger: `parkzero factors|sources|activity|instruments|inventory …`.

The commands run as the installation's owner (system scope) on the configured store, like the rest of the CLI.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from parkzero.cli.output import Format, emit, err
from parkzero.errors import Issue, ValidationFailed
from parkzero.registry.scope import Scope

SYSTEM = Scope.system("cli")
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ParkOpt = Annotated[str, typer.Option("--park", "-p", help="Park code.")]

factors_app = typer.Typer(help="The emission-factor library: shipped and user factor sets.", no_args_is_help=True)
sources_app = typer.Typer(help="Emission sources: what turns activity into emissions.", no_args_is_help=True)
activity_app = typer.Typer(help="Manual activity entries with evidence files.", no_args_is_help=True)
instruments_app = typer.Typer(help="Green certificates, green power trades, supplier rates.", no_args_is_help=True)
inventory_app = typer.Typer(help="Compute, review, close and explain inventories.", no_args_is_help=True)


def _store():
    from parkzero.cli.main import _store as open_configured

    return open_configured()


def register(app: typer.Typer) -> None:
    app.add_typer(factors_app, name="factors")
    app.add_typer(sources_app, name="sources")
    app.add_typer(activity_app, name="activity")
    app.add_typer(instruments_app, name="instruments")
    app.add_typer(inventory_app, name="inventory")


# -- factors ---------------------------------------------------------------------------------------
@factors_app.command("list")
def factors_list(fmt: FormatOpt = Format.table) -> None:
    from parkzero.factors import library

    with _store() as store:
        emit(library.list_sets(store, SYSTEM), fmt, title="Factor sets")


@factors_app.command("show")
def factors_show(
    code: str,
    version: Annotated[str | None, typer.Option(help="Version (default: newest).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The rows of one factor set, with their sources."""
    from parkzero.factors import library

    with _store() as store:
        meta, text = library.export_set(store, SYSTEM, code, version)
    rows = list(csv.DictReader(io.StringIO(text)))
    if fmt == Format.table:
        rows = [
            {
                k: r[k]
                for k in ("factor_id", "parameter", "gas", "value", "unit", "year_from", "year_to", "source", "table")
            }
            for r in rows
        ]
    emit(rows, fmt, title=f"{meta['code']} {meta['version']}: {meta['title']}")


@factors_app.command("export")
def factors_export(
    code: str,
    out: Annotated[Path, typer.Option(help="Folder to write <code>.csv/.toml into.")],
    version: str | None = None,
) -> None:
    """Write a set in the shipped format, to edit into a new version of your own."""
    from parkzero.factors import library

    with _store() as store:
        meta, text = library.export_set(store, SYSTEM, code, version)
    out.mkdir(parents=True, exist_ok=True)
    stem = meta["code"].replace("-", "_")
    (out / f"{stem}.csv").write_text(text, encoding="utf-8")
    (out / f"{stem}.toml").write_text(
        "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in meta.items()), encoding="utf-8"
    )
    err.print(f"wrote {out / stem}.csv and .toml")


@factors_app.command("add")
def factors_add(
    meta: Annotated[Path, typer.Argument(exists=True, help="Metadata (.toml: code, version, title, ...).")],
    rows: Annotated[Path, typer.Argument(exists=True, help="Rows (.csv in the shipped format).")],
    fmt: FormatOpt = Format.table,
) -> None:
    from parkzero.factors import library

    try:
        meta_dict = tomllib.loads(meta.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{meta}: not valid TOML ({exc})") from None
    with _store() as store:
        emit(library.add_user_set(store, SYSTEM, meta_dict, rows.read_text(encoding="utf-8"), filename=rows.name), fmt)


@factors_app.command("regimes")
def factors_regimes(fmt: FormatOpt = Format.table) -> None:
    """The accounting regimes and the factors each uses."""
    from parkzero.accounting.rules import regimes

    emit(
        [{k: v for k, v in r.as_dict().items() if k not in ("basis", "title_zh")} for r in regimes().values()],
        fmt,
        title="Regimes",
    )


# -- sources ---------------------------------------------------------------------------------------
@sources_app.command("list")
def sources_list(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.accounting import sources

    with _store() as store:
        emit(sources.list_sources(store, SYSTEM, park), fmt, title="Emission sources")


@sources_app.command("import")
def sources_import(
    path: Annotated[Path, typer.Argument(exists=True, help="JSON list of source definitions.")], park: ParkOpt
) -> None:
    """Create or replace emission sources from a JSON file (a list of objects), all or nothing per source."""
    from parkzero.accounting import sources

    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(records, list):
        raise ValidationFailed(f"{path}: expected a list of emission sources")
    with _store() as store:
        for rec in records:
            sources.save_source(store, SYSTEM, park, rec)
    err.print(f"saved {len(records)} emission sources")


@sources_app.command("output-value")
def sources_output_value(
    park: ParkOpt,
    enterprise: Annotated[str, typer.Option(help="Enterprise code.")],
    year: Annotated[int, typer.Option(help="Calendar year.")],
    value: Annotated[float, typer.Option(help="Gross output value [10^4 CNY].")],
) -> None:
    """Set an enterprise's output value for a year (the denominator of tCO2e per 10^4 CNY)."""
    from parkzero.accounting import sources

    with _store() as store:
        sources.set_output_value(store, SYSTEM, park, enterprise, year, value)
    err.print(f"{enterprise} {year}: {value:g} x 10^4 CNY")


# -- activity --------------------------------------------------------------------------------------
def _time(text: str, what: str):
    from parkzero.cli.main import _time as parse

    return parse(text, what)


@activity_app.command("add")
def activity_add(
    park: ParkOpt,
    source: Annotated[str, typer.Option(help="Emission source code.")],
    start: Annotated[str, typer.Option(help="Period start, ISO 8601 with offset.")],
    end: Annotated[str, typer.Option(help="Period end (exclusive), ISO 8601 with offset.")],
    amount: Annotated[float, typer.Option(help="Amount in --unit.")],
    unit: Annotated[str | None, typer.Option(help="Unit (default: the source's activity unit).")] = None,
    evidence: Annotated[Path | None, typer.Option(exists=True, help="Evidence file (invoice, photo ...).")] = None,
    note: str | None = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from parkzero.accounting import sources

    with _store() as store:
        ev = None
        if evidence is not None:
            owner = next(
                (s["enterprise"] for s in sources.list_sources(store, SYSTEM, park) if s["code"] == source), None
            )
            ev = sources.add_evidence(store, SYSTEM, park, evidence.name, evidence.read_bytes(), enterprise_code=owner)[
                "id"
            ]
        emit(
            sources.add_activity(
                store,
                SYSTEM,
                park,
                source,
                {
                    "period_start": _time(start, "--start"),
                    "period_end": _time(end, "--end"),
                    "amount": amount,
                    "unit": unit,
                    "evidence_id": ev,
                    "note": note,
                },
            ),
            fmt,
        )


@activity_app.command("import")
def activity_import(
    path: Annotated[Path, typer.Argument(exists=True, help="CSV: source,period_start,period_end,amount,unit,note")],
    park: ParkOpt,
    year: Annotated[int | None, typer.Option(help="Refuse entries outside this year.")] = None,
) -> None:
    """Import manual entries from a CSV file, all or nothing."""
    from parkzero.accounting import sources

    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path}: not a UTF-8 text file") from None
    entries, problems = [], []
    for n, r in enumerate(rows, start=2):
        e: dict = {"source": r.get("source"), "unit": r.get("unit") or None, "note": r.get("note") or None}
        for col in ("period_start", "period_end"):
            try:
                e[col] = _time(r.get(col) or "", col)
            except ValidationFailed as exc:
                problems.append(Issue(exc.detail, file=path.name, row=n, column=col))
        try:
            e["amount"] = float(r.get("amount") or "")
        except ValueError:
            problems.append(
                Issue("amount must be a number", file=path.name, row=n, column="amount", value=r.get("amount"))
            )
        entries.append(e)
    if problems:
        raise ValidationFailed(f"{path.name} rejected; nothing was written", issues=problems)
    with _store() as store:
        done = sources.import_activity(store, SYSTEM, park, entries, year=year, filename=path.name)
    err.print(f"imported {len(done)} activity entries")


@activity_app.command("list")
def activity_list(park: ParkOpt, source: str | None = None, fmt: FormatOpt = Format.table) -> None:
    from parkzero.accounting import sources

    with _store() as store:
        emit(sources.list_activity(store, SYSTEM, park, source), fmt, title="Activity entries")


# -- instruments -----------------------------------------------------------------------------------
@instruments_app.command("list")
def instruments_list(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.accounting import instruments

    with _store() as store:
        emit(instruments.list_instruments(store, SYSTEM, park), fmt, title="Instruments")


@instruments_app.command("add")
def instruments_add(
    park: ParkOpt,
    code: str,
    enterprise: Annotated[str, typer.Option(help="Owner enterprise code.")],
    kind: Annotated[str, typer.Option(help="gec | green_power | supplier_rate")],
    vintage: Annotated[int, typer.Option(help="Vintage year.")],
    mwh: float | None = None,
    serial_prefix: str | None = None,
    serial_first: int | None = None,
    serial_last: int | None = None,
    factor: Annotated[float | None, typer.Option(help="Supplier rate [tCO2/MWh].")] = None,
    technology: str | None = None,
    facility: str | None = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from parkzero.accounting import instruments

    with _store() as store:
        emit(
            instruments.register(
                store,
                SYSTEM,
                park,
                {
                    "code": code,
                    "enterprise": enterprise,
                    "kind": kind,
                    "vintage_year": vintage,
                    "mwh": mwh,
                    "serial_prefix": serial_prefix,
                    "serial_first": serial_first,
                    "serial_last": serial_last,
                    "factor_tco2_per_mwh": factor,
                    "technology": technology,
                    "facility": facility,
                },
            ),
            fmt,
        )


@instruments_app.command("retire")
def instruments_retire(
    park: ParkOpt,
    code: str,
    year: Annotated[int, typer.Option(help="Reporting year the MWh are claimed for.")],
    mwh: float | None = None,
    serial_first: int | None = None,
    serial_last: int | None = None,
    note: str | None = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from parkzero.accounting import instruments

    with _store() as store:
        emit(
            instruments.retire(
                store,
                SYSTEM,
                park,
                code,
                year=year,
                mwh=mwh,
                serial_first=serial_first,
                serial_last=serial_last,
                note=note,
            ),
            fmt,
        )


# -- inventory -------------------------------------------------------------------------------------
@inventory_app.command("run")
def inventory_run(
    year: Annotated[int, typer.Option(help="Park-local calendar year.")],
    regime: Annotated[str, typer.Option(help="ghg-protocol | cn-enterprise | cn-ets | sh-ets | zcp-910")],
    park: Annotated[str | None, typer.Option("--park", "-p", help="Park code (store engine).")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise code (default: the whole park).")] = None,
    save: Annotated[bool, typer.Option(help="Store the result as a draft (or recompute the open draft).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why, when this restates a closed inventory.")] = None,
    engine_name: Annotated[
        str, typer.Option("--engine", help="store (the configured DuckDB/PostgreSQL) or spark (many parks).")
    ] = "store",
    parks: Annotated[str | None, typer.Option(help="Spark: comma-separated park codes (default: all).")] = None,
    export: Annotated[
        Path | None, typer.Option(help="Spark: a Parquet export (`parkzero db export`); default: export the store.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compute an inventory and print its totals and breakdown by category (or, on Spark, one row per park)."""
    from parkzero.accounting import engine, inventory

    if engine_name == "spark":
        _run_spark(year, regime, [p for p in (parks or "").split(",") if p], export, fmt)
        return
    if engine_name != "store":
        raise ValidationFailed(f"--engine must be store or spark, not {engine_name!r}")
    if not park:
        raise ValidationFailed("--park is required")
    with _store() as store:
        if save:
            inv = inventory.create(store, SYSTEM, park, year, regime, enterprise, reason=reason)
            err.print(f"inventory {inv['id']} version {inv['version']} ({inv['status']})")
            data = inventory.result(store, SYSTEM, park, inv["id"], with_lines=False)
        else:
            data = engine.compute(store, SYSTEM, park, year, regime, enterprise).as_dict()
    if fmt == Format.json:
        data.pop("lines", None)
        emit(data, fmt)
        return
    emit(data["totals"], fmt, title=f"{park} {enterprise or '(park)'} {year} — {data['regime']['title']} (tCO2e)")
    emit([{"category": k, **v} for k, v in data["by_category"].items()], fmt, title="By category (tCO2e)")
    for note in data["notes"]:
        err.print(f"note: {note}")


def _run_spark(year: int, regime: str, parks: list[str], export: Path | None, fmt: Format) -> None:
    import tempfile
    import time

    from parkzero.accounting import scaleout
    from parkzero.store.spark import spark_session

    with tempfile.TemporaryDirectory() as tmp:
        if export is None:
            from parkzero.store.export import export_parquet

            export = Path(tmp) / "export"
            with _store() as store:
                export_parquet(store, export, parks or None)
        session = spark_session("parkzero-inventory")
        try:
            started = time.perf_counter()
            results = scaleout.run_spark(session, export, year, regime, parks or None)
            elapsed = time.perf_counter() - started
        finally:
            session.stop()
    emit(
        [{"park": r.park, **r.totals(), "sha256": r.sha256()[:16]} for r in results],
        fmt,
        title=f"{len(results)} parks, {year}, {regime} (tCO2e) (Spark, {elapsed:.1f} s)",
    )


@inventory_app.command("list")
def inventory_list(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.accounting import inventory

    with _store() as store:
        emit(inventory.list_inventories(store, SYSTEM, park), fmt, title="Inventories")


@inventory_app.command("show")
def inventory_show(inventory_id: int, park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.accounting import inventory

    with _store() as store:
        data = inventory.result(store, SYSTEM, park, inventory_id, with_lines=False)
    if fmt == Format.json:
        emit(data, fmt)
        return
    emit(data["inventory"], fmt)
    emit(data["totals"], fmt, title="Totals (tCO2e)")
    emit([{"category": k, **v} for k, v in data["by_category"].items()], fmt, title="By category (tCO2e)")


@inventory_app.command("lines")
def inventory_lines(inventory_id: int, park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.accounting import inventory

    with _store() as store:
        rows = inventory.lines(store, SYSTEM, park, inventory_id)
    for r in rows:
        r["formula"] = r["trace"].get("formula")
        del r["trace"]
    emit(rows, fmt, title=f"Inventory {inventory_id}")


@inventory_app.command("explain")
def inventory_explain(
    inventory_id: int,
    park: ParkOpt,
    line: Annotated[int, typer.Option(help="Line number.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Trace a line: activity (channels and readings, or entries and evidence) -> factor -> formula."""
    from parkzero.accounting import inventory

    with _store() as store:
        ln = inventory.explain(store, SYSTEM, park, inventory_id, line)
    if fmt == Format.json:
        emit(ln, fmt)
        return
    t = ln["trace"]
    typer.echo(
        f"line {ln['line_no']}: {ln['source']}  scope {ln['scope']} {ln['category']} {ln['scope2_method']}"
        f"  month {ln['month']}  {ln['gas']}"
    )
    typer.echo(f"  activity: {ln['activity_amount']:g} {ln['activity_unit']}")
    for c in t.get("channels", []):
        typer.echo(
            f"    channel {c['channel']}: {c['amount']:g} ({c['n_readings']} readings, "
            f"{c['n_estimated']} estimated) over the year"
        )
    for e in t.get("entries", []):
        ev = e.get("evidence")
        typer.echo(
            f"    entry {e['entry']}: {e['amount']:g} {e['unit']} {e['period'][0]} .. {e['period'][1]}"
            + (f"  evidence {ev['file']} sha256 {ev['sha256'][:16]}…" if ev else "")
        )
    if "attribution" in t:
        typer.echo(f"    attribution: {json.dumps(t['attribution'], ensure_ascii=False)}")
    for f in t.get("factors", []):
        typer.echo(
            f"  factor {f['factor_id']} ({f['parameter']}{', ' + f['gas'] if f['gas'] else ''}) = "
            f"{f['value']:g} {f['unit']}  [{f['set']} {f['version']}; {f['source']}; {f['table'] or ''}]"
        )
    typer.echo(f"  formula: {t.get('formula')}")
    typer.echo(f"  = {ln['emissions_t']:g} t{ln['gas']} × GWP {ln['gwp']:g} = {ln['tco2e']:g} tCO2e")


@inventory_app.command("report")
def inventory_report(
    inventory_id: int,
    park: ParkOpt,
    out: Annotated[Path, typer.Option(help="File to write (.pdf or .xlsx).")],
    layout: Annotated[str, typer.Option(help="ghg (GHG Protocol) or cn (GB/T 32150 enterprise report).")] = "ghg",
    lang: Annotated[str | None, typer.Option(help="en or zh (default: zh for cn, en for ghg).")] = None,
) -> None:
    """Write an inventory report; the format follows the file's suffix."""
    from parkzero.accounting import inventory
    from parkzero.reports import inventory as report

    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise ValidationFailed(f"{out}: the report is written as .pdf or .xlsx")
    lang = lang or ("zh" if layout == "cn" else "en")
    with _store() as store:
        result = inventory.result(store, SYSTEM, park, inventory_id)
    body = (
        report.inventory_pdf(result, layout, lang) if suffix == ".pdf" else report.inventory_xlsx(result, layout, lang)
    )
    out.write_bytes(body)
    err.print(f"wrote {out} ({len(body):,} bytes)")


def _transition(action: str):
    def command(
        inventory_id: int,
        park: ParkOpt,
        comment: Annotated[str | None, typer.Option(help="Comment recorded with the step.")] = None,
    ) -> None:
        from parkzero.accounting import inventory

        with _store() as store:
            inv = inventory.transition(store, SYSTEM, park, inventory_id, action, comment)
        err.print(f"inventory {inv['id']} is {inv['status']}")

    command.__doc__ = f"{action.capitalize()} an inventory."
    return command


for _action in ("submit", "verify", "reject", "close"):
    inventory_app.command(_action)(_transition(_action))
