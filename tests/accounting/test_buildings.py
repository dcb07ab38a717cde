"""Building (GB/T 51366) and data-centre (PUE, CUE, WUE) carbon, with the arithmetic beside each assertion.

Factors marked "test value" are round inputs for the arithmetic, not figures to ship.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parkzero.accounting import buildings
from parkzero.accounting.buildings import (
    Threshold,
    building_operation_emissions,
    building_year,
    datacentre_metrics,
    datacentre_year,
    dc_threshold_checks,
    load_dc_thresholds,
)
from parkzero.demo.park import demo_registry, iter_channels
from parkzero.errors import NotFound, ParkzeroError, ValidationFailed
from parkzero.registry import model, repo
from parkzero.registry.scope import Scope
from tests.accounting.conftest import merge
from tests.conftest import enterprise_scope

SYSTEM = Scope.system("test")
EF_2023 = 0.5306  # tCO2/MWh, national average 2023 (DESIGN.md §6)


# -- GB/T 51366 building operation ---------------------------------------------------------------------
def test_hand_worked_building():
    r = building_operation_emissions({"electricity": 120_000.0}, {"electricity": EF_2023}, 2_000.0)
    # 120,000 kWh x 0.5306 tCO2/MWh / 1000 = 63.672 tCO2/yr
    assert r.tco2_per_yr == pytest.approx(63.672)
    assert r.tco2 == pytest.approx(63.672)  # y = 1 yr
    # (120,000 kWh x 0.5306 tCO2/MWh / 1000 - 0) / 2,000 m² = 31.836 kgCO2/m²
    assert r.kgco2_per_m2 == pytest.approx(31.836)
    assert r.kgco2_per_m2_yr == pytest.approx(31.836)
    assert r.by_carrier() == {"electricity": pytest.approx(63.672)}
    assert "GB/T 51366-2019" in r.formula and "120000 kWh × 0.5306 tCO2/MWh" in r.formula
    assert "= 31.836 kgCO2/m²" in r.formula


def test_pv_is_subtracted_from_electricity():
    r = building_operation_emissions(
        {"electricity": 120_000.0}, {"electricity": EF_2023}, 2_000.0, onsite_renewable_kwh=20_000.0
    )
    # E = 120,000 - 20,000 = 100,000 kWh; x 0.5306 tCO2/MWh = 53.06 tCO2; / 2,000 m² = 26.53 kgCO2/m²
    (line,) = r.lines
    assert (line.gross, line.renewable, line.net) == (120_000.0, 20_000.0, 100_000.0)
    assert r.tco2 == pytest.approx(53.06)
    assert r.kgco2_per_m2 == pytest.approx(26.53)
    assert r.renewable_surplus_kwh == 0.0
    assert "E = 120000 − 20000 = 100000 kWh" in r.formula


def test_pv_beyond_use_is_not_credited():
    r = building_operation_emissions(
        {"electricity": 10_000.0}, {"electricity": EF_2023}, 1_000.0, onsite_renewable_kwh=15_000.0
    )
    # E = 10,000 - min(15,000, 10,000) = 0 kWh -> 0 tCO2; the other 5,000 kWh leave the building
    assert r.tco2 == 0.0 and r.kgco2_per_m2 == 0.0
    assert r.renewable_surplus_kwh == pytest.approx(5_000.0)
    assert "not credited" in r.formula


def test_several_carriers_green_sink_and_design_life():
    r = building_operation_emissions(
        {"electricity": 0.0, "gas": 10_000.0, "heat": 500.0},
        {"electricity": EF_2023, "gas": 21.62, "heat": 0.11},  # gas, heat: test values
        5_000.0,
        years=50.0,
        green_sink_kgco2=2_000.0,
    )
    # gas 10,000 Nm3 x 21.62 tCO2/10^4 Nm3 = 21.62 tCO2/yr; heat 500 GJ x 0.11 tCO2/GJ = 55 tCO2/yr
    assert r.by_carrier() == {"electricity": 0.0, "gas": pytest.approx(21.62), "heat": pytest.approx(55.0)}
    # per year: 21.62 + 55 - 2,000 kgCO2 / 1000 = 74.62 tCO2/yr; over 50 yr: 3,731 tCO2
    assert r.tco2_per_yr == pytest.approx(74.62)
    assert r.tco2 == pytest.approx(3_731.0)
    # C_M = (74,620 kgCO2/yr) x 50 yr / 5,000 m² = 746.2 kgCO2/m², i.e. 14.924 kgCO2/(m²·yr)
    assert r.kgco2_per_m2 == pytest.approx(746.2)
    assert r.kgco2_per_m2_yr == pytest.approx(14.924)
    assert "− 2000 kgCO2/yr] × 50 yr / 5000 m²" in r.formula


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"floor_area_m2": 0.0}, "floor area"),
        ({"floor_area_m2": float("nan")}, "floor area"),
        ({"years": 0.0}, "years"),
        ({"energy_by_carrier": {"electricity": -5.0}}, "electricity use"),
        ({"energy_by_carrier": {"coal": 5.0}}, "unknown energy carrier 'coal'"),
        ({"energy_by_carrier": {"electricity": 1.0, "gas": 10.0}}, "no emission factor for gas"),
        ({"onsite_renewable_kwh": -1.0}, "on-site renewable"),
    ],
)
def test_bad_building_inputs(kwargs, message):
    args = {"energy_by_carrier": {"electricity": 1.0}, "factors_by_carrier": {"electricity": EF_2023}}
    args["floor_area_m2"] = 100.0
    args.update(kwargs)
    with pytest.raises(ValidationFailed, match=message):
        building_operation_emissions(**args)


# -- PUE, CUE, WUE ------------------------------------------------------------------------------------------
def test_datacentre_metrics_hand_case():
    co2_t = 1_300_000.0 * EF_2023 / 1000  # 1,300,000 kWh x 0.5306 tCO2/MWh = 689.78 tCO2
    m = datacentre_metrics(1_300_000.0, 1_000_000.0, co2_t, water_m3=1_800.0)
    # PUE = 1,300,000 / 1,000,000 = 1.3
    assert m.pue == pytest.approx(1.3)
    # CUE = 689.78 tCO2 x 1000 kg/t / 1,000,000 kWh = 0.68978 kgCO2/kWh (= PUE x 0.5306)
    assert m.cue_kgco2_per_kwh == pytest.approx(0.68978)
    # WUE = 1,800 m3 x 1000 L/m3 / 1,000,000 kWh = 1.8 L/kWh
    assert m.wue_l_per_kwh == pytest.approx(1.8)
    assert "PUE = 1300000 kWh / 1000000 kWh = 1.3" in m.formula


def test_datacentre_metrics_without_water():
    m = datacentre_metrics(1_500.0, 1_000.0, 0.0)
    # PUE = 1,500 / 1,000 = 1.5; all-green supply: CUE 0; no water metered: WUE None
    assert (m.pue, m.cue_kgco2_per_kwh, m.wue_l_per_kwh) == (1.5, 0.0, None)
    assert "WUE not computed" in m.formula


@pytest.mark.parametrize(
    ("facility", "it", "message"),
    [
        (1_000.0, 0.0, "IT energy"),
        (1_000.0, -1.0, "IT energy"),
        (900.0, 1_000.0, r"facility energy \(facility_kwh = 900 kWh\) is less than IT energy"),
        (float("inf"), 1_000.0, "facility energy"),
    ],
)
def test_bad_datacentre_inputs(facility, it, message):
    with pytest.raises(ValidationFailed, match=message) as exc:
        datacentre_metrics(facility, it, 1.0)
    assert isinstance(exc.value, ParkzeroError)


# -- thresholds ---------------------------------------------------------------------------------------------
def test_shipped_thresholds_are_sourced():
    shipped = load_dc_thresholds()
    assert shipped.thresholds
    for t in shipped.thresholds:
        assert t.document and t.issuer and 2015 <= t.year <= 2030 and t.read_at, t.code
        assert str(t.year) in t.source
    # what could not be confirmed is said, not guessed
    assert "GB 40879-2021" in shipped.notes and "CUE and WUE" in shipped.notes
    assert {t.metric for t in shipped.thresholds} == {"pue"}


def test_threshold_checks_pass_and_fail():
    m = datacentre_metrics(1_300.0, 1_000.0, 0.68978)  # PUE 1.3
    shipped = load_dc_thresholds()
    new = {c.code: c for c in dc_threshold_checks(m, shipped, new_build=True)}
    # 1.3 <= 1.3: passes the national 2025 target for new large data centres; 1.3 > 1.25: fails the hub node
    assert new["cn.ndrc-2021.new-large"].passed is True
    assert new["cn.ndrc-2021.hub-node"].passed is False
    assert new["cn.yrd-hub.demo-zone-cluster"].limit == 1.25 and new["cn.yrd-hub.demo-zone-cluster"].passed is False
    assert "sh.secc-2021.existing" not in new  # a limit on existing data centres
    existing = {c.code: c for c in dc_threshold_checks(m, shipped, new_build=False)}
    # 1.3 <= 1.7 (Shanghai, data centres in operation); the national 1.5 average applies to both
    assert existing["sh.secc-2021.existing"].passed is True
    assert "cn.ndrc-2024.national-average" in new and "cn.ndrc-2024.national-average" in existing
    assert "cn.ndrc-2021.new-large" not in existing
    check = existing["sh.baiyi-2022.closure"]
    assert check.kind == "criterion" and "800 racks" in (check.conditions or "")
    assert "2022" in check.source and check.value == pytest.approx(1.3)


def test_threshold_comparisons_and_missing_metric():
    def t(code, metric, limit, comparison="le"):
        return Threshold(code, metric, limit, comparison, "all", "limit", "test", "test doc", "test issuer", 2024)

    m = datacentre_metrics(1_250.0, 1_000.0, 0.5)  # PUE 1.25, CUE 0.5 kgCO2/kWh, no water
    checks = {
        c.code: c
        for c in dc_threshold_checks(
            m, [t("a", "pue", 1.25), t("b", "pue", 1.25, "lt"), t("c", "cue", 0.4), t("d", "wue", 1.8)], new_build=True
        )
    }
    assert checks["a"].passed is True  # 1.25 <= 1.25
    assert checks["b"].passed is False  # not 1.25 < 1.25
    assert checks["c"].passed is False  # 0.5 > 0.4
    assert checks["d"].value is None and checks["d"].passed is None  # no water: not judged
    with pytest.raises(ValidationFailed, match="metric"):
        buildings.parse_dc_thresholds(
            {"format": "parkzero-dc-thresholds", "version": 1, "thresholds": [{**t("x", "eue", 1).__dict__}]}
        )


# -- services over a tiny registry, both engines ------------------------------------------------------------
YEAR = 2024
LOCAL = timedelta(hours=8)  # Asia/Shanghai
DAYS = (1, 2, 3)  # 1-3 March 2024, 72 hours


def local(day: int, hour: int) -> datetime:
    return datetime(YEAR, 3, day, hour, tzinfo=UTC) - LOCAL


def channel(store, code: str, meter: str, kind: str, purpose: str | None, **extra) -> None:
    repo.create_entity(
        store,
        SYSTEM,
        "channels",
        "p1",
        {"code": code, "name": code, "quantity_kind": kind, "purpose": purpose, "meter": meter, **extra},
    )


@pytest.fixture
def site(park):
    """SMALL_PARK plus a data-centre building and tenant, a building without floor area, 3 days of readings.

    Per hour: steel.main 100 kWh (steel.eaf 60 of it), office.main 25 kWh, pv1.gen 50 kWh in 08-16 local,
    steel.gas register +10 Nm3; dc.main 130 kWh, dc.it 100 kWh (dc.row-a 60 of it), dc.water 0.18 m3,
    dc.pv 10 kWh in 08-16 local (operator's), EV charger in b1 7 kWh.
    """
    s = park
    repo.create_entity(s, SYSTEM, "buildings", "p1", {"code": "dc", "name": "Data hall", "floor_area_m2": 4_000.0})
    repo.create_entity(s, SYSTEM, "buildings", "p1", {"code": "b2", "name": "Shed"})
    repo.create_entity(s, SYSTEM, "enterprises", "p1", {"code": "dc-co", "name": "DC Co", "building": "dc"})
    repo.create_entity(
        s, SYSTEM, "meters", "p1", {"code": "m-dc", "name": "DC", "building": "dc", "enterprise": "dc-co"}
    )
    repo.create_entity(s, SYSTEM, "meters", "p1", {"code": "m-dc-pv", "name": "DC roof PV", "building": "dc"})
    repo.create_entity(s, SYSTEM, "meters", "p1", {"code": "m-b2", "name": "Shed", "building": "b2"})
    repo.create_entity(s, SYSTEM, "meters", "p1", {"code": "m-ev", "name": "EV", "building": "b1"})
    channel(s, "dc.main", "m-dc", "active_energy", "load")
    channel(s, "dc.it", "m-dc", "active_energy", "it_load", parent="dc.main")
    channel(s, "dc.row-a", "m-dc", "active_energy", "load", parent="dc.it")
    channel(s, "dc.water", "m-dc", "water_volume", "water")
    channel(s, "dc.pv", "m-dc-pv", "active_energy", "pv_generation")
    channel(s, "b2.main", "m-b2", "active_energy", "load")
    channel(s, "b1.ev", "m-ev", "active_energy", "ev_charging")
    points: dict[str, list[tuple[datetime, float]]] = {}
    register = 1_000.0
    for day in DAYS:
        for hour in range(24):
            ts = local(day, hour)
            sun = 8 <= hour < 16
            for code, value in (
                ("steel.main", 100.0),
                ("steel.eaf", 60.0),
                ("office.main", 25.0),
                ("pv1.gen", 50.0 if sun else 0.0),
                ("steel.gas", register),
                ("dc.main", 130.0),
                ("dc.it", 100.0),
                ("dc.row-a", 60.0),
                ("dc.water", 0.18),
                ("dc.pv", 10.0 if sun else 0.0),
                ("b2.main", 5.0),
                ("b1.ev", 7.0),
            ):
                points.setdefault(code, []).append((ts, value))
            register += 10.0
    points["steel.gas"].append((local(4, 0), register))  # closes the last hour of the counter
    merge(s, points)
    return s


def test_building_year_sums_top_level_use_and_subtracts_pv(site):
    r = building_year(site, SYSTEM, "p1", "b1", YEAR, EF_2023, {"gas": 20.0})  # gas: test value
    # electricity: (steel.main 100 + office.main 25) kWh x 72 h = 9,000 kWh (steel.eaf is below steel.main,
    # b1.ev is EV charging); gas: counter +10 Nm3 x 72 h = 720 Nm3; PV: 50 kWh x 8 h x 3 days = 1,200 kWh
    assert r.energy_by_carrier == {"electricity": pytest.approx(9_000.0), "gas": pytest.approx(720.0)}
    assert r.onsite_renewable_kwh == pytest.approx(1_200.0)
    assert set(r.channels) == {"steel.main", "office.main", "steel.gas"} and r.pv_channels == ("pv1.gen",)
    e = r.emissions
    # electricity (9,000 - 1,200) kWh x 0.5306 tCO2/MWh = 4.13868 tCO2; gas 720 Nm3 x 20 tCO2/10^4 Nm3 = 1.44 tCO2
    assert e.by_carrier() == {"electricity": pytest.approx(4.13868), "gas": pytest.approx(1.44)}
    # (4.13868 + 1.44) tCO2 x 1000 / 12,000 m² = 0.46489 kgCO2/m²
    assert e.tco2 == pytest.approx(5.57868)
    assert e.kgco2_per_m2_yr == pytest.approx(0.46489)
    assert any("b1.ev" in n for n in r.notes)


def test_building_year_needs_floor_area_and_factors(site):
    with pytest.raises(ValidationFailed, match="no floor area"):
        building_year(site, SYSTEM, "p1", "b2", YEAR, EF_2023)
    with pytest.raises(ValidationFailed, match="no emission factor for gas"):
        building_year(site, SYSTEM, "p1", "b1", YEAR, EF_2023)
    with pytest.raises(NotFound):
        building_year(site, SYSTEM, "p1", "nowhere", YEAR, EF_2023)


def test_datacentre_year(site):
    r = datacentre_year(site, SYSTEM, "p1", "dc-co", YEAR, EF_2023)
    assert (r.facility_channels, r.it_channels, r.water_channels) == (("dc.main",), ("dc.it",), ("dc.water",))
    m = r.metrics
    # facility 130 kWh x 72 h = 9,360 kWh; IT 100 x 72 = 7,200 kWh; PUE = 9,360 / 7,200 = 1.3
    assert (m.facility_kwh, m.it_kwh) == (pytest.approx(9_360.0), pytest.approx(7_200.0))
    assert m.pue == pytest.approx(1.3)
    # CO2 = 9,360 kWh x 0.5306 tCO2/MWh / 1000 = 4.966416 tCO2; CUE = 4,966.416 kg / 7,200 kWh = 0.68978 kg/kWh
    assert m.co2_t == pytest.approx(4.966416)
    assert m.cue_kgco2_per_kwh == pytest.approx(0.68978)
    # water 0.18 m3 x 72 h = 12.96 m3 = 12,960 L; WUE = 12,960 / 7,200 = 1.8 L/kWh
    assert m.wue_l_per_kwh == pytest.approx(1.8)
    assert r.wue_reason is None


def test_datacentre_year_errors(site):
    with pytest.raises(ValidationFailed, match="it_load"):
        datacentre_year(site, SYSTEM, "p1", "steel", YEAR, EF_2023)  # no IT-load channel
    with pytest.raises(ValidationFailed, match="no IT energy recorded"):
        datacentre_year(site, SYSTEM, "p1", "dc-co", YEAR + 1, EF_2023)  # no readings in 2025
    with pytest.raises(NotFound):
        datacentre_year(site, SYSTEM, "p1", "nobody", YEAR, EF_2023)


def test_tenancy(site):
    steel = enterprise_scope(site, "steel")
    dc = enterprise_scope(site, "dc-co")
    # another tenant's data centre and a building it does not occupy alone are not found
    with pytest.raises(NotFound):
        datacentre_year(site, steel, "p1", "dc-co", YEAR, EF_2023)
    with pytest.raises(NotFound):
        building_year(site, steel, "p1", "dc", YEAR, EF_2023)
    with pytest.raises(NotFound):
        building_year(site, steel, "p1", "b1", YEAR, EF_2023, {"gas": 20.0})  # the office tenant is in b1 too
    with pytest.raises(NotFound):
        building_year(site, dc, "p1", "b1", YEAR, EF_2023, {"gas": 20.0})
    # the data-centre tenant sees its own data centre and its own building
    assert datacentre_year(site, dc, "p1", "dc-co", YEAR, EF_2023).metrics.pue == pytest.approx(1.3)
    own = building_year(site, dc, "p1", "dc", YEAR, EF_2023)
    # 9,360 kWh x 0.5306 tCO2/MWh = 4.966416 tCO2; the operator's roof PV is not visible to the tenant
    assert own.pv_channels == () and own.emissions.tco2 == pytest.approx(4.966416)
    assert any("not visible" in n for n in own.notes)
    # the operator subtracts it: (9,360 - 10 kWh x 8 h x 3 days = 9,120) kWh x 0.5306 = 4.839072 tCO2; / 4,000 m²
    op = building_year(site, Scope("op", "operator", park_id=dc.park_id), "p1", "dc", YEAR, EF_2023)
    assert op.emissions.tco2 == pytest.approx(4.839072)
    assert op.emissions.kgco2_per_m2 == pytest.approx(4.839072 * 1000 / 4_000)
    with pytest.raises(NotFound):
        datacentre_year(site, Scope("pact", "partner"), "p1", "dc-co", YEAR, EF_2023)


# -- the demo park marks its IT load -------------------------------------------------------------------------
def test_demo_designates_it_load():
    assert "it_load" in model.PURPOSES
    channels = {c["code"]: c for c in iter_channels(demo_registry())}
    it = [code for code, c in channels.items() if c["purpose"] == "it_load"]
    assert it == ["dc.it.kwh"] and channels["dc.it.kwh"]["parent"] == "dc.main.kwh"
