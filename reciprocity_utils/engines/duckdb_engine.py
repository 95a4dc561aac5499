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

    def write_accounts(self, path: str) -> None:
        self._execute(f"COPY (SELECT * FROM accounts ORDER BY account_id) TO {_quoted(Path(path))} (FORMAT parquet)", "write the accounts")

    def close(self) -> None:
        self.connection.close()
        if self._temporary is not None:
            self._temporary.cleanup()


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
