"""Optimal dispatch: analytic optima, brute force on tiny instances, and bad inputs that must not crash."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from parkzero.energy import dispatch
from parkzero.energy.dispatch import (
    STEP_H,
    Battery,
    DispatchInput,
    EvSession,
    Grid,
    Hvac,
    ShiftableLoad,
    fallback_plan,
    plan,
    self_consumption,
)
from parkzero.errors import ValidationFailed


def steps(n: int, start: str = "2025-07-01 00:00") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="15min", tz="Asia/Shanghai")


def test_battery_arbitrages_one_price_spread():
    # 8 steps at 0.3 CNY/kWh then 8 steps at 1.2 CNY/kWh; load 1,000 kW throughout (never exports)
    # battery 1,000 kWh, 500 kW, SOC 10-90 %, eta 0.95 each way, starts and ends at 100 kWh, no wear cost
    n = 16
    price = np.r_[np.full(8, 0.3), np.full(8, 1.2)]
    bat = Battery("b", 1000.0, 500.0, soc_min_pct=10, soc_max_pct=90, degradation_cny_per_kwh=0.0)
    inp = DispatchInput(steps(n), np.full(n, 1000.0), np.zeros(n), price, batteries=[bat], soc_start_kwh={"b": 100.0})
    p = plan(inp)
    assert p.status == "optimal"
    # usable 800 kWh: charged in the cheap half at 500 kW needs 800 / 0.95 = 842.1 kWh from the grid
    # (6.74 steps of 125 kWh), discharged 800 x 0.95 = 760 kWh into the load in the dear half
    # cost = 8 x 250 kWh x 0.3 + 842.105 x 0.3 + (8 x 250 - 760) x 1.2 = 600 + 252.63 + 1,488 = 2,340.63 CNY
    assert p.costs["energy_cny"] == pytest.approx(600 + 800 / 0.95 * 0.3 + (2000 - 760) * 1.2, rel=1e-6)
    soc = p.frame["battery/b/soc_kwh"]
    assert soc.iloc[7] == pytest.approx(900.0) and soc.iloc[-1] == pytest.approx(100.0)


def test_no_arbitrage_when_the_spread_does_not_pay_the_losses():
    # 1.0 -> 1.05 CNY/kWh: 0.95 x 0.95 x 1.05 = 0.948 < 1.0, so cycling loses money: the battery stays idle
    n = 8
    price = np.r_[np.full(4, 1.0), np.full(4, 1.05)]
    bat = Battery("b", 100.0, 50.0, degradation_cny_per_kwh=0.0)
    p = plan(DispatchInput(steps(n), np.full(n, 100.0), np.zeros(n), price, batteries=[bat], soc_start_kwh={"b": 50}))
    assert p.frame["battery/b/charge_kw"].sum() == pytest.approx(0.0, abs=1e-6)
    assert p.costs["energy_cny"] == pytest.approx(100 * 0.25 * (4 * 1.0 + 4 * 1.05))  # 205 CNY


def test_demand_charge_is_shaved_to_the_known_level():
    # load 1,000 kW with a 2-hour spike to 1,600 kW; flat price, demand charge 40 CNY/kW-month;
    # lossless battery with 600 kWh usable (700 -> 100 kWh) and 500 kW: the spike's 8 steps share 600 kWh,
    # i.e. 300 kW each, so the peak drops to 1,600 - 300 = 1,300 kW; the 600 kWh are recharged at <= 300 kW
    n = 48
    load = np.full(n, 1000.0)
    load[20:28] = 1600.0
    bat = Battery("b", 1000.0, 500.0, eta_charge=1.0, eta_discharge=1.0, soc_min_pct=10, soc_max_pct=70)
    inp = DispatchInput(
        steps(n),
        load,
        np.zeros(n),
        0.5,
        grid=Grid(demand_charge_cny_per_kw_month=40.0),
        batteries=[bat],
        soc_start_kwh={"b": 700.0},
    )
    p = plan(inp)
    assert p.costs["peak_kw"] == pytest.approx(1300.0, abs=1e-4)
    assert p.costs["demand_cny"] == pytest.approx(40 * 1300.0, rel=1e-6)  # 52,000 CNY


def test_peak_already_reached_this_month_is_free():
    # the month's peak is already 1,700 kW: a 1,600 kW spike adds no demand charge, so nothing is shaved
    n = 8
    load = np.r_[np.full(4, 1000.0), np.full(4, 1600.0)]
    bat = Battery("b", 1000.0, 500.0, eta_charge=1.0, eta_discharge=1.0, degradation_cny_per_kwh=0.01)
    grid = Grid(demand_charge_cny_per_kw_month=40.0, peak_so_far_kw=1700.0)
    p = plan(DispatchInput(steps(n), load, np.zeros(n), 0.5, grid=grid, batteries=[bat], soc_start_kwh={"b": 500}))
    assert p.costs["demand_cny"] == 0.0
    assert p.frame["battery/b/discharge_kw"].sum() == pytest.approx(0.0, abs=1e-6)


def _brute_force_cost(load, pv, price, export_price, energy_units, power_units, soc0, shift_energy, shift_window):
    """Enumerate every integer battery move and shiftable-load placement (lossless, 1 unit = 1 kWh per step)."""
    n = len(load)
    best = np.inf
    windows = [t for t in range(n) if shift_window[0] <= t < shift_window[1]]
    placements = [
        p for p in itertools.product(range(0, 3), repeat=len(windows)) if sum(p) == shift_energy
    ]  # shiftable: 0..2 kWh per step
    for moves in itertools.product(range(-power_units, power_units + 1), repeat=n):
        soc = soc0 + np.cumsum(moves)
        if soc.min() < 0 or soc.max() > energy_units or soc[-1] < soc0:
            continue
        for place in placements:
            shift = np.zeros(n)
            shift[windows] = place
            net = load + shift + np.asarray(moves) - pv  # kWh per step
            cost = float(np.sum(np.where(net > 0, net * price, net * export_price)))
            best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_agrees_on_tiny_instances(seed):
    # 5 steps; a lossless 3 kWh battery moving at most 1 kWh per step; a shiftable load of 3 kWh in steps 1-3
    # (at most 2 kWh per step); random prices, export paid at 40 % of the import price. With integral data the
    # LP has an integral optimum (storage and shifting are flows), so the enumeration must find the same cost.
    rng = np.random.default_rng(seed)
    n = 5
    load_kwh = rng.integers(0, 3, n).astype(float)
    pv_kwh = rng.integers(0, 4, n).astype(float)
    price = rng.uniform(0.2, 1.5, n).round(3)
    export_price = 0.4 * price
    expected = _brute_force_cost(load_kwh, pv_kwh, price, export_price, 3, 1, 1, 3, (1, 4))
    to_kw = 1 / STEP_H
    bat = Battery(
        "b",
        3.0,
        1.0 * to_kw,
        eta_charge=1.0,
        eta_discharge=1.0,
        soc_min_pct=0,
        soc_max_pct=100,
        degradation_cny_per_kwh=0,
    )
    shift = ShiftableLoad("s", 3.0, 1, 4, power_max_kw=2.0 * to_kw)
    p = plan(
        DispatchInput(
            steps(n),
            load_kwh * to_kw,
            pv_kwh * to_kw,
            price,
            export_price,
            batteries=[bat],
            shiftable=[shift],
            soc_start_kwh={"b": 1.0},
        )
    )
    got = p.costs["energy_cny"] - p.costs["export_income_cny"]
    assert got == pytest.approx(expected, abs=1e-6)


def test_shiftable_load_and_ev_go_to_the_cheapest_steps():
    # prices fall then rise; a 400 kWh process (window: all 8 steps, <= 800 kW) runs in the 2 cheapest steps;
    # an EV needs 50 kWh between steps 2 and 6 at <= 100 kW: it takes the two cheapest steps of its window
    n = 8
    price = np.array([0.9, 0.8, 0.5, 0.3, 0.2, 0.4, 0.7, 1.0])
    p = plan(
        DispatchInput(
            steps(n),
            np.full(n, 100.0),
            np.zeros(n),
            price,
            shiftable=[ShiftableLoad("mill", 400.0, 0, 8, power_max_kw=800.0)],
            ev_sessions=[EvSession("car", 2, 6, 50.0, 100.0)],
        )
    )
    assert p.frame["shift/mill/kw"].round(6).tolist() == [0, 0, 0, 800, 800, 0, 0, 0]
    assert p.frame["ev/car/kw"].round(6).tolist() == [0, 0, 0, 100, 100, 0, 0, 0]


def test_hvac_precools_before_the_price_rises():
    # a zone with C = 10 kWh/K, UA = 1 kW/K, 30 degC outside, 5 kW gains, band 22-26 degC, COP 4, 40 kW cooling.
    # Holding 26 degC needs 1 x (30 - 26) + 5 = 9 kW thermal = 2.25 kW electric. Cheap first half, dear second
    # half: the optimum cools below 26 while cheap and lets the zone drift up to 26 when dear.
    n = 16
    price = np.r_[np.full(8, 0.2), np.full(8, 1.5)]
    zone = Hvac("z", 40.0, 4.0, 10.0, 1.0, 26.0, 22.0, 26.0, np.full(n, 30.0), np.full(n, 5.0))
    p = plan(DispatchInput(steps(n), np.zeros(n), np.zeros(n), price, hvac=[zone]))
    temp = p.frame["hvac/z/temp_c"]
    assert temp.max() <= 26.0 + 1e-6 and temp.min() >= 22.0 - 1e-6
    assert temp.iloc[7] < 25.0  # pre-cooled
    fb = fallback_plan(DispatchInput(steps(n), np.zeros(n), np.zeros(n), price, hvac=[zone]))
    assert p.costs["energy_cny"] < fb.costs["energy_cny"]  # the thermostat holds 26 degC throughout
    assert fb.frame["hvac/z/kw"].iloc[3] == pytest.approx(9.0 / 4.0)


def test_negative_prices_never_charge_and_discharge_at_once():
    # an export price of -0.5 CNY/kWh with PV surplus: burning energy in battery losses pays, which an LP does
    # by charging and discharging together; the plan is solved again with binaries and does not
    n = 8
    bat = Battery("b", 200.0, 100.0, degradation_cny_per_kwh=0.0)
    inp = DispatchInput(
        steps(n),
        np.full(n, 50.0),
        np.full(n, 400.0),
        0.5,
        -0.5,
        batteries=[bat],
        soc_start_kwh={"b": 100.0},
        soc_end_kwh={"b": 20.0},
    )
    p = plan(inp)
    both = np.minimum(p.frame["battery/b/charge_kw"], p.frame["battery/b/discharge_kw"])
    assert (both <= 1e-6).all()
    assert p.milp or p.frame["pv_curtailed_kw"].sum() > 0


def random_day(seed: int) -> DispatchInput:
    """One structure (a battery, a night process, an EV, a zone), numbers drawn from `seed`."""
    rng = np.random.default_rng(seed)
    n = 96
    return DispatchInput(
        steps(n),
        rng.uniform(500, 1500, n),
        np.clip(np.sin((np.arange(n) / 4 - 6) / 12 * np.pi), 0, None) * rng.uniform(0, 1200),
        rng.uniform(0.2, 1.5, n),
        rng.uniform(0.0, 0.4),
        rng.uniform(0.4, 0.7, n),
        rng.uniform(0, 200),
        Grid(demand_charge_cny_per_kw_month=40.0, peak_so_far_kw=float(rng.uniform(0, 1500))),
        [Battery("b", 800.0, 400.0)],
        [ShiftableLoad("mill", float(rng.uniform(100, 2000)), 0, 32, 600.0)],
        [EvSession("car", 36, 70, float(rng.uniform(10, 60)), 50.0)],
        [
            Hvac(
                "z",
                100.0,
                4.0,
                20.0,
                2.0,
                float(rng.uniform(22, 26)),
                22.0,
                26.0,
                rng.uniform(28, 35, n),
                np.full(n, 10.0),
            )
        ],
        soc_start_kwh={"b": float(rng.uniform(80, 760))},
    )


def test_reused_model_gives_the_same_plans_as_a_fresh_build():
    # plans of one structure share a compiled model whose numbers are replaced; each must equal a fresh build
    reused = [plan(random_day(seed)).costs["total_cny"] for seed in range(5)]
    fresh = []
    for seed in range(5):
        dispatch._TEMPLATES.clear()
        fresh.append(plan(random_day(seed)).costs["total_cny"])
    assert reused == pytest.approx(fresh, rel=1e-7)


def test_self_consumption_rule_arithmetic():
    # surplus 200 kW for 2 steps then 300 kW load for 3 steps; 100 kWh battery, 100 kW, eta 0.9/0.9, 10-90 %
    bat = Battery("b", 100.0, 100.0, eta_charge=0.9, eta_discharge=0.9, soc_min_pct=10, soc_max_pct=90)
    ch, dis, soc = self_consumption(np.array([-200, -200, 300, 300, 300.0]), bat, 10.0)
    # charge 100 kW x 0.25 h x 0.9 = 22.5 kWh per step -> 32.5, 55; discharge 100 kW: 25 / 0.9 = 27.78 kWh
    # per step -> 27.22, then only (27.22 - 10) x 0.9 / 0.25 = 62 kW
    assert ch.tolist() == [100, 100, 0, 0, 0]
    assert soc[1] == pytest.approx(55.0)
    assert dis[2] == pytest.approx(100.0) and dis[3] == pytest.approx((55 - 250 / 9 - 10) * 0.9 / 0.25)
    assert soc[-1] == pytest.approx(10.0)


def test_reserve_is_kept():
    n = 8
    bat = Battery("b", 1000.0, 500.0, reserve_pct=50.0, degradation_cny_per_kwh=0.0)
    price = np.r_[np.full(4, 2.0), np.full(4, 0.1)]
    p = plan(DispatchInput(steps(n), np.full(n, 800.0), np.zeros(n), price, batteries=[bat], soc_start_kwh={"b": 900}))
    assert p.frame["battery/b/soc_kwh"].min() >= 500.0 - 1e-6


# --- bad inputs: a clear error before solving, or a feasible fallback plan; never a crash ------------------


def test_missing_prices_name_the_step():
    price = np.full(8, 0.5)
    price[3] = np.nan
    with pytest.raises(ValidationFailed) as err:
        plan(DispatchInput(steps(8), np.full(8, 10.0), np.zeros(8), price))
    assert "import_price_cny_per_kwh" in str(err.value) and "2025-07-01T00:45:00+08:00" in str(err.value)


def test_soc_outside_limits_is_rejected():
    bat = Battery("bess-1", 100.0, 50.0, soc_min_pct=10, soc_max_pct=90)
    with pytest.raises(ValidationFailed) as err:
        plan(DispatchInput(steps(4), np.full(4, 10.0), np.zeros(4), 0.5, batteries=[bat], soc_start_kwh={"bess-1": 95}))
    assert "battery bess-1.soc_start_kwh" in str(err.value) and "outside the limits" in str(err.value)


def test_infeasible_window_and_import_limit_are_named():
    with pytest.raises(ValidationFailed) as err:
        plan(
            DispatchInput(
                steps(8),
                np.full(8, 1000.0),
                np.zeros(8),
                0.5,
                grid=Grid(import_max_kw=500.0),
                shiftable=[ShiftableLoad("eaf", 5000.0, 2, 4, power_max_kw=1000.0)],
            )
        )
    text = str(err.value)
    assert "shiftable load eaf.energy_kwh" in text and "at most 500.0 kWh" in text
    assert "grid.import_max_kw" in text


def test_forecast_gaps_are_filled_and_said():
    load = np.full(8, 100.0)
    load[2:4] = np.nan
    p = plan(DispatchInput(steps(8), load, np.zeros(8), 0.5))
    assert p.status == "optimal" and p.frame["base_load_kw"].iloc[2] == 100.0
    assert any("base_load_kw: 2 missing steps" in note for note in p.notes)


def test_solver_time_out_gives_the_fallback_plan():
    # a zero time limit stops HiGHS before it has a plan: the safe self-consumption plan comes back instead
    n = 96
    bat = Battery("b", 500.0, 250.0)
    inp = DispatchInput(
        steps(n),
        np.full(n, 300.0),
        np.r_[np.zeros(40), np.full(16, 600.0), np.zeros(40)],
        0.5,
        batteries=[bat],
        soc_start_kwh={"b": 100.0},
        time_limit_s=0.0,
    )
    p = plan(inp)
    assert p.status == "fallback" and p.reason
    assert p.frame["battery/b/charge_kw"].max() > 0  # it stores the midday surplus
    balance = (
        p.frame["grid_import_kw"]
        - p.frame["grid_export_kw"]
        + p.frame["pv_used_kw"]
        + p.frame["battery/b/discharge_kw"]
        - p.frame["battery/b/charge_kw"]
        - p.frame["base_load_kw"]
    )
    assert np.allclose(balance, 0.0)


def test_setpoints_are_signed_powers():
    n = 4
    bat = Battery("b", 100.0, 40.0, degradation_cny_per_kwh=0.0)
    price = np.array([0.1, 0.1, 2.0, 2.0])
    p = plan(DispatchInput(steps(n), np.full(n, 100.0), np.zeros(n), price, batteries=[bat], soc_start_kwh={"b": 50}))
    sp = p.setpoints()["b"]
    assert sp.iloc[0] < 0 < sp.iloc[3]  # charging is negative, discharging positive
