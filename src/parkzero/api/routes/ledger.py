"""Carbon ledger routes: factor library, regimes, emission sources, activity and evidence, instruments,
inventories (lifecycle, lines, explain) and on-the-fly emissions.

Emissions are in tonnes (`emissions_t` of the gas, `tco2e`); activity carries its unit. What a caller may not
see answers 404, the same as what does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from parkzero.accounting import engine, instruments, inventory, sources
from parkzero.accounting.rules import regimes
from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.errors import ValidationFailed
from parkzero.factors import library

router = APIRouter(tags=["ledger"])


class Envelope(BaseModel):
    data: list[dict[str, Any]]
    count: int


def _env(rows: list[dict]) -> dict:
    return {"data": rows, "count": len(rows)}


# -- factors and regimes ---------------------------------------------------------------------------
@router.get("/factor-sets", response_model=Envelope, operation_id="list_factor_sets")
def list_factor_sets(store: StoreDep, scope: CurrentScope) -> dict:
    """Shipped factor sets and the user sets you may see (code, version, source, licence, locked)."""
    return _env(library.list_sets(store, scope))


class FactorSetOut(BaseModel):
    meta: dict[str, Any]
    rows: list[dict[str, Any]]


@router.get("/factor-sets/{code}", response_model=FactorSetOut, operation_id="get_factor_set")
def get_factor_set(code: str, store: StoreDep, scope: CurrentScope, version: str | None = None) -> dict:
    import csv
    import io

    meta, text = library.export_set(store, scope, code, version)
    return {"meta": meta, "rows": list(csv.DictReader(io.StringIO(text)))}


class FactorSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meta: dict[str, Any] = Field(description="code, version, title, title_zh, publisher, licence, notes")
    csv: str = Field(description="Rows in the shipped CSV format (factor_id,parameter,gas,value,unit,...)")


@router.post("/factor-sets", status_code=201, operation_id="add_factor_set")
def add_factor_set(body: FactorSetIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Add your own factor set (a new code or a new version; versions never change)."""
    return library.add_user_set(store, scope, body.meta, body.csv)


@router.get("/regimes", response_model=Envelope, operation_id="list_regimes")
def list_regimes(scope: CurrentScope) -> dict:
    """Accounting regimes: which factors and rules a report follows."""
    return _env([r.as_dict() for r in regimes().values()])


# -- emission sources ------------------------------------------------------------------------------
class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    name_zh: str | None = None
    enterprise: str | None = Field(None, description="Owner enterprise; empty for the operator's own source")
    building: str | None = None
    scope: Literal[1, 2, 3]
    category: str = Field(description="Scope 1/2 category, or the Scope 3 category number")
    method: str
    factor_ref: str
    activity_unit: str
    channels: list[str] = []
    params: dict[str, Any] = {}


@router.get("/parks/{park}/emission-sources", response_model=Envelope, operation_id="list_emission_sources")
def list_emission_sources(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(sources.list_sources(store, scope, park))


@router.get("/parks/{park}/emission-sources/{code}", operation_id="get_emission_source")
def get_emission_source(park: str, code: str, store: StoreDep, scope: CurrentScope) -> dict:
    return sources.get_source(store, scope, park, code)


@router.put("/parks/{park}/emission-sources/{code}", operation_id="save_emission_source")
def save_emission_source(park: str, code: str, body: SourceIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Create or replace a source; the method, factor, units and channels are checked first."""
    return sources.save_source(store, scope, park, {**body.model_dump(), "code": code})


# -- activity and evidence -------------------------------------------------------------------------
class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    period_start: AwareDatetime
    period_end: AwareDatetime
    amount: float
    unit: str | None = None
    evidence_id: int | None = None
    note: str | None = None


@router.get("/parks/{park}/activity", response_model=Envelope, operation_id="list_activity")
def list_activity(park: str, store: StoreDep, scope: CurrentScope, source: str | None = None) -> dict:
    return _env(sources.list_activity(store, scope, park, source))


@router.post("/parks/{park}/activity", status_code=201, response_model=Envelope, operation_id="add_activity")
def add_activity(
    park: str,
    body: list[ActivityIn],
    store: StoreDep,
    scope: CurrentScope,
    year: Annotated[int | None, Query(description="Refuse entries outside this year")] = None,
) -> dict:
    """Add manual activity entries, all or nothing."""
    if not body:
        raise ValidationFailed("no activity entries in the request")
    return _env(sources.import_activity(store, scope, park, [e.model_dump() for e in body], year=year))


@router.post("/parks/{park}/activity/{entry_id}/void", operation_id="void_activity")
def void_activity(
    park: str, entry_id: int, store: StoreDep, scope: CurrentScope, reason: Annotated[str, Query(min_length=1)]
) -> dict:
    sources.void_activity(store, scope, park, entry_id, reason)
    return {"id": entry_id, "voided": True}


@router.post("/parks/{park}/evidence", status_code=201, operation_id="upload_evidence")
async def upload_evidence(
    park: str,
    store: StoreDep,
    scope: CurrentScope,
    file: Annotated[UploadFile, File()],
    enterprise: Annotated[str | None, Form()] = None,
) -> dict:
    """Upload an evidence file (invoice, delivery note, photo); answers its id and SHA-256."""
    content = await file.read(sources.MAX_EVIDENCE_BYTES + 1)
    return sources.add_evidence(
        store, scope, park, file.filename or "evidence", content, file.content_type, enterprise_code=enterprise
    )


@router.get("/parks/{park}/evidence/{evidence_id}", operation_id="download_evidence")
def download_evidence(park: str, evidence_id: int, store: StoreDep, scope: CurrentScope) -> Response:
    info, content = sources.get_evidence(store, scope, park, evidence_id)
    return Response(
        content,
        media_type=info["content_type"] or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{info["filename"]}"',
            "X-Content-SHA256": info["sha256"],
        },
    )


class OutputValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    output_value_10k_cny: float = Field(gt=0, description="Gross output value of the year [10^4 CNY]")


@router.put("/parks/{park}/enterprises/{code}/figures/{year}", operation_id="set_enterprise_figures")
def set_enterprise_figures(
    park: str, code: str, year: int, body: OutputValueIn, store: StoreDep, scope: CurrentScope
) -> dict:
    """An enterprise's output value for a year, the denominator of tCO2e per 10^4 CNY."""
    return sources.set_output_value(store, scope, park, code, year, body.output_value_10k_cny)


# -- instruments -----------------------------------------------------------------------------------
class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    enterprise: str
    kind: Literal["gec", "green_power", "supplier_rate"]
    vintage_year: int
    mwh: float | None = None
    serial_prefix: str | None = None
    serial_first: int | None = None
    serial_last: int | None = None
    factor_tco2_per_mwh: float | None = None
    technology: str | None = None
    facility: str | None = None
    region: str | None = None
    evidence_id: int | None = None


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    mwh: float | None = None
    serial_first: int | None = None
    serial_last: int | None = None
    note: str | None = None


@router.get("/parks/{park}/instruments", response_model=Envelope, operation_id="list_instruments")
def list_instruments(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(instruments.list_instruments(store, scope, park))


@router.post("/parks/{park}/instruments", status_code=201, operation_id="register_instrument")
def register_instrument(park: str, body: InstrumentIn, store: StoreDep, scope: CurrentScope) -> dict:
    return instruments.register(store, scope, park, body.model_dump())


@router.post("/parks/{park}/instruments/{code}/retirements", status_code=201, operation_id="retire_instrument")
def retire_instrument(park: str, code: str, body: RetireIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Retire MWh or a certificate range for the owner and one year; a second retirement is refused (409)."""
    return instruments.retire(store, scope, park, code, **body.model_dump())


# -- inventories -----------------------------------------------------------------------------------
@router.get("/parks/{park}/emissions", operation_id="compute_emissions")
def compute_emissions(
    park: str,
    store: StoreDep,
    scope: CurrentScope,
    year: int,
    regime: str,
    enterprise: str | None = None,
    lines: bool = False,
) -> dict:
    """Compute emissions on the fly (nothing stored): totals, intensities, breakdowns, optionally the lines."""
    data = engine.compute(store, scope, park, year, regime, enterprise).as_dict()
    if not lines:
        data.pop("lines")
    return data


@router.get("/parks/{park}/emissions/series", operation_id="electricity_emissions_series")
def electricity_emissions_series(
    park: str,
    store: StoreDep,
    scope: CurrentScope,
    start: AwareDatetime,
    end: AwareDatetime,
    regime: str = "ghg-protocol",
    enterprise: str | None = None,
) -> dict:
    """15-minute electricity use, grid power and emissions [kWh, kgCO2], with the hourly 24/7 CFE score."""
    from zoneinfo import ZoneInfo

    from parkzero.accounting import cfe
    from parkzero.registry import repo

    tz = ZoneInfo(repo.get_park(store, scope, park)["timezone"])
    return cfe.electricity_series(store, scope, park, start, end, regime, enterprise).as_dict(tz)


@router.get("/parks/{park}/buildings/{code}/carbon", operation_id="building_carbon")
def building_carbon(
    park: str, code: str, store: StoreDep, scope: CurrentScope, year: int, regime: str = "cn-enterprise"
) -> dict:
    """GB/T 51366 operation-stage emissions of one building for a year [tCO2, kgCO2/m²/yr]."""
    from dataclasses import asdict

    from parkzero.accounting import buildings

    factors = buildings.regime_carrier_factors(store, scope, park, year, regime)
    result = buildings.building_year(store, scope, park, code, year, factors["electricity"], factors["other"])
    return {**asdict(result), "factors_used": factors["factors"], "regime": regime}


@router.get("/parks/{park}/enterprises/{code}/datacentre", operation_id="datacentre_metrics")
def datacentre_metrics(
    park: str,
    code: str,
    store: StoreDep,
    scope: CurrentScope,
    year: int,
    regime: str = "cn-enterprise",
    new_build: bool = False,
) -> dict:
    """PUE, CUE and WUE of a data centre for a year, with the thresholds they are checked against."""
    from dataclasses import asdict

    from parkzero.accounting import buildings
    from parkzero.registry import repo

    repo.get_entity(store, scope, "enterprises", park, code)  # 404 before anything else
    factors = buildings.regime_carrier_factors(store, scope, park, year, regime)
    result = buildings.datacentre_year(store, scope, park, code, year, factors["electricity"])
    checks = buildings.dc_threshold_checks(result.metrics, buildings.load_dc_thresholds(), new_build)
    return {**asdict(result), "thresholds": [asdict(c) for c in checks], "factors_used": factors["factors"]}


class InventoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    regime: str
    enterprise: str | None = None
    reason: str | None = Field(None, description="Required when this restates a closed inventory")


@router.get("/parks/{park}/inventories", response_model=Envelope, operation_id="list_inventories")
def list_inventories(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(inventory.list_inventories(store, scope, park))


@router.post("/parks/{park}/inventories", status_code=201, operation_id="create_inventory")
def create_inventory(park: str, body: InventoryIn, store: StoreDep, scope: CurrentScope) -> dict:
    """A new draft, the open draft recomputed, or a restatement of a closed inventory (with a reason)."""
    return inventory.create(store, scope, park, body.year, body.regime, body.enterprise, reason=body.reason)


@router.get("/parks/{park}/inventories/{inventory_id}", operation_id="get_inventory")
def get_inventory(park: str, inventory_id: int, store: StoreDep, scope: CurrentScope) -> dict:
    """The inventory with its totals, intensities, breakdowns and the factors it used (lines apart)."""
    return inventory.result(store, scope, park, inventory_id, with_lines=False)


@router.get("/parks/{park}/inventories/{inventory_id}/lines", response_model=Envelope, operation_id="inventory_lines")
def inventory_lines(park: str, inventory_id: int, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(inventory.lines(store, scope, park, inventory_id))


@router.get("/parks/{park}/inventories/{inventory_id}/lines/{line_no}", operation_id="explain_inventory_line")
def explain_line(park: str, inventory_id: int, line_no: int, store: StoreDep, scope: CurrentScope) -> dict:
    """Trace of one figure: activity (channels and readings, or entries and evidence) -> factor -> formula."""
    return inventory.explain(store, scope, park, inventory_id, line_no)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = None
    evidence_id: int | None = None


@router.post("/parks/{park}/inventories/{inventory_id}/comments", status_code=201, operation_id="comment_inventory")
def comment_inventory(park: str, inventory_id: int, body: StepIn, store: StoreDep, scope: CurrentScope) -> dict:
    return inventory.comment(store, scope, park, inventory_id, body.comment or "", body.evidence_id)


@router.post("/parks/{park}/inventories/{inventory_id}/{action}", operation_id="inventory_step")
def inventory_step(
    park: str,
    inventory_id: int,
    action: Literal["submit", "verify", "reject", "close"],
    store: StoreDep,
    scope: CurrentScope,
    body: StepIn | None = None,
) -> dict:
    """Move an inventory on: submit (owner), verify or reject (verifier), close (owner)."""
    body = body or StepIn()
    return inventory.transition(store, scope, park, inventory_id, action, body.comment, body.evidence_id)


@router.get("/parks/{park}/inventories/{inventory_id}/events", response_model=Envelope, operation_id="inventory_events")
def inventory_events(park: str, inventory_id: int, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(inventory.events(store, scope, park, inventory_id))
