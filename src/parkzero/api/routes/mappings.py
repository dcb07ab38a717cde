"""Saved column mappings: how a park's meter exports are laid out, saved once and reused for uploads."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.ingest import mapping as mappings
from parkzero.ingest.mapping import ColumnMapping

router = APIRouter(tags=["mappings"])


class MappingPublic(BaseModel):
    name: str
    enterprise_id: int | None = Field(None, description="Owning enterprise; empty for the operator's mappings")
    mapping: dict


class MappingList(BaseModel):
    data: list[MappingPublic]
    count: int


@router.get("/parks/{park}/mappings", response_model=MappingList, operation_id="list_mappings")
def list_mappings(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    """Saved column mappings you may use (a tenant sees its own, the operator all of the park's)."""
    data = mappings.list_mappings(store, scope, park)
    return {"data": data, "count": len(data)}


@router.get("/parks/{park}/mappings/{name}", response_model=ColumnMapping, operation_id="get_mapping")
def get_mapping(park: str, name: str, store: StoreDep, scope: CurrentScope) -> ColumnMapping:
    return mappings.get_mapping(store, scope, park, name)


@router.put("/parks/{park}/mappings/{name}", response_model=ColumnMapping, operation_id="save_mapping")
def save_mapping(park: str, name: str, body: ColumnMapping, store: StoreDep, scope: CurrentScope) -> ColumnMapping:
    """Create or replace the mapping `name` (the name in the path wins over one in the body)."""
    return mappings.save_mapping(store, scope, park, body.model_copy(update={"name": name}))


@router.delete("/parks/{park}/mappings/{name}", status_code=204, operation_id="delete_mapping")
def delete_mapping(park: str, name: str, store: StoreDep, scope: CurrentScope) -> Response:
    mappings.delete_mapping(store, scope, park, name)
    return Response(status_code=204)
