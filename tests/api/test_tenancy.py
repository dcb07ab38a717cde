"""Tenancy over the whole API: every route of the app has a case here, or the coverage test fails.

For each route, an enterprise user of "office" must not read "steel"'s data (lists leave it out, direct
GETs answer 404) nor change it (403/404/422, database unchanged), and a partner or regulator must not write.
Every write case ends with a control: the same request by someone entitled succeeds and changes the
database, which proves the refusals above were about who asked and not about a malformed request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from parkzero.api.app import create_app
from parkzero.config import Settings
from parkzero.registry.model import ENTITIES
from tests.api import test_pact_host as pact_host
from tests.api.conftest import FOREIGN, PASSWORD, STEEL_CREDIT_CODE, V, World, assert_problem
from tests.api.test_pact_host import PACT_ROUTES


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD aside), included routers flattened."""
    try:  # FastAPI >= 0.16x keeps included routers lazily; iter_route_contexts flattens them
        from fastapi.routing import iter_route_contexts

        routes: Any = iter_route_contexts(app.routes)
    except ImportError:  # pragma: no cover - older FastAPI lists the routes themselves
        routes = app.routes
    found = set()
    for route in routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, route.path))
    return found


# -- cases -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Read:
    """`office` reads: `url` answers `status`; a 200 shows `must` and nothing of FOREIGN."""

    url: str
    status: int = 200
    must: tuple[str, ...] = ()
    params: dict | None = None
    foreign: tuple[str, ...] = FOREIGN
    page: bool = False  # an HTML page: a refusal is the error page, not a problem


@dataclass(frozen=True)
class Write:
    """`request(actor)` -> (method, url, kwargs); refused for `deny`, then allowed for `control`."""

    request: Callable[[str], tuple[str, str, dict]]
    control: str
    control_status: int
    deny: tuple[str, ...] = ("office", "office-gw", "partner", "regulator")
    refusals: tuple[int, ...] = (403, 404, 422)
    changes: bool = True  # the control writes something


def _same(method: str, url: str, **kwargs) -> Callable[[str], tuple[str, str, dict]]:
    return lambda actor: (method, url, kwargs)


def _login(actor: str) -> tuple[str, str, dict]:
    password = PASSWORD if actor == "steel" else "a wrong guess"
    return "POST", "auth/token", {"data": {"username": "steel-user", "password": password}}


def _pcf(product: str) -> dict:
    from tests.api.test_pact_host import footprint

    return footprint(product, "steel", 2.0)


def _web_login(actor: str) -> tuple[str, str, dict]:
    return "POST", "/login", {"data": {"username": "steel-user", "password": PASSWORD}}


def _csv_upload(actor: str) -> tuple[str, str, dict]:
    text = "timestamp,channel,value\n2025-03-01T02:00:00+08:00,steel.main,7.5\n"
    return "POST", "parks/p1/uploads", {"files": {"file": ("steel.csv", text.encode(), "text/csv")}}


STEEL_ITEM = {
    "zones": "z1",  # zones and buildings belong to the park: office may see but not change them
    "buildings": "b1",
    "enterprises": "steel",
    "assets": "steel-furnace",
    "meters": "m-steel",
    "channels": "steel.main",
    "products": "coil",
}
OWN_ITEM = {
    "zones": "z1",
    "buildings": "b1",
    "enterprises": "office",
    "assets": "office-hvac",
    "meters": "m-office",
    "channels": "office.main",
    "products": "desk-hour",
}
DELETABLE = {  # nothing refers to these
    "zones": "z2",
    "buildings": "b2",
    "enterprises": "steel-annex",
    "assets": "steel-furnace",
    "meters": "m-steel-spare",
    "channels": "steel.eaf",
    "products": "coil",
}
NEW_RECORD = {
    "zones": {"code": "z9", "name": "Zone 9"},
    "buildings": {"code": "b9", "name": "Hall 9", "zone": "z1"},
    "enterprises": {"code": "e9", "name": "Tenant 9", "building": "b1"},
    "assets": {"code": "a9", "name": "Battery 9", "kind": "battery", "enterprise": "steel"},
    "meters": {"code": "m9", "name": "Meter 9", "enterprise": "steel"},
    "channels": {"code": "steel.c9", "name": "Channel 9", "quantity_kind": "active_energy", "meter": "m-steel"},
    "products": {"code": "rebar", "name": "Rebar", "declared_unit": "t", "enterprise": "steel"},
}
RANGE = {"start": "2025-03-01T00:00:00+08:00", "end": "2025-03-01T01:00:00+08:00"}


def _cases() -> dict[tuple[str, str], list[Read | Write]]:
    c: dict[tuple[str, str], list[Read | Write]] = {
        # documentation: public, and no tenant data in it
        ("GET", f"{V}/openapi.json"): [Read("/api/v1/openapi.json", foreign=(STEEL_CREDIT_CODE, "steel-user"))],
        ("GET", f"{V}/docs"): [Read("/api/v1/docs", foreign=(STEEL_CREDIT_CODE, "steel-user"))],
        ("GET", "/api/v1/docs/oauth2-redirect"): [
            Read("/api/v1/docs/oauth2-redirect", foreign=(STEEL_CREDIT_CODE, "steel-user"))
        ],
        # auth
        ("POST", f"{V}/auth/token"): [
            Write(_login, control="steel", control_status=200, deny=("office",), refusals=(401,), changes=False)
        ],
        ("GET", f"{V}/auth/me"): [Read("auth/me", must=("office-user",))],
        # web pages (HTML; their refusals are pages, not problems: see tests/web/test_pages.py)
        ("GET", "/login"): [Read("/login")],
        ("POST", "/login"): [Write(_web_login, control="steel", control_status=200, deny=(), changes=False)],
        ("POST", "/logout"): [
            Write(_same("POST", "/logout"), control="steel", control_status=200, deny=(), changes=False)
        ],
        ("GET", "/"): [Read("/", must=("office.main",))],  # a tenant is sent to its own page
        ("GET", "/tenants/{tenant}"): [Read("/tenants/office", must=("office.main",))],
        ("GET", "/upload"): [Read("/upload", must=('data-park="p1"',))],
        ("GET", "/footprints"): [Read("/footprints", must=('id="fp-own"', "desk"))],  # office's own only
        # the energy pages are the operator's: a tenant gets the 403 page (tests/web/test_energy_pages.py)
        ("GET", "/energy"): [Read("/energy", status=403, page=True)],
        ("GET", "/energy/sizing"): [Read("/energy/sizing", status=403, page=True)],
        ("GET", "/energy/resilience"): [Read("/energy/resilience", status=403, page=True)],
        ("GET", "/district"): [Read("/district", status=403, page=True)],  # parks side by side: regulators
        # parks and the registry document
        ("GET", f"{V}/parks"): [Read("parks", must=("p1",))],
        ("POST", f"{V}/parks"): [
            Write(
                _same("POST", "parks", json={"code": "newpark", "name": "New", "timezone": "Asia/Shanghai"}),
                control="admin",
                control_status=201,
                deny=("office", "partner", "regulator", "op"),
            )
        ],
        ("GET", f"{V}/parks/{{park}}"): [Read("parks/p1", must=("p1",)), Read("parks/farpark", status=404)],
        ("PATCH", f"{V}/parks/{{park}}"): [
            Write(_same("PATCH", "parks/p1", json={"name": "Renamed"}), control="op", control_status=200),
            Write(_same("PATCH", "parks/farpark", json={"name": "Renamed"}), control="admin", control_status=200),
        ],
        ("GET", f"{V}/parks/{{park}}/registry"): [
            Read("parks/p1/registry", must=("office.main", "desk-hour")),
            Read("parks/farpark/registry", status=404),
        ],
        ("POST", f"{V}/registry/import"): [
            Write(
                _same(
                    "POST",
                    "registry/import",
                    json={
                        "format": "parkzero-registry",
                        "version": 1,
                        "parks": [
                            {
                                "code": "p1",
                                "name": "Test Park",
                                "timezone": "Asia/Shanghai",
                                "enterprises": [{"code": "steel", "name": "Renamed steel", "building": "b1"}],
                            }
                        ],
                    },
                ),
                control="op",
                control_status=200,
            )
        ],
        # readings
        ("GET", f"{V}/parks/{{park}}/series"): [
            Read("parks/p1/series", params={"channel": "office.main", **RANGE}, must=("office.main", "kWh")),
            Read("parks/p1/series", params={"channel": "steel.main", **RANGE}, status=404),
            Read("parks/p1/series", params={"channel": ["office.main", "steel.main"], **RANGE}, status=404),
            Read("parks/p1/series", params={"channel": "steel.main", "format": "csv", **RANGE}, status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/quality"): [
            Read("parks/p1/quality", params=RANGE, must=("office.main",)),
            Read("parks/p1/quality", params={"channel": "steel.main", **RANGE}, status=404),
        ],
        ("POST", f"{V}/parks/{{park}}/channels/{{code}}/fill"): [
            Write(
                _same("POST", "parks/p1/channels/steel.main/fill", json=RANGE),
                control="steel",
                control_status=200,
            )
        ],
        ("POST", f"{V}/parks/{{park}}/readings"): [
            Write(
                _same(
                    "POST",
                    "parks/p1/readings",
                    json={"readings": [{"channel": "steel.main", "ts": "2025-03-01T02:00:00+08:00", "value": 5}]},
                ),
                control="steel-gw",
                control_status=200,
            )
        ],
        ("POST", f"{V}/parks/{{park}}/uploads"): [Write(_csv_upload, control="steel", control_status=200)],
        ("GET", f"{V}/parks/{{park}}/batches"): [
            Read("parks/p1/batches", must=('"enterprise":"office"',)),
            Read("parks/farpark/batches", status=404),
        ],
        # saved column mappings
        ("GET", f"{V}/parks/{{park}}/mappings"): [
            Read("parks/p1/mappings", must=("office-export",)),
            Read("parks/farpark/mappings", status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/mappings/{{name}}"): [
            Read("parks/p1/mappings/office-export", must=("MWh",)),
            Read("parks/p1/mappings/steel-export", status=404),
        ],
        ("PUT", f"{V}/parks/{{park}}/mappings/{{name}}"): [
            Write(
                _same("PUT", "parks/p1/mappings/steel-export", json={"unit": "kWh"}),
                control="steel",
                control_status=200,
                refusals=(403, 404, 409, 422),  # a tenant may not take over another tenant's name: 409
            )
        ],
        ("DELETE", f"{V}/parks/{{park}}/mappings/{{name}}"): [
            Write(_same("DELETE", "parks/p1/mappings/steel-export"), control="steel", control_status=204)
        ],
        # users and keys
        ("GET", f"{V}/users"): [Read("users", status=403)],
        ("POST", f"{V}/users"): [
            Write(
                _same(
                    "POST",
                    "users",
                    json={
                        "username": "intruder",
                        "password": PASSWORD,
                        "role": "enterprise",
                        "park": "p1",
                        "enterprise": "steel",
                    },
                ),
                control="op",
                control_status=201,
            )
        ],
        ("POST", f"{V}/users/{{username}}/password"): [
            Write(
                _same("POST", "users/steel-user/password", json={"password": "a new password"}),
                control="op",
                control_status=204,
            )
        ],
        ("POST", f"{V}/api-keys"): [
            Write(
                _same("POST", "api-keys", json={"name": "intruder", "park": "p1", "enterprise": "steel"}),
                control="op",
                control_status=201,
            )
        ],
        ("DELETE", f"{V}/api-keys/{{prefix}}"): [
            Write(lambda actor: ("DELETE", "api-keys/{steel-gw}", {}), control="op", control_status=204)
        ],
    }
    c.update(_ledger_cases())
    for kind in ENTITIES:
        one = f"{V}/parks/{{park}}/{kind}/{{code}}"
        owner = "steel" if ENTITIES[kind].tenant_writable else "op"
        c[("GET", f"{V}/parks/{{park}}/{kind}")] = [
            Read(f"parks/p1/{kind}", must=(f'"{OWN_ITEM[kind]}"',)),
            Read(f"parks/farpark/{kind}", status=404),
        ]
        c[("GET", one)] = [
            Read(f"parks/p1/{kind}/{OWN_ITEM[kind]}", must=(OWN_ITEM[kind],)),
            Read(f"parks/p1/{kind}/{STEEL_ITEM[kind]}", status=404)
            if STEEL_ITEM[kind] != OWN_ITEM[kind]
            else Read(f"parks/farpark/{kind}/{kind[0]}1", status=404),
        ]
        c[("POST", f"{V}/parks/{{park}}/{kind}")] = [
            Write(_same("POST", f"parks/p1/{kind}", json=NEW_RECORD[kind]), control=owner, control_status=201)
        ]
        c[("PATCH", one)] = [
            Write(
                _same("PATCH", f"parks/p1/{kind}/{STEEL_ITEM[kind]}", json={"name": "Renamed"}),
                control=owner,
                control_status=200,
            )
        ]
        c[("DELETE", one)] = [
            Write(_same("DELETE", f"parks/p1/{kind}/{DELETABLE[kind]}"), control=owner, control_status=204)
        ]
    return c


def _ledger_cases() -> dict[tuple[str, str], list[Read | Write]]:
    """The carbon ledger (records made by `add_ledger` in tests/api/conftest.py)."""
    lib_foreign = ("farpark", STEEL_CREDIT_CODE, "steel-own", "steel supplier")  # shipped sets may say "steel"
    inv = f"{V}/parks/{{park}}/inventories/{{inventory_id}}"
    year = {"year": 2025, "regime": "ghg-protocol"}
    span = {"start": "2025-03-01T00:00:00+08:00", "end": "2025-03-02T00:00:00+08:00"}
    source = {
        "name": "Steel electricity",
        "enterprise": "steel",
        "scope": 2,
        "category": "electricity",
        "method": "electricity",
        "factor_ref": "grid",
        "activity_unit": "kWh",
        "channels": ["steel.main"],
    }
    factor_set = {
        "meta": {"code": "new-set", "version": "1", "title": "New"},
        "csv": "factor_id,parameter,gas,value,unit,year_from,year_to,region,label,label_zh,source,table,"
        "note\nx.y,ef,CO2,1,tCO2/t,,,,x,x,doc,,\n",
    }
    gec = {
        "code": "steel-gec-2",
        "enterprise": "steel",
        "kind": "gec",
        "serial_prefix": "STEEL-",
        "serial_first": 100,
        "serial_last": 109,
        "vintage_year": 2025,
    }
    entry = [
        {
            "source": "steel.elec",
            "period_start": "2025-03-02T00:00:00+08:00",
            "period_end": "2025-03-03T00:00:00+08:00",
            "amount": 2.0,
        }
    ]

    def evidence(actor: str) -> tuple[str, str, dict]:
        return (
            "POST",
            "parks/p1/evidence",
            {"files": {"file": ("bill.pdf", b"%PDF bill", "application/pdf")}, "data": {"enterprise": "steel"}},
        )

    return {
        ("GET", f"{V}/factor-sets"): [
            Read("factor-sets", must=("cn-electricity", "office-own-factors"), foreign=lib_foreign)
        ],
        ("GET", f"{V}/factor-sets/{{code}}"): [
            Read("factor-sets/office-own-factors", must=("office supplier",), foreign=lib_foreign),
            Read("factor-sets/steel-own-factors", status=404),
        ],
        ("POST", f"{V}/factor-sets"): [
            Write(
                _same("POST", "factor-sets", json=factor_set),
                control="steel",
                control_status=201,
                deny=("office-gw", "partner", "regulator"),
            )
        ],
        ("GET", f"{V}/regimes"): [Read("regimes", must=("ghg-protocol", "zcp-910"))],
        ("GET", "/carbon"): [Read("/carbon?year=2025", must=("carbon-kpis",))],
        ("GET", f"{V}/parks/{{park}}/buildings/{{code}}/carbon"): [
            # b1 holds steel and office: its figure would show steel's use, so office gets 404
            Read("parks/p1/buildings/b1/carbon", params={**year}, status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/enterprises/{{code}}/datacentre"): [
            Read("parks/p1/enterprises/office/datacentre", params={**year}, status=422),  # no IT load
            Read("parks/p1/enterprises/steel/datacentre", params={**year}, status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/emissions/series"): [
            Read("parks/p1/emissions/series", params={**span, "enterprise": "office"}, must=('"use_kwh"',)),
            Read("parks/p1/emissions/series", params={**span, "enterprise": "steel"}, status=404),
            Read("parks/p1/emissions/series", params=span, status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/emission-sources"): [
            Read("parks/p1/emission-sources", must=("office.elec",)),
            Read("parks/farpark/emission-sources", status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/emission-sources/{{code}}"): [
            Read("parks/p1/emission-sources/office.elec", must=("office.main",)),
            Read("parks/p1/emission-sources/steel.elec", status=404),
        ],
        ("PUT", f"{V}/parks/{{park}}/emission-sources/{{code}}"): [
            Write(
                _same("PUT", "parks/p1/emission-sources/steel.elec", json=source),
                control="steel",
                control_status=200,
                refusals=(403, 404, 409, 422),
            )
        ],
        ("GET", f"{V}/parks/{{park}}/activity"): [
            Read("parks/p1/activity", must=("office.elec",)),
            Read("parks/p1/activity", params={"source": "steel.elec"}, must=('"count":0',)),
        ],
        ("POST", f"{V}/parks/{{park}}/activity"): [
            Write(_same("POST", "parks/p1/activity", json=entry), control="steel", control_status=201)
        ],
        ("POST", f"{V}/parks/{{park}}/activity/{{entry_id}}/void"): [
            Write(
                _same("POST", "parks/p1/activity/{steel-entry}/void", params={"reason": "duplicate"}),
                control="steel",
                control_status=200,
            )
        ],
        ("POST", f"{V}/parks/{{park}}/evidence"): [Write(evidence, control="steel", control_status=201)],
        ("GET", f"{V}/parks/{{park}}/evidence/{{evidence_id}}"): [
            Read("parks/p1/evidence/{office-evidence}", must=("office invoice",)),
            Read("parks/p1/evidence/{steel-evidence}", status=404),
        ],
        ("PUT", f"{V}/parks/{{park}}/enterprises/{{code}}/figures/{{year}}"): [
            Write(
                _same("PUT", "parks/p1/enterprises/steel/figures/2025", json={"output_value_10k_cny": 52000.0}),
                control="steel",
                control_status=200,
            )
        ],
        ("GET", f"{V}/parks/{{park}}/instruments"): [Read("parks/p1/instruments", must=("office-gec",))],
        ("POST", f"{V}/parks/{{park}}/instruments"): [
            Write(_same("POST", "parks/p1/instruments", json=gec), control="steel", control_status=201)
        ],
        ("POST", f"{V}/parks/{{park}}/instruments/{{code}}/retirements"): [
            Write(
                _same("POST", "parks/p1/instruments/steel-gec/retirements", json={"year": 2025, "mwh": 1}),
                control="steel",
                control_status=201,
            )
        ],
        ("GET", f"{V}/parks/{{park}}/emissions"): [
            Read("parks/p1/emissions", params={**year, "enterprise": "office"}, must=('"enterprise":"office"',)),
            Read("parks/p1/emissions", params={**year, "enterprise": "steel"}, status=404),
            Read("parks/p1/emissions", params=year, status=404),  # the park's figures name every tenant
        ],
        ("GET", f"{V}/parks/{{park}}/inventories"): [Read("parks/p1/inventories", must=('"enterprise":"office"',))],
        ("POST", f"{V}/parks/{{park}}/inventories"): [
            Write(
                _same("POST", "parks/p1/inventories", json={**year, "enterprise": "steel"}),
                control="steel",
                control_status=201,
            )
        ],
        ("GET", inv): [
            Read("parks/p1/inventories/{office-inv}", must=("totals",)),
            Read("parks/p1/inventories/{steel-inv}", status=404),
        ],
        ("GET", f"{inv}/lines"): [
            Read("parks/p1/inventories/{office-inv}/lines", must=("office.elec",)),
            Read("parks/p1/inventories/{steel-inv}/lines", status=404),
        ],
        ("GET", f"{inv}/lines/{{line_no}}"): [
            Read("parks/p1/inventories/{office-inv}/lines/1", must=("formula",)),
            Read("parks/p1/inventories/{steel-inv}/lines/1", status=404),
        ],
        ("GET", f"{inv}/report"): [
            Read("parks/p1/inventories/{office-inv}/report", params={"format": "xlsx"}),
            Read("parks/p1/inventories/{steel-inv}/report", params={"format": "pdf"}, status=404),
        ],
        ("GET", f"{inv}/events"): [
            Read("parks/p1/inventories/{office-inv}/events", must=("create",)),
            Read("parks/p1/inventories/{steel-inv}/events", status=404),
        ],
        ("POST", f"{inv}/{{action}}"): [
            Write(_same("POST", "parks/p1/inventories/{steel-inv}/submit"), control="steel", control_status=200)
        ],
        ("POST", f"{inv}/comments"): [
            Write(
                _same("POST", "parks/p1/inventories/{steel-inv}/comments", json={"comment": "see invoice"}),
                control="steel",
                control_status=201,
            )
        ],
        # energy: tariffs and bills hold no park data; park studies are the operator's (403 for everyone else,
        # proven by the operator getting past that check to the data check: this world has no year of 15-minute
        # readings, so the operator's answer is a 422 about readings, not a 403)
        ("GET", f"{V}/energy/tariffs"): [Read("energy/tariffs", must=("sh_large_industry_35kv",))],
        ("GET", f"{V}/energy/tariffs/{{code}}"): [
            Read("energy/tariffs/sh_large_industry_35kv", must=("seasons",)),
            Read("energy/tariffs/no-such-tariff", status=404),
        ],
        ("POST", f"{V}/energy/bill"): [
            Write(
                _same("POST", "energy/bill", json={"readings": [{"ts": "2025-03-01T10:00:00", "import_kwh": 5}]}),
                control="office",
                control_status=200,
                deny=(),
                changes=False,
            )
        ],
        ("GET", f"{V}/parks/{{park}}/energy/dashboard"): [
            Read("parks/p1/energy/dashboard", status=403),
            Read("parks/nope/energy/dashboard", status=404),
        ],
        **{
            ("POST", f"{V}/parks/{{park}}/energy/{study}"): [
                Write(
                    _same("POST", f"parks/p1/energy/{study}", json=body),
                    control="op",
                    control_status=422,
                    deny=("office", "office-gw", "partner", "regulator", "steel"),
                    refusals=(403, 404),  # a partner does not see the park at all
                    changes=False,
                )
            ]
            for study, body in {
                "replay": {"start": "2025-03-01", "end": "2025-03-02"},
                "sizing": {"year": 2025},
                "resilience": {"start": "2025-03-01", "end": "2025-03-02"},
            }.items()
        },
        # product footprints: a tenant sees and moves its own; partners are the operator's to register
        ("GET", f"{V}/parks/{{park}}/footprints"): [Read("parks/p1/footprints", must=('"origin":"computed"',))],
        ("POST", f"{V}/parks/{{park}}/footprints"): [
            Write(
                lambda actor: (
                    "POST",
                    "parks/p1/footprints",
                    {"json": {"document": _pcf("steel-rebar"), "enterprise": "steel"}},
                ),
                control="steel",
                control_status=201,
            )
        ],  # fmt: skip
        ("GET", f"{V}/parks/{{park}}/footprints/{{footprint_id}}"): [
            Read("parks/p1/footprints/{office-fp}", must=("desk",)),
            Read("parks/p1/footprints/{steel-fp}", status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/footprints/{{footprint_id}}/events"): [
            Read("parks/p1/footprints/{office-fp}/events", must=("create",)),
            Read("parks/p1/footprints/{steel-fp}/events", status=404),
        ],
        ("GET", f"{V}/parks/{{park}}/footprints/{{footprint_id}}/label.pdf"): [
            Read("parks/p1/footprints/{office-fp}/label.pdf", status=409),  # its own, but a draft has no label
            Read("parks/p1/footprints/{steel-fp}/label.pdf", status=404),
        ],
        ("POST", f"{V}/parks/{{park}}/footprints/{{footprint_id}}/{{action}}"): [
            Write(_same("POST", "parks/p1/footprints/{steel-fp}/submit"), control="steel", control_status=200)
        ],
        ("POST", f"{V}/parks/{{park}}/footprints/{{footprint_id}}/versions"): [
            Write(  # steel gets past visibility to the lifecycle check: a draft is edited, not versioned
                _same("POST", "parks/p1/footprints/{steel-fp}/versions", json={"document": {"specVersion": "2.3.0"}}),
                control="steel",
                control_status=409,
                refusals=(403, 404),
                changes=False,
            )
        ],
        ("POST", f"{V}/parks/{{park}}/footprints/{{footprint_id}}/shares"): [
            Write(
                _same("POST", "parks/p1/footprints/{steel-fp}/shares", json={"partner": "{partner-client}"}),
                control="steel",
                control_status=201,
            )
        ],
        ("GET", f"{V}/parks/{{park}}/pact/partners"): [Read("parks/p1/pact/partners", must=("Buyer Co.",))],
        ("POST", f"{V}/parks/{{park}}/pact/partners"): [
            Write(
                _same("POST", "parks/p1/pact/partners", json={"name": "Another buyer"}),
                deny=("office", "office-gw", "partner", "regulator", "steel"),
                control="op",
                control_status=201,
            )
        ],
        ("GET", f"{V}/parks/{{park}}/pact/events"): [Read("parks/p1/pact/events")],  # steel's request is not shown
        ("GET", f"{V}/parks/{{park}}/supply-chain"): [Read("parks/p1/supply-chain", must=('"suppliers"', "desk"))],
        ("GET", f"{V}/parks/{{park}}/targets"): [Read("parks/p1/targets", must=("office-cap-2035",))],
        ("POST", f"{V}/parks/{{park}}/targets"): [
            Write(
                _same(
                    "POST",
                    "parks/p1/targets",
                    json={"code": "steel-neutral", "subject": "steel", "kind": "neutral", "target_year": 2050},
                ),
                control="steel",
                control_status=201,
            )
        ],  # fmt: skip
        ("DELETE", f"{V}/parks/{{park}}/targets/{{code}}"): [
            Write(_same("DELETE", "parks/p1/targets/steel-cap-2035"), control="steel", control_status=204)
        ],
        ("GET", f"{V}/parks/{{park}}/recognitions"): [Read("parks/p1/recognitions", must=('"holder":"office"',))],
        ("POST", f"{V}/parks/{{park}}/recognitions"): [
            Write(
                _same(
                    "POST",
                    "parks/p1/recognitions",
                    json={
                        "holder": "steel",
                        "kind": "green_supply_chain",
                        "level": "national",
                        "year": 2025,
                        "issuer": "工业和信息化部",
                        "evidence": ["steel list entry 2025"],
                    },
                ),
                control="steel",
                control_status=201,
            )
        ],  # fmt: skip
        ("DELETE", f"{V}/parks/{{park}}/recognitions/{{recognition_id}}"): [
            Write(_same("DELETE", "parks/p1/recognitions/{steel-rec}"), control="steel", control_status=204)
        ],
        ("GET", f"{V}/district"): [Read("district", status=403)],  # parks side by side: not for a tenant
        ("GET", f"{V}/district/report"): [Read("district/report", status=403)],
        ("POST", f"{V}/parks/{{park}}/energy/savings"): [
            Write(  # steel's meter: office is refused; steel itself gets past visibility to the data check
                _same(
                    "POST",
                    "parks/p1/energy/savings",
                    json={
                        "channels": ["steel.main"],
                        "baseline_start": "2025-01-01",
                        "baseline_end": "2025-02-01",
                        "reporting_start": "2025-02-01",
                        "reporting_end": "2025-03-01",
                    },
                ),
                control="steel",
                control_status=422,
                deny=("office", "partner"),
                refusals=(404,),
                changes=False,
            )
        ],
    }


CASES = _cases()


def test_every_route_has_a_tenancy_case(tmp_path):
    """Every route has a case here, or is a PACT route whose partner scoping `tests/api/test_pact_host.py` proves
    against a running HTTPS host (PACT answers its own error bodies, not problem+json, and only over HTTPS)."""
    app = create_app(Settings(database_url="unused", data_dir=tmp_path, secret_key="test-secret"), store=None)
    covered = set(CASES) | set(PACT_ROUTES)
    missing = sorted(app_routes(app) - covered)
    assert not missing, f"add tenancy cases to tests/api/test_tenancy.py for {missing}"
    stale = sorted(covered - app_routes(app))
    assert not stale, f"cases for routes that no longer exist: {stale}"
    for route, tests in PACT_ROUTES.items():
        assert all(callable(getattr(pact_host, name, None)) for name in tests), (route, tests)


# -- running the cases -----------------------------------------------------------------------------
def snapshot(world: World) -> dict[str, list[str]]:
    """Every row of every table of the store, to prove a refused request changed nothing."""
    db = world.store.db
    tables = [
        r[0]
        for r in db.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    ]
    return {t: sorted(map(repr, db.fetchall(f"SELECT * FROM {t}"))) for t in tables}


def _fill(world: World, url: str) -> str:
    for name, value in world.ids.items():
        url = url.replace(f"{{{name}}}", str(value))
    return url


def _check_read(world: World, case: Read) -> None:
    response = world.call("office", "GET", _fill(world, case.url), params=case.params)
    if case.page and case.status != 200:
        assert response.status_code == case.status, response.text
        leaked = [m for m in case.foreign if m.lower() in response.text.lower()]
        assert not leaked, f"{case.url}'s error page shows {leaked}"
        return
    if case.status != 200:  # the problem only echoes what was asked for
        assert_problem(response, case.status)
        return
    assert response.status_code == 200, response.text
    text = response.text
    for marker in case.must:
        assert marker in text, f"{case.url}: expected {marker!r} in the answer"
    leaked = [m for m in case.foreign if m.lower() in text.lower()]
    assert not leaked, f"{case.url} shows {leaked} to office: {text[:500]}"


def _check_write(world: World, case: Write) -> None:
    def send(actor: str):
        method, url, kwargs = case.request(actor)
        url = _fill(world, url.replace("{steel-gw}", world.keys["steel-gw"].split("_")[1]))
        if "json" in kwargs:  # placeholders in a JSON body too (a partner's client id ...)
            kwargs = {**kwargs, "json": json.loads(_fill(world, json.dumps(kwargs["json"])))}
        return world.call(actor, method, url, **kwargs)

    before = snapshot(world)
    for actor in case.deny:
        response = send(actor)
        # a gateway key is no login: routes other than uploads do not accept it at all
        refusals = (*case.refusals, 401) if actor.endswith("-gw") else case.refusals
        assert response.status_code in refusals, f"{actor}: {response.status_code} {response.text}"
        assert_problem(response, response.status_code)
        assert snapshot(world) == before, f"{actor}'s refused request changed the database"
    response = send(case.control)
    assert response.status_code == case.control_status, f"control {case.control}: {response.text}"
    if case.changes:
        assert snapshot(world) != before, "the control request should have changed something"


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1].removeprefix(V)}")
def test_tenancy(world: World, route: tuple[str, str]):
    for case in CASES[route]:
        if isinstance(case, Read):
            _check_read(world, case)
        else:
            _check_write(world, case)
