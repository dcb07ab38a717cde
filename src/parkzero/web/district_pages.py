"""The district page: the parks the caller may see side by side, for a regulator, with the report to download.

Figures come from `parkzero.pathway.district.district` (closed park-level inventories only, never a tenant's data)
through `parkzero.reports.district.comparison_row`, so the page has the report's columns. A district regulator
(no park) sees every park, a park's regulator, operator or verifier its own; a tenant or partner gets the 403 page.

- ``/district?regime=&lang=``: the table, and links to ``/api/v1/district/report?format=pdf|xlsx&lang=`` (the API).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from parkzero.errors import ParkzeroError
from parkzero.pathway import district
from parkzero.reports.district import POLLUTANTS, comparison_row, recognition_name
from parkzero.web import pages
from parkzero.web.pages import Translator

router = APIRouter(include_in_schema=False)
DEFAULT_REGIME = "ghg-protocol"
REPORT_URL = "/api/v1/district/report"


def _regime(wanted: str | None) -> str:
    """`wanted` if it is a known regime, else the default."""
    from parkzero.accounting.rules import regimes

    return wanted if wanted and wanted in regimes() else DEFAULT_REGIME


def report_links(lang: str, regime: str) -> dict[str, str]:
    """format -> URL of the district report in `lang` (the regime only when it is not the default)."""
    extra = {} if regime == DEFAULT_REGIME else {"regime": regime}
    return {f: f"{REPORT_URL}?{urlencode({'format': f, 'lang': lang, **extra})}" for f in ("pdf", "xlsx")}


@router.get("/district", response_class=HTMLResponse)
def district_page(request: Request, regime: str | None = None) -> Response:
    scope = pages.session_scope(request)
    if scope is None:
        return pages._to_login(request)
    store = pages._store(request)
    t = Translator(pages.pick_language(request))
    if scope.is_tenant or scope.role == "partner":  # the district view is parks' aggregates, not a tenant's
        return pages.error_page(request, 403, t("district.forbidden"), scope)
    regime = _regime(regime)
    try:
        summaries = [s.as_dict() for s in district.district(store, scope, regime=regime)]
    except ParkzeroError as exc:
        return pages.error_page(request, exc.status, exc.detail, scope)
    rows = [comparison_row(s) for s in summaries]
    return pages.render(
        request,
        "district.html",
        scope=scope,
        nav=pages._nav(store, scope, None),
        active="district",
        regime=regime,
        rows=rows,
        pollutants=POLLUTANTS,
        unverified=any(r["threshold_verified"] is False for r in rows),
        recognition=lambda kind: recognition_name(kind, t.lang),
        links=report_links(t.lang, regime),
    )
