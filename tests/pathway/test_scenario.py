"""Scenario files: the shipped demo scenario, measures derived in a scenario, and bad files named item by item."""

from __future__ import annotations

import pytest

from parkzero.errors import ValidationFailed
from parkzero.pathway.scenario import load_scenario

HEAD = '[scenario]\nname = "t"\npark = "p"\n[grid_factor_tco2_per_mwh]\n2025 = 0.5\n[[tenant]]\ncode = "a"\nactivity = 1.0\n'


def test_the_demo_scenario_derives_its_induction_furnace_from_the_ledger_method():
    s = load_scenario()
    assert s.park == "baoshan-demo" and len(s.tenants) == 10
    m = next(m for m in s.measures if m.code == "steel-induction-reheating")
    # 2,000,000 Nm3 x 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 99 % x 44/12 = 4,324.4 tCO2/yr
    assert m.abatement_tco2e_per_year == pytest.approx(2e6 / 1e4 * 389.31 * 15.3e-3 * 0.99 * 44 / 12, rel=1e-4)
    # heat into the steel 77,862 GJ x 55 % = 42,824 GJ = 11,895.6 MWh; / 0.85 = 13,994.8 MWh of power added
    assert m.grid_mwh_saved_per_year == pytest.approx(-2e6 * 38.931e-3 * 0.55 / 3.6 / 0.85, rel=1e-4)
    assert m.fuel_saved_per_year == {"natural_gas_m3": 2e6} and m.earliest_year == 2027 and m.subject == "steel"
    assert "rules.combustion" in m.source and "fuel.natural_gas" in m.source


def test_bad_derived_measures_are_named(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        HEAD + '[[derived]]\nmethod = "teleport"\ncode = "x"\n'
        '[[derived]]\nmethod = "electrification"\ncode = "hp"\nname = "HP"\nfuel_code = "natural_gas_m3"\n'
        "fuel_quantity_per_year = 1000.0\ncop = -3.0\n"
        '[[derived]]\nmethod = "fuel_switch"\ncode = "sw"\nname = "SW"\nfuel_code = "coal_t"\n'
    )
    with pytest.raises(ValidationFailed) as e:
        load_scenario(f)
    cols = [i.column for i in e.value.issues]
    assert cols[0] == "derived x: method" and "derived hp: cop" in cols
    assert any(c == "derived sw" for c in cols)  # fuel_quantity_per_year and new_fuel_code missing
    assert all(i.file == str(f) for i in e.value.issues)


def test_a_derived_code_that_clashes_with_the_library_is_named(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        HEAD + '[[derived]]\nmethod = "electrification"\ncode = "heat-pump-for-gas-boiler"\nname = "again"\n'
        'fuel_code = "natural_gas_m3"\nfuel_quantity_per_year = 1000.0\ncop = 3.0\n'
    )
    with pytest.raises(ValidationFailed) as e:
        load_scenario(f)
    assert [i.column for i in e.value.issues] == ["heat-pump-for-gas-boiler: code"]


def test_unreadable_and_unknown_tables(tmp_path):
    with pytest.raises(ValidationFailed, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")
    f = tmp_path / "s.toml"
    f.write_text(HEAD + "[extras]\nx = 1\n")
    with pytest.raises(ValidationFailed) as e:
        load_scenario(f)
    assert [i.column for i in e.value.issues] == ["extras"]
