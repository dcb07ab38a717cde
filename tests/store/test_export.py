"""The Parquet export on both engines: every row once, partitions by the park's local month, atomic."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parkzero.errors import NotFound, ParkzeroError
from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import export, open_store
from parkzero.store.export import DAILY_SCHEMA, PARK_TABLES, READINGS_SCHEMA, export_parquet
from parkzero.store.readings import ESTIMATED, merge_readings
from tests.conftest import SMALL_PARK

# 2024-01-31T16:00Z is 2024-02-01 00:00 in Shanghai (UTC+8) but still 17:00 on 31 January in Berlin (UTC+1)
MONTH_EDGE = datetime(2024, 1, 31, 16, 0, tzinfo=UTC)
YEAR_EDGE = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # 2025-01-01 00:00 in Shanghai


def berlin_park() -> dict:
    """SMALL_PARK again as park p2 in Europe/Berlin."""
    doc = copy.deepcopy(SMALL_PARK)
    doc["parks"][0].update(code="p2", name="Berlin Park", timezone="Europe/Berlin")
    return doc


def fill(store) -> None:
    """Two parks with readings around month and year ends, a counter (deltas, one NULL) and estimates."""
    registry_io.import_registry(store, Scope.system(), SMALL_PARK)
    registry_io.import_registry(store, Scope.system(), berlin_park())
    channels = {}
    for park in ("p1", "p2"):
        for code, ch in repo.channel_index(store, Scope.system(), park).items():
            channels[park, code] = ch.id
    rows = []
    for n, park in enumerate(("p1", "p2")):
        for edge in (MONTH_EDGE, YEAR_EDGE):
            for i in range(-8, 8):  # two hours either side of the edge
                ts = edge + timedelta(minutes=15 * i)
                rows.append((channels[park, "office.main"], ts, 1.0 + i / 4 + n, 0 if i % 5 else ESTIMATED))
                rows.append((channels[park, "steel.gas"], ts, 1000.0 + 3.5 * (i + 8) + 100 * n, 0))
    table = pa.table(
        {
            "channel_id": pa.array([r[0] for r in rows], pa.int64()),
            "ts_start": pa.array([r[1] for r in rows], pa.timestamp("us", "UTC")),
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "quality": pa.array([r[3] for r in rows], pa.int16()),
        }
    )
    merge_readings(store, table, source="test", actor="tester")


@pytest.fixture
def filled(store):
    fill(store)
    return store


def read(sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone='UTC'")
        return con.execute(sql).fetchall()


def stored_readings(store, park: str) -> list[tuple]:
    return sorted(
        store.db.fetchall(
            "SELECT r.channel_id, r.ts_start, r.value, r.quality, r.delta FROM readings r"
            " JOIN channels c ON c.id = r.channel_id JOIN parks p ON p.id = c.park_id WHERE p.code = ?",
            (park,),
        )
    )


def exported_readings(out: Path, park: str) -> list[tuple]:
    return sorted(
        read(
            "SELECT channel_id, ts_start, value, quality, delta"
            f" FROM read_parquet('{out}/readings/**/*.parquet', hive_partitioning = true) WHERE park = '{park}'"
        )
    )


def test_every_reading_and_daily_row_once_with_equal_values(filled, tmp_path):
    out = tmp_path / "export"
    summary = export_parquet(filled, out)
    n_readings = filled.db.fetchone("SELECT count(*) FROM readings")[0]
    n_daily = filled.db.fetchone("SELECT count(*) FROM rollup_daily")[0]
    # 2 parks x 2 edges x 16 quarter hours x 2 channels = 128 readings
    assert n_readings == 128
    assert (summary["readings"], summary["daily"], summary["parks"]) == (128, n_daily, ["p1", "p2"])
    for park in ("p1", "p2"):
        assert exported_readings(out, park) == stored_readings(filled, park)
        assert any(r[4] is None for r in exported_readings(out, park))  # the counter's last delta is open
        stored_daily = filled.db.fetchall(
            "SELECT d.channel_id, d.day, d.value_sum, d.value_min, d.value_max, d.n_readings, d.n_estimated"
            " FROM rollup_daily d JOIN channels c ON c.id = d.channel_id JOIN parks p ON p.id = c.park_id"
            " WHERE p.code = ?",
            (park,),
        )
        exported_daily = read(
            "SELECT channel_id, day, value_sum, value_min, value_max, n_readings, n_estimated, year"
            f" FROM read_parquet('{out}/daily/**/*.parquet', hive_partitioning = true) WHERE park = '{park}'"
        )
        assert sorted(r[:-1] for r in exported_daily) == sorted(stored_daily) and stored_daily
        assert all(int(r[-1]) == r[1].year for r in exported_daily)


def test_same_parquet_schema_on_both_engines(filled, tmp_path):
    out = tmp_path / "export"
    export_parquet(filled, out)
    for path in (out / "readings").rglob("*.parquet"):
        assert pq.read_schema(path).remove_metadata() == READINGS_SCHEMA
        # an instant (TIMESTAMPTZ in DuckDB, TimestampType in Spark), not a wall-clock time
        ts = json.loads(pq.ParquetFile(path).schema.column(1).logical_type.to_json())
        assert (ts["Type"], ts["isAdjustedToUTC"], ts["timeUnit"]) == ("Timestamp", True, "microseconds")
    for path in (out / "daily").rglob("*.parquet"):
        assert pq.read_schema(path).remove_metadata() == DAILY_SCHEMA


def test_partitions_are_local_months_of_each_park(filled, tmp_path):
    out = tmp_path / "export"
    export_parquet(filled, out)
    in_month = "SELECT ts_start FROM read_parquet('{}/readings/park={}/year={}/month={}/*.parquet')"
    # 16:00Z on 31 January is 1 February in Shanghai ...
    assert (MONTH_EDGE,) in read(in_month.format(out, "p1", 2024, "02"))
    assert (MONTH_EDGE,) not in read(in_month.format(out, "p1", 2024, "01"))
    # ... and 17:00 on 31 January in Berlin
    assert (MONTH_EDGE,) in read(in_month.format(out, "p2", 2024, "01"))
    # 16:00Z on 31 December is New Year in Shanghai
    assert (YEAR_EDGE,) in read(in_month.format(out, "p1", 2025, "01"))
    assert (YEAR_EDGE - timedelta(minutes=15),) in read(in_month.format(out, "p1", 2024, "12"))
    # every reading: the partition is the local year and month of ts_start
    rows = read(
        f"SELECT park, ts_start, year, month FROM read_parquet('{out}/readings/**/*.parquet', hive_partitioning = true)"
    )
    zones = {"p1": ZoneInfo("Asia/Shanghai"), "p2": ZoneInfo("Europe/Berlin")}
    assert len(rows) == 128
    for park, ts, year, month in rows:
        local = ts.astimezone(zones[park])
        assert (int(year), month) == (local.year, f"{local.month:02d}")
    months = sorted({p.relative_to(out / "readings").parent.as_posix() for p in (out / "readings").rglob("*.parquet")})
    assert months == [
        "park=p1/year=2024/month=01",
        "park=p1/year=2024/month=02",
        "park=p1/year=2024/month=12",
        "park=p1/year=2025/month=01",
        "park=p2/year=2024/month=01",
        "park=p2/year=2024/month=12",  # 15:00-18:45 on 31 December in Berlin
    ]


def test_park_tables_and_park_filter(filled, tmp_path):
    out = tmp_path / "export"
    summary = export_parquet(filled, out, ["p2"])
    assert summary["parks"] == ["p2"]
    assert {p.name for p in (out / "readings").iterdir()} == {"park=p2"}
    assert exported_readings(out, "p2") == stored_readings(filled, "p2")
    p2 = filled.db.fetchone("SELECT id FROM parks WHERE code = 'p2'")[0]
    for table in PARK_TABLES:
        path = out / "tables" / table / "park=p2" / "part-0.parquet"
        exported = pq.read_table(path)
        key = "id" if table == "parks" else "park_id"
        stored = filled.db.fetchall(f"SELECT * FROM {table} WHERE {key} = ?", (p2,))
        assert exported.num_rows == len(stored) == summary["tables"][table], table
        assert set(exported.column(key).to_pylist()) <= {p2}
    channels = pq.read_table(out / "tables/channels/park=p2/part-0.parquet")
    assert sorted(channels.column("code").to_pylist()) == [
        "office.main",
        "pv1.gen",
        "steel.eaf",
        "steel.gas",
        "steel.main",
    ]
    assert channels.schema.field("interval_s").type == pa.int32()
    with pytest.raises(NotFound, match="'nope'"):
        export_parquet(filled, tmp_path / "other", ["p1", "nope"])
    assert not (tmp_path / "other").exists()


def test_refuses_to_overwrite_unless_asked(filled, tmp_path):
    out = tmp_path / "export"
    out.mkdir()  # an empty folder is fine
    export_parquet(filled, out, ["p1"])
    with pytest.raises(ParkzeroError, match="not empty"):
        export_parquet(filled, out, ["p2"])
    assert {p.name for p in (out / "readings").iterdir()} == {"park=p1"}
    (out / "stale.txt").write_text("from before")
    export_parquet(filled, out, ["p2"], overwrite=True)
    assert {p.name for p in (out / "readings").iterdir()} == {"park=p2"}
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".export")) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParkzeroError, match="not a folder"):
        export_parquet(filled, tmp_path / "file", overwrite=True)


def test_failure_part_way_leaves_nothing_behind(filled, tmp_path, monkeypatch):
    parent = tmp_path / "exports"
    out = parent / "export"
    calls = []

    def broken(db, table, park, table_dir):
        calls.append(table)
        raise OSError("No space left on device")

    monkeypatch.setattr(export, "_write_table", broken)
    with pytest.raises(OSError, match="No space left"):
        export_parquet(filled, out)
    assert calls == ["parks"]  # readings and daily of the first park were written before
    assert list(parent.iterdir()) == []
    # an earlier export that overwrite would replace stays as it was
    monkeypatch.undo()
    export_parquet(filled, out, ["p1"])
    monkeypatch.setattr(export, "_write_table", broken)
    with pytest.raises(OSError):
        export_parquet(filled, out, ["p2"], overwrite=True)
    assert [p.name for p in parent.iterdir()] == ["export"]
    assert {p.name for p in (out / "readings").iterdir()} == {"park=p1"}


def test_unwritable_target_is_an_error_and_leaves_nothing(filled, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the export's parent folder would be")
    with pytest.raises(OSError):
        export_parquet(filled, blocker / "export")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_db_export(tmp_path):
    url = f"duckdb:///{tmp_path / 'p.duckdb'}"
    with open_store(url) as store:
        fill(store)
    env = {**os.environ, "PARKZERO_DATABASE_URL": url, "PARKZERO_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "parkzero", "db", "export", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    done = cli("--out", str(tmp_path / "x"), "--park", "p1", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {r["what"]: r["rows"] for r in json.loads(done.stdout)}
    assert rows["readings"] == 64 and rows["tables/channels"] == 5
    again = cli("--out", str(tmp_path / "x"))
    assert again.returncode == 1 and "not empty" in again.stderr and "Traceback" not in again.stderr
    assert cli("--out", str(tmp_path / "x"), "--overwrite").returncode == 0
    assert date(2024, 2, 1) in {r[0] for r in read(f"SELECT day FROM '{tmp_path}/x/daily/**/*.parquet'")}


def test_park_without_readings(park, tmp_path):
    summary = export_parquet(park, tmp_path / "export")
    assert (summary["readings"], summary["daily"], summary["tables"]["channels"]) == (0, 0, 5)
    assert not list((tmp_path / "export").glob("readings/**/*.parquet"))
    assert pq.read_table(tmp_path / "export/tables/parks/park=p1/part-0.parquet").column("code").to_pylist() == ["p1"]


def test_park_code_is_escaped_as_hive_does(store, tmp_path):
    doc = copy.deepcopy(SMALL_PARK)
    doc["parks"][0]["code"] = "sh:baoshan"
    registry_io.import_registry(store, Scope.system(), doc)
    export_parquet(store, tmp_path / "export")
    assert (tmp_path / "export/tables/parks/park=sh%3Abaoshan/part-0.parquet").is_file()
    # DuckDB, pyarrow and Spark all unescape it
    assert read(f"SELECT park, code FROM read_parquet('{tmp_path}/export/tables/parks/*/*.parquet')") == [
        ("sh:baoshan", "sh:baoshan")
    ]
