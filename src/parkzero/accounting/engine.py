"""The accounting engine: one enterprise's (or the whole park's) emissions for one year under one regime.

`compute` reads the activity (channels and manual entries), resolves every factor through the regime,
applies the rules and returns an `InventoryResult`: lines per source, month, gas and Scope 2 method, each with
its trace (activity -> factor -> formula), and the totals. It writes nothing; `parkzero.accounting.inventory`
stores results. Any problem (unknown fuel, unit mismatch, a missing factor for the regime and year, a negative
amount) raises before a single line is returned, so there is never a partial inventory.

Park consolidation: electricity bought from the grid is attributed once. Tenants on the park network get, for
every hour, the grid share of what the park's consumers received (the rest came from on-site PV and the
battery, zero at the point of use); the operator's own electricity is the park connection's import minus what
the tenants were attributed, so the park total is the sum of its tenants plus the operator's own.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from parkzero.accounting import activity as act
from parkzero.accounting import instruments as instr
from parkzero.accounting import rules
from parkzero.accounting.engines import IbisActivity, store_activity
from parkzero.accounting.sources import Source, load_sources
from parkzero.errors import Issue, NotFound, ValidationFailed
from parkzero.factors import library
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

KGCE_PER_GJ = 1000 / 29.3076  # 1 kgce = 29.3076 MJ (GB/T 2589-2020 §3.7) [kgce/GJ]
ROUND = 6  # decimals kept for amounts [unit] and emissions [t]: re-runs give the same bytes


@dataclass
class Line:
    enterprise_id: int | None
    source_id: int | None
    source: str
    scope: int
    category: str
    scope2_method: str  # "" outside Scope 2; location | market
    gas: str
    month: int  # 1..12; 0 for a line that covers the year (market-based instruments)
    activity_amount: float
    activity_unit: str
    emissions_t: float
    gwp: float
    trace: dict

    @property
    def tco2e(self) -> float:
        return round(self.emissions_t * self.gwp, ROUND)

    def as_dict(self, enterprise_codes: dict[int, str]) -> dict:
        return {
            "enterprise": enterprise_codes.get(self.enterprise_id) if self.enterprise_id else None,
            "source": self.source,
            "scope": self.scope,
            "category": self.category,
            "scope2_method": self.scope2_method,
            "gas": self.gas,
            "month": self.month,
            "activity_amount": round(self.activity_amount, ROUND),
            "activity_unit": self.activity_unit,
            "emissions_t": round(self.emissions_t, ROUND),
            "gwp": self.gwp,
            "tco2e": self.tco2e,
            "trace": self.trace,
        }


@dataclass
class InventoryResult:
    park: str
    enterprise: str | None
    year: int
    regime: rules.Regime
    lines: list[Line]
    enterprise_codes: dict[int, str]
    energy_tce: float
    factors_used: list[library.Factor]
    notes: list[str] = field(default_factory=list)
    denominators: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)  # building of each source and enterprise, zone of each building

    def totals(self) -> dict:
        t: dict[str, float] = defaultdict(float)
        for ln in self.lines:
            if ln.scope == 2:
                t[f"scope2_{ln.scope2_method}"] += ln.tco2e
            else:
                t[f"scope{ln.scope}"] += ln.tco2e
        out = {k: round(t.get(k, 0.0), ROUND) for k in ("scope1", "scope3")}
        for m in self.regime.scope2_methods:
            out[f"scope2_{m}"] = round(t.get(f"scope2_{m}", 0.0), ROUND)
            out[f"total_{m}"] = round(out["scope1"] + out[f"scope2_{m}"] + out["scope3"], ROUND)
        out["energy_tce"] = round(self.energy_tce, ROUND)
        return out

    def breakdown(self, key: str) -> dict[str, dict[str, float]]:
        """tCO2e by `key` (category, gas, month, enterprise, source) and Scope 2 method."""
        out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for ln in self.lines:
            if key == "enterprise":
                k = str(self.enterprise_codes.get(ln.enterprise_id, "operator"))
            elif key in ("building", "zone"):
                k = self._place(ln)[0 if key == "building" else 1]
            else:
                k = str(getattr(ln, key))
            for m in self._methods_of(ln):
                out[k][m] += ln.tco2e
        return {k: {m: round(v, ROUND) for m, v in sorted(d.items())} for k, d in sorted(out.items())}

    def _place(self, ln: Line) -> tuple[str, str]:
        """(building, zone) of a line: its source's building, else its enterprise's, else unassigned."""
        p = self.places
        bid = p.get("source_building", {}).get(ln.source_id) or p.get("enterprise_building", {}).get(ln.enterprise_id)
        if bid is None:
            return "unassigned", "unassigned"
        return p["building_code"].get(bid, "unassigned"), p["building_zone"].get(bid) or "unassigned"

    def _methods_of(self, ln: Line) -> tuple[str, ...]:
        return (ln.scope2_method,) if ln.scope == 2 else tuple(self.regime.scope2_methods)

    def intensities(self) -> dict:
        totals = self.totals()
        m = self.regime.scope2_methods[-1]
        total = totals[f"total_{m}"]
        co2 = sum(
            ln.tco2e
            for ln in self.lines
            if ln.gas == "CO2" and (ln.scope != 2 or ln.scope2_method == m) and ln.scope in (1, 2)
        )
        out: dict = {"method": m}
        out["tco2e_per_tce"] = round(total / self.energy_tce, ROUND) if self.energy_tce > 0 else None
        out["tco2_per_tce_energy"] = round(co2 / self.energy_tce, ROUND) if self.energy_tce > 0 else None
        area = self.denominators.get("floor_area_m2")
        out["kgco2e_per_m2"] = round(total * 1000 / area, ROUND) if area else None
        product_t = self.denominators.get("product_t")
        out["tco2e_per_t_product"] = round(total / product_t, ROUND) if product_t else None
        value = self.denominators.get("output_value_10k_cny")
        out["tco2e_per_10k_cny"] = round(total / value, ROUND) if value else None
        return out

    def as_dict(self) -> dict:
        return {
            "park": self.park,
            "enterprise": self.enterprise,
            "year": self.year,
            "regime": self.regime.as_dict(),
            "totals": self.totals(),
            "intensities": self.intensities(),
            "denominators": self.denominators,
            "by_category": self.breakdown("category"),
            "by_gas": self.breakdown("gas"),
            "by_month": self.breakdown("month"),
            "by_enterprise": self.breakdown("enterprise"),
            "by_building": self.breakdown("building"),
            "by_zone": self.breakdown("zone"),
            "lines": [ln.as_dict(self.enterprise_codes) for ln in self.lines],
            "factors_used": [f.ref() for f in self.factors_used],
            "notes": self.notes,
        }

    def canonical_bytes(self) -> bytes:
        """The result as canonical JSON: the same data always gives the same bytes."""
        return json.dumps(
            self.as_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
        ).encode()

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


# -- compute -------------------------------------------------------------------------------------
def compute(
    store: Store,
    scope: Scope,
    park_code: str,
    year: int,
    regime_code: str,
    enterprise_code: str | None = None,
    *,
    activity: IbisActivity | None = None,
) -> InventoryResult:
    """The inventory of one enterprise (or, with enterprise_code None, of the park) for one park-local year.

    `activity` reads the meter data (default: the store's rollups; `engines.spark_activity` for an export).
    """
    park = repo.get_park(store, scope, park_code)
    pid, tz = int(park["id"]), ZoneInfo(park["timezone"])
    regime = rules.get_regime(regime_code)
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise ValidationFailed(f"the inventory year must be a year, not {year!r}")
    ent_codes = {int(i): c for i, c in store.db.fetchall("SELECT id, code FROM enterprises WHERE park_id = ?", (pid,))}
    subject: int | None = None
    if enterprise_code is not None:
        subject = next((i for i, c in ent_codes.items() if c == enterprise_code), None)
        if subject is None or not scope.can_see(pid, subject):
            raise NotFound(f"no enterprise {enterprise_code!r} in park {park_code!r}")
    elif scope.is_tenant or scope.role == "partner":
        raise NotFound(f"no park inventory of {park_code!r} for this user")
    everything = load_sources(store, Scope.system(), pid)
    wanted = [s for s in everything if subject is None or s.enterprise_id == subject]
    fscope = Scope(actor="system", role="enterprise" if subject else "operator", park_id=pid, enterprise_id=subject)
    resolver = rules.Resolver(library.load_factors(store, fscope), regime, year)
    calc = _Calculator(store, pid, tz, year, regime, resolver, everything, ent_codes)
    calc.activity = activity or store_activity(store)
    lines, notes = calc.run(wanted, subject)
    result = InventoryResult(
        park=park_code,
        enterprise=enterprise_code,
        year=year,
        regime=regime,
        lines=lines,
        enterprise_codes=ent_codes,
        energy_tce=round(calc.energy_kgce / 1000, ROUND),
        factors_used=sorted(resolver.used.values(), key=lambda f: (f.set_code, f.factor_id, f.parameter, f.gas or "")),
        notes=notes,
        denominators=_denominators(store, pid, subject, year),
        places=_places(store, pid, everything),
    )
    return result


def _places(store: Store, pid: int, everything: list[Source]) -> dict:
    zone = dict(store.db.fetchall("SELECT id, code FROM zones WHERE park_id = ?", (pid,)))
    buildings = store.db.fetchall("SELECT id, code, zone_id FROM buildings WHERE park_id = ?", (pid,))
    return {
        "source_building": {s.id: s.building_id for s in everything if s.building_id is not None},
        "enterprise_building": dict(
            store.db.fetchall(
                "SELECT id, building_id FROM enterprises WHERE park_id = ? AND building_id IS NOT NULL", (pid,)
            )
        ),
        "building_code": {int(i): c for i, c, _ in buildings},
        "building_zone": {int(i): zone.get(z) for i, _, z in buildings},
    }


def _denominators(store: Store, pid: int, subject: int | None, year: int) -> dict:
    """Floor area and product output for intensities (area only where the enterprise has its building alone)."""
    out: dict = {}
    if subject is None:
        row = store.db.fetchone("SELECT sum(floor_area_m2) FROM buildings WHERE park_id = ?", (pid,))
        out["floor_area_m2"] = float(row[0]) if row and row[0] else None
    else:
        row = store.db.fetchone(
            "SELECT b.floor_area_m2, (SELECT count(*) FROM enterprises o WHERE o.building_id = b.id)"
            " FROM enterprises e JOIN buildings b ON b.id = e.building_id WHERE e.id = ?",
            (subject,),
        )
        out["floor_area_m2"] = float(row[0]) if row and row[0] and int(row[1]) == 1 else None
    where = "" if subject is None else f" AND c.enterprise_id = {int(subject)}"
    row = store.db.fetchone(
        "SELECT sum(d.value_sum) FROM rollup_daily d JOIN channels c ON c.id = d.channel_id WHERE c.park_id = ?"
        f" AND c.purpose = 'product_output' AND c.quantity_kind = 'mass' AND c.parent_id IS NULL{where}"
        " AND d.day >= ? AND d.day < ?",
        (pid, datetime(year, 1, 1).date(), datetime(year + 1, 1, 1).date()),
    )
    out["product_t"] = round(float(row[0]), ROUND) if row and row[0] else None
    where = "" if subject is None else f" AND enterprise_id = {int(subject)}"
    row = store.db.fetchone(
        f"SELECT sum(output_value_10k_cny), count(*) FROM enterprise_figures WHERE park_id = ? AND year = ?{where}",
        (pid, year),
    )
    out["output_value_10k_cny"] = round(float(row[0]), ROUND) if row and row[0] else None
    return out


class _Calculator:
    def __init__(self, store, pid, tz, year, regime, resolver, everything, ent_codes):
        self.store, self.pid, self.tz, self.year = store, pid, tz, year
        self.regime: rules.Regime = regime
        self.resolver: rules.Resolver = resolver
        self.everything: list[Source] = everything
        self.ent_codes = ent_codes
        self.energy_kgce = 0.0
        self.notes: list[str] = []
        self.problems: list[Issue] = []
        self._channel_codes = {
            int(i): c for i, c in store.db.fetchall("SELECT id, code FROM channels WHERE park_id = ?", (pid,))
        }

    # activity ------------------------------------------------------------------------------------
    def _monthly(self, sources: list[Source]) -> dict[int, tuple[np.ndarray, dict]]:
        """Per source: activity per month [canonical unit] and what it is made of."""
        ids = sorted({c for s in sources for c in s.channel_ids})
        by_channel: dict[int, list[act.ChannelMonth]] = defaultdict(list)
        for cm in self.activity.monthly(ids, self.year):
            by_channel[cm.channel_id].append(cm)
        entries = defaultdict(list)
        for e in act.manual_entries(self.store, [s.id for s in sources]):
            entries[int(e["source_id"])].append(e)
        year_start = datetime(self.year, 1, 1, tzinfo=self.tz)
        year_end = datetime(self.year + 1, 1, 1, tzinfo=self.tz)
        out = {}
        for s in sources:
            months = np.zeros(12)
            chans = []
            for cid in s.channel_ids:
                rows = by_channel.get(cid, [])
                for cm in rows:
                    months[cm.month - 1] += cm.amount
                chans.append(
                    {
                        "channel": self._channel_codes.get(cid),
                        "amount": round(sum(cm.amount for cm in rows), ROUND),
                        "n_readings": sum(cm.n_readings for cm in rows),
                        "n_estimated": sum(cm.n_estimated for cm in rows),
                    }
                )
            used_entries = []
            for e in entries.get(s.id, []):
                start, end = e["period_start"], e["period_end"]
                if end <= year_start or start >= year_end:
                    continue
                if start < year_start or end > year_end:
                    self.problems.append(
                        Issue(
                            f"{s.what}: activity entry {e['id']} ({start.isoformat()} .. {end.isoformat()}) lies partly"
                            f" outside the period {self.year}",
                            column="period",
                            value=str(e["id"]),
                        )
                    )
                    continue
                amount = float(e["amount_canonical"])
                if amount < 0:
                    self.problems.append(
                        Issue(
                            f"{s.what}: negative amount in activity entry {e['id']}",
                            column="amount",
                            value=str(e["amount"]),
                        )
                    )
                    continue
                months += amount * _month_weights(start, end, self.tz)
                used_entries.append(
                    {
                        "entry": int(e["id"]),
                        "period": [start.astimezone(self.tz).isoformat(), end.astimezone(self.tz).isoformat()],
                        "amount": e["amount"],
                        "unit": e["unit"],
                        "amount_canonical": round(amount, ROUND),
                        "evidence": None
                        if e["evidence_id"] is None
                        else {"id": int(e["evidence_id"]), "file": e["evidence_file"], "sha256": e["evidence_sha256"]},
                    }
                )
            if (months < -1e-9).any():
                self.problems.append(
                    Issue(
                        f"{s.what}: negative activity in month(s) {[i + 1 for i in np.flatnonzero(months < -1e-9)]}",
                        column="amount",
                    )
                )
            out[s.id] = (months, {"channels": chans, "entries": used_entries, "unit": s.activity_unit})
        return out

    def _electricity_split(self, activity: dict) -> dict[int, tuple[np.ndarray, np.ndarray, dict]]:
        """Per electricity source: (grid kWh per month, on-site kWh per month, attribution trace)."""
        elec = [s for s in self.everything if s.method == "electricity"]
        if not elec:
            return {}
        supply_ids = [
            int(r[0])
            for r in self.store.db.fetchall(
                "SELECT id FROM channels WHERE park_id = ? AND parent_id IS NULL AND purpose IN"
                f" ({', '.join(repr(p) for p in act.SUPPLY_PURPOSES)}) ORDER BY id",
                (self.pid,),
            )
        ]
        purpose_of = dict(self.store.db.fetchall("SELECT id, purpose FROM channels WHERE park_id = ?", (self.pid,)))
        grid = act.HourGrid.for_year(self.year, self.tz)
        network = [
            s for s in elec if s.params.get("supply", "park_network") == "park_network" and s.enterprise_id is not None
        ]
        groups: dict[str, list[int]] = {f"purpose:{p}": [] for p in act.SUPPLY_PURPOSES}
        for cid in supply_ids:
            groups[f"purpose:{purpose_of[cid]}"].append(cid)
        for s in network:
            groups[f"source:{s.id}"] = list(s.channel_ids)
        hourly = self.activity.hourly(groups, grid)
        flows = {p: hourly[f"purpose:{p}"] for p in act.SUPPLY_PURPOSES if groups[f"purpose:{p}"]}
        shares = act.supply_shares(flows, grid.hours)
        month_idx = grid.month_of_hour.astype(int) - 1
        out = {}
        tenants_grid = np.zeros(12)
        for s in elec:
            supply = (
                "park_residual"
                if s.params.get("supply") == "park_residual"
                else (s.params.get("supply") or ("park_network" if s.enterprise_id is not None else "grid"))
            )
            total = activity[s.id][0]
            if supply == "park_network" and s in network:
                load = hourly[f"source:{s.id}"]
                grid_m = np.bincount(month_idx, weights=load * shares.grid_share, minlength=12)
                grid_m = np.minimum(grid_m, total)  # manual entries are treated as grid power
                grid_m = grid_m + np.maximum(total - np.bincount(month_idx, weights=load, minlength=12), 0)
                onsite = total - grid_m
                tenants_grid += grid_m
                trace = {
                    "supply": "park_network",
                    "method": "hourly grid share of the park's delivered power",
                    "grid_kwh": round(float(grid_m.sum()), ROUND),
                    "onsite_kwh": round(float(onsite.sum()), ROUND),
                }
                out[s.id] = (grid_m, onsite, trace)
            elif supply == "grid":
                out[s.id] = (total, np.zeros(12), {"supply": "grid"})
        for s in elec:
            if s.params.get("supply") == "park_residual":
                total = activity[s.id][0]
                residual = total - tenants_grid
                if (residual < -1e-6).any():
                    self.notes.append(
                        f"{s.what}: the park connection imported less than the tenants were attributed in months "
                        f"{[i + 1 for i in np.flatnonzero(residual < -1e-6)]}; check the meters"
                    )
                out[s.id] = (
                    residual,
                    np.zeros(12),
                    {
                        "supply": "park_residual",
                        "method": "park connection import minus the grid power attributed to tenants",
                        "park_import_kwh": round(float(total.sum()), ROUND),
                        "tenants_grid_kwh": round(float(tenants_grid.sum()), ROUND),
                        "battery_grid_share": round(shares.battery_grid_share, ROUND),
                    },
                )
        return out

    # rules ---------------------------------------------------------------------------------------
    def run(self, wanted: list[Source], subject: int | None) -> tuple[list[Line], list[str]]:
        in_scope = [
            s for s in wanted if s.scope in self.regime.scopes and (self.regime.process or s.category != "process")
        ]
        skipped = sorted({s.code for s in wanted} - {s.code for s in in_scope})
        if skipped:
            self.notes.append(f"not counted under {self.regime.code}: {', '.join(skipped)}")
        need = list({s.id: s for s in in_scope + [s for s in self.everything if s.method == "electricity"]}.values())
        activity = self._monthly(need)
        split = self._electricity_split(activity)
        lines: list[Line] = []
        market_kwh: dict[int | None, float] = defaultdict(float)
        market_src: dict[int | None, list[str]] = defaultdict(list)
        for s in in_scope:
            months, trace = activity[s.id]
            try:
                if s.method == "electricity":
                    grid_m, onsite_m, attribution = split[s.id]
                    lines += self._electricity(s, grid_m, onsite_m, {**trace, "attribution": attribution})
                    market_kwh[s.enterprise_id] += float(grid_m.sum())
                    market_src[s.enterprise_id].append(s.code)
                else:
                    lines += self._other(s, months, trace)
            except ValidationFailed as exc:
                self.problems.append(
                    Issue(
                        f"{s.what}: {exc.detail}" if not exc.detail.startswith(s.what) else exc.detail,
                        column="factor_ref",
                        value=s.factor_ref,
                    )
                )
        if "market" in self.regime.scope2_methods:
            for ent in sorted(market_kwh, key=lambda e: -1 if e is None else e):
                try:
                    lines += self._market(ent, market_kwh[ent], market_src[ent])
                except ValidationFailed as exc:
                    self.problems.append(Issue(exc.detail, column="instruments"))
        if self.problems:
            raise ValidationFailed(
                f"the inventory for {self.year} under {self.regime.code} cannot be computed; nothing was written",
                issues=self.problems,
            )
        lines.sort(
            key=lambda ln: (ln.enterprise_id or 0, ln.scope, ln.category, ln.source, ln.scope2_method, ln.month, ln.gas)
        )
        return lines, self.notes

    def _tce(self, kind: str, amount: float, unit_gj: float = 0.0) -> None:
        if kind == "electricity":
            f = (
                self.resolver.get("tce.electricity", "tce", what="energy use in tce")
                if self.resolver.has("tce.electricity", "tce")
                else None
            )
            self.energy_kgce += amount * (f.value if f else 3.6 / 29.3076)
        else:
            self.energy_kgce += unit_gj * KGCE_PER_GJ

    def _electricity(self, s: Source, grid_m, onsite_m, trace) -> list[Line]:
        self._tce("electricity", float(grid_m.sum() + onsite_m.sum()))
        out = []
        methods = [m for m in self.regime.scope2_methods if m == "location"]
        if not methods:
            return out  # market-only regimes price electricity per enterprise in `_market`
        ef = self.resolver.get(self.regime.electricity, what=s.what)
        for m in range(12):
            if grid_m[m] == 0 and onsite_m[m] == 0:
                continue
            c = rules.electricity(float(grid_m[m]), ef, what=s.what)
            tr = {
                **trace,
                "month_kwh": {"grid": round(float(grid_m[m]), ROUND), "onsite": round(float(onsite_m[m]), ROUND)},
                "factors": [ef.ref()],
                "formula": c.formula,
                "proxy_year": self.resolver.is_proxy(ef),
            }
            out.append(self._line(s, "location", m + 1, float(grid_m[m]), "kWh", c.gases[0], tr))
        return out

    def _market(self, ent: int | None, grid_kwh: float, sources: list[str]) -> list[Line]:
        held = instr.claims(self.store, self.pid, ent, self.year)
        allocation = instr.market_allocation(grid_kwh / 1000, held, self.regime.zero_instruments)
        residual_id = self.regime.electricity_residual or self.regime.electricity
        out = []
        for a in allocation:
            if a.basis == "unclaimed":
                self.notes.append(
                    f"{self.ent_codes.get(ent, 'operator')}: {a.mwh:g} MWh of retired instruments"
                    f" ({', '.join(a.instruments)}) exceed its grid electricity and are not used"
                )
                continue
            if a.mwh == 0 and a.basis != "residual":
                continue
            if a.factor_tco2_per_mwh is None:
                ef = self.resolver.get(
                    residual_id, what=f"market-based electricity of {self.ent_codes.get(ent, 'the operator')}"
                )
                c = rules.electricity(a.mwh * 1000, ef)
                factors, formula = [ef.ref()], c.formula
                t = c.gases[0].emissions_t
            else:
                t = a.mwh * a.factor_tco2_per_mwh
                factors = []
                formula = f"{a.mwh:g} MWh × {a.factor_tco2_per_mwh:g} tCO2/MWh ({a.basis}) = {t:g} tCO2"
            trace = {
                "basis": a.basis,
                "instruments": list(a.instruments),
                "sources": sources,
                "hierarchy": "Scope 2 Guidance: certificates, contracts, supplier rate, residual mix",
                "factors": factors,
                "formula": formula,
            }
            out.append(
                Line(
                    ent,
                    None,
                    f"market:{a.basis}",
                    2,
                    "electricity",
                    "market",
                    "CO2",
                    0,
                    round(a.mwh * 1000, ROUND),
                    "kWh",
                    round(t, ROUND),
                    1.0,
                    trace,
                )
            )
        return out

    def _line(
        self, s: Source, method: str, month: int, amount: float, unit: str, g: rules.GasAmount, trace: dict
    ) -> Line:
        return Line(
            s.enterprise_id,
            s.id,
            s.code,
            s.scope,
            s.category,
            method,
            g.gas,
            month,
            round(amount, ROUND),
            unit,
            round(g.emissions_t, ROUND),
            g.gwp,
            trace,
        )

    def _other(self, s: Source, months: np.ndarray, trace: dict) -> list[Line]:
        r = self.resolver
        method2 = "" if s.scope != 2 else "location"
        scope2_methods = self.regime.scope2_methods if s.scope == 2 else ("",)
        out: list[Line] = []
        for m in range(12):
            amount = float(months[m])
            if amount == 0:
                continue
            if s.method == "combustion":
                ncv, cc, ox = (r.get(s.factor_ref, p, what=s.what) for p in ("ncv", "carbon_content", "oxidation"))
                non_co2 = {}
                if self.regime.combustion_non_co2:
                    fuel = s.factor_ref.split(".", 1)[-1]
                    kind = "mobile" if s.category == "mobile_combustion" else "stationary"
                    ipcc = f"fuel_ipcc.{kind}.{rules.IPCC_FUEL.get(fuel, fuel)}"
                    for gas in ("CH4", "N2O"):
                        if r.has(ipcc):
                            non_co2[gas] = (r.get(ipcc, "ef", gas, what=s.what), r.gwp(gas))
                c = rules.combustion(amount, s.activity_unit, ncv, cc, ox, non_co2, what=s.what)
                self._tce("fuel", amount, amount * rules._per_activity(ncv, s.activity_unit, "energy_gj", what=s.what))
            elif s.method == "heat":
                c = rules.heat(amount, r.get(self.regime.heat, what=s.what), what=s.what)
                self._tce("heat", amount, amount)
            elif s.method == "steam":
                enthalpy = r.get(s.factor_ref, "enthalpy", what=s.what)
                c = rules.steam(amount, enthalpy, r.get(self.regime.heat, what=s.what), what=s.what)
                self._tce("heat", amount, amount * rules._per_activity(enthalpy, "t", "energy_gj", what=s.what))
            elif s.method == "refrigerant":
                shares = [f for f in self.resolver.factors if f.factor_id == s.factor_ref and f.parameter == "share"]
                for f in shares:
                    r.used[(f.set_code, f.set_version, f.factor_id, f.parameter, f.gas)] = f
                c = rules.refrigerant(amount, shares, {f.gas: r.gwp(f.gas) for f in shares if f.gas}, what=s.what)
            else:  # process, activity, spend
                ef = r.get(s.factor_ref, what=s.what)
                unit, qty = s.activity_unit, amount
                if s.method == "spend" and s.activity_unit == "CNY" and ef.unit.endswith("/USD"):
                    qty, unit = amount * float(s.params["usd_per_cny"]), "USD"
                sign = -1.0 if s.params.get("sign") == -1 else 1.0
                c = rules.activity_factor(sign * qty, unit, ef, r.gwp(ef.gas or "CO2e"), what=s.what)
                if unit != s.activity_unit:
                    c = rules.Calculation(
                        c.gases, f"{amount:g} CNY × {s.params['usd_per_cny']} USD/CNY; " + c.formula, c.factors
                    )
            tr = {
                **trace,
                "month": m + 1,
                "factors": [f.ref() for f in c.factors],
                "formula": c.formula,
                "proxy_year": any(r.is_proxy(f) for f in c.factors),
            }
            for g in c.gases:
                for method in scope2_methods if s.scope == 2 else (method2,):
                    out.append(self._line(s, method, m + 1, amount, s.activity_unit, g, tr))
        return out


def _month_weights(start: datetime, end: datetime, tz: ZoneInfo) -> np.ndarray:
    """Share of [start, end) falling in each local month (an entry is spread evenly over its period)."""
    w = np.zeros(12)
    total = (end - start).total_seconds()
    cursor = start
    while cursor < end:
        local = cursor.astimezone(tz)
        nxt = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=tz)
        seg_end = min(nxt, end)
        w[local.month - 1] += (seg_end - cursor).total_seconds() / total
        cursor = seg_end
    return w
