"""Server-rendered dashboard pages (Jinja2) in Chinese and English; charts are drawn by ECharts from /static.

Pages only translate: figures come from `energy.flows`, the registry and the store, always in the caller's
scope. Log-in sets an HttpOnly, SameSite=Lax session cookie holding the same JWT the API issues, so the
pages' own fetch() calls to /api/v1 are authenticated by the cookie too.

- ``/login`` (GET form, POST), ``/logout`` (POST)
- ``/`` park overview: energy-flow Sankey, KPI tiles, consumption by tenant, monthly PV, period comparison
- ``/tenants/{code}``: one tenant's channels, consumption trend and data quality (a tenant sees only its own)
- ``/upload``: a meter file to POST /api/v1/parks/{park}/uploads, with the validation report as a table

Language: ``?lang=zh|en`` (remembered in a cookie), else the cookie, else Accept-Language, else Chinese.
"""

from __future__ import annotations

import json
from calendar import monthrange
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from parkzero import __version__
from parkzero.api.deps import SESSION_COOKIE
from parkzero.api.security import issue_token, read_token
from parkzero.energy import flows
from parkzero.errors import ParkzeroError, Unauthorized
from parkzero.registry import repo, users
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store import quality as quality_store

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "parkzero_lang"
PERIODS = ("month", "30d", "year")

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- i18n ------------------------------------------------------------------------------------------
@cache
def catalogue(lang: str) -> dict[str, str]:
    """UI strings of one language (i18n/<lang>.json); English fills keys a catalogue lacks."""
    base = json.loads((HERE / "i18n" / "en.json").read_text(encoding="utf-8"))
    if lang != "en":
        base.update(json.loads((HERE / "i18n" / f"{lang}.json").read_text(encoding="utf-8")))
    return base


def pick_language(request: Request) -> str:
    """?lang=, then the language cookie, then the first zh/en in Accept-Language, then Chinese."""
    for cand in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if cand in LANGS:
            return cand
    ranked = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANG


class Translator:
    def __init__(self, lang: str):
        self.lang = lang
        self.strings = catalogue(lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.strings.get(key, key)
        return text.format(**values) if values else text

    def kwh(self, value: float | None) -> str:
        """Energy for display: kWh with separators; Chinese readers get 万kWh from 10,000 kWh up."""
        if value is None:
            return "–"
        if self.lang == "zh" and abs(value) >= 10_000:
            return f"{value / 10_000:,.2f} 万kWh"
        if abs(value) >= 100:
            return f"{value:,.0f} kWh"
        return f"{value:,.1f} kWh"

    def number(self, value: float | None, digits: int = 0) -> str:
        return "–" if value is None else f"{value:,.{digits}f}"

    def pct(self, value: float | None) -> str:
        return "–" if value is None else f"{value:.1f} %"

    def change(self, value: float | None) -> str:
        return "–" if value is None else f"{value:+.1f} %"

    def month(self, d: date) -> str:
        return f"{d.year}年{d.month}月" if self.lang == "zh" else d.strftime("%b %Y")

    def day(self, d: date) -> str:
        return f"{d.month}月{d.day}日" if self.lang == "zh" else d.strftime("%d %b")

    def period(self, start: date, end: date) -> str:
        """'2025年3月' / 'Mar 2025' for a calendar month, '2025' for a year, else first – last day."""
        if start.day == 1 and end == (start + timedelta(days=31)).replace(day=1):
            return self.month(start)
        if (start.month, start.day) == (1, 1) and end == date(start.year + 1, 1, 1):
            return f"{start.year}年" if self.lang == "zh" else str(start.year)
        return f"{start.isoformat()} – {(end - timedelta(days=1)).isoformat()}"

    def name(self, record: dict) -> str:
        """A registry record's name in the reader's language (name_zh when there is one)."""
        if self.lang == "zh" and record.get("name_zh"):
            return str(record["name_zh"])
        return str(record.get("name") or record.get("code") or "")


# -- rendering -------------------------------------------------------------------------------------
def _lang_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = pick_language(request)
    t = Translator(lang)
    html = _env.get_template(template).render(
        request=request,
        t=t,
        lang=lang,
        langs=LANGS,
        lang_url=lambda code: _lang_url(request, code),
        version=__version__,
        static=lambda name: f"/static/{name}?v={__version__}",
        page_json=lambda data: Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/")),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def error_page(request: Request, status: int, message: str, scope: Scope | None = None) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message, scope=scope)


def _store(request: Request) -> Store:
    return request.app.state.store


def session_scope(request: Request) -> Scope | None:
    """The logged-in user's scope, or None (not logged in, token expired or forged, user disabled).

    As in the API, an `Authorization: Bearer` header comes before the session cookie.
    """
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" and bearer.strip() else request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return users.scope_of(_store(request), read_token(token, request.app.state.settings.signing_key))
    except Unauthorized:
        return None


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _safe_next(target: str | None) -> str:
    """Only local paths after log-in (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _own_enterprise_code(store: Store, scope: Scope) -> str | None:
    if not scope.is_tenant or scope.enterprise_id is None:
        return None
    row = store.db.fetchone("SELECT code FROM enterprises WHERE id = ?", (scope.enterprise_id,))
    return None if row is None else str(row[0])


def _park_of(store: Store, scope: Scope, wanted: str | None) -> dict | None:
    parks = repo.list_parks(store, scope)
    for park in parks:
        if park["code"] == wanted:
            return park
    return parks[0] if parks and not wanted else None


def _nav(store: Store, scope: Scope, park: dict | None) -> dict:
    return {
        "user": scope.actor,
        "role": scope.role,
        "park": park,
        "parks": repo.list_parks(store, scope),
        "own_tenant": _own_enterprise_code(store, scope),
        "park_level": flows.sees_park_flows(scope),
    }


# -- periods ---------------------------------------------------------------------------------------
def resolve_period(period: str, latest: date) -> tuple[date, date]:
    """Local days [start, end) of `period` anchored on the latest day with data.

    month: the calendar month of `latest`; 30d: the 30 days up to and including `latest`;
    year: the calendar year of `latest`.
    """
    if period == "30d":
        return latest - timedelta(days=29), latest + timedelta(days=1)
    if period == "year":
        return date(latest.year, 1, 1), date(latest.year + 1, 1, 1)
    first = latest.replace(day=1)
    return first, first + timedelta(days=monthrange(first.year, first.month)[1])


def _anchor(request: Request, latest: date | None, tz: ZoneInfo) -> date:
    raw = request.query_params.get("anchor")
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    return latest or datetime.now(tz).date()


def _window(
    request: Request, store: Store, scope: Scope, code: str, tz: ZoneInfo
) -> tuple[date | None, str, date, date]:
    """(latest day with data, period name, start, end) of the page's period [start, end) in local days."""
    latest = flows.latest_day(store, scope, code)
    period = _period(request)
    start, end = resolve_period(period, _anchor(request, latest, tz))
    return latest, period, start, end


def _period(request: Request) -> str:
    period = request.query_params.get("period", "month")
    return period if period in PERIODS else "month"


# -- log-in ----------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next), error=None, username="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    store, settings = _store(request), request.app.state.settings
    try:
        scope = users.authenticate(store, username, password)
    except Unauthorized:
        return render(request, "login.html", status=401, next=_safe_next(next), error="login.failed", username=username)
    token = issue_token(scope.actor, settings.signing_key, settings.token_minutes)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- overview --------------------------------------------------------------------------------------
def _node_label(name: str, t: Translator, tenant_names: dict[str, str]) -> str:
    if name.startswith("tenant:"):
        code = name.split(":", 1)[1]
        return tenant_names.get(code, code)
    return t(f"flow.{name}")


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, park: str | None = None) -> Response:
    scope = session_scope(request)
    if scope is None:
        return _to_login(request)
    store = _store(request)
    own = _own_enterprise_code(store, scope)
    if own is not None:
        query = urlencode({k: v for k, v in request.query_params.items() if k in ("lang", "period", "park")})
        return RedirectResponse(f"/tenants/{own}" + (f"?{query}" if query else ""), status_code=303)
    park_rec = _park_of(store, scope, park)
    if park_rec is None:
        return error_page(request, 404, Translator(pick_language(request))("error.no_park"), scope)
    t = Translator(pick_language(request))
    code = park_rec["code"]
    tz = ZoneInfo(park_rec["timezone"])
    latest, period, start, end = _window(request, store, scope, code, tz)
    comparison = flows.compare_periods(store, scope, code, start, end)
    balance = comparison.current
    enterprises = repo.list_entities(store, scope, "enterprises", code)
    tenant_names = {e["code"]: t.name(e) for e in enterprises}
    tenant_names[flows.UNASSIGNED] = t("flow.other")
    sankey = balance.sankey()
    for node in sankey["nodes"]:
        node["label"] = _node_label(node["name"], t, tenant_names)
    tenants = sorted(balance.tenants_kwh.items(), key=lambda kv: -kv[1])
    monthly = flows.monthly_pv_production(store, scope, code, end)
    kpis = [
        ("self_sufficiency_pct", balance.self_sufficiency_pct, t.pct(balance.self_sufficiency_pct)),
        ("self_consumption_pct", balance.self_consumption_pct, t.pct(balance.self_consumption_pct)),
        ("pv_generation_kwh", balance.pv_generation_kwh, t.kwh(balance.pv_generation_kwh)),
        ("consumption_kwh", balance.consumption_kwh, t.kwh(balance.consumption_kwh)),
        ("grid_import_kwh", balance.grid_import_kwh, t.kwh(balance.grid_import_kwh)),
        ("grid_export_kwh", balance.grid_export_kwh, t.kwh(balance.grid_export_kwh)),
    ]
    previous = {k: getattr(comparison.previous, k) for k, _v, _s in kpis}
    data = {
        "sankey": sankey,
        "tenants": {
            "labels": [tenant_names.get(c, c) for c, _ in tenants],
            "values": [round(v, 3) for _, v in tenants],
        },
        "pv_monthly": {"labels": [t.month(m) for m, _ in monthly], "values": [v for _, v in monthly]},
        "comparison": {
            "labels": [t(f"kpi.{r['figure']}") for r in comparison.rows() if r["figure"].endswith("_kwh")],
            "current": [r["current"] for r in comparison.rows() if r["figure"].endswith("_kwh")],
            "previous": [r["previous"] for r in comparison.rows() if r["figure"].endswith("_kwh")],
            "current_name": t.period(comparison.current.start, comparison.current.end),
            "previous_name": t.period(comparison.previous.start, comparison.previous.end),
        },
        "i18n": {"kwh": "kWh"},
    }
    return render(
        request,
        "overview.html",
        scope=scope,
        nav=_nav(store, scope, park_rec),
        active="overview",
        park=park_rec,
        period=period,
        periods=PERIODS,
        start=balance.start,
        end=balance.end,
        latest=latest,
        balance=balance,
        comparison=comparison,
        kpis=kpis,
        previous=previous,
        tenants=[(c, tenant_names.get(c, c), v) for c, v in tenants],
        data=data,
    )


# -- tenant ----------------------------------------------------------------------------------------
@router.get("/tenants/{tenant}", response_class=HTMLResponse)
def tenant_page(request: Request, tenant: str, park: str | None = None) -> Response:
    scope = session_scope(request)
    if scope is None:
        return _to_login(request)
    store = _store(request)
    t = Translator(pick_language(request))
    park_rec = _park_of(store, scope, park)
    if park_rec is None:
        return error_page(request, 404, t("error.no_park"), scope)
    code = park_rec["code"]
    visible = {e["code"]: e for e in repo.list_entities(store, scope, "enterprises", code)}
    enterprise = visible.get(tenant)
    if enterprise is None:  # another tenant's page looks the same as one that does not exist
        return error_page(request, 404, t("error.no_tenant", code=tenant), scope)
    tz = ZoneInfo(park_rec["timezone"])
    channels = [c for c in repo.list_entities(store, scope, "channels", code) if c.get("enterprise") == tenant]
    latest, period, start, end = _window(request, store, scope, code, tz)
    trend = flows.daily_consumption(store, scope, code, tenant, start, end)
    total = sum(v for _, v in trend if v is not None)
    p0, p1 = flows.previous_period(start, end)
    previous_total = sum(v for _, v in flows.daily_consumption(store, scope, code, tenant, p0, p1) if v is not None)
    t0 = datetime.combine(start, datetime.min.time(), tz)
    # completeness up to the latest data, not into days that have not happened (or been sent) yet
    q_end = min(end, latest + timedelta(days=1)) if latest is not None and latest >= start else end
    t1 = datetime.combine(q_end, datetime.min.time(), tz)
    quality = (
        quality_store.quality_report(store, scope, code, t0, t1, [c["code"] for c in channels]) if channels else []
    )
    data = {
        "trend": {"labels": [t.day(d) for d, _ in trend], "values": [v for _, v in trend], "name": t("tenant.daily")},
    }
    return render(
        request,
        "tenant.html",
        scope=scope,
        nav=_nav(store, scope, park_rec),
        active="tenant",
        park=park_rec,
        enterprise=enterprise,
        channels=channels,
        period=period,
        periods=PERIODS,
        start=start,
        end=end,
        total=total,
        previous_total=previous_total,
        change=flows.change_pct(total, previous_total),
        quality=quality,
        data=data,
    )


# -- upload ----------------------------------------------------------------------------------------
@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, park: str | None = None) -> Response:
    scope = session_scope(request)
    if scope is None:
        return _to_login(request)
    store = _store(request)
    t = Translator(pick_language(request))
    park_rec = _park_of(store, scope, park)
    if park_rec is None:
        return error_page(request, 404, t("error.no_park"), scope)
    try:
        from parkzero.ingest.mapping import list_mappings

        mappings = [m["name"] for m in list_mappings(store, scope, park_rec["code"])]
    except (ImportError, ParkzeroError):
        mappings = []
    keys = [k for k in catalogue("en") if k.startswith("upload.")]
    return render(
        request,
        "upload.html",
        scope=scope,
        nav=_nav(store, scope, park_rec),
        active="upload",
        park=park_rec,
        mappings=mappings,
        can_write=scope.role in ("operator", "enterprise") or scope.is_system,
        data={"park": park_rec["code"], "i18n": {k: t(k) for k in keys}},
    )


# -- carbon ----------------------------------------------------------------------------------------
@router.get("/carbon", response_class=HTMLResponse)
def carbon_page(
    request: Request,
    park: str | None = None,
    enterprise: str | None = None,
    year: int | None = None,
    regime: str = "ghg-protocol",
) -> Response:
    """Inventory on the fly (park or one tenant) with dual Scope 2, monthly trend and the stored inventories."""
    from parkzero.accounting import engine, inventory
    from parkzero.accounting.rules import regimes

    scope = session_scope(request)
    if scope is None:
        return _to_login(request)
    store = _store(request)
    t = Translator(pick_language(request))
    park_rec = _park_of(store, scope, park)
    if park_rec is None:
        return error_page(request, 404, t("error.no_park"), scope)
    code = park_rec["code"]
    own = _own_enterprise_code(store, scope)
    subject = own or enterprise
    known = regimes()
    if regime not in known:
        regime = "ghg-protocol"
    latest = flows.latest_day(store, scope, code)
    year = year or (latest.year if latest else datetime.now(ZoneInfo(park_rec["timezone"])).year)
    stored = inventory.list_inventories(store, scope, code)
    result, problem = None, None
    if scope.role in ("operator", "enterprise", "system", "verifier"):
        try:
            result = engine.compute(store, scope, code, year, regime, subject).as_dict()
        except ParkzeroError as exc:
            problem = str(exc)
    data = None
    if result:
        by_scope: dict[str, list[float]] = {}
        for ln in result["lines"]:
            if ln["month"] == 0:
                continue
            key = f"scope{ln['scope']}" if ln["scope"] != 2 else f"scope2_{ln['scope2_method']}"
            by_scope.setdefault(key, [0.0] * 12)[ln["month"] - 1] += ln["tco2e"]
        data = {
            "carbon_monthly": {
                "labels": [t.month(date(year, m, 1)) for m in range(1, 13)],
                "series": [
                    {"name": t(f"carbon.{k}"), "values": [round(v, 3) for v in by_scope[k]]} for k in sorted(by_scope)
                ],
                "unit": "tCO2e",
            }
        }
    building_rows, dc = _building_and_dc(store, scope, code, subject, year, regime)
    return render(
        request,
        "carbon.html",
        building_rows=building_rows,
        dc=dc,
        active="carbon",
        nav=_nav(store, scope, park_rec),
        park=park_rec,
        subject=subject,
        year=year,
        regime=regime,
        regimes=known,
        result=result,
        problem=problem,
        stored=stored,
        data=data,
    )


def _building_and_dc(store: Store, scope: Scope, park: str, subject: str | None, year: int, regime: str):
    """GB/T 51366 rows per building (park view) and a data centre's PUE/CUE/WUE with thresholds (its own view)."""
    from parkzero.accounting import buildings

    try:
        factors = buildings.regime_carrier_factors(store, scope, park, year, regime)
    except ParkzeroError:
        return [], None
    rows: list[dict] = []
    if subject is None and scope.role in ("operator", "system"):
        for b in repo.list_entities(store, scope, "buildings", park):
            try:
                by = buildings.building_year(
                    store, scope, park, b["code"], year, factors["electricity"], factors["other"]
                )
                rows.append(
                    {
                        "building": b,
                        "tco2": by.emissions.tco2_per_yr,
                        "per_m2": by.emissions.kgco2_per_m2_yr,
                        "area": by.emissions.floor_area_m2,
                    }
                )
            except ParkzeroError as exc:
                rows.append({"building": b, "problem": exc.detail})
    dc = None
    if subject is not None:
        has_it = store.db.fetchone(
            "SELECT 1 FROM channels c JOIN enterprises e ON e.id = c.enterprise_id JOIN parks p ON p.id = e.park_id"
            " WHERE p.code = ? AND e.code = ? AND c.purpose = 'it_load'",
            (park, subject),
        )
        if has_it:
            try:
                year_dc = buildings.datacentre_year(store, scope, park, subject, year, factors["electricity"])
                checks = buildings.dc_threshold_checks(year_dc.metrics, buildings.load_dc_thresholds(), False)
                dc = {"metrics": year_dc.metrics, "checks": checks}
            except ParkzeroError as exc:
                dc = {"problem": exc.detail}
    return rows, dc


def mount(app: FastAPI) -> None:
    """Serve the pages at / and the static files (ECharts, CSS, JS) at /static."""
    from parkzero.web import district_pages, energy_pages, footprint_pages

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    app.include_router(energy_pages.router)
    app.include_router(footprint_pages.router)
    app.include_router(district_pages.router)
