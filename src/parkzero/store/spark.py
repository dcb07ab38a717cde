"""A local-mode Spark session for the scale-out jobs that read the Parquet export (`store.export`).

PySpark is an extra (`pip install 'parkzero[spark]'`) and needs a Java 17 runtime on PATH (or JAVA_HOME).
The session computes in UTC, as the store does: `spark.sql.session.timeZone` and the JVM's own zone are both
UTC, so a `ts_start` read from Parquet (an instant) prints and truncates in UTC; a park's local calendar is
`from_utc_timestamp(ts_start, parks.timezone)` or, simpler, the export's `year=`/`month=` partitions.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from parkzero.errors import ParkzeroError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["spark_session"]


def spark_session(app_name: str = "parkzero", cores: int = 2, *, driver_memory: str = "2g") -> SparkSession:
    """Start (or return the running) Spark session in local mode on `cores` cores.

    Small shuffles (2 partitions per core), UTC everywhere, no web UI, no progress bars, only errors logged,
    and the driver bound to the loopback address. Stop it with `session.stop()`.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ParkzeroError("PySpark is not installed: pip install 'parkzero[spark]' (it also needs Java 17)") from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise ParkzeroError("Spark needs a Java 17 runtime: install one (Debian: openjdk-17-jre-headless)")
    # Python workers (UDFs, createDataFrame from Python) run the same interpreter as the driver
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode talks to itself only
    jvm = f"-Duser.timezone=UTC -Dlog4j2.configurationFile={_log_config()}"
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", jvm)
        .config("spark.executor.extraJavaOptions", jvm)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(2 * cores))
        .config("spark.default.parallelism", str(2 * cores))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


_LOG4J2 = """\
# parkzero: Spark logs errors only, to stderr
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _log_config() -> Path:
    """A log4j2 configuration that keeps Spark quiet (its default prints every WARN)."""
    path = Path(tempfile.gettempdir()) / "parkzero-spark-log4j2.properties"
    if not path.exists() or path.read_text() != _LOG4J2:
        path.write_text(_LOG4J2)
    return path
