"""The measures with Apache Spark (PySpark DataFrames and Spark SQL): locally or on a cluster.

``master`` is ``local[2]`` (two cores of this machine: what the tests run) or a cluster's URL
(``spark://host:7077``, ``yarn``, ``k8s://...``); under ``spark-submit`` the session it made is
used. The same SQL as DuckDB's runs here; tables persist in memory and spill to disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .inputs import COMMENT_MARKS, FollowInput
from .measures import FollowMeasures
from .sql import run_measures


class SparkUnavailable(ValueError):
    """PySpark or Java is missing: one line saying what to install (a setup problem, not a bug)."""


# Where the spark engine of a report runs: a cluster's URL (yarn, spark://host:7077, k8s://...)
# from the environment, never a study parameter, since parameters are published with the report.
SPARK_MASTER_VARIABLE = "RECIPROCITY_SPARK_MASTER"


def spark_master_from_environment() -> str | None:
    """``$RECIPROCITY_SPARK_MASTER``, or None where it is not set."""
    return os.environ.get(SPARK_MASTER_VARIABLE, "").strip() or None


def spark_session(master: str | None = "local[2]", app_name: str = "reciprocity") -> Any:
    """A Spark session: the active one (spark-submit), else a new one on ``master``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("the spark engine needs PySpark: pip install 'reciprocity-utils[spark]' (and Java 17 or newer)") from None
    if master and master.startswith("local") and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkUnavailable("the spark engine needs Java 17 or newer, found neither on PATH nor in JAVA_HOME")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    log_settings = Path(__file__).with_name("log4j2.properties")
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={log_settings.as_uri()}")
    )
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        # A local run: few shuffle partitions (the default 200 is for clusters).
        builder = builder.config("spark.sql.shuffle.partitions", "8").config("spark.driver.memory", "2g")
    with _jvm_output_to_log() as log:
        try:
            session = builder.getOrCreate()
        except Exception as error:  # the JVM did not start: its own words are in the log
            raise SparkUnavailable(f"Spark did not start ({str(error).splitlines()[0]}); the Java process's output is in {log}") from None
    session.sparkContext.setLogLevel("ERROR")  # Spark's INFO and WARN lines are for cluster operators
    return session


@contextlib.contextmanager
def _jvm_output_to_log() -> Iterator[Path]:
    """The JVM Spark starts writes its banner and warnings to a log file, not to this process's stderr.

    The JVM inherits file descriptor 2 when it starts; in a notebook kernel that is the cell's
    output, where "WARNING: Using incubator modules" and Spark's log-level banner would land on the
    published page. Pointing descriptor 2 at a log file while the JVM starts sends them there for
    its whole life; Python's own stderr is restored at once. Errors still reach Python as exceptions.
    """
    log = Path(tempfile.gettempdir()) / f"reciprocity-spark-{os.getpid()}.log"
    saved = os.dup(2)
    try:
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.dup2(descriptor, 2)
            try:
                yield log
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(descriptor)
    finally:
        os.close(saved)


class SparkEngine:
    name = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session
        self._persisted: list[Any] = []
        self.extra_views: tuple[str, ...] = ()

    def materialize(self, table: str, query: str) -> None:
        from pyspark import StorageLevel

        frame = self.session.sql(query).persist(StorageLevel.MEMORY_AND_DISK)
        frame.count()  # computed once, here
        frame.createOrReplaceTempView(table)
        self._persisted.append(frame)

    def one_row(self, query: str) -> tuple:
        return tuple(self.session.sql(query).collect()[0])

    def rows(self, query: str, what: str = "") -> list[tuple]:
        return [tuple(row) for row in self.session.sql(query).collect()]

    def write_table(self, query: str, path: str) -> None:
        # Sorted by the pair: the same rows in the same order from every engine and every run.
        self.session.sql(f"{query} ORDER BY a_id, b_id").write.mode("overwrite").parquet(path)

    def write_accounts(self, path: str) -> None:
        # A folder of Parquet part files (what Spark writes; Parquet readers read the folder).
        self.session.table("accounts").orderBy("account_id").write.mode("overwrite").parquet(path)

    def close(self) -> None:
        for frame in self._persisted:
            frame.unpersist()
        for view in ("raw_follows", "follows", "mutual_by_account", "accounts", *self.extra_views):
            self.session.catalog.dropTempView(view)


def register_raw_follows(session: Any, source: FollowInput) -> None:
    paths = [str(p) for p in source.paths]
    if source.kind == "parquet":
        frame = session.read.parquet(*paths).selectExpr(
            "CAST(follower_id AS STRING) AS follower_id", "CAST(followee_id AS STRING) AS followee_id"
        )
    elif source.kind == "csv":
        frame = (
            session.read.option("header", True)
            .csv(paths)
            .selectExpr("NULLIF(TRIM(follower_id), '') AS follower_id", "NULLIF(TRIM(followee_id), '') AS followee_id")
        )
    else:
        session.read.text(paths).createOrReplaceTempView("raw_lines")
        comments = "substring(t, 1, 1) NOT IN (" + ", ".join(f"'{mark}'" for mark in COMMENT_MARKS) + ")"
        frame = session.sql(
            "SELECT parts[0] AS follower_id, CASE WHEN size(parts) >= 2 THEN parts[1] END AS followee_id FROM ("
            "SELECT split(t, '[ \\\\t]+') AS parts FROM ("
            "SELECT trim(BOTH ' \\t\\r' FROM value) AS t FROM raw_lines"
            f") WHERE t <> '' AND {comments})"
        )
    frame.createOrReplaceTempView("raw_follows")


@contextlib.contextmanager
def _quiet_pandas_warning() -> Iterator[None]:
    # PySpark 4.3 warns that it does not fully support pandas 3 when it first imports its pandas
    # helpers: this engine hands Spark no pandas data (Spark reads the files, Python collects a
    # few rows), so the warning does not apply.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


@_quiet_pandas_warning()
def on_cleaned_inputs_with_spark(tables: dict[str, Path], steps, master: str | None = "local[2]"):
    """``steps(engine, "spark", files)`` over the cleaned views of the generic-format ``tables`` (:mod:`.dyad_sql`)."""
    from .dyad_sql import TEMPORARY, check_columns, input_views

    session = spark_session(master)
    engine = SparkEngine(session)
    engine.extra_views = TEMPORARY
    zone = session.conf.get("spark.sql.session.timeZone")
    session.conf.set("spark.sql.session.timeZone", "UTC")  # times without an offset are UTC, as the loaders take them
    try:
        columns = {}
        for name, raw in (("follows", "dy_raw_follows"), ("interactions", "dy_raw_events")):
            if name in tables:
                path = str(tables[name])
                reader = session.read.parquet(path) if path.endswith(".parquet") else session.read.option("header", True).csv(path)
                reader.createOrReplaceTempView(raw)
                columns[name] = set(reader.columns)
        files = {k: str(v) for k, v in tables.items()}
        check_columns(files, columns)
        for name, query in input_views("spark", columns["follows"], columns.get("interactions")).items():
            session.sql(query).createOrReplaceTempView(name)
        return steps(engine, "spark", files)
    finally:
        engine.close()
        session.conf.set("spark.sql.session.timeZone", zone)


@_quiet_pandas_warning()
def measure_with_spark(source: FollowInput, accounts_file: str | None = None, master: str | None = "local[2]") -> FollowMeasures:
    session = spark_session(master)
    engine = SparkEngine(session)
    try:
        register_raw_follows(session, source)
        return run_measures(engine, source, accounts_file)
    finally:
        engine.close()
