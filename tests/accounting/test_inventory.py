"""Inventory lifecycle: draft -> submitted -> verified -> closed, restatements, locked factor sets, traces."""

from __future__ import annotations

import pytest

from parkzero.accounting import inventory, sources
from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.registry.scope import Scope
from tests.accounting.conftest import STEEL_GAS, SYSTEM, YEAR, local
from tests.conftest import enterprise_scope


def verifier(store) -> Scope:
    pid = store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    return Scope(actor="verifier-1", role="verifier", park_id=pid)


def regulator(store) -> Scope:
    pid = store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    return Scope(actor="district", role="regulator", park_id=pid)


def test_lifecycle_and_restatement(ledger):
    steel = enterprise_scope(ledger, "steel")
    inv = inventory.create(ledger, steel, "p1", YEAR, "ghg-protocol", "steel")
    assert (inv["status"], inv["version"]) == ("draft", 1)
    with pytest.raises(Forbidden):
        inventory.transition(ledger, steel, "p1", inv["id"], "verify")
    inventory.transition(ledger, steel, "p1", inv["id"], "submit")
    v = verifier(ledger)
    with pytest.raises(ValidationFailed, match="say why"):
        inventory.transition(ledger, v, "p1", inv["id"], "reject")
    inventory.comment(ledger, v, "p1", inv["id"], "Meter calibration certificate checked.")
    inventory.transition(ledger, v, "p1", inv["id"], "verify")
    with pytest.raises(Conflict):  # a verified inventory is not recomputed in place
        inventory.create(ledger, steel, "p1", YEAR, "ghg-protocol", "steel")
    closed = inventory.transition(ledger, steel, "p1", inv["id"], "close")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    before = inventory.result(ledger, steel, "p1", inv["id"])
    # the factor sets it used are locked
    locked = {r[0] for r in ledger.db.fetchall("SELECT code FROM factor_sets WHERE locked_at IS NOT NULL")}
    assert "cn-electricity" in locked
    # new activity arrives: the closed inventory stays, a restatement needs a reason
    sources.save_source(ledger, SYSTEM, "p1", STEEL_GAS)
    sources.add_activity(
        ledger, SYSTEM, "p1", "steel.gas", {"period_start": local(3, 1), "period_end": local(4, 1), "amount": 1000.0}
    )
    with pytest.raises(ValidationFailed, match="restatement needs a reason"):
        inventory.create(ledger, steel, "p1", YEAR, "ghg-protocol", "steel")
    v2 = inventory.create(ledger, steel, "p1", YEAR, "ghg-protocol", "steel", reason="gas invoice for March found")
    assert (v2["version"], v2["restates_id"], v2["status"]) == (2, inv["id"], "draft")
    assert inventory.result(ledger, steel, "p1", inv["id"]) == before  # unchanged
    assert inventory.result(ledger, steel, "p1", v2["id"])["totals"]["scope1"] > 0
    actions = [e["action"] for e in inventory.events(ledger, steel, "p1", inv["id"])]
    assert actions == ["create", "submit", "comment", "verify", "close"]


def test_explain_traces_a_line_to_readings_and_factor(ledger):
    inv = inventory.create(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", "steel")
    lines = inventory.lines(ledger, SYSTEM, "p1", inv["id"])
    march = next(ln for ln in lines if ln["source"] == "steel.elec" and ln["month"] == 3)
    trace = inventory.explain(ledger, SYSTEM, "p1", inv["id"], march["line_no"])["trace"]
    assert trace["channels"] == [{"channel": "steel.main", "amount": 4800.0, "n_readings": 48, "n_estimated": 0}]
    assert trace["attribution"]["supply"] == "park_network"
    assert trace["factors"][0]["factor_id"] == "electricity.cn.east_china"
    assert trace["factors"][0]["source"]
    assert trace["formula"].startswith("4,416 kWh × 0.55 tCO2/MWh")


def test_visibility(ledger):
    inv = inventory.create(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", "steel")
    park_inv = inventory.create(ledger, SYSTEM, "p1", YEAR, "ghg-protocol")
    office = enterprise_scope(ledger, "office")
    with pytest.raises(NotFound):
        inventory.get(ledger, office, "p1", inv["id"])
    assert inventory.list_inventories(ledger, office, "p1") == []
    with pytest.raises(NotFound):  # a verifier sees nothing in draft
        inventory.get(ledger, verifier(ledger), "p1", inv["id"])
    reg = regulator(ledger)
    with pytest.raises(NotFound):
        inventory.get(ledger, reg, "p1", park_inv["id"])  # not closed yet
    for action, who in (("submit", SYSTEM), ("verify", verifier(ledger)), ("close", SYSTEM)):
        inventory.transition(ledger, who, "p1", park_inv["id"], action)
    seen = inventory.result(ledger, reg, "p1", park_inv["id"])
    assert "lines" not in seen and "by_enterprise" not in seen and seen["totals"]["scope2_location"] > 0
    with pytest.raises(Forbidden):
        inventory.lines(ledger, reg, "p1", park_inv["id"])


@pytest.mark.postgres
def test_postgres_refuses_changes_to_closed_inventories(pg_store):
    import psycopg

    from parkzero.registry import io as registry_io
    from tests.conftest import SMALL_PARK

    registry_io.import_registry(pg_store, SYSTEM, SMALL_PARK)
    inv = inventory.create(pg_store, SYSTEM, "p1", YEAR, "ghg-protocol")
    for action, who in (("submit", SYSTEM), ("verify", verifier(pg_store)), ("close", SYSTEM)):
        inventory.transition(pg_store, who, "p1", inv["id"], action)
    with pytest.raises(psycopg.errors.RaiseException, match="is closed"):
        with pg_store.db.transaction():
            pg_store.db.execute("UPDATE inventories SET result = '{}' WHERE id = ?", (inv["id"],))
    pg_store.db.reset_broken()
    assert inventory.get(pg_store, SYSTEM, "p1", inv["id"])["status"] == "closed"
