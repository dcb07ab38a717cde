"""Product footprint benchmark: prints `name=value unit` lines.

    python bench/footprint.py            # full size: 20,000 processes, 200,000 exchanges
    python bench/footprint.py --smoke    # 2,000 processes, for CI

The system is a tiered supply chain: tier 0 (raw materials) uses secondary factors only; each process of a
higher tier takes ~10 inputs, mostly products of the tier below, some of any lower tier, and secondary data
(5 % of the factors are suppliers' primary data), plus metered electricity and, for a fifth, direct
emissions. One process in a hundred also makes a scrap co-product (mass allocation, or economic where the
product is not in mass units) that goes back down: to one of its own suppliers (a closed loop) or, one time in
four, to another process a few tiers lower. Units are mixed (kg, t, g, kWh, MWh, piece) and converted.

- `pcf_build_s`: the `System` checked and the matrices built from the model objects.
- `pcf_factorise_s`: build + block ordering + the one LU + the productivity check.
- `pcf_all_products_s`: every product's footprint from that factorisation (one transposed solve).
- `pcf_residual`: ‖Aᵀf − b‖∞ / (‖A‖∞ ‖f‖∞ + ‖b‖∞), and `pcf_check_max_rel_diff` against an independent
  fixed-point iteration f = D⁻¹(b + Eᵀ f) (A = D − E), which needs no factorisation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from parkzero.footprint import engine
from parkzero.footprint.model import EnergyInput, Exchange, Process, Product, SecondaryFactor, System

TIERS = 8
INPUTS = 10  # exchanges per process
GRID_KGCO2E_PER_KWH = 0.5366  # demo assumption, a national grid average (input, not a constant)
UNIT_SPELLINGS = {"kg": [("kg", 1.0), ("g", 1e3), ("t", 1e-3)], "t": [("t", 1.0), ("kg", 1e3)]}
UNIT_SPELLINGS |= {"kWh": [("kWh", 1.0), ("MWh", 1e-3)], "piece": [("piece", 1.0)]}


def tiered_system(n_processes: int, seed: int = 7) -> tuple[list[Product], list[Process], list[SecondaryFactor]]:
    """The products, processes and factors of a productive tiered supply chain with recycling loops."""
    rng = np.random.default_rng(seed)
    per_tier = n_processes // TIERS
    tier = np.minimum(np.arange(n_processes) // per_tier, TIERS - 1)
    unit = rng.choice(["kg", "t", "kWh", "piece"], n_processes, p=[0.8, 0.1, 0.05, 0.05])
    n_factors = max(50, n_processes // 40)
    factor_unit = rng.choice(["kg", "t", "kWh", "tkm", "m3"], n_factors, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    secondary = [
        SecondaryFactor(
            f"bg{i:05d}",
            float(rng.lognormal(0.0, 1.0)) * (1000.0 if factor_unit[i] == "t" else 1.0),
            str(factor_unit[i]),
            f"supplier:S{i % 97:03d}" if i % 20 == 0 else "factor library 2024",
            2024,
            "1.0",
            primary=i % 20 == 0,
        )
        for i in range(n_factors)
    ]
    recycler = (rng.random(n_processes) < 0.01) & (tier >= 2)
    scrap_user = {}  # co-product process -> the lower process that takes its scrap
    inputs: list[list[Exchange]] = [[] for _ in range(n_processes)]
    for j in range(n_processes):
        t = tier[j]
        n_tech = 0 if t == 0 else int(rng.integers(6, 10))
        if n_tech:
            below = rng.integers((t - 1) * per_tier, t * per_tier, n_tech)
            anywhere = rng.integers(0, t * per_tier, n_tech)
            suppliers = np.unique(np.where(rng.random(n_tech) < 0.7, below, anywhere))
            amounts = rng.uniform(0.01, 0.12, len(suppliers))
            for s, a in zip(suppliers.tolist(), amounts.tolist(), strict=True):
                spelling, scale = UNIT_SPELLINGS[unit[s]][int(rng.integers(len(UNIT_SPELLINGS[unit[s]])))]
                inputs[j].append(Exchange(f"p{s:05d}", a * scale, spelling))
            if recycler[j]:
                scrap_user[j] = int(suppliers[0] if rng.random() < 0.75 else rng.integers(0, (t - 1) * per_tier))
        for f in rng.integers(0, n_factors, INPUTS - len(inputs[j])).tolist():
            inputs[j].append(Exchange(f"bg{f:05d}", float(rng.uniform(0.05, 0.5)), str(factor_unit[f])))
    for j, user in scrap_user.items():  # the user takes scrap in place of one secondary input
        k = next(i for i, e in enumerate(inputs[user]) if e.flow.startswith("bg"))
        inputs[user][k] = Exchange(f"s{j:05d}", float(rng.uniform(0.02, 0.2)), "kg")
    direct = np.where(rng.random(n_processes) < 0.2, rng.lognormal(-1.0, 1.0, n_processes), 0.0)
    kwh = rng.uniform(0.05, 2.0, n_processes)
    products, processes = [], []
    for j in range(n_processes):
        products.append(Product(f"p{j:05d}", f"product {j}", str(unit[j])))
        outputs = {f"p{j:05d}": 1.0}
        allocation, prices = None, None
        if j in scrap_user:
            products.append(Product(f"s{j:05d}", f"scrap of {j}", "kg"))
            outputs[f"s{j:05d}"] = float(rng.uniform(0.05, 0.3))
            allocation = "mass" if unit[j] in ("kg", "t") else "economic"
            prices = {f"p{j:05d}": 10.0, f"s{j:05d}": 1.5}
        processes.append(
            Process(
                f"proc{j:05d}",
                f"line {j}",
                outputs,
                inputs[j],
                [EnergyInput(f"t{tier[j]}.ch{j:05d}", float(kwh[j]), GRID_KGCO2E_PER_KWH, "demo grid")],
                float(direct[j]),
                allocation,
                prices=prices,
            )
        )
    return products, processes, secondary


def fixed_point(a: sp.csc_array, b: np.ndarray, tolerance: float = 1e-14, limit: int = 1000) -> tuple[np.ndarray, int]:
    """Solve ``Aᵀ f = b`` by f = D⁻¹(b + Eᵀ f), A = D − E: exact after the depth of a tiered system, then the
    loops converge geometrically. Independent of any factorisation."""
    d = a.diagonal()
    e_t = (sp.diags_array(d) - a).T.tocsr()
    f = np.zeros_like(b)
    for k in range(1, limit + 1):
        new = (b + e_t @ f) / d
        if np.max(np.abs(new - f)) <= tolerance * np.max(np.abs(new)):
            return new, k
        f = new
    return f, limit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="2,000 processes, for CI")
    args = ap.parse_args()
    n = 2_000 if args.smoke else 20_000
    products, processes, secondary = tiered_system(n)

    t0 = time.perf_counter()
    system = System(products, processes, secondary)
    m = engine.build(system)
    build_s = time.perf_counter() - t0
    n_exchanges = sum(len(p.inputs) for p in processes)
    print(
        f"pcf_build_s={build_s:.3f} s ({len(products)} products, {len(processes)} processes, {n_exchanges} "
        f"exchanges, {len(secondary)} secondary factors; A has {m.technosphere.nnz} entries)"
    )

    t0 = time.perf_counter()
    fact = engine.factorise(system)
    factorise_s = time.perf_counter() - t0
    lu_entries = fact.lu.L.nnz + fact.lu.U.nnz
    _, label = connected_components(m.technosphere, directed=True, connection="strong")
    loops = np.bincount(label)
    print(
        f"pcf_factorise_s={factorise_s:.3f} s (build + block order + LU + productivity check; L+U {lu_entries} "
        f"entries; {np.sum(loops > 1)} loops, the largest {loops.max()} processes)"
    )

    t0 = time.perf_counter()
    footprint = engine.footprints(fact)
    all_s = time.perf_counter() - t0
    print(f"pcf_all_products_s={all_s:.4f} s ({len(footprint)} products, one factorisation)")

    a, b = fact.matrices.technosphere, fact.matrices.b
    f = np.array(list(footprint.values()))
    if not np.all(np.isfinite(f)) or f.min() < 0:
        raise SystemExit(f"footprints not finite and non-negative: min {f.min()}")
    residual = np.max(np.abs(a.T @ f - b)) / (abs(a).sum(axis=1).max() * np.abs(f).max() + np.abs(b).max())
    print(f"pcf_residual={residual:.1e} (‖Aᵀf − b‖∞ relative)")
    check, iterations = fixed_point(a, b)
    diff = np.max(np.abs(check - f) / np.abs(check))
    print(f"pcf_check_max_rel_diff={diff:.1e} (all products against a fixed-point iteration, {iterations} sweeps)")
    if residual > 1e-12 or diff > 1e-9:
        raise SystemExit("footprints do not match the check")
    print(f"pcf_median_kgco2e={np.median(f):.2f} kgCO2e per declared unit (min {f.min():.3g}, max {f.max():.3g})")


if __name__ == "__main__":
    main()
