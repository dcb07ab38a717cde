"""Energy pages for the park operator: the dashboard of a day, the sizing study and the resilience report.

Every figure comes from `parkzero.energy.study` (the same functions as the API); the pages only shape them into
tables and chart data. Others get the 403 page: these studies show the grid, storage and tenants' loads.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from parkzero.energy import flows, sizing, study
from parkzero.errors import ParkzeroError
from parkzero.web import pages as web

router = APIRouter(include_in_schema=False)
HISTORY_DAYS = 28


def _context(request: Request, park: str | None):
    """(scope, store, translator, park record) or the response to send instead (login, 404, 403)."""
    scope = web.session_scope(request)
    if scope is None:
        return web._to_login(request)
    store = web._store(request)
    t = web.Translator(web.pick_language(request))
    park_rec = web._park_of(store, scope, park)
    if park_rec is None:
        return web.error_page(request, 404, t("error.no_park"), scope)
    if not (scope.is_system or scope.role == "operator"):
        return web.error_page(request, 403, t("energy.operator_only"), scope)
    return scope, store, t, park_rec


def _series(labels: list[str], unit: str, series: list[dict], unit2: str | None = None) -> dict:
    return {"labels": labels, "unit": unit, "unit2": unit2, "series": [s for s in series if s["values"] is not None]}


def _render(request: Request, view: str, ctx: tuple, **values: Any) -> HTMLResponse:
    scope, store, _t, park_rec = ctx
    return web.render(
        request,
        "energy.html",
        active="energy",
        view=view,
        nav=web._nav(store, scope, park_rec),
        park=park_rec,
        **values,
    )


@router.get("/energy", response_class=HTMLResponse)
def dashboard_page(request: Request, park: str | None = None) -> Response:
    """The MPC plan of a day against the meters, forecasts against actual, and the week's savings."""
    ctx = _context(request, park)
    if isinstance(ctx, Response):
        return ctx
    scope, store, t, park_rec = ctx
    wanted = request.query_params.get("date")
    result, problem, day = None, None, None
    try:
        day = date.fromisoformat(wanted) if wanted else flows.latest_day(store, scope, park_rec["code"])
        if day is None:
            raise ParkzeroError(t("energy.no_data"))
        rec = study.from_store(
            store, scope, park_rec["code"], day - timedelta(days=HISTORY_DAYS + 6), day + timedelta(days=1)
        )
        result = study.dashboard(rec, day, study.economics(day.year))
    except ValueError:
        problem = t("energy.bad_date", value=wanted or "")
    except ParkzeroError as exc:
        problem = str(exc)
    data = None
    if result:
        d = result["day"]
        data = {
            "energy_import": _series(
                d["time"],
                "kW",
                [
                    {"name": t("energy.plan_import"), "values": d["plan_grid_import_kw"]},
                    {"name": t("energy.actual_import"), "values": d["actual_grid_import_kw"]},
                    {"name": t("energy.price"), "values": d["price_cny_per_kwh"], "axis": 1, "step": True},
                ],
                "CNY/kWh",
            ),
            "energy_soc": _series(
                d["time"],
                "%",
                [
                    {"name": t("energy.plan_soc"), "values": d["plan_soc_pct"]},
                    {"name": t("energy.actual_soc"), "values": d["actual_soc_pct"]},
                ],
            ),
            "energy_pv": _series(
                d["time"],
                "kW",
                [
                    {"name": t("energy.pv_forecast"), "values": d["pv_forecast_kw"]},
                    {"name": t("energy.pv_actual"), "values": d["pv_actual_kw"]},
                ],
            ),
            "energy_load": _series(
                d["time"],
                "kW",
                [
                    {"name": t("energy.load_forecast"), "values": d["load_forecast_kw"]},
                    {"name": t("energy.load_actual"), "values": d["load_actual_kw"]},
                ],
            ),
        }
    return _render(request, "dashboard", ctx, day=day, result=result, problem=problem, data=data)


def _float(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    return None if raw in (None, "") else float(raw)


@router.get("/energy/sizing", response_class=HTMLResponse)
def sizing_page(request: Request, park: str | None = None) -> Response:
    """The sizing study: a form, then PV per surface, the battery, NPV and paybacks, and the trade-off curve."""
    ctx = _context(request, park)
    if isinstance(ctx, Response):
        return ctx
    scope, store, t, park_rec = ctx
    form = dict(request.query_params)
    result, problem, data, points, surfaces = None, None, None, [], []
    latest = flows.latest_day(store, scope, park_rec["code"])
    year = latest.year - (latest.month < 12 or latest.day < 31) if latest else None
    try:
        year = int(form["year"]) if form.get("year") else year
        share = _float(request, "min_renewable_share_pct")
        battery_cost = _float(request, "battery_capex_cny_per_kwh")
        carbon = _float(request, "carbon_price_cny_per_t")
    except ValueError:
        problem = t("energy.bad_number")
    if problem is None and form.get("run") and year:
        try:
            rec = study.from_store(store, scope, park_rec["code"], date(year, 1, 1), date(year + 1, 1, 1))
            econ = study.economics(
                year, carbon_price_cny_per_t=study.DEFAULT_CARBON_PRICE_CNY_PER_T if carbon is None else carbon
            )
            battery = study.DEFAULT_BATTERY_OPTION
            if battery_cost is not None:
                battery = sizing.BatteryOption(**{**battery.__dict__, "capex_cny_per_kwh": battery_cost})
            inp = study.sizing_input(
                rec,
                econ,
                battery=battery,
                min_renewable_share=None if share is None else share / 100,
                max_co2_tco2_per_year=_float(request, "max_co2_tco2_per_year"),
                budget_cny=_float(request, "budget_cny"),
            )
            result = sizing.size_system(inp)
            points = study.tradeoff_points(inp)
            surfaces = inp.surfaces
        except ParkzeroError as exc:
            problem = str(exc)
        except ValueError:
            problem = t("energy.bad_number")
    if result is not None:
        codes = [s.code for s in surfaces]
        data = {
            "sizing_pv": _series(
                codes,
                "kWp",
                [
                    {"name": t("energy.existing_kwp"), "values": [s.existing_kwp for s in surfaces], "type": "bar"},
                    {
                        "name": t("energy.added_kwp"),
                        "values": [round(result.plan.pv_new_kwp[c], 1) for c in codes],
                        "type": "bar",
                    },
                ],
            ),
            "sizing_tradeoff": {
                "points": [[round(p["renewable_share_pct"], 3), round(p["annual_cost_cny"] / 1e6, 3)] for p in points],
                "co2": [[round(p["renewable_share_pct"], 3), round(p["co2_tco2_per_year"], 1)] for p in points],
                "x": t("energy.renewable_share_pct"),
                "y": t("energy.annual_cost_mcny"),
                "y2": "tCO2/a",
                "cost_name": t("energy.annual_cost_mcny"),
                "co2_name": t("energy.co2_t"),
            },
        }
    return _render(
        request,
        "sizing",
        ctx,
        form=form,
        year=year,
        result=result,
        surfaces=surfaces,
        points=points,
        problem=problem,
        data=data,
    )


@router.get("/energy/resilience", response_class=HTMLResponse)
def resilience_page(request: Request, park: str | None = None) -> Response:
    """Survivable hours of the critical load over every hourly outage start of a year, and bad-weather spells."""
    ctx = _context(request, park)
    if isinstance(ctx, Response):
        return ctx
    scope, store, t, park_rec = ctx
    latest = flows.latest_day(store, scope, park_rec["code"])
    report, tiers, generator, problem, data = None, [], None, None, None
    try:
        year = int(request.query_params.get("year") or (latest.year if latest else 0))
    except ValueError:
        year, problem = None, t("energy.bad_number")
    if problem is None and year:
        try:
            end = min(date(year + 1, 1, 1), latest + timedelta(days=1)) if latest else date(year + 1, 1, 1)
            rec = study.from_store(store, scope, park_rec["code"], date(year, 1, 1), end)
            tiers = study.load_tiers(rec)
            generator = study.standby_generator(rec)
            report = study.resilience(rec, tiers=tiers)
        except ParkzeroError as exc:
            problem = str(exc)
    if report is not None:
        hours, prob = report.sweep.survival_curve()
        by_month = report.sweep.probability_by_month()
        data = {
            "resilience_curve": {
                "points": [[round(float(h), 2), round(float(p) * 100, 2)] for h, p in zip(hours, prob, strict=True)],
                "x": t("energy.outage_hours"),
                "y": t("energy.share_surviving_pct"),
                "name": t("energy.survival_curve"),
            },
            "resilience_month": _series(
                [str(m) for m in sorted(by_month)],
                "%",
                [
                    {
                        "name": t("energy.p_survive", hours=f"{report.sweep.duration_h:g}"),
                        "values": [round(by_month[m] * 100, 1) for m in sorted(by_month)],
                        "type": "bar",
                    }
                ],
            ),
        }
    tier_rows = [
        {
            "name": x.name,
            "priority": x.priority,
            "sheddable": x.sheddable,
            "shed_below_soc_pct": x.shed_below_soc_pct,
            "mean_kw": float(np.mean(x.kw)),
        }
        for x in tiers
    ]
    return _render(
        request,
        "resilience",
        ctx,
        year=year,
        report=report,
        tiers=tier_rows,
        generator=generator,
        problem=problem,
        data=data,
    )
