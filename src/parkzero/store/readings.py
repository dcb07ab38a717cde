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
from datetime import UTC, datetime, timedelta

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
    non-finite values, and keys given twice with different values.
    """
    table = as_reading_table(table)
    _check_values(table)
    db = store.db
    with db.write_lock, db.transaction():
        if db.engine != "duckdb":
            db.execute("SELECT pg_advisory_xact_lock(4242)")
        db.load_temp("pz_stage_raw", table, _STAGE_DDL)
        _check_batch(store, allowed_channels)
        received = table.num_rows
        # identical repeats inside one batch collapse to one row
        db.execute("DROP TABLE IF EXISTS pz_stage")
        db.execute(
            "CREATE TEMPORARY TABLE pz_stage AS SELECT channel_id, ts_start, min(value) AS value,"
            " min(quality) AS quality FROM pz_stage_raw GROUP BY channel_id, ts_start"
        )
        batch_id = store.next_batch_id()
        if received == 0:
            return _record(store, batch_id, 0, 0, 0, 0, source, actor, filename, park_id, enterprise_id)
        ts_min, ts_max = db.fetchone("SELECT min(ts_start), max(ts_start) FROM pz_stage")  # type: ignore[misc]
        db.execute("DROP TABLE IF EXISTS pz_match")
        db.execute(
            "CREATE TEMPORARY TABLE pz_match AS SELECT s.channel_id, s.ts_start, s.value, s.quality,"
            " r.value AS old_value, r.quality AS old_quality, r.revision AS old_revision, r.batch_id AS old_batch"
            " FROM pz_stage s JOIN (SELECT channel_id, ts_start, value, quality, revision, batch_id FROM readings"
            "   WHERE ts_start >= ? AND ts_start <= ?) r"
            " ON r.channel_id = s.channel_id AND r.ts_start = s.ts_start",
            (ts_min, ts_max),
        )
        changed = (
            f"(abs(value - old_value) > {_REL_TOL} * greatest(1.0, abs(old_value)) OR quality <> old_quality)"
        )
        n_match, n_revised = db.fetchone(  # type: ignore[misc]
            f"SELECT count(*), count(*) FILTER (WHERE {changed}) FROM pz_match"
        )
        now = datetime.now(UTC)
        if n_revised:
            db.execute(
                "INSERT INTO reading_revisions (channel_id, ts_start, revision, value, quality, batch_id,"
                " superseded_by, superseded_at) SELECT channel_id, ts_start, old_revision, old_value, old_quality,"
                f" old_batch, ?, ? FROM pz_match WHERE {changed}",
                (batch_id, now),
            )
            db.execute(
                "UPDATE readings SET value = m.value, quality = m.quality, revision = m.old_revision + 1,"
                f" batch_id = ? FROM (SELECT * FROM pz_match WHERE {changed}) m"
                " WHERE readings.channel_id = m.channel_id AND readings.ts_start = m.ts_start"
                " AND readings.ts_start >= ? AND readings.ts_start <= ?",
                (batch_id, ts_min, ts_max),
            )
        n_new = db.fetchone("SELECT count(*) FROM pz_stage")[0] - n_match  # type: ignore[index]
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
        if n_new or n_revised:
            lo = _update_counter_deltas(store, ts_min, ts_max)
            refresh_rollups(store, min(lo, ts_min), ts_max)
        return _record(
            store, batch_id, received, n_new, n_match - n_revised, n_revised,
            source, actor, filename, park_id, enterprise_id,
        )


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


def _check_batch(store: Store, allowed: set[int] | None) -> None:
    db = store.db
    unknown = db.fetchall(
        "SELECT DISTINCT s.channel_id FROM pz_stage_raw s LEFT JOIN channels c ON c.id = s.channel_id"
        " WHERE c.id IS NULL ORDER BY 1 LIMIT 20"
    )
    if unknown:
        raise ValidationFailed(
            "readings for unknown channels; nothing was written",
            issues=[Issue(f"channel id {r[0]} does not exist", column="channel") for r in unknown],
        )
    if allowed is not None:
        ids = [r[0] for r in db.fetchall("SELECT DISTINCT channel_id FROM pz_stage_raw")]
        forbidden = sorted(set(ids) - allowed)
        if forbidden:
            raise ValidationFailed(
                "readings for channels outside your scope; nothing was written",
                issues=[Issue(f"channel id {c} is not yours to write", column="channel") for c in forbidden[:20]],
            )
    misaligned = db.fetchall(
        "SELECT s.channel_id, c.code, s.ts_start, c.interval_s FROM pz_stage_raw s JOIN channels c"
        " ON c.id = s.channel_id WHERE CAST(extract(epoch FROM s.ts_start) AS BIGINT) % c.interval_s <> 0"
        " OR extract(microseconds FROM s.ts_start) % 1000000 <> 0 LIMIT 20"
    )
    if misaligned:
        raise ValidationFailed(
            "timestamps not on the channel's interval grid; nothing was written",
            issues=[
                Issue(f"{ts.isoformat()} is not a multiple of {iv} s", column="ts_start", value=code)
                for _, code, ts, iv in misaligned
            ],
        )
    conflicts = db.fetchall(
        "SELECT s.channel_id, c.code, s.ts_start, min(s.value), max(s.value) FROM pz_stage_raw s"
        " JOIN channels c ON c.id = s.channel_id GROUP BY s.channel_id, c.code, s.ts_start"
        " HAVING count(DISTINCT s.value) > 1 OR count(DISTINCT s.quality) > 1 ORDER BY 1, 3 LIMIT 20"
    )
    if conflicts:
        raise ValidationFailed(
            "the batch gives different values for the same channel and time; nothing was written",
            issues=[
                Issue(f"{code} at {ts.isoformat()} has both {lo} and {hi}", column="value")
                for _, code, ts, lo, hi in conflicts
            ],
        )


def _update_counter_deltas(store: Store, ts_min: datetime, ts_max: datetime) -> datetime:
    """Recompute `delta` of counter channels around the batch; return the earliest reading touched."""
    db = store.db
    counters = db.fetchall(
        "SELECT c.id, c.counter_rollover FROM channels c WHERE c.behaviour = 'counter'"
        " AND c.id IN (SELECT DISTINCT channel_id FROM pz_stage)"
    )
    earliest = ts_min
    for channel_id, _rollover in counters:
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
            " AND readings.ts_start >= ? AND readings.ts_start <= ?",
            (lo, hi),
        )
    return earliest


def refresh_rollups(store: Store, ts_min: datetime, ts_max: datetime) -> None:
    """Recompute the hourly and daily rollups of the channels in pz_stage between ts_min and ts_max."""
    db = store.db
    h0 = ts_min.replace(minute=0, second=0, microsecond=0)
    h1 = ts_max.replace(minute=0, second=0, microsecond=0)
    scope = "channel_id IN (SELECT DISTINCT channel_id FROM pz_stage)"
    db.execute(f"DELETE FROM rollup_hourly WHERE {scope} AND hour_start >= ? AND hour_start <= ?", (h0, h1))
    db.execute(
        "INSERT INTO rollup_hourly (channel_id, hour_start, value_sum, value_min, value_max, n_readings,"
        " n_estimated) SELECT r.channel_id, date_trunc('hour', r.ts_start) AS h,"
        " sum(CASE WHEN c.behaviour = 'counter' THEN r.delta ELSE r.value END),"
        " min(r.value), max(r.value), count(*), count(*) FILTER (WHERE r.quality IN (1, 2))"
        " FROM readings r JOIN channels c ON c.id = r.channel_id"
        f" WHERE r.{scope} AND r.ts_start >= ? AND r.ts_start < ? AND r.quality <> {REJECTED}"
        " GROUP BY r.channel_id, date_trunc('hour', r.ts_start)",
        (h0, h1 + timedelta(hours=1)),
    )
    # park-local days: widen by the largest UTC offsets so every touched local day is rebuilt whole
    d0 = (h0 - timedelta(hours=14)).date()
    d1 = (h1 + timedelta(hours=14)).date()
    local_day = "CAST(timezone(p.timezone, h.hour_start) AS DATE)"
    db.execute(f"DELETE FROM rollup_daily WHERE {scope} AND day >= ? AND day <= ?", (d0, d1))
    db.execute(
        "INSERT INTO rollup_daily (channel_id, day, value_sum, value_min, value_max, n_readings, n_estimated)"
        f" SELECT h.channel_id, {local_day} AS d, sum(h.value_sum), min(h.value_min), max(h.value_max),"
        " sum(h.n_readings), sum(h.n_estimated)"
        " FROM rollup_hourly h JOIN channels c ON c.id = h.channel_id JOIN parks p ON p.id = c.park_id"
        f" WHERE h.{scope} AND h.hour_start >= ? AND h.hour_start < ? AND {local_day} >= ? AND {local_day} <= ?"
        f" GROUP BY h.channel_id, {local_day}",
        (
            datetime.combine(d0, datetime.min.time(), UTC) - timedelta(hours=14),
            datetime.combine(d1, datetime.min.time(), UTC) + timedelta(hours=38),
            d0,
            d1,
        ),
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
        (batch_id, datetime.now(UTC), actor, source, filename, park_id, enterprise_id,
         received, inserted, unchanged, revised),
    )
    if inserted or revised:
        store.audit(actor, "readings.merge", "ingest_batch", batch_id, after=result.as_dict(),
                    park_id=park_id, enterprise_id=enterprise_id)
    return result
