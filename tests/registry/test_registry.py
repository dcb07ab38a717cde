"""Registry CRUD, import/export, validation and tenant scoping in the data layer, on both engines."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry.model import credit_code_ok
from parkzero.registry.scope import Scope
from tests.conftest import SMALL_PARK, enterprise_scope

SYSTEM = Scope.system("test")


def test_import_then_export_round_trips(park):
    doc = registry_io.export_registry(park, SYSTEM)
    assert len(doc["parks"][0]["meters"]) == 3
    channels = {c["code"]: c for m in doc["parks"][0]["meters"] for c in m["channels"]}
    assert channels["steel.eaf"]["parent"] == "steel.main"
    assert channels["steel.gas"]["unit"] == "Nm3"  # canonical unit filled from the quantity kind
    # importing the export again changes nothing
    assert registry_io.import_registry(park, SYSTEM, doc) == {}


def test_import_is_all_or_nothing(store):
    bad = copy.deepcopy(SMALL_PARK)
    bad["parks"][0]["buildings"][0]["floor_area_m2"] = -5
    bad["parks"][0]["meters"][0]["channels"][0]["quantity_kind"] = "vibes"
    with pytest.raises(ValidationFailed) as err:
        registry_io.import_registry(store, SYSTEM, bad)
    reasons = " ".join(i.reason for i in err.value.issues)
    assert "floor area" in reasons and "quantity kind" in reasons
    assert repo.list_parks(store, SYSTEM) == []


def test_unknown_reference_rolls_back_everything(store):
    bad = copy.deepcopy(SMALL_PARK)
    bad["parks"][0]["meters"][1]["enterprise"] = "nobody"
    with pytest.raises(ValidationFailed, match="no enterprise 'nobody'"):
        registry_io.import_registry(store, SYSTEM, bad)
    assert store.db.fetchone("SELECT count(*) FROM channels")[0] == 0
    assert repo.list_parks(store, SYSTEM) == []


def test_crud_is_audited(park):
    created = repo.create_entity(park, SYSTEM, "buildings", "p1", {"code": "b2", "name": "Lab", "floor_area_m2": 800})
    updated = repo.update_entity(park, SYSTEM, "buildings", "p1", "b2", {"floor_area_m2": 850.0})
    assert updated["floor_area_m2"] == 850.0
    repo.delete_entity(park, SYSTEM, "buildings", "p1", "b2")
    with pytest.raises(NotFound):
        repo.get_entity(park, SYSTEM, "buildings", "p1", "b2")
    log = park.db.fetchall(
        "SELECT action, before, after FROM audit_log WHERE entity = 'buildings' AND entity_id = ?",
        (str(created["id"]),),
    )
    assert [a for a, _, _ in log] == ["create", "update", "delete"]
    assert '"floor_area_m2": 800' in log[1][1] and '"floor_area_m2": 850.0' in log[1][2]


def test_referenced_records_are_not_deleted(park):
    with pytest.raises(Conflict, match="referred to"):
        repo.delete_entity(park, SYSTEM, "meters", "p1", "m-steel")


def test_sub_meter_hierarchy_rejects_cycles_and_mixed_quantities(park):
    with pytest.raises(ValidationFailed, match="cycle"):
        repo.update_entity(park, SYSTEM, "channels", "p1", "steel.main", {"parent": "steel.eaf"})
    with pytest.raises(ValidationFailed, match="measures"):
        repo.update_entity(park, SYSTEM, "channels", "p1", "steel.eaf", {"parent": "steel.gas"})


def test_channel_unit_must_be_canonical(park):
    with pytest.raises(ValidationFailed, match="canonical unit"):
        repo.create_entity(
            park,
            SYSTEM,
            "channels",
            "p1",
            {"code": "x", "name": "x", "meter": "m-pv", "quantity_kind": "active_energy", "unit": "MWh"},
        )


def test_tenant_sees_and_changes_only_its_own(park):
    office = enterprise_scope(park, "office")
    codes = {c["code"] for c in repo.list_entities(park, office, "channels", "p1")}
    assert codes == {"office.main"}
    assert [e["code"] for e in repo.list_entities(park, office, "enterprises", "p1")] == ["office"]
    assert repo.list_entities(park, office, "products", "p1") == []
    with pytest.raises(NotFound):
        repo.get_entity(park, office, "products", "p1", "coil")
    with pytest.raises(Forbidden):
        repo.create_entity(
            park, office, "products", "p1", {"code": "fake", "name": "x", "declared_unit": "t", "enterprise": "steel"}
        )
    with pytest.raises(Forbidden):
        repo.update_entity(park, office, "channels", "p1", "office.main", {"name": "renamed"})
    # its own product: allowed
    mine = repo.create_entity(
        park,
        office,
        "products",
        "p1",
        {"code": "svc", "name": "Consulting", "declared_unit": "h", "enterprise": "office"},
    )
    assert mine["enterprise"] == "office"
    assert set(repo.channel_index(park, office, "p1")) == {"office.main"}


def test_partner_sees_nothing_and_regulator_cannot_write(park):
    partner = Scope(actor="acme", role="partner")
    assert repo.list_parks(park, partner) == []
    regulator = Scope(actor="district", role="regulator")
    assert [p["code"] for p in repo.list_parks(park, regulator)] == ["p1"]
    with pytest.raises(Forbidden):
        repo.create_entity(park, regulator, "zones", "p1", {"code": "z9", "name": "x"})


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_credit_code_check_digit_detects_any_single_change(body):
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    valid = [body + c for c in chars if credit_code_ok(body + c)]
    assert len(valid) == 1  # exactly one check character fits each 17-character body
    last = valid[0][-1]
    assert not credit_code_ok(body + chars[(chars.index(last) + 1) % 31])
