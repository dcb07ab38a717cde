"""Islanded survival of the park's critical load: hand-derived outages, sweeps, bad weather and bad inputs."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from parkzero.energy.dispatch import Battery, self_consumption
from parkzero.energy.resilience import (
    Generator,
    LoadTier,
    bad_weather,
    islanded,
    outage_sweep,
    resilience_report,
    step_start_soc,
)
from parkzero.errors import ValidationFailed

N_DAY = 96


def bess(code: str = "b", **kw) -> Battery:
    # 1,000 kWh, 500 kW, SOC 10-95 %, eta 0.95 each way (the dispatch defaults)
    return Battery(code, 1000.0, kw.pop("power_kw", 500.0), **kw)


def critical(kw: float = 100.0, n: int = N_DAY) -> LoadTier:
    return LoadTier("critical", np.full(n, kw), sheddable=False)


def steps(n: int, start: str = "2024-07-01 00:00") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="15min", tz="Asia/Shanghai")


# (a) ------------------------------------------------------------------------------------------ battery only


def test_battery_alone_carries_the_critical_load_for_whole_steps():
    # usable 900 - 100 (soc_min 10 %) = 800 kWh stored; x eta_discharge 0.95 = 760 kWh deliverable
    # 100 kW critical = 25 kWh per 15-minute step: 760 / 25 = 30.4 steps = 7.6 h of energy, but only 30 whole
    # steps are fully served (750 kWh); the 31st step finds 10 kWh (40 kW) and fails: it does not count -> 7.5 h
    r = islanded([critical()], None, [bess()], {"b": 900.0}, start_step=0, max_steps=40)
    assert r.survived_steps == 30
    assert r.survivable_hours == 7.5
    assert not r.capped and r.failed_step == 30
    # blackout from step 30 to 40: 10 steps x 25 kWh = 250 kWh unserved, 2.5 h
    assert r.unserved_kwh == {"critical": pytest.approx(250.0)}
    assert r.blackout_hours == 2.5
    # SOC at the end of the last served step: 900 - 30 x 25 / 0.95 = 110.53 kWh (10 kWh deliverable left)
    assert r.soc_kwh["b"][-1] == pytest.approx(900 - 30 * 25 / 0.95)
    assert len(r.soc_kwh["b"]) == 30
    assert "not counted" in r.summary()


def test_outage_shorter_than_the_survival_is_capped_and_says_so():
    # 760 kWh deliverable covers 30 steps; an outage of 20 steps (5 h) is survived whole: capped, not failed
    r = islanded([critical()], None, [bess()], {"b": 900.0}, start_step=0, max_steps=20)
    assert r.survivable_hours == 5.0 and r.capped and r.capped_by == "max_steps"
    assert r.unserved_kwh == {"critical": 0.0} and r.blackout_hours == 0.0
    assert "capped" in r.summary() and "at least" in r.summary()
    # without wrapping, an outage starting 8 steps before the end of a 96-step record stops there (2 h)
    r = islanded([critical()], None, [bess()], {"b": 900.0}, start_step=88, max_steps=20, wrap=False)
    assert r.survivable_hours == 2.0 and r.capped_by == "end of record"


def test_two_batteries_pool_their_energy():
    # two batteries of (a): 2 x 760 = 1,520 kWh deliverable / 25 kWh per step = 60.8 -> 60 steps = 15 h
    r = islanded([critical()], None, [bess("b1"), bess("b2")], {"b1": 900.0, "b2": 900.0}, 0, 80)
    assert r.survivable_hours == 15.0
    # shared in proportion to what each can deliver: both end at the same SOC, 900 - 30 x 25 / 0.95
    assert r.soc_kwh["b1"][-1] == pytest.approx(r.soc_kwh["b2"][-1]) == pytest.approx(900 - 750 / 0.95)


def test_generator_runs_after_the_battery_until_its_fuel_is_gone():
    # generator alone: 400 kWh of fuel x 0.25 efficiency = 100 kWh electric = 4 steps of 25 kWh -> 1.0 h
    gen = Generator(power_kw=150.0, efficiency=0.25, fuel_kwh=400.0)
    r = islanded([critical()], None, [], {}, 0, 20, generator=gen)
    assert r.survivable_hours == 1.0 and r.fuel_used_kwh == pytest.approx(400.0)
    # battery + generator: 760 + 100 = 860 kWh / 25 = 34.4 -> 34 steps = 8.5 h (battery 30 steps, then 1 step
    # shared 40 kW battery + 60 kW generator, then 3 generator steps, 10 kWh left over)
    r = islanded([critical()], None, [bess()], {"b": 900.0}, 0, 40, generator=gen)
    assert r.survivable_hours == 8.5
    assert r.generator_kwh == pytest.approx(15 + 3 * 25)  # 90 kWh electric, 360 kWh of fuel
    # 100 L of diesel x 0.84 kg/L x 42.652 GJ/t / 3.6 = 995.2 kWh of fuel
    assert Generator(100.0, fuel_litres=100.0).fuel_energy_kwh == pytest.approx(100 * 0.84 * 42.652 / 3.6)


def test_pv_surplus_charges_the_battery_and_the_rest_is_curtailed():
    # PV 300 kW, load 100 kW: surplus 200 kW. Battery at 900 kWh, ceiling 950 (95 %): room 50 / (0.95 x 0.25)
    # = 210.5 kW, so all 200 kW are stored (+47.5 kWh -> 947.5); next step room 2.5 / 0.2375 = 10.53 kW
    n = 4
    r = islanded([critical(n=n)], np.full(n, 300.0), [bess()], {"b": 900.0}, 0, 2)
    assert r.pv_used_kw[0] == pytest.approx(300.0) and r.pv_curtailed_kw[0] == pytest.approx(0.0)
    assert r.soc_kwh["b"][0] == pytest.approx(947.5)
    assert r.pv_curtailed_kw[1] == pytest.approx(200.0 - 2.5 / 0.2375)
    assert r.soc_kwh["b"][1] == pytest.approx(950.0)


# (b) ------------------------------------------------------------------------------------------ load shedding


def test_shedding_at_a_soc_threshold_extends_survival():
    # critical 100 kW + sheddable "process" 100 kW, battery of (a): 760 kWh deliverable
    proc = LoadTier("process", np.full(N_DAY, 100.0), priority=1, shed_below_soc_pct=50.0)
    r = islanded([critical(), proc], None, [bess()], {"b": 900.0}, 0, 40)
    # both served (200 kW = 50 kWh per step) while SOC >= 500 kWh (50 % of 1,000): SOC after k steps is
    # 900 - k x 50 / 0.95 = 900 - 52.63 k, >= 500 for k <= 7 -> 8 steps (2 h), 400 kWh delivered
    # then critical only: (760 - 400) / 25 = 14.4 -> 14 steps (3.5 h); total 22 steps = 5.5 h
    assert r.survivable_hours == 5.5
    assert r.shed_hours == {"process": 3.5}
    # process unserved: 14 shed steps + 18 blackout steps (22..39) = 32 x 25 kWh = 800 kWh
    # critical unserved: 18 blackout steps x 25 kWh = 450 kWh
    assert r.unserved_kwh == {"critical": pytest.approx(450.0), "process": pytest.approx(800.0)}

    # the same tier treated as critical: 200 kW from 760 kWh -> 760 / 50 = 15.2 -> 15 steps = 3.75 h
    both = [critical(), LoadTier("process", np.full(N_DAY, 100.0), sheddable=False)]
    assert islanded(both, None, [bess()], {"b": 900.0}, 0, 40).survivable_hours == 3.75
    # shed only when it cannot be carried (threshold 0): it runs until the energy is gone and is shed in step 15,
    # when 10 kWh are left; the critical 25 kWh no longer fit either -> also 3.75 h: shedding too late saves nothing
    late = LoadTier("process", np.full(N_DAY, 100.0), priority=1)
    r = islanded([critical(), late], None, [bess()], {"b": 900.0}, 0, 40)
    assert r.survivable_hours == 3.75 and r.shed_hours == {"process": 0.0}
    # shed for the whole outage (threshold 100 %): the critical load alone, as in (a) -> 7.5 h
    first = LoadTier("process", np.full(N_DAY, 100.0), priority=1, shed_below_soc_pct=100.0)
    r = islanded([critical(), first], None, [bess()], {"b": 900.0}, 0, 40)
    assert r.survivable_hours == 7.5 and r.shed_hours == {"process": 7.5}


def test_shedding_when_the_battery_power_is_short():
    # battery limited to 150 kW: 100 + 100 kW = 200 kW never fits, so "process" is shed in every step and the
    # critical load lasts 760 / 25 -> 30 steps = 7.5 h; as a critical tier it would fail in the first step
    b = bess(power_kw=150.0)
    proc = LoadTier("process", np.full(N_DAY, 100.0), priority=1)
    r = islanded([critical(), proc], None, [b], {"b": 900.0}, 0, 40)
    assert r.survivable_hours == 7.5 and r.shed_hours == {"process": 7.5}
    as_critical = [critical(), LoadTier("process", np.full(N_DAY, 100.0), sheddable=False)]
    assert islanded(as_critical, None, [b], {"b": 900.0}, 0, 40).survivable_hours == 0.0


def test_lowest_priority_is_shed_first_and_never_runs_while_a_higher_tier_is_off():
    # battery 180 kW: critical 100 + hvac (priority 2) 50 = 150 kW fits, + offices (priority 1) 50 = 200 does not
    b = bess(power_kw=180.0)
    hvac = LoadTier("hvac", np.full(N_DAY, 50.0), priority=2)
    offices = LoadTier("offices", np.full(N_DAY, 50.0), priority=1)
    r = islanded([critical(), offices, hvac], None, [b], {"b": 900.0}, 0, 4)
    assert r.shed_hours == {"offices": 1.0, "hvac": 0.0}
    # process (priority 2, 100 kW) does not fit (200 > 180): it is shed, and offices (priority 1) with it although
    # 100 + 50 = 150 kW would fit: a lower-priority tier never runs while a higher one is shed
    proc = LoadTier("process", np.full(N_DAY, 100.0), priority=2)
    r = islanded([critical(), offices, proc], None, [b], {"b": 900.0}, 0, 4)
    assert r.shed_hours == {"offices": 1.0, "process": 1.0}


# (c) ------------------------------------------------------------------------------------------ PV and weather


def summer_fortnight(dark_days: tuple[int, ...] = (7, 8, 9)) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """14 days of July 2024: PV a half sine 06:00-18:00 peaking at 500 kW; the given days (0-based) dark."""
    idx = steps(14 * N_DAY)
    hour = np.asarray(idx.hour + idx.minute / 60.0)
    pv = 500.0 * np.clip(np.sin(np.pi * (hour - 6.0) / 12.0), 0.0, None)
    for d in dark_days:
        pv[d * N_DAY : (d + 1) * N_DAY] = 0.0
    return idx, pv


def big_battery() -> Battery:
    # 2,000 kWh, 1,000 kW, SOC 10-95 %: start 1,800 kWh -> (1,800 - 200) x 0.95 = 1,520 kWh deliverable
    return Battery("b", 2000.0, 1000.0)


def test_pv_that_covers_the_day_gives_multi_day_survival_and_bad_weather_less():
    idx, pv = summer_fortnight()
    crit = critical(100.0, len(idx))
    # summer: day PV 500 x 24/pi = 3,820 kWh >> 1,200 kWh of load, the battery refills to 1,900 kWh; a night
    # (18:00-06:00 plus twilight) needs about 1,350 kWh < (1,900 - 200) x 0.95 = 1,615 kWh: survives every day
    r = islanded([crit], pv, [big_battery()], {"b": 1800.0}, 0, 3 * N_DAY)
    assert r.capped and r.survivable_hours == 72.0
    assert r.pv_curtailed_kwh > 0  # a full battery cannot take the midday surplus

    res = bad_weather(pv, idx, 3, tiers=[crit], batteries=[big_battery()], soc_start_kwh={"b": 1800.0})
    w = res.worst
    assert (w.first_day.isoformat(), w.last_day.isoformat()) == ("2024-07-08", "2024-07-10")
    assert w.pv_kwh == 0.0
    # dark days: 1,520 kWh / 25 kWh per step = 60.8 -> 60 steps = 15 h, from 00:00 on 8 July
    assert w.result.survivable_hours == 15.0 and not w.result.capped
    assert w.result.start_time == pd.Timestamp("2024-07-08 00:00", tz="Asia/Shanghai")
    # normal = mean over the 12 three-day spells: 12 spells x 3 days = 36 spell-days of which 9 are dark,
    # so mean = 27 / 12 x one day's PV (500 x 0.25 x cot(pi/96) = 3,819.2 kWh)
    day_kwh = pv[:N_DAY].sum() * 0.25
    assert w.pv_normal_kwh == pytest.approx(27 / 12 * day_kwh)
    assert "2024-07-08 to 2024-07-10" in res.summary()


def test_scaled_pv_spell():
    idx, pv = summer_fortnight()
    crit = critical(100.0, len(idx))
    kw = dict(tiers=[crit], batteries=[big_battery()], soc_start_kwh={"b": 1800.0})
    # PV at 100 % over the median spell (1-3 July, typical weather): survives the 72 h
    assert bad_weather(pv, idx, 3, pv_scale_pct=100.0, **kw).scaled.result.capped
    # PV at 0 % from 2 July: as the dark spell, 15 h
    s = bad_weather(pv, idx, 3, pv_scale_pct=0.0, scaled_start="2024-07-02", **kw).scaled
    assert s.first_day.isoformat() == "2024-07-02" and s.result.survivable_hours == 15.0
    # PV at 20 % (peak 100 kW, never above the load): night 00:00-06:00 takes 600 kWh; the day's PV is
    # 0.2 x 3,819.2 = 763.8 kWh against 1,200 kWh of load -> 436.2 kWh; 1,520 - 1,036.2 = 483.8 kWh left at
    # 18:00 = 19.35 steps -> 19 steps; 24 + 48 + 19 = 91 steps = 22.75 h
    s = bad_weather(pv, idx, 3, pv_scale_pct=20.0, **kw).scaled
    assert s.result.survivable_hours == 22.75
    assert s.pv_kwh == pytest.approx(0.2 * 3 * pv[:N_DAY].sum() * 0.25)


# (d) ------------------------------------------------------------------------------------------ the reserve


def test_a_dispatch_reserve_of_50_pct_survives_longer_than_a_battery_at_its_minimum():
    # before the outage: 40 steps of 100 kW net load under self-consumption, both batteries from 900 kWh
    net = np.full(40, 100.0)
    kept = bess(reserve_pct=50.0)  # self-consumption stops at 500 kWh
    drained = bess(reserve_pct=0.0)  # ... at soc_min, 100 kWh
    soc_kept = self_consumption(net, kept, 900.0)[2]
    soc_drained = self_consumption(net, drained, 900.0)[2]
    assert soc_kept[-1] == pytest.approx(500.0) and soc_drained[-1] == pytest.approx(100.0)
    crit = [critical(100.0, 40)]
    # the outage may use the reserve down to soc_min: (500 - 100) x 0.95 = 380 kWh / 25 = 15.2 -> 15 steps
    with_reserve = islanded(crit, None, [kept], {"b": soc_kept[-1]}, 0, 40)
    without = islanded(crit, None, [drained], {"b": soc_drained[-1]}, 0, 40)
    assert with_reserve.survivable_hours == 3.75
    assert without.survivable_hours == 0.0  # nothing above soc_min: the first step already fails

    # an outage starting at any of the 40 steps, SOC read from the dispatch trace (start of each step)
    sweep_kept = outage_sweep(crit, None, [kept], {"b": step_start_soc(soc_kept, 900.0)}, 2.0, max_hours=8.0)
    sweep_drained = outage_sweep(crit, None, [drained], {"b": step_start_soc(soc_drained, 900.0)}, 2.0, max_hours=8)
    # starting at step k (before the reserve is reached) the deliverable energy is 760 - 25 k -> 30 - k steps;
    # with the reserve it never drops below 380 kWh -> at least 15 steps = 3.75 h; without, 0 h from step 30
    assert sweep_kept.min_hours == 3.75 and sweep_drained.min_hours == 0.0
    # surviving 2 h (8 steps): with the reserve every start; without, 30 - k >= 8 for k <= 22 -> 23 of 40
    assert sweep_kept.probability == 1.0
    assert sweep_drained.probability == pytest.approx(23 / 40)


# (e) ------------------------------------------------------------------------------------------ sweep statistics


def test_sweep_statistics_on_a_tiny_hand_example():
    # 8 steps, no battery, critical 100 kW, PV 100 kW except a cloud in step 3; outages of at most 1 h (4 steps)
    pv = np.array([100, 100, 100, 0, 100, 100, 100, 100], dtype=float)
    crit = [critical(100.0, 8)]
    s = outage_sweep(crit, pv, [], {}, duration_h=0.5, max_hours=1.0, every_steps=1)
    # start 0: steps 0-2 served, 3 fails -> 0.75 h; start 1 -> 0.5; 2 -> 0.25; 3 -> 0; starts 4-7 reach the
    # 4-step cap (7 wraps to steps 0-2, the record is cyclic) -> 1.0 h
    assert s.survivable_hours.tolist() == [0.75, 0.5, 0.25, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert s.min_hours == 0.0
    assert s.mean_hours == pytest.approx(5.5 / 8)  # (0.75 + 0.5 + 0.25 + 4 x 1) / 8 = 0.6875 h
    # sorted 0, .25, .5, .75, 1, 1, 1, 1: p10 is the 1st value (1/8 >= 10 %), p50 the 4th (4/8 >= 50 %)
    assert s.p10_hours == 0.0 and s.p50_hours == 0.75
    assert s.probability == 6 / 8  # >= 0.5 h: 0.75, 0.5 and four 1.0
    assert s.capped_share == 4 / 8
    assert s.survival_curve()[1].tolist() == [0.5]  # >= 1 h: 4 of 8
    assert s.worst_start == 3
    # unserved in a 1 h outage (4 steps), blackout from the failing step to its end at 25 kWh per step:
    # start 0 (steps 0-3): step 3 -> 25 kWh; start 1: steps 3-4 -> 50; start 2: 75; start 3: 100; capped: 0
    # mean (25 + 50 + 75 + 100) / 8 = 31.25 kWh
    assert s.mean_unserved_kwh == {"critical": pytest.approx(250 / 8)}
    # hourly starts (0 and 4): 0.75 and 1.0 h
    assert outage_sweep(crit, pv, [], {}, 0.5, max_hours=1.0, every_steps=4).survivable_hours.tolist() == [0.75, 1.0]


def test_sweep_agrees_with_single_outages_and_is_fast_over_a_year():
    idx = pd.date_range("2024-01-01", periods=366 * N_DAY, freq="15min", tz="Asia/Shanghai")
    n = len(idx)
    rng = np.random.default_rng(7)
    hour = np.asarray(idx.hour + idx.minute / 60.0)
    pv = 1500.0 * np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * np.repeat(rng.uniform(0.05, 1, 366), N_DAY)
    tiers = [
        LoadTier("critical", 300 + 50 * rng.random(n), sheddable=False),
        LoadTier("process", 400 + 100 * rng.random(n), priority=2, shed_below_soc_pct=60),
        LoadTier("offices", np.full(n, 200.0), priority=1, shed_below_soc_pct=80),
    ]
    bs = [Battery("b1", 4000.0, 1000.0), Battery("b2", 1000.0, 500.0, eta_discharge=0.9)]
    soc = {"b1": 3000.0, "b2": 600.0}
    started = time.perf_counter()
    s = outage_sweep(tiers, pv, bs, soc, 24.0, max_hours=72.0, every_steps=4, index=idx)
    elapsed = time.perf_counter() - started
    assert s.survivable_hours.size == 366 * 24
    # a loop over the 8,784 starts in Python takes minutes; vectorised over the starts it takes well under 1 s
    assert elapsed < 20.0
    for k in (0, 1234, 5000, 8783):
        one = islanded(tiers, pv, bs, soc, int(s.start_steps[k]), 288)
        assert one.survivable_hours == s.survivable_hours[k]
    assert set(s.probability_by_month()) == set(range(1, 13))


def test_report_bundles_sweep_and_bad_weather_as_plain_data():
    idx, pv = summer_fortnight()
    crit = critical(100.0, len(idx))
    rep = resilience_report([crit], pv, idx, [big_battery()], {"b": 1800.0}, duration_h=24.0, pv_scale_pct=50.0)
    d = json.loads(json.dumps(rep.as_dict()))
    assert d["bad_weather"]["worst"]["first_day"] == "2024-07-08"
    assert d["sweep"]["starts"] == 14 * 24
    assert 0.0 < d["sweep"]["probability"] < 1.0
    text = rep.summary()
    assert "24 h outage" in text and "Worst PV spell 2024-07-08 to 2024-07-10" in text and "PV at 50 %" in text


# (f) ------------------------------------------------------------------------------------------ bad inputs


def issues_of(err: pytest.ExceptionInfo) -> dict[str, str]:
    return {i.column: i.reason for i in err.value.issues}


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValidationFailed) as err:
        islanded([critical(100.0, 96)], np.zeros(95), [bess()], {"b": 900.0}, 0, 4)
    assert "has 96 values for 95 steps" in issues_of(err)["tiers['critical'].kw"]


def test_soc_outside_the_limits_is_rejected():
    for soc in (50.0, 980.0):  # soc_min 10 % = 100 kWh, soc_max 95 % = 950 kWh
        with pytest.raises(ValidationFailed) as err:
            islanded([critical()], None, [bess("bess-1")], {"bess-1": soc}, 0, 4)
        assert "outside the limits 100-950 kWh" in issues_of(err)["battery bess-1.soc_start_kwh"]
    with pytest.raises(ValidationFailed) as err:
        islanded([critical()], None, [bess("bess-1")], {"bess-2": 500.0}, 0, 4)
    assert "missing" in issues_of(err)["battery bess-1.soc_start_kwh"]
    assert "no battery with this code" in issues_of(err)["soc_start_kwh['bess-2']"]


def test_a_critical_tier_is_required_and_never_sheddable():
    with pytest.raises(ValidationFailed) as err:
        islanded([LoadTier("process", np.full(4, 10.0))], None, [], {}, 0, 4)
    assert "no critical tier" in issues_of(err)["tiers"]
    with pytest.raises(ValidationFailed) as err:
        islanded([LoadTier("critical", np.full(4, 10.0), sheddable=True)], None, [], {}, 0, 4)
    assert "never shed" in issues_of(err)["tiers['critical'].sheddable"]


def test_other_bad_inputs_name_the_field():
    crit = [critical(100.0, 8)]
    cases = [
        (lambda: islanded(crit, np.full(8, -1.0), [], {}, 0, 4), "pv_kw", "negative"),
        (lambda: islanded(crit, None, [], {}, 8, 4), "start_step", "within 0-7"),
        (lambda: outage_sweep(crit, None, [], {}, 48.0, max_hours=24.0), "duration_h", "beyond max_hours"),
        (lambda: outage_sweep(crit, None, [], {}, 1.1), "duration_h", "15-minute steps"),
        (lambda: islanded(crit, None, [], {}, 0, 4, generator=Generator(100.0)), "generator.fuel_kwh", "exactly one"),
        (
            lambda: bad_weather(np.zeros(8), steps(8).tz_localize(None), tiers=crit),
            "index",
            "time-zone aware",
        ),
        (lambda: bad_weather(np.zeros(8), steps(8), tiers=crit), "index", "no 3 consecutive whole days"),
    ]
    for call, column, reason in cases:
        with pytest.raises(ValidationFailed) as err:
            call()
        assert reason in issues_of(err)[column], (column, str(err.value))
