"""Product footprint routes for the park's users (the PACT host for partners is `routes/pact.py`).

Footprints (PACT documents with their review lifecycle), their trail and sharing with partners, the PACT partners
(the operator's), the PACT events received and sent, and the supply-chain view. What a caller may not see answers
404, the same as what does not exist.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.footprint import exchange, partners, records

router = APIRouter(tags=["footprints"])


class Envelope(BaseModel):
    data: list[dict[str, Any]]
    count: int


def _env(rows: list[dict]) -> dict:
    return {"data": rows, "count": len(rows)}


class FootprintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any] = Field(description="A PACT v2.x or v3.x ProductFootprint")
    enterprise: str | None = Field(None, description="Whose footprint (the operator names it; a tenant's is its own)")
    product: str | None = Field(None, description="The registry product it is of")
    origin: Literal["computed", "imported", "supplier"] = "computed"
    supplier: str | None = None


@router.get("/parks/{park}/footprints", response_model=Envelope, operation_id="list_footprints")
def list_footprints(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(records.list_footprints(store, scope, park))


@router.post("/parks/{park}/footprints", status_code=201, operation_id="create_footprint")
def create_footprint(park: str, body: FootprintIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Record a footprint as a draft (a supplier's as received); an invalid document writes nothing and names
    every bad field."""
    return records.create(store, scope, park, body.document, enterprise_code=body.enterprise,
                          product_code=body.product, origin=body.origin, supplier=body.supplier)  # fmt: skip


@router.get("/parks/{park}/footprints/{footprint_id}", operation_id="get_footprint")
def get_footprint(park: str, footprint_id: int, store: StoreDep, scope: CurrentScope) -> dict:
    return records.get(store, scope, park, footprint_id)


@router.get("/parks/{park}/footprints/{footprint_id}/events", response_model=Envelope, operation_id="footprint_events")
def footprint_events(park: str, footprint_id: int, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(records.events(store, scope, park, footprint_id))


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any] = Field(description="The corrected PACT ProductFootprint (its id is replaced)")


@router.post("/parks/{park}/footprints/{footprint_id}/versions", status_code=201, operation_id="version_footprint")
def version_footprint(park: str, footprint_id: int, body: VersionIn, store: StoreDep, scope: CurrentScope) -> dict:
    """A correction of a published footprint: a new draft whose precedingPfIds name it; it is deprecated when
    the new one is published."""
    return records.new_version(store, scope, park, footprint_id, body.document)


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: str = Field(description="The partner's client id")


@router.post("/parks/{park}/footprints/{footprint_id}/shares", status_code=201, operation_id="share_footprint")
def share_footprint(park: str, footprint_id: int, body: ShareIn, store: StoreDep, scope: CurrentScope) -> dict:
    records.share(store, scope, park, footprint_id, partners.partner_id(store, scope, park, body.partner))
    return {"footprint": footprint_id, "partner": body.partner}


@router.get("/parks/{park}/footprints/{footprint_id}/label.pdf", operation_id="footprint_label")
def footprint_label(
    park: str,
    footprint_id: int,
    request: Request,
    store: StoreDep,
    scope: CurrentScope,
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """The carbon label of a published footprint (PDF, 100 x 150 mm) with a QR code of its PACT address on this
    host (``{host}/2/footprints/{pfId}``)."""
    from parkzero.reports.label import carbon_label_pdf

    rec = records.get(store, scope, park, footprint_id)
    url = f"{str(request.base_url).rstrip('/')}/2/footprints/{rec['pf_id']}"
    pdf = carbon_label_pdf(store, scope, park, footprint_id, footprint_url=url, lang=lang)
    name = f"carbon-label-{footprint_id}-{lang}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = None
    evidence_id: int | None = None


@router.post("/parks/{park}/footprints/{footprint_id}/{action}", operation_id="footprint_step")
def footprint_step(
    park: str,
    footprint_id: int,
    action: Literal["submit", "verify", "reject", "publish"],
    store: StoreDep,
    scope: CurrentScope,
    body: StepIn | None = None,
) -> dict:
    """Move a footprint on: submit (owner), verify or reject (verifier, a reason to reject), publish (owner)."""
    body = body or StepIn()
    return records.transition(store, scope, park, footprint_id, action, body.comment, body.evidence_id)


@router.get("/parks/{park}/pact/partners", response_model=Envelope, operation_id="list_pact_partners")
def list_pact_partners(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    return _env(partners.list_partners(store, scope, park))


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


@router.post("/parks/{park}/pact/partners", status_code=201, operation_id="create_pact_partner")
def create_pact_partner(park: str, body: PartnerIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Register a PACT partner (operator); its client secret is in this answer only."""
    secret, rec = partners.create(store, scope, park, body.name)
    return {**rec, "client_secret": secret}


@router.get("/parks/{park}/pact/events", response_model=Envelope, operation_id="list_pact_events")
def list_pact_events(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    """PACT events received (requests for your products) and sent, with their state."""
    return _env(records.requests(store, scope, park))


@router.get("/parks/{park}/supply-chain", operation_id="supply_chain")
def supply_chain(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    """Suppliers and what they sent, requests waiting for an answer, primary-data share per footprint."""
    return exchange.overview(store, scope, park)
