"""A computed footprint recorded as a PACT draft: its value, primary-data share and hot spots from the product
system of `tests/footprint/test_systems.py` (April 2023, melt shop -> rolling mill)."""

from __future__ import annotations

import pytest

from parkzero.errors import ValidationFailed
from parkzero.footprint import pact, records, results
from tests.conftest import enterprise_scope
from tests.footprint.test_systems import document, make_plant


def test_record_computed_coil(park):
    _, pf_id = make_plant(park)
    steel = enterprise_scope(park, "steel")
    doc = document(pf_id)
    doc["products"]["coil"]["cpc"] = "41231"  # flat-rolled products of iron or non-alloy steel
    rec = results.record_computed(park, steel, "p1", doc, "coil")
    # coil: 48.2652 kgCO2e/t (tests/footprint/test_systems.py); of it per t of coil (900 t, 1,125 of 1,250 t billet):
    # supplier alloy 20,000 x 0.9 / 900 = 20.0, EAF power 19,800 x 0.9 / 900 = 19.8, rolling power 3,960 / 900 = 4.4,
    # HGV freight (secondary) 4,065.2 x 0.9 / 900 = 4.0652; primary = 44.2 of 48.2652 = 91.58 %
    # the record is per the document's declared unit: 48.2652 kgCO2e/t / 1,000 kg/t = 0.0482652 kgCO2e/kg
    assert rec["status"] == "draft" and rec["pcf_kgco2e"] == pytest.approx(0.0482652, abs=1e-9)
    assert rec["primary_data_share_pct"] == pytest.approx(100 * 44.2 / 48.2652, abs=0.01)
    doc = rec["document"]
    assert doc["pcf"]["declaredUnit"] == "kilogram"  # the registry's t, stated per kg by PACT v2.3
    assert float(doc["pcf"]["pCfExcludingBiogenic"]) == pytest.approx(0.0482652, abs=1e-6)  # 48.2652 / 1,000
    assert doc["productIds"] == ["urn:pact:p1.parkzero:product-id:coil"]
    assert doc["pcf"]["referencePeriodStart"] == "2023-03-31T16:00:00Z"  # 2023-04-01 00:00 Shanghai
    pact.parse_footprint(doc, "2")
    hot = {h["kind"] + ":" + h["input"]: h["kgco2e"] for h in rec["analysis"]["hot_spots"]}
    assert hot[f"supplier:{pf_id}"] == pytest.approx(20.0)
    (freight,) = [v for k, v in hot.items() if k.startswith("secondary:") and "hgv_average" in k]
    assert freight == pytest.approx(4.0652)
    assert sum(hot.values()) == pytest.approx(48.2652)
    listed = next(r for r in records.list_footprints(park, steel, "p1") if r["id"] == rec["id"])
    assert [h["input"] for h in listed["hot_spots"]][0] == pf_id  # largest first


def test_unknown_product_and_missing_cpc_are_said(park):
    _, pf_id = make_plant(park)
    steel = enterprise_scope(park, "steel")
    with pytest.raises(ValidationFailed, match="products.rebar: no such product"):
        results.record_computed(park, steel, "p1", document(pf_id), "rebar")
    with pytest.raises(ValidationFailed, match="products.coil.cpc"):
        results.record_computed(park, steel, "p1", document(pf_id), "coil")
    assert [r for r in records.list_footprints(park, steel, "p1") if r["origin"] != "supplier"] == []  # none written
