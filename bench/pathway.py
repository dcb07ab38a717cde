"""Pathway benchmark: prints `name=value unit` lines.

    python bench/pathway.py            # full size: 200 measures over 2025-2060
    python bench/pathway.py --smoke    # 20 measures, for CI

- `portfolio_s`: the portfolio MILP (`parkzero.pathway.optimise`) choosing among N generated measures and their
  build years over 2025-2060 for the demo park's tenants of `parkzero/pathway/data/demo_scenario.toml`: 10 tenants (an EAF mini-mill, a cathode plant, a
  data centre, offices, labs, the operator; one new tenant from 2028), grid factor from 0.5500 tCO2/MWh (East
  China 2023) declining to an assumed 0.05 in 2060. Targets: the park peaks by 2030, -50 % of its 2025
  emissions in 2040, neutral from 2060 with offsets allowed at a high price (1,000 CNY/t); the mini-mill -30 %
  intensity per tonne 2025->2035. Measures (PV blocks, storage, efficiency, electrification and fuel switches
  in exclusive groups per furnace or kiln, green power contracts, CCUS, offsets) with varied costs, lifetimes,
  ramp-ups and build windows, drawn from a fixed seed: synthetic but plausible, not data.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from parkzero.pathway.baseline import project_baseline
from parkzero.pathway.measures import Measure
from parkzero.pathway.optimise import MIP_REL_GAP, PortfolioInput, optimise_portfolio
from parkzero.pathway.scenario import load_scenario
from parkzero.pathway.targets import Target

PRICE_CNY_PER_MWH = 620.0  # demo assumption: the flat price level the energy bench uses
GRID_FACTOR = {2023: 0.5500, 2060: 0.05}  # as the demo scenario: East China 2023 (DESIGN.md §6), then assumed
OFFSET_PRICE_CNY_PER_T = 1000.0  # a deliberately high price: offsets as the last resort

TENANTS = tuple(load_scenario().tenants)  # the demo park's tenants (parkzero/pathway/data/demo_scenario.toml)


def generate_measures(n: int, seed: int = 7) -> list[Measure]:
    """`n` synthetic measures over the bench tenants (kinds in fixed proportions, numbers drawn from ranges)."""
    rng = np.random.default_rng(seed)
    codes = [t.code for t in TENANTS]
    heavy = ["steel", "cathode", "packs"]
    out: list[Measure] = []
    i = 0
    while len(out) < n:
        kind = ("green", "pv", "efficiency", "furnace", "efficiency", "storage", "green", "offsets", "ccus", "pv")[
            i % 10
        ]
        i += 1
        early = int(rng.integers(2025, 2036))
        late = int(rng.integers(max(early, 2032), 2061))
        window = {"earliest_year": early, "latest_year": late}
        if kind == "pv":
            mwh = float(rng.uniform(950, 1150))
            out.append(
                Measure(
                    code=f"pv-{i}",
                    name="PV block 1 MWp",
                    kind="pv",
                    capex_cny=rng.uniform(3.0, 4.0) * 1e6,
                    opex_cny_per_year=3.5e4,
                    savings_cny_per_year=mwh * PRICE_CNY_PER_MWH * rng.uniform(0.6, 1.0),
                    lifetime_years=25.0,
                    grid_mwh_saved_per_year=mwh,
                    max_units=int(rng.integers(1, 7)),
                    **window,
                )
            )
        elif kind == "efficiency":
            who = str(rng.choice(codes))
            out.append(
                Measure(
                    code=f"eff-{i}",
                    name=f"Efficiency at {who}",
                    kind="efficiency",
                    subject=who,
                    capex_cny=rng.uniform(0.3, 8.0) * 1e6,
                    opex_cny_per_year=rng.uniform(1e4, 2e5),
                    savings_cny_per_year=rng.uniform(0.0, 1.2e6),
                    lifetime_years=float(rng.integers(8, 21)),
                    ramp_up_years=int(rng.integers(0, 3)),
                    abatement_share=float(rng.uniform(0.01, 0.06)),
                    **window,
                )
            )
        elif kind == "furnace":  # two or three options for the same furnace or kiln, exclusive
            who = str(rng.choice(heavy))
            group = f"furnace-{i}"
            gas_t = float(rng.uniform(1500, 6000))
            for option in ("electrify", "hydrogen", "oxyfuel")[: int(rng.integers(2, 4))]:
                share = {"electrify": 1.0, "hydrogen": 0.95, "oxyfuel": 0.25}[option]
                mwh = {"electrify": -gas_t * 0.9, "hydrogen": -gas_t * 0.1, "oxyfuel": 0.0}[option]
                capex = {"electrify": 6e3, "hydrogen": 4e3, "oxyfuel": 1.5e3}[option] * gas_t * rng.uniform(0.7, 1.4)
                opex = {"electrify": 50.0, "hydrogen": 600.0, "oxyfuel": 10.0}[option] * gas_t
                out.append(
                    Measure(
                        code=f"{group}-{option}",
                        name=f"{option} furnace at {who}",
                        kind="electrification" if option == "electrify" else "fuel_switch",
                        subject=who,
                        capex_cny=capex,
                        opex_cny_per_year=opex,
                        lifetime_years=float(rng.integers(15, 31)),
                        ramp_up_years=int(rng.integers(0, 4)),
                        abatement_tco2e_per_year=gas_t * share,
                        grid_mwh_saved_per_year=mwh,
                        exclusive_group=group,
                        **window,
                    )
                )
        elif kind == "green":
            who = (None, "steel", "cathode", "datacentre")[i % 4]  # None: bought for the park as a whole
            out.append(
                Measure(
                    code=f"green-{i}",
                    name="Green power 10 GWh/yr",
                    kind="green_power_purchase",
                    subject=who,
                    opex_cny_per_year=1e4 * rng.uniform(20, 80),
                    lifetime_years=float(rng.integers(1, 11)),
                    grid_mwh_saved_per_year=1e4,
                    max_units=int(rng.integers(2, 9)),
                    **window,
                )
            )
        elif kind == "storage":
            out.append(
                Measure(
                    code=f"bess-{i}",
                    name="Battery 2 MWh",
                    kind="storage",
                    subject=str(rng.choice(codes)),
                    capex_cny=rng.uniform(1.6, 2.8) * 1e6,
                    opex_cny_per_year=4.8e4,
                    savings_cny_per_year=rng.uniform(1e5, 3.5e5),
                    lifetime_years=float(rng.integers(10, 16)),
                    grid_mwh_saved_per_year=float(rng.uniform(30, 150)),
                    **window,
                )
            )
        elif kind == "offsets":
            out.append(
                Measure(
                    code=f"offsets-{i}",
                    name="Offsets 5 kt/yr",
                    kind="offsets",
                    opex_cny_per_year=5e3 * rng.uniform(80, 400),
                    lifetime_years=float(rng.integers(1, 21)),
                    abatement_tco2e_per_year=5e3,
                    max_units=int(rng.integers(2, 9)),
                    **window,
                )
            )
        else:
            who = str(rng.choice(heavy))
            t = float(rng.uniform(2e3, 1e4))
            out.append(
                Measure(
                    code=f"ccus-{i}",
                    name=f"CCUS at {who}",
                    kind="ccus",
                    subject=who,
                    capex_cny=t * rng.uniform(2e3, 5e3),
                    opex_cny_per_year=t * rng.uniform(200, 500),
                    lifetime_years=20.0,
                    ramp_up_years=int(rng.integers(1, 4)),
                    abatement_tco2e_per_year=t,
                    **{**window, "earliest_year": max(early, 2030)},
                )
            )
    return out[:n]


def bench_portfolio(n_measures: int) -> None:
    baseline = project_baseline(TENANTS, GRID_FACTOR, park_code="bench-park")
    total = baseline.total_tco2e
    targets = [
        Target(code="peak-2030", subject="bench-park", kind="absolute_peak", target_year=2030),
        Target(
            code="half-by-2040",
            subject="bench-park",
            kind="absolute_cap",
            target_year=2040,
            value=round(0.5 * float(total[0]), 1),
            unit="tCO2e",
            note="-50 % of 2025",
        ),
        Target(code="neutral-2060", subject="bench-park", kind="neutral", target_year=2060),
        Target(
            code="steel-intensity",
            subject="steel",
            kind="intensity_reduction",
            base_year=2025,
            target_year=2035,
            value=30.0,
            unit="%",
        ),
    ]
    inp = PortfolioInput(
        baseline=baseline,
        measures=generate_measures(n_measures),
        targets=targets,
        discount_rate=0.06,
        offset_price_cny_per_tco2e=OFFSET_PRICE_CNY_PER_T,
    )
    t0 = time.perf_counter()
    p = optimise_portfolio(inp, mip_rel_gap=MIP_REL_GAP)
    elapsed = time.perf_counter() - t0
    units = sum(b.units for b in p.builds)
    print(
        f"portfolio_s={elapsed:.2f} s ({n_measures} measures x {baseline.years.size} years, {len(targets)} targets; "
        f"status {p.status})"
    )
    print(f"portfolio_mip_gap={100 * p.mip_gap:.4f} % (relative, asked <= {100 * MIP_REL_GAP:g} %)")
    print(f"portfolio_objective_cny={p.objective_cny:.0f} CNY (discounted to the start of 2025)")
    print(f"portfolio_cost_cny={p.discounted_cost_cny:.0f} CNY (measures and bought offsets, discounted)")
    print(f"portfolio_builds={len(p.builds)} builds ({units} units of {len({b.code for b in p.builds})} measures)")
    print(f"baseline_peak_year={baseline.peak_year}; baseline_2025_tco2e={total[0]:.0f} tCO2e")
    print(f"portfolio_peak_year={p.peak_year}; emissions_2040_tco2e={p.emissions_tco2e[15]:.0f} tCO2e")
    print(
        f"portfolio_residual_tco2e={p.residual_tco2e:.0f} tCO2e (gross 2060); "
        f"bought_offsets_2060_tco2e={p.bought_offsets_tco2e[-1]:.0f} tCO2e; "
        f"gap_to_neutrality_tco2e={p.gap_to_neutrality_tco2e:.0f} tCO2e"
    )
    for t in p.targets:
        if t.shadow_price_cny_per_tco2e is not None:
            print(f"shadow_price_{t.code}={t.shadow_price_cny_per_tco2e:.1f} CNY/tCO2e (LP relaxation, discounted)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="20 measures, for CI")
    ap.add_argument("--measures", type=int, default=None, help="number of measures (default 200, smoke 20)")
    args = ap.parse_args()
    bench_portfolio(args.measures or (20 if args.smoke else 200))


if __name__ == "__main__":
    main()
