"""District or national inventory runs on Spark over a Parquet export of many parks.

The meter data stay in Spark: the relational core (`engines.monthly_expr`, `engines.hourly_expr` over
`engines.hourly_from_readings`) runs there once for all parks, and its results (a few numbers per channel and
month, and per channel and hour for electricity) come back to the driver. The registry and ledger tables of
the export are small: they are loaded into an in-memory DuckDB store, and each park's inventory is computed by
the same `engine.compute` as on a single store, so the same data give the same bytes on every engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from parkzero.accounting import engine
from parkzero.accounting.activity import ChannelMonth, HourGrid
from parkzero.accounting.engines import SparkActivity, spark_activity
from parkzero.errors import NotFound
from parkzero.registry.scope import Scope
from parkzero.store import Store, open_store

SYSTEM = Scope.system("spark")


def metadata_store(export_dir: str | Path, parks: list[str] | None = None) -> Store:
    """An in-memory store holding the export's registry and ledger tables (no readings)."""
    from parkzero.store.export import PARK_TABLES

    root = Path(export_dir) / "tables"
    store = open_store("duckdb:///:memory:")
    con: duckdb.DuckDBPyConnection = store.db.conn()
    for table in PARK_TABLES:
        folder = root / table
        if not any(folder.glob("park=*/*.parquet")):
            continue
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        where = ""
        if parks:
            where = " WHERE park IN (" + ", ".join("'" + p.replace("'", "''") + "'" for p in parks) + ")"
        con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM read_parquet("
            f"'{folder}/park=*/*.parquet', hive_partitioning = true, union_by_name = true){where}"
        )
    return store


class _Prefetched(SparkActivity):
    """Serves the engine from results computed once on Spark for every park of the run."""

    def prefetch(self, monthly_ids: list[int], hourly_ids: list[int], year: int, grid: HourGrid) -> None:
        self.cache["monthly"] = {}
        for cm in SparkActivity.monthly(self, monthly_ids, year):
            self.cache["monthly"].setdefault(cm.channel_id, []).append(cm)
        per_channel = SparkActivity.hourly(self, {str(c): [c] for c in hourly_ids}, grid)
        self.cache["hourly"] = {int(k): v for k, v in per_channel.items()}
        self.cache["year"] = year

    def monthly(self, channel_ids: list[int], year: int) -> list[ChannelMonth]:
        if self.cache.get("year") != year:
            return SparkActivity.monthly(self, channel_ids, year)
        return [cm for c in sorted(set(channel_ids)) for cm in self.cache["monthly"].get(int(c), [])]

    def hourly(self, groups: dict[str, list[int]], grid: HourGrid) -> dict[str, np.ndarray]:
        cached = self.cache.get("hourly", {})
        if not all(int(c) in cached for ids in groups.values() for c in ids):
            return SparkActivity.hourly(self, groups, grid)
        return {g: sum((cached[int(c)] for c in sorted(set(ids))), np.zeros(grid.hours)) for g, ids in groups.items()}


def run_spark(
    session: Any, export_dir: str | Path, year: int, regime: str, parks: list[str] | None = None
) -> list[engine.InventoryResult]:
    """Park inventories (whole park, every tenant) for `year` over the export, the heavy part on Spark."""
    meta = metadata_store(export_dir, parks)
    found = [r[0] for r in meta.db.fetchall("SELECT code FROM parks ORDER BY code")]
    if parks:
        missing = sorted(set(parks) - set(found))
        if missing:
            raise NotFound(f"parks not in the export: {', '.join(missing)}")
    base = spark_activity(session, str(export_dir), found)
    act = _Prefetched(base.daily_table, base.hourly_table, base.backend, "spark")
    monthly_ids = [int(r[0]) for r in meta.db.fetchall("SELECT DISTINCT channel_id FROM emission_source_channels")]
    hourly_ids = [
        int(r[0])
        for r in meta.db.fetchall(
            "SELECT c.id FROM channels c WHERE c.parent_id IS NULL AND c.purpose IN ('grid_import', 'grid_export',"
            " 'pv_generation', 'battery_charge', 'battery_discharge') UNION SELECT sc.channel_id FROM"
            " emission_source_channels sc JOIN emission_sources s ON s.id = sc.source_id WHERE s.method ="
            " 'electricity'"
        )
    ]
    tz_rows = meta.db.fetchall("SELECT DISTINCT timezone FROM parks")
    results = []
    if len(tz_rows) == 1:  # one time zone: one hour grid, fetched once for all parks
        from zoneinfo import ZoneInfo

        act.prefetch(monthly_ids, hourly_ids, year, HourGrid.for_year(year, ZoneInfo(tz_rows[0][0])))
    try:
        for code in found:
            results.append(engine.compute(meta, SYSTEM, code, year, regime, activity=act))
    finally:
        meta.close()
    return results
