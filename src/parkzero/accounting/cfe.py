"""Electricity emissions at 15 minutes and the hourly (24/7) carbon-free-energy score.

For each 15-minute interval the electricity an enterprise (or the whole park) used is split, hour by hour, into
grid power and on-site supply with the same shares the inventory uses (see `activity.supply_shares`); grid
power is priced with the regime's grid factor for the year (China publishes annual factors only, so the
intensity is flat within a year and the trace says so).

The 24/7 CFE score follows the hourly-matching idea of the EnergyTag / Google 24/7 methodology: in each hour
the carbon-free energy is the on-site supply plus the carbon-free share of the grid power (the grid's non-fossil
share, 1 - average factor / fossil-fired factor, from the same published table); certificates bought for the
year are not hourly and do not count. score = Σ_h min(use_h, cfe_h) / Σ_h use_h. The annual (volumetric)
figure, which does count certificates and green power trades, is shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from parkzero.accounting import activity as act
from parkzero.accounting import instruments as instr
from parkzero.accounting import rules
from parkzero.accounting.engines import store_activity
from parkzero.accounting.sources import load_sources
from parkzero.errors import NotFound, ValidationFailed
from parkzero.factors import library
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

MAX_SERIES_DAYS = 366


@dataclass(frozen=True)
class ElectricitySeries:
    start: datetime
    interval_s: int
    use_kwh: np.ndarray  # per interval
    grid_kwh: np.ndarray
    emissions_kgco2: np.ndarray
    factor: library.Factor
    cfe_hourly_score: float | None  # [-]
    cfe_annual_share: float | None  # [-]
    grid_cfe_share: float  # [-]

    def as_dict(self, tz: ZoneInfo) -> dict:
        times = [
            (self.start + timedelta(seconds=i * self.interval_s)).astimezone(tz).isoformat()
            for i in range(len(self.use_kwh))
        ]
        return {
            "interval": "PT15M",
            "units": {"use": "kWh", "grid": "kWh", "emissions": "kgCO2"},
            "factor": self.factor.ref(),
            "intensity_note": "annual grid factor, flat within the year",
            "cfe_hourly_score": None if self.cfe_hourly_score is None else round(self.cfe_hourly_score, 6),
            "cfe_annual_share": None if self.cfe_annual_share is None else round(self.cfe_annual_share, 6),
            "grid_cfe_share": round(self.grid_cfe_share, 6),
            "points": [
                {"ts": ts, "use": round(float(u), 6), "grid": round(float(g), 6), "emissions": round(float(e), 6)}
                for ts, u, g, e in zip(times, self.use_kwh, self.grid_kwh, self.emissions_kgco2, strict=True)
            ],
            "totals": {
                "use_kwh": round(float(self.use_kwh.sum()), 6),
                "grid_kwh": round(float(self.grid_kwh.sum()), 6),
                "emissions_kgco2": round(float(self.emissions_kgco2.sum()), 6),
            },
        }


def electricity_series(
    store: Store,
    scope: Scope,
    park_code: str,
    start: datetime,
    end: datetime,
    regime_code: str = "ghg-protocol",
    enterprise_code: str | None = None,
) -> ElectricitySeries:
    """15-minute electricity use, grid share and emissions over [start, end) (whole hours, one local year)."""
    park = repo.get_park(store, scope, park_code)
    pid, tz = int(park["id"]), ZoneInfo(park["timezone"])
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValidationFailed("start and end must be times with a zone, start before end")
    if (end - start) > timedelta(days=MAX_SERIES_DAYS):
        raise ValidationFailed(f"ask for at most {MAX_SERIES_DAYS} days at a time")
    if start.astimezone(tz).year != (end - timedelta(seconds=1)).astimezone(tz).year:
        raise ValidationFailed("the range must lie within one local year (the grid factor is annual)")
    subject = None
    if enterprise_code is not None:
        row = store.db.fetchone("SELECT id FROM enterprises WHERE park_id = ? AND code = ?", (pid, enterprise_code))
        if row is None or not scope.can_see(pid, int(row[0])):
            raise NotFound(f"no enterprise {enterprise_code!r} in park {park_code!r}")
        subject = int(row[0])
    elif scope.is_tenant or scope.role == "partner":
        raise NotFound(f"no park series of {park_code!r} for this user")
    year = start.astimezone(tz).year
    regime = rules.get_regime(regime_code)
    fscope = Scope(actor="system", role="enterprise" if subject else "operator", park_id=pid, enterprise_id=subject)
    resolver = rules.Resolver(library.load_factors(store, fscope), regime, year)
    ef = resolver.get(regime.electricity, what="the electricity series")
    elec = [s for s in load_sources(store, Scope.system(), pid) if s.method == "electricity"]
    mine = [s for s in elec if subject is None or s.enterprise_id == subject]
    if not mine:
        raise NotFound("no electricity source to build a series from")
    # hourly grid shares over the local year, then the 15-minute readings of the subject's channels
    grid = act.HourGrid.for_year(year, tz)
    supply = {
        p: [
            int(r[0])
            for r in store.db.fetchall(
                "SELECT id FROM channels WHERE park_id = ? AND parent_id IS NULL AND purpose = ?", (pid, p)
            )
        ]
        for p in act.SUPPLY_PURPOSES
    }
    hourly = store_activity(store).hourly({p: ids for p, ids in supply.items()}, grid)
    shares = act.supply_shares({p: hourly[p] for p in act.SUPPLY_PURPOSES if supply[p]}, grid.hours)
    if subject is None:  # the park: what its consumers received, E = G + P + D - C - X
        sign = {
            "grid_import": 1.0,
            "pv_generation": 1.0,
            "battery_discharge": 1.0,
            "battery_charge": -1.0,
            "grid_export": -1.0,
        }
        weights = {c: sign[p] for p, ids in supply.items() for c in ids}
    else:
        weights = {c: 1.0 for s in mine for c in s.channel_ids}
    n = int((end - start).total_seconds() // 900)
    use = np.zeros(n)
    if weights:
        rows = store.db.fetch_arrow(
            "SELECT r.channel_id, r.ts_start, CASE WHEN c.behaviour = 'counter' THEN coalesce(r.delta, 0)"
            " ELSE r.value END FROM readings r JOIN channels c ON c.id = r.channel_id WHERE r.channel_id IN ("
            + ", ".join(str(int(c)) for c in sorted(weights))
            + ") AND r.ts_start >= ? AND r.ts_start < ?",
            (start.astimezone(UTC), end.astimezone(UTC)),
        )
        if rows.num_rows:
            cid = rows.column(0).to_numpy()
            ts = (
                rows.column(1).cast("int64").to_numpy()
                // {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[rows.schema.field(1).type.unit]
            )
            idx = (ts - int(start.timestamp())) // 900
            w = np.array([weights[int(c)] for c in cid])
            np.add.at(use, idx, w * rows.column(2).to_numpy(zero_copy_only=False).astype(float))
    hour_of = ((np.arange(n) * 900 + (start - grid.start_utc).total_seconds()) // 3600).astype(int)
    g = shares.grid_share[hour_of]
    grid_kwh = use * g
    emissions = grid_kwh * ef.value * _per_kwh(ef) * 1000.0  # kgCO2
    # hourly matching over the range
    use_h = np.bincount(hour_of - hour_of[0], weights=use)
    grid_h = np.bincount(hour_of - hour_of[0], weights=grid_kwh)
    grid_cfe = _grid_cfe_share(resolver)
    cfe_h = (use_h - grid_h) + grid_h * grid_cfe
    total_use = float(use_h.sum())
    score = float(np.minimum(use_h, cfe_h).sum() / total_use) if total_use > 0 else None
    claimed_mwh = sum(c.mwh for c in instr.claims(store, pid, subject, year) if c.kind in ("gec", "green_power"))
    annual = None
    if total_use > 0:
        span = (end - start).total_seconds() / (grid.hours * 3600)  # instruments are annual: prorate by time
        annual = min(1.0, float(cfe_h.sum() + claimed_mwh * 1000 * span * (1 - grid_cfe)) / total_use)
    return ElectricitySeries(start.astimezone(UTC), 900, use, grid_kwh, emissions, ef, score, annual, grid_cfe)


def _per_kwh(ef: library.Factor) -> float:
    """tCO2 per kWh for one unit of the factor's value."""
    from parkzero.factors.units import parse_factor_unit

    fu = parse_factor_unit(ef.unit)
    if fu.activity_canonical != "kWh":
        raise ValidationFailed(f"factor {ef.factor_id} is not per unit of electricity ({ef.unit})")
    return fu.per_canonical_activity()


def _grid_cfe_share(resolver: rules.Resolver) -> float:
    """Non-fossil share of grid power = 1 - national average factor / fossil-fired factor, same year."""
    try:
        avg = resolver.get("electricity.cn.national_average", what="the grid's carbon-free share")
        fossil = resolver.get("electricity.cn.fossil", what="the grid's carbon-free share")
    except rules.MissingFactor:
        return 0.0
    return max(0.0, 1.0 - avg.value / fossil.value)
