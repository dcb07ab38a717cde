"""Long-CSV ingestion benchmark: one year of 15-minute data for N channels through `ingest_file`.

    python bench/ingest_csv.py                       # 1,000 channels x 35,040 quarter hours (~1.4 GB), DuckDB
    python bench/ingest_csv.py --channels 20         # smoke run
    python bench/ingest_csv.py --database-url postgresql://postgres@127.0.0.1:5432/test   # pg_ prefix

The file is written into a temporary folder in the shape a meter system exports (one row per timestamp and
channel, time-major, ISO 8601 timestamps with +08:00), the park with those channels is created in a fresh
store (a DuckDB file, or a new PostgreSQL schema dropped afterwards), and the whole `ingest_file` call is
timed: parse + validate + convert (csv_parse_s) and the store merge (csv_merge_s).
Prints `name=value unit` lines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).parent))
from common import PARK, QUARTERS_PER_YEAR, YEAR_START, fresh_store  # noqa: E402

from parkzero.ingest.files import ingest_file  # noqa: E402
from parkzero.registry.scope import Scope  # noqa: E402


def write_long_csv(path: Path, n_channels: int, quarters: int, seed: int = 1) -> int:
    """Write timestamp,channel,value rows [kWh]; returns the number of readings."""
    stamps = pa.array([(YEAR_START + timedelta(minutes=15 * i)).isoformat() for i in range(quarters)])
    codes = pa.array([f"ch{i:05d}" for i in range(n_channels)])
    rng = np.random.default_rng(seed)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    per_chunk = max(1, 100_000 // n_channels)
    with open(path, "wb") as fh:
        fh.write(b"timestamp,channel,value\n")
        for q0 in range(0, quarters, per_chunk):
            q1 = min(quarters, q0 + per_chunk)
            q_idx = np.repeat(np.arange(q0, q1), n_channels)
            c_idx = np.tile(np.arange(n_channels), q1 - q0)
            values = np.round(rng.gamma(2.0, 5.0, q_idx.size), 3)
            pacsv.write_csv(pa.table({"t": stamps.take(q_idx), "c": codes.take(c_idx), "v": values}), fh, options)
    return n_channels * quarters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, default=1000)
    ap.add_argument("--quarters", type=int, default=QUARTERS_PER_YEAR, help="15-minute steps (default a year)")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a DuckDB file)")
    args = ap.parse_args()
    prefix = "pg_" if args.database_url else ""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readings.csv"
        n = write_long_csv(path, args.channels, args.quarters)
        size = path.stat().st_size
        with fresh_store(args.database_url, args.channels) as (store, _url):
            t0 = time.perf_counter()
            report = ingest_file(store, Scope.system("bench"), path, park_code=PARK, max_bytes=size)
            elapsed = time.perf_counter() - t0
            stored = store.db.fetchone("SELECT count(*) FROM readings")[0]  # type: ignore[index]
    assert report.readings == n == stored, (report.readings, n, stored)
    print(f"{prefix}csv_readings={n} readings ({args.channels} channels x {args.quarters} quarter hours)")
    print(f"{prefix}csv_file_mb={size / 1e6:.0f} MB")
    print(f"{prefix}csv_parse_s={report.parse_s:.2f} s")
    print(f"{prefix}csv_merge_s={report.merge_s:.2f} s")
    print(f"{prefix}csv_parse_readings_per_s={n / report.parse_s:.0f} readings/s")
    print(f"{prefix}csv_readings_per_s={n / elapsed:.0f} readings/s")


if __name__ == "__main__":
    main()
