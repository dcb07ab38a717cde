"""CLI of the energy services: `parkzero energy tariffs|bill|simulate …`.

Data goes to stdout (`--format table|csv|json`), progress and notes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from parkzero.cli.output import Format, emit, err
from parkzero.errors import Issue, ValidationFailed

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
energy_app = typer.Typer(help="Tariffs, bills, dispatch replays of the park's electricity.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(energy_app, name="energy")


@energy_app.command("tariffs")
def tariffs_list(fmt: FormatOpt = Format.table) -> None:
    """The shipped tariffs, with their sources and the items not yet checked against a primary table."""
    from parkzero.energy import tariff

    rows = [
        {
            "code": t.code,
            "name": t.name,
            "kind": t.kind,
            "demand_cny_per_kw_month": t.demand_charge_cny_per_kw_month,
            "capacity_cny_per_kva_month": t.capacity_charge_cny_per_kva_month,
            "export_cny_per_kwh": t.export_price_cny_per_kwh,
            "source": t.source,
            "unverified": ", ".join(t.unverified_items),
        }
        for t in tariff.list_tariffs()
    ]
    emit(rows, fmt, title="Tariffs")


def read_interval_csv(path: Path, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """A 15-minute energy CSV: ``ts`` (interval start; naive = park-local) and ``import_kwh`` [, ``export_kwh``].

    Every bad row is reported with its row number and column; nothing is silently dropped.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}") from None
    missing = [c for c in ("ts", "import_kwh") if c not in frame.columns]
    if missing:
        raise ValidationFailed(f"{path.name}: missing column(s) {', '.join(missing)} (need ts, import_kwh)")
    issues: list[Issue] = []
    stamps = pd.to_datetime(frame["ts"], errors="coerce", format="ISO8601")
    for i in np.flatnonzero(stamps.isna().to_numpy()):
        issues.append(Issue("not an ISO 8601 time", file=path.name, row=int(i) + 2, column="ts", value=frame["ts"][i]))
    out = {}
    for col in [c for c in ("import_kwh", "export_kwh") if c in frame.columns]:
        values = pd.to_numeric(frame[col], errors="coerce")
        for i in np.flatnonzero(values.isna().to_numpy() | (values < 0).to_numpy()):
            issues.append(Issue("not a number >= 0", file=path.name, row=int(i) + 2, column=col, value=frame[col][i]))
        out[col] = values.to_numpy(dtype=float)
    if issues:
        raise ValidationFailed(f"{path.name}: {len(issues)} bad value(s); nothing was billed", issues=issues)
    index = pd.DatetimeIndex(stamps)
    index = index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)
    return pd.DataFrame(out, index=index)


@energy_app.command("bill")
def bill_command(
    file: Annotated[Path, typer.Argument(help="CSV with ts, import_kwh [, export_kwh] per 15 minutes.")],
    tariff_code: Annotated[str, typer.Option("--tariff", help="Tariff code (see `parkzero energy tariffs`).")],
    flat_price: Annotated[float, typer.Option(help="The month's flat price [CNY/kWh] (agency purchase price).")],
    basis: Annotated[str, typer.Option(help="max_demand or capacity.")] = "max_demand",
    contracted_demand_kw: Annotated[float | None, typer.Option(help="Contracted demand [kW].")] = None,
    transformer_kva: Annotated[float | None, typer.Option(help="Transformer rating [kVA].")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The itemised bill of a 15-minute load series."""
    from parkzero.energy import tariff

    frame = read_interval_csv(file)
    bill = tariff.bill(
        frame["import_kwh"],
        tariff.get_tariff(tariff_code),
        flat_price,
        export_kwh=frame["export_kwh"] if "export_kwh" in frame else None,
        demand_basis=basis,
        contracted_demand_kw=contracted_demand_kw,
        transformer_kva=transformer_kva,
    )
    emit(bill.as_rows(), fmt, title=f"Bill under {tariff_code}: {bill.total_cny:,.2f} CNY")


@energy_app.command("simulate")
def simulate_command(
    year: Annotated[int, typer.Option(help="Year of the demo park to replay.")] = 2025,
    days: Annotated[int | None, typer.Option(help="Replay only the first N days.")] = None,
    tariff_code: Annotated[str, typer.Option("--tariff")] = "sh_large_industry_35kv",
    flat_price: Annotated[float, typer.Option(help="Flat price [CNY/kWh] (an assumption: say yours).")] = 0.62,
    carbon_price: Annotated[float, typer.Option(help="Carbon price in the objective [CNY/tCO2].")] = 100.0,
    fmt: FormatOpt = Format.table,
) -> None:
    """Replay the demo park under no control, a self-consumption rule and MPC; figures and savings vs both."""
    from parkzero.energy import simulate, tariff

    data, _ = simulate.demo_park_data(year)
    history, _ = simulate.demo_park_data(year - 1)
    if days:
        data = data.between(data.index[0], data.index[0] + pd.Timedelta(days=days))
    intensity, source = simulate.grid_factor(year)
    econ = simulate.Economics(
        tariff=tariff.get_tariff(tariff_code),
        flat_price_cny_per_kwh=flat_price,
        grid_intensity_kg_per_kwh=intensity,
        intensity_source=source,
        carbon_price_cny_per_t=carbon_price,
        grid_low_carbon_share=simulate.grid_low_carbon_share(year),
    )
    figures = {}
    for strategy in simulate.STRATEGIES:
        err.print(f"replaying {len(data.days())} days under {strategy} …")
        figures[strategy] = simulate.kpis(simulate.replay(data, econ, strategy, history=history), econ)
    vs = simulate.compare(figures["mpc"], [figures["none"], figures["rule"]])
    rows = [k.as_dict() for k in figures.values()]
    for base, row in vs.items():
        rows.append({"strategy": f"mpc vs {base}", **{k: round(v, 4) for k, v in row.items()}})
    err.print(f"grid intensity: {source}")
    emit(rows, fmt, title="Replay of the demo park")
