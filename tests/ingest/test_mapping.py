"""Column mappings: validation, JSON round trip, and saved mappings scoped per tenant on both engines."""

from __future__ import annotations

import json

import pytest

from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.ingest.files import ingest_file
from parkzero.ingest.mapping import ColumnMapping, delete_mapping, get_mapping, list_mappings, save_mapping
from parkzero.registry.scope import Scope
from tests.conftest import enterprise_scope

from .conftest import stored, write

SYSTEM = Scope.system("tester")


def test_mapping_json_round_trip():
    m = ColumnMapping(
        name="scada",
        layout="long",
        timestamp_column="采集时间",
        unit="万kWh",
        timezone="Asia/Shanghai",
        channel_map={"1#主变": "steel.main"},
        skip_rows=2,
        decimal=",",
    )
    text = m.to_json()
    assert json.loads(text)["channel_map"] == {"1#主变": "steel.main"}
    assert ColumnMapping.from_json(text) == m
    assert m.thousands_separator == "."  # follows the decimal comma


@pytest.mark.parametrize(
    ("spec", "column"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"unit": "furlong"}, "unit"),
        ({"layout": "diagonal"}, "layout"),
        ({"decimal": ",", "thousands": ","}, None),
        ({"skip_rows": -1}, "skip_rows"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_mappings(spec, column):
    with pytest.raises(ValidationFailed) as err:
        ColumnMapping.from_dict(spec)
    assert err.value.issues[0].column == column


def test_save_get_list_update_delete(park):
    first = ColumnMapping(name="scada", timezone="Asia/Shanghai")
    save_mapping(park, SYSTEM, "p1", first)
    assert get_mapping(park, SYSTEM, "p1", "scada") == first
    changed = ColumnMapping(name="scada", timezone="Asia/Shanghai", unit="MWh")
    save_mapping(park, SYSTEM, "p1", changed.model_dump())
    assert get_mapping(park, SYSTEM, "p1", "scada").unit == "MWh"
    listed = list_mappings(park, SYSTEM, "p1")
    assert [m["name"] for m in listed] == ["scada"] and listed[0]["mapping"]["unit"] == "MWh"
    audit = park.db.fetchall("SELECT action FROM audit_log WHERE entity = 'column_mappings' ORDER BY id")
    assert [a for (a,) in audit] == ["create", "update"]
    delete_mapping(park, SYSTEM, "p1", "scada")
    assert list_mappings(park, SYSTEM, "p1") == []
    with pytest.raises(NotFound):
        get_mapping(park, SYSTEM, "p1", "scada")


def test_tenants_see_only_their_own_mappings(park):
    steel, office = enterprise_scope(park, "steel"), enterprise_scope(park, "office")
    save_mapping(park, steel, "p1", ColumnMapping(name="steel-export", unit="MWh"))
    save_mapping(park, SYSTEM, "p1", ColumnMapping(name="park-wide"))
    assert [m["name"] for m in list_mappings(park, steel, "p1")] == ["steel-export"]
    assert list_mappings(park, office, "p1") == []
    assert {m["name"] for m in list_mappings(park, SYSTEM, "p1")} == {"park-wide", "steel-export"}
    with pytest.raises(NotFound):
        get_mapping(park, office, "p1", "steel-export")
    with pytest.raises(Conflict):  # the name is taken, without revealing the other tenant's mapping
        save_mapping(park, office, "p1", ColumnMapping(name="steel-export"))
    assert get_mapping(park, steel, "p1", "steel-export").unit == "MWh"
    owner = park.db.fetchone("SELECT enterprise_id FROM column_mappings WHERE name = 'steel-export'")[0]
    assert owner == steel.enterprise_id
    with pytest.raises(NotFound):
        delete_mapping(park, office, "p1", "steel-export")


def test_read_only_roles_cannot_save(park):
    with pytest.raises(Forbidden):
        save_mapping(park, Scope("v", "verifier", park_id=1), "p1", ColumnMapping(name="x"))


def test_a_tenant_reuses_its_saved_mapping(park, tmp_path):
    steel = enterprise_scope(park, "steel")
    save_mapping(
        park,
        steel,
        "p1",
        ColumnMapping(name="eaf", timezone="Asia/Shanghai", unit="MWh", channel_map={"电弧炉": "steel.eaf"}),
    )
    path = write(tmp_path, "eaf.csv", "时间,设备名称,表计,电量\n2025/3/1 0:00,炉1,电弧炉,0.75\n", "gbk")
    report = ingest_file(park, steel, path, park_code="p1", mapping="eaf")
    assert report.readings == 1
    # 0.75 MWh x 1000 kWh/MWh = 750 kWh at 2025-03-01 00:00 Shanghai
    assert stored(park, "steel.eaf") == [("2025-02-28T16:00:00+00:00", 750.0, 0)]
    with pytest.raises(NotFound):  # another tenant cannot use it
        ingest_file(park, enterprise_scope(park, "office"), path, park_code="p1", mapping="eaf")
