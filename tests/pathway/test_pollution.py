"""Pollution and carbon together: factors, activity -> tonnes, co-benefits of measures and portfolios, co-control.

Most cases use a small factor file with round numbers (`FILE`) so the arithmetic beside each assertion is easy to
follow: gas 1.6 kg NOx, 0.1 kg PM and 0.1 kg VOC per 1,000 m3 and SO2 2 kg per 1,000 m3 per % S at 0.5 % S;
grid 0.1 kg SO2, 0.2 kg NOx and 0.02 kg PM per MWh (no VOC). APeq weights (tax law): SO2 0.95, NOx 0.95, PM 2.18 kg,
so 1 t PM = 0.95 / 2.18 = 0.435780 t APeq.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from parkzero.errors import ValidationFailed
from parkzero.pathway.baseline import Baseline, Tenant, project_baseline
from parkzero.pathway.measures import CO_BENEFIT_KEYS, Measure, load_measures
from parkzero.pathway.optimise import PortfolioInput, optimise_portfolio
from parkzero.pathway.pollution import (
    baseline_pollutants,
    co_control,
    load_pollutant_factors,
    measure_co_benefits,
    measure_co_control,
    pollutants_from_activity,
    scenario_co_benefits,
    scenario_co_control,
)
from parkzero.pathway.targets import Target

YEARS = np.arange(2025, 2061)
PM_WEIGHT = 0.95 / 2.18  # t APeq per t PM

HEAD = """
format = "parkzero-pollutant-factors"
format_version = 1

[apeq]
source = "环境保护税法 附表二 (test copy)"
verified = false
[apeq.equivalent_kg]
so2 = 0.95
nox = 0.95
pm = 2.18
"""
GAS = """
[[factor]]
code = "gas_m3"
name = "test gas"
unit = "m3"
control = "uncontrolled"
source = "test table 1"
verified = false
[factor.kg_per_unit]
nox = 0.0016
pm = 0.0001
voc = 0.0001
[factor.sulfur]
percent = 0.5
[factor.sulfur.kg_per_unit_per_percent]
so2 = 0.002
"""
GRID = """
[[factor]]
code = "grid_mwh"
name = "test grid"
unit = "MWh"
control = "typical control"
source = "test table 2"
verified = true
[factor.kg_per_unit]
so2 = 0.1
nox = 0.2
pm = 0.02
"""
FILE = HEAD + GAS + GRID


@pytest.fixture
def factors(tmp_path):
    path = tmp_path / "factors.toml"
    path.write_text(FILE, encoding="utf-8")
    return load_pollutant_factors(path)


def measure(code: str, **kw) -> Measure:
    return Measure(**{"code": code, "name": code, "kind": "efficiency", "lifetime_years": 10.0, **kw})


# -- the shipped factors ----------------------------------------------------------------------------------------
def test_shipped_factors_load_with_sources_units_and_verification():
    f = load_pollutant_factors()
    expected = {"natural_gas_m3", "coal_t", "diesel_t", "fuel_oil_t", "lpg_t", "grid_mwh", "crude_steel_bf_bof_t"}
    assert expected <= set(f.factors)
    for x in f.factors.values():
        assert x.source and x.control and x.unit and x.code.lower().endswith("_" + x.unit.lower().replace("nm3", "m3"))
        assert x.verified is False or x.read_at  # a verified figure says where it was read
    gas = f.factors["natural_gas_m3"]
    assert not gas.verified and gas.read_at and "Table 1.4-2" in gas.source and gas.unit == "Nm3"  # copies only
    # 100 lb/10^6 scf x 0.45359237 kg/lb / 26,791.1 Nm3 = 1.6931e-3 kg/Nm3 = 1.6931 kg NOx per 1,000 Nm3
    assert gas.kg_per_unit["nox"] == pytest.approx(100 * 0.45359237 / 26_791.1, rel=1e-4)
    # 7.6 lb/10^6 scf PM -> 0.12867 kg per 1,000 Nm3
    assert gas.kg_per_unit["pm"] * 1000 == pytest.approx(0.12867, rel=1e-4)
    coal = f.factors["coal_t"]
    assert coal.kg_per_unit["so2"] == pytest.approx(19.0)  # 38 S lb/ton x 0.5 = 19 kg/t per % S x 1.0 % S
    assert coal.derivation["so2"] == "19 per % S x 1 % S = 19 kg/t" and coal.verified is False
    oil = f.factors["fuel_oil_t"]
    assert oil.kg_per_unit["pm"] == pytest.approx(0.4086 + 1.166 * 1.0)  # (3.22 + 9.19 S) / 7.88 lb/gal, S = 1 %
    assert f.factors["diesel_t"].kg_per_unit["so2"] == pytest.approx(0.01998)  # 19.98 x 0.001 % S (10 mg/kg)
    assert "voc" not in f.factors["grid_mwh"].kg_per_unit  # the CEC gives no VOC: not covered, not zero
    assert f.equivalent_kg == {"so2": 0.95, "nox": 0.95, "pm": 2.18} and "环境保护税法" in f.apeq_source


def test_shipped_heat_pump_with_its_gas_saved():
    hp = {m.code: m for m in load_measures()}["heat-pump-for-gas-boiler"]
    hp = dataclasses.replace(hp, fuel_saved_per_year={"natural_gas_m3": 1_000_000.0})
    nox = measure_co_benefits(hp, load_pollutant_factors())["nox_t"]
    # 1e6 Nm3 x 1.6931 kg/1,000 Nm3 = 1.6931 t avoided - 3,244 MWh x 0.1029 kg/MWh = 0.3338 t added = 1.3593 t/yr
    assert nox == pytest.approx(1.6931 - 0.333808, abs=1e-4)


# -- activity -> tonnes -----------------------------------------------------------------------------------------
def test_activity_to_tonnes_by_hand_with_trace(factors):
    r = pollutants_from_activity({"gas_m3": 1_000_000.0, "grid_mwh": 500.0}, factors)
    # 1,000,000 m3 x 1.6 kg NOx/1,000 m3 = 1.6 t + 500 MWh x 0.2 kg/MWh = 0.1 t
    assert r.tonnes["nox"] == pytest.approx(1.7)
    # 1,000,000 m3 x (0.002 kg/m3 per % S x 0.5 % S) / 1,000 = 1.0 t + 500 x 0.1 / 1,000 = 0.05 t
    assert r.tonnes["so2"] == pytest.approx(1.05)
    assert r.tonnes["pm"] == pytest.approx(0.11)  # 0.1 + 500 x 0.02 / 1,000
    assert r.tonnes["voc"] == pytest.approx(0.1)  # gas only
    assert r.not_covered == {"voc": ["grid_mwh"]}  # listed, not silently zero
    assert r.apeq_t == pytest.approx(1.05 + 1.7 + 0.11 * PM_WEIGHT)  # 2.75 + 0.047936 = 2.797936 t
    assert len(r.lines) == 7  # 4 gas terms + 3 grid terms
    line = next(x for x in r.lines if x.activity == "grid_mwh" and x.pollutant == "nox")
    assert (line.quantity, line.factor_kg_per_unit, line.tonnes) == (500.0, 0.2, pytest.approx(0.1))
    assert line.source == "test table 2" and line.verified and line.unit == "MWh"


def test_unknown_activity_code_is_named(factors):
    with pytest.raises(ValidationFailed) as err:
        pollutants_from_activity({"gas_m3": 1.0, "coke_t": 5.0}, factors)
    assert "coke_t" in str(err.value) and [i.column for i in err.value.issues] == ["coke_t"]
    assert "gas_m3, grid_mwh" in err.value.issues[0].reason  # the known codes are offered


# -- measures ---------------------------------------------------------------------------------------------------
def test_measure_co_benefits_from_fuel_and_grid(factors):
    hp = measure("hp", fuel_saved_per_year={"gas_m3": 1_000_000.0}, grid_mwh_saved_per_year=-3_000.0)
    got = measure_co_benefits(hp, factors)
    assert set(got) == set(CO_BENEFIT_KEYS)
    assert got["nox_t"] == pytest.approx(1.0)  # 1.6 t gas avoided - 3,000 MWh x 0.2 kg/MWh = 0.6 t added
    assert got["so2_t"] == pytest.approx(0.7)  # 1.0 - 3,000 x 0.1 / 1,000
    assert got["pm_t"] == pytest.approx(0.04)  # 0.1 - 3,000 x 0.02 / 1,000
    assert got["voc_t"] == pytest.approx(0.1)  # gas only; the grid covers no VOC
    measured = measure_co_benefits(dataclasses.replace(hp, co_benefits={"pm_t": 0.5}), factors)
    assert measured["pm_t"] == 0.5 and measured["nox_t"] == pytest.approx(1.0)  # stated key wins, others computed
    pv = measure("pv", grid_mwh_saved_per_year=1_000.0)
    assert measure_co_benefits(pv, factors)["so2_t"] == pytest.approx(0.1)  # 1,000 MWh x 0.1 kg/MWh
    assert measure_co_benefits(measure("none", abatement_tco2e_per_year=1.0), factors) == dict.fromkeys(
        CO_BENEFIT_KEYS, 0.0
    )
    with pytest.raises(ValidationFailed) as err:
        measure_co_benefits(measure("boiler", fuel_saved_per_year={"coal_tonnes": 10.0}), factors)
    assert "boiler: fuel_saved_per_year" in str(err.value) and "coal_tonnes" in str(err.value)


def test_measure_co_control_per_unit(factors):
    m = measure(
        "hp",
        capex_cny=1_000_000.0,
        opex_cny_per_year=20_000.0,
        abatement_tco2e_per_year=1_000.0,
        fuel_saved_per_year={"gas_m3": 1_000_000.0},
    )
    v = measure_co_control(m, factors, 2030, 0.06)
    apeq = 1.0 + 1.6 + 0.1 * PM_WEIGHT  # SO2 1.0 + NOx 1.6 + PM 0.1 x 0.43578 = 2.643578 t/yr
    assert v.apeq_t == pytest.approx(apeq)
    assert v.apeq_t_per_tco2e == pytest.approx(apeq / 1_000.0)  # 0.0026436 t APeq per tCO2e
    # CRF(6 %, 10) x 1,000,000 + 20,000 = 135,867.96 + 20,000 = 155,867.96 CNY/yr; / 2.643578 t = 58,961 CNY/t
    assert v.annual_cost_cny == pytest.approx(155_867.96, abs=0.01)
    assert v.cny_per_t_apeq == pytest.approx(155_867.96 / apeq, rel=1e-6)
    assert v.quadrant == "both reduced"


# -- portfolios -------------------------------------------------------------------------------------------------
def _portfolio_case(renew: bool):
    # one heat pump, only buildable in 2030, 100 t/yr after a one-year ramp (50 t in 2030), life 5 yr;
    # a cap of 900 t in 2031 on a flat 1,000 t needs the full 100 t in 2031: built in 2030
    hp = measure(
        "hp",
        capex_cny=1_000.0,
        lifetime_years=5.0,
        ramp_up_years=1,
        abatement_tco2e_per_year=100.0,
        earliest_year=2030,
        latest_year=2030,
        fuel_saved_per_year={"gas_m3": 1_000_000.0},
    )
    cap = Target(code="cap", subject="site", kind="absolute_cap", target_year=2031, value=900.0, unit="tCO2e")
    baseline = Baseline(YEARS, {"works": np.full(YEARS.size, 1_000.0)}, park_code="site")
    inp = PortfolioInput(baseline=baseline, measures=[hp], targets=[cap], renew_at_end_of_life=renew)
    return hp, optimise_portfolio(inp)


def test_scenario_co_benefits_follow_the_optimisers_units(factors):
    hp, p = _portfolio_case(renew=False)
    assert [(b.code, b.year, b.units) for b in p.builds] == [("hp", 2030, 1)]
    s = scenario_co_benefits(p, [hp], factors, renew=False)
    nox = s.avoided_t["nox_t"]
    # 2029: not built; 2030: 1.6 t x 1/2 (ramp); 2031-2034: 1.6 t; 2035: life of 5 yr over, not renewed
    assert nox[4:11].tolist() == pytest.approx([0.0, 0.8, 1.6, 1.6, 1.6, 1.6, 0.0])
    # the same shape as the optimiser's abatement: 1.6 t NOx per 100 tCO2e in every year
    assert nox == pytest.approx(p.abatement_tco2e["hp"] * 1.6 / 100.0)
    assert s.by_measure_t["hp"]["so2_t"][6] == pytest.approx(1.0)  # 1e6 m3 x 0.001 kg/m3
    assert s.apeq_t[6] == pytest.approx(1.0 + 1.6 + 0.1 * PM_WEIGHT)  # 2.643578 t in 2031
    _, renewed = _portfolio_case(renew=True)
    assert scenario_co_benefits(renewed, [hp], factors).avoided_t["nox_t"][-1] == pytest.approx(1.6)  # 2060
    with pytest.raises(ValidationFailed, match="hp"):
        scenario_co_benefits(p, [], factors)


def test_scenario_co_control_in_a_year(factors):
    hp, p = _portfolio_case(renew=False)
    s = scenario_co_benefits(p, [hp], factors, renew=False)
    base = pollutants_from_activity({"gas_m3": 5_000_000.0}, factors)  # the park burns 5x the heat pump's gas
    c = scenario_co_control(p, s, base, 2031)
    # APeq 5 x 2.643578 = 13.21789 t, cut by 2.643578 t = 20 %; CO2 1,000 t cut by 100 t = 10 %; Els = 2.0
    assert c.apeq_before_t == pytest.approx(5 * (1.0 + 1.6 + 0.1 * PM_WEIGHT))
    assert c.co2_reduction_tco2e == pytest.approx(100.0) and c.elasticity == pytest.approx(2.0)
    assert c.quadrant == "both reduced" and c.voc_reduction_t == pytest.approx(0.1)
    with pytest.raises(ValidationFailed, match="year"):
        scenario_co_control(p, s, base, 2070)


def test_baseline_pollutants_from_tenant_fuel_and_grid(factors):
    works = Tenant(code="works", activity=1_000.0, direct_tco2e_per_unit=0.2, electricity_mwh_per_unit=2.0,
                   fuel_per_unit={"gas_m3": 100.0})  # fmt: skip
    b = project_baseline([works], {2025: 0.5}, first_year=2025, last_year=2030)
    r = baseline_pollutants(b, factors, 2030)
    # gas 1,000 t x 100 m3/t = 100,000 m3 x 0.0016 kg = 0.16 t NOx; grid 2,000 MWh x 0.2 kg = 0.4 t NOx
    assert r.tonnes["nox"] == pytest.approx(0.16 + 0.4)
    # SO2: gas 100,000 x 0.002 kg/% x 0.5 % = 0.1 t; grid 2,000 x 0.1 kg = 0.2 t
    assert r.tonnes["so2"] == pytest.approx(0.1 + 0.2)
    with pytest.raises(ValidationFailed, match="year"):
        baseline_pollutants(b, factors, 2031)
    odd = project_baseline([dataclasses.replace(works, fuel_per_unit={"peat_t": 1.0})], {2025: 0.5})
    with pytest.raises(ValidationFailed) as e:
        baseline_pollutants(odd, factors, 2025)
    assert [i.column for i in e.value.issues] == ["peat_t"]  # named, never dropped


# -- co-control -------------------------------------------------------------------------------------------------
def test_apeq_weights_leave_voc_out(factors):
    # 1 t SO2 + 2 t NOx + 2.18 t PM x 0.95 / 2.18 = 3.95 t APeq; the 9 t VOC have no equivalent value
    assert factors.apeq_t({"so2": 1.0, "nox": 2.0, "pm": 2.18, "voc": 9.0}) == pytest.approx(3.95)


@pytest.mark.parametrize(
    ("apeq_cut", "co2_cut", "quadrant", "elasticity"),
    [
        (20.0, 100.0, "both reduced", 2.0),  # (20 / 100) / (100 / 1,000) = 0.2 / 0.1
        (-5.0, 100.0, "carbon only", -0.5),  # (-5 / 100) / 0.1
        (10.0, -50.0, "pollutants only", -2.0),  # 0.1 / (-50 / 1,000)
        (-1.0, -10.0, "neither", 1.0),  # (-0.01) / (-0.01)
        (10.0, 0.0, "pollutants only", None),  # no CO2 change: Els undefined, on an axis
    ],
)
def test_co_control_quadrants_and_elasticity(apeq_cut, co2_cut, quadrant, elasticity):
    c = co_control(100.0, apeq_cut, 1_000.0, co2_cut, voc_reduction_t=0.3)
    assert c.quadrant == quadrant
    assert c.elasticity == (None if elasticity is None else pytest.approx(elasticity))
    assert "VOC (not in APeq) reduced by 0.300 t" in c.explanation


def test_co_control_explanation_shows_the_arithmetic():
    c = co_control(100.0, 20.0, 1_000.0, 100.0)
    assert "Els = 20.00 % / 10.00 % = 2.000" in c.explanation and "quadrant I)" in c.explanation
    assert "on an axis" in co_control(100.0, 10.0, 1_000.0, 0.0).explanation
    with pytest.raises(ValidationFailed, match="apeq_before_t"):
        co_control(-1.0, 1.0, 1_000.0, 1.0)


# -- bad files --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('source = "test table 1"\n', ""), "gas_m3: source"),  # missing source
        (("nox = 0.0016", "nox = -0.0016"), "gas_m3: kg_per_unit.nox"),  # negative factor
        (("voc = 0.0001", "co = 0.0001"), "gas_m3: kg_per_unit.co"),  # unknown pollutant
        (('unit = "m3"\n', ""), "gas_m3: unit"),  # missing unit
        (('code = "gas_m3"', 'code = "gas"'), "gas: code"),  # the code does not carry its unit
        (("percent = 0.5", "percent = -1"), "gas_m3: sulfur.percent"),
        (("verified = false\n[factor", "verified = 'no'\n[factor"), "gas_m3: verified"),
    ],
)
def test_bad_factor_files_name_the_factor_and_field(tmp_path, change, named):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + GAS.replace(*change) + GRID, encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        load_pollutant_factors(path)
    text = str(err.value)
    assert named in text and str(path) in text
    assert "grid_mwh:" not in text  # the good factor is not blamed


def test_bad_apeq_and_duplicate_codes(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD.replace("nox = 0.95", "nox = 0") + GAS + GAS, encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        load_pollutant_factors(path)
    assert "apeq: equivalent_kg.nox" in str(err.value) and "gas_m3: code" in str(err.value)


def test_removal_of_a_control_device_is_applied_and_shown(tmp_path):
    path = tmp_path / "controlled.toml"
    path.write_text(HEAD + GAS + "[factor.removal]\nso2 = 0.9\nnox = 0.5\n" + GRID, encoding="utf-8")
    gas = load_pollutant_factors(path).factors["gas_m3"]
    assert gas.kg_per_unit["nox"] == pytest.approx(0.0008)  # 0.0016 x (1 - 0.5)
    assert gas.kg_per_unit["so2"] == pytest.approx(0.0001)  # 0.002 x 0.5 % S x (1 - 0.9)
    assert gas.derivation["so2"] == "(0.002 per % S x 0.5 % S) x (1 - 0.9 removed) = 0.0001 kg/m3"
    path.write_text(HEAD + GRID.replace("pm = 0.02", "pm = 0.02\n[factor.removal]\nvoc = 0.5"), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="grid_mwh: removal.voc"):
        load_pollutant_factors(path)
