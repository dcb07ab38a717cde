"""The footprints page: a tenant's product footprints with their review state, its suppliers and what they sent,
the PACT requests waiting for an answer, and the primary-data share per footprint (the operator sees the park's).

Figures come from `parkzero.footprint.records` and `parkzero.footprint.exchange` through the caller's scope.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from parkzero.errors import ParkzeroError
from parkzero.footprint import exchange, records
from parkzero.web import pages
from parkzero.web.pages import Translator

router = APIRouter()


@router.get("/footprints", response_class=HTMLResponse)
def footprints_page(request: Request, park: str | None = None) -> Response:
    scope = pages.session_scope(request)
    if scope is None:
        return pages._to_login(request)
    store = pages._store(request)
    t = Translator(pages.pick_language(request))
    park_rec = pages._park_of(store, scope, park)
    if park_rec is None or scope.role == "partner":
        return pages.error_page(request, 404, t("error.no_park"), scope)
    try:
        rows = records.list_footprints(store, scope, park_rec["code"])
        view = exchange.overview(store, scope, park_rec["code"], rows)
    except ParkzeroError as exc:
        return pages.error_page(request, exc.status, exc.detail, scope)
    names = {
        r[0]: t.name({"name": r[1], "name_zh": r[2]})
        for r in store.db.fetchall("SELECT id, name, name_zh FROM enterprises WHERE park_id = ?", (park_rec["id"],))
    }
    own = [r for r in rows if r["origin"] != "supplier"]
    received = [r for r in rows if r["origin"] == "supplier"]
    shares = [r["primary_data_share_pct"] for r in own if r["primary_data_share_pct"] is not None]
    kpis = {
        "published": sum(r["status"] == "published" for r in own),
        "in_review": sum(r["status"] in ("submitted", "verified") for r in own),
        "primary_share_pct": sum(shares) / len(shares) if shares else None,
        "suppliers": len(view["suppliers"]),
        "waiting": len(view["requests"]),
    }
    return pages.render(
        request,
        "footprints.html",
        scope=scope,
        nav=pages._nav(store, scope, park_rec),
        active="footprints",
        park=park_rec,
        own=own,
        received=received,
        view=view,
        kpis=kpis,
        names=names,
    )
