"""Time-series queries over [start, end) at PT15M, PT1H, P1D or P1M, with the unit on every series.

PT15M reads raw readings (a counter channel gives its interval energy, not the register); PT1H reads the
hourly rollup, P1D and P1M the park-local daily rollup. Summable quantities (energy, volume, mass) are
summed; others (power, temperature, SOC) are averaged. Rejected readings never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from parkzero.errors import ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.readings import QUALITY_NAMES, REJECTED
from parkzero.units import QUANTITY_KINDS

RESOLUTIONS = ("PT15M", "PT1H", "P1D", "P1M")


@dataclass
class Series:
    channel: str
    unit: str
    quantity_kind: str
    resolution: str
    aggregate: str  # "sum" or "mean"
    timestamps: list[datetime] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    readings: list[int] = field(default_factory=list)  # raw readings behind each point
    quality: list[str] = field(default_factory=list)  # worst quality in the point

    def as_dict(self) -> dict:
        return {
            "channel": self.channel,
            "unit": self.unit,
            "quantity_kind": self.quantity_kind,
            "resolution": self.resolution,
            "aggregate": self.aggregate,
            "points": [
                {"ts": t.isoformat(), "value": v, "readings": n, "quality": q}
                for t, v, n, q in zip(self.timestamps, self.values, self.readings, self.quality, strict=True)
            ],
        }


def check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("start and end need a time zone offset, e.g. 2025-03-01T00:00:00+08:00")
    if not start < end:
        raise ValidationFailed("start must be before end; ranges are half-open [start, end)")


def series(
    store: Store,
    scope: Scope,
    park_code: str,
    channel_codes: list[str],
    start: datetime,
    end: datetime,
    resolution: str = "PT1H",
) -> list[Series]:
    """Series of the given channels visible in `scope`; unknown or foreign channels are an error."""
    check_range(start, end)
    if resolution not in RESOLUTIONS:
        raise ValidationFailed(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    index = repo.channel_index(store, scope, park_code)
    missing = [c for c in channel_codes if c not in index]
    if missing:
        raise ValidationFailed(f"no channel {', '.join(map(repr, missing))} in park {park_code!r} visible to you")
    tz = ZoneInfo(repo.get_park(store, scope, park_code)["timezone"])
    chans = [index[c] for c in channel_codes]
    by_id = {c.id: c for c in chans}
    out = {c.id: _empty(c, resolution) for c in chans}
    if not chans:
        return []
    ids = ", ".join(str(c.id) for c in chans)
    db = store.db
    if resolution == "PT15M":
        rows = db.fetchall(
            "SELECT r.channel_id, r.ts_start, CASE WHEN c.behaviour = 'counter' THEN r.delta ELSE r.value END,"
            " 1, r.quality FROM readings r JOIN channels c ON c.id = r.channel_id"
            f" WHERE r.channel_id IN ({ids}) AND r.ts_start >= ? AND r.ts_start < ? AND r.quality <> {REJECTED}"
            " ORDER BY r.channel_id, r.ts_start",
            (start, end),
        )
    elif resolution == "PT1H":
        rows = db.fetchall(
            "SELECT channel_id, hour_start, value_sum, n_readings, CASE WHEN n_estimated > 0 THEN 1 ELSE 0 END"
            f" FROM rollup_hourly WHERE channel_id IN ({ids}) AND hour_start >= ? AND hour_start < ?"
            " ORDER BY channel_id, hour_start",
            (start, end),
        )
    else:
        d0, d1 = _local_days(start, end, tz)
        bucket = "day" if resolution == "P1D" else "CAST(date_trunc('month', day) AS DATE)"
        rows = db.fetchall(
            f"SELECT channel_id, {bucket} AS b, sum(value_sum), sum(n_readings),"
            " max(CASE WHEN n_estimated > 0 THEN 1 ELSE 0 END)"
            f" FROM rollup_daily WHERE channel_id IN ({ids}) AND day >= ? AND day < ?"
            f" GROUP BY channel_id, {bucket} ORDER BY channel_id, b",
            (d0, d1),
        )
    for channel_id, ts, total, n, q in rows:
        s = out[channel_id]
        if isinstance(ts, date) and not isinstance(ts, datetime):
            ts = datetime.combine(ts, time(0), tz)
        else:  # instants are shown in the park's time zone, like the local days and months
            ts = (ts if ts.tzinfo is not None else ts.replace(tzinfo=ZoneInfo("UTC"))).astimezone(tz)
        summable = QUANTITY_KINDS[by_id[channel_id].quantity_kind].summable
        value = None if total is None else (float(total) if summable else float(total) / max(int(n), 1))
        s.timestamps.append(ts)
        s.values.append(value)
        s.readings.append(int(n))
        s.quality.append(
            QUALITY_NAMES.get(int(q), "measured") if resolution == "PT15M" else ("estimated" if q else "measured")
        )
    return [out[c.id] for c in chans]


def _empty(c: repo.ChannelInfo, resolution: str) -> Series:
    summable = QUANTITY_KINDS[c.quantity_kind].summable
    return Series(c.code, c.unit, c.quantity_kind, resolution, "sum" if summable else "mean")


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """Local days covered by [start, end); daily data needs whole local days."""
    s, e = start.astimezone(tz), end.astimezone(tz)
    if s.time() != time(0) or e.time() != time(0):
        raise ValidationFailed(
            f"daily and monthly series need start and end at local midnight ({tz.key}), e.g. 2025-01-01T00:00:00+08:00"
        )
    return s.date(), e.date()


def monthly_totals(store: Store, scope: Scope, park_code: str, year: int) -> dict[str, list[float | None]]:
    """Energy (or other summable quantity) per channel per local month of `year`: {code: [12 values]}."""
    index = repo.channel_index(store, scope, park_code)
    summable = [c for c in index.values() if QUANTITY_KINDS[c.quantity_kind].summable]
    if not summable:
        return {}
    by_id = {c.id: c.code for c in summable}
    ids = ", ".join(str(i) for i in by_id)
    rows = store.db.fetchall(
        "SELECT channel_id, CAST(extract(month FROM day) AS INTEGER), sum(value_sum) FROM rollup_daily"
        f" WHERE channel_id IN ({ids}) AND day >= ? AND day < ? GROUP BY 1, 2",
        (date(year, 1, 1), date(year + 1, 1, 1)),
    )
    out: dict[str, list[float | None]] = {code: [None] * 12 for code in by_id.values()}
    for cid, month, total in rows:
        out[by_id[cid]][int(month) - 1] = None if total is None else float(total)
    return out
