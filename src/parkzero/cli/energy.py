"""CLI of the energy services: `parkzero energy tariffs|bill|simulate|plan|sizing|resilience|savings|forecast`.

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


# -- park studies: the demo in memory (--demo) or a park of the configured store (--park) ---------------------
ParkOpt = Annotated[str | None, typer.Option("--park", help="Park code in the configured store.")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Study the demo park generated in memory (no store).")]
TariffOpt = Annotated[str, typer.Option("--tariff", help="Tariff code (see `parkzero energy tariffs`).")]
FlatOpt = Annotated[float, typer.Option(help="Flat price [CNY/kWh] (an assumption: say yours).")]
CarbonOpt = Annotated[float, typer.Option(help="Carbon price in the objectives [CNY/tCO2].")]


def _record(park: str | None, demo: bool, start, end):
    """The study record of local days [start, end): the demo's year(s) in memory, or the park from the store."""
    from parkzero.energy import study

    if demo == (park is not None):
        raise ValidationFailed("give either --demo or --park P")
    if demo:
        years = range(start.year, (end - pd.Timedelta(days=1).to_pytimedelta()).year + 1)
        records = [study.demo_record(y) for y in years]
        if len(records) > 1:
            raise ValidationFailed("with --demo a study stays within one calendar year (the demo is made per year)")
        return study.between(records[0], start, end)
    from parkzero.cli.main import _store
    from parkzero.registry.scope import Scope

    with _store() as store:
        return study.from_store(store, Scope.system("cli"), park, start, end)


@energy_app.command("plan")
def plan_command(
    day: Annotated[str, typer.Option("--date", help="Local day YYYY-MM-DD.")],
    park: ParkOpt = None,
    demo: DemoOpt = False,
    tariff_code: TariffOpt = "sh_large_industry_35kv",
    flat_price: FlatOpt = 0.62,
    carbon_price: CarbonOpt = 100.0,
    steps: Annotated[bool, typer.Option("--steps", help="Print the day's 96 steps instead of the savings.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """The MPC plan of a day against the meters and the week's savings against no control and the rule."""
    from datetime import date, timedelta

    from parkzero.energy import study

    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise ValidationFailed(f"--date {day!r} is not a date YYYY-MM-DD") from None
    first = date(when.year, 1, 1) if demo else when - timedelta(days=34)
    rec = _record(park, demo, first, when + timedelta(days=1))
    econ = study.economics(
        when.year, tariff_code=tariff_code, flat_price_cny_per_kwh=flat_price, carbon_price_cny_per_t=carbon_price
    )
    out = study.dashboard(rec, when, econ)
    if steps:
        d = out["day"]
        keys = [k for k in d if k != "time" and d[k] is not None]
        emit([{"time": t, **{k: d[k][i] for k in keys}} for i, t in enumerate(d["time"])], fmt, title=f"{when}")
        return
    s = out["savings"]
    shown = ("cost_cny", "emissions_t", "peak_kw", "self_sufficiency_pct", "low_carbon_share_pct")
    rows: list[dict] = [
        {"strategy": k, **{c: round(s["strategies"][k][c], 2) for c in shown}} for k in ("none", "rule", "mpc")
    ]
    for base in ("none", "rule"):
        vs = s["mpc_vs"][base]
        rows.append(
            {
                "strategy": f"mpc vs {base}",
                "cost_saving_pct": round(vs["cost_saving_pct"], 3),
                "co2_saving_pct": round(vs["co2_saving_pct"], 3),
                "peak_kw_ratio": round(vs["peak_kw_ratio"], 4),
            }
        )
    err.print(
        f"forecast MAE load {out['forecast']['load_kw']['mae']:.0f} kW, PV {out['forecast']['pv_kw']['mae']:.0f} kW"
    )
    emit(rows, fmt, title=f"Replay {s['start']} to {s['end']} ({econ.tariff.code}; {econ.intensity_source})")


@energy_app.command("sizing")
def sizing_command(
    year: Annotated[int, typer.Option(help="The whole local year of data to size on.")],
    park: ParkOpt = None,
    demo: DemoOpt = False,
    min_renewable_share: Annotated[float | None, typer.Option(help="Least on-site share of the load [0..1].")] = None,
    max_co2: Annotated[float | None, typer.Option(help="Cap on grid CO2 [t/yr].")] = None,
    budget: Annotated[float | None, typer.Option(help="Cap on the initial investment [CNY].")] = None,
    battery_cost: Annotated[float | None, typer.Option(help="Battery energy capex [CNY/kWh].")] = None,
    tariff_code: TariffOpt = "sh_large_industry_35kv",
    flat_price: FlatOpt = 0.62,
    carbon_price: CarbonOpt = 100.0,
    fmt: FormatOpt = Format.table,
) -> None:
    """PV per roof and facade and a battery for the least 25-year lifecycle cost, beside business as usual."""
    from dataclasses import replace
    from datetime import date

    from parkzero.energy import sizing, study

    rec = _record(park, demo, date(year, 1, 1), date(year + 1, 1, 1))
    econ = study.economics(
        year, tariff_code=tariff_code, flat_price_cny_per_kwh=flat_price, carbon_price_cny_per_t=carbon_price
    )
    battery = study.DEFAULT_BATTERY_OPTION
    if battery_cost is not None:
        battery = replace(battery, capex_cny_per_kwh=battery_cost)
    inp = study.sizing_input(
        rec,
        econ,
        battery=battery,
        min_renewable_share=min_renewable_share,
        max_co2_tco2_per_year=max_co2,
        budget_cny=budget,
    )
    err.print("sizing an hourly year …")
    r = sizing.size_system(inp)
    plan, bau = r.plan, r.bau
    rows = [
        {
            "item": s.code,
            "kind": s.kind,
            "unit": "kWp",
            "max": round(s.max_kwp, 1),
            "existing": s.existing_kwp,
            "added": round(plan.pv_new_kwp[s.code], 1),
            "plan": round(plan.pv_kwp[s.code], 1),
            "bau": round(bau.pv_kwp[s.code], 1),
        }
        for s in inp.surfaces
    ]
    rows += [
        {
            "item": "battery",
            "kind": "energy",
            "unit": "kWh",
            "existing": bau.battery_kwh,
            "added": round(plan.battery_new_kwh, 1),
            "plan": round(plan.battery_kwh, 1),
            "bau": bau.battery_kwh,
        },
        {
            "item": "battery",
            "kind": "power",
            "unit": "kW",
            "existing": bau.battery_kw,
            "added": round(plan.battery_new_kw, 1),
            "plan": round(plan.battery_kw, 1),
            "bau": bau.battery_kw,
        },
    ]
    figures = [  # item, unit, plan, BAU
        ("initial investment", "CNY", plan.capex_cny, bau.capex_cny),
        ("lifecycle cost per year", "CNY/yr", plan.costs.total_cny, bau.costs.total_cny),
        ("operating cost per year", "CNY/yr", plan.costs.operating_cny, bau.costs.operating_cny),
        ("NPV against BAU", "CNY", r.npv_cny, None),
        ("payback, simple", "yr", r.simple_payback_years, None),
        ("payback, discounted", "yr", r.discounted_payback_years, None),
        ("renewable share", "%", plan.renewable_share_pct, bau.renewable_share_pct),
        ("grid CO2", "t/yr", plan.co2_tco2_per_year, bau.co2_tco2_per_year),
        ("peak import", "kW", plan.peak_import_kw, bau.peak_import_kw),
    ]
    rows += [
        {
            "item": item,
            "unit": unit,
            "plan": None if a is None else round(a, 2),
            "bau": None if b is None else round(b, 2),
        }
        for item, unit, a, b in figures
    ]
    for name, cost in r.marginal_cost.items():
        err.print(f"binding {name}: marginal cost {cost:,.2f} CNY/yr per unit")
    emit(rows, fmt, title=f"Sizing {year}: {r.status}, battery {r.battery_kwh:,.0f} kWh / {r.battery_kw:,.0f} kW")


@energy_app.command("resilience")
def resilience_command(
    year: Annotated[int, typer.Option(help="The local year of outage starts.")],
    park: ParkOpt = None,
    demo: DemoOpt = False,
    duration_h: Annotated[float, typer.Option(help="Outage length whose survival probability is given [h].")] = 24.0,
    critical: Annotated[
        list[str] | None, typer.Option("--critical", help="A channel critical whatever building.")
    ] = None,
    no_generator: Annotated[bool, typer.Option("--no-generator", help="Leave the standby generators out.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """How long the critical load survives an islanded outage from every hour of the year; bad-weather spells."""
    from datetime import date

    from parkzero.energy import study

    rec = _record(park, demo, date(year, 1, 1), date(year + 1, 1, 1))
    tiers = study.load_tiers(rec, critical_channels=critical or ())
    options = {"generator": None} if no_generator else {}
    report = study.resilience(rec, tiers=tiers, duration_h=duration_h, **options)
    for line in report.summary().splitlines():
        err.print(line)
    sw = report.sweep
    emit(
        [
            {"quantity": "survivable hours, worst start", "value": sw.min_hours, "unit": "h"},
            {"quantity": "survivable hours, p10", "value": sw.p10_hours, "unit": "h"},
            {"quantity": "survivable hours, median", "value": sw.p50_hours, "unit": "h"},
            {"quantity": "survivable hours, mean", "value": round(sw.mean_hours, 2), "unit": "h"},
            {"quantity": f"P(survive {duration_h:g} h)", "value": round(sw.probability * 100, 2), "unit": "%"},
            {"quantity": "worst start", "value": str(sw.worst_start), "unit": ""},
            *[
                {
                    "quantity": f"tier {t.name} (priority {t.priority}{', critical' if not t.sheddable else ''})",
                    "value": round(float(t.kw.mean()), 1),
                    "unit": "kW mean",
                }
                for t in tiers
            ],
            *_spell_rows(report.bad_weather),
        ],
        fmt,
        title=f"Resilience {year}",
    )


def _spell_rows(bad) -> list[dict]:
    """The worst spell of PV in the year: its days, its PV against an average spell, how long the island lasted."""
    if bad is None:
        return []
    w = bad.worst
    return [
        {"quantity": f"worst {bad.days}-day PV spell", "value": f"{w.first_day} to {w.last_day}", "unit": ""},
        {
            "quantity": "worst spell PV, share of an average spell",
            "value": round(w.pv_share_of_normal_pct, 1),
            "unit": "%",
        },
        {"quantity": "worst spell, survivable hours", "value": w.result.survivable_hours, "unit": "h"},
    ]


@energy_app.command("savings")
def savings_command(
    park: Annotated[str, typer.Option("--park", help="Park code in the configured store.")],
    channel: Annotated[list[str], typer.Option("--channel", help="Energy channel (repeat to sum several).")],
    baseline: Annotated[tuple[str, str], typer.Option(help="Baseline local days START END (end exclusive).")],
    reporting: Annotated[tuple[str, str], typer.Option(help="Reporting local days START END (end exclusive).")],
    confidence: Annotated[float, typer.Option(help="Two-sided confidence of the savings interval.")] = 0.9,
    temperature_channel: Annotated[
        str | None, typer.Option(help="The park's weather temperature channel (default: its first one).")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """IPMVP savings of meters: baseline model on degree days, adjusted baseline, savings and uncertainty."""
    from datetime import date

    from parkzero.cli.main import _store
    from parkzero.energy import study
    from parkzero.registry.scope import Scope

    try:
        b, r = tuple(map(date.fromisoformat, baseline)), tuple(map(date.fromisoformat, reporting))
    except ValueError:
        raise ValidationFailed("--baseline and --reporting take two dates YYYY-MM-DD each") from None
    with _store() as store:
        out = study.measured_savings(
            store,
            Scope.system("cli"),
            park,
            channel,
            b,
            r,
            temperature_channel=temperature_channel,
            confidence=confidence,
        )
    s, m = out["savings"], out["model"]
    err.print(f"baseline model: CV(RMSE) {m['cv_rmse_pct']:.1f} %, NMBE {m['nmbe_pct']:.2f} %, R2 {m['r_squared']:.3f}")
    emit(
        [
            {"quantity": "adjusted baseline", "value": s["adjusted_baseline_kwh"], "unit": "kWh"},
            {"quantity": "measured", "value": s["measured_kwh"], "unit": "kWh"},
            {"quantity": "savings", "value": s["savings_kwh"], "unit": "kWh"},
            {"quantity": "savings of the adjusted baseline", "value": s["savings_pct"], "unit": "%"},
            {"quantity": f"uncertainty at {confidence:.0%}", "value": s["uncertainty_kwh"], "unit": "kWh"},
            {"quantity": "savings, lower bound", "value": s["lower_kwh"], "unit": "kWh"},
            {"quantity": "savings, upper bound", "value": s["upper_kwh"], "unit": "kWh"},
            {"quantity": "significant", "value": s["significant"], "unit": ""},
            {"quantity": "reporting days", "value": s["n_days"], "unit": "d"},
            {"quantity": "baseline CV(RMSE)", "value": m["cv_rmse_pct"], "unit": "%"},
            {"quantity": "temperature channel", "value": out["temperature_channel"], "unit": ""},
        ],
        fmt,
        title=f"Savings of {', '.join(channel)}",
    )


@energy_app.command("forecast")
def forecast_command(
    train_start: Annotated[str, typer.Option(help="First local day of training YYYY-MM-DD.")],
    test_start: Annotated[str, typer.Option(help="First held-out local day (training ends here).")],
    test_end: Annotated[str, typer.Option(help="End of the held-out days (exclusive).")],
    park: ParkOpt = None,
    demo: DemoOpt = False,
    target: Annotated[str, typer.Option(help="load, pv or both.")] = "both",
    kind: Annotated[str, typer.Option(help="day_ahead, or intraday (issued 06:00, 12:00, 18:00).")] = "day_ahead",
    fmt: FormatOpt = Format.table,
) -> None:
    """Held-out skill of the park's load and PV forecasts against persistence and the similar day.

    The load is the consumption no strategy controls (what the MPC forecasts); PV is the metered output of all
    arrays. Training uses the days [train-start, test-start), the score the days [test-start, test-end).
    """
    from datetime import date

    from parkzero.energy import forecast

    if target not in ("load", "pv", "both"):
        raise ValidationFailed(f"--target {target!r}: choose load, pv or both")
    try:
        d0, d1, d2 = (date.fromisoformat(x) for x in (train_start, test_start, test_end))
    except ValueError:
        raise ValidationFailed("--train-start, --test-start and --test-end take dates YYYY-MM-DD") from None
    if not d0 < d1 < d2:
        raise ValidationFailed(f"need train-start {d0} < test-start {d1} < test-end {d2}")
    rec = _record(park, demo, d0, d2)
    data, tz = rec.data, rec.park["timezone"]
    series = {
        "load": (forecast.LoadForecaster(tz=tz), data.load_kw),
        "pv": (forecast.PvForecaster(data.latitude, data.longitude, tz=tz), data.pv_kw),
    }
    rows = []
    for name in ("load", "pv") if target == "both" else (target,):
        model, values = series[name]
        err.print(f"training the {name} forecaster on {d0} to {d1} …")
        r = forecast.evaluate(model, pd.Series(values, index=data.index), d1, d2, kind)
        rows.append(
            {
                "target": r.target,
                "kind": r.kind,
                "train_days": r.train_days,
                "test_days": r.test_days,
                "mae_kw": round(r.mae_kw, 1),
                "rmse_kw": round(r.rmse_kw, 1),
                "persistence_rmse_kw": round(r.persistence_rmse_kw, 1),
                "similar_day_rmse_kw": round(r.similar_day_rmse_kw, 1),
                "skill_vs_persistence": round(r.skill_vs_persistence, 3),
                "skill_vs_similar_day": round(r.skill_vs_similar_day, 3),
                **({"skill_vs_day_ahead": round(r.skill_vs_day_ahead, 3)} if r.skill_vs_day_ahead is not None else {}),
            }
        )
        for note in r.notes:
            err.print(f"{name}: {note}")
    emit(rows, fmt, title=f"Forecast skill {d1} to {d2} (skill = 1 - RMSE / RMSE of the baseline)")
