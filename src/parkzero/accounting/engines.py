"""The relational core of the accounting, written once in Ibis, run on DuckDB, PostgreSQL or Spark.

The heavy part of an inventory is two aggregations over meter data; everything after them is arithmetic on
a few thousand numbers (`parkzero.accounting.engine`). They are Ibis expressions here, so the same code runs:

- on the embedded store or PostgreSQL, over the rollups kept at ingest (``rollup_daily``, ``rollup_hourly``);
- on Apache Spark over a Parquet export (`parkzero.store.export`), where the daily rollup is exported and the
  hourly one is derived from the readings by `hourly_from_readings`, for a district or national run over many
  parks (`run_spark`).

`monthly_expr` — per channel and park-local month: sum, readings, estimated readings.
`hourly_expr` — per group of channels and UTC hour: the summed energy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from parkzero.accounting.activity import ChannelMonth, HourGrid
from parkzero.store import Store
from parkzero.store.db import DUCKDB

ENGINES = ("duckdb", "postgres", "spark")


# -- the core (Ibis expressions) -------------------------------------------------------------------
def monthly_expr(daily: ibis.Table, channels: ibis.Table, year: int) -> ibis.Table:
    """Per channel of `channels` (a table with `channel_id`) and park-local month of `year`."""
    t = daily.filter(daily.day >= dt.date(year, 1, 1), daily.day < dt.date(year + 1, 1, 1))
    t = t.join(channels, t.channel_id == channels.channel_id)
    return (
        t.group_by([t.channel_id, t.day.month().cast("int32").name("month")])
        .aggregate(
            amount=t.value_sum.sum(),
            n_readings=t.n_readings.sum().cast("int64"),
            n_estimated=t.n_estimated.sum().cast("int64"),
        )
        .order_by(["channel_id", "month"])
    )


def hourly_expr(hourly: ibis.Table, members: ibis.Table, start_utc: dt.datetime, end_utc: dt.datetime) -> ibis.Table:
    h = hourly.filter(hourly.hour_start >= start_utc, hourly.hour_start < end_utc)
    j = h.join(members, h.channel_id == members.channel_id)
    return j.group_by([j.grp, j.hour_start]).aggregate(value=j.value_sum.sum())


def hourly_from_readings(readings: ibis.Table, channels: ibis.Table) -> ibis.Table:
    """Hourly energy per channel from raw readings (counters by their `delta`), as ``rollup_hourly`` holds it."""
    j = readings.join(channels.select(channels.id, channels.behaviour), readings.channel_id == channels.id)
    energy = ibis.cases((j.behaviour == "counter", j.delta.fill_null(0.0)), else_=j.value)
    hour = j.ts_start.truncate("h")
    return j.group_by([j.channel_id, hour.name("hour_start")]).aggregate(value_sum=energy.sum())


# -- readers: where the two tables come from ----------------------------------------------------------
@dataclass
class IbisActivity:
    """Activity read through Ibis tables `daily` and `hourly` of one backend."""

    daily_table: ibis.Table
    hourly_table: ibis.Table
    backend: Any
    name: str

    def monthly(self, channel_ids: list[int], year: int) -> list[ChannelMonth]:
        if not channel_ids:
            return []
        ids = ibis.memtable(pa.table({"channel_id": pa.array(sorted({int(c) for c in channel_ids}), pa.int64())}))
        table = self.backend.to_pyarrow(monthly_expr(self.daily_table, ids, year))
        return [
            ChannelMonth(int(c), int(m), float(a or 0.0), int(n or 0), int(e or 0))
            for c, m, a, n, e in zip(*(table.column(k).to_pylist() for k in range(5)), strict=True)
        ]

    def hourly(self, groups: dict[str, list[int]], grid: HourGrid) -> dict[str, np.ndarray]:
        names = sorted(groups)
        out = {g: np.zeros(grid.hours) for g in names}
        pairs = [(int(c), i) for i, g in enumerate(names) for c in sorted(set(groups[g]))]
        if not pairs:
            return out
        members = ibis.memtable(
            pa.table(
                {
                    "channel_id": pa.array([p[0] for p in pairs], pa.int64()),
                    "grp": pa.array([p[1] for p in pairs], pa.int32()),
                }
            )
        )
        end = grid.start_utc + dt.timedelta(hours=grid.hours)
        table = self.backend.to_pyarrow(hourly_expr(self.hourly_table, members, grid.start_utc, end))
        return _to_hours(table, names, grid)


def _to_hours(table: pa.Table, names: list[str], grid: HourGrid) -> dict[str, np.ndarray]:
    out = {g: np.zeros(grid.hours) for g in names}
    if table.num_rows == 0:
        return out
    grp = table.column("grp").to_numpy(zero_copy_only=False).astype(np.int64)
    col = table.column("hour_start")
    unit = col.type.unit if pa.types.is_timestamp(col.type) else "us"
    ts = col.cast(pa.timestamp(unit, tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    per_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    hour = (ts // per_s - int(grid.start_utc.timestamp())) // 3600
    val = np.nan_to_num(table.column("value").to_numpy(zero_copy_only=False).astype(float))
    flat = np.bincount(grp * grid.hours + hour, weights=val, minlength=len(names) * grid.hours)
    for i, g in enumerate(names):
        out[g] = flat[i * grid.hours : (i + 1) * grid.hours]
    return out


def store_activity(store: Store) -> IbisActivity:
    """The store's rollups through Ibis (the store's own connection: same transaction view, same schema)."""
    con = store.db.conn()
    if store.engine == DUCKDB:
        backend = ibis.duckdb.from_connection(con)
        name = "duckdb"
    else:
        backend = ibis.postgres.from_connection(con)
        name = "postgres"
    return IbisActivity(backend.table("rollup_daily"), backend.table("rollup_hourly"), backend, name)


@dataclass
class SparkActivity(IbisActivity):
    """The export's daily rollups and readings on Spark (hourly derived from the readings)."""

    cache: dict = field(default_factory=dict)


def spark_activity(session: Any, export_dir: str, parks: list[str] | None = None) -> SparkActivity:
    backend = ibis.pyspark.connect(session)
    root = str(export_dir).rstrip("/")
    readings = backend.read_parquet(f"{root}/readings")
    daily = backend.read_parquet(f"{root}/daily")
    channels = backend.read_parquet(f"{root}/tables/channels")
    if parks:
        readings = readings.filter(readings.park.isin(parks))
        daily = daily.filter(daily.park.isin(parks))
    hourly = hourly_from_readings(readings, channels)
    return SparkActivity(daily, hourly, backend, "spark")
