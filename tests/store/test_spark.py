"""The Parquet export read by Spark (local mode) and by Ibis on Spark and DuckDB: the same monthly sums."""

from __future__ import annotations

import duckdb
import ibis
import pytest

from parkzero.store.export import export_parquet
from tests.store.test_export import fill

pytestmark = pytest.mark.spark


def monthly(t):
    """Energy per channel and park-local month: one Ibis expression for every backend."""
    return t.group_by(["park", "channel_id", "year", "month"]).aggregate(total=t.value.sum(), n=t.count())


def as_rows(table) -> list[tuple]:
    return sorted((str(p), int(c), int(y), int(m), round(s, 9), int(n)) for p, c, y, m, s, n in table)


def test_spark_and_ibis_read_the_export(store, spark, tmp_path):
    from pyspark.sql import functions as F

    fill(store)
    out = tmp_path / "export"
    export_parquet(store, out)
    readings = str(out / "readings")

    with duckdb.connect() as con:
        con.execute("SET TimeZone='UTC'")
        expected = as_rows(
            con.execute(
                "SELECT park, channel_id, year, month, sum(value), count(*)"
                f" FROM read_parquet('{readings}/**/*.parquet', hive_partitioning = true) GROUP BY ALL"
            ).fetchall()
        )
        on_duckdb = monthly(
            ibis.duckdb.from_connection(con).read_parquet(f"{readings}/**/*.parquet", hive_partitioning=True)
        )
        assert as_rows(map(dict.values, on_duckdb.to_pyarrow().to_pylist())) == expected
    # 2 channels x (4 local months in Shanghai + 2 in Berlin) = 12 sums over 128 readings
    assert len(expected) == 12 and sum(r[-1] for r in expected) == 128

    df = spark.read.parquet(readings)
    assert dict(df.dtypes) == {
        "channel_id": "bigint",
        "ts_start": "timestamp",  # an instant (Parquet isAdjustedToUTC), shown in the session's UTC
        "value": "double",
        "quality": "smallint",
        "delta": "double",
        "park": "string",
        "year": "int",
        "month": "int",  # month=02 is discovered as the integer 2
    }
    sums = df.groupBy("park", "channel_id", "year", "month").agg(F.sum("value"), F.count("*")).collect()
    assert as_rows(tuple(r) for r in sums) == expected
    # the partitions are the local months Spark computes itself from the instant and the park's zone
    zone = F.when(F.col("park") == "p1", F.lit("Asia/Shanghai")).otherwise(F.lit("Europe/Berlin"))
    local = F.from_utc_timestamp("ts_start", zone)
    assert df.filter((F.year(local) != F.col("year")) | (F.month(local) != F.col("month"))).count() == 0

    on_spark = monthly(ibis.pyspark.connect(spark).read_parquet(readings))
    assert as_rows(map(dict.values, on_spark.to_pyarrow().to_pylist())) == expected
