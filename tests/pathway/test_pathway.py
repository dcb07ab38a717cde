"""Road to zero: targets and progress, baseline, MACC and the portfolio MILP, checked against hand arithmetic.

Money is discounted at 6 % to the start of 2025, each year's flows at its end: DF(t) = 1.06^-(t - 2024).
CRF(6 %, n) = 0.06 x 1.06^n / (1.06^n - 1): CRF(10) = 0.1358680, CRF(25) = 0.0782267.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from parkzero.errors import ValidationFailed
from parkzero.pathway.baseline import Baseline, Tenant, project_baseline, trajectory
from parkzero.pathway.measures import Measure, load_measures, macc, unit_abatement_tco2e, validate_measures
from parkzero.pathway.optimise import PortfolioInput, optimise_portfolio
from parkzero.pathway.targets import Target, load_targets, progress, validate_target

YEARS = np.arange(2025, 2061)  # 36 years
R = 0.06


def crf(n: float, r: float = R) -> float:
    return r * (1 + r) ** n / ((1 + r) ** n - 1)


def df(year: int) -> float:
    return (1 + R) ** -(year - 2024)


def flat(tco2e: float = 1000.0) -> Baseline:
    """One subject emitting the same every year; the park is called "site"."""
    return Baseline(YEARS, {"works": np.full(YEARS.size, tco2e)}, park_code="site")


def measure(code: str, **kw) -> Measure:
    base = dict(code=code, name=code, kind="efficiency", lifetime_years=10.0)
    return Measure(**{**base, **kw})


def cap(year: int, value: float, code: str = "cap") -> Target:
    return Target(code=code, subject="site", kind="absolute_cap", target_year=year, value=value, unit="tCO2e")


# -- targets -----------------------------------------------------------------------------------------
def test_library_targets_keep_design_figures_and_sources():
    targets = {t.code: t for t in load_targets()}
    assert targets["cn-peak-2030"].target_year == 2030  # China peaks before 2030
    assert targets["cn-neutral-2060"].kind == "neutral" and targets["cn-neutral-2060"].target_year == 2060
    sh = targets["sh-energy-intensity-2025"]
    assert (sh.value, sh.base_year, sh.target_year) == (14.0, 2020, 2025)  # energy per GDP -14 % by 2025
    assert targets["sh-non-fossil-2025"].value == 20.0 and targets["sh-non-fossil-2030"].value == 25.0
    assert all("沪府发〔2022〕7号" in t.source for t in targets.values() if t.subject == "shanghai")
    bw = targets["baowu-intensity-2035"]
    assert (bw.value, bw.base_year, bw.target_year) == (30.0, 2020, 2035)  # -30 % per t steel 2020->2035
    assert targets["baowu-peak-2023"].target_year == 2023 and targets["baowu-neutral-2050"].target_year == 2050
    assert all(t.source for t in targets.values())


def test_validate_target_rejects_past_inverted_negative_and_unknown():
    with pytest.raises(ValidationFailed) as past:
        validate_target(Target(code="old-cap", subject="site", kind="absolute_cap", target_year=2020, value=5.0), 2025)
    assert "old-cap: target_year" in str(past.value) and "past" in str(past.value)
    with pytest.raises(ValidationFailed) as inverted:
        validate_target(
            Target(code="inv", subject="site", kind="intensity_reduction", base_year=2040, target_year=2035, value=30),
            2025,
        )
    assert "inv: base_year" in str(inverted.value)
    with pytest.raises(ValidationFailed) as negative:
        validate_target(cap(2030, -1.0, code="neg"), 2025)
    assert "neg: value" in str(negative.value)
    with pytest.raises(ValidationFailed) as unknown:
        validate_target(Target(code="odd", subject="site", kind="carbon_magic", target_year=2030), 2025)
    assert "odd: kind" in str(unknown.value)
    validate_target(cap(2025, 10.0), 2025)  # this year is not the past


def test_progress_cap_off_track_with_hand_arithmetic():
    p = progress(cap(2035, 600.0), {2020: 1000.0, 2025: 900.0})
    assert p.gap == pytest.approx(300.0)  # 900 - 600
    assert p.years_left == 10  # 2035 - 2025
    assert p.required_change_per_year == pytest.approx(30.0)  # 300 / 10
    assert p.required_annual_reduction_pct == pytest.approx(100 * (1 - (600 / 900) ** 0.1))  # 3.975 %/yr
    assert p.trend_per_year == pytest.approx(-20.0)  # (900 - 1000) / 5
    assert p.projected_value == pytest.approx(700.0)  # 900 - 20 x 10 > 600
    assert p.status == "off track"


def test_progress_intensity_on_track_and_cap_met_or_missed():
    baowu = Target(code="bw", subject="baowu", kind="intensity_reduction", base_year=2020, target_year=2035, value=30)
    p = progress(baowu, {2020: 2.0, 2023: 1.8})
    assert p.required_value == pytest.approx(1.4)  # 2.0 x (1 - 30 %)
    assert p.gap == pytest.approx(0.4)  # 1.8 - 1.4
    assert p.required_annual_reduction_pct == pytest.approx(100 * (1 - (1.4 / 1.8) ** (1 / 12)))  # 2.07 %/yr
    assert p.projected_value == pytest.approx(1.0)  # 1.8 + (1.8 - 2.0) / 3 x 12 <= 1.4
    assert p.status == "on track"
    assert progress(cap(2024, 950.0), {2023: 1000.0, 2024: 940.0}).status == "met"  # 940 <= 950
    assert progress(cap(2024, 900.0), {2023: 1000.0, 2024: 940.0}).status == "missed"  # 940 > 900
    with pytest.raises(ValidationFailed, match="bw: history"):
        progress(baowu, {2023: 1.8})  # no base-year value


def test_progress_peak_and_neutral():
    peak = Target(code="bw-peak", subject="baowu", kind="absolute_peak", target_year=2023)
    history = {2021: 100.0, 2022: 105.0, 2023: 110.0, 2024: 108.0, 2025: 107.0}
    assert progress(peak, history).status == "met"  # highest after 2023 (108) <= highest up to 2023 (110)
    assert progress(peak, {**history, 2025: 111.0}).status == "missed"  # 111 > 110
    slowing = progress(dataclasses.replace(peak, target_year=2030), {2023: 100.0, 2024: 106.0, 2025: 110.0})
    assert slowing.status == "on track"  # growth 4 after 6: slows by 2/yr, stops in 2025 + 4 / 2 = 2027 <= 2030
    assert slowing.required_change_per_year == pytest.approx(0.8)  # growth 4 / 5 years left
    neutral = Target(code="nz", subject="site", kind="neutral", target_year=2060)
    p = progress(neutral, {2015: 1200.0, 2025: 1000.0})
    assert p.required_annual_reduction_pct == pytest.approx(100 / 35)  # straight line to 0: 2.857 % of 1,000 /yr
    assert p.projected_value == pytest.approx(300.0)  # 1000 + (1000 - 1200) / 10 x 35
    assert p.status == "off track"


# -- baseline ----------------------------------------------------------------------------------------
def test_baseline_projection_growth_grid_factor_and_new_tenant():
    tenants = [
        Tenant(
            code="a", activity=100.0, growth_pct_per_year=5.0, direct_tco2e_per_unit=1.0, electricity_mwh_per_unit=2.0
        ),
        Tenant(code="b", activity=50.0, direct_tco2e_per_unit=2.0, start_year=2027),
    ]
    b = project_baseline(tenants, {2025: 0.5, 2035: 0.0}, first_year=2025, last_year=2030)
    assert b.grid_factor_tco2_per_mwh[1] == pytest.approx(0.45)  # 0.5 - 0.5 / 10
    a = b.emissions_tco2e["a"]
    assert a[0] == pytest.approx(200.0)  # 100 t x (1 + 2 MWh x 0.5)
    assert a[1] == pytest.approx(199.5)  # 105 t x (1 + 2 x 0.45)
    assert b.emissions_tco2e["b"][:3].tolist() == [0.0, 0.0, 100.0]  # from 2027: 50 t x 2 tCO2e/t
    assert b.total_tco2e[2] == pytest.approx(298.45)  # 110.25 x 1.8 + 100
    assert b.peak_year == 2027  # 2028: 115.7625 x 1.7 + 100 = 296.80 < 298.45
    assert trajectory({2023: 0.55, 2060: 0.05}, [2025])[0] == pytest.approx(0.55 - 0.5 * 2 / 37)
    with pytest.raises(ValidationFailed, match="a: activity"):
        project_baseline([dataclasses.replace(tenants[0], activity=-1.0)], {2025: 0.5})


def test_baseline_fuel_follows_activity_and_intensity():
    t = Tenant(code="a", activity=100.0, growth_pct_per_year=10.0, direct_tco2e_per_unit=1.0,
               fuel_per_unit={"natural_gas_m3": 500.0}, intensity_change_pct_per_year=-10.0)  # fmt: skip
    b = project_baseline([t], {2025: 0.5}, first_year=2025, last_year=2027)
    # 100 t x 500 Nm3/t = 50,000; 2026: 110 t x 500 x 0.9 = 49,500; 2027: 121 x 500 x 0.81 = 49,005 Nm3
    assert b.fuel["a"]["natural_gas_m3"] == pytest.approx([50_000.0, 49_500.0, 49_005.0])
    assert b.emissions_tco2e["a"] == pytest.approx([100.0, 99.0, 98.01])  # the fuel does not change the emissions
    with pytest.raises(ValidationFailed) as e:
        project_baseline([dataclasses.replace(t, fuel_per_unit={"natural_gas_m3": -1.0})], {2025: 0.5})
    assert [i.column for i in e.value.issues] == ["a: fuel_per_unit"]


# -- measures and MACC -------------------------------------------------------------------------------
def test_macc_three_measures_by_hand():
    a = measure("a", capex_cny=1_000_000.0, opex_cny_per_year=20_000.0, abatement_tco2e_per_year=1_000.0)
    b = measure(
        "b",
        kind="green_power_purchase",
        opex_cny_per_year=60_000.0,
        lifetime_years=1.0,
        grid_mwh_saved_per_year=2_000.0,
        max_units=2,
    )
    c = measure(
        "c",
        kind="pv",
        capex_cny=2_000_000.0,
        savings_cny_per_year=300_000.0,
        lifetime_years=25.0,
        abatement_tco2e_per_year=500.0,
    )
    rows = macc([a, b, c], R, 2030, grid_factor_tco2_per_mwh=0.55)
    assert [r.code for r in rows] == ["c", "b", "a"]
    # c: (CRF(25) x 2,000,000 - 300,000) / 500 t = (156,453.4 - 300,000) / 500 = -287.09 CNY/t
    assert rows[0].crf == pytest.approx(0.0782267, rel=1e-6)
    assert rows[0].cost_cny_per_tco2e == pytest.approx((crf(25) * 2e6 - 3e5) / 500)
    assert rows[0].cost_cny_per_tco2e == pytest.approx(-287.093, abs=1e-3)
    # b: 2 units x 60,000 / (2 x 2,000 MWh x 0.55 tCO2/MWh = 2,200 t) = 54.55 CNY/t
    assert rows[1].abatement_tco2e == pytest.approx(2_200.0)
    assert rows[1].cost_cny_per_tco2e == pytest.approx(120_000 / 2_200)
    # a: (CRF(10) x 1,000,000 + 20,000) / 1,000 t = (135,868.0 + 20,000) / 1,000 = 155.87 CNY/t
    assert rows[2].annualised_capex_cny == pytest.approx(135_867.96, abs=0.01)
    assert rows[2].cost_cny_per_tco2e == pytest.approx(155.868, abs=1e-3)
    assert [r.cumulative_tco2e for r in rows] == pytest.approx([500.0, 2_700.0, 3_700.0])  # 500 + 2,200 + 1,000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lifetime_years": -5.0}, "lifetime_years"),
        ({"abatement_tco2e_per_year": 0.0}, "abatement_tco2e_per_year"),
        ({"capex_cny": math.nan}, "capex_cny"),
        ({"earliest_year": 2040, "latest_year": 2030}, "earliest_year"),
    ],
)
def test_bad_measures_are_named(change, field):
    bad = measure("bad-one", **{"abatement_tco2e_per_year": 10.0, **change})
    with pytest.raises(ValidationFailed) as err:
        macc([measure("good", abatement_tco2e_per_year=10.0), bad], R, 2030)
    assert f"bad-one: {field}" in str(err.value)
    assert "good:" not in str(err.value)


def test_library_measures_load_and_abate_with_the_grid_factor():
    ms = {m.code: m for m in load_measures()}
    assert all(m.assumption or m.source for m in ms.values())
    hp = ms["heat-pump-for-gas-boiler"]
    # 2,162 t gas avoided - 3,244 MWh x 0.55 tCO2/MWh added = 377.8 tCO2e/yr
    assert unit_abatement_tco2e(hp, np.array([2030]), grid_factor_tco2_per_mwh=0.55)[0] == pytest.approx(377.8)
    validate_measures(list(ms.values()))


# -- the portfolio MILP ------------------------------------------------------------------------------
def test_milp_matches_enumeration_of_all_subsets():
    # three measures that can only be built in 2030, life 10 yr renewed to 2060; cap 900 t in 2030 on 1,000 t
    ms = [
        measure("a", capex_cny=300.0, abatement_tco2e_per_year=60.0, earliest_year=2030, latest_year=2030),
        measure("b", capex_cny=400.0, abatement_tco2e_per_year=45.0, earliest_year=2030, latest_year=2030),
        measure("c", capex_cny=650.0, abatement_tco2e_per_year=100.0, earliest_year=2030, latest_year=2030),
    ]
    annuity_factor = sum(df(y) for y in range(2030, 2061))  # 1.06^-6 + ... + 1.06^-36 = 10.40862
    assert annuity_factor == pytest.approx(10.40862, abs=1e-5)
    best = None
    for k in range(4):
        for subset in itertools.combinations(ms, k):
            if 1000.0 - sum(m.abatement_tco2e_per_year for m in subset) <= 900.0:
                cost = sum(crf(10) * m.capex_cny for m in subset) * annuity_factor
                best = min(best or (math.inf, ()), (cost, tuple(m.code for m in subset)))
    # feasible: {c} 650, {a,b} 700, {a,c} 950, ... -> {c}: 650 x 0.135868 x 10.40862 = 919.23 CNY
    assert best[1] == ("c",) and best[0] == pytest.approx(919.229, abs=1e-3)
    # the MACC order (a 5.0, c 6.5, b 8.9 CNY/t of capex) would take a then c: 160 t for 950 CNY of capex
    assert [r.code for r in macc(ms, R, 2030)] == ["a", "c", "b"]
    p = optimise_portfolio(PortfolioInput(baseline=flat(), measures=ms, targets=[cap(2030, 900.0)]))
    assert [(b.code, b.year) for b in p.builds] == [("c", 2030)]
    assert p.discounted_cost_cny == pytest.approx(best[0], rel=1e-6)
    assert p.emissions_tco2e[5] == pytest.approx(900.0)  # 2030: 1,000 - 100
    assert p.targets[0].met


def _rising() -> Baseline:
    """1,000 t in 2025, +100 t/yr to 1,700 t in 2032, flat afterwards."""
    return Baseline(YEARS, {"works": np.minimum(1000.0 + 100.0 * (YEARS - 2025), 1700.0)}, park_code="site")


def _ramping() -> Measure:
    """400 t/yr at full ramp, reached in the 4th year: 100, 200, 300, 400 t."""
    return measure(
        "m",
        capex_cny=1000.0,
        lifetime_years=20.0,
        ramp_up_years=3,
        abatement_tco2e_per_year=400.0,
        earliest_year=2026,
        latest_year=2040,
    )


def test_timing_as_late_as_allowed_unless_the_peak_forces_it():
    # cap 1,300 t in 2040 on 1,700 t: full 400 t needed in 2040, reached 3 years after the build -> built 2037
    late = optimise_portfolio(PortfolioInput(baseline=_rising(), measures=[_ramping()], targets=[cap(2040, 1300.0)]))
    assert [(b.code, b.year) for b in late.builds] == [("m", 2037)]
    assert late.abatement_tco2e["m"][12:16].tolist() == pytest.approx([100.0, 200.0, 300.0, 400.0])  # 2037-2040
    # peak by 2028: built 2029 gives 1,300 t every year from 2028 (1,400 - 100, 1,500 - 200, 1,600 - 300,
    # 1,700 - 400); built 2030 leaves 2029 at 1,400 > 1,300; built 2028 costs one more year
    peak = Target(code="peak-2028", subject="site", kind="absolute_peak", target_year=2028)
    early = optimise_portfolio(
        PortfolioInput(baseline=_rising(), measures=[_ramping()], targets=[peak, cap(2040, 1300.0)])
    )
    assert [(b.code, b.year) for b in early.builds] == [("m", 2029)]
    assert early.emissions_tco2e[3:9].tolist() == pytest.approx([1300.0] * 6)  # 2028-2033
    assert early.peak_year == 2028  # 1,000, 1,100, 1,200, then 1,300 from 2028 on (the first highest year)
    assert early.discounted_cost_cny > late.discounted_cost_cny  # 8 more years of annuities


def test_exclusive_group_is_respected():
    a = measure("a", capex_cny=10.0, abatement_tco2e_per_year=60.0)
    b = measure("b", capex_cny=10.0, abatement_tco2e_per_year=60.0)
    c = measure("c", capex_cny=50.0, abatement_tco2e_per_year=100.0)
    free = optimise_portfolio(PortfolioInput(baseline=flat(), measures=[a, b, c], targets=[cap(2035, 900.0)]))
    assert {x.code for x in free.builds} == {"a", "b"}  # 120 t for 20 CNY of capex
    a, b = (dataclasses.replace(x, exclusive_group="furnace-1") for x in (a, b))
    grouped = optimise_portfolio(PortfolioInput(baseline=flat(), measures=[a, b, c], targets=[cap(2035, 900.0)]))
    assert {x.code for x in grouped.builds} == {"c"}  # a or b alone give 60 t; a + c dearer than c


def test_infeasible_target_is_named_with_its_shortfall():
    ms = [
        measure("a", capex_cny=10.0, abatement_tco2e_per_year=60.0),
        measure("b", capex_cny=10.0, abatement_tco2e_per_year=45.0),
    ]
    with pytest.raises(ValidationFailed) as err:
        optimise_portfolio(PortfolioInput(baseline=flat(), measures=ms, targets=[cap(2030, 850.0, code="cap-2030")]))
    # 1,000 t - (60 + 45) t = 895 t against 850 t: short by 45.0 t in 2030
    assert "cap-2030 short by 45.0 tCO2e in 2030" in str(err.value)
    assert err.value.issues[0].column == "cap-2030: absolute_cap"


def test_bad_portfolio_inputs_name_the_item():
    with pytest.raises(ValidationFailed) as err:
        optimise_portfolio(
            PortfolioInput(
                baseline=flat(),
                measures=[measure("neg-life", abatement_tco2e_per_year=5.0, lifetime_years=-1.0)],
                targets=[
                    cap(2020, 900.0, code="past-cap"),
                    Target(
                        code="inv",
                        subject="site",
                        kind="intensity_reduction",
                        base_year=2041,
                        target_year=2040,
                        value=10.0,
                    ),
                ],
            )
        )
    text = str(err.value)
    assert "neg-life: lifetime_years" in text and "past-cap: target_year" in text and "inv: base_year" in text


def test_neutrality_with_bought_offsets_and_its_shadow_price():
    inp = PortfolioInput(
        baseline=flat(),
        measures=[measure("dear", capex_cny=1e9, abatement_tco2e_per_year=10.0)],
        targets=[Target(code="nz", subject="site", kind="neutral", target_year=2060)],
        offset_price_cny_per_tco2e=500.0,
    )
    p = optimise_portfolio(inp)
    assert p.builds == []
    assert p.bought_offsets_tco2e[-1] == pytest.approx(1000.0) and p.bought_offsets_tco2e[:-1].sum() == 0
    assert p.net_tco2e[-1] == pytest.approx(0.0) and p.neutral_year == 2060 and p.gap_to_neutrality_tco2e == 0
    assert p.residual_tco2e == pytest.approx(1000.0)
    assert p.discounted_cost_cny == pytest.approx(500.0 * 1000.0 * df(2060))  # 500,000 x 1.06^-36 = 61,370.4
    assert p.targets[0].shadow_price_cny_per_tco2e == pytest.approx(500.0 * df(2060))  # 61.37 CNY/t


def test_annual_budget_staggers_builds():
    ms = [measure(c, capex_cny=100.0, abatement_tco2e_per_year=50.0, earliest_year=2030) for c in ("a", "b")]
    both = optimise_portfolio(PortfolioInput(baseline=flat(), measures=ms, targets=[cap(2035, 900.0)]))
    assert [(x.code, x.year) for x in both.builds] == [("a", 2035), ("b", 2035)]
    staggered = optimise_portfolio(
        PortfolioInput(baseline=flat(), measures=ms, targets=[cap(2035, 900.0)], annual_budget_cny=100.0)
    )
    assert sorted(x.year for x in staggered.builds) == [2034, 2035]  # 100 CNY a year: one a year, late as can be


def test_without_renewal_abatement_ends_with_the_life():
    m = measure(
        "m", capex_cny=1000.0, lifetime_years=5.0, abatement_tco2e_per_year=100.0, earliest_year=2030, latest_year=2030
    )
    p = optimise_portfolio(
        PortfolioInput(baseline=flat(), measures=[m], targets=[cap(2030, 900.0)], renew_at_end_of_life=False)
    )
    assert p.abatement_tco2e["m"][4:11].tolist() == [0.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0]  # 2030-2034
    # five annuities of CRF(5) x 1,000 from the end of 2030 are worth 1,000 CNY at the start of 2030
    assert p.discounted_cost_cny == pytest.approx(1000.0 * 1.06**-5)  # 747.26 CNY at the start of 2025


def test_intensity_target_on_one_tenant():
    # the works make 100 t in 2025 growing to 150 t in 2035 at 10 tCO2e/t; the office next door is untouched
    activity = np.interp(YEARS, [2025, 2035], [100.0, 150.0])
    b = Baseline(
        YEARS,
        {"works": 10.0 * activity, "office": np.full(YEARS.size, 50.0)},
        activity={"works": activity},
        park_code="site",
    )
    target = Target(
        code="works-intensity",
        subject="works",
        kind="intensity_reduction",
        base_year=2025,
        target_year=2035,
        value=20.0,
    )
    small = measure("small", subject="works", capex_cny=10.0, abatement_tco2e_per_year=200.0)
    large = measure("large", subject="works", capex_cny=30.0, abatement_tco2e_per_year=350.0)
    other = measure("other", subject="office", capex_cny=1.0, abatement_tco2e_per_year=50.0)
    p = optimise_portfolio(PortfolioInput(baseline=b, measures=[small, large, other], targets=[target]))
    # allowed in 2035: (1 - 20 %) x 1,000 t / 100 t x 150 t = 1,200 t against 1,500 t: 300 t to cut at the works;
    # the office's measure does not count, "small" (200 t) is not enough
    assert [x.code for x in p.builds] == ["large"]
    assert p.subject_emissions_tco2e["works"][10] == pytest.approx(1150.0)  # 1,500 - 350 <= 1,200
    assert p.targets[0].applied_to == "works" and p.targets[0].met


def test_targets_without_an_energy_model_are_reported_not_modelled():
    share = Target(code="nf", subject="site", kind="non_fossil_share", target_year=2030, value=25.0)
    p = optimise_portfolio(
        PortfolioInput(baseline=flat(), measures=[measure("a", abatement_tco2e_per_year=1.0)], targets=[share])
    )
    assert p.builds == [] and p.targets[0].modelled is False and p.targets[0].met is None


def test_load_targets_rejects_a_bad_file_naming_the_target(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[target]]\ncode = "ok"\nsubject = "site"\nkind = "neutral"\ntarget_year = 2060\n\n'
        '[[target]]\ncode = "typo"\nsubject = "site"\nkind = "neutrall"\ntarget_year = 2060\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as err:
        load_targets(path)
    assert "typo: kind" in str(err.value) and "ok:" not in str(err.value)
