"""Inventory benchmark: prints `name=value unit` lines.

    python bench/inventory.py               # full size on the embedded store (DuckDB)
    python bench/inventory.py --postgres    # also on PostgreSQL (pg_ prefix)
    python bench/inventory.py --smoke       # small sizes, for CI

The park: 20 tenants with 49 electricity feeders and one gas meter each (1,000 channels), plus the park
connection and PV meters, a year of 15-minute readings (35 million). Sources: each tenant's electricity on the
park network (hourly on-site PV attribution) and its gas combustion; the operator's residual at the park
connection. `inventory_year_s` is the full annual park inventory under the GHG Protocol regime (location- and
market-based, every tenant), computed and stored as a draft.

`spark_s` is a district run: 50 parks (2 tenants x 5 channels + park connection and PV, a year of 15-minute
data each, 21 million readings) exported to Parquet and every park's inventory computed with the meter data on
Spark in local mode (2 cores); `spark_same_bytes_as_duckdb` compares the first park with the embedded store.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from common import PARK, QUARTERS_PER_YEAR, YEAR_START, fresh_store  # noqa: E402

from parkzero.accounting import inventory, sources  # noqa: E402
from parkzero.registry import io as registry_io  # noqa: E402
from parkzero.registry import repo  # noqa: E402
from parkzero.registry.scope import Scope  # noqa: E402
from parkzero.store.readings import merge_readings  # noqa: E402

SYSTEM = Scope.system("bench")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
YEAR = YEAR_START.year


def tenants_doc(n_tenants: int, feeders: int, park: str = PARK) -> dict:
    meters = [
        {
            "code": f"m-e{t:02d}",
            "name": f"Tenant {t} meters",
            "enterprise": f"e{t:02d}",
            "channels": [
                {
                    "code": f"e{t:02d}.f{f:02d}",
                    "name": f"Feeder {f}",
                    "quantity_kind": "active_energy",
                    "purpose": "load",
                }
                for f in range(feeders)
            ]
            + [{"code": f"e{t:02d}.gas", "name": "Gas", "quantity_kind": "gas_volume", "purpose": "gas"}],
        }
        for t in range(n_tenants)
    ]
    meters.append(
        {
            "code": "m-park",
            "name": "Park connection and PV",
            "channels": [
                {"code": "park.import", "name": "Import", "quantity_kind": "active_energy", "purpose": "grid_import"},
                {"code": "park.pv", "name": "PV", "quantity_kind": "active_energy", "purpose": "pv_generation"},
            ],
        }
    )
    return {
        "format": "parkzero-registry",
        "version": 1,
        "parks": [
            {
                "code": park,
                "name": f"Benchmark park {park}",
                "timezone": "Asia/Shanghai",
                "enterprises": [{"code": f"e{t:02d}", "name": f"Tenant {t}"} for t in range(n_tenants)],
                "meters": meters,
            }
        ],
    }


def load_year(store, n_tenants: int, feeders: int, quarters: int, park: str = PARK) -> int:
    """Readings for every channel: feeders and gas random, PV a daylight bell, import = loads x 1.02 - PV."""
    index = repo.channel_index(store, SYSTEM, park)
    t0 = int(YEAR_START.timestamp() * 1e6)
    ts = pa.array(t0 + np.arange(quarters, dtype=np.int64) * 900_000_000, pa.timestamp("us", tz="UTC"))
    rng = np.random.default_rng(7)
    hour = (np.arange(quarters) // 4 + 8) % 24  # local hour
    pv = np.where((hour >= 7) & (hour < 17), 400.0 * np.sin(np.pi * (hour - 7) / 10), 0.0)
    load_total = np.zeros(quarters)
    n = 0
    for t in range(n_tenants):
        codes = [f"e{t:02d}.f{f:02d}" for f in range(feeders)]
        values = rng.gamma(2.0, 5.0, (feeders, quarters))
        load_total += values.sum(axis=0)
        gas = rng.gamma(2.0, 3.0, quarters)
        ids = [index[c].id for c in codes] + [index[f"e{t:02d}.gas"].id]
        table = pa.table(
            {
                "channel_id": np.repeat(np.array(ids, dtype=np.int64), quarters),
                "ts_start": pa.concat_arrays([ts] * len(ids)),
                "value": np.concatenate([values.ravel(), gas]),
            }
        )
        n += merge_readings(store, table, source="bench", actor="bench").received
    park = pa.table(
        {
            "channel_id": np.repeat(np.array([index["park.import"].id, index["park.pv"].id], dtype=np.int64), quarters),
            "ts_start": pa.concat_arrays([ts, ts]),
            "value": np.concatenate([np.maximum(load_total * 1.02 - pv, 0.0), pv]),
        }
    )
    return n + merge_readings(store, park, source="bench", actor="bench").received


def add_sources(store, n_tenants: int, feeders: int, park: str = PARK) -> None:
    for t in range(n_tenants):
        e = f"e{t:02d}"
        sources.save_source(
            store,
            SYSTEM,
            park,
            {
                "code": f"{e}.elec",
                "name": "Electricity",
                "enterprise": e,
                "scope": 2,
                "category": "electricity",
                "method": "electricity",
                "factor_ref": "grid",
                "activity_unit": "kWh",
                "channels": [f"{e}.f{f:02d}" for f in range(feeders)],
            },
        )
        sources.save_source(
            store,
            SYSTEM,
            park,
            {
                "code": f"{e}.gas",
                "name": "Boiler gas",
                "enterprise": e,
                "scope": 1,
                "category": "stationary_combustion",
                "method": "combustion",
                "factor_ref": "fuel.natural_gas",
                "activity_unit": "Nm3",
                "channels": [f"{e}.gas"],
            },
        )
    sources.save_source(
        store,
        SYSTEM,
        park,
        {
            "code": "park.elec",
            "name": "Park connection (operator's own)",
            "scope": 2,
            "category": "electricity",
            "method": "electricity",
            "factor_ref": "grid",
            "activity_unit": "kWh",
            "channels": ["park.import"],
            "params": {"supply": "park_residual"},
        },
    )


def bench(url: str | None, n_tenants: int, feeders: int, quarters: int, prefix: str) -> None:
    with fresh_store(url, 0) as (store, _):
        registry_io.import_registry(store, SYSTEM, tenants_doc(n_tenants, feeders))
        n = load_year(store, n_tenants, feeders, quarters)
        add_sources(store, n_tenants, feeders)
        inventory.create(store, SYSTEM, PARK, YEAR, "ghg-protocol")  # warm caches once, as a second run would
        t = time.perf_counter()
        inv = inventory.create(store, SYSTEM, PARK, YEAR, "ghg-protocol")
        elapsed = time.perf_counter() - t
        totals = inventory.result(store, SYSTEM, PARK, inv["id"], with_lines=False)["totals"]
        n_lines = len(inventory.lines(store, SYSTEM, PARK, inv["id"]))
    channels = n_tenants * (feeders + 1) + 2
    print(f"{prefix}inventory_year_s={elapsed:.3f} s ({channels} channels, {n} readings, {n_lines} lines)")
    print(f"{prefix}inventory_total_location_tco2e={totals['total_location']:.1f} tCO2e")


def bench_spark(n_parks: int, n_tenants: int, feeders: int, quarters: int) -> None:
    """A district run: `n_parks` parks exported to Parquet, all inventories on Spark in local mode."""
    import tempfile

    from parkzero.accounting import scaleout
    from parkzero.store.export import export_parquet
    from parkzero.store.spark import spark_session

    codes = [f"park-{i:03d}" for i in range(n_parks)]
    with fresh_store(None, 0) as (store, _), tempfile.TemporaryDirectory() as tmp:
        n = 0
        for code in codes:
            registry_io.import_registry(store, SYSTEM, tenants_doc(n_tenants, feeders, code))
            n += load_year(store, n_tenants, feeders, quarters, code)
            add_sources(store, n_tenants, feeders, code)
        t = time.perf_counter()
        export_parquet(store, f"{tmp}/export")
        export_s = time.perf_counter() - t
        session = spark_session("parkzero-bench")
        try:
            t = time.perf_counter()
            results = scaleout.run_spark(session, f"{tmp}/export", YEAR, "ghg-protocol", codes)
            elapsed = time.perf_counter() - t
        finally:
            session.stop()
        same = scaleout_check(store, results[0])
    print(f"spark_parks={len(results)} parks ({n} readings, {len(codes) * (n_tenants * (feeders + 1) + 2)} channels)")
    print(f"spark_s={elapsed:.1f} s (local[2]; export to Parquet {export_s:.1f} s, not included)")
    print(f"spark_same_bytes_as_duckdb={same}")


def scaleout_check(store, result) -> bool:
    """The first park's Spark result against the embedded store's, byte for byte."""
    from parkzero.accounting import engine

    local = engine.compute(store, SYSTEM, result.park, YEAR, "ghg-protocol")
    return local.canonical_bytes() == result.canonical_bytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="small sizes for CI")
    ap.add_argument("--postgres", nargs="?", const=PG_DEFAULT, default=None, help="also run on PostgreSQL")
    ap.add_argument("--spark-parks", type=int, default=None, help="parks in the Spark run (default 50; smoke 3)")
    ap.add_argument("--only", choices=("store", "spark"), default=None)
    args = ap.parse_args()
    n_tenants, feeders, quarters = (2, 4, 14 * 96) if args.smoke else (20, 49, QUARTERS_PER_YEAR)
    if args.only != "spark":
        bench(None, n_tenants, feeders, quarters, "")
        if args.postgres:
            bench(args.postgres, n_tenants, feeders, quarters, "pg_")
    if args.only != "store":
        n_parks = args.spark_parks or (3 if args.smoke else 50)
        bench_spark(n_parks, 2, 4, 14 * 96 if args.smoke else QUARTERS_PER_YEAR)


if __name__ == "__main__":
    main()
