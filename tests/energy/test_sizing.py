"""PV and battery sizing: optima checked by hand, lifecycle finance, constraints, and bad input.

Most cases model one representative day standing for the whole year (24 h x hour_weight 365 = 8760 h), so the
arithmetic fits in a comment: CRF(6 %, 25 yr) = 0.06 x 1.06^25 / (1.06^25 - 1) = 0.0782267 and the annuity factor
1 / CRF = 12.783356.
"""

from __future__ import annotations

import dataclasses
import json

import linopy
import numpy as np
import pytest

from parkzero.energy.sizing import (
    BatteryOption,
    SizingInput,
    Surface,
    capital_recovery_factor,
    discounted_payback_years,
    lifecycle_cost_factors,
    max_renewable_share,
    simple_payback_years,
    size_system,
    tradeoff,
)
from parkzero.errors import ValidationFailed

DAY = 24
CRF = 0.06 * 1.06**25 / (1.06**25 - 1)  # 0.0782267 [1/yr]
DAYLIGHT = (np.arange(DAY) >= 6) & (np.arange(DAY) < 18)  # 12 sunny hours


def _inp(**kw) -> SizingInput:
    """One day for the year: 1,000 kW flat load at 0.8 CNY/kWh, no export price, East China grid factor."""
    base = dict(
        load_kw=np.full(DAY, 1000.0),
        import_price_cny_per_kwh=np.full(DAY, 0.8),
        export_price_cny_per_kwh=0.0,
        demand_charge_cny_per_kw_month=0.0,
        hour_month=np.ones(DAY, dtype=int),
        grid_intensity_tco2_per_kwh=0.00055,  # 0.5500 tCO2/MWh, East China 2023
        surfaces=[],
        hour_weight=365.0,
    )
    return SizingInput(**{**base, **kw})


def _roof(**kw) -> Surface:
    """1,000 m² of roof at the default 0.2 kWp/m² = 200 kWp; 0.15 kW/kWp every hour = 1,314 kWh/kWp/yr."""
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
    """A lossy (95 % each way), full-window battery without wear or opex, lasting the horizon, at most 400 kWh."""
    base = dict(
        capex_cny_per_kwh=1000.0,
        capex_cny_per_kw=200.0,
        opex_share_per_year=0.0,
        lifetime_years=25,
        eta_charge=0.95,
        eta_discharge=0.95,
        soc_min_pct=0.0,
        soc_max_pct=100.0,
        throughput_cost_cny_per_kwh=0.0,
        max_kwh=400.0,
    )
    return BatteryOption(**{**base, **kw})


# -- (a) PV worth it: the optimum is the area limit --------------------------------------------------------------
def test_pv_cheaper_than_grid_fills_the_roof():
    result = size_system(_inp(surfaces=[_roof()], demand_charge_cny_per_kw_month=40.0))
    # LCOE = (3,000 x 0.0782267 + 30) / 1,314 kWh = 264.68 / 1,314 = 0.2014 CNY/kWh < 0.8 -> build all it takes:
    # 1,000 m² x 0.2 kWp/m² = 200 kWp
    assert result.status == "optimal"
    assert result.pv_kwp == {"roof-A": pytest.approx(200.0)}
    plan, bau = result.plan, result.bau
    # 200 kWp x 0.15 = 30 kW < 1,000 kW load: all used on site, nothing exported or curtailed
    assert plan.grid_export_kwh == pytest.approx(0.0, abs=1e-6)
    assert plan.curtailment_kwh == pytest.approx(0.0, abs=1e-6)
    assert result.self_consumption_pct == pytest.approx(100.0)
    # renewable share = 30 / 1,000 = 3.0 %
    assert result.renewable_share_pct == pytest.approx(3.0)
    assert result.self_sufficiency_pct == pytest.approx(3.0)
    # capex 200 x 3,000 = 600,000 CNY; annuity 600,000 x 0.0782267 = 46,936.0 CNY/yr; opex 200 x 30 = 6,000
    assert plan.capex_cny == pytest.approx(600_000.0)
    assert result.costs.capex_annuity_cny == pytest.approx(600_000 * CRF)
    assert result.costs.opex_cny == pytest.approx(6_000.0)
    # energy: (1,000 - 30) kW x 8,760 h x 0.8 = 6,797,760 CNY; BAU 1,000 x 8,760 x 0.8 = 7,008,000
    assert result.costs.energy_cny == pytest.approx(6_797_760.0)
    assert bau.costs.energy_cny == pytest.approx(7_008_000.0)
    # demand charge on the peak of the one month present, standing for 12: 970 x 40 x 12 = 465,600; BAU 480,000
    assert result.costs.demand_charge_cny == pytest.approx(465_600.0)
    assert bau.costs.demand_charge_cny == pytest.approx(480_000.0)
    # CO2: 970 x 8,760 x 0.00055 = 4,673.46 t/yr; BAU 1,000 x 8,760 x 0.00055 = 4,818.0
    assert result.co2_tco2_per_year == pytest.approx(4_673.46)
    assert bau.co2_tco2_per_year == pytest.approx(4_818.0)
    assert bau.pv_kwp == {"roof-A": 0.0}
    assert result.solve_time_s > 0


def test_default_densities_by_kind():
    # 1,000 m² x 0.20 kWp/m² (roof) = 200 kWp; x 0.12 (facade) = 120 kWp; a surveyed layout overrides both
    assert _roof().max_kwp == pytest.approx(200.0)
    assert dataclasses.replace(_roof(), kind="facade").max_kwp == pytest.approx(120.0)
    assert _roof(kwp_per_m2=0.15).max_kwp == pytest.approx(150.0)


# -- (b) PV not worth it: nothing built, the plan is BAU -----------------------------------------------------------
def test_pv_dearer_than_grid_builds_nothing_and_equals_bau():
    result = size_system(_inp(surfaces=[_roof(capex_cny_per_kwp=1e6)]))
    # LCOE = (1e6 x 0.0782267 + 30) / 1,314 = 59.6 CNY/kWh >> 0.8
    assert result.pv_kwp == {"roof-A": 0.0}
    assert result.plan.capex_cny == 0.0
    assert result.costs.total_cny == pytest.approx(result.bau.costs.total_cny)
    assert result.npv_cny == pytest.approx(0.0, abs=1e-6)
    assert result.simple_payback_years is None
    assert result.discounted_payback_years is None


def test_existing_pv_is_sunk_and_counted_in_bau():
    roof = _roof(capex_cny_per_kwp=1e6, existing_kwp=100.0)
    result = size_system(_inp(surfaces=[roof]))
    # 100 kWp existing x 0.15 = 15 kW in both cases; no capex, opex 100 x 30 = 3,000 in both
    assert result.pv_kwp == {"roof-A": pytest.approx(100.0)}
    assert result.plan.pv_new_kwp == {"roof-A": 0.0}
    assert result.bau.pv_kwp == {"roof-A": pytest.approx(100.0)}
    assert result.bau.costs.opex_cny == pytest.approx(3_000.0)
    # energy (1,000 - 15) x 8,760 x 0.8 = 6,902,880 CNY
    assert result.bau.costs.energy_cny == pytest.approx(6_902_880.0)
    assert result.npv_cny == pytest.approx(0.0, abs=1e-6)


def test_surplus_pv_is_exported_up_to_the_limit_and_the_rest_curtailed():
    roof = _roof(capex_cny_per_kwp=1e6, existing_kwp=200.0)
    inp = _inp(load_kw=np.full(DAY, 10.0), surfaces=[roof], export_price_cny_per_kwh=0.4, export_limit_kw=5.0)
    result = size_system(inp)
    # PV 30 kW, load 10 kW: 20 kW surplus, 5 kW may leave -> 5 x 8,760 = 43,800 kWh exported, 15 x 8,760 curtailed
    assert result.plan.grid_export_kwh == pytest.approx(43_800.0)
    assert result.plan.curtailment_kwh == pytest.approx(131_400.0)
    assert result.costs.export_income_cny == pytest.approx(43_800 * 0.4)  # 17,520 CNY
    # generation after curtailment 15 kW x 8,760 = 131,400 kWh; self-consumption (131,400 - 43,800) / 131,400
    assert result.plan.pv_generation_kwh == pytest.approx(131_400.0)
    assert result.self_consumption_pct == pytest.approx(100 * 87_600 / 131_400)
    assert result.renewable_share_pct == pytest.approx(100.0)


def test_export_dearer_than_import_is_netted_hour_by_hour():
    # exporting at 1.0 while importing at 0.8 would be a money pump no meter allows: the 30 kW of PV serve the load
    roof = _roof(capex_cny_per_kwp=1e6, existing_kwp=200.0)
    result = size_system(_inp(surfaces=[roof], export_price_cny_per_kwh=1.0))
    assert result.plan.grid_export_kwh == 0.0
    assert result.costs.energy_cny == pytest.approx(970 * 8760 * 0.8)  # 6,797,760 CNY


# -- (c) battery sized by arbitrage -------------------------------------------------------------------------------
@pytest.mark.parametrize(("capex_cny_per_kwh", "expected_kwh"), [(1000.0, 400.0), (4100.0, 400.0), (4400.0, 0.0)])
def test_battery_arbitrage_is_all_or_nothing_at_the_break_even(capex_cny_per_kwh, expected_kwh):
    price = np.r_[np.full(12, 0.3), np.full(12, 1.3)]  # 12 cheap hours, then 12 dear ones
    inp = _inp(
        load_kw=np.full(DAY, 100.0),
        import_price_cny_per_kwh=price,
        battery=_battery(capex_cny_per_kwh=capex_cny_per_kwh),
    )
    result = size_system(inp)
    # one cycle a day per kWh of capacity: buy 1 / 0.95 kWh at 0.3, save 0.95 kWh at 1.3
    # value = (1.3 x 0.95 - 0.3 / 0.95) x 365 = (1.235 - 0.315789) x 365 = 335.51 CNY/kWh/yr
    # cost = (capex + 0.25 kW/kWh x 200 CNY/kW) x 0.0782267: 1,000 -> 82.14, 4,100 -> 324.64, 4,400 -> 348.11
    # break-even capex = 335.51 / 0.0782267 - 50 = 4,238.95 CNY/kWh
    assert result.battery_kwh == pytest.approx(expected_kwh, abs=1e-6)
    # the cheapest power that fits: 0.25 kW/kWh x 400 kWh = 100 kW (charging 421 kWh in 12 h needs only 35 kW)
    assert result.battery_kw == pytest.approx(expected_kwh / 4, abs=1e-6)
    bau_energy = 100 * 12 * (0.3 + 1.3) * 365  # 700,800 CNY
    assert result.bau.costs.energy_cny == pytest.approx(bau_energy)
    if expected_kwh:
        # cheap: 1,200 + 400 / 0.95 = 1,621.05 kWh; dear: 1,200 - 400 x 0.95 = 820 kWh
        # (0.3 x 1,621.05 + 1.3 x 820) x 365 = 1,552.32 x 365 = 566,595.26 CNY
        plan_energy = (0.3 * (1200 + 400 / 0.95) + 1.3 * 820) * 365
        assert result.costs.energy_cny == pytest.approx(plan_energy, rel=1e-9)
        assert result.annual_saving_cny == pytest.approx(bau_energy - plan_energy, rel=1e-9)  # 134,204.74
        assert result.plan.capex_cny == pytest.approx(400 * capex_cny_per_kwh + 100 * 200)
        soc = result.plan.hourly["battery_soc_kwh"]
        assert soc.max() == pytest.approx(400.0)
        assert result.plan.battery_discharge_kwh == pytest.approx(380 * 365)  # 400 x 0.95 a day
    else:
        assert result.costs.total_cny == pytest.approx(result.bau.costs.total_cny)


def test_battery_replacement_and_residual_value_enter_the_annual_cost():
    price = np.r_[np.full(12, 0.3), np.full(12, 1.3)]
    inp = _inp(load_kw=np.full(DAY, 100.0), import_price_cny_per_kwh=price, battery=_battery(lifetime_years=10))
    result = size_system(inp)
    # 10-year life: new at 0, 10, 20 (replacements at 0.6 x capex), the last one half-used at year 25
    # lifecycle per CNY = 1 + 0.6 / 1.06^10 + 0.6 / 1.06^20 - 0.5 x 0.6 / 1.06^25 = 1 + 0.522120 - 0.069900
    # cost per kWh = 1,050 x 0.0782267 x 1.452220 = 119.28 < 335.51 -> still 400 kWh / 100 kW, capex 420,000
    assert result.battery_kwh == pytest.approx(400.0)
    assert result.costs.replacement_annuity_cny == pytest.approx(420_000 * 0.5221197 * CRF)  # 17,154.36
    assert result.costs.residual_value_annuity_cny == pytest.approx(-420_000 * 0.0698996 * CRF)  # -2,296.57


# -- (d) NPV and payback arithmetic -------------------------------------------------------------------------------
def test_finance_functions_on_hand_examples():
    # CRF = r (1 + r)^n / ((1 + r)^n - 1) = 0.06 x 4.291871 / 3.291871 = 0.0782267; r = 0 -> 1 / n
    assert capital_recovery_factor(0.06, 25) == pytest.approx(0.0782267, abs=1e-7)
    assert capital_recovery_factor(0.0, 10) == pytest.approx(0.1)
    # replacements 0.6 / 1.06^10 + 0.6 / 1.06^20 = 0.335037 + 0.187083 = 0.522120;
    # residual 0.6 x (30 - 25) / 10 / 1.06^25 = 0.3 x 0.232999 = 0.069900
    replacements, residual = lifecycle_cost_factors(10, 25, 0.06, 0.6)
    assert replacements == pytest.approx(0.522120, abs=1e-6)
    assert residual == pytest.approx(0.069900, abs=1e-6)
    # a 30-year asset over 25 years: no replacement, 5 / 30 of it left: 0.166667 / 1.06^25 = 0.038833
    assert lifecycle_cost_factors(30, 25, 0.06) == pytest.approx((0.0, 0.038833), abs=1e-6)
    assert lifecycle_cost_factors(25, 25, 0.06) == (0.0, 0.0)
    # simple payback 600,000 / 204,240 = 2.9377 yr
    assert simple_payback_years(600_000, 204_240) == pytest.approx(2.937720, abs=1e-6)
    assert simple_payback_years(600_000, -1.0) is None
    # discounted: capex 1,000, saving 300/yr, a 600 replacement in year 3 (r = 6 %)
    # year:  1: +283.02 -> -716.98   2: +267.00 -> -449.98   3: (300 - 600) / 1.191016 = -251.89 -> -701.87
    #        4: +237.63 -> -464.24   5: +224.18 -> -240.06   6: +211.49 -> -28.57   7: +199.52 -> crosses
    # payback = 6 + 28.57 / 199.52 = 6.1432 yr
    assert discounted_payback_years(1000, 300, 0.06, 25, {3: 600}) == pytest.approx(6.143217, abs=1e-6)
    assert discounted_payback_years(1000, 10, 0.06, 25) is None  # 10 x 12.78 = 127.8 < 1,000


def test_npv_and_paybacks_of_a_sized_plan():
    result = size_system(_inp(surfaces=[_roof()], demand_charge_cny_per_kw_month=40.0))
    # operating saving = BAU (7,008,000 + 480,000) - plan (6,797,760 + 465,600 + 6,000 opex) = 218,640 CNY/yr
    assert result.annual_saving_cny == pytest.approx(218_640.0)
    # NPV = 218,640 x 12.783356 - 600,000 = 2,794,953 - 600,000 = 2,194,953 CNY
    assert result.npv_cny == pytest.approx(218_640 / CRF - 600_000)
    assert result.npv_cny == pytest.approx(2_194_953.0, abs=1.0)
    # the same as the difference of the two lifecycle costs (annual totals / CRF)
    assert result.npv_cny == pytest.approx((result.bau.costs.total_cny - result.costs.total_cny) / CRF)
    assert result.plan.lifecycle_cost_cny == pytest.approx(result.costs.total_cny / CRF)
    # simple payback 600,000 / 218,640 = 2.7442 yr; discounted: sum_{1..3} 1.06^-y = 2.673012 < 2.744237, so
    # 3 + (2.744237 - 2.673012) x 1.06^4 = 3 + 0.071225 x 1.262477 = 3.0899 yr
    assert result.simple_payback_years == pytest.approx(2.744237, abs=1e-6)
    assert result.discounted_payback_years == pytest.approx(3.089920, abs=1e-6)
    json.dumps(result.as_dict())  # what the API sends is plain JSON
    assert len(result.as_dict(hourly=True)["plan"]["hourly"]["grid_import_kw"]) == DAY


# -- (e) a binding renewable share, and the trade-off curve --------------------------------------------------------
def _sunny_day(capex_cny_per_kwp: float = 12_000.0, **kw) -> SizingInput:
    """100 kW flat load; PV at 0.25 kW/kWp for 12 h = 3 kWh/kWp/day = 1,095 kWh/kWp/yr, at 12,000 CNY/kWp.

    PV per kWp costs 12,000 x 0.0782267 + 30 = 968.72 CNY/yr and saves 1,095 x 0.8 = 876.00: not worth it alone.
    2,500 m² of roof take 500 kWp; no export price, no battery: PV can cover the 12 daylight hours only = 50 %.
    """
    roof = _roof(area_m2=2500.0, yield_kw_per_kwp=np.where(DAYLIGHT, 0.25, 0.0), capex_cny_per_kwp=capex_cny_per_kwp)
    return _inp(load_kw=np.full(DAY, 100.0), surfaces=[roof], **kw)


def test_renewable_share_binds_and_cost_rises_monotonically():
    free = size_system(_sunny_day())
    assert free.pv_kwp == {"roof-A": 0.0}
    shares = [0.1, 0.2, 0.3, 0.4]
    curve = tradeoff(_sunny_day(), shares)
    assert [p.constraints["min_renewable_share"] for p in curve] == shares
    # a share s of 2,400 kWh/day needs 2,400 s / 3 = 800 s kWp: 80, 160, 240, 320 kWp
    assert [p.pv_kwp["roof-A"] for p in curve] == pytest.approx([80.0, 160.0, 240.0, 320.0])
    assert [p.renewable_share_pct for p in curve] == pytest.approx([10.0, 20.0, 30.0, 40.0])
    totals = [free.costs.total_cny] + [p.costs.total_cny for p in curve]
    assert all(a < b for a, b in zip(totals, totals[1:], strict=False))
    # each point costs 800 s x (968.72 - 876.00) = 74,176 s CNY/yr more than BAU: 741.76 CNY/yr per point of share
    for share, point in zip(shares, curve, strict=True):
        assert point.costs.total_cny - point.bau.costs.total_cny == pytest.approx(800 * share * 92.7206, rel=1e-5)
        assert point.marginal_cost["min_renewable_share"] == pytest.approx(741.765, rel=1e-5)
        assert point.npv_cny < 0  # bought for the share, not for the money
    single = size_system(_sunny_day(min_renewable_share=0.3))
    assert single.pv_kwp["roof-A"] == pytest.approx(240.0)
    assert single.costs.total_cny == pytest.approx(curve[2].costs.total_cny)


def test_co2_cap_and_budget_bind():
    # BAU emits 100 x 8,760 x 0.00055 = 481.8 tCO2/yr; a cap of 400 needs 81.8 / 481.8 = 16.98 % from PV:
    # 0.16978 x 800 = 135.82 kWp
    capped = size_system(_sunny_day(max_co2_tco2_per_year=400.0))
    assert capped.co2_tco2_per_year == pytest.approx(400.0)
    assert capped.pv_kwp["roof-A"] == pytest.approx(800 * 81.8 / 481.8)
    # each tCO2 avoided costs 92.7206 CNY/yr per kWp / (1,095 kWh x 0.00055 t/kWh) = 153.95 CNY/tCO2
    assert capped.marginal_cost["max_co2_tco2_per_year"] == pytest.approx(92.7206 / (1095 * 0.00055), rel=1e-5)
    # a budget of 600,000 CNY would buy 50 kWp at 12,000 CNY/kWp, but that PV does not pay: it stays unspent
    assert size_system(_sunny_day(budget_cny=600_000.0)).pv_kwp["roof-A"] == 0.0
    # at 3,000 CNY/kWp PV pays ((3,000 x 0.0782267 + 30) / 1,095 = 0.242 < 0.8 CNY/kWh), and the budget caps it at
    # 600,000 / 3,000 = 200 of the 400 kWp the daytime load could use
    cheap = _sunny_day(capex_cny_per_kwp=3000.0, budget_cny=600_000.0)
    capped_budget = size_system(cheap)
    assert capped_budget.pv_kwp["roof-A"] == pytest.approx(200.0)
    assert capped_budget.plan.capex_cny == pytest.approx(600_000.0)
    assert capped_budget.marginal_cost["budget_cny"] > 0


# -- (f) an unreachable constraint names itself --------------------------------------------------------------------
def test_unreachable_renewable_share_says_which_and_how_far():
    assert max_renewable_share(_sunny_day()) == pytest.approx(0.5)
    with pytest.raises(ValidationFailed) as caught:
        size_system(_sunny_day(min_renewable_share=0.6))
    # 500 kWp could make 125 kW at noon, but the 100 kW load takes only 100 kW for 12 of 24 hours: 50 %
    message = str(caught.value)
    assert "min_renewable_share" in message and "at most 50.0 %" in message and "asked 60.0 %" in message
    assert [i.column for i in caught.value.issues] == ["min_renewable_share"]
    with pytest.raises(ValidationFailed, match="min_renewable_share 0.6"):
        tradeoff(_sunny_day(), [0.2, 0.6])


def test_unreachable_targets_within_a_budget_and_co2_cap():
    # 800,000 CNY buys 66.67 kWp = 200 kWh/day of 2,400: 8.3 %
    with pytest.raises(ValidationFailed) as caught:
        size_system(_sunny_day(min_renewable_share=0.2, budget_cny=800_000.0))
    assert "budget_cny 800000" in str(caught.value) and "at most 8.3 %" in str(caught.value)
    # at best half the 481.8 tCO2/yr: 240.9
    with pytest.raises(ValidationFailed) as caught:
        size_system(_sunny_day(max_co2_tco2_per_year=200.0))
    assert "max_co2_tco2_per_year" in str(caught.value) and "240.9 tCO2/yr" in str(caught.value)


def test_grid_too_small_for_the_load_names_the_import_limit():
    with pytest.raises(ValidationFailed, match="import_limit_kw"):
        size_system(_sunny_day(import_limit_kw=50.0))  # 100 kW load at night, no battery


# -- (g) bad input ---------------------------------------------------------------------------------------------
def _bad(field: str):
    roof, battery = _roof(), _battery()
    cases = {
        "load_kw": dict(load_kw=np.full(100, 1.0)),  # 100 h x 365 != 8,760 h
        "import_price_cny_per_kwh": dict(import_price_cny_per_kwh=np.full(23, 0.8)),
        "export_price_cny_per_kwh": dict(export_price_cny_per_kwh=np.r_[np.full(23, 0.4), np.nan]),
        "hour_month": dict(hour_month=np.full(DAY, 13)),
        "surfaces[roof-A].area_m2": dict(surfaces=[dataclasses.replace(roof, area_m2=-5.0)]),
        "surfaces[roof-A].yield_kw_per_kwp": dict(surfaces=[dataclasses.replace(roof, yield_kw_per_kwp=np.ones(8760))]),
        "surfaces[roof-A].existing_kwp": dict(surfaces=[dataclasses.replace(roof, existing_kwp=250.0)]),
        "surfaces[roof-A].kind": dict(surfaces=[dataclasses.replace(roof, kind="wall")]),
        "surfaces[roof-A].code": dict(surfaces=[roof, roof]),
        "battery.soc_max_pct": dict(battery=dataclasses.replace(battery, soc_min_pct=90.0, soc_max_pct=20.0)),
        "battery.eta_charge": dict(battery=dataclasses.replace(battery, eta_charge=1.2)),
        "min_renewable_share": dict(min_renewable_share=60),
        "discount_rate": dict(discount_rate=6),
    }
    return cases[field]


@pytest.mark.parametrize(
    "field",
    [
        "load_kw",
        "import_price_cny_per_kwh",
        "export_price_cny_per_kwh",
        "hour_month",
        "surfaces[roof-A].area_m2",
        "surfaces[roof-A].yield_kw_per_kwp",
        "surfaces[roof-A].existing_kwp",
        "surfaces[roof-A].kind",
        "surfaces[roof-A].code",
        "battery.soc_max_pct",
        "battery.eta_charge",
        "min_renewable_share",
        "discount_rate",
    ],
)
def test_bad_input_is_rejected_naming_the_field(field):
    with pytest.raises(ValidationFailed) as caught:
        size_system(_inp(**_bad(field)))
    assert field in str(caught.value)
    assert field in [i.column for i in caught.value.issues]


def test_bad_input_says_why():
    with pytest.raises(ValidationFailed) as caught:
        size_system(_inp(import_price_cny_per_kwh=np.r_[np.full(23, 0.8), np.nan]))
    assert "1 missing or infinite value(s), first at hour 23" in str(caught.value)
    with pytest.raises(ValidationFailed) as caught:
        size_system(_inp(load_kw=np.full(8760, 1.0)))  # a full year, but hour_weight still 365
    assert "with hour_weight 365 a year needs 24" in str(caught.value)
    with pytest.raises(ValidationFailed, match="did you mean 0.6"):
        size_system(_inp(min_renewable_share=60))
    with pytest.raises(ValidationFailed, match=r"renewable_shares\[1\]"):
        tradeoff(_inp(), [0.1, -0.2])


# -- linopy ------------------------------------------------------------------------------------------------------
def test_same_result_under_linopy_v1_arithmetic():
    price = np.r_[np.full(12, 0.3), np.full(12, 1.3)]
    inp = _inp(
        load_kw=np.full(DAY, 100.0),
        import_price_cny_per_kwh=price,
        battery=_battery(),
        surfaces=[_roof(yield_kw_per_kwp=np.where(DAYLIGHT, 0.25, 0.0))],
        demand_charge_cny_per_kw_month=40.0,
    )
    legacy = size_system(inp)
    with linopy.options:  # restores the global setting on exit
        linopy.options["semantics"] = "v1"
        v1 = size_system(inp)
    assert v1.costs.total_cny == pytest.approx(legacy.costs.total_cny, rel=1e-9)
    assert v1.battery_kwh == pytest.approx(legacy.battery_kwh)


# -- a full year ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_full_year_with_ten_surfaces_solves():
    hours = np.arange(8760)
    hour, day = hours % 24, hours // 24
    rng = np.random.default_rng(7)
    sun = np.clip(np.cos((hour + 0.5 - 12) / 12 * np.pi), 0, None) * np.repeat(rng.uniform(0.3, 1.0, 365), 24)
    surfaces = [
        Surface(
            code=f"s{i}",
            kind="roof" if i < 7 else "facade",
            area_m2=rng.uniform(3000, 12000),
            yield_kw_per_kwp=sun * rng.uniform(0.4, 0.9),
            capex_cny_per_kwp=3200.0 if i < 7 else 4500.0,
            opex_cny_per_kwp_year=40.0,
        )
        for i in range(10)
    ]
    peak = ((hour >= 8) & (hour < 11)) | ((hour >= 18) & (hour < 21))
    valley = (hour >= 22) | (hour < 6)
    inp = SizingInput(
        load_kw=8000 + 3000 * ((hour >= 8) & (hour < 20) & (day % 7 < 5)),
        import_price_cny_per_kwh=0.65 * np.where(peak, 1.6, np.where(valley, 0.5, 1.0)),
        export_price_cny_per_kwh=0.4155,
        demand_charge_cny_per_kw_month=40.0,
        hour_month=np.minimum(day // 31 + 1, 12),
        grid_intensity_tco2_per_kwh=0.00055,
        carbon_price_cny_per_tco2=80.0,
        surfaces=surfaces,
        battery=BatteryOption(capex_cny_per_kwh=900.0, capex_cny_per_kw=300.0, max_kwh=40_000.0),
        export_limit_kw=5000.0,
    )
    result = size_system(inp)  # its time is bench/energy.py's sizing_year_s
    assert result.status == "optimal"
    assert all(0 <= result.pv_kwp[s.code] <= s.max_kwp + 1e-6 for s in surfaces)
    assert len(result.plan.hourly["grid_import_kw"]) == 8760


def test_solver_options_reach_highs():
    result = size_system(_inp(surfaces=[_roof()]), solver_options={"solver": "ipm"})
    assert result.pv_kwp == {"roof-A": pytest.approx(200.0)}
    with pytest.raises(ValueError, match="no_such_option"):
        size_system(_inp(surfaces=[_roof()]), solver_options={"no_such_option": 1})
