"""Measures derived from the platform's own models, checked by hand: PV and a battery from real sizings (one
representative day standing for the year, as in tests/energy/test_sizing.py), PV from pvlib, efficiency from a
real M&V case, electrification and fuel switch from the shipped factor library; then through validate_measures
and the MACC.

CRF(6 %, 25 yr) = 0.0782267, CRF(6 %, 20 yr) = 0.0871846, CRF(6 %, 12 yr) = 0.1192770 [1/yr].
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from parkzero.demo.weather import shanghai_weather
from parkzero.energy import mv, pv
from parkzero.energy.simulate import grid_factor
from parkzero.energy.sizing import BatteryOption, SizingInput, Surface, capital_recovery_factor, size_system
from parkzero.errors import ValidationFailed
from parkzero.factors import shipped_sets
from parkzero.pathway import derive
from parkzero.pathway.measures import macc, validate_measures

DAY = 24
DAYLIGHT = (np.arange(DAY) >= 6) & (np.arange(DAY) < 18)  # 12 sunny hours
TZ = "Asia/Shanghai"
GRID_TCO2_PER_MWH, _ = grid_factor(2023)  # East China 2023 from the factor library: 0.5500 tCO2/MWh


def _inp(**kw) -> SizingInput:
    """One day for the year: 1,000 kW flat load at 0.8 CNY/kWh, no export price, East China grid factor."""
    base = dict(
        load_kw=np.full(DAY, 1000.0),
        import_price_cny_per_kwh=np.full(DAY, 0.8),
        export_price_cny_per_kwh=0.0,
        demand_charge_cny_per_kw_month=0.0,
        hour_month=np.ones(DAY, dtype=int),
        grid_intensity_tco2_per_kwh=0.00055,
        surfaces=[],
        hour_weight=365.0,
    )
    return SizingInput(**{**base, **kw})


def _roof(**kw) -> Surface:
    """1,000 m² of roof = 200 kWp; 0.15 kW/kWp every hour = 1,314 kWh/kWp/yr; 3,000 CNY/kWp, 30 CNY/kWp/yr."""
    base = dict(
        code="roof-A",
        kind="roof",
        area_m2=1000.0,
        yield_kw_per_kwp=np.full(DAY, 0.15),
        capex_cny_per_kwp=3000.0,
        opex_cny_per_kwp_year=30.0,
        lifetime_years=25,
    )
    return Surface(**{**base, **kw})


def _battery(**kw) -> BatteryOption:
    """95 % each way, full window, no wear, O&M 2 % of capex, 12 years, at most 100 kWh."""
    base = dict(
        capex_cny_per_kwh=1000.0,
        capex_cny_per_kw=200.0,
        opex_share_per_year=0.02,
        lifetime_years=12,
        soc_min_pct=0.0,
        soc_max_pct=100.0,
        throughput_cost_cny_per_kwh=0.0,
        max_kwh=100.0,
    )
    return BatteryOption(**{**base, **kw})


def _columns(excinfo) -> list[str]:
    return [i.column for i in excinfo.value.issues]


# -- PV from the sizing ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pv_case():
    inp = _inp(surfaces=[_roof()], demand_charge_cny_per_kw_month=40.0)
    return size_system(inp), inp


@pytest.fixture(scope="module")
def pv_block(pv_case):
    return derive.pv_measure(*pv_case, code="pv-100", block_kwp=100.0)


def test_pv_block_from_a_sizing_that_fills_the_roof(pv_case, pv_block):
    sizing, _ = pv_case
    assert sizing.pv_kwp == {"roof-A": pytest.approx(200.0)}  # the whole roof, all used on site
    m = pv_block
    # 100 kWp x 1,314 kWh/kWp x 1.0 self-consumed = 131.4 MWh/yr of grid import saved per block
    assert m.grid_mwh_saved_per_year == pytest.approx(131.4)
    # energy 131,400 kWh x 0.8 = 105,120 + demand charge 15 kW x 40 CNY/kW/month x 12 = 7,200 -> 112,320 CNY/yr
    assert m.savings_cny_per_year == pytest.approx(112_320.0)
    # capex 100 kWp x 3,000 = 300,000 CNY; O&M 100 x 30 = 3,000 CNY/yr; 200 kWp sized / 100 = 2 blocks
    assert m.capex_cny == pytest.approx(300_000.0)
    assert m.opex_cny_per_year == pytest.approx(3_000.0)
    assert (m.lifetime_years, m.max_units, m.kind) == (25, 2, "pv")
    assert m.abatement_tco2e_per_year == 0.0  # valued at each year's grid factor instead
    assert "1,314.0 kWh/kWp/yr, 100.0 % self-consumed" in m.source
    assert "scaled linearly" in m.assumption


def test_only_the_self_consumed_part_saves_grid_import_unless_export_is_said_to_displace_it():
    inp = _inp(load_kw=np.full(DAY, 10.0), surfaces=[_roof()], export_price_cny_per_kwh=0.4, export_limit_kw=5.0)
    sizing = size_system(inp)
    # PV earns 1,314 x 0.4 = 525.6 CNY/kWp/yr on export > its 3,000 x 0.0782 + 30 = 264.7: it covers the 10 kW load
    # and the 5 kW export limit, 15 kW / 0.15 = 100 kWp, and no more (the rest would be curtailed)
    assert sizing.pv_kwp == {"roof-A": pytest.approx(100.0)}
    own = derive.pv_measure(sizing, inp, code="pv-own", block_kwp=100.0)
    # 100 kWp x 1,314 kWh/kWp x 10 / 15 self-consumed = 87.6 MWh/yr
    assert own.grid_mwh_saved_per_year == pytest.approx(87.6)
    assert "66.7 % self-consumed" in own.source
    # money counts both: 87,600 kWh x 0.8 + 43,800 kWh x 0.4 = 70,080 + 17,520 = 87,600 CNY/yr
    assert own.savings_cny_per_year == pytest.approx(87_600.0)
    both = derive.pv_measure(sizing, inp, code="pv-all", block_kwp=100.0, export_displaces_grid=True)
    # + the 5 kW x 8,760 h = 43.8 MWh exported = 131.4 MWh/yr
    assert both.grid_mwh_saved_per_year == pytest.approx(131.4)
    assert "counted as displacing grid power" in both.assumption


def test_pv_measure_refuses_a_sizing_without_new_pv_or_with_a_battery():
    dear = _inp(surfaces=[_roof(capex_cny_per_kwp=1e6)])
    with pytest.raises(ValidationFailed) as excinfo:
        derive.pv_measure(size_system(dear), dear, code="pv-x")
    assert _columns(excinfo) == ["pv-x: pv_new_kwp"]
    # free battery cycling free PV surplus: both are built, and one sizing cannot split their savings
    mixed = _inp(load_kw=np.full(DAY, 10.0), surfaces=[_roof(yield_kw_per_kwp=np.where(DAYLIGHT, 0.25, 0.0))])
    mixed = dataclasses.replace(mixed, battery=_battery())
    with pytest.raises(ValidationFailed, match="storage_measure") as excinfo:
        derive.pv_measure(size_system(mixed), mixed, code="pv-x", block_kwp=-1.0)
    assert _columns(excinfo) == ["pv-x: block_kwp", "pv-x: battery_new_kwh"]


def test_pv_block_from_a_pvlib_year_for_a_roof():
    lat, lon = 31.4, 121.4  # Baoshan
    weather = shanghai_weather(2025, 42, lat, lon, freq="1h")
    kw = pv.park_pv_kw(weather, lat, lon, [pv.PvArray("roof", 500.0, 25.0, 180.0)])["roof"]
    yield_kwh_per_kwp = kw.sum() * 1.0 / 500  # kW x 1 h / kWp
    assert 1000 <= yield_kwh_per_kwp <= 1200  # DESIGN §6: well-oriented Shanghai roofs
    m = derive.pv_yield_measure(
        kw,
        500.0,
        self_consumed_share=0.8,
        import_price_cny_per_kwh=0.62,
        capex_cny_per_kwp=3500.0,
        opex_cny_per_kwp_year=35.0,
        code="pv-roof",
        max_units=8,
    )
    # 1,000 kWp x yield x 0.8 self-consumed, e.g. 1,100 kWh/kWp -> 880 MWh/yr
    assert m.grid_mwh_saved_per_year == pytest.approx(1000 * yield_kwh_per_kwp * 0.8 / 1000)
    # savings = self-consumed kWh x 0.62 CNY/kWh (no export price); capex 1,000 x 3,500; O&M 1,000 x 35
    assert m.savings_cny_per_year == pytest.approx(1000 * yield_kwh_per_kwp * 0.8 * 0.62)
    assert (m.capex_cny, m.opex_cny_per_year, m.max_units) == (3_500_000.0, 35_000.0, 8)
    assert f"{yield_kwh_per_kwp:,.1f} kWh/kWp/yr" in m.source and "80 % self-consumed" in m.assumption
    with pytest.raises(ValidationFailed) as excinfo:
        derive.pv_yield_measure(
            kw.iloc[:100],
            500.0,
            self_consumed_share=1.2,
            import_price_cny_per_kwh=0.62,
            capex_cny_per_kwp=3500.0,
            opex_cny_per_kwp_year=35.0,
            code="pv-roof",
        )
    assert _columns(excinfo) == ["pv-roof: self_consumed_share", "pv-roof: ac_power_kw"]


# -- storage from the sizing -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def battery_case():
    """200 kWp existing PV at 0.25 kW/kWp for 12 h = 50 kW against a 10 kW load, no export allowed."""
    roof = _roof(existing_kwp=200.0, capex_cny_per_kwp=1e6, yield_kw_per_kwp=np.where(DAYLIGHT, 0.25, 0.0))
    inp = _inp(load_kw=np.full(DAY, 10.0), surfaces=[roof], export_limit_kw=0.0, battery=_battery())
    return size_system(inp), inp


def test_battery_abates_through_the_pv_surplus_it_keeps(battery_case):
    sizing, inp = battery_case
    m = derive.storage_measure(sizing, inp, code="battery-100")
    # BAU: 40 kW x 12 h = 480 kWh/day curtailed, the night's 10 kW x 12 h = 120 kWh/day bought
    # the 100 kWh battery (its cap) takes 100 / 0.95 = 105.26 kWh of surplus and gives 100 x 0.95 = 95 kWh at night
    # grid saved 95 kWh x 365 = 34,675 kWh = 34.675 MWh/yr; PV kept 105.26 x 365 = 38,421 kWh
    assert m.grid_mwh_saved_per_year == pytest.approx(34.675)
    assert "keeps 38.421 MWh/yr of PV surplus" in m.source
    # savings 34,675 kWh x 0.8 = 27,740 CNY/yr
    assert m.savings_cny_per_year == pytest.approx(27_740.0)
    # capex 100 kWh x 1,000 + 25 kW (the least, 0.25 kW/kWh) x 200 = 105,000 CNY; O&M 2 % = 2,100 CNY/yr
    assert m.capex_cny == pytest.approx(105_000.0)
    assert m.opex_cny_per_year == pytest.approx(2_100.0)
    assert (m.lifetime_years, m.max_units, m.kind) == (12, 1, "storage")


def test_a_battery_that_only_shifts_grid_energy_is_refused():
    price = np.r_[np.full(12, 0.3), np.full(12, 1.3)]  # arbitrage pays, but there is no PV
    inp = _inp(load_kw=np.full(DAY, 100.0), import_price_cny_per_kwh=price, battery=_battery())
    sizing = size_system(inp)
    assert sizing.battery_kwh == pytest.approx(100.0)
    # its losses add (100 / 0.95 - 95) kWh x 365 = 3.747 MWh/yr of import: no abatement
    with pytest.raises(ValidationFailed, match=r"keeps 0\.000 MWh/yr of PV surplus") as excinfo:
        derive.storage_measure(sizing, inp, code="arbitrage")
    assert _columns(excinfo) == ["arbitrage: grid_mwh_saved_per_year"]
    assert float(excinfo.value.issues[0].value) == pytest.approx(-(100 / 0.95 - 95) * 365 / 1000)


# -- efficiency from M&V ---------------------------------------------------------------------------
def _days(start: str, n_days: int, seed: int, *, cut: float = 0.0, noise_kwh: float = 40.0) -> pd.DataFrame:
    """A park using 1,000 kWh/d + 300 on working days + 50 per K d above 18 degC, less `cut`, with noise."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=n_days, freq="D", tz=TZ, name="day")
    temp_c = 16.5 - 12.5 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 20) / 365) + rng.normal(0, 2, n_days)
    working = np.array([mv.is_working_day(t.date()) for t in days])
    true_kwh = 1000.0 + 300.0 * working + 50.0 * np.maximum(temp_c - 18.0, 0)
    energy = true_kwh * (1 - cut) + rng.normal(0, noise_kwh, n_days)
    return pd.DataFrame({"energy_kwh": energy, "temp_air_c": temp_c}, index=days)


@pytest.fixture(scope="module")
def model() -> mv.BaselineModel:
    return mv.baseline_model(_days("2023-01-01", 365, seed=1))


def test_efficiency_from_a_measured_ten_percent_cut(model):
    report = mv.savings(model, _days("2024-01-01", 366, seed=7, cut=0.10))
    assert report.significant and report.meets_g14_model and report.meets_g14_uncertainty
    m = derive.efficiency_measure(
        report, code="vfd", name="VFDs", price_cny_per_kwh=0.62, capex_cny=150_000.0, lifetime_years=15.0
    )
    # avoided = savings x 365 / 366 reporting days, about 10 % of ~1,250 kWh/d x 365 = ~46 MWh/yr
    assert m.grid_mwh_saved_per_year == pytest.approx(report.savings_kwh * 365 / 366 / 1000)
    assert 40 < m.grid_mwh_saved_per_year < 52
    assert m.savings_cny_per_year == pytest.approx(m.grid_mwh_saved_per_year * 1000 * 0.62)
    assert f"+- {report.uncertainty_kwh:,.0f} kWh at 90 %" in m.source and "Guideline 14" in m.source
    low = derive.efficiency_measure(
        report,
        code="vfd",
        name="VFDs",
        price_cny_per_kwh=0.62,
        capex_cny=150_000.0,
        lifetime_years=15.0,
        conservative=True,
    )
    # the lower end: (savings - uncertainty) x 365 / 366
    assert low.grid_mwh_saved_per_year == pytest.approx(report.lower_kwh * 365 / 366 / 1000)


def test_efficiency_is_refused_without_significant_savings_or_a_guideline_14_baseline(model):
    flat = mv.savings(model, _days("2024-01-01", 366, seed=8))
    with pytest.raises(ValidationFailed) as excinfo:
        derive.efficiency_measure(
            flat, code="bems", name="BEMS", price_cny_per_kwh=0.62, capex_cny=1.0, lifetime_years=10.0
        )
    assert "bems: significant" in _columns(excinfo)
    # noise 400 kWh on ~1,250 kWh/d: CV(RMSE) ~ 32 % > the 25 % limit of a 12-month report
    noisy = mv.baseline_model(_days("2023-01-01", 365, seed=3, noise_kwh=400.0))
    report = mv.savings(noisy, _days("2024-01-01", 366, seed=4, cut=0.3, noise_kwh=400.0))
    assert report.significant and not report.meets_g14_model
    with pytest.raises(ValidationFailed, match="meets_g14_model") as excinfo:
        derive.efficiency_measure(
            report, code="bems", name="BEMS", price_cny_per_kwh=-1.0, capex_cny=1.0, lifetime_years=10.0
        )
    assert _columns(excinfo) == ["bems: price_cny_per_kwh", "bems: meets_g14_model"]


# -- electrification and fuel switch from the factor library ---------------------------------------
@pytest.fixture(scope="module")
def heat_pump():
    return derive.electrification_measure(
        "natural_gas_m3",
        1_000_000.0,
        code="heat-pump",
        name="Heat pump for a gas boiler",
        cop=3.0,
        fuel_efficiency=0.9,
        capex_cny=8_000_000.0,
        opex_cny_per_year=160_000.0,
        lifetime_years=20.0,
        fuel_price_cny_per_unit=3.5,
        electricity_price_cny_per_kwh=0.62,
        ramp_up_years=1,
    )


def test_heat_pump_from_a_gas_quantity(heat_pump):
    m = heat_pump
    # 1e6 Nm3 x 389.31 GJ/10^4 Nm3 = 38,931 GJ x 15.3 tC/TJ / 1000 x 0.99 x 44/12 = 2,162.19 tCO2/yr
    assert m.abatement_tco2e_per_year == pytest.approx(38_931 * 0.0153 * 0.99 * 44 / 12)
    assert m.abatement_tco2e_per_year == pytest.approx(2_162.19, abs=0.01)
    # heat 38,931 GJ x 0.9 = 35,037.9 GJ / 3.6 = 9,732.75 MWh / COP 3 = 3,244.25 MWh/yr more power
    assert m.grid_mwh_saved_per_year == pytest.approx(-3_244.25)
    assert m.fuel_saved_per_year == {"natural_gas_m3": 1_000_000.0}
    # savings: gas 1e6 x 3.5 = 3.5e6 CNY/yr; opex 160,000 + 3,244,250 kWh x 0.62 = 160,000 + 2,011,435
    assert m.savings_cny_per_year == pytest.approx(3_500_000.0)
    assert m.opex_cny_per_year == pytest.approx(2_171_435.0)
    assert m.source.startswith("parkzero.accounting.rules.combustion: 1,000,000 Nm3")
    assert (
        "fuel.natural_gas ncv 389.31 GJ/万Nm3, carbon_content 15.3 tC/TJ, oxidation 0.99 (cn-fuels 2025.1" in m.source
    )
    assert "GB/T 32150-2015" in m.source and "COP 3" in m.assumption and "UNVERIFIED" not in m.assumption


def test_coal_boiler_switched_to_gas():
    m = derive.fuel_switch_measure(
        "coal_t",
        1000.0,
        "natural_gas_m3",
        code="coal-to-gas",
        name="Gas boiler for a coal boiler",
        fuel_efficiency=0.8,
        new_fuel_efficiency=0.9,
        fuel_price_cny_per_unit=1000.0,
        new_fuel_price_cny_per_unit=3.5,
    )
    # coal 1,000 t x 19.57 GJ/t = 19,570 GJ x 26.18 tC/TJ / 1000 x 0.93 x 44/12 = 1,747.09 tCO2
    coal_t = 19_570 * 0.02618 * 0.93 * 44 / 12
    # same heat: 19,570 GJ x 0.8 / 0.9 = 17,395.6 GJ of gas / 0.038931 GJ/Nm3 = 446,830 Nm3
    gas_nm3 = 19_570 * 0.8 / 0.9 / 0.038931
    # gas 446,830 Nm3 x 0.038931 GJ/Nm3 x 15.3 tC/TJ / 1000 x 0.99 x 44/12 = 966.14 tCO2; avoided 780.95
    gas_t = gas_nm3 * 0.038931 * 0.0153 * 0.99 * 44 / 12
    assert m.abatement_tco2e_per_year == pytest.approx(coal_t - gas_t)
    assert m.abatement_tco2e_per_year == pytest.approx(780.95, abs=0.01)
    assert m.fuel_saved_per_year == pytest.approx({"coal_t": 1000.0, "natural_gas_m3": -gas_nm3})
    assert m.grid_mwh_saved_per_year == 0.0
    # savings coal 1,000 x 1,000 = 1e6 CNY/yr; gas bought 446,830 x 3.5 = 1,563,906 CNY/yr in opex
    assert m.savings_cny_per_year == pytest.approx(1_000_000.0)
    assert m.opex_cny_per_year == pytest.approx(gas_nm3 * 3.5)
    assert "cn-fuels-unverified 2015.0 are UNVERIFIED" in m.assumption  # coal is not yet checked
    assert "coal_t taken as bituminous coal" in m.assumption and "read as standard m3 (Nm3)" in m.assumption


def test_factors_given_are_used_and_ambiguous_ones_refused():
    rows = [f for s in shipped_sets() for f in s.rows if s.code == "cn-fuels"]
    own = [dataclasses.replace(f, set_code="park-gas", value=360.0) if f.parameter == "ncv" else f for f in rows]
    own = [f for f in own if f.factor_id == "fuel.natural_gas"]
    m = derive.electrification_measure("natural_gas_m3", 1e6, code="hp", name="HP", cop=3.0, factors=own)
    # the park's own NCV 360 GJ/10^4 Nm3: 36,000 GJ x 0.0153 x 0.99 x 44/12 = 1,999.4 tCO2
    assert m.abatement_tco2e_per_year == pytest.approx(36_000 * 0.0153 * 0.99 * 44 / 12)
    assert "(park-gas 2025.1;" in m.source
    with pytest.raises(ValidationFailed, match="pass one set") as excinfo:
        derive.electrification_measure("natural_gas_m3", 1e6, code="hp", name="HP", cop=3.0, factors=rows + own)
    assert _columns(excinfo) == ["hp: fuel_code"]
    with pytest.raises(ValidationFailed, match="not in the library"):
        derive.electrification_measure("diesel_t", 200.0, code="hp", name="HP", cop=3.0, factors=own)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cop": -3.0}, "cop"),
        ({"cop": 0.0}, "cop"),
        ({"fuel_quantity_per_year": math.nan}, "fuel_quantity_per_year"),
        ({"fuel_quantity_per_year": math.inf}, "fuel_quantity_per_year"),
        ({"fuel_code": "hydrogen_kg"}, "fuel_code"),
        ({"fuel_efficiency": 1.5}, "fuel_efficiency"),
        ({"lifetime_years": 0.0}, "lifetime_years"),
        ({"electricity_price_cny_per_kwh": -0.1}, "electricity_price_cny_per_kwh"),
    ],
)
def test_bad_electrification_input_names_the_measure_and_field(change, field):
    args = {"fuel_code": "natural_gas_m3", "fuel_quantity_per_year": 1e6, "cop": 3.0} | change
    with pytest.raises(ValidationFailed) as excinfo:
        derive.electrification_measure(code="hp", name="HP", **args)
    assert _columns(excinfo) == [f"hp: {field}"]


def test_bad_fuel_switch_reports_every_field():
    with pytest.raises(ValidationFailed) as excinfo:
        derive.fuel_switch_measure("lpg_t", -5.0, "lpg_t", code="sw", name="SW", new_fuel_efficiency=0.0)
    assert _columns(excinfo) == ["sw: new_fuel_code", "sw: fuel_quantity_per_year", "sw: new_fuel_efficiency"]
    assert "sw: new_fuel_code" in str(excinfo.value)


def test_every_fuel_code_has_its_factors():
    for fuel_code in derive.FUEL_FACTOR_IDS:  # the codes the pollutant factors are keyed by
        m = derive.electrification_measure(fuel_code, 100.0, code=f"e-{fuel_code}", name="E", cop=3.0)
        assert m.abatement_tco2e_per_year > 0 and m.fuel_saved_per_year == {fuel_code: 100.0}
    assert set(derive.FUEL_FACTOR_IDS) == {"natural_gas_m3", "coal_t", "diesel_t", "fuel_oil_t", "lpg_t", "coke_t"}


# -- the derived measures in a MACC ----------------------------------------------------------------
def test_derived_measures_validate_and_make_a_macc(pv_block, battery_case, heat_pump):
    battery = derive.storage_measure(*battery_case, code="battery-100")
    measures = [pv_block, battery, heat_pump]
    validate_measures(measures)
    assert GRID_TCO2_PER_MWH == 0.55
    rows = {r.code: r for r in macc(measures, 0.06, 2025, grid_factor_tco2_per_mwh=GRID_TCO2_PER_MWH)}
    # PV: 2 blocks x 131.4 MWh x 0.55 = 144.54 t; 2 x (300,000 x 0.0782267 + 3,000 - 112,320) = -171,704 CNY/yr
    assert rows["pv-100"].abatement_tco2e == pytest.approx(144.54)
    assert rows["pv-100"].cost_cny_per_tco2e == pytest.approx(-171_703.97 / 144.54, abs=0.01)  # -1,187.9
    # battery: 34.675 x 0.55 = 19.071 t; 105,000 x 0.1192770 + 2,100 - 27,740 = -13,115.9 CNY/yr -> -687.7
    assert rows["battery-100"].abatement_tco2e == pytest.approx(19.07125)
    assert rows["battery-100"].cost_cny_per_tco2e == pytest.approx(-687.73, abs=0.01)
    # heat pump: 2,162.19 - 3,244.25 x 0.55 = 2,162.19 - 1,784.34 = 377.85 t;
    # 8e6 x 0.0871846 + 2,171,435 - 3.5e6 = -631,088.5 CNY/yr -> -1,670.2 CNY/t
    assert rows["heat-pump"].abatement_tco2e == pytest.approx(377.85, abs=0.01)
    assert rows["heat-pump"].cost_cny_per_tco2e == pytest.approx(-1_670.20, abs=0.01)
    assert capital_recovery_factor(0.06, 12) == pytest.approx(0.1192770, abs=1e-7)
    # cheapest first, each bar as wide as its abatement
    assert [r.code for r in macc(measures, 0.06, 2025, grid_factor_tco2_per_mwh=0.55)] == [
        "heat-pump",
        "pv-100",
        "battery-100",
    ]
