"""Data quality per channel: completeness, gaps, counter resets, outliers; and explicit, flagged gap filling.

Completeness counts readings that are not rejected against the intervals expected in [start, end); the
national key-energy-user online monitoring rules ask for at least 90% of 15-minute points.
Outliers are values further than 6 scaled median absolute deviations (1.4826 x MAD; 1.2533 x mean absolute
deviation where MAD is 0) from the median, and
negative interval energy. Gap filling never happens by itself: `fill_gaps` writes readings with quality
`filled` through the normal merge, so they are audited, rolled up and visibly marked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from parkzero.errors import ValidationFailed
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.readings import FILLED, REJECTED, MergeResult, merge_readings
from parkzero.store.timeseries import check_range

COMPLETENESS_RULE_PCT = 90.0
OUTLIER_MADS = 6.0


@dataclass
class ChannelQuality:
    channel: str
    unit: str
    expected: int
    present: int
    completeness_pct: float
    meets_rule: bool
    estimated: int
    filled: int
    rejected: int
    counter_resets: int
    outliers: int
    gaps: list[dict] = field(default_factory=list)  # {"start", "end", "missing_intervals"}
    outlier_examples: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def quality_report(
    store: Store,
    scope: Scope,
    park_code: str,
    start: datetime,
    end: datetime,
    channel_codes: list[str] | None = None,
) -> list[ChannelQuality]:
    check_range(start, end)
    index = repo.channel_index(store, scope, park_code)
    codes = channel_codes if channel_codes is not None else sorted(index)
    unknown = [c for c in codes if c not in index]
    if unknown:
        raise ValidationFailed(f"no channel {', '.join(unknown)} in park {park_code!r} visible to you")
    tz = ZoneInfo(repo.get_park(store, scope, park_code)["timezone"])
    return [_channel_quality(store, index[c], start, end, tz) for c in codes]


def _channel_quality(
    store: Store, ch: repo.ChannelInfo, start: datetime, end: datetime, tz: ZoneInfo
) -> ChannelQuality:
    """Figures of one channel; times are shown in the park's time zone."""
    step = timedelta(seconds=ch.interval_s)
    expected = int((end - start) / step)
    table = store.db.fetch_arrow(
        "SELECT ts_start, value, quality FROM readings WHERE channel_id = ? AND ts_start >= ? AND ts_start < ?"
        " ORDER BY ts_start",
        (ch.id, start, end),
    )
    ts = [t for t in table.column("ts_start").to_pylist()]
    values = np.asarray(table.column("value").to_numpy(zero_copy_only=False), dtype=float)
    quality = np.asarray(table.column("quality").to_numpy(zero_copy_only=False), dtype=int)
    good = quality != REJECTED
    present = int(good.sum())
    gaps = _gaps([t for t, g in zip(ts, good, strict=True) if g], start, end, step)
    good_values = values[good]
    resets = 0
    if ch.behaviour == "counter" and good_values.size > 1:
        resets = int((np.diff(good_values) < 0).sum())
    outlier_mask = np.zeros(good_values.size, dtype=bool)
    check_values = np.diff(good_values) if ch.behaviour == "counter" and good_values.size > 1 else good_values
    mask = robust_outliers(check_values)
    outlier_mask[: mask.size] |= mask
    if ch.behaviour == "interval" and ch.quantity_kind in ("active_energy", "gas_volume", "water_volume"):
        outlier_mask |= good_values < 0
    good_ts = [t for t, g in zip(ts, good, strict=True) if g]
    examples = [
        {"ts": good_ts[i].astimezone(tz).isoformat(), "value": float(good_values[i])}
        for i in np.flatnonzero(outlier_mask)[:10]
    ]
    completeness = 100.0 * present / expected if expected else 0.0
    return ChannelQuality(
        channel=ch.code,
        unit=ch.unit,
        expected=expected,
        present=present,
        completeness_pct=round(completeness, 3),
        meets_rule=completeness >= COMPLETENESS_RULE_PCT,
        estimated=int((quality == 1).sum()),
        filled=int((quality == FILLED).sum()),
        rejected=int((quality == REJECTED).sum()),
        counter_resets=resets,
        outliers=int(outlier_mask.sum()),
        gaps=[
            {
                "start": a.astimezone(tz).isoformat(),
                "end": b.astimezone(tz).isoformat(),
                "missing_intervals": int((b - a) / step),
            }
            for a, b in gaps
        ],
        outlier_examples=examples,
    )


def robust_outliers(values: np.ndarray) -> np.ndarray:
    """Mask of values further than OUTLIER_MADS scaled MADs from the median.

    An intermittent load (an EV charger, a ladle furnace: off most of the time) is judged by its running
    values only, and "off" (0) is never an outlier. Where more than half the values are equal (MAD 0) the
    scale falls back to 1.2533 x the mean absolute deviation.
    """
    mask = np.zeros(values.size, dtype=bool)
    intermittent = values.size > 0 and np.mean(values == 0) > 0.5
    base = values[values != 0] if intermittent else values
    if base.size < 10:
        return mask
    med = np.median(base)
    mad = 1.4826 * np.median(np.abs(base - med))
    if mad == 0:
        mad = 1.2533 * np.mean(np.abs(base - med))
    if mad > 0:
        mask = np.abs(values - med) > OUTLIER_MADS * mad
        if intermittent:
            mask &= values != 0
    return mask


def _gaps(ts: list[datetime], start: datetime, end: datetime, step: timedelta) -> list[tuple[datetime, datetime]]:
    """Half-open runs of missing intervals in [start, end)."""
    gaps = []
    expected_next = start
    for t in ts:
        if t > expected_next:
            gaps.append((expected_next, t))
        expected_next = t + step
    if expected_next < end:
        gaps.append((expected_next, end))
    return gaps


def fill_gaps(
    store: Store,
    scope: Scope,
    park_code: str,
    channel_code: str,
    start: datetime,
    end: datetime,
    *,
    method: str = "linear",
) -> MergeResult:
    """Fill the missing intervals of one channel in [start, end), flagged `filled`.

    method "linear" interpolates between the readings on either side of each gap (for interval energy the
    per-interval values; for counters the register); "zero" writes 0 (a known shutdown).
    """
    scope.require_write()
    if method not in ("linear", "zero"):
        raise ValidationFailed("fill method must be 'linear' or 'zero'")
    check_range(start, end)
    index = repo.channel_index(store, scope, park_code)
    if channel_code not in index:
        raise ValidationFailed(f"no channel {channel_code!r} in park {park_code!r} visible to you")
    ch = index[channel_code]
    step = timedelta(seconds=ch.interval_s)
    rows = store.db.fetchall(
        "SELECT ts_start, value FROM readings WHERE channel_id = ? AND quality <> ? AND ts_start >= ? AND ts_start < ?"
        " ORDER BY ts_start",
        (ch.id, REJECTED, start - step * 96 * 7, end + step * 96 * 7),
    )
    known = {t: v for t, v in rows}
    inside = sorted(t for t in known if start <= t < end)
    new_ts, new_vals = [], []
    for a, b in _gaps(inside, start, end, step):
        before = max((t for t in known if t < a), default=None)
        after = min((t for t in known if t >= b), default=None)
        t = a
        while t < b:
            if method == "zero":
                value = 0.0
            elif before is None or after is None:
                raise ValidationFailed(
                    f"cannot interpolate {channel_code} from {a.isoformat()} to {b.isoformat()}: no reading on both sides"
                )
            else:
                frac = (t - before) / (after - before)
                value = known[before] + frac * (known[after] - known[before])
            new_ts.append(t)
            new_vals.append(float(value))
            t += step
    table = pa.table(
        {
            "channel_id": pa.array([ch.id] * len(new_ts), pa.int64()),
            "ts_start": pa.array(new_ts, pa.timestamp("us", tz="UTC")),
            "value": pa.array(new_vals, pa.float64()),
            "quality": pa.array([FILLED] * len(new_ts), pa.int16()),
        }
    )
    return merge_readings(
        store,
        table,
        source=f"fill:{method}",
        actor=scope.actor,
        park_id=ch.park_id,
        enterprise_id=ch.enterprise_id,
        allowed_channels=None if scope.is_system else set(c.id for c in index.values()),
    )
