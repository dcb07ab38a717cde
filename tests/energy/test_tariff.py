"""Tariffs: time-of-use periods, energy prices and bills checked by hand arithmetic, and the tariff file's checks.

Shanghai two-part large industry (沪发改价管〔2022〕50号, DESIGN.md section 6), multiples of the month's flat price:
Jan, Jul-Sep, Dec: peak x1.8, valley x0.4, sharp x2.25 (12-14 in Jul-Aug, 19-21 in Jan and Dec);
other months: peak x1.6, valley x0.5; deep valley x0.2 on rest days of Feb-Jun and Sep-Nov.
The demand and capacity charges shipped for Shanghai are unverified, so the billing tests use the shipped
periods with round charges (40 CNY/kW-month, 25 CNY/kVA-month) to keep the arithmetic readable.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkzero.calendar import is_working_day
from parkzero.energy import tariff as tf
from parkzero.energy.tariff import (
    bill,
    demand_charge_rate,
    energy_prices,
    get_tariff,
    list_tariffs,
    parse_tariffs,
    period_labels,
)
from parkzero.errors import NotFound, ValidationFailed

TZ = "Asia/Shanghai"
SH10 = "sh_large_industry_10kv"


@pytest.fixture(scope="module")
def sh() -> tf.Tariff:
    """Shanghai large industry 10 kV with round basic charges for readable arithmetic."""
    return dataclasses.replace(
        get_tariff(SH10), demand_charge_cny_per_kw_month=40.0, capacity_charge_cny_per_kva_month=25.0
    )


def day(date: str, periods: int = 96) -> pd.DatetimeIndex:
    return pd.date_range(date, periods=periods, freq="15min", tz=TZ)


def at(index: pd.DatetimeIndex, values: np.ndarray, hhmm: str) -> object:
    """Value of `values` at the interval starting hh:mm on the index's first day."""
    return values[index.get_loc(pd.Timestamp(f"{index[0].date()} {hhmm}", tz=TZ))]


def load_kwh(index: pd.DatetimeIndex, kw_by_hour: dict[tuple[int, int], float], default_kw: float) -> pd.Series:
    """Energy per 15 minutes [kWh] of a load given in kW per local hour range [start, end)."""
    kw = np.full(len(index), default_kw)
    for (h0, h1), value in kw_by_hour.items():
        kw[(index.hour >= h0) & (index.hour < h1)] = value
    return pd.Series(kw * 0.25, index=index)


def energy_items(b: tf.Bill) -> dict[str, tuple[float, float, float]]:
    return {i.period: (i.quantity, i.rate, i.amount_cny) for i in b.items if i.item == "energy"}


# -- the shipped data ------------------------------------------------------------------------------------------
def test_shipped_tariffs_cover_shanghai_and_another_province():
    codes = {t.code for t in list_tariffs()}
    assert {SH10, "sh_large_industry_35kv", "sh_general_commercial_single", "js_large_industry_10kv"} <= codes
    assert {t.region for t in list_tariffs()} >= {"CN-SH", "CN-JS"}  # other provinces are data, not code
    for t in list_tariffs():
        assert t.source and all(s.source for s in t.item_sources)
        items = {s.item for s in t.item_sources}
        assert {"tou", "export"} <= items
        assert t.two_part == ({"demand_charge", "capacity_charge", "demand_penalty"} <= items)
        # every figure not checked against a primary table says so
        assert all(s.note.startswith("unverified:") for s in t.item_sources if s.unverified)
    sh10 = get_tariff(SH10)
    assert "沪发改价管〔2022〕50号" in sh10.source and "沪发改价管〔2024〕28号" in sh10.source
    assert sh10.penalty_factor == 2.0 and sh10.penalty_tolerance_pct == 5.0
    assert sh10.export_price_cny_per_kwh == 0.4155  # Shanghai coal-fired benchmark
    assert "demand_charge" in sh10.unverified_items
    assert get_tariff("sh_general_commercial_single").demand_charge_cny_per_kw_month is None


def test_unknown_tariff_names_the_code_and_the_known_ones():
    with pytest.raises(NotFound, match=r"'sh_huge_industry'.*sh_large_industry_10kv.*js_large_industry_10kv"):
        get_tariff("sh_huge_industry")


def test_demand_charge_rate_for_an_optimiser(sh):
    assert demand_charge_rate(sh, "max_demand") == 40.0  # CNY/kW-month on the month's peak
    assert demand_charge_rate(sh, "capacity") == 25.0  # CNY/kVA-month, fixed by the transformer
    assert demand_charge_rate(get_tariff("sh_general_commercial_single")) == 0.0
    with pytest.raises(ValidationFailed, match="demand_basis"):
        demand_charge_rate(sh, "peak")


# -- periods and prices --------------------------------------------------------------------------------------------
def test_summer_weekday_periods_prices_and_bill(sh):
    idx = day("2025-07-02")  # Wednesday, a working day
    assert is_working_day("2025-07-02")
    labels, prices = period_labels(idx, sh), energy_prices(idx, sh, 0.65)
    expected = {
        "05:45": ("valley", 0.26),  # 0.65 x 0.4
        "06:00": ("flat", 0.65),
        "08:00": ("peak", 1.17),  # 0.65 x 1.8
        "11:45": ("peak", 1.17),
        "12:00": ("sharp", 1.4625),  # 0.65 x 2.25 (sharp peak 12-14 in July and August)
        "13:45": ("sharp", 1.4625),
        "14:00": ("peak", 1.17),
        "15:00": ("flat", 0.65),
        "18:00": ("peak", 1.17),
        "21:00": ("flat", 0.65),
        "22:00": ("valley", 0.26),
    }
    for hhmm, (label, price) in expected.items():
        assert at(idx, labels, hhmm) == label, hhmm
        assert at(idx, prices, hhmm) == pytest.approx(price), hhmm

    # 400 kW at night, 1,000 kW by day, 1,200 kW over the sharp peak
    load = load_kwh(idx, {(6, 22): 1000.0, (12, 14): 1200.0}, 400.0)
    b = bill(load, sh, 0.65)
    e = energy_items(b)
    # valley 22-06: 8 h x 400 kW = 3,200 kWh x 0.26 = 832.00 CNY
    assert e["valley"] == pytest.approx((3200.0, 0.26, 832.0))
    # flat 06-08, 15-18, 21-22: 6 h x 1,000 kW = 6,000 kWh x 0.65 = 3,900.00 CNY
    assert e["flat"] == pytest.approx((6000.0, 0.65, 3900.0))
    # peak 08-12, 14-15, 18-21: 8 h x 1,000 kW = 8,000 kWh x 1.17 = 9,360.00 CNY
    assert e["peak"] == pytest.approx((8000.0, 1.17, 9360.0))
    # sharp 12-14: 2 h x 1,200 kW = 2,400 kWh x 1.4625 = 3,510.00 CNY
    assert e["sharp"] == pytest.approx((2400.0, 1.4625, 3510.0))
    # demand: 300 kWh in 15 min / 0.25 h = 1,200 kW x 40 CNY/kW-month = 48,000 CNY (charged for the whole month)
    (demand,) = [i for i in b.items if i.item == "demand"]
    assert (demand.quantity, demand.amount_cny) == pytest.approx((1200.0, 48000.0))
    assert "12:00" in demand.note and b.max_demand_kw == {"2025-07": pytest.approx(1200.0)}
    # 832 + 3,900 + 9,360 + 3,510 + 48,000 = 65,602 CNY for 19,600 kWh
    assert b.total_cny == pytest.approx(65602.0)
    assert b.energy_kwh == pytest.approx(19600.0)
    assert b.by_month() == {"2025-07": pytest.approx(65602.0)}


def test_winter_weekday_sharp_peak_in_the_evening(sh):
    idx = day("2025-01-08")  # Wednesday
    labels, prices = period_labels(idx, sh), energy_prices(idx, sh, 0.70)
    expected = {
        "07:45": ("flat", 0.70),
        "08:00": ("peak", 1.26),  # 0.70 x 1.8
        "10:45": ("peak", 1.26),
        "11:00": ("flat", 0.70),  # outside July-September the peak ends at 11:00
        "12:00": ("flat", 0.70),
        "18:45": ("peak", 1.26),
        "19:00": ("sharp", 1.575),  # 0.70 x 2.25 (sharp 19-21 in January and December)
        "20:45": ("sharp", 1.575),
        "21:00": ("flat", 0.70),
        "23:00": ("valley", 0.28),  # 0.70 x 0.4
    }
    for hhmm, (label, price) in expected.items():
        assert at(idx, labels, hhmm) == label, hhmm
        assert at(idx, prices, hhmm) == pytest.approx(price), hhmm
    e = energy_items(bill(pd.Series(25.0, index=idx), sh, 0.70))  # a flat 100 kW
    # valley 8 h x 100 kW = 800 kWh x 0.28 = 224; flat 2 + 7 + 1 = 10 h: 1,000 kWh x 0.70 = 700
    # peak 3 + 1 = 4 h: 400 kWh x 1.26 = 504; sharp 2 h: 200 kWh x 1.575 = 315; 224 + 700 + 504 + 315 = 1,743 CNY
    assert {p: v[2] for p, v in e.items()} == pytest.approx(
        {"valley": 224.0, "flat": 700.0, "peak": 504.0, "sharp": 315.0}
    )
    assert math.fsum(v[2] for v in e.values()) == pytest.approx(1743.0)


def test_deep_valley_on_a_rest_day_in_april(sh):
    sunday = day("2025-04-13", 96)  # a Sunday, a rest day
    assert not is_working_day("2025-04-13")
    labels, prices = period_labels(sunday, sh), energy_prices(sunday, sh, 0.60)
    assert at(sunday, labels, "00:00") == at(sunday, labels, "23:45") == "deep_valley"
    assert at(sunday, prices, "03:00") == pytest.approx(0.12)  # 0.60 x 0.2
    assert at(sunday, prices, "09:00") == pytest.approx(0.96)  # peak in April: 0.60 x 1.6
    assert at(sunday, prices, "12:00") == pytest.approx(0.60)  # flat 11-18 outside July-September
    assert "valley" not in set(labels)  # every valley hour of the day became deep valley
    # 22-06 on Sunday: 8 h x 100 kW = 800 kWh x 0.12 = 96 CNY
    e = energy_items(bill(pd.Series(25.0, index=sunday), sh, 0.60))
    assert e["deep_valley"] == pytest.approx((800.0, 0.12, 96.0))

    # the next Monday is a working day: plain valley 0.60 x 0.5 = 0.30
    monday = day("2025-04-14", 24)
    assert set(period_labels(monday, sh)) == {"valley"}
    assert energy_prices(monday, sh, 0.60) == pytest.approx(np.full(24, 0.30))
    # Sunday 27 April 2025 is worked (调休 for Labour Day): no deep valley
    assert set(period_labels(day("2025-04-27", 24), sh)) == {"valley"}
    # July has no deep valley, even on a Sunday; neither has January
    assert set(period_labels(day("2025-07-06", 24), sh)) == {"valley"}
    assert set(period_labels(day("2025-01-05", 24), sh)) == {"valley"}


def test_months_without_sharp_peak(sh):
    march = pd.date_range("2025-03-01", "2025-04-01", freq="15min", tz=TZ, inclusive="left")
    assert "sharp" not in set(period_labels(march, sh))
    idx = day("2025-03-12")  # Wednesday
    labels, prices = period_labels(idx, sh), energy_prices(idx, sh, 0.60)
    for hhmm, label, price in [
        ("08:00", "peak", 0.96),  # 0.60 x 1.6
        ("11:00", "flat", 0.60),
        ("13:00", "flat", 0.60),
        ("18:00", "peak", 0.96),
        ("22:00", "valley", 0.30),  # 0.60 x 0.5
    ]:
        assert at(idx, labels, hhmm) == label and at(idx, prices, hhmm) == pytest.approx(price), hhmm
    # September keeps the summer peak 08-15 and ratios but has no sharp peak: 12:00 peak at 0.65 x 1.8 = 1.17
    sep = day("2025-09-03")
    assert at(sep, period_labels(sep, sh), "12:00") == "peak"
    assert at(sep, energy_prices(sep, sh, 0.65), "12:00") == pytest.approx(1.17)


def test_index_in_another_zone_is_read_in_shanghai_time(sh):
    utc = pd.date_range("2025-07-02 04:00", periods=8, freq="15min", tz="UTC")  # 12:00-13:45 in Shanghai
    assert set(period_labels(utc, sh)) == {"sharp"}
    assert energy_prices(utc, sh, 0.65) == pytest.approx(np.full(8, 1.4625))


def test_jiangsu_half_hour_periods_and_holiday_deep_valley():
    js = get_tariff("js_large_industry_10kv")
    jul = day("2025-07-02")
    labels = period_labels(jul, js)
    for hhmm, label in [
        ("14:00", "sharp"),
        ("15:00", "peak"),
        ("19:15", "peak"),
        ("19:30", "sharp"),
        ("21:15", "sharp"),
    ]:
        assert at(jul, labels, hhmm) == label, hhmm
    assert at(jul, labels, "21:30") == "peak" and at(jul, labels, "22:00") == "flat"
    assert at(jul, labels, "11:00") == "valley"  # midday valley 11-13
    # spring: the flat period 22:00-02:00 wraps over midnight
    apr = day("2025-04-09")
    assert at(apr, period_labels(apr, js), "01:45") == "flat" and at(apr, period_labels(apr, js), "02:00") == "valley"
    # Labour Day (a public holiday): deep valley 10-14 at 0.50 x 0.28 = 0.14 CNY/kWh
    may1 = day("2025-05-01")
    assert at(may1, period_labels(may1, js), "10:00") == "deep_valley"
    assert at(may1, energy_prices(may1, js, 0.50), "13:45") == pytest.approx(0.14)
    # an ordinary Sunday is not a public holiday: valley 0.50 x 0.35 = 0.175
    sun = day("2025-04-13")
    assert at(sun, period_labels(sun, js), "11:00") == "valley"
    assert at(sun, energy_prices(sun, js, 0.50), "11:00") == pytest.approx(0.175)


def test_monthly_flat_prices(sh):
    idx = pd.date_range("2025-06-30 23:00", periods=8, freq="15min", tz=TZ)  # 4 intervals in June, 4 in July
    # June valley 0.60 x 0.5 = 0.30; July valley 0.65 x 0.4 = 0.26
    assert energy_prices(idx, sh, {6: 0.60, 7: 0.65}) == pytest.approx([0.30] * 4 + [0.26] * 4)
    # "YYYY-MM" wins over the month number: July 0.70 x 0.4 = 0.28
    assert energy_prices(idx, sh, {6: 0.60, 7: 0.65, "2025-07": 0.70}) == pytest.approx([0.30] * 4 + [0.28] * 4)
    b = bill(pd.Series(10.0, index=idx), sh, {"2025-06": 0.60, "2025-07": 0.65})
    # June: 4 x 10 = 40 kWh x 0.30 = 12.00 + demand 10 kWh / 0.25 h = 40 kW x 40 = 1,600 -> 1,612.00 CNY
    # July: 40 kWh x 0.26 = 10.40 + 1,600 -> 1,610.40 CNY
    assert b.by_month() == pytest.approx({"2025-06": 1612.0, "2025-07": 1610.4})
    with pytest.raises(ValidationFailed, match="missing flat price for 2025-07"):
        energy_prices(idx, sh, {6: 0.60})
    with pytest.raises(ValidationFailed, match="missing flat price for 2025-06"):
        bill(pd.Series(10.0, index=idx), sh, {"2025-07": 0.65})
    for bad in ({13: 0.6}, {"2025-13": 0.6}, {"July": 0.6}, {True: 0.6}):
        with pytest.raises(ValidationFailed, match="neither a month number 1-12 nor a month 'YYYY-MM'"):
            energy_prices(idx, sh, bad)
    with pytest.raises(ValidationFailed, match="must not be negative"):
        energy_prices(idx, sh, {6: 0.6, 7: -0.1})
    with pytest.raises(ValidationFailed, match="must not be negative"):
        energy_prices(idx, sh, -0.65)
    with pytest.raises(ValidationFailed, match="must be a number"):
        energy_prices(idx, sh, float("nan"))


# -- demand, capacity, export, single-part ----------------------------------------------------------------------
@pytest.fixture()
def peak_day() -> pd.Series:
    """A July working day at 800 kW with one 15-minute peak of 1,100 kW (275 kWh) at 14:15."""
    idx = day("2025-07-02")
    kwh = pd.Series(200.0, index=idx)
    kwh[pd.Timestamp("2025-07-02 14:15", tz=TZ)] = 275.0
    return kwh


def basic(b: tf.Bill) -> dict[str, tuple[float, float, float]]:
    return {i.item: (i.quantity, i.rate, i.amount_cny) for i in b.items if i.item != "energy"}


def test_demand_charge_on_the_months_maximum(sh, peak_day):
    b = bill(peak_day, sh, 0.65)
    # 275 kWh / 0.25 h = 1,100 kW x 40 CNY/kW-month = 44,000 CNY
    assert basic(b) == {"demand": pytest.approx((1100.0, 40.0, 44000.0))}
    assert "1100.0 kW at 2025-07-02 14:15" in [i for i in b.items if i.item == "demand"][0].note


def test_contracted_demand_and_penalty(sh, peak_day):
    # contract 1,000 kW: 1,000 x 40 = 40,000; limit 1,000 x 1.05 = 1,050 kW, excess 1,100 - 1,050 = 50 kW
    # at 2 x 40 = 80 CNY/kW-month: 50 x 80 = 4,000 CNY
    b = bill(peak_day, sh, 0.65, contracted_demand_kw=1000.0)
    assert basic(b) == {
        "demand": pytest.approx((1000.0, 40.0, 40000.0)),
        "demand_penalty": pytest.approx((50.0, 80.0, 4000.0)),
    }
    # contract 1,060 kW: 1,100 kW is within 1,060 x 1.05 = 1,113 kW, so no penalty: 1,060 x 40 = 42,400 CNY
    assert basic(bill(peak_day, sh, 0.65, contracted_demand_kw=1060.0)) == {
        "demand": pytest.approx((1060.0, 40.0, 42400.0))
    }
    # contract 1,200 kW above the actual peak: the contract is billed, 1,200 x 40 = 48,000 CNY
    assert basic(bill(peak_day, sh, 0.65, contracted_demand_kw=1200.0))["demand"][2] == pytest.approx(48000.0)
    # contract 300 kW on a 1,000 kVA transformer: raised to 40 % = 400 kW, 400 x 40 = 16,000 CNY;
    # limit 400 x 1.05 = 420 kW, excess 1,100 - 420 = 680 kW x 80 = 54,400 CNY
    floor = bill(peak_day, sh, 0.65, contracted_demand_kw=300.0, transformer_kva=1000.0)
    assert basic(floor) == {
        "demand": pytest.approx((400.0, 40.0, 16000.0)),
        "demand_penalty": pytest.approx((680.0, 80.0, 54400.0)),
    }


def test_capacity_basis(sh, peak_day):
    # 1,250 kVA x 25 CNY/kVA-month = 31,250 CNY whatever the peak
    b = bill(peak_day, sh, 0.65, demand_basis="capacity", transformer_kva=1250.0)
    assert basic(b) == {"capacity": pytest.approx((1250.0, 25.0, 31250.0))}
    with pytest.raises(ValidationFailed, match="needs transformer_kva"):
        bill(peak_day, sh, 0.65, demand_basis="capacity")
    with pytest.raises(ValidationFailed, match="contracted_demand_kw applies to demand_basis 'max_demand'"):
        bill(peak_day, sh, 0.65, demand_basis="capacity", transformer_kva=1250.0, contracted_demand_kw=900.0)
    with pytest.raises(ValidationFailed, match="demand_basis must be one of max_demand, capacity"):
        bill(peak_day, sh, 0.65, demand_basis="transformer")
    with pytest.raises(ValidationFailed, match="transformer_kva must be a positive number"):
        bill(peak_day, sh, 0.65, demand_basis="capacity", transformer_kva=0.0)
    with pytest.raises(ValidationFailed, match="contracted_demand_kw must be a positive number"):
        bill(peak_day, sh, 0.65, contracted_demand_kw=-5.0)


def test_each_month_has_its_own_demand_charge(sh):
    idx = pd.date_range("2025-07-31", "2025-08-02", freq="15min", tz=TZ, inclusive="left")
    kwh = pd.Series(np.where(idx.month == 7, 100.0, 150.0), index=idx)
    b = bill(kwh, sh, {7: 0.65, 8: 0.66})
    demand = {i.month: i.amount_cny for i in b.items if i.item == "demand"}
    # July 100 kWh / 0.25 h = 400 kW x 40 = 16,000; August 150 / 0.25 = 600 kW x 40 = 24,000 CNY
    assert demand == pytest.approx({"2025-07": 16000.0, "2025-08": 24000.0})
    assert b.max_demand_kw == pytest.approx({"2025-07": 400.0, "2025-08": 600.0})


def test_export_income(sh):
    idx = day("2025-07-02")
    imported = pd.Series(100.0, index=idx)
    exported = pd.Series(0.0, index=idx)
    exported[(idx.hour >= 10) & (idx.hour < 14)] = 50.0  # midday PV surplus
    b = bill(imported, sh, 0.65, export_kwh=exported)
    (ex,) = [i for i in b.items if i.item == "export"]
    # 4 h x 4 intervals x 50 kWh = 800 kWh x 0.4155 CNY/kWh = 332.40 CNY of income (negative)
    assert (ex.quantity, ex.rate, ex.amount_cny) == pytest.approx((800.0, 0.4155, -332.4))
    assert b.total_cny == pytest.approx(bill(imported, sh, 0.65).total_cny - 332.4)
    with pytest.raises(ValidationFailed, match="export_kwh.*negative energy at 2025-07-02 10:00"):
        bill(imported, sh, 0.65, export_kwh=exported.where(exported.index != idx[40], -1.0))


def test_single_part_tariff_has_no_demand_items():
    single = get_tariff("sh_general_commercial_single")
    idx = day("2025-07-02")
    assert set(period_labels(idx, single)) == {"peak", "valley"}
    b = bill(pd.Series(25.0, index=idx), single, 0.65, contracted_demand_kw=80.0, transformer_kva=250.0)
    assert {i.item for i in b.items} == {"energy"}
    e = energy_items(b)
    # peak 06-22: 16 h x 100 kW = 1,600 kWh x (0.65 x 1.2 = 0.78) = 1,248.00 CNY
    assert e["peak"] == pytest.approx((1600.0, 0.78, 1248.0))
    # valley 22-06: 8 h x 100 kW = 800 kWh x (0.65 x 0.55 = 0.3575) = 286.00 CNY; total 1,534.00 CNY
    assert e["valley"] == pytest.approx((800.0, 0.3575, 286.0))
    assert b.total_cny == pytest.approx(1534.0)
    # March: peak 0.65 x 1.17 = 0.7605 CNY/kWh
    assert energy_prices(day("2025-03-12", 48), single, 0.65)[-1] == pytest.approx(0.7605)


def test_rows_for_tables(sh, peak_day):
    rows = bill(peak_day, sh, 0.65, contracted_demand_kw=1000.0).as_rows()
    assert rows[0].keys() == {"month", "item", "period", "quantity", "unit", "rate", "rate_unit", "amount_cny", "note"}
    penalty = rows[-1]
    assert (penalty["item"], penalty["unit"], penalty["rate_unit"]) == ("demand_penalty", "kW", "CNY/kW-month")


# -- bad input ------------------------------------------------------------------------------------------------------
def test_naive_or_wrong_index_is_rejected(sh):
    with pytest.raises(ValidationFailed, match="naive timestamps .*tz_localize"):
        period_labels(pd.date_range("2025-07-02", periods=4, freq="15min"), sh)
    with pytest.raises(ValidationFailed, match="must be a pandas.DatetimeIndex"):
        energy_prices(pd.RangeIndex(4), sh, 0.65)
    with pytest.raises(ValidationFailed, match="import_kwh.index has naive timestamps"):
        bill(pd.Series(1.0, index=pd.date_range("2025-07-02", periods=4, freq="15min")), sh, 0.65)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.where(s.index != s.index[41], np.nan), r"no number at 2025-07-02 10:15\+08:00"),
        (lambda s: s.where(s.index != s.index[41], -3.0), r"negative energy at 2025-07-02 10:15\+08:00"),
        (lambda s: s.drop(s.index[41]), r"irregular interval: 2025-07-02 10:00\+08:00 is followed by 2025-07-02 10:30"),
        (lambda s: s.iloc[::2], r"irregular interval: 2025-07-02 00:00\+08:00 is followed by 2025-07-02 00:30"),
        (lambda s: pd.concat([s.iloc[:3], s.iloc[2:]]), r"duplicate timestamp 2025-07-02 00:30"),
        (lambda s: s.iloc[::-1], r"timestamps go back in time"),
        (
            lambda s: s.set_axis(s.index + pd.Timedelta(minutes=7)),
            r"2025-07-02 00:07\+08:00 is not on a 15-minute boundary",
        ),
        (lambda s: s.iloc[:0], r"import_kwh is empty"),
        (lambda s: s.to_numpy(), r"import_kwh must be a pandas.Series"),
    ],
)
def test_bad_import_series_is_rejected_naming_the_timestamp(sh, change, message):
    good = pd.Series(10.0, index=day("2025-07-02"))
    with pytest.raises(ValidationFailed, match=message):
        bill(change(good), sh, 0.65)


# -- the tariff file's checks ---------------------------------------------------------------------------------------
GOOD = """
[[tariff]]
code = "xx_test"
name = "Test two-part"
name_zh = "测试"
region = "CN-XX"
kind = "two_part"
voltage_class = "10 kV"
source = ["测试〔2025〕1号"]

[tariff.tou]
source = "测试〔2025〕1号"

[[tariff.tou.season]]
months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
peak = ["08:00-12:00", "17:00-21:00"]
flat = ["06:00-08:00", "12:00-17:00", "21:00-22:00"]
valley = ["22:00-06:00"]
multipliers = { peak = 1.5, flat = 1.0, valley = 0.5 }

[tariff.demand_charge]
cny_per_kw_month = 30.0
source = "测试"

[tariff.capacity_charge]
cny_per_kva_month = 20.0
source = "测试"

[tariff.demand_penalty]
factor = 2.0
tolerance_pct = 5.0
source = "测试"

[tariff.export]
cny_per_kwh = 0.4
source = "测试"
"""


def test_a_good_file_parses():
    (t,) = parse_tariffs(GOOD, "test.toml")
    assert (t.code, t.kind, t.demand_charge_cny_per_kw_month, t.contract_floor_pct_of_kva) == (
        "xx_test",
        "two_part",
        30.0,
        None,
    )
    idx = day("2025-02-03", 96)
    # 0.5 x flat 0.8 = 0.40 at night, 1.5 x 0.8 = 1.20 at 08:00; no deep valley rule
    assert energy_prices(idx, t, 0.8)[[0, 32]] == pytest.approx([0.40, 1.20])


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ('peak = ["08:00-12:00", "17:00-21:00"]\n', "", "tou.season[0]", "no period covers 08:00-12:00, 17:00-21:00"),
        (
            'flat = ["06:00-08:00",',
            'flat = ["06:00-09:00",',
            "tou.season[0]",
            "hours overlap at 08:00-09:00 (flat and peak)",
        ),
        ('valley = ["22:00-06:00"]', 'valley = ["22:00-05:00"]', "tou.season[0]", "no period covers 05:00-06:00"),
        (
            'valley = ["22:00-06:00"]',
            'superpeak = ["22:00-06:00"]',
            "tou.season[0].superpeak",
            "unknown period name 'superpeak'",
        ),
        ('valley = ["22:00-06:00"]', 'valley = ["22:00-06:10"]', "tou.season[0].valley", "not a range HH:MM-HH:MM"),
        ('valley = ["22:00-06:00"]', 'valley = ["25:00-06:00"]', "tou.season[0].valley", "not a range HH:MM-HH:MM"),
        ('valley = ["22:00-06:00"]', "valley = []", "tou.season[0].valley", "missing hours"),
        (
            'peak = ["08:00-12:00", "17:00-21:00"]\nflat = ["06:00-08:00", "12:00-17:00", "21:00-22:00"]\nvalley = ["22:00-06:00"]\n',
            "",
            "tou.season[0]",
            "missing hours",
        ),
        ("valley = 0.5 }", "valley = -0.5 }", "tou.season[0].multipliers.valley", "must not be negative"),
        (", valley = 0.5 }", " }", "tou.season[0].multipliers", "no multiplier for valley"),
        ("flat = 1.0,", "flat = 1.1,", "tou.season[0].multipliers.flat", "multiplier is 1"),
        (
            "months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]",
            "months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]",
            "tou.season",
            "no season for month(s) 12",
        ),
        ("months = [1, 2,", "months = [0, 2,", "tou.season[0].months", "list of months 1-12"),
        (
            "cny_per_kw_month = 30.0",
            "cny_per_kw_month = -30.0",
            "demand_charge.cny_per_kw_month",
            "must not be negative",
        ),
        (
            "cny_per_kva_month = 20.0",
            'cny_per_kva_month = "20"',
            "capacity_charge.cny_per_kva_month",
            "must be a number",
        ),
        ("cny_per_kwh = 0.4", "cny_per_kwh = -0.4", "export.cny_per_kwh", "must not be negative"),
        ("factor = 2.0", "factor = 0.5", "demand_penalty.factor", "must be >= 1"),
        ('kind = "two_part"', 'kind = "three_part"', "kind", "must be one of two_part, single_part"),
        ('kind = "two_part"', 'kind = "single_part"', "demand_charge", "single-part tariff has no demand"),
        (
            "[tariff.demand_charge]\ncny_per_kw_month = 30.0\n",
            "[tariff.demand_charges]\ncny_per_kw_month = 30.0\n",
            "demand_charges",
            "unknown field",
        ),
        ('name_zh = "测试"\n', "", "name_zh", "missing"),
        ('source = ["测试〔2025〕1号"]\n', "source = []\n", "source", "document numbers"),
    ],
)
def test_a_bad_tariff_names_the_code_and_the_field(old, new, field, reason):
    assert old in GOOD
    # each issue reads "file test.toml, column <code>: <field>: <reason>"
    with pytest.raises(
        ValidationFailed, match=re.escape(f"column xx_test: {field}: ") + ".*" + re.escape(reason)
    ) as err:
        parse_tariffs(GOOD.replace(old, new, 1), "test.toml")
    assert any(i.column and i.column.startswith("xx_test:") and i.file == "test.toml" for i in err.value.issues)
    assert "none was loaded" in str(err.value)


def test_deep_valley_rule_is_checked():
    rule = '\n[tariff.deep_valley]\nmultiplier = {m}\nmonths = [4]\ndays = "{d}"\nhours = ["22:00-06:00"]\nsource = "测试"\n'
    (t,) = parse_tariffs(GOOD + rule.format(m=0.2, d="rest_days"))
    assert set(period_labels(day("2025-04-13", 4), t)) == {"deep_valley"}  # a Sunday
    with pytest.raises(ValidationFailed, match="xx_test: deep_valley.multiplier.*must not be negative"):
        parse_tariffs(GOOD + rule.format(m=-0.2, d="rest_days"))
    with pytest.raises(ValidationFailed, match="xx_test: deep_valley.days.*rest_days, holidays"):
        parse_tariffs(GOOD + rule.format(m=0.2, d="sundays"))


def test_file_level_problems():
    with pytest.raises(ValidationFailed, match="test.toml: not valid TOML"):
        parse_tariffs("[[tariff]\ncode =", "test.toml")
    with pytest.raises(ValidationFailed, match=r"no \[\[tariff\]\] tables"):
        parse_tariffs('title = "nothing"', "test.toml")
    with pytest.raises(ValidationFailed, match="xx_test: code.*duplicate tariff code"):
        parse_tariffs(GOOD + GOOD.replace("[[tariff]]", "[[tariff]]", 1), "test.toml")


# -- properties ---------------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.sampled_from([SH10, "sh_general_commercial_single", "js_large_industry_10kv"]),
    start_slot=st.integers(0, 365 * 96),
    values=st.lists(st.floats(0.0, 2000.0, allow_nan=False), min_size=1, max_size=400),
    flat=st.floats(0.05, 2.0),
    basis=st.sampled_from(["max_demand", "capacity"]),
    contract=st.one_of(st.none(), st.floats(10.0, 9000.0)),
    with_export=st.booleans(),
)
def test_bill_total_is_the_sum_of_items_and_energy_is_kept(
    code, start_slot, values, flat, basis, contract, with_export
):
    tariff = get_tariff(code)
    start = pd.Timestamp("2024-12-20", tz=TZ) + pd.Timedelta(minutes=15 * start_slot)
    idx = pd.date_range(start, periods=len(values), freq="15min")
    kwh = pd.Series(values, index=idx)
    export = pd.Series(np.asarray(values)[::-1] / 4, index=idx) if with_export else None
    b = bill(
        kwh,
        tariff,
        flat,
        export_kwh=export,
        demand_basis=basis,
        contracted_demand_kw=contract if basis == "max_demand" else None,
        transformer_kva=1600.0,
    )
    # the total is the sum of the items, month by month and overall
    assert b.total_cny == pytest.approx(math.fsum(i.amount_cny for i in b.items))
    assert math.fsum(b.by_month().values()) == pytest.approx(b.total_cny)
    # every kWh of the series is billed once, at the price energy_prices gives its interval
    energy = [i for i in b.items if i.item == "energy"]
    assert math.fsum(i.quantity for i in energy) == pytest.approx(math.fsum(values), abs=1e-6)
    assert math.fsum(i.amount_cny for i in energy) == pytest.approx(
        math.fsum(np.asarray(values) * energy_prices(idx, tariff, flat)), abs=1e-6
    )
    for i in b.items:
        assert i.amount_cny == pytest.approx(i.quantity * i.rate * (-1 if i.item == "export" else 1))
    assert ({"demand", "capacity"} & {i.item for i in b.items}) == (
        set() if not tariff.two_part else {"capacity" if basis == "capacity" else "demand"}
    )
