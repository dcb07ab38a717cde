"""Road-to-zero routes: a park's targets (with progress on the closed inventories) and recognitions, and the
district view (parks side by side, aggregates only) with its report.

A tenant sees and records its own targets and recognitions; the operator the park's; a regulator reads the
park's own targets, the recognitions and, without a park, the whole district. What a caller may not see answers
404, the same as what does not exist.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.pathway import district, records
from parkzero.pathway.targets import TARGET_KINDS, Target

router = APIRouter(tags=["pathway"])
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Envelope(BaseModel):
    data: list[dict[str, Any]]
    count: int


def _env(rows: list[dict]) -> dict:
    return {"data": rows, "count": len(rows)}


def _standing(s: district.Standing) -> dict:
    return {**asdict(s.target), "measure": s.measure, "reason": s.reason,
            "progress": None if s.progress is None else asdict(s.progress)}  # fmt: skip


@router.get("/parks/{park}/targets", response_model=Envelope, operation_id="list_targets")
def list_targets(park: str, store: StoreDep, scope: CurrentScope, regime: str = "ghg-protocol") -> dict:
    """Your targets, each judged on its subject's closed inventories under `regime` (progress None: see reason)."""
    return _env([_standing(s) for s in district.target_standings(store, scope, park, regime=regime)])


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=80)
    subject: str = Field(description="The park code, or the enterprise code (a tenant: its own)")
    kind: Literal[TARGET_KINDS]  # type: ignore[valid-type]
    target_year: int
    base_year: int | None = None
    value: float | None = None
    unit: str = ""
    source: str = ""
    note: str = ""


@router.post("/parks/{park}/targets", status_code=201, operation_id="add_target")
def add_target(park: str, body: TargetIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Record a planned target (its year must be ahead); 409 if the park has that code already."""
    return asdict(records.add_target(store, scope, park, Target(**body.model_dump())))


@router.delete("/parks/{park}/targets/{code}", status_code=204, operation_id="delete_target")
def delete_target(park: str, code: str, store: StoreDep, scope: CurrentScope) -> Response:
    records.delete_target(store, scope, park, code)
    return Response(status_code=204)


@router.get("/parks/{park}/recognitions", response_model=Envelope, operation_id="list_recognitions")
def list_recognitions(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    """Green factories, supply chains, products and zero-carbon units held in the park, with their evidence."""
    return _env(records.list_recognitions(store, scope, park))


class RecognitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holder: str = Field(description="The enterprise code, or the park code for the park's own")
    kind: str
    level: str
    year: int
    issuer: str
    evidence: list[str]
    list_name: str = ""
    product: str = ""
    notes: str = ""


@router.post("/parks/{park}/recognitions", status_code=201, operation_id="add_recognition")
def add_recognition(park: str, body: RecognitionIn, store: StoreDep, scope: CurrentScope) -> dict:
    return records.add_recognition(store, scope, park, body.model_dump())


@router.delete("/parks/{park}/recognitions/{recognition_id}", status_code=204, operation_id="delete_recognition")
def delete_recognition(park: str, recognition_id: int, store: StoreDep, scope: CurrentScope) -> Response:
    records.delete_recognition(store, scope, park, recognition_id)
    return Response(status_code=204)


@router.get("/district", response_model=Envelope, operation_id="district")
def get_district(store: StoreDep, scope: CurrentScope, regime: str = "ghg-protocol") -> dict:
    """The parks you may see side by side: emissions, intensity, 910 core indicator, targets, recognitions."""
    return _env([p.as_dict() for p in district.district(store, scope, regime=regime)])


@router.get("/district/report", operation_id="district_report")
def district_report(
    store: StoreDep,
    scope: CurrentScope,
    format: Literal["pdf", "xlsx"] = "pdf",
    lang: Literal["en", "zh"] = "en",
    regime: str = "ghg-protocol",
) -> Response:
    """The district comparison as PDF or Excel, from the same figures as `/district`."""
    rows = [p.as_dict() for p in district.district(store, scope, regime=regime)]
    from parkzero.reports import district as report  # WeasyPrint loads only when a report is asked for

    body = report.district_pdf(rows, lang) if format == "pdf" else report.district_xlsx(rows, lang)
    name = f"district-{regime}.{format}"
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})
