"""One database interface over two engines: an embedded DuckDB file (default) and PostgreSQL (server).

SQL in parkzero is written once with `?` placeholders in the common subset of both dialects; this module
translates placeholders for psycopg, opens connections per thread, and bulk-loads Arrow tables
(DuckDB: zero-copy scan; PostgreSQL: COPY).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from parkzero.errors import ParkzeroError, StoreBusy

DUCKDB = "duckdb"
POSTGRES = "postgres"


def parse_url(url: str) -> tuple[str, str]:
    """Return (engine, target) for 'duckdb:///path', ':memory:', a plain path, or 'postgresql://...'."""
    if url.startswith(("postgresql://", "postgres://")):
        return POSTGRES, url
    if url.startswith("duckdb://"):
        target = url.removeprefix("duckdb://")
        target = target[1:] if target.startswith("/") and not target.startswith("//") else target
        if target.startswith("/"):
            target = target[1:]
        return DUCKDB, target or ":memory:"
    if url == ":memory:" or url.endswith((".duckdb", ".db")):
        return DUCKDB, url
    raise ParkzeroError(f"database URL {url!r} is neither duckdb:///<file> nor postgresql://...")


class Database:
    """A connection factory with a per-thread connection (PostgreSQL) or cursor (DuckDB)."""

    def __init__(self, url: str):
        self.url = url
        self.engine, self.target = parse_url(url)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self.write_lock = threading.RLock()  # one writer at a time inside this process
        if self.engine == DUCKDB:
            import duckdb

            if self.target != ":memory:":
                Path(self.target).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._root = duckdb.connect(self.target)
            except duckdb.IOException as exc:
                if "lock" in str(exc).lower():
                    raise StoreBusy(
                        f"the database file {self.target} is in use by another process "
                        "(is `parkzero serve` running? stop it, or send data through its API)"
                    ) from None
                raise
            self._root.execute("SET TimeZone='UTC'")
        else:
            self._root = None

    # -- connections -------------------------------------------------------------------------------
    def conn(self) -> Any:
        """The calling thread's connection (DuckDB: a cursor of the shared database)."""
        c = getattr(self._local, "conn", None)
        if c is None:
            if self.engine == DUCKDB:
                c = self._root.cursor()
                c.execute("SET TimeZone='UTC'")
            else:
                import psycopg

                c = psycopg.connect(self.target, autocommit=True)
                c.execute("SET TIME ZONE 'UTC'")
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def reset_broken(self) -> bool:
        """Forget this thread's connection if the server closed it, so the next statement reconnects.
        Returns True when there was one to forget."""
        c = getattr(self._local, "conn", None)
        if c is None or not getattr(c, "closed", False):
            return False
        self._local.conn = None
        self._local.in_tx = False
        return True

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:  # noqa: BLE001 - closing on shutdown, nothing to report
                    pass
            self._all.clear()
            if self._root is not None:
                self._root.close()
                self._root = None
        self._local = threading.local()

    # -- statements --------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.engine == DUCKDB else sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        c = self.conn()
        c.execute(self._sql(sql), list(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        c = self.conn()
        if self.engine == DUCKDB:
            c.executemany(sql, [list(r) for r in rows])
        else:
            with c.cursor() as cur:
                cur.executemany(self._sql(sql), rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        c = self.conn()
        if self.engine == DUCKDB:
            return c.execute(sql, list(params)).fetchall()
        with c.cursor() as cur:
            cur.execute(self._sql(sql), list(params))
            return cur.fetchall() if cur.description else []

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def fetchdicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        c = self.conn()
        if self.engine == DUCKDB:
            cur = c.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        with c.cursor() as cur:
            cur.execute(self._sql(sql), list(params))
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def fetch_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        c = self.conn()
        if self.engine == DUCKDB:
            rel = c.sql(sql, params=list(params))
            return _as_table(rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow())
        with c.cursor() as cur:
            cur.execute(self._sql(sql), list(params))
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        return pa.table({n: pa.array(list(col)) for n, col in zip(names, cols, strict=True)})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: statements inside either all commit or none does."""
        c = self.conn()
        if getattr(self._local, "in_tx", False):
            yield
            return
        self._local.in_tx = True
        try:
            if self.engine == DUCKDB:
                c.execute("BEGIN TRANSACTION")
                try:
                    yield
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
                c.execute("COMMIT")
            else:
                with c.transaction():
                    yield
        finally:
            self._local.in_tx = False

    # -- bulk --------------------------------------------------------------------------------------
    def load_temp(self, name: str, table: pa.Table, ddl: str) -> None:
        """Create temporary table `name` with columns `ddl` and fill it from `table` (same column order)."""
        c = self.conn()
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMPORARY TABLE {name} ({ddl})")
        if table.num_rows == 0:
            return
        if self.engine == DUCKDB:
            c.register("_pz_arrow", table)
            try:
                c.execute(f"INSERT INTO {name} SELECT * FROM _pz_arrow")
            finally:
                c.unregister("_pz_arrow")
            return
        cols = ", ".join(table.column_names)
        binary = _pg_binary(table)
        if binary is not None:
            sql, view = f"COPY {name} ({cols}) FROM STDIN WITH (FORMAT binary)", memoryview(binary)
        else:
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            sql, view = f"COPY {name} ({cols}) FROM STDIN WITH (FORMAT csv)", buf.getbuffer()
        with c.cursor() as cur, cur.copy(sql) as cp:
            for i in range(0, len(view), 8 << 20):
                cp.write(view[i : i + (8 << 20)])

    @contextmanager
    def staged(self, name: str, table: pa.Table, ddl: str) -> Iterator[None]:
        """Make `table` queryable as `name` for the duration: a zero-copy view on DuckDB, a COPY-filled
        temporary table on PostgreSQL."""
        if self.engine == DUCKDB:
            c = self.conn()
            c.register(name, table)
            try:
                yield
            finally:
                c.unregister(name)
            return
        self.load_temp(name, table, ddl)
        try:
            yield
        finally:
            self.execute(f"DROP TABLE IF EXISTS {name}")

    def hour_bucket(self, column: str) -> str:
        """SQL for the UTC hour an instant falls in (DuckDB's date_trunc on TIMESTAMPTZ goes through ICU and
        is 2x slower than integer arithmetic on the epoch)."""
        if self.engine == DUCKDB:
            return f"make_timestamptz(epoch_us({column}) // 3600000000 * 3600000000)"
        return f"date_trunc('hour', {column})"

    def table_exists(self, name: str) -> bool:
        row = self.fetchone(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()",
            (name,),
        )
        return bool(row and row[0])


_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds, PostgreSQL's timestamp origin


def _pg_binary(table: pa.Table) -> bytes | None:
    """PostgreSQL's binary COPY stream for a table of non-null int16/int64/float64/timestamp columns, built
    with numpy (no per-row Python); None for anything else, which then goes as CSV."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    columns = []
    for i, col in enumerate(table.columns):
        t = col.type
        if col.null_count:
            return None
        if pa.types.is_int64(t):
            fmt, arr = ">i8", col.to_numpy()
        elif pa.types.is_int16(t):
            fmt, arr = ">i2", col.to_numpy()
        elif pa.types.is_float64(t):
            fmt, arr = ">f8", col.to_numpy()
        elif pa.types.is_timestamp(t) and t.unit == "us" and t.tz is not None:
            fmt, arr = ">i8", col.cast(pa.int64()).to_numpy() - _PG_EPOCH_US
        else:
            return None
        fields += [(f"l{i}", ">i4"), (f"v{i}", fmt)]
        columns.append((i, arr, np.dtype(fmt).itemsize))
    rows = np.empty(table.num_rows, dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for i, arr, size in columns:
        rows[f"l{i}"] = size
        rows[f"v{i}"] = arr
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True)


def _as_table(obj: Any) -> pa.Table:
    return obj.read_all() if isinstance(obj, pa.RecordBatchReader) else obj


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """Guard for identifiers that are formatted into SQL (never user text)."""
    if not _IDENT.match(name):
        raise ValueError(f"bad identifier {name!r}")
    return name
