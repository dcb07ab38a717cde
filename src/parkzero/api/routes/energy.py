"""Energy routes: tariffs and the itemised bill; a park's dashboard, replay, sizing and resilience studies; IPMVP
savings of a meter.

Park studies show the grid, PV, storage and (in the outage tiers) tenants' loads: only the park's operator runs
them (403 for tenants, partners, verifiers and regulators). Savings run on meters the caller may see (a tenant on its own). The bill is computed on posted readings
and stores nothing. Every figure comes from `parkzero.energy.study` and the modules it calls, with its unit in
its name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NaiveDatetime

from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.energy import simulate, sizing, study
from parkzero.energy import tariff as tariffs
from parkzero.energy.flows import latest_day
from parkzero.errors import Forbidden, Issue, ValidationFailed
from parkzero.registry import repo

router = APIRouter(tags=["energy"])
MAX_REPLAY_DAYS = 92
HISTORY_DAYS = 28  # days before a replay or a dashboard's week that train the forecasts
FlatPrice = float | dict[str, float]
PARK_TZ = "Asia/Shanghai"  # naive times in a posted bill are read in the tariff's zone


class Envelope(BaseModel):
    data: list[dict[str, Any]]
    count: int


class EconomicsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tariff: str = Field(study.DEFAULT_TARIFF, description="Tariff code (GET /energy/tariffs)")
    flat_price_cny_per_kwh: FlatPrice = Field(
        study.DEFAULT_FLAT_PRICE_CNY_PER_KWH,
        description="The month's flat price [CNY/kWh]: one number, or by month ('7') or 'YYYY-MM'",
    )
    carbon_price_cny_per_t: float = Field(study.DEFAULT_CARBON_PRICE_CNY_PER_T, ge=0)

    def economics(self, year: int) -> simulate.Economics:
        return study.economics(
            year,
            tariff_code=self.tariff,
            flat_price_cny_per_kwh=self.flat_price_cny_per_kwh,
            carbon_price_cny_per_t=self.carbon_price_cny_per_t,
        )


def _operator(store, scope, park: str) -> None:
    """404 for a park the caller cannot see, 403 for a caller who may not see park-level flows."""
    repo.get_park(store, scope, park)
    if not (scope.is_system or scope.role == "operator"):
        raise Forbidden(
            "park energy studies are the park operator's: they show the grid, PV, storage and tenants' loads"
        )


# -- tariffs and bills -----------------------------------------------------------------------------
@router.get("/energy/tariffs", response_model=Envelope, operation_id="list_tariffs")
def list_tariffs(scope: CurrentScope) -> dict:
    """The shipped tariffs with their charges, sources and the items not yet checked against a primary table."""
    rows = [study.tariff_dict(t) for t in tariffs.list_tariffs()]
    return {"data": rows, "count": len(rows)}


@router.get("/energy/tariffs/{code}", operation_id="get_tariff")
def get_tariff(code: str, scope: CurrentScope) -> dict:
    """One tariff with its seasons (periods, hours, multipliers of the flat price), deep valley and sources."""
    return study.tariff_dict(tariffs.get_tariff(code), detail=True)


class Reading(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ts: AwareDatetime | NaiveDatetime = Field(description="Interval start; naive times are Asia/Shanghai")
    import_kwh: float
    export_kwh: float | None = None


class BillIn(EconomicsIn):
    readings: list[Reading] = Field(min_length=1, max_length=35_136 * 2)
    demand_basis: Literal["max_demand", "capacity"] = "max_demand"
    contracted_demand_kw: float | None = Field(None, gt=0)
    transformer_kva: float | None = Field(None, gt=0)


@router.post("/energy/bill", operation_id="bill")
def bill(body: BillIn, scope: CurrentScope) -> dict:
    """The itemised bill of posted 15-minute readings under a tariff (nothing is stored)."""
    issues = []
    for i, r in enumerate(body.readings):
        for name in ("import_kwh", "export_kwh"):
            value = getattr(r, name)
            if value is not None and not value >= 0:
                issues.append(Issue("must be a number >= 0", row=i, column=f"readings[{i}].{name}", value=str(value)))
    if issues:
        raise ValidationFailed(f"{len(issues)} bad reading(s); nothing was billed", issues=issues)
    stamps = pd.DatetimeIndex(
        [
            pd.Timestamp(r.ts).tz_localize(PARK_TZ) if r.ts.tzinfo is None else pd.Timestamp(r.ts).tz_convert(PARK_TZ)
            for r in body.readings
        ]
    )
    imports = pd.Series([r.import_kwh for r in body.readings], index=stamps)
    exports = None
    if any(r.export_kwh is not None for r in body.readings):
        exports = pd.Series([r.export_kwh or 0.0 for r in body.readings], index=stamps)
    result = tariffs.bill(
        imports,
        tariffs.get_tariff(body.tariff),
        body.flat_price_cny_per_kwh,
        export_kwh=exports,
        demand_basis=body.demand_basis,
        contracted_demand_kw=body.contracted_demand_kw,
        transformer_kva=body.transformer_kva,
    )
    return {"tariff": body.tariff, "total_cny": result.total_cny, "items": result.as_rows()}


# -- park studies ----------------------------------------------------------------------------------
@router.get("/parks/{park}/energy/dashboard", operation_id="energy_dashboard")
def dashboard(
    park: str,
    store: StoreDep,
    scope: CurrentScope,
    day: Annotated[date | None, Query(alias="date", description="Local day; default the latest with data")] = None,
    tariff: str = study.DEFAULT_TARIFF,
    flat_price_cny_per_kwh: float = study.DEFAULT_FLAT_PRICE_CNY_PER_KWH,
    carbon_price_cny_per_t: float = study.DEFAULT_CARBON_PRICE_CNY_PER_T,
) -> dict:
    """One day's MPC plan against the meters, the forecasts against actual, and the week's savings against no
    control and the self-consumption rule (forecasts trained on the 28 days before the week)."""
    _operator(store, scope, park)
    day = day or latest_day(store, scope, park)
    if day is None:
        raise ValidationFailed(f"park {park!r} has no electricity readings yet")
    econ = EconomicsIn(
        tariff=tariff, flat_price_cny_per_kwh=flat_price_cny_per_kwh, carbon_price_cny_per_t=carbon_price_cny_per_t
    ).economics(day.year)
    rec = study.from_store(store, scope, park, day - timedelta(days=HISTORY_DAYS + 6), day + timedelta(days=1))
    return study.jsonable(study.dashboard(rec, day, econ))


class ReplayIn(EconomicsIn):
    start: date
    end: date = Field(description="Exclusive: the replay covers local days [start, end)")
    strategies: list[Literal["none", "rule", "mpc"]] = Field(default_factory=lambda: list(simulate.STRATEGIES))


@router.post("/parks/{park}/energy/replay", operation_id="energy_replay")
def replay(park: str, body: ReplayIn, store: StoreDep, scope: CurrentScope) -> dict:
    """Replay [start, end) at 15 minutes under each strategy; MPC's savings against the others."""
    _operator(store, scope, park)
    days = (body.end - body.start).days
    if not 0 < days <= MAX_REPLAY_DAYS:
        raise ValidationFailed(
            f"a replay covers 1 to {MAX_REPLAY_DAYS} days with start before end",
            issues=[Issue(f"{days} days", column="end", value=body.end.isoformat())],
        )
    econ = body.economics(body.start.year)
    history = None
    if "mpc" in body.strategies:
        history = study.from_store(store, scope, park, body.start - timedelta(days=HISTORY_DAYS), body.start).data
    rec = study.from_store(store, scope, park, body.start, body.end)
    figures = {
        s: simulate.kpis(simulate.replay(rec.data, econ, s, history=history), econ)
        for s in dict.fromkeys(body.strategies)
    }
    out: dict[str, Any] = {"strategies": {s: k.as_dict() for s, k in figures.items()}}
    if "mpc" in figures and len(figures) > 1:
        out["mpc_vs"] = simulate.compare(figures["mpc"], [k for s, k in figures.items() if s != "mpc"])
    out["intensity_source"] = econ.intensity_source
    return study.jsonable(out)


class BatteryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capex_cny_per_kwh: float = Field(study.DEFAULT_BATTERY_OPTION.capex_cny_per_kwh, ge=0)
    capex_cny_per_kw: float = Field(study.DEFAULT_BATTERY_OPTION.capex_cny_per_kw, ge=0)
    max_kwh: float | None = Field(None, ge=0)


class SizingIn(EconomicsIn):
    year: int = Field(ge=2000, le=2100)
    discount_rate: float = Field(0.06, ge=0, lt=1)
    horizon_years: int = Field(25, ge=1, le=50)
    min_renewable_share: float | None = Field(None, ge=0, le=1)
    max_co2_tco2_per_year: float | None = Field(None, ge=0)
    budget_cny: float | None = Field(None, ge=0)
    battery: BatteryIn | None = Field(default_factory=BatteryIn, description="null: no battery option")
    tradeoff: bool = Field(True, description="Also solve the cost against renewable share curve")
    tradeoff_shares: list[float] | None = Field(None, description="Renewable shares 0..1; default 5 up to the most")


@router.post("/parks/{park}/energy/sizing", operation_id="energy_sizing")
def sizing_study(park: str, body: SizingIn, store: StoreDep, scope: CurrentScope) -> dict:
    """PV per roof and facade and a battery for the least lifecycle cost over an hourly year, beside business as
    usual, with NPV and paybacks; the trade-off curve on 12 representative weeks."""
    _operator(store, scope, park)
    rec = study.from_store(store, scope, park, date(body.year, 1, 1), date(body.year + 1, 1, 1))
    battery = None
    if body.battery is not None:
        battery = sizing.BatteryOption(**{**study.DEFAULT_BATTERY_OPTION.__dict__, **body.battery.model_dump()})
    inp = study.sizing_input(
        rec,
        body.economics(body.year),
        battery=battery,
        discount_rate=body.discount_rate,
        horizon_years=body.horizon_years,
        min_renewable_share=body.min_renewable_share,
        max_co2_tco2_per_year=body.max_co2_tco2_per_year,
        budget_cny=body.budget_cny,
    )
    result = sizing.size_system(inp)
    out: dict[str, Any] = {"result": result.as_dict(), "surfaces": _surfaces(inp)}
    if body.tradeoff:
        out["tradeoff"] = study.tradeoff_points(inp, body.tradeoff_shares)
        out["tradeoff_resolution"] = "12 representative weeks (the week from each month's 10th), 8760/2016 h each"
    out["assumptions"] = {
        "tariff": body.tariff,
        "flat_price_cny_per_kwh": body.flat_price_cny_per_kwh,
        "carbon_price_cny_per_t": body.carbon_price_cny_per_t,
        "grid_intensity_source": body.economics(body.year).intensity_source,
        "pv_capex_cny_per_kwp": study.DEFAULT_PV_CAPEX_CNY_PER_KWP,
        "pv_opex_cny_per_kwp_year": study.DEFAULT_PV_OPEX_CNY_PER_KWP_YEAR,
        "battery": None if battery is None else battery.__dict__,
        "yield": "each array's measured generation per kWp, hourly",
    }
    return study.jsonable(out)


def _surfaces(inp: sizing.SizingInput) -> list[dict]:
    return [
        {
            "code": s.code,
            "kind": s.kind,
            "area_m2": s.area_m2,
            "max_kwp": s.max_kwp,
            "existing_kwp": s.existing_kwp,
            "yield_kwh_per_kwp": float(s.yield_kw_per_kwp.sum() * inp.hour_weight),
        }
        for s in inp.surfaces
    ]


class ResilienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date
    end: date = Field(description="Exclusive; a year gives every season's outages")
    duration_h: float = Field(24.0, gt=0)
    max_hours: float = Field(72.0, gt=0, le=24 * 14)
    days: int = Field(3, ge=1, le=14, description="Length of the bad-weather spells [d]")
    critical_channels: list[str] = Field(default_factory=list, description="Channels critical whatever building")
    generator: bool = Field(True, description="Use the park's generator assets")


@router.post("/parks/{park}/energy/resilience", operation_id="energy_resilience")
def resilience_study(park: str, body: ResilienceIn, store: StoreDep, scope: CurrentScope) -> dict:
    """How long the critical loads survive an islanded outage starting at every hour, and the worst
    bad-weather spells, with PV, batteries (from their dispatch floor), load shedding and standby generators."""
    _operator(store, scope, park)
    rec = study.from_store(store, scope, park, body.start, body.end)
    tiers = study.load_tiers(rec, critical_channels=body.critical_channels)
    options: dict[str, Any] = {"duration_h": body.duration_h, "max_hours": body.max_hours, "days": body.days}
    if not body.generator:
        options["generator"] = None
    report = study.resilience(rec, tiers=tiers, **options)
    generator = study.standby_generator(rec) if body.generator else None
    return study.jsonable(
        {
            "survivable_hours_min": report.sweep.min_hours,
            "report": report.as_dict(),
            "tiers": [
                {
                    "name": t.name,
                    "priority": t.priority,
                    "sheddable": t.sheddable,
                    "shed_below_soc_pct": t.shed_below_soc_pct,
                    "mean_kw": float(t.kw.mean()),
                }
                for t in tiers
            ],
            "generator": None if generator is None else generator.__dict__,
        }
    )


class SavingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[str] = Field(min_length=1)
    baseline_start: date
    baseline_end: date
    reporting_start: date
    reporting_end: date
    temperature_channel: str | None = None
    confidence: float = Field(0.9, gt=0, lt=1)


@router.post("/parks/{park}/energy/savings", operation_id="energy_savings")
def savings(park: str, body: SavingsIn, store: StoreDep, scope: CurrentScope) -> dict:
    """IPMVP savings of meters you may see: baseline model, adjusted baseline, savings and their uncertainty."""
    return study.jsonable(
        study.measured_savings(
            store,
            scope,
            park,
            body.channels,
            (body.baseline_start, body.baseline_end),
            (body.reporting_start, body.reporting_end),
            temperature_channel=body.temperature_channel,
            confidence=body.confidence,
        )
    )
