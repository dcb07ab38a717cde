"""A small park with grid, PV and two tenants, two local days of hourly readings in March 2023, and sources.

Per hour (kWh): steel 100, office 20, PV 30 from 08:00 to 16:00 local, park losses 5; the park connection
imports 125 - PV. So in PV hours the grid share of delivered power is (125 - 30) / 125 = 0.76, else 1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from parkzero.accounting import sources
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store.readings import merge_readings

SYSTEM = Scope.system("test")
LOCAL = timedelta(hours=8)  # Asia/Shanghai
YEAR = 2023


def local(month: int, day: int, hour: int = 0, year: int = YEAR) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC) - LOCAL


def merge(store, values: dict[str, list[tuple[datetime, float]]]) -> None:
    ids = {c: int(i) for i, c in store.db.fetchall("SELECT id, code FROM channels")}
    rows = [(ids[code], ts, v) for code, points in values.items() for ts, v in points]
    merge_readings(
        store,
        pa.table(
            {
                "channel_id": pa.array([r[0] for r in rows], pa.int64()),
                "ts_start": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
                "value": pa.array([r[2] for r in rows], pa.float64()),
            }
        ),
        source="test",
        actor="test",
    )


def add_grid_meter(store) -> None:
    repo.create_entity(store, SYSTEM, "meters", "p1", {"code": "m-grid", "name": "Park connection", "building": "b1"})
    for code, purpose in (("grid.import", "grid_import"), ("grid.export", "grid_export")):
        repo.create_entity(
            store,
            SYSTEM,
            "channels",
            "p1",
            {"code": code, "name": code, "quantity_kind": "active_energy", "purpose": purpose, "meter": "m-grid"},
        )


def hourly_readings(days=(1, 2), month=3) -> dict[str, list[tuple[datetime, float]]]:
    points: dict[str, list[tuple[datetime, float]]] = {
        k: [] for k in ("steel.main", "office.main", "pv1.gen", "grid.import")
    }
    for day in days:
        for hour in range(24):
            ts = local(month, day, hour)
            pv = 30.0 if 8 <= hour < 16 else 0.0
            points["steel.main"].append((ts, 100.0))
            points["office.main"].append((ts, 20.0))
            points["pv1.gen"].append((ts, pv))
            points["grid.import"].append((ts, 125.0 - pv))
    return points


ELECTRICITY_SOURCES = [
    {
        "code": "steel.elec",
        "name": "Steel purchased electricity",
        "enterprise": "steel",
        "scope": 2,
        "category": "electricity",
        "method": "electricity",
        "factor_ref": "grid",
        "activity_unit": "kWh",
        "channels": ["steel.main"],
    },
    {
        "code": "office.elec",
        "name": "Office purchased electricity",
        "enterprise": "office",
        "scope": 2,
        "category": "electricity",
        "method": "electricity",
        "factor_ref": "grid",
        "activity_unit": "kWh",
        "channels": ["office.main"],
    },
    {
        "code": "op.elec",
        "name": "Park connection (operator's own)",
        "scope": 2,
        "category": "electricity",
        "method": "electricity",
        "factor_ref": "grid",
        "activity_unit": "kWh",
        "channels": ["grid.import"],
        "params": {"supply": "park_residual"},
    },
]


STEEL_GAS = {
    "code": "steel.gas",
    "name": "Reheating furnace gas",
    "enterprise": "steel",
    "scope": 1,
    "category": "stationary_combustion",
    "method": "combustion",
    "factor_ref": "fuel.natural_gas",
    "activity_unit": "Nm3",
}


@pytest.fixture
def ledger(park):
    """SMALL_PARK with a park connection meter, two days of readings and the three electricity sources."""
    add_grid_meter(park)
    merge(park, hourly_readings())
    for rec in ELECTRICITY_SOURCES:
        sources.save_source(park, SYSTEM, "p1", rec)
    return park
