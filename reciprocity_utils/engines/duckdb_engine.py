"""The measures with DuckDB, out of core: a memory limit, spilling to a temporary folder.

Parquet is read lazily (only the two id columns), CSV and edge lists streamed (``.gz`` too);
tables that do not fit in ``memory_limit`` spill to ``temp_directory``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .inputs import COMMENT_MARKS, FollowInput
from .measures import FollowMeasures
from .sql import run_measures

TAB, CR, UNIT, RECORD = "\t", "\r", "\x1f", "\x1e"


def _quoted(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _paths_list(paths: tuple[Path, ...] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_quoted(p) for p in paths) + "]"


def raw_follows_query(source: FollowInput) -> str:
    """A query of ``(follower_id, followee_id)`` as text, NULL where a line has no second field."""
    if source.kind == "parquet":
        return (
            "SELECT CAST(follower_id AS VARCHAR) AS follower_id, CAST(followee_id AS VARCHAR) AS followee_id "
            f"FROM read_parquet({_paths_list(source.paths)})"
        )
    if source.kind == "csv":
        return (
            "SELECT NULLIF(TRIM(follower_id), '') AS follower_id, NULLIF(TRIM(followee_id), '') AS followee_id "
            f"FROM read_csv({_paths_list(source.paths)}, header = true, all_varchar = true, compression = 'auto')"
        )
    # One text column per line (a delimiter and quote no edge list uses: the ASCII unit and
    # record separators), split on runs of blanks. SQL literals hold the characters themselves.
    comments = "substring(t, 1, 1) NOT IN (" + ", ".join(f"'{mark}'" for mark in COMMENT_MARKS) + ")"
    return (
        "SELECT parts[1] AS follower_id, CASE WHEN len(parts) >= 2 THEN parts[2] END AS followee_id FROM ("
        f"SELECT string_split_regex(t, '[ {TAB}]+') AS parts FROM ("
        f"SELECT trim(line, ' {TAB}{CR}') AS t FROM read_csv("
        f"{_paths_list(source.paths)}, columns = {{'line': 'VARCHAR'}}, header = false, delim = '{UNIT}', quote = '{RECORD}', "
        f"escape = '{RECORD}', auto_detect = false, compression = 'auto', null_padding = true"
        f") WHERE line IS NOT NULL) WHERE t <> '' AND {comments})"
    )


class EngineMemoryError(ValueError):
    """The memory limit given to DuckDB is too small for a step, even with spilling (a parameter to raise)."""


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, memory_limit: str = "4GB", temp_directory: str | Path | None = None, threads: int | None = None) -> None:
        import duckdb

        self.memory_limit = memory_limit
        self._temporary = None
        if temp_directory is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="reciprocity-duckdb-")
            temp_directory = self._temporary.name
        self.connection = duckdb.connect()
        self.connection.execute(f"SET memory_limit = '{memory_limit}'")
        self.connection.execute(f"SET temp_directory = {_quoted(Path(temp_directory))}")
        self.connection.execute("SET preserve_insertion_order = false")  # lets big tables stream and spill
        # In a notebook kernel DuckDB draws a query taking over two seconds as a widget, which the
        # published page would carry (an empty bar and its script): the reports show no progress bars.
        self.connection.execute("SET enable_progress_bar = false")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")

    def _execute(self, statement: str, what: str):
        import duckdb

        try:
            return self.connection.execute(statement)
        except duckdb.OutOfMemoryException:
            raise EngineMemoryError(
                f"DuckDB needed more than its memory limit ({self.memory_limit}) to {what}, even spilling to disk: "
                "raise --memory-limit (a few hundred MB per 10M follows is enough) or use the spark engine"
            ) from None

    def materialize(self, table: str, query: str) -> None:
        self._execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {query}", f"build '{table}'")

    def one_row(self, query: str) -> tuple:
        return self._execute(query, "count the follows").fetchone()

    def rows(self, query: str, what: str = "compute the dyad aggregates") -> list[tuple]:
        return self._execute(query, what).fetchall()

    def write_table(self, query: str, path: str) -> None:
        # Sorted by the pair: the same rows in the same order from every engine and every run.
        self._execute(f"COPY ({query} ORDER BY a_id, b_id) TO {_quoted(Path(path))} (FORMAT parquet)", "write the dyad table")

    def write_accounts(self, path: str) -> None:
        self._execute(f"COPY (SELECT * FROM accounts ORDER BY account_id) TO {_quoted(Path(path))} (FORMAT parquet)", "write the accounts")

    def close(self) -> None:
        self.connection.close()
        if self._temporary is not None:
            self._temporary.cleanup()


def table_reader(path: Path) -> str:
    """A DuckDB table function reading one table of the generic format (CSV read as text, as the loaders read it)."""
    if path.name.endswith(".parquet"):
        return f"read_parquet({_quoted(path)})"
    return f"read_csv({_quoted(path)}, header = true, all_varchar = true, compression = 'auto')"


def on_cleaned_inputs_with_duckdb(tables: dict[str, Path], steps, memory_limit: str = "4GB", temp_directory: str | Path | None = None):
    """``steps(engine, "duckdb", files)`` over the cleaned views of the generic-format ``tables`` (:mod:`.dyad_sql`)."""
    from .dyad_sql import check_columns, input_views

    engine = DuckDBEngine(memory_limit, temp_directory)
    try:
        connection = engine.connection
        connection.execute("SET TimeZone = 'UTC'")  # times without an offset are UTC, as the loaders take them
        columns = {}
        for name, raw in (("follows", "dy_raw_follows"), ("interactions", "dy_raw_events")):
            if name in tables:
                connection.execute(f"CREATE VIEW {raw} AS SELECT * FROM {table_reader(tables[name])}")
                columns[name] = {row[0] for row in connection.execute(f"DESCRIBE {raw}").fetchall()}
        files = {k: str(v) for k, v in tables.items()}
        check_columns(files, columns)
        for name, query in input_views("duckdb", columns["follows"], columns.get("interactions")).items():
            connection.execute(f"CREATE VIEW {name} AS {query}")
        return steps(engine, "duckdb", files)
    finally:
        engine.close()


def measure_with_duckdb(
    source: FollowInput,
    accounts_file: str | None = None,
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
    threads: int | None = None,
) -> FollowMeasures:
    engine = DuckDBEngine(memory_limit, temp_directory, threads)
    try:
        engine.connection.execute(f"CREATE VIEW raw_follows AS {raw_follows_query(source)}")
        return run_measures(engine, source, accounts_file)
    finally:
        engine.close()
