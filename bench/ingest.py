"""Ingestion and query benchmark: prints `name=value unit` lines.

    python bench/ingest.py                 # full size on the embedded store (DuckDB)
    python bench/ingest.py --postgres      # the same figures with a pg_ prefix on PostgreSQL
    python bench/ingest.py --smoke         # small sizes, for CI

Figures: csv_readings_per_s (a year of 15-minute data for 1,000 channels from one long CSV, parse + validate +
merge), mqtt_readings_per_s / mqtt_lost / mqtt_duplicated (60 s through Mosquitto, QoS 1),
rest_readings_per_s (JSON batches to POST /api/v1/parks/{park}/readings with a gateway key, over HTTP),
query_year_monthly_s (monthly energy per channel for 1,000 channels over one year).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import PARK, YEAR_START, fresh_store, year_table  # noqa: E402

from parkzero.registry import repo, users  # noqa: E402
from parkzero.registry.scope import Scope  # noqa: E402
from parkzero.store.readings import merge_readings  # noqa: E402
from parkzero.store.timeseries import monthly_totals  # noqa: E402

HERE = Path(__file__).parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def bench_query(url: str | None, n_channels: int, prefix: str) -> None:
    with fresh_store(url, n_channels) as (store, _):
        merge_readings(store, year_table(store, n_channels), source="bench", actor="bench")
        monthly_totals(store, Scope.system(), PARK, 2025)  # warm caches once, as a dashboard would
        t = time.perf_counter()
        totals = monthly_totals(store, Scope.system(), PARK, 2025)
        elapsed = time.perf_counter() - t
    assert len(totals) == n_channels and all(v is not None for v in next(iter(totals.values())))
    print(f"{prefix}query_year_monthly_s={elapsed:.3f} s ({n_channels} channels x 12 months)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_rest(url: str | None, n_channels: int, days: int, prefix: str) -> None:
    """POST JSON batches of 10,000 readings with an X-API-Key to a real `parkzero serve` over HTTP."""
    import uvicorn

    from parkzero.api.app import create_app
    from parkzero.config import Settings

    with fresh_store(url, n_channels) as (store, _):
        key, _rec = users.create_api_key(store, Scope.system(), "bench-gateway", PARK)
        codes = sorted(repo.channel_index(store, Scope.system(), PARK))
        settings = Settings(database_url="unused", data_dir=Path("/tmp"), secret_key="bench")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        rng = np.random.default_rng(3)
        bodies = []
        quarters = days * 96
        for chunk in range(0, len(codes), 100):  # 100 channels x `days` days per request
            readings = []
            for code in codes[chunk : chunk + 100]:
                values = rng.gamma(2.0, 5.0, quarters)
                for q in range(0, quarters):
                    ts = YEAR_START.timestamp() + q * 900
                    readings.append({"channel": code, "ts": _iso(ts), "value": round(float(values[q]), 4)})
            bodies.append(json.dumps({"readings": readings}))
        sent = 0
        t = time.perf_counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for body in bodies:
                r = client.post(
                    f"/api/v1/parks/{PARK}/readings",
                    content=body,
                    headers={"X-API-Key": key, "Content-Type": "application/json"},
                )
                r.raise_for_status()
                sent += body.count('"channel"')
        elapsed = time.perf_counter() - t
        server.should_exit = True
        thread.join(timeout=10)
        stored = store.db.fetchone("SELECT count(*) FROM readings")[0]
    assert stored == sent, (stored, sent)
    print(f"{prefix}rest_readings_per_s={sent / elapsed:.0f} readings/s ({sent} readings in {len(bodies)} requests)")


_ISO_CACHE: dict[float, str] = {}


def _iso(epoch_s: float) -> str:
    from datetime import datetime

    s = _ISO_CACHE.get(epoch_s)
    if s is None:
        s = _ISO_CACHE[epoch_s] = datetime.fromtimestamp(epoch_s, YEAR_START.tzinfo).isoformat()
    return s


def _script(name: str, *args: str) -> None:
    out = subprocess.run(
        [sys.executable, str(HERE / name), *args],
        check=True,
        text=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )
    sys.stdout.write(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="small sizes for CI")
    ap.add_argument("--postgres", nargs="?", const=PG_DEFAULT, default=None, help="also run on PostgreSQL")
    ap.add_argument("--only", choices=("csv", "mqtt", "rest", "query"), action="append")
    args = ap.parse_args()
    channels = 20 if args.smoke else 1000
    seconds = 3 if args.smoke else 60
    rest_days = 2 if args.smoke else 7
    targets = [(None, "")] + ([(args.postgres, "pg_")] if args.postgres else [])
    only = set(args.only or ("csv", "mqtt", "rest", "query"))
    for url, prefix in targets:
        db_args = ["--database-url", url] if url else []
        if "csv" in only:
            _script("ingest_csv.py", "--channels", str(channels), *db_args)
        if "mqtt" in only:
            _script("ingest_mqtt.py", "--seconds", str(seconds), *db_args)
        if "rest" in only:
            bench_rest(url, channels, rest_days, prefix)
        if "query" in only:
            bench_query(url, channels, prefix)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
