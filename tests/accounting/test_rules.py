"""The rules against the shipped factor library, with the arithmetic beside each assertion."""

from __future__ import annotations

import pytest

from parkzero.accounting import rules
from parkzero.errors import ValidationFailed
from parkzero.factors import shipped_sets


@pytest.fixture(scope="module")
def factors():
    return [f for s in shipped_sets() for f in s.rows]


def resolver(factors, regime="ghg-protocol", year=2023):
    return rules.Resolver(factors, rules.get_regime(regime), year)


@pytest.mark.parametrize(
    ("factor_id", "year", "expected_t", "arithmetic"),
    [
        ("electricity.cn.national_average", 2023, 530.6, "1,000 MWh x 0.5306 tCO2/MWh (national 2023) = 530.6"),
        ("electricity.cn.east_china", 2023, 550.0, "1,000 MWh x 0.5500 tCO2/MWh (East China 2023) = 550.0"),
        ("electricity.cn_ets.grid", 2023, 570.3, "1,000 MWh x 0.5703 tCO2/MWh (national carbon market) = 570.3"),
        ("electricity.sh_ets.grid", 2023, 420.0, "10^6 kWh = 100 x 10^4 kWh x 4.2 tCO2/10^4 kWh = 420"),
        ("electricity.cn.national_residual", 2023, 609.6, "1,000 MWh x 0.6096 tCO2/MWh (residual 2023) = 609.6"),
    ],
)
def test_grid_power(factors, factor_id, year, expected_t, arithmetic):
    ef = resolver(factors, year=year).get(factor_id)
    c = rules.electricity(1_000_000.0, ef)  # 1,000 MWh in kWh
    assert c.gases[0].emissions_t == pytest.approx(expected_t, abs=1e-9), arithmetic
    assert ef.source  # every factor names its source


def test_regimes_pick_their_grid_factor(factors):
    # each regime's Scope 2 grid factor for 2023, applied to 1,000 MWh
    expected = {"cn-enterprise": 530.6, "ghg-protocol": 550.0, "cn-ets": 570.3, "sh-ets": 420.0}
    for code, t in expected.items():
        r = resolver(factors, code, 2023)
        assert rules.electricity(1e6, r.get(r.regime.electricity)).tco2e == pytest.approx(t), code


def fuel(r, name):
    return [r.get(f"fuel.{name}", p) for p in ("ncv", "carbon_content", "oxidation")]


def test_natural_gas_combustion(factors):
    r = resolver(factors, "cn-enterprise")
    ncv, cc, ox = fuel(r, "natural_gas")
    assert (ncv.value, cc.value, ox.value) == (389.31, 15.3, 0.99)
    c = rules.combustion(100_000.0, "Nm3", ncv, cc, ox)
    # 10 x 10^4 Nm3 x 389.31 GJ/10^4 Nm3 = 3,893.1 GJ; x 15.3 tC/TJ / 1000 = 59.56443 tC; x 0.99 x 44/12
    # = 216.2189 tCO2
    assert c.gases[0].emissions_t == pytest.approx(3893.1 * 15.3e-3 * 0.99 * 44 / 12)
    assert c.gases[0].emissions_t == pytest.approx(216.2189, abs=1e-4)


def test_diesel_combustion(factors):
    r = resolver(factors, "cn-enterprise")
    ncv, cc, ox = fuel(r, "diesel")
    assert (ncv.value, cc.value, ox.value) == (42.652, 20.2, 0.98)
    c = rules.combustion(100.0, "t", ncv, cc, ox)
    # 100 t x 42.652 GJ/t = 4,265.2 GJ; x 20.2 tC/TJ / 1000 = 86.15704 tC; x 0.98 x 44/12 = 309.5910 tCO2
    assert c.gases[0].emissions_t == pytest.approx(4265.2 * 20.2e-3 * 0.98 * 44 / 12)
    assert c.gases[0].emissions_t == pytest.approx(309.5910, abs=1e-4)


def test_coal_combustion(factors):
    r = resolver(factors, "cn-enterprise")
    ncv, cc, ox = fuel(r, "bituminous_coal")
    c = rules.combustion(1000.0, "t", ncv, cc, ox)
    # 1,000 t x NCV x carbon content x oxidation x 44/12, with the cited GB/T 32150 parameters
    expected = 1000 * ncv.value * cc.value / 1000 * ox.value * 44 / 12
    assert c.gases[0].emissions_t == pytest.approx(expected)
    assert "GB/T 32150" in ncv.source or "指南" in ncv.source


def test_ipcc_non_co2_for_diesel(factors):
    r = resolver(factors, "ghg-protocol")
    ncv, cc, ox = fuel(r, "diesel")
    ch4 = r.get("fuel_ipcc.stationary.diesel", "ef", "CH4")
    n2o = r.get("fuel_ipcc.stationary.diesel", "ef", "N2O")
    c = rules.combustion(100.0, "t", ncv, cc, ox, {"CH4": (ch4, 28.0), "N2O": (n2o, 265.0)})
    gases = {g.gas: g for g in c.gases}
    # 4,265.2 GJ = 4.2652 TJ; CH4 4.2652 TJ x 3 kg/TJ = 12.7956 kg; N2O 4.2652 x 0.6 = 2.55912 kg
    assert gases["CH4"].emissions_t == pytest.approx(0.0127956)
    assert gases["N2O"].emissions_t == pytest.approx(0.00255912)


def test_gwp_ar5_vs_ar6(factors):
    mix = {"CH4": 1.0, "N2O": 0.5, "HFC-134a": 0.1}  # tonnes of each gas
    ar5 = resolver(factors, "ghg-protocol")
    ar5_t = sum(t * ar5.gwp(g) for g, t in mix.items())
    # AR5: 1 x 28 + 0.5 x 265 + 0.1 x 1300 = 28 + 132.5 + 130 = 290.5 tCO2e
    assert ar5_t == pytest.approx(290.5)
    gwp6 = {f.gas: f.value for f in factors if f.factor_id == "gwp.ar6"}
    ar6_t = sum(t * gwp6[g] for g, t in mix.items())
    # AR6: 1 x 29.8 (fossil CH4) + 0.5 x 273 + 0.1 x 1530 = 29.8 + 136.5 + 153 = 319.3 tCO2e
    assert ar6_t == pytest.approx(319.3)


def test_refrigerant_blend(factors):
    r = resolver(factors, "ghg-protocol")
    shares = [f for f in factors if f.factor_id == "refrigerant.r-410a" and f.parameter == "share"]
    c = rules.refrigerant(0.01, shares, {f.gas: r.gwp(f.gas) for f in shares})
    # 10 kg R-410A = 5 kg HFC-32 x 677 + 5 kg HFC-125 x 3170 = 3.385 + 15.85 = 19.235 tCO2e (AR5)
    assert c.tco2e == pytest.approx(19.235)


def test_unit_mismatch_is_refused(factors):
    r = resolver(factors, "cn-enterprise")
    ncv, cc, ox = fuel(r, "diesel")
    with pytest.raises(ValidationFailed, match="unit mismatch"):
        rules.combustion(100.0, "Nm3", ncv, cc, ox)  # diesel's NCV is per tonne
    with pytest.raises(ValidationFailed, match="unit mismatch"):
        rules.electricity(1.0, r.get("heat.cn.default"))


def test_missing_factor_for_year(factors):
    # cn-enterprise needs the reporting year's own grid factor; none is published for 2019
    r = resolver(factors, "cn-enterprise", 2019)
    with pytest.raises(rules.MissingFactor, match="2019"):
        r.get("electricity.cn.national_average")
    # ghg-protocol may use the newest earlier factor (2023 for 2025) and says it is a proxy
    r = resolver(factors, "ghg-protocol", 2025)
    ef = r.get("electricity.cn.east_china")
    assert ef.year_from == 2023 and r.is_proxy(ef)
    with pytest.raises(rules.MissingFactor, match="no factor 'fuel.unobtainium'"):
        r.get("fuel.unobtainium", "ncv")
