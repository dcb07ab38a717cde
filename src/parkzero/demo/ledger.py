"""The demo park's carbon ledger: emission sources, monthly manual entries with evidence, instruments.

Metered activity comes from the demo's channels (electricity, natural gas, steam). What a plant records on paper
is entered monthly with a delivery note as evidence, at plausible specific rates applied to the metered product
output of the month (the rates are the demo's assumptions, stated here):

- EAF graphite electrodes: 1.6 kg per tonne of rebar (scrap EAF practice 1.2-2.0 kg/t);
- purchased pig iron charged with the scrap: 60 kg per tonne of rebar;
- diesel for the scrap yard's loaders: 0.35 kg per tonne of rebar;
- lithium carbonate calcined in the cathode kilns: 0.27 t per tonne of LFP and 0.28 t per tonne of NCM output;
- refrigerant top-ups of the data centre chillers (R-134a) and office splits (R-410A): fixed kg per quarter.

The data centre buys green electricity certificates and retires them for the year; the steel works has a green
power trade. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from parkzero.accounting import instruments, sources
from parkzero.errors import Conflict
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.timeseries import monthly_totals

SYSTEM = Scope.system("demo")
PARK = "baoshan-demo"
TENANT_ELECTRICITY = {
    "steel": ["steel.main.kwh", "ev.steel-trucks.kwh"],
    "cathode": ["cathode.main.kwh"],
    "datacentre": ["dc.main.kwh"],
    **{
        e: [f"{e}.main.kwh"]
        for e in (
            "design",
            "software",
            "trading",
            "testing",
            "carbonsense",
            "hydrogen",
            "gridmind",
            "newmat",
            "recycle",
        )
    },
}
# source code -> (enterprise, name, scope, category, method, factor_ref, unit, channels, monthly rate)
MANUAL = {
    "steel.electrodes": ("steel", "EAF graphite electrodes", 1, "process", "process", "process.electrode", "t"),
    "steel.pig-iron": ("steel", "Purchased pig iron", 1, "process", "process", "process.purchased_pig_iron", "t"),
    "steel.diesel": ("steel", "Scrap-yard loaders (diesel)", 1, "mobile_combustion", "combustion", "fuel.diesel", "t"),
    "cathode.li2co3": (
        "cathode",
        "Lithium carbonate calcined",
        1,
        "process",
        "process",
        "process.lithium_carbonate",
        "t",
    ),
    "datacentre.r134a": (
        "datacentre",
        "Chiller refrigerant (R-134a)",
        1,
        "fugitive",
        "refrigerant",
        "refrigerant.r-134a",
        "t",
    ),
}
# Scope 3 (GHG Protocol regime only): (enterprise, name, category, method, factor, unit, params, yearly amount)
SCOPE3 = {
    "design.air-travel": ("design", "Business flights", "6", "activity", "travel.air.short_haul", "pkm", {}, 1.2e6),
    "software.commuting": (
        "software",
        "Employee commuting by car",
        "7",
        "activity",
        "travel.car.average",
        "km",
        {},
        1.38e6,
    ),  # 300 staff x 20 km x 230 days
    "trading.steel-purchases": (
        "trading",
        "Steel products bought for resale",
        "1",
        "spend",
        "spend.steel_products",
        "CNY",
        {"usd_per_cny": 0.1393},
        8.0e7,
    ),  # 2025 average rate, 7.18 CNY/USD
}
FREIGHT_KM = 80.0  # rebar delivered by truck to customers in the Yangtze delta [km]
RATES_PER_T_OUTPUT = {  # source -> {output channel: t of activity per t of output}
    "steel.electrodes": {"steel.output.rebar.t": 0.0016},
    "steel.pig-iron": {"steel.output.rebar.t": 0.060},
    "steel.diesel": {"steel.output.rebar.t": 0.00035},
    "cathode.li2co3": {"cathode.output.lfp.t": 0.27, "cathode.output.ncm.t": 0.28},
}
R134A_KG_PER_QUARTER = 45.0


def build_ledger(store: Store, year: int) -> dict:
    """Sources, entries and instruments of the demo park for `year` (idempotent)."""
    existing = {s["code"] for s in sources.list_sources(store, SYSTEM, PARK)}
    for ent, channels in TENANT_ELECTRICITY.items():
        _save(
            store,
            existing,
            {
                "code": f"{ent}.elec",
                "name": "Purchased electricity (park network)",
                "name_zh": "外购电力",
                "enterprise": ent,
                "scope": 2,
                "category": "electricity",
                "method": "electricity",
                "factor_ref": "grid",
                "activity_unit": "kWh",
                "channels": channels,
            },
        )
    _save(
        store,
        existing,
        {
            "code": "operator.park-connection",
            "name": "Park connection: common areas, losses, battery, EV",
            "name_zh": "园区关口电量（公共区域、损耗、储能、充电桩）",
            "enterprise": "operator",
            "scope": 2,
            "category": "electricity",
            "method": "electricity",
            "factor_ref": "grid",
            "activity_unit": "kWh",
            "channels": ["park.grid.import.kwh"],
            "params": {"supply": "park_residual"},
        },
    )
    for ent, channel in (("steel", "steel.gas.main.nm3"), ("cathode", "cathode.gas.nm3")):
        _save(
            store,
            existing,
            {
                "code": f"{ent}.gas",
                "name": "Natural gas",
                "name_zh": "天然气",
                "enterprise": ent,
                "scope": 1,
                "category": "stationary_combustion",
                "method": "combustion",
                "factor_ref": "fuel.natural_gas",
                "activity_unit": "Nm3",
                "channels": [channel],
            },
        )
    _save(
        store,
        existing,
        {
            "code": "cathode.steam",
            "name": "Purchased steam",
            "name_zh": "外购蒸汽",
            "enterprise": "cathode",
            "scope": 2,
            "category": "steam",
            "method": "steam",
            "factor_ref": "steam.saturated",
            "activity_unit": "t",
            "channels": ["cathode.steam.t"],
        },
    )
    _save(
        store,
        existing,
        {
            "code": "steel.freight",
            "name": "Rebar delivered by truck",
            "enterprise": "steel",
            "scope": 3,
            "category": "9",
            "method": "activity",
            "factor_ref": "transport.freight.hgv_average",
            "activity_unit": "tkm",
        },
    )
    for code, (ent, name, cat, method, ref, unit, params, _) in SCOPE3.items():
        _save(
            store,
            existing,
            {
                "code": code,
                "name": name,
                "enterprise": ent,
                "scope": 3,
                "category": cat,
                "method": method,
                "factor_ref": ref,
                "activity_unit": unit,
                "params": params,
            },
        )
    for code, (ent, name, sc, cat, method, ref, unit) in MANUAL.items():
        _save(
            store,
            existing,
            {
                "code": code,
                "name": name,
                "enterprise": ent,
                "scope": sc,
                "category": cat,
                "method": method,
                "factor_ref": ref,
                "activity_unit": unit,
            },
        )
    entries = 0
    if not sources.list_activity(store, SYSTEM, PARK, "steel.electrodes"):
        entries = _monthly_entries(store, year)
    _instruments(store, year)
    return {"sources": len(sources.list_sources(store, SYSTEM, PARK)), "activity_entries_new": entries}


def _save(store: Store, existing: set[str], record: dict) -> None:
    if record["code"] not in existing:
        sources.save_source(store, SYSTEM, PARK, record)


def _monthly_entries(store: Store, year: int) -> int:
    tz = ZoneInfo("Asia/Shanghai")
    output = monthly_totals(store, SYSTEM, PARK, year)
    rows = []
    for code, rates in RATES_PER_T_OUTPUT.items():
        ent = MANUAL[code][0]
        for m in range(12):
            amount = sum(rate * (output.get(ch, [0.0] * 12)[m] or 0.0) for ch, rate in rates.items())
            if amount <= 0:
                continue
            start = datetime(year, m + 1, 1, tzinfo=tz)
            end = datetime(year + 1, 1, 1, tzinfo=tz) if m == 11 else datetime(year, m + 2, 1, tzinfo=tz)
            note = f"{MANUAL[code][1]}: {amount:.3f} t, delivery notes {year}-{m + 1:02d}"
            ev = sources.add_evidence(
                store, SYSTEM, PARK, f"{code}-{year}-{m + 1:02d}.txt", note.encode(), "text/plain", enterprise_code=ent
            )
            rows.append(
                {
                    "source": code,
                    "period_start": start,
                    "period_end": end,
                    "amount": round(amount, 3),
                    "unit": "t",
                    "evidence_id": ev["id"],
                    "note": note,
                }
            )
    for m in range(12):
        start = datetime(year, m + 1, 1, tzinfo=tz)
        end = datetime(year + 1, 1, 1, tzinfo=tz) if m == 11 else datetime(year, m + 2, 1, tzinfo=tz)
        rebar = output.get("steel.output.rebar.t", [0.0] * 12)[m] or 0.0
        if rebar > 0:
            rows.append(
                {
                    "source": "steel.freight",
                    "period_start": start,
                    "period_end": end,
                    "amount": round(rebar * FREIGHT_KM, 1),
                    "unit": "tkm",
                    "note": f"{rebar:.0f} t x {FREIGHT_KM:g} km (dispatch records)",
                }
            )
    for code, (*_, unit, _params, amount) in SCOPE3.items():
        rows.append(
            {
                "source": code,
                "period_start": datetime(year, 1, 1, tzinfo=tz),
                "period_end": datetime(year + 1, 1, 1, tzinfo=tz),
                "amount": amount,
                "unit": unit,
                "note": "annual total from the travel agency / HR / purchasing ledger",
            }
        )
    for q in range(4):
        start = datetime(year, 3 * q + 1, 1, tzinfo=tz)
        end = datetime(year, 3 * q + 4, 1, tzinfo=tz) if q < 3 else datetime(year + 1, 1, 1, tzinfo=tz)
        rows.append(
            {
                "source": "datacentre.r134a",
                "period_start": start,
                "period_end": end,
                "amount": R134A_KG_PER_QUARTER,
                "unit": "kg",
                "note": "chiller top-up log",
            }
        )
    return len(sources.import_activity(store, SYSTEM, PARK, rows, year=year))


def _instruments(store: Store, year: int) -> None:
    wanted = [
        (
            {
                "code": f"dc-gec-{year}",
                "enterprise": "datacentre",
                "kind": "gec",
                "serial_prefix": f"GEC{year}SH",
                "serial_first": 300_000_001,
                "serial_last": 300_008_000,
                "vintage_year": year,
                "technology": "wind",
                "facility": "Offshore wind, Jiangsu",
            },
            8000.0,
        ),
        (
            {
                "code": f"steel-gp-{year}",
                "enterprise": "steel",
                "kind": "green_power",
                "mwh": 12_000.0,
                "vintage_year": year,
                "technology": "solar",
                "facility": "Green power trade, Shanghai exchange",
            },
            12_000.0,
        ),
    ]
    for record, mwh in wanted:
        try:
            instruments.register(store, SYSTEM, PARK, record)
        except Conflict:
            continue  # registered (and retired) by an earlier run
        instruments.retire(store, SYSTEM, PARK, record["code"], year=year, mwh=mwh)
