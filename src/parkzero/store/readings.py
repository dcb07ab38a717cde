"""Readings: the idempotent, revision-keeping merge, the rollups it maintains, and time-series queries.

Semantics (DESIGN §3): a reading is keyed by (channel_id, ts_start) and covers [ts_start, ts_start + interval).
- the same value again is a no-op;
- a different value for an existing key becomes the current value and the old one is kept in
  `reading_revisions` (revision number, batch, time) - nothing is overwritten silently;
- a batch is written all-or-nothing and recorded in `ingest_batches` and the audit log;
- hourly (UTC hour) and daily (park-local day) rollups of the touched buckets are recomputed in the same
  transaction, so dashboards and inventories never scan raw readings.

Counter channels store the register; `delta` holds the energy from that reading to the next one, with resets
(the register restarts from zero) and rollovers (it wraps at `counter_rollover`) detected, never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parkzero.errors import Issue, ValidationFailed
from parkzero.store import Store

MEASURED, ESTIMATED, FILLED, REJECTED = 0, 1, 2, 3
QUALITY_NAMES = {MEASURED: "measured", ESTIMATED: "estimated", FILLED: "filled", REJECTED: "rejected"}
QUALITY_CODES = {v: k for k, v in QUALITY_NAMES.items()}

READING_SCHEMA = pa.schema(
    [
        ("channel_id", pa.int64()),
        ("ts_start", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("quality", pa.int16()),
    ]
)
_STAGE_DDL = "channel_id BIGINT, ts_start TIMESTAMPTZ, value DOUBLE PRECISION, quality SMALLINT"
_REL_TOL = 1e-9


@dataclass(frozen=True)
class MergeResult:
    batch_id: int
    received: int
    inserted: int
    unchanged: int
    revised: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def as_reading_table(table: pa.Table) -> pa.Table:
    """Coerce a table with channel_id, ts_start, value[, quality] to READING_SCHEMA."""
    if "quality" not in table.column_names:
        table = table.append_column("quality", pa.array(np.zeros(table.num_rows, dtype=np.int16)))
    cols = []
    for field in READING_SCHEMA:
        if field.name not in table.column_names:
            raise ValidationFailed(f"readings need a column {field.name!r}")
        col = table.column(field.name)
        if field.name == "ts_start" and pa.types.is_timestamp(col.type) and col.type.tz is None:
            raise ValidationFailed("ts_start has no time zone; timestamps must be timezone-aware")
        cols.append(pc.cast(col, field.type))
    return pa.Table.from_arrays(cols, schema=READING_SCHEMA)


def merge_readings(
    store: Store,
    table: pa.Table,
    *,
    source: str,
    actor: str,
    filename: str | None = None,
    park_id: int | None = None,
    enterprise_id: int | None = None,
    allowed_channels: set[int] | None = None,
) -> MergeResult:
    """Merge a batch of readings (canonical units) into the store, all or nothing.

    Parameters
    ----------
    table : pyarrow.Table
        channel_id, ts_start (timezone-aware), value [channel's canonical unit], quality (optional code).
    allowed_channels : set of int, optional
        Channel ids the caller may write (tenant scope); any other id rejects the whole batch.

    Raises ValidationFailed (nothing written) for unknown or forbidden channels, misaligned timestamps,
    non-finite values, and keys given twice with different values. Identical repeats collapse to one.
    """
    table = as_reading_table(table)
    _check_values(table)
    db = store.db
    with db.write_lock, db.transaction():
        if db.engine != "duckdb":
            db.execute("SELECT pg_advisory_xact_lock(hashtext('parkzero.readings.' || current_schema()))")
        received = table.num_rows
        batch_id = store.next_batch_id()
        if received == 0:
            return _record(store, batch_id, 0, 0, 0, 0, source, actor, filename, park_id, enterprise_id)
        meta = _channel_meta(store, table)
        table = _check_keys(table, meta, allowed_channels)
        ids = ", ".join(str(i) for i in meta)
        ts = table.column("ts_start")
        ts_min, ts_max = pc.min(ts).as_py(), pc.max(ts).as_py()
        with db.staged("pz_stage", table, _STAGE_DDL):
            db.execute("DROP TABLE IF EXISTS pz_match")
            db.execute(
                "CREATE TEMPORARY TABLE pz_match AS SELECT s.channel_id, s.ts_start, s.value, s.quality,"
                " r.value AS old_value, r.quality AS old_quality, r.revision AS old_revision,"
                " r.batch_id AS old_batch FROM pz_stage s JOIN (SELECT channel_id, ts_start, value, quality,"
                f" revision, batch_id FROM readings WHERE channel_id IN ({ids}) AND ts_start >= ? AND ts_start <= ?) r"
                " ON r.channel_id = s.channel_id AND r.ts_start = s.ts_start",
                (ts_min, ts_max),
            )
            changed = f"(abs(value - old_value) > {_REL_TOL} * greatest(1.0, abs(old_value)) OR quality <> old_quality)"
            n_match, n_revised = db.fetchone(  # type: ignore[misc]
                f"SELECT count(*), count(*) FILTER (WHERE {changed}) FROM pz_match"
            )
            if n_revised:
                db.execute(
                    "INSERT INTO reading_revisions (channel_id, ts_start, revision, value, quality, batch_id,"
                    " superseded_by, superseded_at) SELECT channel_id, ts_start, old_revision, old_value,"
                    f" old_quality, old_batch, ?, ? FROM pz_match WHERE {changed}",
                    (batch_id, datetime.now(UTC)),
                )
                db.execute(
                    "UPDATE readings SET value = m.value, quality = m.quality, revision = m.old_revision + 1,"
                    f" batch_id = ? FROM (SELECT * FROM pz_match WHERE {changed}) m"
                    " WHERE readings.channel_id = m.channel_id AND readings.ts_start = m.ts_start"
                    f" AND readings.channel_id IN ({ids}) AND readings.ts_start >= ? AND readings.ts_start <= ?",
                    (batch_id, ts_min, ts_max),
                )
            n_new = table.num_rows - n_match
            if n_new:
                new_rows = (
                    "SELECT s.channel_id, s.ts_start, s.value, s.quality FROM pz_stage s"
                    if n_match == 0
                    else "SELECT s.channel_id, s.ts_start, s.value, s.quality FROM pz_stage s WHERE NOT EXISTS"
                    " (SELECT 1 FROM pz_match m WHERE m.channel_id = s.channel_id AND m.ts_start = s.ts_start)"
                )
                db.execute(
                    "INSERT INTO readings (channel_id, ts_start, value, quality, batch_id, revision, delta)"
                    f" SELECT channel_id, ts_start, value, quality, ?, 1, NULL FROM ({new_rows}) n",
                    (batch_id,),
                )
        db.execute("DROP TABLE IF EXISTS pz_match")
        if n_new or n_revised:
            counters = [cid for cid, m in meta.items() if m.behaviour == "counter"]
            lo = _update_counter_deltas(store, counters, ts_min, ts_max)
            refresh_rollups(store, meta, min(lo, ts_min), ts_max)
        return _record(
            store,
            batch_id,
            received,
            n_new,
            n_match - n_revised,
            n_revised,
            source,
            actor,
            filename,
            park_id,
            enterprise_id,
        )


@dataclass(frozen=True)
class _ChannelMeta:
    code: str
    interval_s: int
    behaviour: str
    timezone: str


def _channel_meta(store: Store, table: pa.Table) -> dict[int, _ChannelMeta]:
    """The channels a batch names; unknown ids reject the batch."""
    wanted = sorted(int(i) for i in pc.unique(table.column("channel_id")).to_pylist())
    rows = store.db.fetchall(
        "SELECT c.id, c.code, c.interval_s, c.behaviour, p.timezone FROM channels c JOIN parks p ON p.id = c.park_id"
        f" WHERE c.id IN ({', '.join(str(i) for i in wanted)})"
    )
    meta = {int(r[0]): _ChannelMeta(r[1], int(r[2]), r[3], r[4]) for r in rows}
    unknown = [i for i in wanted if i not in meta]
    if unknown:
        raise ValidationFailed(
            "readings for unknown channels; nothing was written",
            issues=[Issue(f"channel id {i} does not exist", column="channel") for i in unknown[:20]],
        )
    return meta


def _check_keys(table: pa.Table, meta: dict[int, _ChannelMeta], allowed: set[int] | None) -> pa.Table:
    """Scope, interval grid and duplicate keys, checked in numpy; returns the batch without identical repeats."""
    if allowed is not None:
        forbidden = sorted(set(meta) - allowed)
        if forbidden:
            raise ValidationFailed(
                "readings for channels outside your scope; nothing was written",
                issues=[
                    Issue(f"channel {meta[c].code} is not yours to write", column="channel") for c in forbidden[:20]
                ],
            )
    ids = table.column("channel_id").to_numpy()
    ts_us = pc.cast(table.column("ts_start"), pa.int64()).to_numpy()
    intervals = {m.interval_s for m in meta.values()}
    if len(intervals) == 1:
        interval_us: np.ndarray | int = intervals.pop() * 1_000_000
    else:
        lut = np.zeros(max(meta) + 1, dtype=np.int64)
        lut[list(meta)] = [m.interval_s * 1_000_000 for m in meta.values()]
        interval_us = lut[ids]
    bad = np.flatnonzero(ts_us % interval_us)
    if bad.size:
        raise ValidationFailed(
            "timestamps not on the channel's interval grid; nothing was written",
            issues=[
                _row_issue(table, meta, i, f"not a multiple of {meta[int(ids[i])].interval_s} s") for i in bad[:20]
            ],
        )
    key = (ids.astype(np.int64) << 34) | (ts_us // 1_000_000)
    if key.size < 2 or bool(np.all(key[1:] > key[:-1])) or not _has_repeats(ids, ts_us, meta):
        return table
    order = np.argsort(key, kind="stable")
    ks = key[order]
    dup = np.flatnonzero(ks[1:] == ks[:-1])
    if dup.size == 0:
        return table
    first, second = order[dup], order[dup + 1]
    values = table.column("value").to_numpy()
    quality = table.column("quality").to_numpy()
    conflict = (values[first] != values[second]) | (quality[first] != quality[second])
    if conflict.any():
        pairs = np.flatnonzero(conflict)[:20]
        raise ValidationFailed(
            "the batch gives different values for the same channel and time; nothing was written",
            issues=[
                _row_issue(
                    table,
                    meta,
                    int(second[j]),
                    f"row {int(first[j]) + 1} gives {values[first[j]]!r}, row {int(second[j]) + 1} gives "
                    f"{values[second[j]]!r}",
                )
                for j in pairs
            ],
        )
    keep = np.ones(table.num_rows, dtype=bool)
    keep[second] = False
    return table.filter(pa.array(keep))


_DENSE_LIMIT = 256_000_000  # key slots a repeat check may count in one array (256 MB of int32 at most)


def _has_repeats(ids: np.ndarray, ts_us: np.ndarray, meta: dict[int, _ChannelMeta]) -> bool:
    """True when some (channel, ts_start) key occurs twice. Linear: counts keys on a dense grid of
    (channel, interval slot) where it fits in memory, which is the common case of a time-major file;
    otherwise says True and lets the caller sort."""
    step_us = int(np.gcd.reduce([m.interval_s for m in meta.values()])) * 1_000_000
    t0 = int(ts_us.min())
    slots = (int(ts_us.max()) - t0) // step_us + 1
    if slots * len(meta) > _DENSE_LIMIT:
        return True
    lut = np.zeros(max(meta) + 1, dtype=np.int64)
    lut[sorted(meta)] = np.arange(len(meta), dtype=np.int64)
    dense = lut[ids] * slots + (ts_us - t0) // step_us
    return bool(np.bincount(dense, minlength=1).max() > 1)


def _row_issue(table: pa.Table, meta: dict[int, _ChannelMeta], i: int, reason: str) -> Issue:
    cid = int(table.column("channel_id")[i].as_py())
    ts = table.column("ts_start")[i].as_py()
    return Issue(f"{meta[cid].code} at {ts.isoformat()}: {reason}", row=int(i) + 1)


def _check_values(table: pa.Table) -> None:
    for name in ("channel_id", "ts_start", "value", "quality"):
        nulls = table.column(name).null_count
        if nulls:
            raise ValidationFailed(f"{nulls} reading(s) without {name}; nothing was written")
    values = table.column("value").to_numpy()
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValidationFailed(
            f"{bad.size} reading(s) with a value that is not a finite number; nothing was written",
            issues=[Issue("value is not a finite number", row=int(i) + 1, column="value") for i in bad[:20]],
        )
    q = table.column("quality").to_numpy()
    if q.size and (q.min() < MEASURED or q.max() > REJECTED):
        raise ValidationFailed("quality must be one of measured, estimated, filled, rejected")


def _update_counter_deltas(store: Store, counters: list[int], ts_min: datetime, ts_max: datetime) -> datetime:
    """Recompute `delta` of counter channels around the batch; return the earliest reading touched."""
    db = store.db
    earliest = ts_min
    for channel_id in counters:
        prev = db.fetchone(
            "SELECT max(ts_start) FROM readings WHERE channel_id = ? AND ts_start < ? AND quality <> ?",
            (channel_id, ts_min, REJECTED),
        )
        nxt = db.fetchone(
            "SELECT min(ts_start) FROM readings WHERE channel_id = ? AND ts_start > ? AND quality <> ?",
            (channel_id, ts_max, REJECTED),
        )
        lo = prev[0] if prev and prev[0] is not None else ts_min
        hi = nxt[0] if nxt and nxt[0] is not None else ts_max
        earliest = min(earliest, lo)
        db.execute("DROP TABLE IF EXISTS pz_counter")
        db.execute(
            "CREATE TEMPORARY TABLE pz_counter AS SELECT channel_id, ts_start, value,"
            " lead(value) OVER (ORDER BY ts_start) AS next_value FROM readings"
            " WHERE channel_id = ? AND ts_start >= ? AND ts_start <= ? AND quality <> ?",
            (channel_id, lo, hi, REJECTED),
        )
        db.execute(
            "UPDATE readings SET delta = d.delta FROM (SELECT k.channel_id, k.ts_start, CASE"
            " WHEN k.next_value IS NULL THEN NULL"
            " WHEN k.next_value >= k.value THEN k.next_value - k.value"
            " WHEN c.counter_rollover IS NOT NULL AND k.value - k.next_value > c.counter_rollover / 2"
            "   THEN k.next_value + c.counter_rollover - k.value"
            " ELSE k.next_value END AS delta"
            " FROM pz_counter k JOIN channels c ON c.id = k.channel_id) d"
            " WHERE readings.channel_id = d.channel_id AND readings.ts_start = d.ts_start"
            " AND readings.channel_id = ? AND readings.ts_start >= ? AND readings.ts_start <= ?",
            (channel_id, lo, hi),
        )
        db.execute("DROP TABLE IF EXISTS pz_counter")
    return earliest


def refresh_rollups(store: Store, meta: dict[int, _ChannelMeta], ts_min: datetime, ts_max: datetime) -> None:
    """Recompute the hourly and park-local daily rollups of the given channels between ts_min and ts_max."""
    db = store.db
    h0 = ts_min.replace(minute=0, second=0, microsecond=0)
    h1 = ts_max.replace(minute=0, second=0, microsecond=0)
    all_ids = ", ".join(str(i) for i in meta)
    db.execute(
        f"DELETE FROM rollup_hourly WHERE channel_id IN ({all_ids}) AND hour_start >= ? AND hour_start <= ?",
        (h0, h1),
    )
    hour = db.hour_bucket("ts_start")
    for behaviour, column in (("interval", "value"), ("counter", "delta")):
        ids = [i for i, m in meta.items() if m.behaviour == behaviour]
        if not ids:
            continue
        db.execute(
            "INSERT INTO rollup_hourly (channel_id, hour_start, value_sum, value_min, value_max, n_readings,"
            f" n_estimated) SELECT channel_id, {hour} AS h, sum({column}), min(value), max(value), count(*),"
            " count(*) FILTER (WHERE quality IN (1, 2)) FROM readings"
            f" WHERE channel_id IN ({', '.join(map(str, ids))}) AND ts_start >= ? AND ts_start < ?"
            f" AND quality <> {REJECTED} GROUP BY 1, 2",
            (h0, h1 + timedelta(hours=1)),
        )
    for tz in sorted({m.timezone for m in meta.values()}):
        ids = ", ".join(str(i) for i, m in meta.items() if m.timezone == tz)
        zone = ZoneInfo(tz)
        d0, d1 = h0.astimezone(zone).date(), h1.astimezone(zone).date()
        lo = datetime.combine(d0, time(0), zone)
        hi = datetime.combine(d1 + timedelta(days=1), time(0), zone)
        db.execute(f"DELETE FROM rollup_daily WHERE channel_id IN ({ids}) AND day >= ? AND day <= ?", (d0, d1))
        local_day = "CAST(timezone(?, hour_start) AS DATE)"
        db.execute(
            "INSERT INTO rollup_daily (channel_id, day, value_sum, value_min, value_max, n_readings, n_estimated)"
            f" SELECT channel_id, {local_day} AS d, sum(value_sum), min(value_min), max(value_max),"
            " sum(n_readings), sum(n_estimated) FROM rollup_hourly"
            f" WHERE channel_id IN ({ids}) AND hour_start >= ? AND hour_start < ? GROUP BY 1, 2",
            (tz, lo, hi),
        )


def _record(
    store: Store,
    batch_id: int,
    received: int,
    inserted: int,
    unchanged: int,
    revised: int,
    source: str,
    actor: str,
    filename: str | None,
    park_id: int | None,
    enterprise_id: int | None,
) -> MergeResult:
    result = MergeResult(batch_id, received, inserted, unchanged, revised)
    store.db.execute(
        "INSERT INTO ingest_batches (id, created_at, actor, source, filename, park_id, enterprise_id, n_readings,"
        " n_inserted, n_unchanged, n_revised) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch_id,
            datetime.now(UTC),
            actor,
            source,
            filename,
            park_id,
            enterprise_id,
            received,
            inserted,
            unchanged,
            revised,
        ),
    )
    if inserted or revised:
        store.audit(
            actor,
            "readings.merge",
            "ingest_batch",
            batch_id,
            after=result.as_dict(),
            park_id=park_id,
            enterprise_id=enterprise_id,
        )
    return result
