"""Export parks as partitioned Parquet, the input of the Spark jobs that scale accounting out (DESIGN §3).

Layout under `out_dir`, one `park=<code>` partition per park (codes escaped as Hive does, so Spark, DuckDB and
pyarrow all read them back)::

    readings/park=<code>/year=YYYY/month=MM/part-N.parquet   channel_id, ts_start, value, quality, delta
    daily/park=<code>/year=YYYY/part-N.parquet               the park-local daily rollup
    tables/<table>/park=<code>/part-0.parquet                every table in PARK_TABLES, that park's rows

`year` and `month` of a reading are those of `ts_start` in the park's own time zone (`parks.timezone`), so a
monthly inventory reads whole partitions: 2024-01-31T16:00Z is 2024-02-01 00:00 in Shanghai and lies in
`year=2024/month=02`. `ts_start` is a Parquet TIMESTAMP(isAdjustedToUTC=true, MICROS): an instant, read as
TIMESTAMPTZ by DuckDB and as TimestampType by Spark.

The export is one consistent snapshot (one read transaction, REPEATABLE READ on PostgreSQL) and atomic: it is
written into a hidden folder beside `out_dir` and renamed into place at the end; a failure leaves nothing
behind. DuckDB writes with its own `COPY ... (FORMAT parquet, PARTITION_BY ...)`; PostgreSQL streams readings
and rollups through binary `COPY ... TO STDOUT` decoded with numpy, and the registry tables through a
server-side cursor, into `pyarrow.dataset.write_dataset`, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from parkzero.errors import NotFound, ParkzeroError
from parkzero.store import Store
from parkzero.store.db import DUCKDB, Database, ident

__all__ = ["PARK_TABLES", "READINGS_SCHEMA", "DAILY_SCHEMA", "export_parquet"]

# Park-scoped tables exported whole. Each has a `park_id` column, except `parks`, which is filtered by `id`.
# Modules that add park-scoped tables append them here.
PARK_TABLES: tuple[str, ...] = (
    "parks",
    "zones",
    "buildings",
    "enterprises",
    "assets",
    "meters",
    "channels",
    "products",
    # the carbon ledger (parkzero.accounting): what a Spark run needs besides the meter data
    "emission_sources",
    "emission_source_channels",
    "evidence",
    "activity_entries",
    "instruments",
    "retirements",
    "enterprise_figures",
)

READINGS_SCHEMA = pa.schema(
    [
        ("channel_id", pa.int64()),
        ("ts_start", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("quality", pa.int16()),
        ("delta", pa.float64()),
    ]
)
DAILY_SCHEMA = pa.schema(
    [
        ("channel_id", pa.int64()),
        ("day", pa.date32()),
        ("value_sum", pa.float64()),
        ("value_min", pa.float64()),
        ("value_max", pa.float64()),
        ("n_readings", pa.int32()),
        ("n_estimated", pa.int32()),
    ]
)
# (column, PostgreSQL type, nullable) as streamed by binary COPY; same order as the schemas above
_READINGS_COPY = [
    ("channel_id", "int8", False),
    ("ts_start", "timestamptz", False),
    ("value", "float8", False),
    ("quality", "int2", False),
    ("delta", "float8", True),
]
_DAILY_COPY = [
    ("channel_id", "int8", False),
    ("day", "date", False),
    ("value_sum", "float8", True),
    ("value_min", "float8", True),
    ("value_max", "float8", True),
    ("n_readings", "int4", False),
    ("n_estimated", "int4", False),
]
_BATCH_ROWS = 262_144  # rows per batch streamed from PostgreSQL (~16 MB of readings)


@dataclass(frozen=True)
class _Park:
    id: int
    code: str
    timezone: str


def export_parquet(
    store: Store, out_dir: str | os.PathLike[str], parks: list[str] | None = None, *, overwrite: bool = False
) -> dict[str, Any]:
    """Write the readings, daily rollups and park tables of `parks` (codes; default all) under `out_dir`.

    Parameters
    ----------
    out_dir : path
        Folder to create. It must be absent or empty unless `overwrite`, which replaces it whole.
    parks : list of str, optional
        Park codes; an unknown code is an error and nothing is written.

    Returns
    -------
    dict
        out_dir, parks (codes), readings and daily (rows written), tables ({table: rows}), files, bytes,
        seconds.
    """
    started = time.monotonic()
    out = Path(out_dir).absolute()
    _check_target(out, overwrite)
    selected = _select_parks(store, parks)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.tmp"
    tmp.mkdir()
    counts: dict[str, Any] = {"readings": 0, "daily": 0, "tables": dict.fromkeys(PARK_TABLES, 0)}
    try:
        db = store.db
        with db.transaction():
            if db.engine != DUCKDB:
                db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for park in selected:
                counts["readings"] += _write_readings(db, park, tmp / "readings" / _hive("park", park.code))
                counts["daily"] += _write_daily(db, park, tmp / "daily" / _hive("park", park.code))
                for table in PARK_TABLES:
                    counts["tables"][table] += _write_table(db, table, park, tmp / "tables" / table)
        files = [p for p in tmp.rglob("*.parquet") if p.is_file()]
        n_files, n_bytes = len(files), sum(p.stat().st_size for p in files)
        _publish(tmp, out, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {
        "out_dir": str(out),
        "parks": [p.code for p in selected],
        **counts,
        "files": n_files,
        "bytes": n_bytes,
        "seconds": round(time.monotonic() - started, 3),
    }


# -- target folder -------------------------------------------------------------------------------------
def _check_target(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise ParkzeroError(f"{out} exists and is not a folder; choose another --out")
    if not overwrite and any(out.iterdir()):
        raise ParkzeroError(f"{out} is not empty; choose an empty or new folder, or pass overwrite (--overwrite)")


def _publish(tmp: Path, out: Path, overwrite: bool) -> None:
    """Rename the finished export into place; an existing (empty, or replaced with `overwrite`) folder goes."""
    _check_target(out, overwrite)  # again: something may have appeared while we wrote
    if not out.exists():
        tmp.rename(out)
        return
    old = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.old"
    out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _select_parks(store: Store, codes: list[str] | None) -> list[_Park]:
    rows = store.db.fetchall("SELECT id, code, timezone FROM parks ORDER BY code")
    parks = [_Park(int(i), str(c), str(tz)) for i, c, tz in rows]
    if codes is None:
        return parks
    known = {p.code: p for p in parks}
    missing = [c for c in dict.fromkeys(codes) if c not in known]
    if missing:
        raise NotFound(f"no park with code {', '.join(repr(c) for c in missing)}; nothing was exported")
    return [known[c] for c in dict.fromkeys(codes)]


# Characters Hive (and so Spark) escape in a partition value as %XX; the rest go as they are.
_HIVE_ESCAPE = set("\"#%'*/:=?\\\x7f{[]^")


def _hive(key: str, value: str) -> str:
    return key + "=" + "".join(f"%{ord(ch):02X}" if ch in _HIVE_ESCAPE or ord(ch) < 32 else ch for ch in value)


# -- the three parts of a park --------------------------------------------------------------------------
def _park_channels(park: _Park) -> str:
    return f"SELECT id FROM channels WHERE park_id = {int(park.id)}"


def _write_readings(db: Database, park: _Park, target: Path) -> int:
    query = (
        f"SELECT channel_id, ts_start, value, quality, delta FROM readings WHERE channel_id IN ({_park_channels(park)})"
    )
    if db.engine == DUCKDB:
        tz = _sql_str(park.timezone)
        local = f"timezone({tz}, ts_start)"
        return _duckdb_copy(
            db,
            f"SELECT *, CAST(year({local}) AS VARCHAR) AS year, lpad(CAST(month({local}) AS VARCHAR), 2, '0') AS month"
            f" FROM ({query}) r",
            target,
            ("year", "month"),
        )

    def with_local_month(batch: pa.RecordBatch) -> pa.RecordBatch:
        local = batch.column("ts_start").cast(pa.timestamp("us", tz=park.timezone))
        year = pc.cast(pc.year(local), pa.string())
        month = pc.utf8_lpad(pc.cast(pc.month(local), pa.string()), 2, "0")
        return pa.RecordBatch.from_arrays([*batch.columns, year, month], schema=_partitioned(READINGS_SCHEMA, 2))

    batches = map(with_local_month, _pg_copy_batches(db, query, _READINGS_COPY, READINGS_SCHEMA))
    return _write_dataset(batches, _partitioned(READINGS_SCHEMA, 2), target, ("year", "month"))


def _write_daily(db: Database, park: _Park, target: Path) -> int:
    query = (
        "SELECT channel_id, day, value_sum, value_min, value_max, n_readings, n_estimated FROM rollup_daily"
        f" WHERE channel_id IN ({_park_channels(park)})"
    )
    if db.engine == DUCKDB:
        return _duckdb_copy(db, f"SELECT *, CAST(year(day) AS VARCHAR) AS year FROM ({query}) d", target, ("year",))

    def with_year(batch: pa.RecordBatch) -> pa.RecordBatch:
        year = pc.cast(pc.year(batch.column("day")), pa.string())
        return pa.RecordBatch.from_arrays([*batch.columns, year], schema=_partitioned(DAILY_SCHEMA, 1))

    batches = map(with_year, _pg_copy_batches(db, query, _DAILY_COPY, DAILY_SCHEMA))
    return _write_dataset(batches, _partitioned(DAILY_SCHEMA, 1), target, ("year",))


def _write_table(db: Database, table: str, park: _Park, table_dir: Path) -> int:
    key = "id" if table == "parks" else "park_id"
    query = f"SELECT * FROM {ident(table)} WHERE {key} = {int(park.id)}"
    target = table_dir / _hive("park", park.code) / "part-0.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    if db.engine == DUCKDB:
        return _duckdb_copy(db, query, target)
    rows = 0
    with db.conn().cursor(name=f"pz_export_{uuid.uuid4().hex[:12]}") as cur:
        cur.itersize = _BATCH_ROWS
        cur.execute(query)
        schema = pa.schema([(d.name, _PG_ARROW.get(d.type_code, pa.string())) for d in cur.description])
        with pq.ParquetWriter(target, schema) as writer:
            while chunk := cur.fetchmany(_BATCH_ROWS):
                columns = zip(*chunk, strict=True)
                arrays = [_to_arrow(values, field.type) for values, field in zip(columns, schema, strict=True)]
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                rows += len(chunk)
    return rows


# -- DuckDB ------------------------------------------------------------------------------------------
def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duckdb_copy(db: Database, query: str, target: Path, partition_by: Sequence[str] = ()) -> int:
    """COPY a query to a Parquet file, or to a hive-partitioned folder; returns the rows written."""
    options = "FORMAT parquet"
    if partition_by:
        options += f", PARTITION_BY ({', '.join(ident(c) for c in partition_by)}), FILENAME_PATTERN 'part-{{i}}'"
    target.parent.mkdir(parents=True, exist_ok=True)
    row = db.fetchone(f"COPY ({query}) TO {_sql_str(str(target))} ({options})")
    return int(row[0]) if row else 0


# -- PostgreSQL ---------------------------------------------------------------------------------------
_PG_ARROW = {  # type OID -> Arrow type of the registry tables' columns (anything else goes as text)
    16: pa.bool_(),
    17: pa.binary(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1042: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


def _to_arrow(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    if pa.types.is_string(type_):
        values = [None if v is None else v if isinstance(v, str) else str(v) for v in values]
    return pa.array(values, type=type_)


# binary COPY field: numpy dtype (big-endian), the SQL value standing in for NULL (a flag column says which)
_PG_BINARY = {
    "int8": (">i8", "0"),
    "int4": (">i4", "0"),
    "int2": (">i2", "0"),
    "float8": (">f8", "0"),
    "timestamptz": (">i8", "'2000-01-01T00:00:00Z'"),
    "date": (">i4", "'2000-01-01'"),
    "bool": ("u1", "false"),
}
_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds: PostgreSQL's timestamp origin
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01


def _pg_copy_batches(
    db: Database, query: str, columns: Sequence[tuple[str, str, bool]], schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Stream `query` as Arrow batches through binary COPY, decoded with numpy (no per-value Python).

    Nullable columns travel as `coalesce(column, stand-in)` plus a boolean `column IS NULL`, so every row has
    the same width and a whole buffer of rows is one numpy structured array."""
    exprs, fields = [], [("n", ">i2")]
    for i, (name, kind, nullable) in enumerate(columns):
        dtype, stand_in = _PG_BINARY[kind]
        exprs.append(f"coalesce({name}, {stand_in})::{kind}" if nullable else f"{name}::{kind}")
        fields += [(f"l{i}", ">i4"), (f"v{i}", dtype)]
    flagged = [i for i, (_, _, nullable) in enumerate(columns) if nullable]
    for i in flagged:
        exprs.append(f"({columns[i][0]} IS NULL)")
        fields += [(f"ln{i}", ">i4"), (f"n{i}", "u1")]
    row = np.dtype(fields)
    widths = [row[f"v{i}"].itemsize for i in range(len(columns))] + [1] * len(flagged)
    chunk_bytes = _BATCH_ROWS * row.itemsize

    def decode(buffer: bytes | bytearray) -> pa.RecordBatch:
        rows = np.frombuffer(buffer, dtype=row)
        lengths = [rows[f"l{i}"] for i in range(len(columns))] + [rows[f"ln{i}"] for i in flagged]
        if (rows["n"] != len(exprs)).any() or any((ln != w).any() for ln, w in zip(lengths, widths, strict=True)):
            raise ParkzeroError("unexpected row layout in PostgreSQL's binary COPY stream")
        arrays = []
        for i, (_, kind, nullable) in enumerate(columns):
            values = rows[f"v{i}"]
            mask = rows[f"n{i}"].astype(bool) if nullable else None
            field_type = schema.field(i).type
            if kind == "timestamptz":
                arrays.append(pa.array(values.astype(np.int64) + _PG_EPOCH_US, pa.int64(), mask=mask).cast(field_type))
            elif kind == "date":
                arrays.append(
                    pa.array(values.astype(np.int32) + _PG_EPOCH_DAYS, pa.int32(), mask=mask).cast(field_type)
                )
            else:
                arrays.append(pa.array(values.astype(values.dtype.newbyteorder("=")), field_type, mask=mask))
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    sql = f"COPY (SELECT {', '.join(exprs)} FROM ({query}) q) TO STDOUT (FORMAT binary)"
    buffer = bytearray()
    header_done = False
    with db.conn().cursor() as cur, cur.copy(sql) as copy:
        for data in copy:
            buffer += data
            if not header_done:
                if len(buffer) < 19:
                    continue
                if not buffer.startswith(_PG_SIGNATURE):
                    raise ParkzeroError("PostgreSQL's binary COPY stream has no signature")
                del buffer[: 19 + int.from_bytes(buffer[15:19], "big")]
                header_done = True
            if len(buffer) >= chunk_bytes:
                whole = len(buffer) // row.itemsize * row.itemsize
                yield decode(bytes(buffer[:whole]))
                del buffer[:whole]
    if not header_done or not buffer.endswith(b"\xff\xff") or (len(buffer) - 2) % row.itemsize:
        raise ParkzeroError("PostgreSQL's binary COPY stream ended early")
    if len(buffer) > 2:
        yield decode(bytes(buffer[:-2]))


def _partitioned(schema: pa.Schema, levels: int) -> pa.Schema:
    names = ("year", "month")[:levels]
    return pa.schema([*schema, *(pa.field(n, pa.string()) for n in names)])


def _write_dataset(batches: Iterator[pa.RecordBatch], schema: pa.Schema, target: Path, by: Sequence[str]) -> int:
    """Write batches as hive-partitioned Parquet (partition columns in the path only); returns the rows."""
    written = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal written
        for batch in batches:
            written += batch.num_rows
            yield batch

    ds.write_dataset(
        pa.RecordBatchReader.from_batches(schema, counted()),
        target,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([schema.field(n) for n in by]), flavor="hive"),
        basename_template="part-{i}.parquet",
        existing_data_behavior="overwrite_or_ignore",
        min_rows_per_group=131_072,
        max_rows_per_group=1_048_576,
        create_dir=True,
    )
    return written
