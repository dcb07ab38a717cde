"""The footprint engine on hand-checked systems: a chain, co-products under each allocation, a scrap loop against
its geometric series, a random system against an independent dense solve, contributions, Monte Carlo, and bad
inputs refused with the process, product or field named and no number returned."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkzero.errors import ValidationFailed
from parkzero.footprint import engine
from parkzero.footprint.model import EnergyInput, Exchange, Process, Product, SecondaryFactor, System

GRID = 0.55  # kgCO2e/kWh, a test value
SCRAP = SecondaryFactor("scrap-market", 0.02, "kg", "worldsteel 2023", 2023, "2023.1")
PAINT = SecondaryFactor("paint", 3.0, "kg", "supplier:ACME", 2024, "v2", primary=True)


def chain() -> System:
    """EAF steel (per t) pressed into brackets (per piece)."""
    return System(
        [Product("steel", "EAF steel", "t"), Product("bracket", "pressed bracket", "piece")],
        [
            Process(
                "eaf",
                "electric arc furnace",
                {"steel": 1.0},
                [Exchange("scrap-market", 1100.0, "kg")],
                [EnergyInput("steel.f01", 450.0, GRID, "grid 2023")],
                direct_kgco2e=80.0,
            ),
            Process(
                "press",
                "press line",
                {"bracket": 1.0},
                [Exchange("steel", 2.0, "kg"), Exchange("paint", 0.05, "kg")],
                [EnergyInput("steel.f02", 1.5, GRID, "grid 2023")],
            ),
        ],
        [SCRAP, PAINT],
    )


def test_two_process_chain():
    fact = engine.factorise(chain())
    f = engine.footprints(fact)
    # 1,100 kg x 0.02 kgCO2e/kg + 450 kWh x 0.55 + 80 kgCO2e = 22 + 247.5 + 80 = 349.5 kgCO2e/t
    assert f["steel"] == pytest.approx(349.5, rel=1e-12)
    # 2 kg = 0.002 t x 349.5 + 0.05 kg x 3.0 kgCO2e/kg + 1.5 kWh x 0.55 = 0.699 + 0.15 + 0.825 = 1.674 kgCO2e/piece
    assert f["bracket"] == pytest.approx(1.674, rel=1e-12)
    # 10 brackets: 10 press runs and 10 x 0.002 t = 0.02 t of steel
    assert engine.supply(fact, "bracket", 10.0) == pytest.approx({("press", "bracket"): 10.0, ("eaf", "steel"): 0.02})
    assert engine.dense_footprints(chain()) == pytest.approx(f, rel=1e-12)


def test_contributions_of_the_chain():
    rows = engine.contributions(engine.factorise(chain()), "bracket")
    got = {(r.kind, r.code): r.kgco2e for r in rows}
    assert got == pytest.approx(
        {
            ("energy", "steel.f02"): 0.825,  # 1.5 kWh x 0.55
            ("energy", "steel.f01"): 0.495,  # 0.002 t x 450 kWh/t x 0.55
            ("direct", "eaf"): 0.16,  # 0.002 t x 80 kgCO2e/t
            ("supplier", "paint"): 0.15,  # 0.05 kg x 3.0, ACME's primary data
            ("secondary", "scrap-market"): 0.044,  # 0.002 t x 1,100 kg/t x 0.02
        }
    )
    assert [r.code for r in rows] == ["steel.f02", "steel.f01", "eaf", "paint", "scrap-market"]  # largest first
    assert math.fsum(r.kgco2e for r in rows) == pytest.approx(1.674, rel=1e-12)  # the footprint
    assert rows[0].share_pct == pytest.approx(0.825 / 1.674 * 100)  # 49.28 %
    assert math.fsum(r.share_pct for r in rows) == pytest.approx(100.0)
    by_process = {r.code: r.kgco2e for r in engine.contributions(engine.factorise(chain()), "bracket", by="process")}
    # press 0.15 + 0.825 = 0.975; eaf 0.002 t x 349.5 = 0.699
    assert by_process == pytest.approx({"press": 0.975, "eaf": 0.699})


# --- co-products ----------------------------------------------------------------------------------------------

COKE = SecondaryFactor("coke", 0.5, "kg", "factor library", 2024, "1")
ORE = SecondaryFactor("ore", 20.0, "t", "factor library", 2024, "1")
CLINKER = SecondaryFactor("clinker", 850.0, "t", "factor library", 2024, "1")


def furnace(allocation: str, displaces: str = "clinker", **changes) -> Process:
    """A blast furnace making 1 t of iron and 0.3 t of slag.

    Burden per run: 400 kg coke x 0.5 + 1.6 t ore x 20 + 100 kWh x 0.48 + 1,280 direct = 200 + 32 + 48 + 1,280
    = 1,560 kgCO2e.
    """
    fields = dict(
        code="bf",
        name="blast furnace",
        outputs={"iron": 1.0, "slag": 0.3},
        inputs=[Exchange("coke", 400.0, "kg"), Exchange("ore", 1.6, "t")],
        energy=[EnergyInput("iron.f01", 100.0, 0.48, "grid")],
        direct_kgco2e=1280.0,
        allocation=allocation,
        allocation_factors={"iron": 0.9, "slag": 0.1},
        prices={"iron": 2970.0, "slag": 100.0},
        substitutions={"slag": displaces},
    )
    return Process(**(fields | changes))


def iron_system(allocation: str, displaces: str = "clinker", kiln: bool = False, **changes) -> System:
    products = [Product("iron", "pig iron", "t"), Product("slag", "granulated slag", "t")]
    processes = [furnace(allocation, displaces, **changes)]
    if kiln:  # clinker made in the system: 1.5 t limestone x 10 + 800 direct = 815 kgCO2e/t
        products.append(Product("clinker-made", "clinker", "t"))
        limestone = SecondaryFactor("limestone", 10.0, "t", "factor library", 2024, "1")
        processes.append(Process("kiln", "kiln", {"clinker-made": 1.0}, [Exchange("limestone", 1.5, "t")], [], 800.0))
        return System(products, processes, [COKE, ORE, CLINKER, limestone])
    return System(products, processes, [COKE, ORE, CLINKER])


@pytest.mark.parametrize(
    ("allocation", "iron", "slag"),
    [
        ("mass", 1200.0, 1200.0),  # 1,560 x 1/1.3 per 1 t = 1,200; 1,560 x 0.3/1.3 per 0.3 t = 1,200 kgCO2e/t
        ("economic", 1544.4, 52.0),  # values 2,970 + 0.3 x 100 = 3,000: 1,560 x 0.99 = 1,544.4; 1,560 x 0.01 / 0.3
        ("physical", 1404.0, 520.0),  # 1,560 x 0.9 = 1,404; 1,560 x 0.1 / 0.3 t = 520 kgCO2e/t
        ("system_expansion", 1305.0, 850.0),  # 1,560 - 0.3 t x 850 (clinker displaced) = 1,305; slag = clinker
    ],
)
def test_co_product_allocation(allocation, iron, slag):
    f = engine.footprints(engine.factorise(iron_system(allocation)))
    assert f["iron"] == pytest.approx(iron, rel=1e-12)
    assert f["slag"] == pytest.approx(slag, rel=1e-12)


def test_system_expansion_against_a_product_of_the_system():
    system = iron_system("system_expansion", displaces="clinker-made", kiln=True)
    fact = engine.factorise(system)
    f = engine.footprints(fact)
    assert f["clinker-made"] == pytest.approx(815.0)  # 1.5 t x 10 + 800
    assert f["iron"] == pytest.approx(1315.5)  # 1,560 - 0.3 t x 815 = 1,560 - 244.5
    assert f["slag"] == pytest.approx(815.0)  # stands for the clinker it displaces
    # 1 t of iron: one furnace run, and 0.3 t less clinker from the kiln
    assert engine.supply(fact, "iron") == pytest.approx({("bf", "iron"): 1.0, ("kiln", "clinker-made"): -0.3})
    rows = {(r.kind, r.code): r.kgco2e for r in engine.contributions(fact, "iron")}
    assert rows[("direct", "kiln")] == pytest.approx(-240.0)  # the credit: -0.3 x 800
    assert math.fsum(rows.values()) == pytest.approx(1315.5)
    assert engine.dense_footprints(system) == pytest.approx(f)


def test_a_co_product_used_inside_the_system_under_system_expansion():
    base = iron_system("system_expansion", displaces="clinker-made", kiln=True)
    road = Process("road", "road base", {"road-m2": 1.0}, [Exchange("slag", 200.0, "kg")], [], 1.0)
    system = System([*base.products, Product("road-m2", "road base", "m2")], [*base.processes, road], base.secondary)
    fact = engine.factorise(system)
    # 0.2 t of slag no longer displaces clinker: 0.2 t x 815 + 1 = 164 kgCO2e/m2
    assert engine.footprints(fact)["road-m2"] == pytest.approx(164.0)
    # one m2: 0.2 t through the slag column, so 0.2 t more clinker from the kiln; the furnace does not run
    assert engine.supply(fact, "road-m2") == pytest.approx(
        {("road", "road-m2"): 1.0, ("bf", "slag"): 0.2, ("kiln", "clinker-made"): 0.2}
    )


def test_allocation_sensitivity_shows_every_method_with_data():
    cases = engine.allocation_sensitivity(iron_system("mass"), "iron")
    # the four hand-computed numbers of test_co_product_allocation, whichever method is declared
    assert cases == {
        "bf": pytest.approx({"physical": 1404.0, "mass": 1200.0, "economic": 1544.4, "system_expansion": 1305.0})
    }
    only_prices = iron_system("economic", allocation_factors=None, substitutions=None)
    assert engine.allocation_sensitivity(only_prices, "iron") == {
        "bf": pytest.approx({"mass": 1200.0, "economic": 1544.4})
    }


# --- a loop ---------------------------------------------------------------------------------------------------


def scrap_loop(home_scrap_kg: float) -> System:
    """EAF steel takes `home_scrap_kg` of the rolling mill's scrap per kg, the rest of 1.1 kg from the market;
    the mill makes 1 kg coil and 0.25 kg scrap from 1.25 kg steel, mass-allocated (coil 0.8, scrap 0.2)."""
    return System(
        [
            Product("steel", "EAF steel", "kg"),
            Product("coil", "hot-rolled coil", "kg"),
            Product("scrap", "scrap", "kg"),
        ],
        [
            Process(
                "eaf",
                "electric arc furnace",
                {"steel": 1.0},
                [Exchange("scrap", home_scrap_kg, "kg"), Exchange("scrap-market", 1.1 - home_scrap_kg, "kg")],
                [EnergyInput("steel.f01", 0.5, 0.6, "grid")],
                direct_kgco2e=0.05,
            ),
            Process(
                "mill",
                "rolling mill",
                {"coil": 1.0, "scrap": 0.25},
                [Exchange("steel", 1250.0, "g")],
                [EnergyInput("steel.f02", 0.2, 0.6, "grid")],
                allocation="mass",
            ),
        ],
        [SCRAP],
    )


@pytest.mark.parametrize("s", [0.0, 0.2, 0.5, 0.9])
def test_scrap_loop_is_the_geometric_series(s):
    f = engine.footprints(engine.factorise(scrap_loop(s)))
    eaf = (1.1 - s) * 0.02 + 0.5 * 0.6 + 0.05  # the EAF's own burden per kg of steel [kgCO2e]
    mill = 0.2 * 0.2 * 0.6 / 0.25  # the mill's energy on 1 kg of scrap: 20 % of 0.12 kgCO2e per 0.25 kg = 0.096
    gain = s * 0.2 * 1.25 / 0.25  # kg of steel back in the furnace per kg of steel: s x 1 kg steel per kg scrap
    # each kg of steel carries its own burden plus s kg of scrap, which carries the mill's share plus 1 kg of
    # steel again: f_steel = (eaf + s x mill) x (1 + g + g^2 + ...)
    series = (eaf + s * mill) * math.fsum(gain**k for k in range(400))  # 0.9^400 < 1e-18
    assert f["steel"] == pytest.approx(series, rel=1e-12)
    assert f["steel"] == pytest.approx((eaf + s * mill) / (1 - gain), rel=1e-12)
    # s = 0.2: (0.368 + 0.2 x 0.096) / 0.8 = 0.484 kgCO2e/kg
    assert s != 0.2 or f["steel"] == pytest.approx(0.484)
    # coil: 80 % of (0.12 + 1.25 kg x f_steel); for s = 0.2, 0.8 x (0.12 + 0.605) = 0.58 kgCO2e/kg
    assert f["coil"] == pytest.approx(0.8 * (0.12 + 1.25 * f["steel"]), rel=1e-12)
    assert f["scrap"] == pytest.approx(f["coil"], rel=1e-12)  # mass allocation: the same per kg


# --- a random system against an independent dense solve -------------------------------------------------------

KG = {"g": 1e-3, "kg": 1.0, "t": 1e3}  # the test's own conversions, independent of the model's table


def random_system(n: int, seed: int, burden_scale: float = 1.0, shuffle: bool = True, acyclic: bool = False) -> System:
    """A productive random system: each process takes up to 8 products (any, loops and self-use included, or only
    earlier ones if `acyclic`) whose mass sums to < 0.9 of its output, plus secondary inputs, electricity and
    direct emissions; products and processes listed in a random order if `shuffle`."""
    rng = np.random.default_rng(seed)
    units = rng.choice(list(KG), n)
    factors = [
        SecondaryFactor(
            f"bg{i}", float(rng.uniform(0.1, 5.0)) * burden_scale, str(rng.choice(list(KG))), "lib", 2024, "1"
        )
        for i in range(20)
    ]
    processes = []
    for j in range(n):
        pool = j if acyclic else n
        users = rng.choice(pool, min(pool, int(rng.integers(0, 9))), replace=False)
        share = rng.dirichlet(np.ones(len(users))) * rng.uniform(0.1, 0.9) if len(users) else []
        out_kg = KG[units[j]]  # output 1 declared unit = out_kg kg
        inputs = []
        for i, w in zip(users.tolist(), list(share), strict=True):
            spelling = str(rng.choice(list(KG)))
            inputs.append(Exchange(f"p{i}", w * out_kg / KG[spelling], spelling))
        for k in rng.choice(20, 2, replace=False).tolist():
            inputs.append(Exchange(f"bg{k}", float(rng.uniform(0.0, 2.0)), factors[k].unit))
        energy = [EnergyInput(f"ch{j % 7}", float(rng.uniform(0.0, 3.0)), GRID * burden_scale, "grid")]
        processes.append(
            Process(f"proc{j}", f"line {j}", {f"p{j}": 1.0}, inputs, energy, float(rng.uniform(0, 2)) * burden_scale)
        )
    products = [Product(f"p{j}", f"product {j}", str(units[j])) for j in range(n)]
    if shuffle:
        products = [products[i] for i in rng.permutation(n)]
        processes = [processes[i] for i in rng.permutation(n)]
    return System(products, processes, factors)


def dense_reference(system: System) -> dict[str, float]:
    """Footprints straight from the model objects: a dense A and b filled exchange by exchange, numpy's solve."""
    index = {p.code: i for i, p in enumerate(system.products)}
    unit = {p.code: p.declared_unit for p in system.products}
    factor = {s.code: s for s in system.secondary}
    a = np.zeros((len(index), len(index)))
    b = np.zeros(len(index))
    for proc in system.processes:
        ((code, amount),) = proc.outputs.items()
        j = index[code]
        a[j, j] += amount
        b[j] += proc.direct_kgco2e + sum(e.amount_kwh * e.kgco2e_per_kwh for e in proc.energy)
        for e in proc.inputs:
            if e.flow in index:
                a[index[e.flow], j] -= e.amount * KG[e.unit] / KG[unit[e.flow]]
            else:
                b[j] += e.amount * KG[e.unit] / KG[factor[e.flow].unit] * factor[e.flow].kgco2e_per_unit
    f = np.linalg.solve(a.T, b)
    return dict(zip(index, f.tolist(), strict=True))


def test_random_system_of_200_processes_equals_the_dense_solve():
    system = random_system(200, seed=1)
    fact = engine.factorise(system)
    f = engine.footprints(fact)
    assert f == pytest.approx(dense_reference(system), rel=1e-10)
    assert f == pytest.approx(engine.dense_footprints(system), rel=1e-10)
    for product in ("p0", "p17", "p199"):
        rows = engine.contributions(fact, product)
        assert math.fsum(r.kgco2e for r in rows) == pytest.approx(f[product], rel=1e-12)  # rows sum to it
        by_process = engine.contributions(fact, product, by="process")
        assert math.fsum(r.kgco2e for r in by_process) == pytest.approx(f[product], rel=1e-12)
        # the supply's direct burden is bᵀx = f: one unit of the product, solved the other way round
        runs = engine.supply(fact, product)
        assert runs[(f"proc{product[1:]}", product)] >= 1.0  # at least its own run, more with loops


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000), k=st.floats(0.01, 100.0))
def test_scaling_every_burden_by_k_scales_every_footprint_by_k(n, seed, k):
    base = engine.footprints(engine.factorise(random_system(n, seed)))
    scaled = engine.footprints(engine.factorise(random_system(n, seed, burden_scale=k)))
    assert scaled == pytest.approx({code: k * v for code, v in base.items()}, rel=1e-9)
    assert base == pytest.approx(dense_reference(random_system(n, seed)), rel=1e-9)


def test_the_order_of_products_and_processes_does_not_matter():
    # another order is another pivot sequence: the same numbers to rounding (the loops amplify it to ~1e-10)
    assert engine.footprints(engine.factorise(random_system(150, 5))) == pytest.approx(
        engine.footprints(engine.factorise(random_system(150, 5, shuffle=False))), rel=1e-9
    )


def test_an_acyclic_system_factorises_without_fill():
    # listed in a random order, the block triangular order makes A upper triangular: L is the unit diagonal and
    # U holds exactly the entries of A
    fact = engine.factorise(random_system(300, seed=9, acyclic=True))
    assert fact.lu.L.nnz == 300
    assert fact.lu.U.nnz == fact.matrices.technosphere.nnz


# --- Monte Carlo ----------------------------------------------------------------------------------------------


def with_gsd(system: System, gsd: float, technosphere: bool = False) -> System:
    """The same system with every secondary (or every) exchange given a GSD."""
    processes = [
        dataclasses.replace(
            p,
            inputs=[
                dataclasses.replace(e, uncertainty=gsd) if technosphere or e.flow not in system.product_index else e
                for e in p.inputs
            ],
        )
        for p in system.processes
    ]
    return dataclasses.replace(system, processes=processes)


def test_monte_carlo_with_gsd_1_is_the_deterministic_answer():
    system = random_system(60, seed=3)
    f = engine.footprints(engine.factorise(system))
    mc = engine.monte_carlo(with_gsd(system, 1.0, technosphere=True), n=50, seed=1)
    for code, value in f.items():  # ln(1) = 0: every draw is the given amount
        d = mc[code]
        assert (d.mean, d.p2_5, d.p50, d.p97_5) == pytest.approx((value,) * 4, rel=1e-12)
        assert d.std == pytest.approx(0.0, abs=1e-12 * abs(value))


def test_monte_carlo_median_is_near_the_deterministic_answer_and_reproducible():
    system = chain()
    f = engine.footprints(engine.factorise(system))
    mc = engine.monte_carlo(with_gsd(system, 1.5), n=4000, seed=42)
    # bracket = 0.002 t x (22 L1 + 327.5) + 0.15 L2 + 0.825 with L1, L2 lognormal of median 1: the median of
    # the sum is within a few percent of 1.674, the mean above it (E[L] = exp(ln(1.5)^2 / 2) = 1.086)
    assert mc["bracket"].p50 == pytest.approx(f["bracket"], rel=0.02)
    assert mc["bracket"].mean > f["bracket"]
    assert mc["bracket"].p2_5 < mc["bracket"].p50 < mc["bracket"].p97_5
    assert mc["steel"].p50 == pytest.approx(f["steel"], rel=0.01)  # 349.5: only the 22 kgCO2e of scrap vary
    assert engine.monte_carlo(with_gsd(system, 1.5), n=4000, seed=42) == mc  # the same seed, the same numbers
    assert engine.monte_carlo(with_gsd(system, 1.5), n=4000, seed=43) != mc


def test_monte_carlo_on_uncertain_loop_amounts_refactorises_each_draw():
    system = with_gsd(scrap_loop(0.2), 1.2, technosphere=True)
    mc = engine.monte_carlo(system, n=400, seed=7)
    assert mc["steel"].p50 == pytest.approx(0.484, rel=0.03)  # deterministic (0.368 + 0.2 x 0.096) / 0.8
    assert mc["steel"].std > 0
    assert engine.monte_carlo(system, n=400, seed=7) == mc


# --- bad inputs -----------------------------------------------------------------------------------------------


def refused(call, *names: str) -> str:
    """The call raises ValidationFailed whose message names every one of `names`; returns the message."""
    with pytest.raises(ValidationFailed) as caught:
        call()
    message = str(caught.value)
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"
    return message


def two(code_a: str, needs_b: float, code_b: str, needs_a: float) -> System:
    return System(
        [Product("a", "A", "kg"), Product("b", "B", "kg")],
        [
            Process(code_a, "line a", {"a": 1.0}, [Exchange("b", needs_b, "kg")], direct_kgco2e=1.0),
            Process(code_b, "line b", {"b": 1.0}, [Exchange("a", needs_a, "kg")], direct_kgco2e=1.0),
        ],
    )


def test_a_singular_system_is_refused_naming_its_loop():
    # a needs 1 kg of b per kg and b 1 kg of a: det [[1, -1], [-1, 1]] = 0
    refused(lambda: engine.factorise(two("line-a", 1.0, "line-b", 1.0)), "singular", "line-a", "line-b")


def test_a_loop_with_gain_above_1_is_refused():
    # 1.1 kg of scrap per kg of steel, 1 kg of steel per kg of scrap: gain 1.1; the solve would give
    # f_steel = 0.3872... / (1 - 1.1) < 0, a wrong number
    message = refused(lambda: engine.factorise(scrap_loop(1.1)), "not productive", "eaf", "mill", "steel", "scrap")
    assert "gain" in message
    # the same gain spread over two processes: 2 x 0.55 = 1.1
    refused(lambda: engine.factorise(two("line-a", 2.0, "line-b", 0.55)), "not productive", "line-a", "line-b")
    # a process that uses more of its own product than it makes
    greedy = System(
        [Product("steam", "steam", "t")],
        [Process("boiler", "boiler", {"steam": 1.0}, [Exchange("steam", 1200.0, "kg")], direct_kgco2e=5.0)],
    )
    refused(lambda: engine.factorise(greedy), "not productive", "boiler", "steam")
    refused(lambda: engine.monte_carlo(scrap_loop(1.1), n=10, seed=1), "eaf", "mill")


def test_a_loop_with_gain_next_to_1_is_refused_as_inaccurate():
    refused(lambda: engine.factorise(two("line-a", 1.0 - 1e-14, "line-b", 1.0)), "line-a", "line-b")


def test_a_unit_mismatch_along_the_chain_names_process_flow_and_units():
    press = dataclasses.replace(chain().processes[1], inputs=[Exchange("steel", 2.0, "kWh")])
    refused(
        lambda: System(chain().products, [chain().processes[0], press], [SCRAP, PAINT]),
        "press",
        "steel",
        "'kWh'",
        "'t'",
    )
    paint_in_m3 = dataclasses.replace(chain().processes[1], inputs=[Exchange("paint", 0.05, "m3")])
    refused(lambda: System(chain().products, [chain().processes[0], paint_in_m3], [SCRAP, PAINT]), "press", "paint")


def test_a_product_without_declared_unit_is_refused():
    refused(lambda: Product("steel", "EAF steel", ""), "steel", "declared_unit")
    refused(lambda: Product("coil", "coil", None), "coil", "declared_unit")
    refused(lambda: Product("coil", "coil", "   "), "coil", "declared_unit")


def test_co_products_need_an_allocation():
    refused(lambda: furnace(None), "bf", "iron", "slag", "allocation")
    refused(lambda: furnace("by-weight"), "bf", "by-weight")
    refused(lambda: furnace("economic", prices=None), "bf", "prices")


def test_allocation_factors_must_sum_to_1():
    refused(
        lambda: furnace("physical", allocation_factors={"iron": 0.9, "slag": 0.2}), "bf", "allocation_factors", "1.1"
    )
    refused(lambda: furnace("physical", allocation_factors={"iron": 1.0}), "bf", "allocation_factors")
    # within 1e-9 is accepted: 0.9 + 0.1 + 5e-10
    assert furnace("physical", allocation_factors={"iron": 0.9, "slag": 0.1 + 5e-10}).allocation == "physical"


def test_mass_allocation_needs_mass_units():
    system = lambda: System(  # noqa: E731
        [Product("iron", "pig iron", "t"), Product("gas", "top gas", "kWh")],
        [
            furnace(
                "mass", outputs={"iron": 1.0, "gas": 900.0}, allocation_factors=None, prices=None, substitutions=None
            )
        ],
        [COKE, ORE],
    )
    refused(system, "bf", "gas", "'kWh'", "mass")


def test_a_flow_made_by_nobody_is_refused():
    press = dataclasses.replace(chain().processes[1], inputs=[Exchange("aluminium", 0.3, "kg")])
    refused(lambda: System(chain().products, [chain().processes[0], press], [SCRAP, PAINT]), "press", "aluminium")


def test_every_product_is_made_by_exactly_one_process():
    products = chain().products
    eaf, press = chain().processes
    refused(lambda: System(products, [eaf], [SCRAP, PAINT]), "bracket", "no process")
    second = dataclasses.replace(eaf, code="eaf-2")
    refused(lambda: System(products, [eaf, second, press], [SCRAP, PAINT]), "steel", "eaf", "eaf-2")
    refused(lambda: System(products, [eaf, press], [SCRAP, PAINT, SCRAP]), "scrap-market", "twice")


def test_bad_amounts_are_refused_with_the_process_named():
    press = dataclasses.replace(chain().processes[1], inputs=[Exchange("steel", float("nan"), "kg")])
    refused(lambda: System(chain().products, [chain().processes[0], press], [SCRAP, PAINT]), "press", "steel")
    wide = dataclasses.replace(chain().processes[1], inputs=[Exchange("steel", 2.0, "kg", uncertainty=0.5)])
    refused(lambda: System(chain().products, [chain().processes[0], wide], [SCRAP, PAINT]), "press", "GSD")
    refused(lambda: Process("p", "p", {"x": 0.0}), "'p'", "output", "'x'")
    refused(lambda: engine.supply(engine.factorise(chain()), "widget"), "widget")
