"""A small park with a few days of electricity readings, an operator and two tenant users, for the pages.

SMALL_PARK (tests/conftest.py) has PV and tenant loads; this adds a grid connection (import, export) and a
battery, and four days of 15-minute readings, 2025-03-01 .. 2025-03-04 (Asia/Shanghai), plus two days in
February so that the period comparison has a previous period.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from parkzero.registry import io as registry_io
from parkzero.registry import repo, users
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.readings import merge_readings
from tests.conftest import SMALL_PARK

SYSTEM = Scope.system("test")
PASSWORD = "correct horse battery"
SECRET = "test-secret-for-hs256-at-least-32-bytes"
USERS = {  # username: (role, enterprise)
    "op": ("operator", None),
    "office-user": ("enterprise", "office"),
    "steel-user": ("enterprise", "steel"),
    "regulator-user": ("regulator", None),
}
DAYS = [datetime(2025, 2, 26), datetime(2025, 2, 27)] + [datetime(2025, 3, d) for d in range(1, 5)]
TZ_OFFSET = timedelta(hours=8)
EXTRA_CHANNELS = [  # meter, code, purpose
    ("m-grid", "grid.import", "grid_import"),
    ("m-grid", "grid.export", "grid_export"),
    ("m-bat", "bat.charge", "battery_charge"),
    ("m-bat", "bat.discharge", "battery_discharge"),
]


def slot_values(hour: float) -> dict[str, float]:
    """Energy of each channel in the quarter hour starting at local `hour` [kWh]."""
    pv = 140.0 * math.sin(math.pi * (hour - 6) / 12) if 6 <= hour < 18 else 0.0
    office = 20.0 if 8 <= hour < 18 else 5.0
    steel, eaf, common = 60.0, 30.0, 5.0
    charge = 10.0 if 11 <= hour < 13 else 0.0
    discharge = 10.0 if 18 <= hour < 20 else 0.0
    net = steel + office + common + charge - pv - discharge
    return {
        "pv1.gen": round(pv, 3),
        "office.main": office,
        "steel.main": steel,
        "steel.eaf": eaf,
        "bat.charge": charge,
        "bat.discharge": discharge,
        "grid.import": round(max(net, 0.0), 3),
        "grid.export": round(max(-net, 0.0), 3),
    }


def build(store: Store) -> Store:
    registry_io.import_registry(store, SYSTEM, SMALL_PARK)
    for meter in ("m-grid", "m-bat"):
        repo.create_entity(store, SYSTEM, "meters", "p1", {"code": meter, "name": meter, "building": "b1"})
    for meter, code, purpose in EXTRA_CHANNELS:
        repo.create_entity(
            store,
            SYSTEM,
            "channels",
            "p1",
            {"code": code, "name": code, "quantity_kind": "active_energy", "purpose": purpose, "meter": meter},
        )
    ids = {code: int(i) for i, code in store.db.fetchall("SELECT id, code FROM channels")}
    cols: dict[str, list] = {"channel_id": [], "ts_start": [], "value": []}
    for day in DAYS:
        for q in range(96):
            local = day + timedelta(minutes=15 * q)
            ts = (local - TZ_OFFSET).replace(tzinfo=UTC)
            for code, value in slot_values(q / 4).items():
                cols["channel_id"].append(ids[code])
                cols["ts_start"].append(ts)
                cols["value"].append(value)
    table = pa.table(
        {
            "channel_id": pa.array(cols["channel_id"], pa.int64()),
            "ts_start": pa.array(cols["ts_start"], pa.timestamp("us", tz="UTC")),
            "value": pa.array(cols["value"], pa.float64()),
        }
    )
    merge_readings(store, table, source="test", actor="test")
    for name, (role, enterprise) in USERS.items():
        users.create_user(store, SYSTEM, name, PASSWORD, role, park_code="p1", enterprise_code=enterprise)
    return store
