"""Product systems built from the steel tenant's own meter data, on both engines: footprints checked by hand,
the carbon ledger's facility emissions allocated and reconciled, electricity never counted twice, and bad input
refused naming the process and field.

April 2023 (park-local, 30 days = 2,880 quarter-hours = 720 hours), readings per interval:
steel.eaf 12.5 kWh, steel.main 15 kWh (steel.eaf is its sub-meter), steel.coil 1.25 t per hour.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from parkzero.accounting import inventory, sources
from parkzero.errors import NotFound, ValidationFailed
from parkzero.footprint import engine, pact, records
from parkzero.footprint.systems import allocate_inventory, build_system, load_document
from parkzero.registry import repo
from tests.accounting.conftest import SYSTEM, local, merge
from tests.conftest import enterprise_scope

QUARTERS = 30 * 96  # quarter-hours in April
GRID = 0.55  # kgCO2/kWh: East China grid 2023 (cn-electricity 2025.1), = 0.5500 tCO2/MWh
HGV = 0.10163  # kgCO2e/tkm: DESNZ 2025, HGV average laden


def alloy_footprint() -> dict:
    """A supplier's ferroalloy: 2.0 kgCO2e per kilogram (PACT 2.3)."""
    return pact.footprint_from_result(
        version="2",
        product_ids=["urn:pact:alloy.example:product-id:femn"],
        product_name="Ferromanganese",
        product_description="High-carbon ferromanganese, cradle to gate",
        company_name="Alloy Co.",
        company_ids=["urn:pact:company:customcode:vendor-assigned:alloy"],
        declared_unit="kg",
        pcf_excluding_biogenic=2.0,
        fossil_ghg_emissions=2.0,
        reference_period_start=datetime(2022, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(2023, 1, 1, tzinfo=UTC),
        primary_data_share=80.0,
        product_category_cpc="41112",
        geography_country="CN",
        dqi={"coveragePercent": 95, "technologicalDQR": 1, "temporalDQR": 1, "geographicalDQR": 1,
             "completenessDQR": 1, "reliabilityDQR": 1},
    ).to_json()  # fmt: skip


@pytest.fixture
def plant(park):
    return make_plant(park)


def make_plant(park):
    """SMALL_PARK with a coil output channel, April's readings and a ferroalloy footprint received by steel."""
    repo.create_entity(
        park,
        SYSTEM,
        "channels",
        "p1",
        {"code": "steel.coil", "name": "Coil output", "quantity_kind": "mass", "purpose": "product_output",
         "meter": "m-steel", "interval_s": 3600},
    )  # fmt: skip
    quarters = [local(4, 1) + timedelta(minutes=15 * i) for i in range(QUARTERS)]
    hours = [local(4, 1) + timedelta(hours=i) for i in range(720)]
    merge(
        park,
        {
            "steel.eaf": [(t, 12.5) for t in quarters],
            "steel.main": [(t, 15.0) for t in quarters],
            "steel.coil": [(t, 1.25) for t in hours],
        },
    )
    rec = records.create(park, SYSTEM, "p1", alloy_footprint(), enterprise_code="steel", origin="supplier",
                         supplier="Alloy Co.")  # fmt: skip
    return park, rec["pf_id"]


def document(pf_id: str, *, billet_t: float | None = 1125.0) -> dict:
    """Melt shop -> rolling mill. `billet_t` of the 1,250 t of billet go to the rolling mill; None: the mill
    rolls a customer's own billets (tolling) and all billet is sold."""
    rolling_inputs = [] if billet_t is None else [{"product": "billet", "amount": billet_t}]
    return {
        "format": "parkzero-product-system",
        "enterprise": "steel",
        "period": {"start": "2023-04-01", "end": "2023-05-01"},
        "products": {
            "billet": {"name": "EAF billet", "declared_unit": "t"},
            "coil": {"product": "coil", "pact_product_ids": ["urn:pact:p1.parkzero:product-id:coil"]},
        },
        "processes": [
            {
                "code": "melt",
                "name": "Melt shop",
                "outputs": {"billet": 1250.0},
                "inputs": [
                    {"footprint": pf_id, "amount": 10.0, "unit": "t"},
                    {
                        "factor": {"set": "desnz-2025", "id": "transport.freight.hgv_average", "year": 2025},
                        "amount": 40000.0,
                        "unit": "tkm",
                    },
                ],
                "energy": [{"channel": "steel.eaf"}],
            },
            {
                "code": "rolling",
                "name": "Rolling mill",
                "outputs": {"coil": {"output_channel": "steel.coil"}},
                "inputs": rolling_inputs,
                "energy": [{"channel": "steel.main", "less": ["steel.eaf"]}],
            },
        ],
    }


def test_footprints_from_measured_data(plant):
    park, pf_id = plant
    system, prov = build_system(park, enterprise_scope(park, "steel"), "p1", document(pf_id))
    f = engine.footprints(engine.factorise(system))
    # melt: 10 t = 10,000 kg x 2.0 kgCO2e/kg = 20,000; 40,000 tkm x 0.10163 = 4,065.2;
    # 2,880 x 12.5 kWh = 36,000 kWh x 0.5500 kgCO2/kWh = 19,800; sum 43,865.2 kgCO2e / 1,250 t = 35.09216 kgCO2e/t
    assert f["billet"] == pytest.approx(35.09216, rel=1e-12)
    # rolling: 1,125 t x 35.09216 = 39,478.68; steel.main 2,880 x 15 = 43,200 kWh less 36,000 = 7,200 kWh x 0.55 =
    # 3,960; 43,438.68 kgCO2e / (720 h x 1.25 t = 900 t) = 48.2652 kgCO2e/t
    assert f["coil"] == pytest.approx(48.2652, rel=1e-12)
    rolling = system.processes[1]
    assert rolling.outputs == {"coil": pytest.approx(900.0)}
    assert rolling.energy[0].channel == "steel.main - steel.eaf" and rolling.energy[0].amount_kwh == pytest.approx(7200)
    alloy = next(s for s in system.secondary if s.code == pf_id)
    assert (alloy.unit, alloy.kgco2e_per_unit, alloy.source, alloy.primary) == ("kg", 2.0, "supplier:Alloy Co.", True)

    # where each number came from
    (eaf,) = prov.of("melt", "energy[0]")[:1]
    assert (eaf["kind"], eaf["channel"], eaf["value"], eaf["readings"]) == ("channel", "steel.eaf", 36000.0, QUARTERS)
    assert eaf["period"] == ["2023-04-01T00:00:00+08:00", "2023-05-01T00:00:00+08:00"]
    grid = prov.of("melt", "energy[0]")[1]
    assert (grid["kind"], grid["set"], grid["version"], grid["factor_id"]) == (
        "electricity", "cn-electricity", "2025.1", "electricity.cn.east_china"
    )  # fmt: skip
    assert grid["value"] == pytest.approx(GRID) and grid["rows"][0]["value"] == 0.55  # tCO2/MWh = kgCO2/kWh
    supplier = next(r for r in prov.of("melt", "inputs[0]") if r["kind"] == "supplier")
    assert (supplier["pf_id"], supplier["declared_unit"], supplier["pcf_kgco2e"]) == (pf_id, "kilogram", 2.0)
    hgv = next(r for r in prov.of("melt", "inputs[1]") if r["kind"] == "factor")
    assert (hgv["set"], hgv["factor_id"], hgv["year"], hgv["value"]) == (
        "desnz-2025", "transport.freight.hgv_average", 2025, pytest.approx(HGV)
    )  # fmt: skip
    coil = prov.of("rolling", "outputs")[0]
    assert (coil["channel"], coil["value"], coil["unit"], coil["readings"]) == ("steel.coil", 900.0, "t", 720)
    assert prov.products["coil"]["pact_product_ids"] == ["urn:pact:p1.parkzero:product-id:coil"]
    json.dumps(prov.as_dict())  # JSON-able


def test_document_from_toml(plant, tmp_path):
    park, pf_id = plant
    path = tmp_path / "steel.toml"
    path.write_text(
        f"""
enterprise = "steel"
period = {{ start = 2023-04-01, end = 2023-05-01 }}

[products.billet]
name = "EAF billet"
declared_unit = "t"

[products.coil]
product = "coil"

[[processes]]
code = "melt"
outputs = {{ billet = 1250.0 }}
inputs = [
  {{ footprint = "{pf_id}", amount = 10.0, unit = "t" }},
  {{ factor = {{ set = "desnz-2025", id = "transport.freight.hgv_average", year = 2025 }}, amount = 4e4 }},
]
energy = [{{ channel = "steel.eaf" }}]

[[processes]]
code = "rolling"
outputs = {{ coil = {{ output_channel = "steel.coil" }} }}
inputs = [{{ product = "billet", amount = 1125.0 }}]
energy = [{{ channel = "steel.main", less = ["steel.eaf"] }}]
""",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc["period"] == {"start": "2023-04-01", "end": "2023-05-01"}  # dates as ISO text: JSON-able
    system, _ = build_system(park, SYSTEM, "p1", doc)
    assert engine.footprints(engine.factorise(system)) == pytest.approx({"billet": 35.09216, "coil": 48.2652})


@pytest.fixture
def ledger(plant):
    """Steel's 2023 inventory (GHG Protocol): Scope 1 limestone calcination and Scope 2 electricity of
    steel.main, both in April."""
    park, pf_id = plant
    sources.save_source(
        park,
        SYSTEM,
        "p1",
        {"code": "steel.limestone", "name": "Limestone flux", "enterprise": "steel", "scope": 1,
         "category": "process", "method": "process", "factor_ref": "process.limestone", "activity_unit": "t"},
    )  # fmt: skip
    sources.save_source(
        park,
        SYSTEM,
        "p1",
        {"code": "steel.elec", "name": "Steel purchased electricity", "enterprise": "steel", "scope": 2,
         "category": "electricity", "method": "electricity", "factor_ref": "grid", "activity_unit": "kWh",
         "channels": ["steel.main"], "params": {"supply": "grid"}},
    )  # fmt: skip
    sources.add_activity(
        park, SYSTEM, "p1", "steel.limestone", {"period_start": local(4, 1), "period_end": local(5, 1), "amount": 135.0}
    )
    inv = inventory.create(park, SYSTEM, "p1", 2023, "ghg-protocol", "steel")
    totals = inventory.result(park, SYSTEM, "p1", inv["id"])["totals"]
    assert totals["scope1"] == pytest.approx(59.4)  # 135 t x 0.440 tCO2/t = 59.4 tCO2
    assert totals["scope2_location"] == pytest.approx(23.76)  # 43,200 kWh x 0.5500 kgCO2/kWh = 23,760 kgCO2
    return park, pf_id, inv["id"]


@pytest.mark.parametrize(
    ("basis", "billet_kg", "coil_kg"),
    [
        # metered kWh: melt 36,000, rolling 7,200 of 43,200 -> 5/6 and 1/6 of 59.4 t = 49.5 t and 9.9 t;
        # 49,500 kgCO2e / 1,250 t = 39.6 kgCO2e/t; 9,900 / 900 t = 11.0 kgCO2e/t
        ("energy", 39.6, 11.0),
        # value: 1,250 t x 2,880 CNY/t = 3.6 M CNY, 900 t x 4,000 CNY/t = 3.6 M CNY -> half each, 29.7 t;
        # 29,700 / 1,250 = 23.76 kgCO2e/t; 29,700 / 900 = 33.0 kgCO2e/t
        ("economic", 23.76, 33.0),
        # given shares 0.8 / 0.2: 47.52 t / 1,250 t = 38.016 kgCO2e/t; 11.88 t / 900 t = 13.2 kgCO2e/t
        ({"melt": 0.8, "rolling": 0.2}, 38.016, 13.2),
    ],
)
def test_reconciles_exactly_when_all_output_leaves(ledger, basis, billet_kg, coil_kg):
    park, pf_id, inv_id = ledger
    doc = document(pf_id, billet_t=None)  # tolling: the mill uses no billet of the melt shop
    doc["processes"][0]["prices"] = {"billet": 2880.0}
    doc["processes"][1]["prices"] = {"coil": 4000.0}
    rec = allocate_inventory(park, enterprise_scope(park, "steel"), "p1", doc, inv_id, basis=basis)
    billet, coil = rec.product("billet"), rec.product("coil")
    assert billet.facility_kgco2e == pytest.approx(billet_kg) and coil.facility_kgco2e == pytest.approx(coil_kg)
    # footprints: the melt shop's 35.09216 + its facility part; rolling 3,960 kgCO2e / 900 t = 4.4 + its part
    assert billet.footprint_kgco2e == pytest.approx(35.09216 + billet_kg)
    assert coil.footprint_kgco2e == pytest.approx(4.4 + coil_kg)
    assert coil.total_tco2e == pytest.approx((4.4 + coil_kg) * 900 / 1000)  # footprint x 900 t
    # only Scope 1 is allocated: steel.main's electricity is priced through the energy inputs
    assert rec.inventory_tco2e == pytest.approx(59.4)
    # 1,250 t x billet part + 900 t x coil part = 59.4 tCO2e, e.g. 1,250 x 39.6 + 900 x 11.0 = 49,500 + 9,900 kg
    assert rec.facility_tco2e == pytest.approx(59.4, rel=1e-9)
    assert rec.difference_tco2e == pytest.approx(0.0, abs=1e-9) and rec.difference_pct == pytest.approx(0.0, abs=1e-9)
    assert (billet.consumed_inside, coil.consumed_inside) == (0.0, 0.0)
    electricity = [ln for ln in rec.lines if ln["source"] == "steel.elec"]
    assert len(electricity) == 1 and not electricity[0]["allocated"]
    assert electricity[0]["reason"] == "electricity of steel.main counted through the energy inputs of melt, rolling"
    assert [ln["source"] for ln in rec.lines if ln["allocated"]] == ["steel.limestone"]
    json.dumps(rec.as_dict())


def test_difference_shown_when_part_is_consumed_inside(ledger):
    park, pf_id, inv_id = ledger
    rec = allocate_inventory(park, SYSTEM, "p1", document(pf_id), inv_id, basis={"melt": 0.8, "rolling": 0.2})
    billet, coil = rec.product("billet"), rec.product("coil")
    # melt 0.8 x 59.4 = 47.52 tCO2e / 1,250 t = 38.016 kgCO2e/t
    assert billet.facility_kgco2e == pytest.approx(38.016)
    # rolling: 1,125 t x 38.016 = 42,768 + 0.2 x 59.4 t = 11,880 -> 54,648 kgCO2e / 900 t = 60.72 kgCO2e/t
    assert coil.facility_kgco2e == pytest.approx(60.72)
    # 1,250 t x 38.016 + 900 t x 60.72 = 47,520 + 54,648 = 102,168 kgCO2e = 102.168 tCO2e
    assert rec.facility_tco2e == pytest.approx(102.168)
    assert rec.inventory_tco2e == pytest.approx(59.4)
    # the 1,125 t of billet rolled are counted in the billet's total and again in the coil's: 1,125 x 38.016 kg
    assert billet.consumed_inside == pytest.approx(1125.0) and billet.delivered == pytest.approx(125.0)
    assert rec.difference_tco2e == pytest.approx(42.768)
    assert rec.difference_pct == pytest.approx(72.0)  # 42.768 / 59.4
    # what left the system: 125 t x 38.016 + 900 t x 60.72 = 4,752 + 54,648 = 59,400 kgCO2e, the inventory
    assert rec.facility_delivered_tco2e == pytest.approx(59.4)
    # full footprint: 35.09216 + 38.016 = 73.10816 kgCO2e/t; coil 48.2652 + 60.72 = 108.9852 kgCO2e/t
    assert billet.footprint_kgco2e == pytest.approx(73.10816) and coil.footprint_kgco2e == pytest.approx(108.9852)
    assert coil.total_tco2e == pytest.approx(98.08668)  # 108.9852 x 900 t = 98,086.68 kgCO2e
    direct = {r["process"]: r["value"] for r in rec.provenance.records if r["kind"] == "allocation"}
    assert direct == pytest.approx({"melt": 47520.0, "rolling": 11880.0})


def test_scope2_is_allocated_when_no_channel_counts_it(ledger):
    park, pf_id, inv_id = ledger
    doc = document(pf_id, billet_t=None)
    for proc in doc["processes"]:
        proc["energy"] = []
    rec = allocate_inventory(park, SYSTEM, "p1", doc, inv_id, basis={"melt": 0.5, "rolling": 0.5})
    # Scope 1 59.4 + Scope 2 (location) 23.76 = 83.16 tCO2e; the market-based line is not taken as well
    assert rec.inventory_tco2e == pytest.approx(83.16)
    assert {ln["source"]: ln["allocated"] for ln in rec.lines} == {"steel.limestone": True, "steel.elec": True}
    assert all(ln["scope2_method"] in ("", "location") for ln in rec.lines)
    assert rec.facility_tco2e == pytest.approx(83.16) and rec.difference_tco2e == pytest.approx(0.0, abs=1e-9)
    # half each: 41.58 tCO2e / 1,250 t = 33.264 kgCO2e/t
    assert rec.product("billet").facility_kgco2e == pytest.approx(33.264)


def test_scope2_counted_in_part_is_refused(ledger):
    park, pf_id, inv_id = ledger
    doc = document(pf_id)
    doc["processes"][1]["energy"] = []  # steel.eaf is counted, the rest of steel.main is not
    with pytest.raises(ValidationFailed, match=r"line \d+ \(steel\.elec, Scope 2\).*counted in part"):
        allocate_inventory(park, SYSTEM, "p1", doc, inv_id, basis="output_mass")


def test_allocation_needs_whole_months_and_no_given_direct_emissions(ledger):
    park, pf_id, inv_id = ledger
    doc = document(pf_id)
    doc["period"] = {"start": "2023-04-01", "end": "2023-04-16"}
    with pytest.raises(ValidationFailed, match="whole park-local months"):
        allocate_inventory(park, SYSTEM, "p1", doc, inv_id)
    doc = document(pf_id)
    doc["processes"][0]["direct_kgco2e"] = 1000.0
    with pytest.raises(ValidationFailed, match="process 'melt': direct_kgco2e is given"):
        allocate_inventory(park, SYSTEM, "p1", doc, inv_id)


def _edit(doc: dict, path: str, value) -> dict:
    """A copy of `doc` with the value at a dotted path (list items by index) replaced, or deleted for None."""
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target = doc
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is None:
        del target[last]
    else:
        target[int(last) if isinstance(target, list) else last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("processes.0.energy.0.channel", "steel.nope",
         r"process 'melt': energy\[0\]\.channel: no channel 'steel\.nope' in park 'p1' visible to you"),
        ("processes.0.energy.0.channel", "office.main",  # the data layer hides the office's channels from steel
         r"process 'melt': energy\[0\]\.channel: no channel 'office\.main' in park 'p1' visible to you"),
        ("processes.0.energy.0.channel", "steel.gas",
         r"process 'melt': energy\[0\]\.channel: unit mismatch: channel 'steel\.gas' measures gas_volume in Nm3, "
         r"not electricity in kWh"),
        # one more day: 96 quarter-hours of 2,880 + 96 = 2,976 have no reading
        ("period.end", "2023-05-02",
         r"process 'melt': energy\[0\]\.channel: channel 'steel\.eaf' has 96 of 2,976 readings missing"),
        ("period", {"start": "2023-03-01", "end": "2023-04-01"},
         r"process 'melt': energy\[0\]\.channel: channel 'steel\.eaf' has no readings"),
        ("processes.0.inputs.0.unit", "kWh",
         r"process 'melt': inputs\[0\]\.unit: unit mismatch: 'kWh' does not convert to 'kg', the unit of footprint"),
        ("processes.0.inputs.0.footprint", "no-such-footprint",
         r"process 'melt': inputs\[0\]\.footprint: no footprint 'no-such-footprint' visible to you"),
        ("processes.0.inputs.1.factor.id", "transport.freight.teleport",
         r"process 'melt': inputs\[1\]\.factor\.id: no emission factor 'transport\.freight\.teleport'"),
        ("processes.0.inputs.1.factor.year", 2023,  # DESNZ 2025 has no factor for 2023 or earlier
         r"process 'melt': inputs\[1\]\.factor: no factor 'transport\.freight\.hgv_average' for 2023"),
        ("processes.0.inputs.1.unit", "t",
         r"process 'melt': inputs\[1\]\.unit: unit mismatch: 't' does not convert to 'tkm'"),
        ("products.billet.declared_unit", None, r"product 'billet': declared_unit: missing"),
        ("products.coil.product", "rebar", r"product 'coil': product: no product 'rebar' of 'steel' visible to you"),
        ("processes.1.outputs.coil.output_channel", "steel.eaf",
         r"process 'rolling': outputs\.coil\.output_channel: unit mismatch: channel 'steel\.eaf' is in kWh, which does "
         r"not convert to 't'"),
        ("processes.1.energy.0.less", None,  # steel.main whole and its sub-meter steel.eaf again
         r"process 'melt': energy\[0\]\.channel: the electricity of 'steel\.eaf' is counted 2 times"),
        ("processes.0.energy.0.less", ["steel.main"],
         r"process 'melt': energy\[0\]\.less\[0\]: channel 'steel\.main' is not a sub-meter of 'steel\.eaf'"),
    ],
)  # fmt: skip
def test_bad_input_names_the_process_and_field(plant, path, value, message):
    park, pf_id = plant
    with pytest.raises(ValidationFailed, match=message):
        build_system(park, enterprise_scope(park, "steel"), "p1", _edit(document(pf_id), path, value))


def test_kilogram_footprint_converts_to_tonnes(plant):
    park, pf_id = plant
    doc = _edit(document(pf_id), "processes.0.inputs.0.unit", "kg")
    doc = _edit(doc, "processes.0.inputs.0.amount", 10000.0)  # 10,000 kg = the same 10 t
    system, _ = build_system(park, SYSTEM, "p1", doc)
    assert engine.footprints(engine.factorise(system))["billet"] == pytest.approx(35.09216)


def test_a_tenant_builds_from_its_own_channels_only(plant):
    park, pf_id = plant
    office = enterprise_scope(park, "office")
    with pytest.raises(NotFound):  # steel is not visible to the office tenant
        build_system(park, office, "p1", document(pf_id))
    doc = {
        "enterprise": "office",
        "period": {"start": "2023-04-01", "end": "2023-05-01"},
        "products": {"print": {"name": "Printed matter", "declared_unit": "piece"}},
        "processes": [{"code": "print", "outputs": {"print": 1000.0}, "energy": [{"channel": "steel.eaf"}]}],
    }
    with pytest.raises(ValidationFailed, match=r"energy\[0\]\.channel: no channel 'steel\.eaf' in park 'p1' visible"):
        build_system(park, office, "p1", doc)
    doc["processes"][0]["energy"] = []
    doc["processes"][0]["inputs"] = [{"footprint": pf_id, "amount": 1.0}]  # steel's supplier footprint
    with pytest.raises(ValidationFailed, match=r"inputs\[0\]\.footprint: no footprint .* visible to you"):
        build_system(park, office, "p1", doc)
    # the operator sees every channel, but a system of steel is built from steel's channels only
    steel_doc = _edit(document(pf_id), "processes.0.energy.0.channel", "office.main")
    with pytest.raises(
        ValidationFailed, match=r"energy\[0\]\.channel: channel 'office\.main' is not of enterprise 'steel'"
    ):
        build_system(park, SYSTEM, "p1", steel_doc)
