"""Shared set-up for benchmarks: a fresh store (DuckDB file or a new PostgreSQL schema) with N channels."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store, open_store

PARK = "bench"
TZ = ZoneInfo("Asia/Shanghai")
YEAR_START = datetime(2025, 1, 1, tzinfo=TZ)
QUARTERS_PER_YEAR = 365 * 96


def registry_doc(n_channels: int) -> dict:
    return {
        "format": "parkzero-registry",
        "version": 1,
        "parks": [
            {
                "code": PARK,
                "name": "Benchmark park",
                "timezone": "Asia/Shanghai",
                "meters": [
                    {
                        "code": f"m{m}",
                        "name": f"Meter {m}",
                        "channels": [
                            {
                                "code": f"ch{i:05d}",
                                "name": f"Channel {i}",
                                "quantity_kind": "active_energy",
                                "purpose": "load",
                            }
                            for i in range(m * 100, min(n_channels, (m + 1) * 100))
                        ],
                    }
                    for m in range((n_channels + 99) // 100)
                ],
            }
        ],
    }


@contextlib.contextmanager
def fresh_store(database_url: str | None, n_channels: int) -> Iterator[tuple[Store, str]]:
    """A new store with the benchmark park; removed afterwards. Yields (store, url)."""
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if database_url and database_url.startswith("postgres"):
            import psycopg

            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(database_url, autocommit=True) as con:
                con.execute(f"CREATE SCHEMA {schema}")
            sep = "&" if "?" in database_url else "?"
            url = f"{database_url}{sep}options=-csearch_path%3D{schema}"
        else:
            url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        store = open_store(url)
        try:
            registry_io.import_registry(store, Scope.system(), registry_doc(n_channels))
            yield store, url
        finally:
            store.close()
            if schema:
                import psycopg

                with psycopg.connect(database_url, autocommit=True) as con:
                    con.execute(f"DROP SCHEMA {schema} CASCADE")


def year_table(store: Store, n_channels: int, quarters: int = QUARTERS_PER_YEAR, seed: int = 1) -> pa.Table:
    """A year of 15-minute readings [kWh] for every benchmark channel, as a merge-ready table."""
    ids = np.array(sorted(c.id for c in repo.channel_index(store, Scope.system(), PARK).values()), dtype=np.int64)
    t0 = int(YEAR_START.timestamp() * 1e6)
    ts = t0 + np.arange(quarters, dtype=np.int64) * 900_000_000
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "channel_id": np.repeat(ids[:n_channels], quarters),
            "ts_start": pa.array(np.tile(ts, n_channels), pa.timestamp("us", tz="UTC")),
            "value": rng.gamma(2.0, 5.0, n_channels * quarters),
        }
    )
