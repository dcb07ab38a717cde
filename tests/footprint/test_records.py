"""Stored footprints on both engines: the review lifecycle and its roles, immutability of what is published
(a correction is a new footprint that deprecates the old), tenant scope, and nothing written for a bad one."""

from __future__ import annotations

import json

import pytest

from parkzero.errors import Conflict, Forbidden, NotFound, ValidationFailed
from parkzero.footprint import partners, records
from parkzero.registry.scope import Scope
from tests.cli.test_footprint_cli import _coil
from tests.conftest import enterprise_scope

SYSTEM = Scope.system("test")


def verifier(park) -> Scope:
    pid = park.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    return Scope(actor="verifier-1", role="verifier", park_id=pid)


def count(store, table: str) -> int:
    return store.db.fetchone(f"SELECT count(*) FROM {table}")[0]


def test_lifecycle_roles_and_trail(park):
    steel = enterprise_scope(park, "steel")
    rec = records.create(park, steel, "p1", _coil(1.85), product_code="coil")
    assert rec["status"] == "draft" and rec["declared_unit"] == "kilogram" and rec["pcf_kgco2e"] == 1.85
    records.transition(park, steel, "p1", rec["id"], "submit")
    with pytest.raises(Forbidden, match="only a verifier"):
        records.transition(park, steel, "p1", rec["id"], "verify")  # no one verifies their own footprint
    with pytest.raises(ValidationFailed, match="say why"):
        records.transition(park, verifier(park), "p1", rec["id"], "reject")
    records.transition(park, verifier(park), "p1", rec["id"], "reject", "the electricity factor is of 2021")
    assert records.get(park, steel, "p1", rec["id"])["status"] == "draft"
    records.transition(park, steel, "p1", rec["id"], "submit")
    records.transition(park, verifier(park), "p1", rec["id"], "verify", "evidence checked")
    done = records.transition(park, steel, "p1", rec["id"], "publish")
    assert done["status"] == "published" and done["published_at"] is not None
    trail = records.events(park, steel, "p1", rec["id"])
    assert [e["action"] for e in trail] == ["create", "submit", "reject", "submit", "verify", "publish"]
    assert trail[2]["body"] == "the electricity factor is of 2021" and trail[2]["role"] == "verifier"


def test_published_never_changes_a_correction_deprecates_it(park):
    steel = enterprise_scope(park, "steel")
    rec = records.create(park, steel, "p1", _coil(1.85))
    for action, who in (("submit", steel), ("verify", verifier(park)), ("publish", steel)):
        records.transition(park, who, "p1", rec["id"], action)
    for action in ("submit", "verify", "reject", "publish"):
        with pytest.raises(Conflict, match="is published"):
            records.transition(park, verifier(park) if action in ("verify", "reject") else steel, "p1", rec["id"],
                               action, "x")  # fmt: skip
    before = records.get(park, steel, "p1", rec["id"])["document"]
    new = records.new_version(park, steel, "p1", rec["id"], _coil(1.70))
    assert new["pf_id"] != rec["pf_id"] and new["document"]["precedingPfIds"] == [rec["pf_id"]]
    assert records.get(park, steel, "p1", rec["id"])["document"] == before  # untouched until the new one is out
    for action, who in (("submit", steel), ("verify", verifier(park)), ("publish", steel)):
        records.transition(park, who, "p1", new["id"], action)
    old = records.get(park, steel, "p1", rec["id"])
    assert old["pact_status"] == "Deprecated" and old["document"]["status"] == "Deprecated"
    # the figures of the deprecated footprint are those it was published with
    assert old["document"]["pcf"] == before["pcf"] and old["pcf_kgco2e"] == 1.85


def test_tenants_see_their_own_only(park):
    steel, office = enterprise_scope(park, "steel"), enterprise_scope(park, "office")
    rec = records.create(park, steel, "p1", _coil(1.85))
    assert [r["id"] for r in records.list_footprints(park, office, "p1")] == []
    with pytest.raises(NotFound):
        records.get(park, office, "p1", rec["id"])
    with pytest.raises(NotFound):
        records.transition(park, office, "p1", rec["id"], "submit")
    with pytest.raises(NotFound):  # steel is not even visible to office
        records.create(park, office, "p1", _coil(2.0), enterprise_code="steel")
    assert records.create(park, office, "p1", _coil(2.0))["enterprise_id"] == office.enterprise_id
    # a verifier sees nothing before it is submitted
    assert records.list_footprints(park, verifier(park), "p1") == []


def test_a_bad_footprint_writes_nothing(park):
    bad = _coil(1.85)
    bad["pcf"]["declaredUnit"] = "barrel"
    with pytest.raises(ValidationFailed) as info:
        records.create(park, SYSTEM, "p1", bad, enterprise_code="steel")
    assert "pcf.declaredUnit" in str(info.value)
    dup = _coil(1.85)
    records.create(park, SYSTEM, "p1", dup, enterprise_code="steel")
    with pytest.raises(Conflict, match="recorded already"):
        records.create(park, SYSTEM, "p1", dup, enterprise_code="steel")
    assert count(park, "footprints") == 1 and count(park, "footprint_events") == 1


def test_sharing_needs_a_partner_of_the_park_and_never_a_suppliers_footprint(park):
    secret, buyer = partners.create(park, SYSTEM, "p1", "Buyer")
    row = partners.partner_id(park, SYSTEM, "p1", buyer["client_id"])
    received = records.create(park, SYSTEM, "p1", _coil(0.9), enterprise_code="steel", origin="supplier",
                              supplier="Ore Co.")  # fmt: skip
    assert received["status"] == "received"
    with pytest.raises(ValidationFailed, match="not ours to share"):
        records.share(park, SYSTEM, "p1", received["id"], row)
    with pytest.raises(NotFound):
        partners.partner_id(park, SYSTEM, "p1", "pact-nope")
    partners.revoke(park, SYSTEM, "p1", buyer["client_id"])
    with pytest.raises(Exception, match="client authentication failed"):
        partners.authenticate(park, buyer["client_id"], secret)
    audit = park.db.fetchall("SELECT action FROM audit_log WHERE entity = 'pact_clients' ORDER BY id")
    assert [a[0] for a in audit] == ["create", "revoke"]
    assert "secret" not in json.dumps(partners.list_partners(park, SYSTEM, "p1"), default=str)


def test_a_footprint_is_served_in_the_versions_it_converts_to(park):
    from datetime import UTC, datetime

    from parkzero.footprint import pact

    v3 = pact.footprint_from_result(
        version="3", product_ids=["urn:pact:p1.parkzero:product-id:coil"], product_name="coil",
        product_description="coil", company_name="steel", company_ids=["urn:pact:company:customcode:vendor-assigned:steel"],
        declared_unit="kg", pcf_excluding_biogenic=1.85, fossil_ghg_emissions=1.85,
        reference_period_start=datetime(2025, 1, 1, tzinfo=UTC), reference_period_end=datetime(2026, 1, 1, tzinfo=UTC),
        primary_data_share=60.0, product_classifications=["urn:pact:productclassification:un-cpc:41231"],
        geography_country="CN",
    ).to_json()  # fmt: skip
    secret, buyer = partners.create(park, SYSTEM, "p1", "Buyer")
    partner = partners.authenticate(park, buyer["client_id"], secret)
    served = {}
    for name, doc in (("v2", _coil(1.85)), ("v3", v3)):
        rec = records.create(park, SYSTEM, "p1", doc, enterprise_code="steel")
        for action in ("submit", "verify", "publish"):
            records.transition(park, SYSTEM, "p1", rec["id"], action)
        records.share(park, SYSTEM, "p1", rec["id"], partner.id)
        served[name] = records.get(park, SYSTEM, "p1", rec["id"])
    assert served["v2"]["served_versions"] == "2,3"
    assert served["v3"]["served_versions"] == "3"  # v2.3 needs a dqi for 2025 that v3 does not carry
    assert {d["id"] for d in records.for_partner(park, partner, "2")} == {served["v2"]["pf_id"]}
    assert {d["id"] for d in records.for_partner(park, partner, "3")} == {served["v2"]["pf_id"], served["v3"]["pf_id"]}
    assert records.one_for_partner(park, partner, served["v3"]["pf_id"], "2") is None


def test_postgresql_refuses_changing_a_published_footprint(pg_store):
    """Beside the code: the database itself keeps a published footprint as it was (deprecation aside)."""
    import psycopg

    from parkzero.registry import io as registry_io
    from tests.conftest import SMALL_PARK

    registry_io.import_registry(pg_store, SYSTEM, SMALL_PARK)
    rec = records.create(pg_store, SYSTEM, "p1", _coil(1.85), enterprise_code="steel")
    for action in ("submit", "verify", "publish"):
        records.transition(pg_store, SYSTEM, "p1", rec["id"], action)
    for sql in (
        "UPDATE footprints SET pcf_kgco2e = 1.0 WHERE id = ?",
        "UPDATE footprints SET document = replace(document, '1.85', '1.0') WHERE id = ?",
        "UPDATE footprints SET status = 'draft' WHERE id = ?",
        "DELETE FROM footprints WHERE id = ?",
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="is published"):
            pg_store.db.execute(sql, (rec["id"],))
    # a deprecation is allowed: only the status words change
    new = records.new_version(pg_store, SYSTEM, "p1", rec["id"], _coil(1.70))
    for action in ("submit", "verify", "publish"):
        records.transition(pg_store, SYSTEM, "p1", new["id"], action)
    assert records.get(pg_store, SYSTEM, "p1", rec["id"])["pact_status"] == "Deprecated"
