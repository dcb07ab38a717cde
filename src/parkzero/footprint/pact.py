"""The PACT data model (WBCSD Partnership for Carbon Transparency, formerly "Pathfinder"), versions 2.3 and 3.0.

Pure data: pydantic models of the ProductFootprint and its CarbonFootprint as the Technical Specifications
define them, the CloudEvents bodies of the Events endpoint, the error codes, conversions between the two
versions and a builder for the footprints our engine computes. No HTTP, no database.

Sources (the section numbers below refer to these texts):

* v2.3: "Technical Specifications for PCF Data Exchange (Version 2.3.0)", 2024-10-24,
  https://wbcsd.github.io/tr/2024/data-exchange-protocol-20241024/ -- data model §5, lifecycle §6, filter
  §8.6.3, events §8.8, error codes §8.9, examples §8.10. The decimal patterns are those of the 2.3 OpenAPI
  file (github.com/wbcsd/pact-openapi, ``pact-openapi-2.3.0.yaml``).
* v3.0: "Technical Specifications for PCF Data Exchange (Version 3.0.0)", 2025-04-30,
  https://docs.carbon-transparency.org/ref/data-exchange-protocol/3.0.0/ -- basic types §4.3, ProductFootprint
  §4.6, CarbonFootprint §4.7, events §5.8, lifecycle §7, examples §9, changelog Appendix A.
* ADR-36 "Clarify product amount" (github.com/wbcsd/data-exchange-protocol, ``decisions/log``): in v2 the
  values are per one unit of ``declaredUnit`` and ``unitaryProductAmount`` counts those units in the product;
  in v3 the declared unit *is* ``declaredUnitAmount`` x ``declaredUnitOfMeasurement`` and the values refer to it.

Build models with `parse_footprint` (or `load_file`), not with the constructors: the cross-field rules of the
specifications (geography, validity period, rules that depend on ``specVersion`` or on the reference period)
are checked there, and every problem becomes one `Issue` naming its JSON path.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from parkzero.errors import Issue, ValidationFailed

Version = Literal["2", "3"]

# ---------------------------------------------------------------------------------------------------------------
# Basic types


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("pact", message)


DECIMAL_PATTERN_V2 = re.compile(r"[+-]?\d+(\.\d+)?")  # pact-openapi-2.3.0.yaml, schema Decimal
# v3 §4.3.1 shows "1.2345e+6" as a valid string<decimal>, so v3 also takes an exponent
DECIMAL_PATTERN_V3 = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
DATETIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)")
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# RFC 8141: "urn:" NID ":" NSS, the NID 2..32 letters, digits or hyphens, not starting or ending with a hyphen
URN_PATTERN = re.compile(r"[uU][rR][nN]:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:\S+")
IPCC_REPORT_PATTERN = re.compile(r"AR\d+")


def decimal_text(value: Decimal) -> str:
    """Write a decimal as the specifications want it: fixed point, no exponent (``Decimal("1E+1")`` -> ``"10"``)."""
    return format(value, "f")


def _decimal_type(
    *, exponent: bool, lower: Decimal | None = None, upper: Decimal | None = None, lower_open: bool = False
) -> Any:
    """A Decimal sent as a JSON string (v2.3 §5.29, v3 §4.3.1), with the bounds the property table gives."""
    pattern = DECIMAL_PATTERN_V3 if exponent else DECIMAL_PATTERN_V2

    def check(value: object) -> Decimal:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, str) and pattern.fullmatch(value):
            number = Decimal(value)
        elif isinstance(value, str):
            raise _fail('must be a decimal number such as "1.63" or "-0.4"')
        else:
            raise _fail(f'must be a decimal number written as a JSON string (such as "1.63"), not {_json_kind(value)}')
        if not number.is_finite():
            raise _fail("must be a finite decimal number")
        if lower is not None and (number <= lower if lower_open else number < lower):
            raise _fail(f"must be {'greater than' if lower_open else 'at least'} {lower}")
        if upper is not None and number > upper:
            raise _fail(f"must be at most {upper}")
        return number

    return Annotated[Decimal, PlainValidator(check), PlainSerializer(decimal_text, return_type=str)]


ZERO, HUNDRED = Decimal(0), Decimal(100)
DecimalV2 = _decimal_type(exponent=False)
NonNegativeV2 = _decimal_type(exponent=False, lower=ZERO)
PositiveV2 = _decimal_type(exponent=False, lower=ZERO, lower_open=True)
NonPositiveV2 = _decimal_type(exponent=False, upper=ZERO)
DecimalV3 = _decimal_type(exponent=True)
NonNegativeV3 = _decimal_type(exponent=True, lower=ZERO)
PositiveV3 = _decimal_type(exponent=True, lower=ZERO, lower_open=True)
NonPositiveV3 = _decimal_type(exponent=True, upper=ZERO)
PercentV3 = _decimal_type(exponent=True, lower=ZERO, upper=HUNDRED)
DqrV3 = _decimal_type(exponent=True, lower=Decimal(1), upper=Decimal(5))  # v3 §4.11: 1..5


def _number_type(lower: float, upper: float) -> Any:
    """A JSON number in [lower, upper] (v2.3 Percent; DQR of §5.3); ints stay ints so round-trips are exact."""

    def check(value: object) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"must be a JSON number, not {_json_kind(value)}")
        if not math.isfinite(value) or not lower <= value <= upper:
            raise _fail(f"must be a number between {lower:g} and {upper:g}")
        return value

    return Annotated[int | float, PlainValidator(check)]


PercentV2 = _number_type(0, 100)
ExemptedPercentV2 = _number_type(0, 5)  # v2.3 §5.2.2: "between 0.0 and 5 including"
DqrV2 = _number_type(1, 3)  # v2.3 §5.3: "between 1 and 3 inclusive"


def _check_datetime(value: object) -> datetime:
    """DateTime: ISO 8601 in UTC (v2.3 §5.27; v3 §4.3.1). Python datetimes must carry a zero UTC offset."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() != timedelta(0):
            raise _fail("must be a date and time in UTC")
        return value.astimezone(UTC)
    if not isinstance(value, str) or not DATETIME_PATTERN.fullmatch(value):
        raise _fail('must be an ISO 8601 date and time in UTC, such as "2024-01-01T00:00:00Z"')
    text = value.replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    if rest:  # Python takes at most 6 fractional digits
        digits, offset = rest[:-6], rest[-6:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{offset}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError as error:
        raise _fail(f"is not a real date and time ({error})") from None


def datetime_text(value: datetime) -> str:
    """Write a UTC datetime as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (fraction only when there is one)."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "Z"


UtcDateTime = Annotated[datetime, PlainValidator(_check_datetime), PlainSerializer(datetime_text, return_type=str)]


def _string_type(pattern: re.Pattern[str] | None, message: str, *, non_empty: bool = False) -> Any:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _fail(f"must be a JSON string, not {_json_kind(value)}")
        if (non_empty and not value) or (pattern is not None and not pattern.fullmatch(value)):
            raise _fail(message)
        return value

    return Annotated[str, PlainValidator(check)]


def _check_uri(value: object) -> str:
    if not isinstance(value, str):
        raise _fail(f"must be a JSON string, not {_json_kind(value)}")
    parts = urlparse(value)
    if not parts.scheme or not (parts.netloc or parts.path):
        raise _fail("must be an absolute URI such as https://example.org/schema.json")
    return value


Text = _string_type(None, "must be a string")
NonEmptyText = _string_type(None, "must not be empty", non_empty=True)
Uuid = _string_type(UUID_PATTERN, "must be a UUID such as 91715e5e-fd0b-4d1c-8fab-76290c46e6ed")
Urn = _string_type(URN_PATTERN, 'must be a URN ("urn:" namespace ":" identifier), such as urn:gtin:5695872369587')
Uri = Annotated[str, PlainValidator(_check_uri)]
IpccReport = _string_type(IPCC_REPORT_PATTERN, 'must be "AR" and the number of an IPCC assessment report, such as AR6')
CountryCode = _string_type(re.compile(r"[A-Z]{2}"), "must be an ISO 3166-1 alpha-2 country code such as CN")
SubdivisionCode = _string_type(
    re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}"), "must be an ISO 3166-2 subdivision code such as CN-SH"
)
SpecVersionV2 = _string_type(re.compile(r"2\.\d+\.\d+(-\d{8})?"), 'must be a 2.x.y version such as "2.3.0"')
SpecVersionV3 = _string_type(re.compile(r"3\.\d+\.\d+(-\d{8})?"), 'must be a 3.x.y version such as "3.0.0"')
PfVersion = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]


def _unique(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for value in values:
        key = json.dumps(value, sort_keys=True, default=str)
        if key in seen:
            raise _fail(f"must not list a value twice ({value!r} repeats)")
        seen.add(key)
    return values


def _set_of(item: Any) -> Any:
    """A non-empty set encoded as a JSON array without duplicates (the specs' "...Set" types)."""
    return Annotated[list[item], Field(min_length=1), AfterValidator(_unique)]


REGIONS = (
    "Africa", "Americas", "Asia", "Europe", "Oceania", "Australia and New Zealand", "Central Asia", "Eastern Asia",
    "Eastern Europe", "Latin America and the Caribbean", "Melanesia", "Micronesia", "Northern Africa",
    "Northern America", "Northern Europe", "Polynesia", "South-eastern Asia", "Southern Asia", "Southern Europe",
    "Sub-Saharan Africa", "Western Asia", "Western Europe",
)  # fmt: skip  # v2.3 §5.6 RegionOrSubregion, the same list in v3 §4.7.2
RegionOrSubregion = Literal[
    "Africa", "Americas", "Asia", "Europe", "Oceania", "Australia and New Zealand", "Central Asia", "Eastern Asia",
    "Eastern Europe", "Latin America and the Caribbean", "Melanesia", "Micronesia", "Northern Africa",
    "Northern America", "Northern Europe", "Polynesia", "South-eastern Asia", "Southern Asia", "Southern Europe",
    "Sub-Saharan Africa", "Western Asia", "Western Europe",
]  # fmt: skip
DeclaredUnitV2 = Literal[
    "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer", "square meter"
]  # fmt: skip  # v2.3 §5.16
DeclaredUnitV3 = Literal[
    "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer", "square meter", "piece",
    "hour", "megabit second",
]  # fmt: skip  # v3 §4.7.2 declaredUnitOfMeasurement
Status = Literal["Active", "Deprecated"]
RuleOperator = Literal["PEF", "EPD International", "Other"]  # v2.3 §5.13, v3 §4.9.1

# crossSectoralStandards: v2.3 §5.2.2 (with "PACT Methodology $VERSION$") and v3 §4.7.2. Both say a host MUST
# accept values it does not know from *later* revisions, so unknown values pass only above the version listed.
CROSS_SECTORAL_STANDARDS_V2 = ("ISO14067", "ISO14083", "ISO14040-44", "GHGP Product", "PEF", "PAS2050")
CROSS_SECTORAL_STANDARDS_V3 = (
    "ISO14067", "ISO14083", "ISO14040-44", "GHGP-Product", "PEF", "PACT-1.0", "PACT-2.0", "PACT-3.0", "PAS2050",
)  # fmt: skip
# crossSectoralStandardsUsed (v2.3 §5.9, deprecated) -> crossSectoralStandards of v2.3 and of v3
LEGACY_STANDARDS = {
    "GHG Protocol Product standard": ("GHGP Product", "GHGP-Product"),
    "ISO Standard 14067": ("ISO14067", "ISO14067"),
    "ISO Standard 14044": ("ISO14040-44", "ISO14040-44"),
}

# ---------------------------------------------------------------------------------------------------------------
# Models


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True, strict=True)

    def to_json(self) -> dict[str, Any]:
        """The spec JSON of this object: camelCase names, decimals and datetimes as strings, no undefined keys."""
        return self.model_dump(by_alias=True, exclude_none=True)


class DataModelExtension(BaseModel):
    """A data model extension (v2.3 §5.5, v3 §4.8). Only ``dataSchema`` and ``data`` are checked; any other key
    (``specVersion`` in the examples, ``specversion`` in the v3 table, ``documentation``) is kept as given."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    dataSchema: Uri
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class EmissionFactorSource(_Model):
    """A secondary emission factor database (v2.3 §5.8 EmissionFactorDS, v3 §4.10 EmissionFactorSource)."""

    name: NonEmptyText
    version: NonEmptyText


class ProductOrSectorSpecificRule(_Model):
    """Product or sector specific rules of one operator (v2.3 §5.11, v3 §4.9); ``otherOperatorName`` is checked
    against ``operator`` by `parse_footprint`."""

    operator: RuleOperator
    rule_names: _set_of(NonEmptyText)
    other_operator_name: NonEmptyText | None = None


class DataQualityIndicatorsV2(_Model):
    """v2.3 §5.3: coverage [%] and five data quality ratings on PACT Methodology 2 Table 9 [1..3]. Each is optional
    until the reference period reaches 2025, then all are required (checked by `parse_footprint`)."""

    coverage_percent: PercentV2 | None = None
    technological_dqr: DqrV2 | None = Field(None, alias="technologicalDQR")
    temporal_dqr: DqrV2 | None = Field(None, alias="temporalDQR")
    geographical_dqr: DqrV2 | None = Field(None, alias="geographicalDQR")
    completeness_dqr: DqrV2 | None = Field(None, alias="completenessDQR")
    reliability_dqr: DqrV2 | None = Field(None, alias="reliabilityDQR")


class DataQualityIndicatorsV3(_Model):
    """v3 §4.11: three data quality ratings as decimal strings [1..5]."""

    technological_dqr: DqrV3 = Field(alias="technologicalDQR")
    geographical_dqr: DqrV3 = Field(alias="geographicalDQR")
    temporal_dqr: DqrV3 = Field(alias="temporalDQR")


class AssuranceV2(_Model):
    """v2.3 §5.4. ``providerName`` is mandatory but may be empty: the spec's own example (§8.10.1) sends ``""``."""

    assurance: StrictBool
    coverage: Literal["corporate level", "product line", "PCF system", "product level"] | None = None
    level: Literal["limited", "reasonable"] | None = None
    boundary: Literal["Gate-to-Gate", "Cradle-to-Gate"] | None = None
    provider_name: Text
    completed_at: UtcDateTime | None = None
    standard_name: Text | None = None
    comments: Text | None = None


class VerificationV3(_Model):
    """v3 §4.12 (``assurance`` of v2, renamed); its presence says the footprint was verified."""

    coverage: Literal["PCF calculation model", "PCF program", "product level"] | None = None
    provider_name: Text | None = None
    completed_at: UtcDateTime | None = None
    standard_name: Text | None = None
    comments: Text | None = None


class CarbonFootprintV2(_Model):
    """The ``pcf`` of a v2.3 ProductFootprint (§5.2.2). Emissions [kgCO2e per declared unit], carbon contents
    [kgC per declared unit], where the declared unit is one unit of ``declaredUnit`` (ADR-36).

    ``ipccCharacterizationFactorsSources`` (mandatory since 2.2) and ``crossSectoralStandards`` (since 2.3) are
    optional here so that 2.0-2.2 footprints parse; `parse_footprint` requires them by ``specVersion``.
    ``biogenicAccountingMethodology`` takes any non-empty text, as §5.2.2 warns the list will grow and the spec's
    example sends ``"GHPG"``.
    """

    declared_unit: DeclaredUnitV2
    unitary_product_amount: PositiveV2
    product_mass_per_declared_unit: NonNegativeV2 | None = None
    p_cf_excluding_biogenic: NonNegativeV2
    p_cf_including_biogenic: DecimalV2 | None = None
    fossil_ghg_emissions: NonNegativeV2
    fossil_carbon_content: NonNegativeV2
    biogenic_carbon_content: NonNegativeV2
    d_luc_ghg_emissions: NonNegativeV2 | None = None
    land_management_ghg_emissions: DecimalV2 | None = None
    other_biogenic_ghg_emissions: NonNegativeV2 | None = None
    i_luc_ghg_emissions: NonNegativeV2 | None = None
    biogenic_carbon_withdrawal: NonPositiveV2 | None = None
    aircraft_ghg_emissions: NonNegativeV2 | None = None
    characterization_factors: Literal["AR6", "AR5"]
    ipcc_characterization_factors_sources: _set_of(IpccReport) | None = None
    cross_sectoral_standards_used: _set_of(
        Literal["GHG Protocol Product standard", "ISO Standard 14067", "ISO Standard 14044"]
    )
    cross_sectoral_standards: _set_of(NonEmptyText) | None = None
    product_or_sector_specific_rules: list[ProductOrSectorSpecificRule] | None = None
    biogenic_accounting_methodology: NonEmptyText | None = None
    boundary_processes_description: Text
    reference_period_start: UtcDateTime
    reference_period_end: UtcDateTime
    geography_country_subdivision: SubdivisionCode | None = None
    geography_country: CountryCode | None = None
    geography_region_or_subregion: RegionOrSubregion | None = None
    secondary_emission_factor_sources: Annotated[list[EmissionFactorSource], Field(min_length=1)] | None = None
    exempted_emissions_percent: ExemptedPercentV2
    exempted_emissions_description: Text
    packaging_emissions_included: StrictBool
    packaging_ghg_emissions: NonNegativeV2 | None = None
    allocation_rules_description: Text | None = None
    uncertainty_assessment_description: Text | None = None
    primary_data_share: PercentV2 | None = None
    dqi: DataQualityIndicatorsV2 | None = None
    assurance: AssuranceV2 | None = None


class ProductFootprintV2(_Model):
    """A v2.3 ProductFootprint (§5.1.1). ``productClassifications`` is the optional property 2.3 added (ADR-37,
    v3 Appendix A; ``pact-openapi-2.3.0.yaml``)."""

    id: Uuid
    spec_version: SpecVersionV2
    preceding_pf_ids: _set_of(Uuid) | None = None
    version: PfVersion
    created: UtcDateTime
    updated: UtcDateTime | None = None
    status: Status
    status_comment: Text | None = None
    validity_period_start: UtcDateTime | None = None
    validity_period_end: UtcDateTime | None = None
    company_name: NonEmptyText
    company_ids: _set_of(Urn)
    product_description: Text
    product_ids: _set_of(Urn)
    product_category_cpc: NonEmptyText
    product_classifications: _set_of(Urn) | None = None
    product_name_company: NonEmptyText
    comment: Text
    pcf: CarbonFootprintV2
    extensions: Annotated[list[DataModelExtension], Field(min_length=1)] | None = None


class CarbonFootprintV3(_Model):
    """The ``pcf`` of a v3.0 ProductFootprint (§4.7.2). Emissions [kgCO2e per declared unit], carbon contents
    [kgC per declared unit], mass [kg per declared unit], where the declared unit is ``declaredUnitAmount``
    x ``declaredUnitOfMeasurement`` (§4.7.2, ADR-36).

    ``biogenicAccountingMethodology`` is not in the §4.7.2 table but every §9 example sends it, so it is kept as
    a tolerated leftover of v2.
    """

    declared_unit_of_measurement: DeclaredUnitV3
    declared_unit_amount: PositiveV3
    product_mass_per_declared_unit: NonNegativeV3
    reference_period_start: UtcDateTime
    reference_period_end: UtcDateTime
    geography_region_or_subregion: RegionOrSubregion | None = None
    geography_country: CountryCode | None = None
    geography_country_subdivision: SubdivisionCode | None = None
    boundary_processes_description: Text | None = None
    pcf_excluding_biogenic_uptake: DecimalV3
    pcf_including_biogenic_uptake: DecimalV3
    fossil_carbon_content: NonNegativeV3
    biogenic_carbon_content: NonNegativeV3 | None = None
    recycled_carbon_content: NonNegativeV3 | None = None
    fossil_ghg_emissions: NonNegativeV3
    land_use_change_ghg_emissions: NonNegativeV3 | None = None
    land_carbon_leakage: NonNegativeV3 | None = None
    land_management_fossil_ghg_emissions: NonNegativeV3 | None = None
    land_management_biogenic_co2_emissions: NonNegativeV3 | None = Field(
        None, alias="landManagementBiogenicCO2Emissions"
    )
    land_management_biogenic_co2_removals: NonPositiveV3 | None = Field(None, alias="landManagementBiogenicCO2Removals")
    biogenic_co2_uptake: NonPositiveV3 | None = Field(None, alias="biogenicCO2Uptake")
    biogenic_non_co2_emissions: NonNegativeV3 | None = Field(None, alias="biogenicNonCO2Emissions")
    land_area_occupation: NonNegativeV3 | None = None
    aircraft_ghg_emissions: NonNegativeV3 | None = None
    packaging_emissions_included: StrictBool | None = None
    packaging_ghg_emissions: NonNegativeV3 | None = None
    packaging_biogenic_carbon_content: NonNegativeV3 | None = None
    outbound_logistics_ghg_emissions: NonNegativeV3 | None = None
    ccs_technological_co2_capture_included: StrictBool | None = Field(None, alias="ccsTechnologicalCO2CaptureIncluded")
    ccs_technological_co2_capture: NonPositiveV3 | None = Field(None, alias="ccsTechnologicalCO2Capture")
    technological_co2_capture_origin: Text | None = Field(None, alias="technologicalCO2CaptureOrigin")
    technological_co2_removals: NonNegativeV3 | None = Field(None, alias="technologicalCO2Removals")
    ccu_carbon_content: NonNegativeV3 | None = None
    ccu_calculation_approach: Literal["Cut-off", "Credit"] | None = None
    ccu_credit_certification: Uri | None = None
    ipcc_characterization_factors: _set_of(IpccReport)
    cross_sectoral_standards: _set_of(NonEmptyText)
    product_or_sector_specific_rules: list[ProductOrSectorSpecificRule] | None = None
    biogenic_accounting_methodology: NonEmptyText | None = None
    exempted_emissions_percent: PercentV3
    exempted_emissions_description: Text | None = None
    allocation_rules_description: Text | None = None
    secondary_emission_factor_sources: Annotated[list[EmissionFactorSource], Field(min_length=1)] | None = None
    primary_data_share: PercentV3 | None = None
    dqi: DataQualityIndicatorsV3 | None = None
    verification: VerificationV3 | None = None


class ProductFootprintV3(_Model):
    """A v3.0 ProductFootprint (§4.6.1). ``version``, ``updated`` and ``statusComment`` are obsolete since 3.0
    (§7.2.3) but tolerated on input, since the spec's own examples (§9) still send ``"version": 1``."""

    id: Uuid
    spec_version: SpecVersionV3
    preceding_pf_ids: _set_of(Uuid) | None = None
    version: PfVersion | None = None
    created: UtcDateTime
    updated: UtcDateTime | None = None
    status: Status
    status_comment: Text | None = None
    validity_period_start: UtcDateTime | None = None
    validity_period_end: UtcDateTime | None = None
    company_name: NonEmptyText
    company_ids: _set_of(Urn)
    product_description: Text
    product_ids: _set_of(Urn)
    product_classifications: _set_of(Urn) | None = None
    product_name_company: NonEmptyText
    comment: Text | None = None
    pcf: CarbonFootprintV3
    extensions: Annotated[list[DataModelExtension], Field(min_length=1)] | None = None


ProductFootprint = ProductFootprintV2 | ProductFootprintV3
FOOTPRINT_MODELS: dict[str, type[ProductFootprintV2] | type[ProductFootprintV3]] = {
    "2": ProductFootprintV2,
    "3": ProductFootprintV3,
}

# ---------------------------------------------------------------------------------------------------------------
# Errors (v2.3 §8.9 table; v3 §4.13 codes with the statuses of the §5.6-5.8 response tables)

ERROR_CODES: dict[str, dict[str, int]] = {
    "2": {
        "AccessDenied": 403,
        "BadRequest": 400,
        "NoSuchFootprint": 404,
        "NotImplemented": 400,
        "TokenExpired": 401,
        "InternalError": 500,
    },
    # NotImplemented: the v3 text gives no status; 501 is the comment in the 3.0 OpenAPI draft
    "3": {
        "BadRequest": 400,
        "AccessDenied": 403,
        "TokenExpired": 401,
        "NotFound": 404,
        "InternalError": 500,
        "NotImplemented": 501,
    },
}


def error_body(code: str, message: str, version: Version | None = None) -> dict[str, str]:
    """The spec's error response ``{"code": ..., "message": ...}`` (v2.3 §8.9, v3 §4.13).

    Parameters
    ----------
    code : str
        An error response code of `ERROR_CODES` (of `version`, if given; else of either version).
    message : str
        Human-readable description.
    version : {"2", "3"}, optional
        The API version the body is for.
    """
    known = ERROR_CODES[version] if version else {**ERROR_CODES["2"], **ERROR_CODES["3"]}
    if code not in known:
        raise ValueError(f"unknown PACT error code {code!r}; known: {', '.join(known)}")
    return {"code": code, "message": message}


class ErrorBody(_Model):
    code: NonEmptyText
    message: Text


# ---------------------------------------------------------------------------------------------------------------
# Events (v2.3 §8.8, v3 §5.8): CloudEvents 1.0 in structured content mode

EVENT_TYPES: dict[str, dict[str, str]] = {
    "2": {
        "RequestCreated": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "RequestFulfilled": "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
        "RequestRejected": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
        "Published": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
    },
    "3": {
        "RequestCreated": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "RequestFulfilled": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "RequestRejected": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        "Published": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
    },
}
# v3 §9.4 shows "...ProductFootprint.RequestCreated.3" while §5.8.1 defines "...RequestCreatedEvent.3"
EVENT_TYPE_ALIASES = {"org.wbcsd.pact.ProductFootprint.RequestCreated.3": EVENT_TYPES["3"]["RequestCreated"]}


class _CloudEventV2(_Model):
    """CloudEvents attributes; ``time`` is optional as in CloudEvents 1.0 (the v2.3 response syntax omits it)."""

    specversion: Literal["1.0"]
    id: NonEmptyText
    source: NonEmptyText
    time: UtcDateTime | None = None


class _CloudEventV3(_Model):
    """CloudEvents attributes; v3 §5.8 marks ``time`` required."""

    specversion: Literal["1.0"]
    id: NonEmptyText
    source: NonEmptyText
    time: UtcDateTime


class PublishedDataV2(_Model):
    pf_ids: _set_of(Uuid)


class RequestCreatedDataV2(_Model):
    pf: dict[str, Any]  # a ProductFootprintFragment: any subset of the properties, nested ones included
    comment: Text | None = None


class RequestFulfilledDataV2(_Model):
    request_event_id: NonEmptyText
    pfs: list[ProductFootprintV2]


class RequestRejectedDataV2(_Model):
    request_event_id: NonEmptyText
    error: ErrorBody


class PublishedEventV2(_CloudEventV2):
    type: Literal["org.wbcsd.pathfinder.ProductFootprint.Published.v1"]
    data: PublishedDataV2


class RequestCreatedEventV2(_CloudEventV2):
    type: Literal["org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"]
    data: RequestCreatedDataV2


class RequestFulfilledEventV2(_CloudEventV2):
    type: Literal["org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"]
    data: RequestFulfilledDataV2


class RequestRejectedEventV2(_CloudEventV2):
    type: Literal["org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"]
    data: RequestRejectedDataV2


class PublishedDataV3(_Model):
    # any identifiers: the v3 conformance suite (test case 15) notifies "urn:gtin:..." ids and expects 200,
    # where v2 (test case 21) expects ids that are not UUIDs to be refused
    pf_ids: _set_of(NonEmptyText)


class RequestCreatedDataV3(_Model):
    """The criteria of a v3 request (§5.8.1), the same as the ListFootprints query parameters (§5.6.3)."""

    product_id: _set_of(Urn) | None = None
    company_id: _set_of(Urn) | None = None
    geography: _set_of(NonEmptyText) | None = None
    classification: _set_of(Urn) | None = None
    valid_on: UtcDateTime | None = None
    valid_after: UtcDateTime | None = None
    valid_before: UtcDateTime | None = None
    status: Status | None = None
    comment: Text | None = None


class RequestFulfilledDataV3(_Model):
    request_event_id: NonEmptyText
    pfs: Annotated[list[ProductFootprintV3], Field(min_length=1)]  # §5.8.2: MUST be non-empty


class RequestRejectedDataV3(_Model):
    request_event_id: NonEmptyText
    error: ErrorBody


class PublishedEventV3(_CloudEventV3):
    type: Literal["org.wbcsd.pact.ProductFootprint.PublishedEvent.3"]
    data: PublishedDataV3


class RequestCreatedEventV3(_CloudEventV3):
    type: Literal["org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"]
    data: RequestCreatedDataV3


class RequestFulfilledEventV3(_CloudEventV3):
    type: Literal["org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"]
    data: RequestFulfilledDataV3


class RequestRejectedEventV3(_CloudEventV3):
    type: Literal["org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"]
    data: RequestRejectedDataV3


EVENT_MODELS: dict[str, dict[str, type[_Model]]] = {
    "2": {
        EVENT_TYPES["2"]["RequestCreated"]: RequestCreatedEventV2,
        EVENT_TYPES["2"]["RequestFulfilled"]: RequestFulfilledEventV2,
        EVENT_TYPES["2"]["RequestRejected"]: RequestRejectedEventV2,
        EVENT_TYPES["2"]["Published"]: PublishedEventV2,
    },
    "3": {
        EVENT_TYPES["3"]["RequestCreated"]: RequestCreatedEventV3,
        EVENT_TYPES["3"]["RequestFulfilled"]: RequestFulfilledEventV3,
        EVENT_TYPES["3"]["RequestRejected"]: RequestRejectedEventV3,
        EVENT_TYPES["3"]["Published"]: PublishedEventV3,
    },
}

# ---------------------------------------------------------------------------------------------------------------
# Parsing


def _json_kind(value: object) -> str:
    kinds = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _path(prefix: str, location: Iterable[int | str]) -> str:
    text = prefix
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(value: object) -> str | None:
    if isinstance(value, dict):
        return None  # an object is not a value to quote; its field is named
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _issues(error: ValidationError, source: str, prefix: str = "") -> list[Issue]:
    issues = []
    for entry in error.errors(include_url=False):
        kind = entry["type"]
        if kind == "missing":
            reason, value = "required property is missing", None
        elif kind == "extra_forbidden":
            reason, value = "is not a property of this data type in the specification", None
        else:
            reason, value = entry["msg"], _shown(entry.get("input"))
        issues.append(Issue(reason, file=source, column=_path(prefix, entry["loc"]), value=value))
    return issues


def _check_version(version: str) -> Version:
    if version not in ("2", "3"):
        raise ValueError(f'PACT version must be "2" or "3", not {version!r}')
    return version  # type: ignore[return-value]


def parse_footprint(doc: object, version: Version, source: str = "<input>", *, prefix: str = "") -> ProductFootprint:
    """Validate one ProductFootprint JSON object against PACT v2.3 or v3.0.

    Parameters
    ----------
    doc : dict
        The footprint as decoded JSON (camelCase names, decimals as strings).
    version : {"2", "3"}
        The major version of the Technical Specifications to check against.
    source : str
        Named in every Issue's ``file`` (a file name, "POST /2/events", ...).
    prefix : str
        JSON path of `doc` inside a larger document, put before every field path (``"data[3]"``).

    Returns
    -------
    ProductFootprintV2 or ProductFootprintV3

    Raises
    ------
    ValidationFailed
        With one Issue per bad property, ``column`` its JSON path (``pcf.declaredUnit``). Nothing is returned
        partially: a footprint with any problem is rejected whole.
    """
    model = FOOTPRINT_MODELS[_check_version(version)]
    if not isinstance(doc, dict):
        issue = Issue(
            f"a ProductFootprint must be a JSON object, not {_json_kind(doc)}", file=source, column=prefix or None
        )
        raise ValidationFailed(f"PACT v{version} footprint rejected", issues=[issue])
    try:
        footprint = model.model_validate(doc)
    except ValidationError as error:
        issues = _issues(error, source, prefix)
        raise ValidationFailed(f"PACT v{version} footprint rejected: {len(issues)} problem(s)", issues=issues) from None
    rules = _rules_v2 if version == "2" else _rules_v3
    problems = list(rules(footprint))  # type: ignore[arg-type]
    if problems:
        issues = [
            Issue(reason, file=source, column=_path(prefix, path.split(".")), value=value)
            for path, reason, value in problems
        ]
        raise ValidationFailed(f"PACT v{version} footprint rejected: {len(issues)} problem(s)", issues=issues)
    return footprint


Problem = tuple[str, str, str | None]  # JSON path, reason, value shown


def _minor(spec_version: str) -> int:
    return int(spec_version.split(".")[1])


def _plus_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _common_rules(fp: ProductFootprintV2 | ProductFootprintV3, *, start_after_reference: bool) -> Iterable[Problem]:
    pcf = fp.pcf
    if pcf.reference_period_end <= pcf.reference_period_start:
        yield (
            "pcf.referencePeriodEnd",
            "must be after referencePeriodStart (the end is excluded)",
            datetime_text(pcf.reference_period_end),
        )
    geography = {
        "geographyRegionOrSubregion": pcf.geography_region_or_subregion,
        "geographyCountry": pcf.geography_country,
        "geographyCountrySubdivision": pcf.geography_country_subdivision,
    }
    defined = [name for name, value in geography.items() if value is not None]
    if len(defined) > 1:  # v2.3 §5.2.1, v3 §4.7.1
        yield f"pcf.{defined[1]}", f"only one geographic scope may be defined, but {' and '.join(defined)} are", None
    if pcf.packaging_emissions_included is False and pcf.packaging_ghg_emissions is not None:
        yield "pcf.packagingGhgEmissions", "must be undefined when packagingEmissionsIncluded is false", None
    for index, rule in enumerate(pcf.product_or_sector_specific_rules or ()):
        path = f"pcf.productOrSectorSpecificRules[{index}].otherOperatorName"
        if rule.operator == "Other" and rule.other_operator_name is None:
            yield path, 'is required when operator is "Other"', None
    start, end = fp.validity_period_start, fp.validity_period_end
    if (start is None) != (end is None) and fp.spec_version.startswith("2"):
        yield (
            "validityPeriodStart" if start is None else "validityPeriodEnd",
            "a validity period needs both its start and its end",
            None,
        )
    if start is not None and end is not None and end <= start:
        yield "validityPeriodEnd", "must be after validityPeriodStart", datetime_text(end)
    if end is not None and end > _plus_years(pcf.reference_period_end, 3):
        yield "validityPeriodEnd", "must be at most 3 years after referencePeriodEnd", datetime_text(end)
    if start_after_reference and start is not None and start < pcf.reference_period_end:
        yield "validityPeriodStart", "must not be before referencePeriodEnd", datetime_text(start)


def _standards_rule(
    values: Sequence[str], known: Sequence[str], pattern: str, spec_version: str, listed: int, path: str
):
    if _minor(spec_version) > listed:
        return  # later revisions may add standards, and a host MUST accept them
    for index, value in enumerate(values):
        if value not in known and not re.fullmatch(pattern, value):
            yield (
                f"{path}[{index}]",
                f"is not a cross-sectoral standard of the specification ({', '.join(known)})",
                value,
            )


YEAR_2025 = datetime(2025, 1, 1, tzinfo=UTC)
STARRED_V2 = {  # v2.3 §5.2.2 "O*": required once the reference period reaches 2025
    "pCfIncludingBiogenic": "p_cf_including_biogenic",
    "dLucGhgEmissions": "d_luc_ghg_emissions",
    "landManagementGhgEmissions": "land_management_ghg_emissions",
    "otherBiogenicGhgEmissions": "other_biogenic_ghg_emissions",
    "biogenicCarbonWithdrawal": "biogenic_carbon_withdrawal",
    "biogenicAccountingMethodology": "biogenic_accounting_methodology",
    "primaryDataShare": "primary_data_share",
    "dqi": "dqi",
}


def _rules_v2(fp: ProductFootprintV2) -> Iterable[Problem]:
    """Cross-field rules of v2.3 (§5.1.1 validity period, §5.2.1 geography, §5.2.2, §5.3, §5.11)."""
    yield from _common_rules(fp, start_after_reference=True)
    pcf = fp.pcf
    for index, rule in enumerate(pcf.product_or_sector_specific_rules or ()):
        if rule.operator != "Other" and rule.other_operator_name is not None:
            yield (
                f"pcf.productOrSectorSpecificRules[{index}].otherOperatorName",
                'must be undefined unless operator is "Other"',
                None,
            )
    minor = _minor(fp.spec_version)
    if minor >= 2 and pcf.ipcc_characterization_factors_sources is None:
        yield "pcf.ipccCharacterizationFactorsSources", "required property is missing (mandatory since 2.2)", None
    if minor >= 3 and pcf.cross_sectoral_standards is None:
        yield "pcf.crossSectoralStandards", "required property is missing (mandatory since 2.3)", None
    if pcf.cross_sectoral_standards:
        yield from _standards_rule(
            pcf.cross_sectoral_standards, CROSS_SECTORAL_STANDARDS_V2, r"PACT Methodology \d+\.\d+", fp.spec_version, 3,
            "pcf.crossSectoralStandards",
        )  # fmt: skip
    if pcf.reference_period_end > YEAR_2025:
        for alias, name in STARRED_V2.items():
            if getattr(pcf, name) is None:
                yield f"pcf.{alias}", "is required for reference periods reaching into 2025 or later", None
        if pcf.dqi is not None:
            for name, info in DataQualityIndicatorsV2.model_fields.items():
                if getattr(pcf.dqi, name) is None:
                    yield f"pcf.dqi.{info.alias}", "is required for reference periods reaching into 2025 or later", None
    elif pcf.primary_data_share is None and pcf.dqi is None:
        yield "pcf.primaryDataShare", "primaryDataShare or dqi (or both) must be defined", None


def _rules_v3(fp: ProductFootprintV3) -> Iterable[Problem]:
    """Cross-field rules of v3.0 (§4.7.1 geography, §4.7.2, §4.9.1, §7.3 validity period).

    §7.3 also wants validityPeriodStart >= referencePeriodEnd; that is not enforced, as the spec's own
    examples (§9.1, §9.2) break it.
    """
    yield from _common_rules(fp, start_after_reference=False)
    pcf = fp.pcf
    if pcf.ccs_technological_co2_capture_included is False:
        for alias, value in (
            ("ccsTechnologicalCO2Capture", pcf.ccs_technological_co2_capture),
            ("technologicalCO2Removals", pcf.technological_co2_removals),
            ("technologicalCO2CaptureOrigin", pcf.technological_co2_capture_origin),
        ):
            if value is not None:
                yield f"pcf.{alias}", "must be undefined when ccsTechnologicalCO2CaptureIncluded is false", None
    yield from _standards_rule(
        pcf.cross_sectoral_standards, CROSS_SECTORAL_STANDARDS_V3, r"PACT-\d+\.\d+", fp.spec_version, 0,
        "pcf.crossSectoralStandards",
    )  # fmt: skip


def parse_event(doc: object, version: Version, source: str = "<input>") -> _Model:
    """Validate a CloudEvents body of ``POST /2/events`` or ``POST /3/events`` (v2.3 §8.8, v3 §5.8).

    Returns the event model for its ``type``; footprints inside a RequestFulfilled event are checked like
    `parse_footprint` checks them, their paths under ``data.pfs[i]``.

    Raises
    ------
    ValidationFailed
        One Issue per bad property (``type`` when the event type is not one of `EVENT_TYPES` of `version`).
    """
    models = EVENT_MODELS[_check_version(version)]
    if not isinstance(doc, dict):
        issue = Issue(f"an event must be a JSON object, not {_json_kind(doc)}", file=source)
        raise ValidationFailed(f"PACT v{version} event rejected", issues=[issue])
    kind = doc.get("type")
    if version == "3" and isinstance(kind, str):
        kind = EVENT_TYPE_ALIASES.get(kind, kind)
    if not isinstance(kind, str) or kind not in models:
        reason = (
            "required property is missing"
            if "type" not in doc
            else f"is not a v{version} event type ({', '.join(models)})"
        )
        issue = Issue(reason, file=source, column="type", value=_shown(doc.get("type")) if "type" in doc else None)
        raise ValidationFailed(f"PACT v{version} event rejected", issues=[issue])
    model = models[kind]
    try:
        event = model.model_validate({**doc, "type": kind})
    except ValidationError as error:
        issues = _issues(error, source)
        raise ValidationFailed(f"PACT v{version} event rejected: {len(issues)} problem(s)", issues=issues) from None
    issues: list[Issue] = []
    data = event.data  # type: ignore[attr-defined]
    for index, footprint in enumerate(getattr(data, "pfs", ())):
        rules = _rules_v2 if version == "2" else _rules_v3
        issues += [
            Issue(reason, file=source, column=_path(f"data.pfs[{index}]", path.split(".")), value=value)
            for path, reason, value in rules(footprint)
        ]
    error = getattr(data, "error", None)
    if error is not None and error.code not in ERROR_CODES[version]:
        issues.append(
            Issue(
                f"is not a v{version} error code ({', '.join(ERROR_CODES[version])})",
                file=source,
                column="data.error.code",
                value=error.code,
            )
        )
    if issues:
        raise ValidationFailed(f"PACT v{version} event rejected: {len(issues)} problem(s)", issues=issues)
    return event


def event_kind(event: _Model) -> str:
    """The kind of a parsed event, independent of version: "RequestCreated", "RequestFulfilled",
    "RequestRejected" or "Published" (the keys of `EVENT_TYPES`)."""
    kind = event.type  # type: ignore[attr-defined]
    return next(name for types in EVENT_TYPES.values() for name, value in types.items() if value == kind)


def event_data(event: _Model) -> dict[str, Any]:
    """The ``data`` of a parsed event as spec JSON (camelCase, footprints as their JSON)."""
    return event.data.to_json()  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# Files


def footprint_version(doc: object) -> Version | None:
    """The major version a footprint claims by its ``specVersion`` ("2" or "3"), or None."""
    spec = doc.get("specVersion") if isinstance(doc, dict) else None
    major = spec.split(".")[0] if isinstance(spec, str) else None
    return major if major in ("2", "3") else None  # type: ignore[return-value]


def _unwrap(doc: object, source: str) -> tuple[list[object], str, bool]:
    """The footprints of a file's JSON, the JSON path of their list, and whether it held a single one."""
    if isinstance(doc, dict) and "data" in doc and "specVersion" not in doc:
        items = doc["data"]
        if isinstance(items, dict):
            return [items], "data", True
        if not isinstance(items, list):
            issue = Issue('"data" must be a JSON array or object', file=source, column="data")
            raise ValidationFailed("PACT file rejected", issues=[issue])
        return items, "data", False
    if isinstance(doc, list):
        return doc, "", False
    return [doc], "", True


def _read_json(path: str | os.PathLike[str]) -> object:
    source = str(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        issue = Issue(f"is not JSON: {error.msg} (column {error.colno})", file=source, row=error.lineno)
        raise ValidationFailed("PACT file rejected", issues=[issue]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed("PACT file rejected", issues=[Issue(f"cannot be read: {error}", file=source)]) from None


def read_documents(path: str | os.PathLike[str]) -> list[object]:
    """The footprint JSON objects of a PACT file (one, an array, or ``{"data": ...}``), as read, not validated.

    Raises
    ------
    ValidationFailed
        If the file cannot be read or is not JSON (the Issue's ``row`` is the line).
    """
    return _unwrap(_read_json(path), str(path))[0]


def load_file(path: str | os.PathLike[str]) -> list[ProductFootprint]:
    """Read a PACT JSON file: one footprint, a JSON array of them, or the API envelope ``{"data": ...}``.

    Each footprint's version is taken from its ``specVersion``. The file is accepted whole or not at all.

    Raises
    ------
    ValidationFailed
        Listing every problem of every footprint, paths relative to the file (``data[2].pcf.declaredUnit``).
    """
    source = str(path)
    items, prefix, single = _unwrap(_read_json(path), source)
    footprints, issues = [], []
    for index, item in enumerate(items):
        where = prefix if single else f"{prefix}[{index}]"
        version = footprint_version(item)
        if version is None:
            shown = _shown(item.get("specVersion")) if isinstance(item, dict) else None
            issues.append(
                Issue(
                    'specVersion must start with "2." or "3."',
                    file=source,
                    column=_path(where, ["specVersion"]),
                    value=shown,
                )
            )
            continue
        try:
            footprints.append(parse_footprint(item, version, source, prefix=where))
        except ValidationFailed as error:
            issues += error.issues
    if issues:
        raise ValidationFailed(f"PACT file rejected: {len(issues)} problem(s); nothing was read", issues=issues)
    return footprints


def as_version(document: Mapping[str, Any], version: Version) -> dict[str, Any]:
    """A footprint's spec JSON in the other (or the same) major version: parsed by its own ``specVersion``,
    converted with `to_v2` / `to_v3` if needed. What the target cannot carry is dropped (see `Conversion.lost`).

    Raises
    ------
    ValidationFailed
        If the document is not a valid footprint, or the target version needs what it lacks.
    """
    own = footprint_version(document)
    if own is None:
        issue = Issue(
            'specVersion must start with "2." or "3."', column="specVersion", value=_shown(document.get("specVersion"))
        )
        raise ValidationFailed("PACT footprint rejected", issues=[issue])
    footprint = parse_footprint(dict(document), own)
    if own == _check_version(version):
        return footprint.to_json()
    converted = to_v3(footprint) if version == "3" else to_v2(footprint)  # type: ignore[arg-type]
    return converted.footprint.to_json()


def dump_file(path: str | os.PathLike[str], footprints: Iterable[ProductFootprint]) -> None:
    """Write footprints as the ListFootprints response body ``{"data": [...]}``, UTF-8, replacing the file whole."""
    body = {"data": [footprint.to_json() for footprint in footprints]}
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(body, stream, ensure_ascii=False, indent=2)
            stream.write("\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------------------------
# Conversion between v2.3 and v3.0


@dataclass(frozen=True)
class Conversion:
    """A converted footprint and, property by property, what the target version could not carry."""

    footprint: ProductFootprint
    lost: tuple[str, ...]


CPC_PREFIXES = ("urn:pact:productclassification:un-cpc:", "urn:cpc:")  # v3 §4.6.1 example; v3 §8.2.1 example
MASSLESS_UNITS = ("kilowatt hour", "megajoule", "ton kilometer", "hour", "megabit second")  # v3 §4.7.2: mass 0
V2_PER_UNIT = (  # v2 property -> v3 property, both per declared unit: scaled by the amount (ADR-36)
    ("pCfExcludingBiogenic", "pcfExcludingBiogenicUptake"),
    ("pCfIncludingBiogenic", "pcfIncludingBiogenicUptake"),
    ("fossilGhgEmissions", "fossilGhgEmissions"),
    ("fossilCarbonContent", "fossilCarbonContent"),
    ("biogenicCarbonContent", "biogenicCarbonContent"),
    ("dLucGhgEmissions", "landUseChangeGhgEmissions"),  # the 3.0 OpenAPI draft: "Replaces dLucGhgEmissions"
    ("iLucGhgEmissions", "landCarbonLeakage"),  # "Replaces iLucGhgEmissions"
    ("biogenicCarbonWithdrawal", "biogenicCO2Uptake"),  # "Replaces biogenicCarbonWithdrawal"
    ("aircraftGhgEmissions", "aircraftGhgEmissions"),
    ("packagingGhgEmissions", "packagingGhgEmissions"),
)
V2_SAME = (
    "referencePeriodStart", "referencePeriodEnd", "geographyRegionOrSubregion", "geographyCountry",
    "geographyCountrySubdivision", "boundaryProcessesDescription", "secondaryEmissionFactorSources",
    "exemptedEmissionsDescription", "packagingEmissionsIncluded", "allocationRulesDescription",
    "productOrSectorSpecificRules",
)  # fmt: skip
HEAD_SAME = (
    "id", "precedingPfIds", "created", "status", "validityPeriodStart", "validityPeriodEnd", "companyName",
    "companyIds", "productDescription", "productIds", "productNameCompany", "comment", "extensions",
)  # fmt: skip


def _scaled(text: str | None, factor: Decimal, divide: bool = False) -> str | None:
    if text is None:
        return None
    value = Decimal(text) / factor if divide else Decimal(text) * factor
    return decimal_text(value.normalize() if divide else value)


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    value = Decimal(text)
    return (
        int(value)
        if value == value.to_integral_value() and "." not in text and "e" not in text.lower()
        else float(value)
    )


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if value is not None}


def to_v3(
    footprint: ProductFootprintV2,
    *,
    spec_version: str = "3.0.0",
    product_mass_per_declared_unit: Decimal | str | None = None,
) -> Conversion:
    """Convert a v2 footprint to v3.0 along the v3 changelog (Appendix A) and ADR-36.

    Values per declared unit are multiplied by ``unitaryProductAmount``, since the v3 declared unit is the whole
    amount; their intensity per unit of measurement is kept. A missing ``productMassPerDeclaredUnit`` becomes
    ``declaredUnitAmount`` for kilogram and 0 for energy and transport units (v3 §4.7.2); for the other units
    give `product_mass_per_declared_unit` [kg per one unit of ``declaredUnit``, the v2 meaning].

    Returns
    -------
    Conversion
        The v3 footprint, and the v2 properties that v3 has no place for (``dqi``, ``landManagementGhgEmissions``,
        ``uncertaintyAssessmentDescription``, the obsolete lifecycle properties ...).

    Raises
    ------
    ValidationFailed
        When v3 needs what the v2 footprint does not have (``pcfIncludingBiogenicUptake``, a mass for liter).
    """
    doc, pcf = footprint.to_json(), footprint.to_json()["pcf"]
    amount = Decimal(pcf["unitaryProductAmount"])
    lost: list[str] = [name for name in ("version", "updated", "statusComment") if name in doc]
    head = {name: doc[name] for name in HEAD_SAME if name in doc}
    classifications = list(doc.get("productClassifications", []))
    cpc_urn = CPC_PREFIXES[0] + doc["productCategoryCpc"]
    if not any(urn.startswith(CPC_PREFIXES) for urn in classifications):
        classifications.append(cpc_urn)
    out_pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": pcf["declaredUnit"],
        "declaredUnitAmount": pcf["unitaryProductAmount"],
    }
    mass = pcf.get("productMassPerDeclaredUnit")
    if product_mass_per_declared_unit is not None:
        mass = decimal_text(Decimal(product_mass_per_declared_unit))
    if mass is not None:
        out_pcf["productMassPerDeclaredUnit"] = _scaled(mass, amount)
    elif pcf["declaredUnit"] == "kilogram":
        out_pcf["productMassPerDeclaredUnit"] = pcf["unitaryProductAmount"]
    elif pcf["declaredUnit"] in MASSLESS_UNITS:
        out_pcf["productMassPerDeclaredUnit"] = "0"
    for old, new in V2_PER_UNIT:
        out_pcf[new] = _scaled(pcf.get(old), amount)
    out_pcf.update({name: pcf[name] for name in V2_SAME if name in pcf})
    out_pcf["ipccCharacterizationFactors"] = pcf.get(
        "ipccCharacterizationFactorsSources", [pcf["characterizationFactors"]]
    )
    standards = pcf.get("crossSectoralStandards")
    if standards is None:
        standards = [LEGACY_STANDARDS[name][1] for name in pcf["crossSectoralStandardsUsed"]]
    else:
        standards = [
            "GHGP-Product" if name == "GHGP Product" else re.sub(r"^PACT Methodology (\d+\.\d+)$", r"PACT-\1", name)
            for name in standards
        ]
    out_pcf["crossSectoralStandards"] = list(dict.fromkeys(standards))
    out_pcf["exemptedEmissionsPercent"] = decimal_text(Decimal(str(pcf["exemptedEmissionsPercent"])))
    if "primaryDataShare" in pcf:
        out_pcf["primaryDataShare"] = decimal_text(Decimal(str(pcf["primaryDataShare"])))
    assurance = pcf.get("assurance")
    if assurance is not None and assurance["assurance"]:
        verification = {
            key: assurance[key]
            for key in ("providerName", "completedAt", "standardName", "comments")
            if key in assurance
        }
        if assurance.get("coverage") == "product level":
            verification["coverage"] = "product level"
        out_pcf["verification"] = verification
        lost += [f"pcf.assurance.{key}" for key in ("level", "boundary") if key in assurance]
        if assurance.get("coverage") not in (None, "product level"):
            lost.append("pcf.assurance.coverage")
    elif assurance is not None:
        lost.append("pcf.assurance (assurance false: v3 has no verification then)")
    lost += [
        f"pcf.{name}"
        for name in ("landManagementGhgEmissions", "otherBiogenicGhgEmissions", "uncertaintyAssessmentDescription",
                     "biogenicAccountingMethodology", "dqi")
        if name in pcf
    ]  # fmt: skip
    result = {
        **head,
        "specVersion": spec_version,
        "productClassifications": classifications,
        "pcf": _drop_none(out_pcf),
    }
    missing = [
        Issue(f"v3 requires {new}, which this v2 footprint does not give", file="to_v3", column=f"pcf.{old}")
        for old, new in (
            ("pCfIncludingBiogenic", "pcfIncludingBiogenicUptake"),
            ("productMassPerDeclaredUnit", "productMassPerDeclaredUnit"),
        )
        if out_pcf.get(new) is None
    ]
    if missing:
        raise ValidationFailed("cannot convert to PACT v3", issues=missing)
    try:
        converted = parse_footprint(result, "3", source="to_v3")
    except ValidationFailed as error:
        raise ValidationFailed(
            f"cannot convert to PACT v3: {len(error.issues)} problem(s)", issues=error.issues
        ) from None
    return Conversion(converted, tuple(lost))


def to_v2(footprint: ProductFootprintV3, *, spec_version: str = "2.3.0") -> Conversion:
    """Convert a v3 footprint to v2.3, the inverse of `to_v3` where the properties correspond.

    Values per declared unit are divided by ``declaredUnitAmount`` (ADR-36). ``productCategoryCpc`` comes from a
    UN CPC classification URN, ``characterizationFactors`` is the earliest of AR5/AR6 used (v2.3 §5.2.2),
    ``crossSectoralStandardsUsed`` the legacy names of the standards that have one.

    Raises
    ------
    ValidationFailed
        Naming the v2 properties that cannot be filled: a declared unit v2 lacks (piece, hour, megabit second),
        no CPC classification, missing ``packagingEmissionsIncluded``; for reference periods reaching 2025 the
        v2 "O*" properties v3 does not carry (``dqi`` of the other scale, ``landManagementGhgEmissions`` ...).
    """
    doc = footprint.to_json()
    pcf = doc["pcf"]
    amount = Decimal(pcf["declaredUnitAmount"])
    lost: list[str] = []
    head = {name: doc[name] for name in HEAD_SAME if name in doc}
    head.setdefault("comment", "")
    cpc = next(
        (
            urn[len(prefix) :]
            for urn in doc.get("productClassifications", [])
            for prefix in CPC_PREFIXES
            if urn.startswith(prefix)
        ),
        None,
    )
    out_pcf: dict[str, Any] = {
        "declaredUnit": pcf["declaredUnitOfMeasurement"],
        "unitaryProductAmount": pcf["declaredUnitAmount"],
        "productMassPerDeclaredUnit": _scaled(pcf["productMassPerDeclaredUnit"], amount, divide=True),
    }
    for old, new in V2_PER_UNIT:
        out_pcf[old] = _scaled(pcf.get(new), amount, divide=True)
    out_pcf.update({name: pcf[name] for name in V2_SAME if name in pcf})
    out_pcf.setdefault("boundaryProcessesDescription", "")
    out_pcf.setdefault("exemptedEmissionsDescription", "")
    reports = pcf["ipccCharacterizationFactors"]
    out_pcf["ipccCharacterizationFactorsSources"] = reports
    out_pcf["characterizationFactors"] = "AR5" if "AR5" in reports else ("AR6" if "AR6" in reports else None)
    legacy = {new: old for old, (_, new) in LEGACY_STANDARDS.items()}
    used = [legacy[name] for name in pcf["crossSectoralStandards"] if name in legacy]
    out_pcf["crossSectoralStandardsUsed"] = list(dict.fromkeys(used)) or None
    out_pcf["crossSectoralStandards"] = [
        "GHGP Product" if name == "GHGP-Product" else re.sub(r"^PACT-(\d+\.\d+)$", r"PACT Methodology \1", name)
        for name in pcf["crossSectoralStandards"]
    ]
    out_pcf["exemptedEmissionsPercent"] = _number(pcf["exemptedEmissionsPercent"])
    out_pcf["primaryDataShare"] = _number(pcf.get("primaryDataShare"))
    verification = pcf.get("verification")
    if verification is not None:
        assurance = {
            "assurance": True,
            **{
                key: verification[key]
                for key in ("providerName", "completedAt", "standardName", "comments")
                if key in verification
            },
        }
        if verification.get("coverage") == "product level":
            assurance["coverage"] = "product level"
        elif "coverage" in verification:
            lost.append("pcf.verification.coverage")
        out_pcf["assurance"] = assurance
    lost += [
        f"pcf.{name}"
        for name in ("recycledCarbonContent", "landManagementFossilGhgEmissions", "landManagementBiogenicCO2Emissions",
                     "landManagementBiogenicCO2Removals", "biogenicNonCO2Emissions", "landAreaOccupation",
                     "packagingBiogenicCarbonContent", "outboundLogisticsGhgEmissions",
                     "ccsTechnologicalCO2CaptureIncluded", "ccsTechnologicalCO2Capture",
                     "technologicalCO2CaptureOrigin", "technologicalCO2Removals", "ccuCarbonContent",
                     "ccuCalculationApproach", "ccuCreditCertification", "biogenicAccountingMethodology", "dqi")
        if name in pcf
    ]  # fmt: skip
    result = {
        **head,
        "specVersion": spec_version,
        "version": doc.get("version", 1),
        "productCategoryCpc": cpc,
        "productClassifications": doc.get("productClassifications"),
        "pcf": _drop_none(out_pcf),
    }
    try:
        converted = parse_footprint(_drop_none(result), "2", source="to_v2")
    except ValidationFailed as error:
        raise ValidationFailed(
            f"cannot convert to PACT v2: {len(error.issues)} problem(s)", issues=error.issues
        ) from None
    return Conversion(converted, tuple(lost))


# ---------------------------------------------------------------------------------------------------------------
# Building footprints from engine results

# our unit spellings (parkzero.footprint.model.UNITS) -> (PACT declared unit, factor to it)
DECLARED_UNITS: dict[str, tuple[str, Decimal]] = {
    "kg": ("kilogram", Decimal(1)),
    "g": ("kilogram", Decimal("0.001")),
    "t": ("kilogram", Decimal(1000)),
    "L": ("liter", Decimal(1)),
    "m3": ("cubic meter", Decimal(1)),
    "kWh": ("kilowatt hour", Decimal(1)),
    "Wh": ("kilowatt hour", Decimal("0.001")),
    "MWh": ("kilowatt hour", Decimal(1000)),
    "MJ": ("megajoule", Decimal(1)),
    "GJ": ("megajoule", Decimal(1000)),
    "tkm": ("ton kilometer", Decimal(1)),
    "m2": ("square meter", Decimal(1)),
    "piece": ("piece", Decimal(1)),
}


def _decimal_input(name: str, value: object) -> Decimal:
    try:
        if isinstance(value, bool):
            raise TypeError
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    except (TypeError, InvalidOperation, ValueError):
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationFailed(
            "footprint not built",
            issues=[Issue("must be a finite number", file="footprint_from_result", column=name, value=_shown(value))],
        )
    return number


def footprint_from_result(
    *,
    version: Version,
    product_ids: Sequence[str],
    product_name: str,
    product_description: str,
    company_name: str,
    company_ids: Sequence[str],
    declared_unit: str,
    declared_unit_amount: Decimal | float | str = 1,
    pcf_excluding_biogenic: Decimal | float | str,
    fossil_ghg_emissions: Decimal | float | str,
    reference_period_start: datetime,
    reference_period_end: datetime,
    primary_data_share: float,
    product_category_cpc: str | None = None,
    product_classifications: Sequence[str] = (),
    product_mass_per_declared_unit: Decimal | float | str | None = None,
    pcf_including_biogenic: Decimal | float | str | None = None,
    fossil_carbon_content: Decimal | float | str = 0,
    biogenic_carbon_content: Decimal | float | str = 0,
    biogenic_co2_uptake: Decimal | float | str = 0,
    land_use_change_ghg_emissions: Decimal | float | str = 0,
    land_management_ghg_emissions: Decimal | float | str = 0,
    other_biogenic_ghg_emissions: Decimal | float | str = 0,
    biogenic_accounting_methodology: str = "ISO",
    geography_country: str | None = None,
    geography_country_subdivision: str | None = None,
    geography_region_or_subregion: str | None = None,
    cross_sectoral_standards: Sequence[str] = ("ISO14067", "GHGP-Product"),
    characterization_factors: Sequence[str] = ("AR6",),
    boundary_processes_description: str = "",
    exempted_emissions_percent: float = 0,
    exempted_emissions_description: str = "",
    packaging_emissions_included: bool = False,
    packaging_ghg_emissions: Decimal | float | str | None = None,
    secondary_emission_factor_sources: Sequence[Mapping[str, str]] = (),
    dqi: Mapping[str, float] | None = None,
    comment: str = "",
    footprint_id: str | None = None,
    footprint_version: int = 1,
    preceding_pf_ids: Sequence[str] = (),
    created: datetime | None = None,
    updated: datetime | None = None,
    status: str = "Active",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ProductFootprint:
    """Build a spec-valid v2.3 or v3.0 ProductFootprint from values our engine produces.

    The values are given the v3 way: per declared unit, the declared unit being `declared_unit_amount` of
    `declared_unit` (ADR-36). For v2 they are divided by the amount, as v2 states them per one unit.

    Parameters
    ----------
    version : {"2", "3"}
        Which Technical Specifications to build for (specVersion "2.3.0" or "3.0.0").
    product_ids, company_ids : sequence of str
        URNs, such as ``urn:pact:park.example.cn:product-id:P-17`` or
        ``urn:pact:company:customcode:buyer-assigned:4711`` (v2.3 §5.19) or ``urn:uuid:...``.
    declared_unit : str
        A PACT declared unit ("kilogram") or one of our spellings in `DECLARED_UNITS` ("kg", "t", "kWh" ...);
        an amount in "t" becomes 1000 x the amount in kilogram.
    declared_unit_amount : number
        The amount of `declared_unit` the product holds [declared_unit].
    pcf_excluding_biogenic, pcf_including_biogenic, fossil_ghg_emissions, land_use_change_ghg_emissions,
    land_management_ghg_emissions, other_biogenic_ghg_emissions, packaging_ghg_emissions : number
        [kgCO2e per declared unit]. `pcf_including_biogenic` defaults to excluding + `biogenic_co2_uptake`.
    biogenic_co2_uptake : number
        CO2 taken up by biomass in the product [kgCO2e per declared unit], <= 0 (v2 biogenicCarbonWithdrawal).
    fossil_carbon_content, biogenic_carbon_content : number
        [kgC per declared unit].
    product_mass_per_declared_unit : number, optional
        [kg per declared unit]; required by v3 except for kilogram (the amount) and energy or transport (0).
    reference_period_start, reference_period_end : datetime
        UTC; the end is excluded.
    primary_data_share, exempted_emissions_percent : float
        [%].
    product_category_cpc : str, optional
        UN CPC code; required for v2, added to v3 as ``urn:pact:productclassification:un-cpc:<code>``.
    geography_country, geography_country_subdivision, geography_region_or_subregion : str, optional
        At most one ("CN", "CN-SH", "Eastern Asia"); none means global.
    cross_sectoral_standards : sequence of str
        v3 spellings ("ISO14067", "GHGP-Product", "PACT-3.0"), rewritten for v2 ("GHGP Product" ...).
    characterization_factors : sequence of str
        IPCC reports used ("AR6", "AR5").
    dqi : mapping, optional
        The data quality indicators under their PACT names for the target version (v2: coveragePercent and five
        DQRs on 1..3; v3: three DQRs on 1..5).
    footprint_id : str, optional
        A UUID; a new UUID v4 when not given.
    created, updated : datetime, optional
        UTC; `created` defaults to `now()`. `updated` is written for v2 only (obsolete in v3, §7.2.3).

    Raises
    ------
    ValidationFailed
        If the values do not make a valid footprint; the Issues name the PACT property paths.
    """
    unit, factor = DECLARED_UNITS.get(declared_unit, (declared_unit, Decimal(1)))
    amount = _decimal_input("declared_unit_amount", declared_unit_amount) * factor
    values = {
        "pcf_excluding_biogenic": pcf_excluding_biogenic,
        "fossil_ghg_emissions": fossil_ghg_emissions,
        "fossil_carbon_content": fossil_carbon_content,
        "biogenic_carbon_content": biogenic_carbon_content,
        "biogenic_co2_uptake": biogenic_co2_uptake,
        "land_use_change_ghg_emissions": land_use_change_ghg_emissions,
        "land_management_ghg_emissions": land_management_ghg_emissions,
        "other_biogenic_ghg_emissions": other_biogenic_ghg_emissions,
    }
    numbers = {name: _decimal_input(name, value) for name, value in values.items()}
    numbers["pcf_including_biogenic"] = (
        numbers["pcf_excluding_biogenic"] + numbers["biogenic_co2_uptake"]
        if pcf_including_biogenic is None
        else _decimal_input("pcf_including_biogenic", pcf_including_biogenic)
    )
    if packaging_ghg_emissions is not None:
        numbers["packaging_ghg_emissions"] = _decimal_input("packaging_ghg_emissions", packaging_ghg_emissions)
    if product_mass_per_declared_unit is not None:
        mass: Decimal | None = _decimal_input("product_mass_per_declared_unit", product_mass_per_declared_unit)
    elif unit == "kilogram":
        mass = amount
    else:
        mass = Decimal(0) if unit in MASSLESS_UNITS else None
    head: dict[str, Any] = {
        "id": footprint_id or str(uuid.uuid4()),
        "precedingPfIds": list(preceding_pf_ids) or None,
        "created": created or now(),
        "status": status,
        "companyName": company_name,
        "companyIds": list(company_ids),
        "productDescription": product_description,
        "productIds": list(product_ids),
        "productNameCompany": product_name,
        "comment": comment,
    }
    pcf: dict[str, Any] = {
        "referencePeriodStart": reference_period_start,
        "referencePeriodEnd": reference_period_end,
        "geographyCountry": geography_country,
        "geographyCountrySubdivision": geography_country_subdivision,
        "geographyRegionOrSubregion": geography_region_or_subregion,
        "boundaryProcessesDescription": boundary_processes_description,
        "exemptedEmissionsDescription": exempted_emissions_description,
        "packagingEmissionsIncluded": packaging_emissions_included,
        "secondaryEmissionFactorSources": [dict(source) for source in secondary_emission_factor_sources] or None,
        "dqi": dict(dqi) if dqi is not None else None,
    }
    if version == "3":
        classifications = list(product_classifications)
        if product_category_cpc and not any(urn.startswith(CPC_PREFIXES) for urn in classifications):
            classifications.append(CPC_PREFIXES[0] + product_category_cpc)
        doc = {**head, "specVersion": "3.0.0", "productClassifications": classifications or None}
        pcf |= {
            "declaredUnitOfMeasurement": unit,
            "declaredUnitAmount": decimal_text(amount),
            "productMassPerDeclaredUnit": None if mass is None else decimal_text(mass),
            "pcfExcludingBiogenicUptake": decimal_text(numbers["pcf_excluding_biogenic"]),
            "pcfIncludingBiogenicUptake": decimal_text(numbers["pcf_including_biogenic"]),
            "fossilGhgEmissions": decimal_text(numbers["fossil_ghg_emissions"]),
            "fossilCarbonContent": decimal_text(numbers["fossil_carbon_content"]),
            "biogenicCarbonContent": decimal_text(numbers["biogenic_carbon_content"]),
            "biogenicCO2Uptake": decimal_text(numbers["biogenic_co2_uptake"]),
            "landUseChangeGhgEmissions": decimal_text(numbers["land_use_change_ghg_emissions"]),
            "packagingGhgEmissions": decimal_text(numbers["packaging_ghg_emissions"])
            if "packaging_ghg_emissions" in numbers
            else None,
            "ipccCharacterizationFactors": list(characterization_factors),
            "crossSectoralStandards": list(cross_sectoral_standards),
            "exemptedEmissionsPercent": decimal_text(
                _decimal_input("exempted_emissions_percent", exempted_emissions_percent)
            ),
            "primaryDataShare": decimal_text(_decimal_input("primary_data_share", primary_data_share)),
        }
    else:
        legacy = {new: old for old, (_, new) in LEGACY_STANDARDS.items()}

        def per_unit(name: str) -> str:
            return decimal_text((numbers[name] / amount).normalize()) if amount else decimal_text(numbers[name])

        doc = {
            **head,
            "specVersion": "2.3.0",
            "version": footprint_version,
            "updated": updated,
            "productCategoryCpc": product_category_cpc,
            "productClassifications": list(product_classifications) or None,
        }
        pcf |= {
            "declaredUnit": unit,
            "unitaryProductAmount": decimal_text(amount),
            "productMassPerDeclaredUnit": None
            if mass is None or not amount
            else decimal_text((mass / amount).normalize()),
            "pCfExcludingBiogenic": per_unit("pcf_excluding_biogenic"),
            "pCfIncludingBiogenic": per_unit("pcf_including_biogenic"),
            "fossilGhgEmissions": per_unit("fossil_ghg_emissions"),
            "fossilCarbonContent": per_unit("fossil_carbon_content"),
            "biogenicCarbonContent": per_unit("biogenic_carbon_content"),
            "biogenicCarbonWithdrawal": per_unit("biogenic_co2_uptake"),
            "dLucGhgEmissions": per_unit("land_use_change_ghg_emissions"),
            "landManagementGhgEmissions": per_unit("land_management_ghg_emissions"),
            "otherBiogenicGhgEmissions": per_unit("other_biogenic_ghg_emissions"),
            "packagingGhgEmissions": per_unit("packaging_ghg_emissions")
            if "packaging_ghg_emissions" in numbers
            else None,
            "biogenicAccountingMethodology": biogenic_accounting_methodology,
            "characterizationFactors": "AR5" if "AR5" in characterization_factors else "AR6",
            "ipccCharacterizationFactorsSources": list(characterization_factors),
            "crossSectoralStandardsUsed": [legacy[name] for name in cross_sectoral_standards if name in legacy] or None,
            "crossSectoralStandards": [
                "GHGP Product" if name == "GHGP-Product" else re.sub(r"^PACT-(\d+\.\d+)$", r"PACT Methodology \1", name)
                for name in cross_sectoral_standards
            ],
            "exemptedEmissionsPercent": exempted_emissions_percent,
            "primaryDataShare": primary_data_share,
        }
    doc["pcf"] = _drop_none(pcf)
    return parse_footprint(_drop_none(doc), version, source="footprint_from_result")
