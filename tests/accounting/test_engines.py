"""The same inventory on DuckDB, PostgreSQL and Spark (local mode, over a Parquet export)."""

from __future__ import annotations

import json

import pytest

from parkzero.accounting import engine, instruments, scaleout, sources
from parkzero.store.export import export_parquet
from tests.accounting.conftest import STEEL_GAS, SYSTEM, YEAR, local


def _with_manual_and_market(store):
    ev = sources.add_evidence(store, SYSTEM, "p1", "gas.pdf", b"%PDF gas", enterprise_code="steel")
    sources.save_source(store, SYSTEM, "p1", STEEL_GAS)
    sources.add_activity(
        store,
        SYSTEM,
        "p1",
        "steel.gas",
        {"period_start": local(3, 1), "period_end": local(4, 1), "amount": 12_345.6, "evidence_id": ev["id"]},
    )
    instruments.register(
        store,
        SYSTEM,
        "p1",
        {
            "code": "g1",
            "enterprise": "office",
            "kind": "gec",
            "serial_first": 1,
            "serial_last": 1,
            "vintage_year": YEAR,
        },
    )
    instruments.retire(store, SYSTEM, "p1", "g1", year=YEAR, mwh=1)


@pytest.mark.spark
def test_three_engines_give_the_same_bytes(ledger, spark, tmp_path):
    _with_manual_and_market(ledger)
    local_bytes = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol").canonical_bytes()
    export_parquet(ledger, tmp_path / "export")
    [result] = scaleout.run_spark(spark, tmp_path / "export", YEAR, "ghg-protocol", ["p1"])
    assert result.canonical_bytes() == local_bytes
    totals = json.loads(local_bytes)["totals"]
    assert totals["scope1"] > 0 and totals["scope2_location"] > 0  # a real inventory, not an empty one
