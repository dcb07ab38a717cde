"""Energy flows of a park over a period: where the electricity came from and where it went.

The balance is read from the daily rollups (park-local days) of top-level electricity channels, i.e. channels
without a parent: a sub-meter is already counted in its parent. Purposes used:

- sources: ``grid_import``, ``pv_generation``, ``battery_discharge``
- sinks: ``grid_export``, ``battery_charge``; ``load`` (per tenant) and ``ev_charging`` split consumption

The arithmetic (Home Assistant / OpenEMS conventions) lives in `balance_from_sums`, a pure function:

- consumption = import + PV + discharge - export - charge                                     [kWh]
- self-consumption = (PV - export) / PV: the share of PV generation used on site               [%]
- self-sufficiency = (consumption - import) / consumption: the share of use not bought from the grid [%]

Scope: park-level flows are shown to the operator, verifier and regulator of the park; an enterprise user
gets only its own consumption (its top-level ``load`` channels), never the park's grid or PV figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from parkzero.errors import ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

FLOW_PURPOSES = (
    "grid_import",
    "grid_export",
    "pv_generation",
    "battery_charge",
    "battery_discharge",
    "ev_charging",
    "load",
)
PARK_ROLES = ("operator", "verifier", "regulator")
UNASSIGNED = ""  # tenant key of load channels that belong to no enterprise (common areas, park services)


@dataclass
class EnergyBalance:
    """Electricity balance of one park (or one tenant) over local days [start, end). Energies in kWh.

    Park-level figures are None when the caller may see only its own tenant (`park_level` False).
    """

    park: str
    start: date
    end: date
    park_level: bool
    grid_import_kwh: float | None
    grid_export_kwh: float | None
    pv_generation_kwh: float | None
    battery_charge_kwh: float | None
    battery_discharge_kwh: float | None
    ev_charging_kwh: float | None
    consumption_kwh: float | None
    self_consumption_pct: float | None
    self_sufficiency_pct: float | None
    tenants_kwh: dict[str, float] = field(default_factory=dict)  # enterprise code -> top-level load [kWh]

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def as_dict(self) -> dict:
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        return out

    def sankey(self) -> dict:
        """Nodes and links for a Sankey diagram: Grid, PV, Battery -> Park -> tenants, Battery, Export, EV.

        Node names are stable identifiers (``grid``, ``pv``, ``battery_discharge``, ``park``,
        ``tenant:<code>``, ``other``, ``ev``, ``battery_charge``, ``export``); the battery appears twice
        (discharge on the left, charge on the right) because a Sankey diagram has no cycles. ``other`` is
        consumption not metered by any tenant or EV channel. Links with no energy are left out.
        """
        links: list[tuple[str, str, float | None]]
        if not self.park_level:
            links = [("park", f"tenant:{code}", kwh) for code, kwh in sorted(self.tenants_kwh.items())]
        else:
            links = [
                ("grid", "park", self.grid_import_kwh),
                ("pv", "park", self.pv_generation_kwh),
                ("battery_discharge", "park", self.battery_discharge_kwh),
            ]
            tenants = sorted(self.tenants_kwh.items(), key=lambda kv: -kv[1])
            links += [("park", f"tenant:{code}" if code else "other", kwh) for code, kwh in tenants]
            metered = sum(self.tenants_kwh.values()) + (self.ev_charging_kwh or 0.0)
            rest = (self.consumption_kwh or 0.0) - metered
            if rest > 1e-6 * max(1.0, self.consumption_kwh or 0.0):
                links.append(("park", "other", rest))
            links += [
                ("park", "ev", self.ev_charging_kwh),
                ("park", "battery_charge", self.battery_charge_kwh),
                ("park", "export", self.grid_export_kwh),
            ]
        merged: dict[tuple[str, str], float] = {}
        for src, dst, kwh in links:
            if kwh is not None and kwh > 0:
                merged[(src, dst)] = merged.get((src, dst), 0.0) + float(kwh)
        used = [n for pair in merged for n in pair]
        nodes = [{"name": n} for n in dict.fromkeys(used)]
        return {
            "nodes": nodes,
            "links": [{"source": s, "target": t, "value": round(v, 3)} for (s, t), v in merged.items()],
        }


def balance_from_sums(
    sums: dict[str, float],
    tenants_kwh: dict[str, float] | None = None,
    *,
    park: str = "",
    start: date = date.min,
    end: date = date.min,
    park_level: bool = True,
) -> EnergyBalance:
    """The balance from energy sums by purpose [kWh]; pure arithmetic.

    Parameters
    ----------
    sums : dict
        Energy per purpose over the period [kWh]: grid_import, grid_export, pv_generation, battery_charge,
        battery_discharge, ev_charging (missing purposes count as 0).
    tenants_kwh : dict, optional
        Top-level ``load`` energy per enterprise code [kWh].
    park_level : bool
        False for a tenant's own view: only its consumption (the sum of `tenants_kwh`) is given.

    Percentages are None when their denominator is zero and are kept within [0, 100]: more export than
    PV generation (a battery exporting) is 0 % self-consumption, not a negative share.
    """
    tenants = {k: float(v) for k, v in (tenants_kwh or {}).items()}
    if not park_level:
        own = sum(tenants.values())
        return EnergyBalance(park, start, end, False, None, None, None, None, None, None, own, None, None, tenants)

    def get(purpose: str) -> float:
        return float(sums.get(purpose) or 0.0)

    grid_import, grid_export = get("grid_import"), get("grid_export")
    pv, charge, discharge = get("pv_generation"), get("battery_charge"), get("battery_discharge")
    consumption = grid_import + pv + discharge - grid_export - charge
    self_consumption = _pct(pv - grid_export, pv)
    self_sufficiency = _pct(consumption - grid_import, consumption)
    return EnergyBalance(
        park=park,
        start=start,
        end=end,
        park_level=True,
        grid_import_kwh=grid_import,
        grid_export_kwh=grid_export,
        pv_generation_kwh=pv,
        battery_charge_kwh=charge,
        battery_discharge_kwh=discharge,
        ev_charging_kwh=get("ev_charging"),
        consumption_kwh=consumption,
        self_consumption_pct=self_consumption,
        self_sufficiency_pct=self_sufficiency,
        tenants_kwh=tenants,
    )


def _pct(part: float, whole: float) -> float | None:
    if whole <= 0:
        return None
    return min(100.0, max(0.0, 100.0 * part / whole))


def change_pct(current: float | None, previous: float | None) -> float | None:
    """Relative change from `previous` to `current` [%]; None without a previous value."""
    if current is None or previous is None or previous == 0:
        return None
    return 100.0 * (current - previous) / abs(previous)


# -- queries ---------------------------------------------------------------------------------------
def sees_park_flows(scope: Scope) -> bool:
    """Whether `scope` may see park-level flows (grid, PV, storage) and not only its own consumption."""
    return scope.is_system or scope.role in PARK_ROLES


def local_days(start: date | datetime, end: date | datetime, tz: ZoneInfo) -> tuple[date, date]:
    """Local days [start, end) from dates, or from datetimes at local midnight."""
    out = []
    for t in (start, end):
        if isinstance(t, datetime):
            if t.tzinfo is None:
                raise ValidationFailed("start and end need a time zone offset, e.g. 2025-03-01T00:00:00+08:00")
            local = t.astimezone(tz)
            if local.time() != time(0):
                raise ValidationFailed(f"energy balances cover whole days: start and end at local midnight ({tz.key})")
            t = local.date()
        out.append(t)
    if not out[0] < out[1]:
        raise ValidationFailed("start must be before end; ranges are half-open [start, end)")
    return out[0], out[1]


def _park(store: Store, scope: Scope, park_code: str) -> tuple[int, ZoneInfo]:
    park = repo.get_park(store, scope, park_code)
    return int(park["id"]), ZoneInfo(park["timezone"])


def _sums(store: Store, scope: Scope, park_id: int, d0: date, d1: date) -> list[tuple[str, int | None, float]]:
    """(purpose, enterprise_id, kWh) of top-level electricity channels visible in `scope` over [d0, d1)."""
    where, params = scope.sql_filter("c.park_id", "c.enterprise_id")
    purposes = ", ".join(f"'{p}'" for p in FLOW_PURPOSES)
    rows = store.db.fetchall(
        "SELECT c.purpose, c.enterprise_id, sum(d.value_sum) FROM rollup_daily d"
        " JOIN channels c ON c.id = d.channel_id"
        f" WHERE c.park_id = ? AND c.parent_id IS NULL AND c.quantity_kind = 'active_energy'"
        f" AND c.purpose IN ({purposes}) AND d.day >= ? AND d.day < ?{where}"
        " GROUP BY c.purpose, c.enterprise_id",
        [park_id, d0, d1, *params],
    )
    return [(p, e, float(v or 0.0)) for p, e, v in rows]


def _enterprise_codes(store: Store, park_id: int) -> dict[int, str]:
    rows = store.db.fetchall("SELECT id, code FROM enterprises WHERE park_id = ?", (park_id,))
    return {int(i): str(c) for i, c in rows}


def energy_balance(
    store: Store, scope: Scope, park_code: str, start: date | datetime, end: date | datetime
) -> EnergyBalance:
    """The park's electricity balance over local days [start, end) as seen by `scope`.

    `start` and `end` are local dates, or timezone-aware datetimes at the park's local midnight.
    """
    pid, tz = _park(store, scope, park_code)
    d0, d1 = local_days(start, end, tz)
    park_level = sees_park_flows(scope)
    codes = _enterprise_codes(store, pid)
    sums: dict[str, float] = {}
    tenants: dict[str, float] = {}
    for purpose, enterprise_id, kwh in _sums(store, scope, pid, d0, d1):
        if purpose == "load":
            code = codes.get(int(enterprise_id), UNASSIGNED) if enterprise_id is not None else UNASSIGNED
            if code == UNASSIGNED and not park_level:
                continue
            tenants[code] = tenants.get(code, 0.0) + kwh
        else:
            sums[purpose] = sums.get(purpose, 0.0) + kwh
    own = scope.enterprise_id if scope.is_tenant else None
    if not park_level and own is not None and own in codes:
        tenants.setdefault(codes[own], 0.0)
    return balance_from_sums(sums, tenants, park=park_code, start=d0, end=d1, park_level=park_level)


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period just before [start, end): the same number of calendar months where [start, end) is whole
    months (December is compared with November, not with 31 days from 31 October), else equal length."""
    if start.day == 1 and end.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month
        index = start.year * 12 + start.month - 1 - months
        return date(index // 12, index % 12 + 1, 1), start
    return start - (end - start), start


@dataclass
class PeriodComparison:
    current: EnergyBalance
    previous: EnergyBalance

    FIGURES = (
        "grid_import_kwh",
        "grid_export_kwh",
        "pv_generation_kwh",
        "consumption_kwh",
        "self_sufficiency_pct",
        "self_consumption_pct",
    )

    def rows(self) -> list[dict]:
        """{figure, current, previous, change_pct} for each figure visible in the balance."""
        out = []
        for name in self.FIGURES:
            cur, prev = getattr(self.current, name), getattr(self.previous, name)
            if cur is None and prev is None and not self.current.park_level:
                continue
            out.append({"figure": name, "current": cur, "previous": prev, "change_pct": change_pct(cur, prev)})
        return out


def compare_periods(
    store: Store, scope: Scope, park_code: str, start: date | datetime, end: date | datetime
) -> PeriodComparison:
    """The balance of [start, end) next to that of the previous period of equal length."""
    current = energy_balance(store, scope, park_code, start, end)
    p0, p1 = previous_period(current.start, current.end)
    return PeriodComparison(current, energy_balance(store, scope, park_code, p0, p1))


def monthly_pv_production(
    store: Store, scope: Scope, park_code: str, end: date, months: int = 12
) -> list[tuple[date, float | None]]:
    """PV generation of top-level ``pv_generation`` channels per local month [kWh], the `months` months up to
    and including the month of the day before `end`; None for a month without data.

    Empty for a caller who may not see park-level flows.
    """
    pid, _tz = _park(store, scope, park_code)
    last = (end - timedelta(days=1)).replace(day=1)
    firsts = [last]
    for _ in range(months - 1):
        firsts.append((firsts[-1] - timedelta(days=1)).replace(day=1))
    firsts.reverse()
    if not sees_park_flows(scope):
        return []
    where, params = scope.sql_filter("c.park_id", "c.enterprise_id")
    rows = store.db.fetchall(
        "SELECT CAST(date_trunc('month', d.day) AS DATE) AS m, sum(d.value_sum) FROM rollup_daily d"
        " JOIN channels c ON c.id = d.channel_id WHERE c.park_id = ? AND c.parent_id IS NULL"
        " AND c.purpose = 'pv_generation' AND c.quantity_kind = 'active_energy' AND d.day >= ? AND d.day < ?"
        f"{where} GROUP BY 1",
        [pid, firsts[0], end, *params],
    )
    by_month = {m if not isinstance(m, datetime) else m.date(): float(v) for m, v in rows if v is not None}
    return [(m, by_month.get(m)) for m in firsts]


def daily_consumption(
    store: Store, scope: Scope, park_code: str, enterprise_code: str, start: date, end: date
) -> list[tuple[date, float | None]]:
    """Top-level ``load`` energy of one tenant per local day in [start, end) [kWh]; None for a day without data."""
    pid, _tz = _park(store, scope, park_code)
    where, params = scope.sql_filter("c.park_id", "c.enterprise_id")
    rows = store.db.fetchall(
        "SELECT d.day, sum(d.value_sum) FROM rollup_daily d JOIN channels c ON c.id = d.channel_id"
        " JOIN enterprises e ON e.id = c.enterprise_id WHERE c.park_id = ? AND e.code = ?"
        " AND c.parent_id IS NULL AND c.purpose = 'load' AND c.quantity_kind = 'active_energy'"
        f" AND d.day >= ? AND d.day < ?{where} GROUP BY d.day",
        [pid, enterprise_code, start, end, *params],
    )
    by_day = {(d if not isinstance(d, datetime) else d.date()): float(v) for d, v in rows if v is not None}
    n = (end - start).days
    return [(start + timedelta(days=i), by_day.get(start + timedelta(days=i))) for i in range(n)]


def latest_day(store: Store, scope: Scope, park_code: str) -> date | None:
    """The last local day with electricity data visible in `scope`, or None."""
    pid, _tz = _park(store, scope, park_code)
    where, params = scope.sql_filter("c.park_id", "c.enterprise_id")
    row = store.db.fetchone(
        "SELECT max(d.day) FROM rollup_daily d JOIN channels c ON c.id = d.channel_id"
        f" WHERE c.park_id = ? AND c.quantity_kind = 'active_energy'{where}",
        [pid, *params],
    )
    if row is None or row[0] is None:
        return None
    d = row[0]
    return d.date() if isinstance(d, datetime) else d
