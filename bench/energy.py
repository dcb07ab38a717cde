"""Energy benchmark: prints `name=value unit` lines.

    python bench/energy.py            # full size
    python bench/energy.py --smoke    # small sizes, for CI

- `dayahead_s`: one day-ahead plan, 96 steps, 50 controllable assets (10 batteries, 15 shiftable process loads,
  15 EV sessions, 10 pre-cooled HVAC zones), PV curtailment, demand charge and carbon price; median of 5.
- `year_mpc_s`: the demo park's year 2025 replayed at 15 minutes under MPC (a day-ahead plan each day and
  intraday re-plans at 06:00, 12:00 and 18:00, forecasts trained on the demo's 2024), with the savings against
  the two baselines (no control; rule-based self-consumption) from the tariff's bill and the grid factor.
- `sizing_year_s`: PV per roof/facade (10 surfaces) and battery sizing over an hourly year (8,760 h) of the demo
  park, for the least 25-year lifecycle cost, with the business-as-usual case beside it.
- `survivable_hours`: the demo park's critical load (the data centre) islanded on PV, the battery and the data
  centre's standby diesel, at the worst hourly start of 2025, the battery starting at its dispatch floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from parkzero.energy import simulate, sizing, study  # noqa: E402
from parkzero.energy import tariff as tariffs  # noqa: E402
from parkzero.energy.dispatch import Battery, DispatchInput, EvSession, Grid, Hvac, ShiftableLoad, plan  # noqa: E402

DEMO_FLAT_PRICE_CNY_PER_KWH = 0.62  # demo assumption: a monthly agency purchase price level (input, not a constant)
DEMO_CARBON_PRICE_CNY_PER_T = 100.0  # demo assumption near China's national ETS price in 2025


def fifty_assets(seed: int) -> DispatchInput:
    rng = np.random.default_rng(seed)
    n = 96
    index = pd.date_range("2025-07-15", periods=n, freq="15min", tz="Asia/Shanghai")
    tariff = tariffs.get_tariff("sh_large_industry_35kv")
    price = tariffs.energy_prices(index, tariff, DEMO_FLAT_PRICE_CNY_PER_KWH)
    hour = np.arange(n) / 4
    pv = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * 8000 * rng.uniform(0.5, 1.0)
    load = 18000 + 3000 * np.sin((hour - 9) / 24 * 2 * np.pi) + rng.normal(0, 300, n)
    batteries = [Battery(f"bess-{i}", 1000.0, 500.0) for i in range(10)]
    shiftable = []
    for i in range(15):
        lo = int(rng.integers(0, 40))
        shiftable.append(ShiftableLoad(f"process-{i}", float(rng.uniform(500, 3000)), lo, lo + 48, 600.0))
    sessions = []
    for i in range(15):
        arrival = int(rng.integers(30, 40))
        sessions.append(EvSession(f"ev-{i}", arrival, arrival + 36, float(rng.uniform(20, 60)), 60.0))
    zones = [
        Hvac(f"zone-{i}", 300.0, 4.5, 60.0, 6.0, 25.0, 22.0, 26.0, np.full(n, 33.0), np.full(n, 50.0))
        for i in range(10)
    ]
    return DispatchInput(
        index,
        load,
        pv,
        price,
        tariff.export_price_cny_per_kwh,
        0.55,
        DEMO_CARBON_PRICE_CNY_PER_T,
        Grid(transformer_kva=50000, demand_charge_cny_per_kw_month=tariffs.demand_charge_rate(tariff, "max_demand")),
        batteries,
        shiftable,
        sessions,
        zones,
        soc_start_kwh={b.code: 500.0 for b in batteries},
    )


def bench_dayahead() -> None:
    plan(fifty_assets(99))  # warm-up: imports and first-call costs
    times, status = [], set()
    for seed in range(5):
        inp = fifty_assets(seed)
        t0 = time.perf_counter()
        p = plan(inp)
        times.append(time.perf_counter() - t0)
        status.add(p.status + ("+milp" if p.milp else ""))
    print(
        f"dayahead_s={statistics.median(times):.3f} s (96 steps, 50 assets, median of 5; {', '.join(sorted(status))})"
    )


def bench_year(days: int | None) -> None:
    data, _ = simulate.demo_park_data(2025)
    history, _ = simulate.demo_park_data(2024)
    if days:
        data = data.between(data.index[0], data.index[0] + pd.Timedelta(days=days))
    econ = study.economics(2025, flat_price_cny_per_kwh=DEMO_FLAT_PRICE_CNY_PER_KWH)
    results = {s: simulate.replay(data, econ, s, history=history) for s in simulate.STRATEGIES}
    mpc = results["mpc"]
    print(
        f"year_mpc_s={mpc.elapsed_s:.1f} s ({len(data.days())} days, {mpc.plans} plans, "
        f"{mpc.fallbacks} fallbacks, {mpc.milp_plans} MILP re-solves)"
    )
    figures = {s: simulate.kpis(r, econ) for s, r in results.items()}
    vs = simulate.compare(figures["mpc"], [figures["none"], figures["rule"]])
    for base in ("rule", "none"):
        print(f"cost_saving_vs_{base}_pct={vs[base]['cost_saving_pct']:.2f} %")
        print(f"co2_saving_vs_{base}_pct={vs[base]['co2_saving_pct']:.2f} %")
    for s, k in figures.items():
        print(
            f"{s}_cost_cny={k.cost_cny:.0f} CNY; {s}_co2_t={k.emissions_t:.1f} t; {s}_peak_kw={k.peak_kw:.0f} kW; "
            f"{s}_self_sufficiency_pct={k.self_sufficiency_pct:.2f} %"
        )
    print(f"grid_intensity={econ.grid_intensity_kg_per_kwh} kgCO2/kWh ({econ.intensity_source})")


def bench_sizing(smoke: bool) -> None:
    rec = study.demo_record(2025)
    inp = study.sizing_input(rec, study.economics(2025, flat_price_cny_per_kwh=DEMO_FLAT_PRICE_CNY_PER_KWH))
    if smoke:  # one representative week standing for the year
        week = slice(24 * 190, 24 * 197)
        inp = sizing.SizingInput(
            **{
                **inp.__dict__,
                "load_kw": inp.load_kw[week],
                "import_price_cny_per_kwh": inp.import_price_cny_per_kwh[week],
                "hour_month": inp.hour_month[week],
                "surfaces": [
                    sizing.Surface(**{**s.__dict__, "yield_kw_per_kwp": s.yield_kw_per_kwp[week]}) for s in inp.surfaces
                ],
                "hour_weight": 8760 / 168,
            }
        )
    t0 = time.perf_counter()
    r = sizing.size_system(inp)
    elapsed = time.perf_counter() - t0
    print(f"sizing_year_s={elapsed:.2f} s ({len(inp.load_kw)} hours, {len(inp.surfaces)} surfaces, {r.status})")
    print(
        f"sizing_pv_kwp={sum(r.pv_kwp.values()):.0f} kWp (existing {sum(s.existing_kwp for s in inp.surfaces):.0f}); "
        f"sizing_battery_kwh={r.battery_kwh:.0f} kWh, {r.battery_kw:.0f} kW; sizing_npv_cny={r.npv_cny:.0f} CNY; "
        f"payback {r.simple_payback_years or float('nan'):.1f} yr; renewable share {r.renewable_share_pct:.1f} %"
    )


def bench_resilience() -> None:
    rec = study.demo_record(2025)
    report = study.resilience(rec)
    sweep = report.sweep
    print(
        f"survivable_hours={sweep.min_hours:.2f} h (worst hourly start {sweep.worst_start:%Y-%m-%d %H:%M}; "
        f"median {sweep.p50_hours:.2f} h; P(survive {sweep.duration_h:.0f} h)={sweep.probability * 100:.1f} %; "
        f"sweep {sweep.elapsed_s:.2f} s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="small sizes for CI")
    ap.add_argument("--only", choices=["dayahead", "year", "sizing", "resilience"], default=None)
    args = ap.parse_args()
    if args.only in (None, "dayahead"):
        bench_dayahead()
    if args.only in (None, "year"):
        bench_year(7 if args.smoke else None)
    if args.only in (None, "sizing"):
        bench_sizing(args.smoke)
    if args.only in (None, "resilience"):
        bench_resilience()


if __name__ == "__main__":
    main()
