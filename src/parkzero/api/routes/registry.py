"""Registry routes: parks, their members (zones ... products), and the registry document.

Every call passes the caller's Scope to `parkzero.registry.repo`, which enforces tenancy in the data layer:
an enterprise user sees only its own enterprise, meters, channels, assets and products, and a record it may
not see answers 404 exactly like a record that does not exist.

The member kinds get one family of models each (`ZoneCreate`, `ZoneUpdate`, `ZonePublic`, `ZoneList` ...),
built from `registry.model.ENTITIES` so the OpenAPI document lists every field; the values are checked
once more by the repository (codes, credit codes, units, references), whose problems come back as 422.
"""

# No `from __future__ import annotations`: the member routes are built in a factory and FastAPI must see
# their (local) body models as objects, not as strings to resolve in this module.

from typing import Any

from fastapi import APIRouter, Body, Response, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry.model import ASSET_KINDS, BEHAVIOURS, ENTITIES, PURPOSES

router = APIRouter(tags=["registry"])


# -- parks -----------------------------------------------------------------------------------------
class ParkBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Display name")
    name_zh: str | None = Field(None, description="Chinese name")
    timezone: str | None = Field(None, description="IANA time zone of the park calendar", examples=["Asia/Shanghai"])
    latitude: float | None = Field(None, description="[deg], WGS 84")
    longitude: float | None = Field(None, description="[deg], WGS 84")


class ParkCreate(ParkBase):
    code: str = Field(description="Park code, unique in the installation", examples=["p1"])
    name: str
    timezone: str = Field(description="IANA time zone of the park calendar", examples=["Asia/Shanghai"])


class ParkUpdate(ParkBase):
    """Fields to change; the code never changes."""


class ParkPublic(BaseModel):
    id: int
    code: str
    name: str
    name_zh: str | None = None
    timezone: str
    latitude: float | None = None
    longitude: float | None = None


class ParkList(BaseModel):
    data: list[ParkPublic]
    count: int


@router.get("/parks", response_model=ParkList, operation_id="list_parks")
def list_parks(store: StoreDep, scope: CurrentScope) -> dict:
    """Parks visible to the caller (an operator or tenant sees its own park)."""
    parks = repo.list_parks(store, scope)
    return {"data": parks, "count": len(parks)}


@router.post("/parks", response_model=ParkPublic, status_code=status.HTTP_201_CREATED, operation_id="create_park")
def create_park(body: ParkCreate, store: StoreDep, scope: CurrentScope) -> dict:
    """Create a park (installation-wide operators only)."""
    return repo.create_park(store, scope, body.model_dump())


@router.get("/parks/{park}", response_model=ParkPublic, operation_id="get_park")
def get_park(park: str, store: StoreDep, scope: CurrentScope) -> dict:
    return repo.get_park(store, scope, park)


@router.patch("/parks/{park}", response_model=ParkPublic, operation_id="update_park")
def update_park(park: str, body: ParkUpdate, store: StoreDep, scope: CurrentScope) -> dict:
    return repo.update_park(store, scope, park, body.model_dump(exclude_unset=True))


# -- registry document -----------------------------------------------------------------------------
REGISTRY_DOCUMENT_EXAMPLE = {
    "format": registry_io.FORMAT,
    "version": 1,
    "parks": [
        {
            "code": "p1",
            "name": "Test Park",
            "timezone": "Asia/Shanghai",
            "zones": [{"code": "z1", "name": "Zone 1"}],
            "buildings": [{"code": "b1", "name": "Plant hall", "zone": "z1"}],
            "enterprises": [{"code": "acme", "name": "ACME", "building": "b1"}],
            "meters": [
                {
                    "code": "m1",
                    "name": "Main meter",
                    "enterprise": "acme",
                    "channels": [{"code": "acme.main", "name": "Import", "quantity_kind": "active_energy"}],
                }
            ],
        }
    ],
}


@router.get("/parks/{park}/registry", operation_id="export_registry")
def export_registry(park: str, store: StoreDep, scope: CurrentScope) -> dict[str, Any]:
    """The park's registry as one document (what the caller may see), re-importable with POST /registry/import."""
    repo.get_park(store, scope, park)
    return registry_io.export_registry(store, scope, park)


@router.post("/registry/import", operation_id="import_registry")
def import_registry(
    store: StoreDep,
    scope: CurrentScope,
    document: dict[str, Any] = Body(
        description="A registry document (format 'parkzero-registry', version 1), references by code",
        examples=[REGISTRY_DOCUMENT_EXAMPLE],
    ),
) -> dict[str, int]:
    """Create or update everything in the document, all or nothing (operators). Returns counts per kind."""
    return registry_io.import_registry(store, scope, document)


# -- park members ----------------------------------------------------------------------------------
_DESCRIPTIONS: dict[str, tuple[Any, str]] = {
    "code": (str, "Code, unique within the park (letters, digits, '.', '_', ':', '-')"),
    "name": (str, "Display name"),
    "name_zh": (str, "Chinese name"),
    "floor_area_m2": (float, "Floor area [m²]"),
    "use": (str, "Use of the building (industrial, office, warehouse ...)"),
    "year_built": (int, "Year of construction"),
    "credit_code": (str, "Unified social credit code (GB 32100-2015, 18 characters)"),
    "industry_code": (str, "Industry code (GB/T 4754), e.g. C3130"),
    "is_startup": (bool, "A start-up tenant"),
    "kind": (str, f"Asset kind: {', '.join(ASSET_KINDS)}"),
    "params": (dict[str, Any], "Technical parameters of the asset (e.g. kwp, capacity_kwh)"),
    "serial": (str, "Meter serial number"),
    "quantity_kind": (str, "Quantity measured (active_energy, active_power, gas_volume ...)"),
    "unit": (str, "Canonical unit of the quantity kind (filled in when omitted)"),
    "interval_s": (int, "Reading interval [s] (dividing a day; default 900)"),
    "behaviour": (str, f"{' or '.join(BEHAVIOURS)} (a counter reports a register)"),
    "purpose": (str, f"Role in the energy balance: {', '.join(PURPOSES)}"),
    "counter_rollover": (float, "Register value at which a counter wraps"),
    "declared_unit": (str, "Declared unit of the product (t, piece, m² ...)"),
}


def _singular(kind: str) -> str:
    return kind[:-1]


def _model_name(kind: str) -> str:
    return "".join(part.capitalize() for part in _singular(kind).split("_"))


def _member_models(kind: str) -> tuple[type[BaseModel], type[BaseModel], type[BaseModel], type[BaseModel]]:
    """Create, Update, Public and List models of one member kind, from its Entity spec."""
    spec = ENTITIES[kind]
    name = _model_name(kind)
    create: dict[str, Any] = {}
    update: dict[str, Any] = {}
    public: dict[str, Any] = {"id": (int, ...)}
    for col in spec.fields:
        typ, text = _DESCRIPTIONS[col]
        required = col in spec.required
        create[col] = (typ if required else typ | None, Field(... if required else None, description=text))
        update[col] = (typ | None, Field(None, description=text))
        public[col] = (typ | None, Field(None, description=text))
    for ref, ref_kind in spec.refs.items():
        text = f"Code of the {_singular(ref_kind)} this refers to"
        required = ref in spec.required
        create[ref] = (str if required else str | None, Field(... if required else None, description=text))
        update[ref] = (str | None, Field(None, description=text))
        public[ref] = (str | None, Field(None, description=text))
    del update["code"]
    strict = ConfigDict(extra="forbid")
    create_cls = create_model(f"{name}Create", __config__=strict, **create)
    update_cls = create_model(f"{name}Update", __config__=strict, **update)
    public_cls = create_model(f"{name}Public", **public)
    list_cls = create_model(f"{name}List", data=(list[public_cls], ...), count=(int, ...))
    return create_cls, update_cls, public_cls, list_cls


def _add_member_routes(kind: str) -> None:
    create_cls, update_cls, public_cls, list_cls = _member_models(kind)
    one = _singular(kind)
    collection = f"/parks/{{park}}/{kind}"
    item = f"/parks/{{park}}/{kind}/{{code}}"

    def list_members(park: str, store: StoreDep, scope: CurrentScope) -> dict:
        records = repo.list_entities(store, scope, kind, park)
        return {"data": records, "count": len(records)}

    def create_member(park: str, body: create_cls, store: StoreDep, scope: CurrentScope) -> dict:  # type: ignore[valid-type]
        return repo.create_entity(store, scope, kind, park, body.model_dump(exclude_none=True))

    def get_member(park: str, code: str, store: StoreDep, scope: CurrentScope) -> dict:
        return repo.get_entity(store, scope, kind, park, code)

    def update_member(park: str, code: str, body: update_cls, store: StoreDep, scope: CurrentScope) -> dict:  # type: ignore[valid-type]
        return repo.update_entity(store, scope, kind, park, code, body.model_dump(exclude_unset=True))

    def delete_member(park: str, code: str, store: StoreDep, scope: CurrentScope) -> Response:
        repo.delete_entity(store, scope, kind, park, code)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    tags = ["registry"]
    router.add_api_route(
        collection,
        list_members,
        methods=["GET"],
        response_model=list_cls,
        operation_id=f"list_{kind}",
        summary=f"List {kind}",
        description=f"The park's {kind} visible to the caller, as {{data, count}}.",
        tags=tags,
    )
    router.add_api_route(
        collection,
        create_member,
        methods=["POST"],
        response_model=public_cls,
        status_code=status.HTTP_201_CREATED,
        operation_id=f"create_{one}",
        summary=f"Create a {one}",
        tags=tags,
    )
    router.add_api_route(
        item,
        get_member,
        methods=["GET"],
        response_model=public_cls,
        operation_id=f"get_{one}",
        summary=f"Get a {one}",
        tags=tags,
    )
    router.add_api_route(
        item,
        update_member,
        methods=["PATCH"],
        response_model=public_cls,
        operation_id=f"update_{one}",
        summary=f"Change a {one}",
        description="Only the fields given change; null clears a field or reference. The code never changes.",
        tags=tags,
    )
    router.add_api_route(
        item,
        delete_member,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        operation_id=f"delete_{one}",
        summary=f"Delete a {one}",
        description="Only a record nothing refers to; a channel with readings is never deleted (409).",
        tags=tags,
    )


for _kind in ENTITIES:
    _add_member_routes(_kind)
