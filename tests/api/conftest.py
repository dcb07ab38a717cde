"""An app over SMALL_PARK (both engines) with one user per role, a gateway key per tenant and some readings.

Tenant data of "steel" is marked so a response that leaks it is easy to spot: every steel record has
"steel" in its code or name (the product "coil" aside), and a second park "farpark" is invisible to all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from parkzero.api.app import create_app
from parkzero.api.security import issue_token
from parkzero.config import Settings
from parkzero.ingest.mapping import save_mapping
from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry import users as users_mod
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.readings import merge_readings
from tests.conftest import enterprise_scope

SYSTEM = Scope.system("test")
SECRET = "test-secret-for-hs256-at-least-32-bytes"  # PyJWT warns under 32 bytes
PASSWORD = "correct horse battery"
V = "/api/v1"
T0 = datetime.fromisoformat("2025-03-01T00:00:00+08:00")
STEEL_CREDIT_CODE = "91310113MA1GKX5N3F"
FOREIGN = ("steel", "coil", "farpark", STEEL_CREDIT_CODE)  # what "office" must never see

FAR_PARK = {
    "format": "parkzero-registry",
    "version": 1,
    "parks": [
        {
            "code": "farpark",
            "name": "Farpark",
            "timezone": "Asia/Shanghai",
            "zones": [{"code": "farpark-z", "name": "Farpark zone"}],
            "buildings": [{"code": "farpark-b", "name": "Farpark hall", "zone": "farpark-z"}],
        }
    ],
}

# username, role, park, enterprise
USERS = {
    "admin": ("admin", "operator", None, None),  # installation-wide operator
    "op": ("op", "operator", "p1", None),
    "steel": ("steel-user", "enterprise", "p1", "steel"),
    "office": ("office-user", "enterprise", "p1", "office"),
    "partner": ("partner-user", "partner", "p1", None),
    "regulator": ("regulator-user", "regulator", "p1", None),
}


@dataclass
class World:
    store: Store
    client: TestClient
    settings: Settings
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # gateway name -> full key
    ids: dict[str, int] = field(default_factory=dict)  # "{name}" in a case's URL -> id (ledger records)

    def call(self, actor: str | None, method: str, url: str, **kwargs):
        headers = {**(self.headers.get(actor, {}) if actor else {}), **kwargs.pop("headers", {})}
        return self.client.request(method, url if url.startswith("/") else f"{V}/{url}", headers=headers, **kwargs)


def channel_id(store: Store, code: str) -> int:
    row = store.db.fetchone("SELECT id FROM channels WHERE code = ?", (code,))
    assert row is not None
    return int(row[0])


def enterprise_id(store: Store, code: str) -> int:
    row = store.db.fetchone("SELECT id FROM enterprises WHERE code = ?", (code,))
    assert row is not None
    return int(row[0])


def put_readings(store: Store, code: str, values: dict[int, float], enterprise: str | None) -> None:
    """Readings of one channel at T0 + k quarter hours [kWh]."""
    merge_readings(
        store,
        pa.table(
            {
                "channel_id": pa.array([channel_id(store, code)] * len(values), pa.int64()),
                "ts_start": pa.array([T0 + timedelta(minutes=15 * k) for k in values], pa.timestamp("us", tz="UTC")),
                "value": pa.array(list(values.values()), pa.float64()),
            }
        ),
        source="test",
        actor="test",
        park_id=int(store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]),  # type: ignore[index]
        enterprise_id=None if enterprise is None else enterprise_id(store, enterprise),
    )


@pytest.fixture
def world(park: Store, tmp_path, monkeypatch) -> Iterator[World]:
    # cheap hashes: the tests create and log in many users (production keeps argon2's defaults)
    monkeypatch.setattr(users_mod, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    registry_io.import_registry(park, SYSTEM, FAR_PARK)
    for kind, record in (
        ("zones", {"code": "z2", "name": "Empty zone"}),
        ("buildings", {"code": "b2", "name": "Empty hall"}),
        ("enterprises", {"code": "steel-annex", "name": "Steel annex"}),
        ("assets", {"code": "steel-furnace", "name": "Steel furnace", "kind": "flexible_load", "enterprise": "steel"}),
        ("assets", {"code": "office-hvac", "name": "Office HVAC", "kind": "hvac", "enterprise": "office"}),
        ("meters", {"code": "m-steel-spare", "name": "Steel spare meter", "enterprise": "steel"}),
        ("products", {"code": "desk-hour", "name": "Desk hour", "declared_unit": "h", "enterprise": "office"}),
    ):
        repo.create_entity(park, SYSTEM, kind, "p1", record)
    for username, role, park_code, enterprise in USERS.values():
        users_mod.create_user(park, SYSTEM, username, PASSWORD, role, park_code=park_code, enterprise_code=enterprise)
    # steel.main has a gap at T0 + 30 min (k = 2) for the fill tests
    put_readings(park, "steel.main", {0: 10.0, 1: 20.0, 3: 40.0}, "steel")
    put_readings(park, "office.main", {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}, "office")
    for enterprise, name in (("steel", "steel-export"), ("office", "office-export")):
        save_mapping(park, enterprise_scope(park, enterprise), "p1", {"name": name, "unit": "MWh"})
    settings = Settings(database_url="unused", data_dir=tmp_path, secret_key=SECRET)
    w = World(store=park, client=None, settings=settings)  # type: ignore[arg-type]
    w.ids = add_ledger(park)
    for gateway, enterprise in (("steel-gw", "steel"), ("office-gw", "office"), ("park-gw", None)):
        key, _ = users_mod.create_api_key(park, SYSTEM, gateway, "p1", enterprise)
        w.keys[gateway] = key
        w.headers[gateway] = {"X-API-Key": key}
    for actor, (username, *_rest) in USERS.items():
        w.headers[actor] = {"Authorization": f"Bearer {issue_token(username, SECRET, 60)}"}
    with TestClient(create_app(settings, park)) as client:
        w.client = client
        yield w


def assert_problem(response, status: int) -> dict:
    """An RFC 9457 problem of the given status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


def add_ledger(store: Store) -> dict[str, int]:
    """One of each ledger record per tenant: source, activity entry, evidence, instrument, factor set, inventory."""
    from parkzero.accounting import instruments, inventory, sources
    from parkzero.factors import library

    ids: dict[str, int] = {}
    for ent in ("steel", "office"):
        scope = enterprise_scope(store, ent)
        sources.save_source(
            store,
            scope,
            "p1",
            {
                "code": f"{ent}.elec",
                "name": f"{ent} electricity",
                "enterprise": ent,
                "scope": 2,
                "category": "electricity",
                "method": "electricity",
                "factor_ref": "grid",
                "activity_unit": "kWh",
                "channels": [f"{ent}.main"],
            },
        )
        ev = sources.add_evidence(
            store, scope, "p1", f"{ent}-invoice.pdf", f"%PDF {ent} invoice".encode(), "application/pdf"
        )
        ids[f"{ent}-evidence"] = ev["id"]
        entry = sources.add_activity(
            store,
            scope,
            "p1",
            f"{ent}.elec",
            {"period_start": T0, "period_end": T0 + timedelta(days=1), "amount": 1.0, "evidence_id": ev["id"]},
        )
        ids[f"{ent}-entry"] = entry["id"]
        instruments.register(
            store,
            scope,
            "p1",
            {
                "code": f"{ent}-gec",
                "enterprise": ent,
                "kind": "gec",
                "serial_prefix": f"{ent.upper()}-",
                "serial_first": 1,
                "serial_last": 10,
                "vintage_year": 2025,
            },
        )
        library.add_user_set(
            store,
            scope,
            {"code": f"{ent}-own-factors", "version": "1", "title": f"{ent} own"},
            "factor_id,parameter,gas,value,unit,year_from,year_to,region,label,label_zh,source,"
            f"table,note\nmaterial.{ent}-input,ef,CO2e,1.5,tCO2e/t,,,CN,x,x,{ent} supplier EPD,,\n",
        )
        ids[f"{ent}-inv"] = inventory.create(store, scope, "p1", 2025, "ghg-protocol", ent)["id"]
    ids.update(add_footprints(store))
    ids.update(add_pathway(store))
    return ids


def add_pathway(store: Store) -> dict[str, int]:
    """A target and a recognition per tenant."""
    from parkzero.pathway import records
    from parkzero.pathway.targets import Target

    ids = {}
    for ent in ("steel", "office"):
        scope = enterprise_scope(store, ent)
        cap = Target(code=f"{ent}-cap-2035", subject=ent, kind="absolute_cap", target_year=2035, value=100.0,
                     unit="tCO2e", source=f"{ent} roadmap")  # fmt: skip
        records.add_target(store, scope, "p1", cap)
        rec = records.add_recognition(
            store, scope, "p1",
            {"holder": ent, "kind": "green_factory", "level": "municipal", "year": 2024,
             "issuer": "上海市经济和信息化委员会", "evidence": [f"{ent} list entry"]},
        )  # fmt: skip
        ids[f"{ent}-rec"] = rec["id"]
    return ids


def add_footprints(store: Store) -> dict[str, int]:
    """A draft footprint per tenant, a PACT partner of the park, and a request PACT routed to steel."""
    from parkzero.footprint import partners, records
    from tests.api.test_pact_host import footprint

    ids: dict[str, int] = {}
    for ent, product in (("steel", "steel-coil"), ("office", "desk")):
        doc = footprint(product, ent, 1.5)
        ids[f"{ent}-fp"] = records.create(store, enterprise_scope(store, ent), "p1", doc)["id"]
    _, partner = partners.create(store, SYSTEM, "p1", "Buyer Co.")
    ids["partner-client"] = partner["client_id"]  # type: ignore[assignment]
    pid = store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    steel = enterprise_scope(store, "steel").enterprise_id
    event = {"id": "req-steel-1", "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
             "data": {"pf": {"productIds": ["urn:pact:p1.parkzero:product-id:steel-coil"]}}}  # fmt: skip
    records.log_pact_event(store, pid, direction="in", spec="2", event=event, state="open", enterprise_id=steel)
    return ids
