"""Energy flows: the balance arithmetic, the Sankey, and the queries over the daily rollups (both engines)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from parkzero.energy import flows
from parkzero.energy.flows import balance_from_sums, energy_balance
from parkzero.errors import NotFound, ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store.readings import merge_readings
from tests.conftest import enterprise_scope

SYSTEM = Scope.system("test")


# -- pure arithmetic -------------------------------------------------------------------------------
def test_balance_arithmetic():
    b = balance_from_sums(
        {
            "grid_import": 1000.0,
            "grid_export": 150.0,
            "pv_generation": 600.0,
            "battery_charge": 100.0,
            "battery_discharge": 80.0,
            "ev_charging": 50.0,
        },
        {"steel": 900.0, "office": 300.0},
    )
    # consumption = import + pv + discharge - export - charge = 1000 + 600 + 80 - 150 - 100 = 1430 kWh
    assert b.consumption_kwh == pytest.approx(1430.0)
    # self-consumption = (pv - export) / pv = (600 - 150) / 600 = 75 %
    assert b.self_consumption_pct == pytest.approx(75.0)
    # self-sufficiency = (consumption - import) / consumption = (1430 - 1000) / 1430 = 30.0699 %
    assert b.self_sufficiency_pct == pytest.approx(100 * 430 / 1430)
    assert b.ev_charging_kwh == 50.0


def test_balance_without_pv_or_consumption_has_no_percentages():
    b = balance_from_sums({"grid_import": 200.0})
    # no PV: self-consumption undefined; consumption = 200 kWh, all imported: self-sufficiency 0 %
    assert b.self_consumption_pct is None
    assert b.self_sufficiency_pct == 0.0
    empty = balance_from_sums({})
    assert empty.consumption_kwh == 0.0 and empty.self_sufficiency_pct is None


def test_percentages_are_clamped():
    # a battery exporting more than PV made: (100 - 130) / 100 = -30 % -> 0 %
    b = balance_from_sums({"pv_generation": 100.0, "grid_export": 130.0, "battery_discharge": 200.0})
    assert b.self_consumption_pct == 0.0
    # consumption = 0 + 100 + 200 - 130 - 0 = 170 kWh, nothing imported: 100 % self-sufficient
    assert b.consumption_kwh == pytest.approx(170.0)
    assert b.self_sufficiency_pct == 100.0


def test_tenant_view_hides_park_flows():
    b = balance_from_sums({"grid_import": 1000.0}, {"office": 300.0}, park_level=False)
    assert b.grid_import_kwh is None and b.pv_generation_kwh is None and b.self_sufficiency_pct is None
    assert b.consumption_kwh == 300.0
    assert b.sankey()["links"] == [{"source": "park", "target": "tenant:office", "value": 300.0}]


def test_sankey_nodes_and_links():
    b = balance_from_sums(
        {
            "grid_import": 1000.0,
            "grid_export": 150.0,
            "pv_generation": 600.0,
            "battery_charge": 100.0,
            "battery_discharge": 80.0,
            "ev_charging": 50.0,
        },
        {"steel": 900.0, "office": 300.0},
    )
    s = b.sankey()
    links = {(link["source"], link["target"]): link["value"] for link in s["links"]}
    # in: 1000 + 600 + 80 = 1680 kWh = out: steel 900 + office 300 + EV 50 + other 130 + charge 100 + export 150
    # other = consumption 1430 - tenants 1200 - EV 50 = 180 kWh
    assert links == {
        ("grid", "park"): 1000.0,
        ("pv", "park"): 600.0,
        ("battery_discharge", "park"): 80.0,
        ("park", "tenant:steel"): 900.0,
        ("park", "tenant:office"): 300.0,
        ("park", "other"): 180.0,
        ("park", "ev"): 50.0,
        ("park", "battery_charge"): 100.0,
        ("park", "export"): 150.0,
    }
    inflow = sum(v for (src, _), v in links.items() if src != "park")
    outflow = sum(v for (src, _), v in links.items() if src == "park")
    assert inflow == pytest.approx(outflow) == pytest.approx(1680.0)
    assert {n["name"] for n in s["nodes"]} == {src for src, _ in links} | {dst for _, dst in links}


def test_sankey_leaves_out_empty_flows():
    s = balance_from_sums({"grid_import": 100.0}, {"office": 100.0}).sankey()
    assert s["links"] == [
        {"source": "grid", "target": "park", "value": 100.0},
        {"source": "park", "target": "tenant:office", "value": 100.0},
    ]
    assert [n["name"] for n in s["nodes"]] == ["grid", "park", "tenant:office"]


def test_change_and_previous_period():
    assert flows.change_pct(120.0, 100.0) == pytest.approx(20.0)
    assert flows.change_pct(120.0, 0.0) is None
    # whole calendar months compare with the months before: March with February, a year with the year before
    assert flows.previous_period(date(2025, 3, 1), date(2025, 4, 1)) == (date(2025, 2, 1), date(2025, 3, 1))
    assert flows.previous_period(date(2025, 1, 1), date(2026, 1, 1)) == (date(2024, 1, 1), date(2025, 1, 1))
    assert flows.previous_period(date(2025, 1, 1), date(2025, 2, 1)) == (date(2024, 12, 1), date(2025, 1, 1))
    # other ranges: the same length just before (30 days)
    assert flows.previous_period(date(2025, 3, 2), date(2025, 4, 1)) == (date(2025, 1, 31), date(2025, 3, 2))


# -- over the store ----------------------------------------------------------------------------------
LOCAL = timedelta(hours=8)  # Asia/Shanghai


def _add_grid_channels(store) -> None:
    repo.create_entity(store, SYSTEM, "meters", "p1", {"code": "m-grid", "name": "Grid", "building": "b1"})
    for code, purpose in (("grid.import", "grid_import"), ("grid.export", "grid_export")):
        repo.create_entity(
            store,
            SYSTEM,
            "channels",
            "p1",
            {"code": code, "name": code, "quantity_kind": "active_energy", "purpose": purpose, "meter": "m-grid"},
        )


def _merge(store, values: dict[str, list[tuple[datetime, float]]]) -> None:
    ids = {c: int(i) for i, c in store.db.fetchall("SELECT id, code FROM channels")}
    rows = [(ids[code], ts, v) for code, points in values.items() for ts, v in points]
    table = pa.table(
        {
            "channel_id": pa.array([r[0] for r in rows], pa.int64()),
            "ts_start": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "value": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
    merge_readings(store, table, source="test", actor="test")


def _at(day: int, hour: int, month: int = 3) -> datetime:
    """A local quarter-hour start in 2025 as UTC."""
    return datetime(2025, month, day, hour, tzinfo=UTC) - LOCAL


@pytest.fixture
def flows_park(park):
    """Two local days, 1-2 March 2025, and one day in February, with round numbers per quarter hour."""
    _add_grid_channels(park)
    points: dict[str, list[tuple[datetime, float]]] = {}
    for day in (1, 2):
        for hour in range(24):
            t = _at(day, hour)
            points.setdefault("grid.import", []).append((t, 10.0))  # 24 h x 10 = 240 kWh a day
            points.setdefault("steel.main", []).append((t, 8.0))  # 192 kWh a day
            points.setdefault("steel.eaf", []).append((t, 5.0))  # sub-meter: never counted again
            points.setdefault("office.main", []).append((t, 2.0))  # 48 kWh a day
            if 10 <= hour < 14:
                points.setdefault("pv1.gen", []).append((t, 25.0))  # 4 h x 25 = 100 kWh a day
                points.setdefault("grid.export", []).append((t, 5.0))  # 4 h x 5 = 20 kWh a day
    points["grid.import"].append((_at(28, 12, month=2), 50.0))  # the previous period: 50 kWh
    _merge(park, points)
    return park


def test_energy_balance_from_readings(flows_park):
    b = energy_balance(flows_park, SYSTEM, "p1", date(2025, 3, 1), date(2025, 3, 3))
    # two days: import 2 x 240 = 480, export 2 x 20 = 40, PV 2 x 100 = 200 kWh
    assert (b.grid_import_kwh, b.grid_export_kwh, b.pv_generation_kwh) == (480.0, 40.0, 200.0)
    # consumption = 480 + 200 + 0 - 40 - 0 = 640 kWh
    assert b.consumption_kwh == pytest.approx(640.0)
    # self-consumption = (200 - 40) / 200 = 80 %; self-sufficiency = (640 - 480) / 640 = 25 %
    assert b.self_consumption_pct == pytest.approx(80.0)
    assert b.self_sufficiency_pct == pytest.approx(25.0)
    # tenants: top-level load only (steel.eaf is a sub-meter of steel.main): 2 x 192 = 384, 2 x 48 = 96 kWh
    assert b.tenants_kwh == {"steel": 384.0, "office": 96.0}
    links = {(x["source"], x["target"]): x["value"] for x in b.sankey()["links"]}
    # other = 640 - 384 - 96 = 160 kWh unmetered
    assert links[("park", "other")] == pytest.approx(160.0)


def test_energy_balance_accepts_local_midnights(flows_park):
    start = datetime(2025, 3, 1, tzinfo=UTC) - LOCAL
    b = energy_balance(flows_park, SYSTEM, "p1", start, start + timedelta(days=1))
    assert b.grid_import_kwh == 240.0  # one day
    with pytest.raises(ValidationFailed):
        energy_balance(flows_park, SYSTEM, "p1", start + timedelta(hours=1), start + timedelta(days=1))
    with pytest.raises(ValidationFailed):
        energy_balance(flows_park, SYSTEM, "p1", date(2025, 3, 2), date(2025, 3, 1))


def test_period_comparison(flows_park):
    cmp = flows.compare_periods(flows_park, SYSTEM, "p1", date(2025, 3, 1), date(2025, 3, 3))
    assert (cmp.previous.start, cmp.previous.end) == (date(2025, 2, 27), date(2025, 3, 1))
    # previous period: 50 kWh imported on 28 February, nothing else
    assert cmp.previous.grid_import_kwh == 50.0
    rows = {r["figure"]: r for r in cmp.rows()}
    # (480 - 50) / 50 = +860 %
    assert rows["grid_import_kwh"]["change_pct"] == pytest.approx(860.0)


def test_monthly_pv_and_latest_day(flows_park):
    months = flows.monthly_pv_production(flows_park, SYSTEM, "p1", date(2025, 4, 1), months=3)
    # January: none, February: none, March: 2 x 100 = 200 kWh
    assert months == [(date(2025, 1, 1), None), (date(2025, 2, 1), None), (date(2025, 3, 1), 200.0)]
    assert flows.latest_day(flows_park, SYSTEM, "p1") == date(2025, 3, 2)
    trend = flows.daily_consumption(flows_park, SYSTEM, "p1", "office", date(2025, 2, 28), date(2025, 3, 3))
    assert trend == [(date(2025, 2, 28), None), (date(2025, 3, 1), 48.0), (date(2025, 3, 2), 48.0)]


def test_tenant_sees_only_its_own_consumption(flows_park):
    office = enterprise_scope(flows_park, "office")
    b = energy_balance(flows_park, office, "p1", date(2025, 3, 1), date(2025, 3, 3))
    assert not b.park_level
    assert b.tenants_kwh == {"office": 96.0}  # 2 x 48 kWh
    assert b.consumption_kwh == 96.0
    assert b.grid_import_kwh is None and b.pv_generation_kwh is None and b.self_sufficiency_pct is None
    assert "grid" not in {n["name"] for n in b.sankey()["nodes"]}
    assert flows.monthly_pv_production(flows_park, office, "p1", date(2025, 4, 1)) == []
    # another tenant's trend is empty, not leaked
    steel_days = flows.daily_consumption(flows_park, office, "p1", "steel", date(2025, 3, 1), date(2025, 3, 3))
    assert all(v is None for _, v in steel_days)


def test_regulator_sees_park_flows_partner_sees_nothing(flows_park):
    pid = flows_park.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    regulator = Scope(actor="reg", role="regulator", park_id=pid)
    b = energy_balance(flows_park, regulator, "p1", date(2025, 3, 1), date(2025, 3, 3))
    assert b.park_level and b.grid_import_kwh == 480.0
    with pytest.raises(NotFound):
        energy_balance(
            flows_park, Scope(actor="x", role="partner", park_id=pid), "p1", date(2025, 3, 1), date(2025, 3, 3)
        )
