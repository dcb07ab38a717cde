"""The PACT v2.3 / v3.0 data model: the specifications' own examples, broken variants, filters, conversion, events.

The fixtures in tests/data/pact are the examples printed in the specifications (v2.3 §8.10.1, v3.0 §9.1, §9.2),
the event syntax of v2.3 §8.8 and v3.0 §5.8, and copies of the examples with one defect each.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from parkzero.errors import ValidationFailed
from parkzero.footprint import pact
from parkzero.footprint.pact_filter import (
    FilterNotSupported,
    FilterSyntaxError,
    parse_filter,
    v2_predicate,
    v3_predicate,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "pact"


def load_json(name: str) -> object:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def spec_footprint(version: str) -> dict:
    name = "v2.3-spec-list-example.json" if version == "2" else "v3.0-spec-list-example.json"
    return load_json(name)["data"][0]


def columns(error: pytest.ExceptionInfo[ValidationFailed]) -> list[str | None]:
    return [issue.column for issue in error.value.issues]


def canonical(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------------------------
# The specifications' examples


@pytest.mark.parametrize("version", ["2", "3"])
def test_spec_example_parses_and_round_trips(version):
    source = spec_footprint(version)
    footprint = pact.parse_footprint(source, version)
    assert footprint.to_json() == source
    assert canonical(footprint.to_json()) == canonical(source)  # ints stay ints, decimals keep their digits


@pytest.mark.parametrize(
    ("name", "version", "model"),
    [
        ("v2.3-spec-list-example.json", "2", pact.ProductFootprintV2),
        ("v3.0-spec-list-example.json", "3", pact.ProductFootprintV3),
    ],
)
def test_load_file_reads_the_list_response_and_detects_the_version(name, version, model):
    (footprint,) = pact.load_file(DATA / name)
    assert isinstance(footprint, model)
    assert footprint.to_json() == load_json(name)["data"][0]


def test_spec_example_values_are_typed():
    footprint = pact.parse_footprint(spec_footprint("2"), "2")
    assert footprint.pcf.p_cf_excluding_biogenic == Decimal("1.63")
    assert footprint.pcf.reference_period_end == datetime(2022, 1, 1, tzinfo=UTC)
    assert footprint.pcf.dqi.technological_dqr == 1.6
    assert footprint.extensions[0].data["shipmentId"] == "S1234567890"


def test_v3_get_example_of_the_spec_uses_a_stale_property_name():
    """v3.0 §9.2 still writes biogenicCO2Withdrawal (a 3.0 draft name); §4.7.2 calls it biogenicCO2Uptake."""
    with pytest.raises(ValidationFailed) as error:
        pact.load_file(DATA / "v3.0-spec-get-example.json")
    assert columns(error) == ["data.pcf.biogenicCO2Withdrawal"]
    assert "not a property" in error.value.issues[0].reason


@pytest.mark.parametrize(
    ("name", "column", "value"),
    [
        ("v2-broken-declared-unit.json", "pcf.declaredUnit", "litre"),
        ("v2-broken-decimal-as-number.json", "pcf.pCfExcludingBiogenic", "1.63"),
        ("v2-broken-missing-company-ids.json", "companyIds", None),
        ("v2-broken-two-geographies.json", "pcf.geographyCountry", None),
        ("v2-broken-dqr-out-of-range.json", "pcf.dqi.technologicalDQR", "4"),
        ("v3-broken-negative-fossil.json", "pcf.fossilGhgEmissions", "-1.5"),
        ("v3-broken-local-time.json", "created", "2025-03-01T10:32:20+01:00"),
        ("v3-broken-company-id-not-urn.json", "companyIds[0]", "My Corp"),
        ("v3-broken-v2-property.json", "pcf.pCfExcludingBiogenic", None),
        ("v3-broken-packaging.json", "pcf.packagingGhgEmissions", None),
    ],
)
def test_broken_file_names_the_field(name, column, value):
    with pytest.raises(ValidationFailed) as error:
        pact.load_file(DATA / name)
    (issue,) = error.value.issues
    assert (issue.column, issue.value, issue.file) == (column, value, str(DATA / name))
    assert issue.reason


def test_every_bad_field_is_one_issue_and_nothing_is_accepted():
    doc = spec_footprint("3")
    doc["pcf"] = {**doc["pcf"], "declaredUnitOfMeasurement": "gallon", "exemptedEmissionsPercent": 0}
    doc["status"] = "active"
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint(doc, "3", source="partner.json")
    assert sorted(columns(error)) == ["pcf.declaredUnitOfMeasurement", "pcf.exemptedEmissionsPercent", "status"]
    assert all(issue.file == "partner.json" for issue in error.value.issues)


def test_wrong_version_is_named_at_spec_version():
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint(spec_footprint("3"), "2")
    assert "specVersion" in columns(error)


def test_v2_requirements_follow_spec_version_and_reference_period():
    doc = spec_footprint("2")
    pact.parse_footprint({**doc, "specVersion": "2.2.0"}, "2")  # crossSectoralStandards arrived in 2.3
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint({**doc, "specVersion": "2.3.0"}, "2")
    assert columns(error) == ["pcf.crossSectoralStandards"]
    later = {**doc, "pcf": {**doc["pcf"], "referencePeriodEnd": "2025-02-01T00:00:00Z"}}
    later["pcf"].pop("dqi")
    later |= {"validityPeriodStart": "2025-03-01T00:00:00Z", "validityPeriodEnd": "2026-01-01T00:00:00Z"}
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint(later, "2")
    assert columns(error) == ["pcf.dqi"]  # "O*" properties are mandatory from 2025 on (v2.3 §5.2.2)


def test_validity_period_rules():
    doc = spec_footprint("2")
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint({**doc, "validityPeriodEnd": "2026-01-01T00:00:00Z"}, "2")
    assert columns(error) == ["validityPeriodEnd"]  # more than 3 years after referencePeriodEnd
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint({**doc, "validityPeriodStart": "2021-06-01T00:00:00Z"}, "2")
    assert columns(error) == ["validityPeriodStart"]  # before referencePeriodEnd


def test_cross_sectoral_standards_of_later_revisions_are_accepted():
    doc = spec_footprint("3")
    doc["pcf"] = {**doc["pcf"], "crossSectoralStandards": ["ISO14067", "ISO14099"]}
    with pytest.raises(ValidationFailed) as error:
        pact.parse_footprint(doc, "3")
    assert columns(error) == ["pcf.crossSectoralStandards[1]"]
    assert pact.parse_footprint({**doc, "specVersion": "3.1.0"}, "3").pcf.cross_sectoral_standards[1] == "ISO14099"


# ---------------------------------------------------------------------------------------------------------------
# Decimals and datetimes

decimal_adapter = TypeAdapter(pact.DecimalV2)


@given(st.from_regex(r"\A-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,12})?\Z"))
def test_decimal_strings_round_trip_exactly(text):
    assert decimal_adapter.dump_python(decimal_adapter.validate_python(text)) == text


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=12))
def test_any_decimal_is_written_in_the_spec_pattern(value):
    text = pact.decimal_text(value)
    assert pact.DECIMAL_PATTERN_V2.fullmatch(text)
    assert Decimal(text) == value


def test_datetimes_must_be_utc_and_keep_fractions():
    adapter = TypeAdapter(pact.UtcDateTime)
    assert adapter.dump_python(adapter.validate_python("2025-04-23T18:25:43.511Z")) == "2025-04-23T18:25:43.511Z"
    assert adapter.dump_python(adapter.validate_python("2025-04-24T12:13:44+00:00")) == "2025-04-24T12:13:44Z"
    for bad in ("2025-04-24T12:13:44", "2025-04-24", "2025-02-30T00:00:00Z", datetime(2025, 1, 1)):
        with pytest.raises(ValueError):
            adapter.validate_python(bad)


# ---------------------------------------------------------------------------------------------------------------
# Files


def test_load_file_shapes_and_dump_file(tmp_path):
    footprint = pact.parse_footprint(spec_footprint("3"), "3")
    single, listed, envelope = tmp_path / "one.json", tmp_path / "list.json", tmp_path / "get.json"
    single.write_text(json.dumps(spec_footprint("3")), encoding="utf-8")
    listed.write_text(json.dumps([spec_footprint("2"), spec_footprint("3")]), encoding="utf-8")
    envelope.write_text(json.dumps({"data": spec_footprint("2")}), encoding="utf-8")
    assert pact.load_file(single) == [footprint]
    assert [type(item) for item in pact.load_file(listed)] == [pact.ProductFootprintV2, pact.ProductFootprintV3]
    assert len(pact.load_file(envelope)) == 1
    out = tmp_path / "out.json"
    pact.dump_file(out, pact.load_file(listed))
    assert json.loads(out.read_text(encoding="utf-8")) == {"data": [spec_footprint("2"), spec_footprint("3")]}
    assert pact.load_file(out) == pact.load_file(listed)


def test_load_file_rejects_the_whole_file(tmp_path):
    bad = spec_footprint("2")
    bad["pcf"] = {**bad["pcf"], "unitaryProductAmount": "0"}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"data": [spec_footprint("2"), bad, {"specVersion": "1.0.0"}]}), encoding="utf-8")
    with pytest.raises(ValidationFailed) as error:
        pact.load_file(path)
    assert columns(error) == ["data[1].pcf.unitaryProductAmount", "data[2].specVersion"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [\n  {"id": }\n]}', encoding="utf-8")
    with pytest.raises(ValidationFailed) as error:
        pact.load_file(broken)
    assert error.value.issues[0].row == 2


# ---------------------------------------------------------------------------------------------------------------
# Filters


def small_set() -> dict[str, dict]:
    """The spec's footprint plus two of the park, as spec JSON dicts."""
    park = {
        "version": "2",
        "product_name": "Aluminium frame",
        "product_description": "Anodised aluminium PV module frame, bulk",
        "company_name": "Lingang Frames Co.",
        "declared_unit": "kg",
        "pcf_excluding_biogenic": "8.2",
        "fossil_ghg_emissions": "8.1",
        "primary_data_share": 64.0,
        "product_category_cpc": "3342",
        "created": datetime(2024, 2, 1, tzinfo=UTC),
    }
    frame = pact.footprint_from_result(
        **park,
        product_ids=["urn:pact:park.example.cn:product-id:FR-100"],
        company_ids=["urn:pact:company:customcode:buyer-assigned:4711"],
        reference_period_start=datetime(2023, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(2023, 12, 31, tzinfo=UTC),
        geography_country="CN",
    )
    glass = pact.footprint_from_result(
        **park,
        product_ids=["urn:pact:park.example.cn:product-id:GL-7"],
        company_ids=["urn:uuid:4c2b3a10-8f51-4d5e-9a39-0b2c7d6e1f00"],
        reference_period_start=datetime(2023, 7, 1, tzinfo=UTC),
        reference_period_end=datetime(2024, 7, 1, tzinfo=UTC),
        geography_country="DE",
        updated=datetime(2024, 9, 1, tzinfo=UTC),
    )
    return {"ethanol": spec_footprint("2"), "frame": frame.to_json(), "glass": glass.to_json()}


def selected(text: str) -> set[str]:
    predicate = parse_filter(text)
    return {name for name, footprint in small_set().items() if predicate(footprint)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # the four examples of v2.3 §8.6.3, then the other properties and operators it allows
        ("productCategoryCpc eq '3342'", {"frame", "glass"}),
        ("pcf/geographyCountry eq 'DE'", {"glass"}),
        (
            "(pcf/referencePeriodStart ge '2023-01-01T00:00:00.000Z') and "
            "(pcf/referencePeriodEnd lt '2024-01-01T00:00:00.000Z')",
            {"frame"},
        ),
        ("productIds/any(productId:(productId eq 'urn:gtin:5695872369587'))", {"ethanol"}),
        ("companyIds/any(companyId:(companyId eq 'urn:pact:company:customcode:buyer-assigned:4711'))", {"frame"}),
        ("created ge '2024-01-01T00:00:00Z'", {"frame", "glass"}),
        ("created lt 2024-01-01T00:00:00Z", {"ethanol"}),
        ("updated gt '2024-08-01T00:00:00Z'", {"glass"}),
        ("productCategoryCpc eq '3342' and pcf/geographyCountry eq 'CN'", {"frame"}),
        ("((pcf/referencePeriodEnd le '2022-01-01T00:00:00Z'))", {"ethanol"}),
        ("", {"ethanol", "frame", "glass"}),
    ],
)
def test_v2_filter_selects_exactly(text, expected):
    assert selected(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "where"),
    [
        ("productCategoryCpc eq '3342' or pcf/geographyCountry eq 'DE'", FilterNotSupported, "'or'"),
        ("productCategoryCpc ne '3342'", FilterNotSupported, "'ne'"),
        ("pcf/declaredUnit eq 'liter'", FilterNotSupported, "pcf/declaredUnit"),
        ("startswith(productCategoryCpc, '33')", FilterNotSupported, "startswith"),
        ("productIds/any(p:(p eq 'a') and p eq 'b')", FilterNotSupported, "single 'eq'"),
        ("productIds/all(p:p eq 'a')", FilterNotSupported, "productIds/all"),
        ("productCategoryCpc eq 3342", FilterSyntaxError, "quoted"),
        ("created ge 'last week'", FilterSyntaxError, "UTC date"),
        ("(created ge '2024-01-01T00:00:00Z'", FilterSyntaxError, "at the end"),
        ("productCategoryCpc eq '3342' ; drop", FilterSyntaxError, "character 30"),
    ],
)
def test_v2_filter_outside_the_subset_says_what_and_where(text, error, where):
    with pytest.raises(error) as raised:
        parse_filter(text)
    (issue,) = raised.value.issues
    assert issue.column == "$filter" and issue.value == text and where in issue.reason
    assert raised.value.pact_error_code == ("NotImplemented" if error is FilterNotSupported else "BadRequest")


def v3_set() -> dict[str, dict]:
    spec = spec_footprint("3")
    shanghai = pact.footprint_from_result(
        version="3",
        product_ids=["urn:pact:park.example.cn:product-id:PV-1"],
        product_name="PV module",
        product_description="Monocrystalline PV module, 550 W",
        company_name="Lingang Solar",
        company_ids=["urn:pact:park.example.cn:company:lingang-solar"],
        declared_unit="piece",
        product_mass_per_declared_unit="27.5",
        pcf_excluding_biogenic="420.5",
        fossil_ghg_emissions="418",
        primary_data_share=71.5,
        reference_period_start=datetime(2024, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(2025, 1, 1, tzinfo=UTC),
        geography_country_subdivision="CN-SH",
        status="Deprecated",
        created=datetime(2025, 1, 10, tzinfo=UTC),
    )
    return {"ethanol": spec, "module": shanghai.to_json()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"productId": ["URN:GTIN:5695872369587"]}, {"ethanol"}),  # case-insensitive (v3 §5.6.3)
        ({"productId": ["urn:gtin:5695872369587", "urn:pact:park.example.cn:product-id:PV-1"]}, {"ethanol", "module"}),
        ({"geography": ["CN"]}, {"module"}),  # CN-SH lies within CN
        ({"geography": ["western europe"]}, {"ethanol"}),
        ({"classification": ["urn:pact:productclassification:un-cpc:1234"]}, {"ethanol"}),
        ({"companyId": ["urn:epc:id:sgln:562958.00000.4"]}, {"ethanol"}),
        ({"status": ["active"]}, {"ethanol"}),
        ({"validOn": ["2026-06-01T00:00:00Z"]}, {"ethanol", "module"}),  # module: 3 years from referencePeriodEnd
        ({"validOn": ["2027-06-01T00:00:00Z"]}, {"module"}),
        ({"validAfter": ["2025-02-01T00:00:00Z"]}, {"ethanol"}),
        ({"validBefore": ["2027-01-01T00:00:00Z"]}, {"ethanol"}),
        ({"geography": ["DE"], "status": ["Deprecated"]}, set()),
        ({"limit": ["10"]}, {"ethanol", "module"}),
    ],
)
def test_v3_parameters_select_exactly(params, expected):
    predicate = v3_predicate(params)
    assert {name for name, footprint in v3_set().items() if predicate(footprint)} == expected


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"$filter": ["productCategoryCpc eq '3342'"]}, FilterNotSupported),
        ({"x-atq-invoice-id": ["12345"]}, FilterNotSupported),
        ({"country": ["CN"]}, FilterSyntaxError),
        ({"validOn": ["yesterday"]}, FilterSyntaxError),
        ({"validOn": ["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]}, FilterSyntaxError),
        ({"geography": [""]}, FilterSyntaxError),
    ],
)
def test_v3_bad_parameters_are_named(params, error):  # an unknown status is no error: see the test below
    with pytest.raises(error) as raised:
        v3_predicate(params)
    assert raised.value.issues[0].column == next(iter(params))


# ---------------------------------------------------------------------------------------------------------------
# Conversion


def test_v2_to_v3_and_back_keeps_pcf_and_declared_unit():
    v2 = pact.parse_footprint(spec_footprint("2"), "2")
    conversion = pact.to_v3(v2, product_mass_per_declared_unit="0.789")
    v3 = conversion.footprint
    assert (v3.pcf.declared_unit_of_measurement, v3.pcf.declared_unit_amount) == ("liter", Decimal(1))
    assert v3.pcf.pcf_excluding_biogenic_uptake == v2.pcf.p_cf_excluding_biogenic
    assert v3.pcf.biogenic_co2_uptake == v2.pcf.biogenic_carbon_withdrawal
    assert v3.product_classifications == (
        "urn:pact:productclassification:un-cpc:6398",
    ) or v3.product_classifications == ["urn:pact:productclassification:un-cpc:6398"]
    assert {"pcf.dqi", "pcf.landManagementGhgEmissions", "pcf.uncertaintyAssessmentDescription"} <= set(conversion.lost)
    back = pact.to_v2(v3)
    assert back.footprint.pcf.declared_unit == "liter"
    assert back.footprint.pcf.p_cf_excluding_biogenic == v2.pcf.p_cf_excluding_biogenic
    assert back.footprint.product_category_cpc == "6398"
    assert back.footprint.pcf.cross_sectoral_standards_used == v2.pcf.cross_sectoral_standards_used


def test_conversion_scales_by_the_declared_amount():
    """ADR-36: a 12 L bottle at 1.5 kgCO2e/L is 18 kgCO2e per declared unit (12 L) in v3."""
    doc = spec_footprint("2")
    doc["pcf"] = {**doc["pcf"], "unitaryProductAmount": "12", "pCfExcludingBiogenic": "1.5"}
    conversion = pact.to_v3(pact.parse_footprint(doc, "2"), product_mass_per_declared_unit="0.789")
    assert conversion.footprint.pcf.declared_unit_amount == Decimal(12)
    assert conversion.footprint.pcf.pcf_excluding_biogenic_uptake == Decimal(18)
    assert conversion.footprint.pcf.product_mass_per_declared_unit == Decimal("9.468")
    back = pact.to_v2(conversion.footprint).footprint
    assert back.pcf.p_cf_excluding_biogenic == Decimal("1.5")
    assert back.pcf.unitary_product_amount == Decimal(12)


def test_conversion_says_what_the_target_needs():
    with pytest.raises(ValidationFailed) as error:
        pact.to_v3(pact.parse_footprint(spec_footprint("2"), "2"))  # liter: v3 needs the mass
    assert columns(error) == ["pcf.productMassPerDeclaredUnit"]
    with pytest.raises(ValidationFailed) as error:
        pact.to_v2(pact.parse_footprint(spec_footprint("3"), "3"))  # v2 requires packagingEmissionsIncluded
    assert "pcf.packagingEmissionsIncluded" in columns(error)
    assert error.value.detail.startswith("cannot convert to PACT v2")


# ---------------------------------------------------------------------------------------------------------------
# Footprints from engine results


def engine_values(version: str) -> dict:
    return {
        "version": version,
        "product_ids": ["urn:pact:park.example.cn:product-id:AL-6063", "urn:gtin:6901234567892"],
        "product_name": "Aluminium profile 6063",
        "product_description": "Extruded aluminium profile, alloy 6063-T5, mill finish, no packaging",
        "company_name": "Lingang Extrusion Co., Ltd.",
        "company_ids": [
            "urn:uuid:7d3c9a6e-2b1f-4c8a-9e0d-5f4b3a2c1d0e",
            "urn:pact:company:customcode:buyer-assigned:4711",
        ],
        "declared_unit": "t",
        "pcf_excluding_biogenic": 8200.0,
        "fossil_ghg_emissions": 8150.0,
        "fossil_carbon_content": 0,
        "primary_data_share": 62.5,
        "reference_period_start": datetime(2024, 1, 1, tzinfo=UTC),
        "reference_period_end": datetime(2025, 1, 1, tzinfo=UTC),
        "geography_country_subdivision": "CN-SH",
        "product_category_cpc": "41532",
        "cross_sectoral_standards": ["ISO14067", "GHGP-Product"],
        "characterization_factors": ["AR6"],
        "boundary_processes_description": "Cradle to gate: billet (supplier PCF), extrusion on grid and PV power",
        "created": datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC),
        "footprint_id": "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
    }


def test_footprint_from_result_builds_valid_v2_and_v3():
    v2 = pact.footprint_from_result(**engine_values("2"))
    v3 = pact.footprint_from_result(**engine_values("3"))
    # each validates against our own parser, from its spec JSON
    assert pact.parse_footprint(v2.to_json(), "2") == v2
    assert pact.parse_footprint(v3.to_json(), "3") == v3
    # 1 t = 1000 kg: v3 per declared unit (1000 kg), v2 per kilogram with unitaryProductAmount 1000
    assert (v3.pcf.declared_unit_of_measurement, v3.pcf.declared_unit_amount) == ("kilogram", Decimal(1000))
    assert v3.pcf.pcf_excluding_biogenic_uptake == Decimal(8200)
    assert v3.pcf.product_mass_per_declared_unit == Decimal(1000)
    assert (v2.pcf.declared_unit, v2.pcf.unitary_product_amount) == ("kilogram", Decimal(1000))
    assert v2.pcf.p_cf_excluding_biogenic == Decimal("8.2")
    assert v2.to_json()["pcf"]["pCfExcludingBiogenic"] == "8.2"
    assert v2.pcf.cross_sectoral_standards == ["ISO14067", "GHGP Product"]
    assert v2.pcf.cross_sectoral_standards_used == ["ISO Standard 14067", "GHG Protocol Product standard"]
    assert v3.product_classifications == ["urn:pact:productclassification:un-cpc:41532"]
    assert v3.to_json()["created"] == v2.to_json()["created"] == "2025-02-03T04:05:06Z"
    assert pact.to_v3(v2).footprint.pcf.pcf_excluding_biogenic_uptake == v3.pcf.pcf_excluding_biogenic_uptake


def test_footprint_from_result_reports_what_the_spec_needs():
    values = engine_values("2") | {"reference_period_end": datetime(2025, 6, 1, tzinfo=UTC)}
    with pytest.raises(ValidationFailed) as error:
        pact.footprint_from_result(**values)  # a 2025 reference period needs the v2 dqi
    assert columns(error) == ["pcf.dqi"]
    dqi = {
        "coveragePercent": 90,
        "technologicalDQR": 1.4,
        "temporalDQR": 1.2,
        "geographicalDQR": 1.1,
        "completenessDQR": 1.5,
        "reliabilityDQR": 1.6,
    }
    assert pact.footprint_from_result(**values, dqi=dqi).pcf.dqi.reliability_dqr == 1.6
    with pytest.raises(ValidationFailed) as error:
        pact.footprint_from_result(**engine_values("3") | {"pcf_excluding_biogenic": float("nan")})
    assert columns(error) == ["pcf_excluding_biogenic"]
    with pytest.raises(ValidationFailed) as error:
        pact.footprint_from_result(**engine_values("3") | {"geography_country": "CN"})
    assert columns(error) == ["pcf.geographyCountrySubdivision"]


# ---------------------------------------------------------------------------------------------------------------
# Events and errors


@pytest.mark.parametrize(
    "name",
    [
        "v2-event-request-created.json",
        "v2-event-request-fulfilled.json",
        "v2-event-request-rejected.json",
        "v2-event-published.json",
        "v3-event-request-created.json",
        "v3-event-request-fulfilled.json",
        "v3-event-request-rejected.json",
        "v3-event-published.json",
    ],
)
def test_spec_events_parse_and_round_trip(name):
    version = name[1]
    doc = load_json(name)
    event = pact.parse_event(doc, version, source=name)
    assert event.type in pact.EVENT_TYPES[version].values()
    assert event.to_json() == doc


def test_v3_example_event_type_is_accepted_as_its_normative_name():
    """v3.0 §9.4 writes ...RequestCreated.3 where §5.8.1 defines ...RequestCreatedEvent.3."""
    doc = load_json("v3-event-request-created.json") | {"type": "org.wbcsd.pact.ProductFootprint.RequestCreated.3"}
    assert pact.parse_event(doc, "3").type == pact.EVENT_TYPES["3"]["RequestCreated"]


def test_bad_events_are_named():
    published = load_json("v2-event-published.json")
    with pytest.raises(ValidationFailed) as error:
        pact.parse_event(published | {"data": {"pfIds": []}}, "2")
    assert columns(error) == ["data.pfIds"]
    with pytest.raises(ValidationFailed) as error:
        pact.parse_event(published | {"data": {"pfIds": ["not-a-uuid"]}}, "2")
    assert columns(error) == ["data.pfIds[0]"]
    with pytest.raises(ValidationFailed) as error:
        pact.parse_event(published, "3")
    assert columns(error) == ["type"]
    rejected = load_json("v2-event-request-rejected.json")
    rejected["data"]["error"]["code"] = "NotFound"  # the v3 name of NoSuchFootprint
    with pytest.raises(ValidationFailed) as error:
        pact.parse_event(rejected, "2")
    assert columns(error) == ["data.error.code"]
    fulfilled = load_json("v3-event-request-fulfilled.json")
    fulfilled["data"]["pfs"][0]["pcf"]["fossilGhgEmissions"] = "-1"
    fulfilled.pop("time")
    with pytest.raises(ValidationFailed) as error:
        pact.parse_event(fulfilled, "3")
    assert sorted(columns(error)) == ["data.pfs[0].pcf.fossilGhgEmissions", "time"]
    with pytest.raises(ValidationFailed) as error:
        pact.parse_event(
            load_json("v3-event-request-fulfilled.json") | {"data": {"requestEventId": "x", "pfs": []}}, "3"
        )
    assert columns(error) == ["data.pfs"]


def test_error_codes_and_body():
    assert pact.ERROR_CODES["2"] == {
        "AccessDenied": 403,
        "BadRequest": 400,
        "NoSuchFootprint": 404,
        "NotImplemented": 400,
        "TokenExpired": 401,
        "InternalError": 500,
    }
    assert pact.ERROR_CODES["3"]["NotFound"] == 404 and "NoSuchFootprint" not in pact.ERROR_CODES["3"]
    assert pact.error_body("AccessDenied", "Access Denied") == {"code": "AccessDenied", "message": "Access Denied"}
    with pytest.raises(ValueError):
        pact.error_body("NoSuchFootprint", "gone", version="3")


# ---------------------------------------------------------------------------------------------------------------
# Helpers the API and CLI call


def test_event_kind_and_data():
    event = pact.parse_event(load_json("v2-event-request-created.json"), "2")
    assert pact.event_kind(event) == "RequestCreated"
    assert pact.event_data(event)["pf"] == {"productIds": ["urn:gtin:4712345060507"]}
    assert pact.event_kind(pact.parse_event(load_json("v3-event-published.json"), "3")) == "Published"


def test_read_documents_and_as_version():
    (doc,) = pact.read_documents(DATA / "v3.0-spec-list-example.json")
    assert doc == spec_footprint("3")
    assert pact.as_version(doc, "3") == doc
    built = pact.footprint_from_result(**engine_values("3")).to_json()
    as_v2 = pact.as_version(built, "2")
    assert as_v2["specVersion"] == "2.3.0" and as_v2["pcf"]["pCfExcludingBiogenic"] == "8.2"
    assert v2_predicate("productCategoryCpc eq '41532'")(as_v2)


def test_v3_unknown_status_selects_nothing():
    """The conformance suite's v3 test case 37 asks ?status=BogusStatus… and expects 200 with no footprints."""
    keep = v3_predicate({"status": ["retired"]})
    assert not keep({"status": "Active"}) and not keep({"status": "Deprecated"})
    assert v3_predicate({"status": ["active"]})({"status": "Active"})  # without regard to case
