"""Targets and recognitions in the store, progress from closed inventories, and the district view.

The park p1 of SMALL_PARK burns natural gas in its steel works (electricity only in two March days of 2023 in
these fixtures): 100,000 Nm3 in 2022, 120,000 in 2023 and 110,000 in 2024, each year's park inventory closed.
"""

from __future__ import annotations

import pytest

from parkzero.accounting import inventory, sources
from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.pathway import district, records
from parkzero.pathway.targets import Target
from parkzero.registry import io as registry_io
from parkzero.registry.scope import Scope
from tests.accounting.conftest import STEEL_GAS, SYSTEM, local
from tests.conftest import enterprise_scope

GAS_NM3 = {2022: 100_000.0, 2023: 120_000.0, 2024: 110_000.0}
# 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 99 % oxidised x 44/12 (GB/T 32150 defaults): 2.1622 tCO2 per 1000 Nm3
FAR = {
    "format": "parkzero-registry",
    "version": 1,
    "parks": [{"code": "farpark", "name": "Farpark", "timezone": "Asia/Shanghai"}],
}


def pid(store, code: str = "p1") -> int:
    return int(store.db.fetchone("SELECT id FROM parks WHERE code = ?", (code,))[0])


def regulator(store, park: str | None = "p1") -> Scope:
    return Scope(actor="district", role="regulator", park_id=None if park is None else pid(store, park))


def close(store, park: str, year: int, regime: str, enterprise: str | None = None) -> int:
    inv = inventory.create(store, SYSTEM, park, year, regime, enterprise)
    verifier = Scope(actor="verifier-1", role="verifier", park_id=pid(store, park))
    for action, who in (("submit", SYSTEM), ("verify", verifier), ("close", SYSTEM)):
        inventory.transition(store, who, park, inv["id"], action)
    return int(inv["id"])


def close_gas_years(store, gas_nm3: dict[int, float]) -> None:
    """p1's steel works burns `gas_nm3` [Nm3] each year, output value 10,000 x 10^4 CNY; each year's park
    inventory closed under ghg-protocol and zcp-910; an empty park farpark beside it."""
    sources.save_source(store, SYSTEM, "p1", STEEL_GAS)
    for year, nm3 in gas_nm3.items():
        sources.add_activity(
            store, SYSTEM, "p1", "steel.gas",
            {"period_start": local(1, 1, year=year), "period_end": local(12, 31, year=year), "amount": nm3},
        )  # fmt: skip
        sources.set_output_value(store, SYSTEM, "p1", "steel", year, 10_000.0)
        for regime in ("ghg-protocol", "zcp-910"):
            close(store, "p1", year, regime)
    registry_io.import_registry(store, SYSTEM, FAR)


@pytest.fixture
def closed(ledger):
    """p1 with three closed park inventories (ghg-protocol and zcp-910) and output values; farpark empty."""
    close_gas_years(ledger, GAS_NM3)
    return ledger


def test_history_is_the_latest_closed_version_of_each_year(closed):
    h = district.inventory_history(closed, SYSTEM, "p1")
    assert sorted(h) == [2022, 2023, 2024]
    # 2022 and 2024 only gas (2.1622 tCO2 per 1000 Nm3 and its CH4 and N2O): 2024 is 110,000 / 100,000 = 1.1x 2022
    assert h[2024].total_tco2e == pytest.approx(h[2022].total_tco2e * 1.1, rel=1e-5)  # lines are rounded
    assert 200 < h[2022].total_tco2e < 230  # 100,000 Nm3 x 2.1622 t / 1000 Nm3 = 216 tCO2, plus CH4 and N2O
    assert h[2022].tco2e_per_10k_cny == pytest.approx(h[2022].total_tco2e / 10_000.0)
    # a draft restatement of 2022 is not counted until closed
    sources.add_activity(
        closed, SYSTEM, "p1", "steel.gas",
        {"period_start": local(6, 1, year=2022), "period_end": local(6, 30, year=2022), "amount": 50_000.0},
    )  # fmt: skip
    inventory.create(closed, SYSTEM, "p1", 2022, "ghg-protocol", reason="June gas invoice found")
    assert district.inventory_history(closed, SYSTEM, "p1")[2022] == h[2022]
    # closed, it replaces version 1: 150,000 / 100,000 = 1.5x the gas
    close_restated = [i for i in inventory.list_inventories(closed, SYSTEM, "p1") if i["status"] == "draft"][0]
    verifier = Scope(actor="verifier-1", role="verifier", park_id=pid(closed))
    for action, who in (("submit", SYSTEM), ("verify", verifier), ("close", SYSTEM)):
        inventory.transition(closed, who, "p1", close_restated["id"], action)
    again = district.inventory_history(closed, SYSTEM, "p1")[2022]
    assert again.version == 2 and again.total_tco2e == pytest.approx(h[2022].total_tco2e * 1.5, rel=1e-5)


def test_targets_are_stored_checked_and_judged_on_closed_inventories(closed):
    cap = Target(code="p1-cap-2030", subject="p1", kind="absolute_cap", target_year=2030, value=200.0,
                 unit="tCO2e", source="park plan 2024")  # fmt: skip
    records.add_target(closed, SYSTEM, "p1", cap, today_year=2026)
    with pytest.raises(Conflict):
        records.add_target(closed, SYSTEM, "p1", cap, today_year=2026)
    past = Target(code="p1-peak-2024", subject="p1", kind="absolute_peak", target_year=2024)
    with pytest.raises(ValidationFailed) as e:
        records.add_target(closed, SYSTEM, "p1", past, today_year=2026)
    assert e.value.issues[0].column == "p1-peak-2024: target_year" and "past" in e.value.issues[0].reason
    records.add_target(closed, SYSTEM, "p1", Target(code="p1-share", subject="p1", kind="non_fossil_share",
                                                   target_year=2030, value=25.0, unit="%"), today_year=2026)  # fmt: skip
    got = {s.target.code: s for s in district.target_standings(closed, SYSTEM, "p1")}
    h = district.inventory_history(closed, SYSTEM, "p1")
    p = got["p1-cap-2030"].progress
    assert p is not None and p.latest_year == 2024 and p.required_value == 200.0
    # gap = 2024's total - 200 t, over 2030 - 2024 = 6 years
    assert p.gap == pytest.approx(h[2024].total_tco2e - 200.0) and p.years_left == 6
    assert got["p1-share"].progress is None and "energy mix" in got["p1-share"].reason


def test_target_tenancy(closed):
    steel, office = enterprise_scope(closed, "steel"), enterprise_scope(closed, "office")
    mine = Target(code="steel-cap", subject="steel", kind="absolute_cap", target_year=2035, value=1.0, unit="tCO2e")
    records.add_target(closed, steel, "p1", mine, today_year=2026)
    with pytest.raises(Forbidden):  # office may not set steel's target
        records.add_target(closed, office, "p1", Target(code="x", subject="steel", kind="neutral", target_year=2050),
                           today_year=2026)  # fmt: skip
    with pytest.raises(Forbidden):
        records.add_target(closed, regulator(closed), "p1", Target(code="y", subject="p1", kind="neutral",
                                                                   target_year=2050), today_year=2026)  # fmt: skip
    records.add_target(closed, SYSTEM, "p1", Target(code="p1-neutral", subject="p1", kind="neutral",
                                                    target_year=2050), today_year=2026)  # fmt: skip
    assert [t.code for t in records.list_targets(closed, office, "p1")] == []
    assert [t.code for t in records.list_targets(closed, steel, "p1")] == ["steel-cap"]
    # a regulator sees the park's own target, not the tenant's
    assert [t.code for t in records.list_targets(closed, regulator(closed), "p1")] == ["p1-neutral"]
    with pytest.raises(NotFound):
        records.delete_target(closed, office, "p1", "steel-cap")
    records.delete_target(closed, steel, "p1", "steel-cap")
    assert records.list_targets(closed, steel, "p1") == []


def test_recognitions_persist_with_tenancy(closed):
    rec = {"holder": "steel", "kind": "green_factory", "level": "national", "year": 2024, "issuer": "工业和信息化部",
           "evidence": ["工信厅节函〔2024〕x号"], "list_name": "2024年度绿色制造名单"}  # fmt: skip
    with pytest.raises(Forbidden):
        records.add_recognition(closed, enterprise_scope(closed, "office"), "p1", rec)
    held = records.add_recognition(closed, SYSTEM, "p1", rec)
    assert held["holder"] == "steel" and held["evidence"] == ["工信厅节函〔2024〕x号"]
    with pytest.raises(ValidationFailed, match="already held"):
        records.add_recognition(closed, SYSTEM, "p1", rec)
    with pytest.raises(ValidationFailed) as e:
        records.add_recognition(closed, SYSTEM, "p1", {**rec, "year": 2025, "evidence": []})
    assert [i.column for i in e.value.issues] == ["evidence"]
    records.add_recognition(closed, SYSTEM, "p1", {**rec, "holder": "p1", "kind": "zero_carbon_park",
                                                   "level": "municipal"})  # fmt: skip
    assert [r["holder"] for r in records.list_recognitions(closed, enterprise_scope(closed, "office"), "p1")] == []
    assert [r["holder"] for r in records.list_recognitions(closed, enterprise_scope(closed, "steel"), "p1")] == [
        "steel"
    ]
    assert len(records.list_recognitions(closed, regulator(closed), "p1")) == 2
    # an import is all or none: one bad row, nothing recorded
    from parkzero.pathway.evaluations import RecognitionRegistry

    doc = RecognitionRegistry().to_json().replace('"recognitions": []', '"recognitions": [%s, %s]')
    good = '{"park": "p1", "holder": "office", "kind": "green_factory", "level": "municipal", "year": 2023,' \
           ' "issuer": "上海市经济和信息化委员会", "evidence": ["沪经信节〔2023〕1号"]}'  # fmt: skip
    bad = good.replace('"year": 2023', '"year": 1800')
    with pytest.raises(ValidationFailed):
        records.import_recognitions(closed, SYSTEM, "p1", doc % (good, bad), "recognitions.json")
    assert len(records.list_recognitions(closed, SYSTEM, "p1")) == 2
    assert len(records.import_recognitions(closed, SYSTEM, "p1", doc % (good, good.replace("2023,", "2024,")),
                                           "recognitions.json")) == 2  # fmt: skip


def test_district_sees_aggregates_of_every_park_and_nothing_of_tenants(closed):
    records.add_target(closed, SYSTEM, "p1", Target(code="p1-cap-2030", subject="p1", kind="absolute_cap",
                                                    target_year=2030, value=200.0, unit="tCO2e"), today_year=2026)  # fmt: skip
    close(closed, "p1", 2023, "ghg-protocol", "steel")  # a tenant's inventory: never in the district view
    whole = regulator(closed, None)
    parks = district.district(closed, whole)
    assert [p.park for p in parks] == ["farpark", "p1"]
    far, p1 = parks
    assert far.latest is None and far.core_910 is None and "no closed zcp-910" in far.core_910_reason
    mine = district.inventory_history(closed, SYSTEM, "p1")
    assert p1.latest is not None and p1.latest.total_tco2e == mine[2024].total_tco2e
    # 2022 -> 2024 emissions rose (gas 100,000 -> 110,000 Nm3): the trend cannot reach a 200 t cap by 2030
    assert [(s.target.code, s.progress and s.progress.status) for s in p1.standings] == [("p1-cap-2030", "off track")]
    core = p1.core_910
    assert core is not None and core.energy_use_tce > 0
    # energy CO2 per tce, the 910 core indicator, from the zcp-910 inventory: CO2 / tce
    assert core.tco2_per_tce == pytest.approx(core.energy_tco2 / core.energy_use_tce)
    # air pollutants from the same activity: 2024's 110,000 Nm3 of gas at AP-42's 1.6931 kg NOx per 1,000 Nm3
    air = p1.pollutants
    assert air["year"] == 2024 and air["activity"]["natural_gas_m3"] == pytest.approx(110_000.0)
    grid_mwh = air["activity"].get("grid_mwh", 0.0)  # no readings in 2024: nothing drawn from the grid
    assert grid_mwh == 0.0 and air["nox_t"] == pytest.approx(110_000 * 1.6931e-3 / 1000)  # = 0.18624 t
    # APeq = SO2 + NOx x 0.95/0.95 + PM x 0.95/2.18 (VOC left out)
    assert air["apeq_t"] == pytest.approx(air["so2_t"] + air["nox_t"] + air["pm_t"] * 0.95 / 2.18)
    # 2023 -> 2024: gas 120,000 -> 110,000 Nm3 and no more grid power: carbon and pollutants fall together
    assert air["co_control"]["from_year"] == 2023 and air["co_control"]["quadrant"] == "both reduced"
    # a park's regulator sees only its own park; a tenant cannot open the district view
    assert [p.park for p in district.district(closed, regulator(closed, "p1"))] == ["p1"]
    with pytest.raises(Forbidden):
        district.district(closed, enterprise_scope(closed, "steel"))
    text = str([p.as_dict() for p in parks])
    assert "steel" not in text and "office" not in text
