"""The `parkzero` command. Data goes to stdout (--format table|csv|json), messages and progress to stderr,
and errors are one clear line (exit 1) unless --debug asks for the traceback."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from parkzero.cli.output import Format, emit, err
from parkzero.config import Settings
from parkzero.errors import ParkzeroError, ValidationFailed
from parkzero.registry.scope import Scope

app = typer.Typer(
    help="parkzero: the operating platform of a zero-carbon industrial park.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
registry_app = typer.Typer(
    help="The park registry: parks, zones, buildings, tenants, meters, channels, assets, products.",
    no_args_is_help=True,
)
readings_app = typer.Typer(help="Query readings, check their quality, fill gaps.", no_args_is_help=True)
users_app = typer.Typer(help="Users and gateway API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The database: schema upgrades and integrity checks.", no_args_is_help=True)
mqtt_app = typer.Typer(help="MQTT ingestion from meter gateways.", no_args_is_help=True)
mappings_app = typer.Typer(
    help="Saved column mappings of meter files, reused with `ingest --mapping`.", no_args_is_help=True
)
app.add_typer(registry_app, name="registry")
app.add_typer(readings_app, name="readings")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(mqtt_app, name="mqtt")
app.add_typer(mappings_app, name="mappings")

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ParkOpt = Annotated[str, typer.Option("--park", "-p", help="Park code.")]
SYSTEM = Scope.system("cli")


@app.callback()
def main(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="PARKZERO_DATABASE_URL",
            help="duckdb:///path/file.duckdb (default parkzero-data/park.duckdb) or postgresql://...",
        ),
    ] = None,
) -> None:
    if database_url:
        os.environ["PARKZERO_DATABASE_URL"] = database_url


def _store():
    from parkzero.store import open_store

    return open_store(Settings.from_env().database_url)


def _time(text: str, what: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{what} {text!r} is not an ISO 8601 time such as 2025-03-01T00:00:00+08:00") from None
    if ts.tzinfo is None:
        raise ValidationFailed(f"{what} {text!r} needs a time zone offset, e.g. +08:00")
    return ts


# -- demo and serve ------------------------------------------------------------------------------------
@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same park.")] = 42,
    year: Annotated[int, typer.Option(help="Calendar year of the generated data.")] = 2025,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Build the demo park (tenants, 200+ channels, a year of 15-minute data), compute its figures, serve it."""
    from parkzero.demo.build import DEMO_PASSWORD, build_demo, demo_figures, demo_inventory

    with _store() as store:
        summary = build_demo(store, seed=seed, year=year)
        figures = demo_figures(store, year)
        carbon = demo_inventory(store, year)
    emit([{"item": k, "value": v} for k, v in summary.items()], Format.table, title="Demo park")
    emit(figures, Format.table, title=f"Park energy {year}")
    emit(carbon, Format.table, title=f"Park carbon inventory {year} (GHG Protocol, draft)")
    err.print(
        f"[bold]Log in[/bold] at http://{host}:{port}/ as [bold]operator[/bold] / [bold]{DEMO_PASSWORD}[/bold]"
        f" (tenants: their code, e.g. steel / {DEMO_PASSWORD})"
    )
    if serve_after:
        serve(host=host, port=port, mqtt=False, park="")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    mqtt: Annotated[bool, typer.Option(help="Also ingest MQTT from the broker (PARKZERO_MQTT_HOST:PORT).")] = False,
    park: Annotated[str, typer.Option(help="Park whose MQTT topics to ingest (with --mqtt).")] = "",
    tls_cert: Annotated[Path | None, typer.Option(help="Serve HTTPS with this certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's private key (PEM).")] = None,
    tls_self_signed: Annotated[
        bool, typer.Option(help="Serve HTTPS with a self-signed loopback certificate kept in <data>/tls/.")
    ] = False,
) -> None:
    """Serve the API (/api/v1, docs at /api/v1/docs), the dashboard and the PACT host (/auth/token, /2, /3).

    PACT partners are served over HTTPS only: give --tls-cert and --tls-key, or --tls-self-signed.
    """
    import uvicorn

    from parkzero.api.app import create_app

    if mqtt and not park:
        raise ValidationFailed("--mqtt needs --park")
    if (tls_cert is None) != (tls_key is None):
        raise ValidationFailed("--tls-cert and --tls-key go together")
    settings = Settings.from_env()
    if tls_self_signed:
        from parkzero.api.tls import self_signed

        tls_cert, tls_key = self_signed(settings.data_dir / "tls")
        err.print(f"self-signed certificate: {tls_cert} (clients pin it)")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ValidationFailed(f"no file {path}")
    application = create_app(settings, mqtt_park=park if mqtt else None)
    scheme = "https" if tls_cert else "http"
    err.print(f"serving {scheme}://{host}:{port}/ (API docs {scheme}://{host}:{port}/api/v1/docs); Ctrl-C stops")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


# -- ingest ---------------------------------------------------------------------------------------------
@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, Excel (.xlsx) or Green Button XML files.", exists=True)],
    park: ParkOpt,
    mapping: Annotated[str | None, typer.Option(help="Name of a saved column mapping.")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of timestamps without offset, e.g. Asia/Shanghai.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Ingest meter files. A file with any problem writes nothing and lists file, row, column and reason."""
    from rich.progress import Progress

    from parkzero.ingest import files as file_ingest
    from parkzero.ingest import mapping as mappings

    results = []
    with _store() as store, Progress(console=err, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(files))
        for path in files:
            progress.update(task, description=f"ingesting {path.name}")
            m = mappings.get_mapping(store, SYSTEM, park, mapping) if mapping else None
            report = file_ingest.ingest_file(store, SYSTEM, path, park_code=park, mapping=m, default_timezone=timezone)
            row = report.as_dict()
            if fmt == Format.table:  # the figures a person checks; csv/json carry every field
                row = {
                    k: row[k] for k in ("file", "layout", "readings", "inserted", "unchanged", "revised", "batch_id")
                }
            results.append(row)
            progress.advance(task)
    emit(results, fmt)


# -- mappings -------------------------------------------------------------------------------------------
@mappings_app.command("save")
def mappings_save(
    path: Annotated[Path, typer.Argument(exists=True, help="Mapping as JSON.")],
    park: ParkOpt,
    name: Annotated[str | None, typer.Option(help="Save under this name (default: the file's).")] = None,
) -> None:
    """Save a column mapping, e.g. {"name": "ems-export", "unit": "万kWh", "timezone": "Asia/Shanghai",
    "channel_map": {"1#主变": "grid.import"}}."""
    from parkzero.ingest import mapping as mappings

    m = mappings.ColumnMapping.from_json(path.read_text(encoding="utf-8"))
    if name:
        m = m.model_copy(update={"name": name})
    with _store() as store:
        mappings.save_mapping(store, SYSTEM, park, m)
    err.print(f"saved mapping {m.name} in park {park}")


@mappings_app.command("list")
def mappings_list(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.ingest import mapping as mappings

    with _store() as store:
        emit(mappings.list_mappings(store, SYSTEM, park), fmt)


@mappings_app.command("delete")
def mappings_delete(name: str, park: ParkOpt) -> None:
    from parkzero.ingest import mapping as mappings

    with _store() as store:
        mappings.delete_mapping(store, SYSTEM, park, name)
    err.print(f"deleted mapping {name}")


# -- registry ------------------------------------------------------------------------------------------
@registry_app.command("import")
def registry_import(path: Annotated[Path, typer.Argument(exists=True)], fmt: FormatOpt = Format.table) -> None:
    """Import a whole registry document (JSON); all or nothing."""
    from parkzero.registry import io

    with _store() as store:
        counts = io.import_registry(store, SYSTEM, io.read_document(path))
    emit(
        [{"what": k, "count": v} for k, v in sorted(counts.items())] or [{"what": "nothing changed", "count": 0}],
        fmt,
    )


@registry_app.command("export")
def registry_export(
    park: Annotated[str | None, typer.Option("--park", "-p")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export the registry as one JSON document (stdout or --output)."""
    from parkzero.registry import io

    with _store() as store:
        doc = io.export_registry(store, SYSTEM, park)
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(text + "\n")


@registry_app.command("list")
def registry_list(
    kind: str, park: Annotated[str | None, typer.Option("--park", "-p")] = None, fmt: FormatOpt = Format.table
) -> None:
    """List parks, or one kind (zones, buildings, enterprises, assets, meters, channels, products) of a park."""
    from parkzero.registry import repo

    with _store() as store:
        if kind == "parks":
            rows = repo.list_parks(store, SYSTEM)
        else:
            rows = repo.list_entities(store, SYSTEM, kind, _need_park(park))
    emit(rows, fmt)


def _need_park(park: str | None) -> str:
    """Every kind but parks lives in a park."""
    if not park:
        raise ValidationFailed("--park is needed")
    return park


def _pairs(values: list[str]) -> dict:
    out: dict = {}
    for item in values:
        if "=" not in item:
            raise ValidationFailed(f"--set {item!r} is not key=value")
        key, raw = item.split("=", 1)
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


SetOpt = Annotated[list[str], typer.Option("--set", "-s", help="field=value (JSON values allowed), repeatable.")]


@registry_app.command("create")
def registry_create(
    kind: str,
    park: Annotated[str | None, typer.Option("--park", "-p")] = None,
    values: SetOpt = [],
    fmt: FormatOpt = Format.table,
) -> None:
    """Create a park or a record of a park: parkzero registry create buildings -p P -s code=b2 -s name=Hall."""
    from parkzero.registry import repo

    with _store() as store:
        if kind == "parks":
            rec = repo.create_park(store, SYSTEM, _pairs(values))
        else:
            rec = repo.create_entity(store, SYSTEM, kind, _need_park(park), _pairs(values))
    emit(rec, fmt)


@registry_app.command("update")
def registry_update(
    kind: str,
    code: str,
    park: Annotated[str | None, typer.Option("--park", "-p")] = None,
    values: SetOpt = [],
    fmt: FormatOpt = Format.table,
) -> None:
    """Change fields of a record: parkzero registry update channels steel.main -p P -s name='Main'."""
    from parkzero.registry import repo

    with _store() as store:
        if kind == "parks":
            rec = repo.update_park(store, SYSTEM, code, _pairs(values))
        else:
            rec = repo.update_entity(store, SYSTEM, kind, _need_park(park), code, _pairs(values))
    emit(rec, fmt)


@registry_app.command("delete")
def registry_delete(kind: str, code: str, park: ParkOpt) -> None:
    """Delete a record that nothing refers to (a channel with readings is kept)."""
    from parkzero.registry import repo

    with _store() as store:
        repo.delete_entity(store, SYSTEM, kind, park, code)
    err.print(f"deleted {kind[:-1]} {code}")


# -- readings ------------------------------------------------------------------------------------------
@readings_app.command("query")
def readings_query(
    park: ParkOpt,
    channel: Annotated[list[str], typer.Option("--channel", "-c", help="Channel code, repeatable.")],
    start: Annotated[str, typer.Option(help="ISO 8601 with offset; inclusive.")],
    end: Annotated[str, typer.Option(help="ISO 8601 with offset; exclusive.")],
    resolution: Annotated[str, typer.Option(help="PT15M, PT1H, P1D or P1M.")] = "PT1H",
    fmt: FormatOpt = Format.table,
) -> None:
    """A time series over [start, end) with its unit."""
    from parkzero.store.timeseries import series

    with _store() as store:
        out = series(store, SYSTEM, park, channel, _time(start, "start"), _time(end, "end"), resolution)
    rows = [
        {"channel": s.channel, "ts": p["ts"], "value": p["value"], "unit": s.unit, "quality": p["quality"]}
        for s in out
        for p in s.as_dict()["points"]
    ]
    emit(rows, fmt)


@readings_app.command("quality")
def readings_quality(
    park: ParkOpt,
    start: str,
    end: str,
    channel: Annotated[list[str] | None, typer.Option("--channel", "-c")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Completeness (rule: >= 90% of 15-minute points), gaps, counter resets and outliers per channel."""
    from parkzero.store.quality import quality_report

    with _store() as store:
        report = quality_report(store, SYSTEM, park, _time(start, "start"), _time(end, "end"), channel or None)
    rows = [
        {k: v for k, v in r.as_dict().items() if k not in ("outlier_examples",)} | {"gaps": len(r.gaps)} for r in report
    ]
    emit(rows, fmt)


@readings_app.command("fill")
def readings_fill(
    park: ParkOpt,
    channel: Annotated[str, typer.Option("--channel", "-c")],
    start: str,
    end: str,
    method: str = "linear",
    fmt: FormatOpt = Format.table,
) -> None:
    """Fill the gaps of one channel explicitly; filled readings are flagged 'filled'."""
    from parkzero.store.quality import fill_gaps

    with _store() as store:
        result = fill_gaps(store, SYSTEM, park, channel, _time(start, "start"), _time(end, "end"), method=method)
    emit(result.as_dict(), fmt)


# -- users ---------------------------------------------------------------------------------------------
@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="operator, enterprise, verifier, regulator or partner.")],
    park: Annotated[str | None, typer.Option("--park", "-p")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise code (role enterprise).")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="PARKZERO_NEW_PASSWORD", help="Asked for when omitted.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Create a user."""
    from parkzero.registry import users

    password = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _store() as store:
        user = users.create_user(store, SYSTEM, username, password, role, park_code=park, enterprise_code=enterprise)
    emit(user, fmt)


@users_app.command("list")
def users_list(fmt: FormatOpt = Format.table) -> None:
    from parkzero.registry import users

    with _store() as store:
        emit(users.list_users(store, SYSTEM), fmt)


@users_app.command("passwd")
def users_passwd(
    username: str, password: Annotated[str | None, typer.Option(envvar="PARKZERO_NEW_PASSWORD")] = None
) -> None:
    """Set a user's password."""
    from parkzero.registry import users

    password = password or typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with _store() as store:
        users.set_password(store, SYSTEM, username, password)
    err.print(f"password of {username} changed")


@users_app.command("api-key")
def users_api_key(
    name: str,
    park: ParkOpt,
    enterprise: Annotated[str | None, typer.Option(help="Limit the key to one enterprise.")] = None,
) -> None:
    """Create a gateway API key (printed once) for REST uploads with the X-API-Key header."""
    from parkzero.registry import users

    with _store() as store:
        key, record = users.create_api_key(store, SYSTEM, name, park, enterprise)
    err.print(f"API key for {record['name']} (shown only now):")
    sys.stdout.write(key + "\n")


@users_app.command("revoke-key")
def users_revoke_key(prefix: str) -> None:
    from parkzero.registry import users

    with _store() as store:
        users.revoke_api_key(store, SYSTEM, prefix)
    err.print(f"revoked {prefix}")


# -- db and mqtt -----------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema to the current version."""
    from parkzero.store import schema
    from parkzero.store.db import Database

    db = Database(Settings.from_env().database_url)
    try:
        applied = schema.upgrade(db)
        version = schema.current_version(db)
    finally:
        db.close()
    err.print(f"schema at version {version}" + (f" (applied {applied})" if applied else " (nothing to do)"))


@db_app.command("check")
def db_check() -> None:
    """Integrity checks the engine does not enforce itself."""
    with _store() as store:
        problems = store.check()
    for p in problems:
        err.print(f"[red]problem:[/red] {p}")
    if problems:
        raise typer.Exit(1)
    err.print("no problems found")


@db_app.command("export")
def db_export(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write; it must be new or empty unless --overwrite.")
    ],
    park: Annotated[list[str], typer.Option("--park", "-p", help="Park code, repeatable (default: every park).")] = [],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a folder that is not empty.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Export readings, daily rollups and park tables as Parquet partitioned by park and local month, for Spark."""
    from parkzero.store.export import export_parquet

    with _store() as store:
        summary = export_parquet(store, out, park or None, overwrite=overwrite)
    rows = [{"what": "readings", "rows": summary["readings"]}, {"what": "daily", "rows": summary["daily"]}]
    rows += [{"what": f"tables/{table}", "rows": n} for table, n in summary["tables"].items()]
    emit(rows, fmt)
    err.print(
        f"wrote {summary['out_dir']}: {len(summary['parks'])} park(s), {summary['files']} files,"
        f" {summary['bytes'] / 1e6:.1f} MB in {summary['seconds']:.1f} s"
    )


@mqtt_app.command("listen")
def mqtt_listen(
    park: ParkOpt,
    client_id: Annotated[
        str, typer.Option(help="MQTT client id; keep it fixed so the broker keeps the session.")
    ] = "parkzero-ingest",
    host: Annotated[str | None, typer.Option(envvar="PARKZERO_MQTT_HOST")] = None,
    port: Annotated[int | None, typer.Option(envvar="PARKZERO_MQTT_PORT")] = None,
) -> None:
    """Ingest readings from the MQTT broker until stopped (QoS 1; acknowledged only once stored)."""
    from parkzero.ingest import mqtt

    settings = Settings.from_env()
    mqtt.main(
        [
            "--database-url",
            settings.database_url,
            "--park",
            park,
            "--client-id",
            client_id,
            "--host",
            host or settings.mqtt_host,
            "--port",
            str(port or settings.mqtt_port),
        ]
    )


from parkzero.cli import ledger as _ledger  # noqa: E402 - the ledger's commands join the app defined above

_ledger.register(app)

from parkzero.cli import energy as _energy  # noqa: E402 - the energy commands join the app defined above

_energy.register(app)

from parkzero.cli import footprint as _footprint  # noqa: E402 - the footprint commands join the app defined above

_footprint.register(app)

from parkzero.cli import pathway as _pathway  # noqa: E402 - the pathway commands join the app defined above

_pathway.register(app)


def run() -> None:
    """Entry point: no traceback for a user's error unless --debug."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except ParkzeroError as exc:
        if debug:
            raise
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for a user
        if debug:
            raise
        err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            highlight=False,
        )
        sys.exit(3)
