"""Energy pages for the park operator: the dashboard of a day, the sizing study and the resilience report.

Every figure comes from `parkzero.energy.study` (the same functions as the API); the pages only shape them into
tables and chart data. Others get the 403 page: these studies show the grid, storage and tenants' loads
(`study.from_store` refuses anyone but the operator or the system, so the nav link is the operator's too).

- ``/energy?park=&date=``: the MPC plan of a day against the meters (grid import with the TOU price, battery
  SOC), PV and load forecasts against actual, and the week's savings of MPC against no control and the rule;
- ``/energy/sizing?park=&year=&run=1&...``: PV per surface and a battery for the least lifecycle cost over the
  year's metered load, with NPV and paybacks against business as usual; the cost and CO2 against renewable
  share trade-off on 12 representative weeks;
- ``/energy/resilience?park=&year=``: survivable hours of the critical load over every hourly outage start of
  the year, the survival curve, the probability by month, the worst bad-weather spell and the load tiers.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from parkzero.energy import flows, sizing, study
from parkzero.energy import tariff as tariffs
from parkzero.errors import ParkzeroError
from parkzero.web import pages as web

router = APIRouter(include_in_schema=False)
HISTORY_DAYS = 28  # days before the dashboard's week that train the forecasts (as the API)
SAVINGS_DAYS = 7
YEARS = (2000, 2100)  # a year outside is a typing error, not a study
PERIOD_COLOURS = {  # TOU bands behind the grid-import chart
    "sharp": "rgba(229, 62, 62, 0.14)",
    "peak": "rgba(237, 137, 54, 0.12)",
    "flat": "rgba(160, 174, 192, 0.06)",
    "valley": "rgba(49, 130, 206, 0.10)",
    "deep_valley": "rgba(44, 122, 123, 0.16)",
}


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


def _series(labels: list[str], unit: str, series: list[dict], unit2: str | None = None, **extra: Any) -> dict:
    """Chart data of the `series` builder (static/parkzero.js); series without values are left out."""
    return {
        "labels": labels,
        "unit": unit,
        "unit2": unit2,
        "series": [s for s in series if s["values"] is not None],
        **extra,
    }


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


def _year(raw: str | None, t: web.Translator) -> tuple[int | None, str | None]:
    """(year, None) or (None, the message saying why `raw` is not a study year)."""
    try:
        year = int(raw or "")
    except ValueError:
        return None, t("energy.bad_year", value=raw or "")
    if not YEARS[0] <= year <= YEARS[1]:
        return None, t("energy.bad_year", value=raw)
    return year, None


def _no_readings(year: int, latest: date | None, t: web.Translator) -> str | None:
    """The message for a year after the park's latest readings (or a park without any), else None."""
    if latest is None:
        return t("energy.no_data")
    if year > latest.year:
        return t("energy.no_year", year=year, latest=latest.isoformat())
    return None


# -- dashboard -------------------------------------------------------------------------------------
def tou_bands(times: list[str], periods: list[str], t: web.Translator) -> list[dict]:
    """Runs of one TOU period over a day's steps as chart bands: {period, name, from, to} on the time labels.

    A band runs from its first step's label to the next band's first label (the day's last label for the last
    band), so that the bands tile the day on a category axis.
    """
    bands: list[dict] = []
    for i, period in enumerate(periods):
        if bands and bands[-1]["period"] == period:
            continue
        if bands:
            bands[-1]["to"] = times[i]
        bands.append({"period": period, "name": t(f"energy.period_{period}"), "from": times[i], "to": times[-1]})
    for band in bands:
        band["colour"] = PERIOD_COLOURS.get(band["period"], PERIOD_COLOURS["flat"])
    return bands


def dashboard_data(result: dict, t: web.Translator) -> dict:
    """Chart data of `study.dashboard`'s day: grid import with price and TOU bands, SOC, PV and load."""
    d = result["day"]
    return {
        "energy_import": _series(
            d["time"],
            "kW",
            [
                {"name": t("energy.plan_import"), "values": d["plan_grid_import_kw"]},
                {"name": t("energy.actual_import"), "values": d["actual_grid_import_kw"]},
                {"name": t("energy.price"), "values": d["price_cny_per_kwh"], "axis": 1, "step": True},
            ],
            "CNY/kWh",
            bands=tou_bands(d["time"], d["period"], t),
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


@router.get("/energy", response_class=HTMLResponse)
def dashboard_page(request: Request, park: str | None = None) -> Response:
    """The MPC plan of a day against the meters, forecasts against actual, and the week's savings."""
    ctx = _context(request, park)
    if isinstance(ctx, Response):
        return ctx
    scope, store, t, park_rec = ctx
    wanted = request.query_params.get("date")
    result, problem, day, tariff_name = None, None, None, None
    try:
        day = date.fromisoformat(wanted) if wanted else flows.latest_day(store, scope, park_rec["code"])
    except ValueError:
        problem = t("energy.bad_date", value=wanted or "")
    if problem is None and day is None:
        problem = t("energy.no_data")
    if problem is None and day is not None:
        try:
            rec = study.from_store(
                store,
                scope,
                park_rec["code"],
                day - timedelta(days=HISTORY_DAYS + SAVINGS_DAYS - 1),
                day + timedelta(days=1),
            )
            result = study.dashboard(rec, day, study.economics(day.year), savings_days=SAVINGS_DAYS)
            tariff = tariffs.get_tariff(result["tariff"])
            tariff_name = t.name({"name": tariff.name, "name_zh": tariff.name_zh, "code": tariff.code})
        except ParkzeroError as exc:
            problem = str(exc)
        except (ValueError, OverflowError):  # a date at the calendar's edge (0001-01-01)
            problem = t("energy.bad_date", value=wanted or "")
    return _render(
        request,
        "dashboard",
        ctx,
        day=day,
        result=result,
        tariff_name=tariff_name,
        problem=problem,
        history_days=HISTORY_DAYS,
        data=dashboard_data(result, t) if result else None,
    )


# -- sizing ----------------------------------------------------------------------------------------
SIZING_FIELDS = (  # query parameter -> number read from the form
    "min_renewable_share_pct",
    "max_co2_tco2_per_year",
    "budget_cny",
    "battery_capex_cny_per_kwh",
    "carbon_price_cny_per_t",
)


def _numbers(request: Request, t: web.Translator) -> tuple[dict[str, float | None], str | None]:
    """The form's numbers (None where empty) or the message naming the first that is not a number >= 0."""
    out: dict[str, float | None] = {}
    for name in SIZING_FIELDS:
        raw = (request.query_params.get(name) or "").strip()
        if not raw:
            out[name] = None
            continue
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value) or value < 0 or (name == "min_renewable_share_pct" and value > 100):
            return out, t("energy.bad_number_named", field=t(f"energy.{name}"), value=raw)
        out[name] = value
    return out, None


def sizing_data(result: sizing.SizingResult, surfaces: list[sizing.Surface], points: list[dict], t) -> dict:
    """Chart data of a sizing: PV per surface (existing vs added) and the trade-off points of
    `study.tradeoff_points` (renewable share on x, annual cost and CO2 on two y axes)."""
    codes = [s.code for s in surfaces]
    return {
        "sizing_pv": _series(
            codes,
            "kWp",
            [
                {"name": t("energy.existing_kwp"), "values": [s.existing_kwp for s in surfaces], "type": "bar"},
                {
                    "name": t("energy.added_kwp"),
                    "values": [round(result.plan.pv_new_kwp.get(c, 0.0), 1) for c in codes],
                    "type": "bar",
                },
            ],
        ),
        "sizing_tradeoff": {
            "points": [[round(p["renewable_share_pct"], 3), round(p["annual_cost_cny"] / 1e6, 3)] for p in points],
            "co2": [[round(p["renewable_share_pct"], 3), round(p["co2_tco2_per_year"], 1)] for p in points],
            "x": t("energy.renewable_share_pct"),
            "y": t("energy.annual_cost_mcny"),
            "y2": t("energy.co2_t_per_year"),
            "cost_name": t("energy.annual_cost_mcny"),
            "co2_name": t("energy.co2_t_per_year"),
        },
    }


def surface_rows(result: sizing.SizingResult, surfaces: list[sizing.Surface]) -> list[dict]:
    """One row per surface: kind, usable area [m²], existing, added and total PV [kWp]."""
    return [
        {
            "code": s.code,
            "kind": s.kind,
            "area_m2": s.area_m2,
            "existing_kwp": s.existing_kwp,
            "added_kwp": result.plan.pv_new_kwp.get(s.code, 0.0),
            "total_kwp": result.plan.pv_kwp.get(s.code, s.existing_kwp),
        }
        for s in surfaces
    ]


@router.get("/energy/sizing", response_class=HTMLResponse)
def sizing_page(request: Request, park: str | None = None) -> Response:
    """The sizing study: a form, then PV per surface, the battery, NPV and paybacks, and the trade-off curve.

    The year's sizing (about 10 s) and the trade-off (6 sizings on 12 representative weeks, a few seconds)
    run on the server when the form is sent (``run=1``); the page without ``run`` is only the form.
    """
    ctx = _context(request, park)
    if isinstance(ctx, Response):
        return ctx
    scope, store, t, park_rec = ctx
    form = dict(request.query_params)
    result, problem, points, surfaces = None, None, [], []
    latest = flows.latest_day(store, scope, park_rec["code"])
    # the last whole calendar year with readings
    year: int | None = latest.year - (latest.month < 12 or latest.day < 31) if latest else None
    if form.get("year"):
        year, problem = _year(form["year"], t)
    numbers, bad = _numbers(request, t)
    problem = problem or bad
    if problem is None and form.get("run"):
        problem = t("energy.no_data") if year is None else _no_readings(year, latest, t)
        if problem is None and year is not None:
            try:
                rec = study.from_store(store, scope, park_rec["code"], date(year, 1, 1), date(year + 1, 1, 1))
                carbon = numbers["carbon_price_cny_per_t"]
                econ = study.economics(
                    year, carbon_price_cny_per_t=study.DEFAULT_CARBON_PRICE_CNY_PER_T if carbon is None else carbon
                )
                battery = study.DEFAULT_BATTERY_OPTION
                if numbers["battery_capex_cny_per_kwh"] is not None:
                    battery = sizing.BatteryOption(
                        **{**battery.__dict__, "capex_cny_per_kwh": numbers["battery_capex_cny_per_kwh"]}
                    )
                share = numbers["min_renewable_share_pct"]
                inp = study.sizing_input(
                    rec,
                    econ,
                    battery=battery,
                    min_renewable_share=None if share is None else share / 100,
                    max_co2_tco2_per_year=numbers["max_co2_tco2_per_year"],
                    budget_cny=numbers["budget_cny"],
                )
                result = sizing.size_system(inp)
                points = study.tradeoff_points(inp)
                surfaces = list(inp.surfaces)
            except ParkzeroError as exc:
                problem = str(exc)
    return _render(
        request,
        "sizing",
        ctx,
        form=form,
        year=year,
        result=result,
        surfaces=surface_rows(result, surfaces) if result is not None else [],
        points=points,
        problem=problem,
        data=sizing_data(result, surfaces, points, t) if result is not None else None,
    )


# -- resilience ------------------------------------------------------------------------------------
def _month_label(month: int, t: web.Translator) -> str:
    return f"{month}月" if t.lang == "zh" else calendar.month_abbr[month]


def resilience_data(report, t: web.Translator) -> dict:
    """Chart data of a `ResilienceReport`: the survival curve [h, %] and the probability by month [%]."""
    hours, prob = report.sweep.survival_curve()
    by_month = report.sweep.probability_by_month()
    return {
        "resilience_curve": {
            "points": [[round(float(h), 2), round(float(p) * 100, 2)] for h, p in zip(hours, prob, strict=True)],
            "x": t("energy.outage_hours"),
            "y": t("energy.share_surviving_pct"),
            "name": t("energy.survival_curve_short"),
        },
        "resilience_month": _series(
            [_month_label(m, t) for m in sorted(by_month)],
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


@router.get("/energy/resilience", response_class=HTMLResponse)
def resilience_page(request: Request, park: str | None = None) -> Response:
    """Survivable hours of the critical load over every hourly outage start of a year, and bad-weather spells."""
    ctx = _context(request, park)
    if isinstance(ctx, Response):
        return ctx
    scope, store, t, park_rec = ctx
    latest = flows.latest_day(store, scope, park_rec["code"])
    report, tiers, generator, problem = None, [], None, None
    year: int | None = latest.year if latest else None
    if request.query_params.get("year"):
        year, problem = _year(request.query_params["year"], t)
    if problem is None:
        problem = t("energy.no_data") if year is None else _no_readings(year, latest, t)
    if problem is None and year is not None and latest is not None:
        try:
            rec = study.from_store(
                store, scope, park_rec["code"], date(year, 1, 1), min(date(year + 1, 1, 1), latest + timedelta(days=1))
            )
            tiers = study.load_tiers(rec)
            generator = study.standby_generator(rec)
            report = study.resilience(rec, tiers=tiers, generator=generator)
        except ParkzeroError as exc:
            problem = str(exc)
    tier_rows = [
        {
            "name": x.name,
            "priority": x.priority,
            "sheddable": x.sheddable,
            "shed_below_soc_pct": x.shed_below_soc_pct,
            "mean_kw": float(np.mean(x.kw)),
            "peak_kw": float(np.max(x.kw)),
        }
        for x in tiers
    ]
    spells, worst_start = [], None
    if report is not None:
        worst = report.sweep.worst_start
        worst_start = worst.strftime("%Y-%m-%d %H:%M") if hasattr(worst, "strftime") else str(worst)
        if report.bad_weather is not None:
            spells = [s for s in (report.bad_weather.worst, report.bad_weather.scaled) if s is not None]
    return _render(
        request,
        "resilience",
        ctx,
        year=year,
        report=report,
        spells=spells,
        worst_start=worst_start,
        tiers=tier_rows,
        generator=generator,
        problem=problem,
        data=resilience_data(report, t) if report is not None else None,
    )
