"""The engine over the store (both engines): attribution of on-site supply, consolidation, dual Scope 2,
manual entries with evidence, determinism, and clear refusals of bad input."""

from __future__ import annotations

import pytest

from parkzero.accounting import engine, instruments, sources
from parkzero.errors import NotFound, ValidationFailed
from parkzero.factors import library
from tests.accounting.conftest import SYSTEM, YEAR, local
from tests.conftest import enterprise_scope


def by_source(result, method="location"):
    out: dict[str, float] = {}
    for ln in result.lines:
        if ln.scope != 2 or ln.scope2_method == method:
            out[ln.source] = (
                out.get(ln.source, 0.0) + ln.activity_amount if ln.gas in ("CO2", "CO2e") else out.get(ln.source, 0.0)
            )
    return out


def test_onsite_pv_is_attributed_once(ledger):
    res = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol")
    kwh = by_source(res)
    # steel: 16 h x 100 + 8 h x 100 x 0.76 = 2,208 kWh of grid power a day; two days = 4,416 kWh
    assert kwh["steel.elec"] == pytest.approx(4416.0)
    # office: 16 h x 20 + 8 h x 20 x 0.76 = 441.6 kWh a day; two days = 883.2 kWh
    assert kwh["office.elec"] == pytest.approx(883.2)
    # operator: import 2 x (24 x 125 - 240) = 5,520 kWh, minus the tenants' 5,299.2 = 220.8 kWh
    assert kwh["op.elec"] == pytest.approx(220.8)
    assert sum(kwh.values()) == pytest.approx(5520.0)
    t = res.totals()
    # location-based: 5,520 kWh x 0.5500 tCO2/MWh (East China 2023) = 3.036 tCO2
    assert t["scope2_location"] == pytest.approx(3.036)
    # market-based without instruments: 5,520 kWh x 0.6096 tCO2/MWh (residual mix 2023) = 3.364992 tCO2
    assert t["scope2_market"] == pytest.approx(3.364992)


def test_park_total_is_the_sum_of_its_parts(ledger):
    park = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol")
    parts = [engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", e) for e in ("steel", "office")]
    own = sum(ln.tco2e for ln in park.lines if ln.enterprise_id is None and ln.scope2_method != "market")
    for key in ("scope2_location", "scope2_market", "total_location"):
        assert park.totals()[key] == pytest.approx(
            sum(p.totals()[key] for p in parts)
            + (
                own
                if key != "scope2_market"
                else sum(ln.tco2e for ln in park.lines if ln.enterprise_id is None and ln.scope2_method == "market")
            )
        )
    assert set(park.breakdown("enterprise")) == {"steel", "office", "operator"}


def test_market_based_uses_retired_certificates(ledger):
    instruments.register(
        ledger,
        SYSTEM,
        "p1",
        {
            "code": "gec-1",
            "enterprise": "steel",
            "kind": "gec",
            "serial_prefix": "GEC2023",
            "serial_first": 1,
            "serial_last": 5,
            "vintage_year": 2023,
        },
    )
    instruments.retire(ledger, SYSTEM, "p1", "gec-1", year=2023, mwh=2)
    res = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", "steel")
    t = res.totals()
    # location-based is unchanged: 4,416 kWh x 0.55 = 2.4288 tCO2
    assert t["scope2_location"] == pytest.approx(2.4288)
    # market-based: 2 MWh of certificates at 0, then (4,416 - 2,000) kWh x 0.6096 tCO2/MWh = 1.4727936 tCO2
    assert t["scope2_market"] == pytest.approx(1.4727936)
    gec = [ln for ln in res.lines if ln.source == "market:gec"]
    assert gec[0].activity_amount == 2000.0 and gec[0].trace["instruments"] == ["gec-1"]


def test_manual_entries_with_evidence(ledger):
    ev = sources.add_evidence(
        ledger, SYSTEM, "p1", "gas-invoice-2023-03.pdf", b"%PDF-1.4 invoice", "application/pdf", enterprise_code="steel"
    )
    sources.save_source(
        ledger,
        SYSTEM,
        "p1",
        {
            "code": "steel.gas",
            "name": "Reheating furnace gas",
            "enterprise": "steel",
            "scope": 1,
            "category": "stationary_combustion",
            "method": "combustion",
            "factor_ref": "fuel.natural_gas",
            "activity_unit": "Nm3",
        },
    )
    sources.add_activity(
        ledger,
        SYSTEM,
        "p1",
        "steel.gas",
        {
            "period_start": local(3, 1),
            "period_end": local(4, 1),
            "amount": 10.0,
            "unit": "万Nm3",
            "evidence_id": ev["id"],
        },
    )
    res = engine.compute(ledger, SYSTEM, "p1", YEAR, "cn-enterprise", "steel")
    gas = [ln for ln in res.lines if ln.source == "steel.gas"]
    assert [(ln.gas, ln.month) for ln in gas] == [("CO2", 3)]  # GB/T 32150: CO2 only
    # 10 x 10^4 Nm3 x 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ / 1000 x 0.99 x 44/12 = 216.2189 tCO2
    assert gas[0].emissions_t == pytest.approx(216.2189, abs=1e-4)
    assert gas[0].trace["entries"][0]["evidence"]["sha256"] == ev["sha256"]
    # energy: 3,893.1 GJ / 29.3076 GJ/tce = 132.836 tce, plus 4,416 kWh x 0.1229 kgce/kWh (or 3.6/29.3076)
    assert res.energy_tce > 132.8
    # under the GHG Protocol the same gas also emits CH4 and N2O (IPCC 2006 defaults)
    ghg = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", "steel")
    assert {ln.gas for ln in ghg.lines if ln.source == "steel.gas"} == {"CO2", "CH4", "N2O"}


def test_same_data_same_bytes(ledger):
    a = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol").canonical_bytes()
    b = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol").canonical_bytes()
    assert a == b


def test_unknown_fuel_and_unit_mismatch_are_named(ledger):
    with pytest.raises(ValidationFailed) as exc:
        sources.save_source(
            ledger,
            SYSTEM,
            "p1",
            {
                "code": "steel.x",
                "name": "x",
                "enterprise": "steel",
                "scope": 1,
                "category": "stationary_combustion",
                "method": "combustion",
                "factor_ref": "fuel.unobtainium",
                "activity_unit": "t",
            },
        )
    assert "unknown fuel 'fuel.unobtainium'" in str(exc.value) and "steel.x" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:
        sources.save_source(
            ledger,
            SYSTEM,
            "p1",
            {
                "code": "steel.d",
                "name": "Diesel",
                "enterprise": "steel",
                "scope": 1,
                "category": "mobile_combustion",
                "method": "combustion",
                "factor_ref": "fuel.diesel",
                "activity_unit": "Nm3",
            },
        )
    assert "unit mismatch" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:  # a gas channel cannot feed an electricity source
        sources.save_source(
            ledger,
            SYSTEM,
            "p1",
            {
                "code": "steel.e2",
                "name": "x",
                "enterprise": "steel",
                "scope": 2,
                "category": "electricity",
                "method": "electricity",
                "factor_ref": "grid",
                "activity_unit": "kWh",
                "channels": ["steel.gas"],
            },
        )
    assert "unit mismatch: channel steel.gas measures Nm3" in str(exc.value)


def test_negative_and_out_of_year_entries_are_refused(ledger):
    sources.save_source(
        ledger,
        SYSTEM,
        "p1",
        {
            "code": "steel.lime",
            "name": "Limestone",
            "enterprise": "steel",
            "scope": 1,
            "category": "process",
            "method": "process",
            "factor_ref": "process.limestone",
            "activity_unit": "t",
        },
    )
    with pytest.raises(ValidationFailed, match="negative amount"):
        sources.add_activity(
            ledger, SYSTEM, "p1", "steel.lime", {"period_start": local(3, 1), "period_end": local(4, 1), "amount": -5.0}
        )
    with pytest.raises(ValidationFailed, match="crosses a year end"):
        sources.add_activity(
            ledger,
            SYSTEM,
            "p1",
            "steel.lime",
            {"period_start": local(12, 1), "period_end": local(2, 1, year=YEAR + 1), "amount": 5.0},
        )
    assert sources.list_activity(ledger, SYSTEM, "p1") == []


def test_missing_factor_for_year_leaves_nothing(ledger):
    # cn-enterprise needs the year's own grid factor; there is none for 2019
    with pytest.raises(ValidationFailed) as exc:
        engine.compute(ledger, SYSTEM, "p1", 2019, "cn-enterprise")
    assert "steel.elec" in str(exc.value) and "2019" in str(exc.value)


def test_tenant_sees_only_itself(ledger):
    office = enterprise_scope(ledger, "office")
    with pytest.raises(NotFound):
        engine.compute(ledger, office, "p1", YEAR, "ghg-protocol", "steel")
    with pytest.raises(NotFound):
        engine.compute(ledger, office, "p1", YEAR, "ghg-protocol")  # the park's inventory
    own = engine.compute(ledger, office, "p1", YEAR, "ghg-protocol", "office")
    assert {ln.source for ln in own.lines} == {"office.elec", "market:residual"}
    assert [s["code"] for s in sources.list_sources(ledger, office, "p1")] == ["office.elec"]


def test_user_factor_set_for_scope3(ledger):
    meta = {"code": "test-travel", "version": "1", "title": "Test travel factors"}
    csv = (
        "factor_id,parameter,gas,value,unit,year_from,year_to,region,label,label_zh,source,table,note\n"
        "travel.test.flight,ef,CO2e,0.15,kgCO2e/pkm,,,CN,Flight,航班,Test source,Table 1,\n"
    )
    library.add_user_set(ledger, SYSTEM, meta, csv)
    sources.save_source(
        ledger,
        SYSTEM,
        "p1",
        {
            "code": "office.travel",
            "name": "Business travel",
            "enterprise": "office",
            "scope": 3,
            "category": "6",
            "method": "activity",
            "factor_ref": "travel.test.flight",
            "activity_unit": "pkm",
        },
    )
    sources.add_activity(
        ledger,
        SYSTEM,
        "p1",
        "office.travel",
        {"period_start": local(1, 1), "period_end": local(1, 1, year=YEAR + 1), "amount": 120_000},
    )
    res = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", "office")
    # 120,000 pkm x 0.15 kgCO2e/pkm = 18 tCO2e, spread over the 12 months by time
    assert res.totals()["scope3"] == pytest.approx(18.0)
    assert len([ln for ln in res.lines if ln.scope == 3]) == 12
    # Scope 3 is not reported under the Chinese enterprise regime
    assert engine.compute(ledger, SYSTEM, "p1", YEAR, "cn-enterprise", "office").totals()["scope3"] == 0.0


def test_results_by_building_and_zone(ledger):
    res = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol")
    # both tenants sit in b1 (zone z1); the operator's park-connection source has no building of its own
    by_building = res.breakdown("building")
    assert set(by_building) == {"b1", "unassigned"}
    # b1: (4,416 + 883.2) kWh x 0.55 tCO2/MWh = 2.91456 tCO2 location-based
    assert by_building["b1"]["location"] == pytest.approx(2.91456)
    assert res.breakdown("zone")["z1"]["location"] == pytest.approx(2.91456)
    assert res.as_dict()["by_zone"] == res.breakdown("zone")


def test_intensity_per_output_value(ledger):
    sources.set_output_value(ledger, SYSTEM, "p1", "steel", YEAR, 2.0)
    res = engine.compute(ledger, SYSTEM, "p1", YEAR, "ghg-protocol", "steel")
    # market-based total 4,416 kWh x 0.6096 tCO2/MWh = 2.6920 tCO2e over 2.0 x 10^4 CNY = 1.3460 tCO2e/10^4 CNY
    assert res.intensities()["tco2e_per_10k_cny"] == pytest.approx(4416 * 0.6096e-3 / 2.0)
    office = enterprise_scope(ledger, "office")
    with pytest.raises(NotFound):
        sources.set_output_value(ledger, office, "p1", "steel", YEAR, 5.0)
    with pytest.raises(ValidationFailed, match="positive"):
        sources.set_output_value(ledger, SYSTEM, "p1", "steel", YEAR, -1.0)


SCOPE3_CASES = [  # category, factor, unit, amount, kgCO2e per unit (shipped factor)
    ("1", "spend.steel_products", "CNY", 1_000_000.0, 0.787),  # USEEIO, kgCO2e/USD, with 0.14 USD/CNY
    ("3", "wtt.diesel.t", "t", 10.0, 752.0276),
    ("4", "transport.freight.hgv_average", "tkm", 50_000.0, 0.10163),
    ("5", "waste.landfill.mixed_commercial", "t", 12.0, 520.5327),
    ("6", "travel.air.short_haul", "pkm", 100_000.0, 0.07435),
    ("7", "travel.car.average", "km", 200_000.0, 0.16725),
    ("9", "transport.freight.rail", "tkm", 80_000.0, 0.02779),
]


def test_scope3_categories_with_shipped_factors(ledger):
    year = 2025  # the DESNZ set is for 2025
    for cat, ref, unit, amount, _ in SCOPE3_CASES:
        method = "spend" if ref.startswith("spend.") else "activity"
        params = {"usd_per_cny": 0.14} if method == "spend" else {}
        sources.save_source(
            ledger,
            SYSTEM,
            "p1",
            {
                "code": f"office.s3-{cat}",
                "name": ref,
                "enterprise": "office",
                "scope": 3,
                "category": cat,
                "method": method,
                "factor_ref": ref,
                "activity_unit": unit,
                "params": params,
            },
        )
        sources.add_activity(
            ledger,
            SYSTEM,
            "p1",
            f"office.s3-{cat}",
            {"period_start": local(1, 1, year=year), "period_end": local(1, 1, year=year + 1), "amount": amount},
        )
    res = engine.compute(ledger, SYSTEM, "p1", year, "ghg-protocol", "office")
    by_cat = res.breakdown("category")
    for cat, ref, _, amount, kg in SCOPE3_CASES:
        qty = amount * 0.14 if ref.startswith("spend.") else amount
        # e.g. category 6: 100,000 pkm x 0.07435 kgCO2e/pkm = 7.435 tCO2e; category 1: 10^6 CNY x 0.14 x 0.787
        assert by_cat[cat]["location"] == pytest.approx(qty * kg / 1000, abs=1e-5), (
            cat
        )  # 12 monthly lines, each to 1e-6 t
    assert res.totals()["scope3"] == pytest.approx(
        sum((a * 0.14 if r.startswith("spend.") else a) * kg / 1000 for _, r, _, a, kg in SCOPE3_CASES), abs=1e-4
    )


def test_a_chinese_factor_wins_over_a_foreign_one(ledger):
    sources.save_source(
        ledger,
        SYSTEM,
        "p1",
        {
            "code": "office.hotels",
            "name": "Hotel nights",
            "enterprise": "office",
            "scope": 3,
            "category": "6",
            "method": "activity",
            "factor_ref": "travel.hotel.night",
            "activity_unit": "night",
        },
    )
    sources.add_activity(
        ledger,
        SYSTEM,
        "p1",
        "office.hotels",
        {"period_start": local(3, 1, year=2025), "period_end": local(4, 1, year=2025), "amount": 100},
    )
    res = engine.compute(ledger, SYSTEM, "p1", 2025, "ghg-protocol", "office")
    hotel = next(ln for ln in res.lines if ln.source == "office.hotels")
    # DESNZ 2025 has a GB and a CN figure per hotel night; the park is in China: 100 x 53.5 kgCO2e = 5.35 t
    assert hotel.emissions_t == pytest.approx(5.35)
    assert hotel.trace["factors"][0]["value"] == 53.5
