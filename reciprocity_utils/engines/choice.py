"""Which engine measures a follow file, and the in-memory engine the other two are checked against."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..account_codes import AccountCodes
from ..model import DatasetValidationError
from .inputs import EXPECTED_EDGE, ID_COLUMNS, FollowInput, follow_input, is_follow_list, missing_ids_error
from .measures import FollowMeasures, configuration_model_r

ENGINES = ("auto", "memory", "duckdb", "spark")
# Measured: the in-memory path holds about 200 bytes per follow of text ids at its peak, and a
# follow takes 20-40 bytes on disk as text (less as Parquet). ``auto`` keeps to memory while the
# estimate stays within half of the memory available, and goes out of core beyond.
BYTES_IN_MEMORY_PER_BYTE_ON_DISK = 10
MAX_EDGE_FIELDS = 32  # follower, followee and up to 30 more (weights, times): more is not an edge list


def available_memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def choose_engine(source: FollowInput, available: int | None = None) -> str:
    """``memory`` while the input's estimated footprint fits in half the available memory, else ``duckdb``."""
    available = available_memory_bytes() if available is None else available
    compressed = any(p.name.endswith((".gz", ".parquet")) for p in source.paths)
    on_disk = source.bytes * (4 if compressed else 1)
    return "memory" if on_disk * BYTES_IN_MEMORY_PER_BYTE_ON_DISK < available / 2 else "duckdb"


def measuring_engine(path: str | Path, engine: str) -> str | None:
    """How the studies read ``path``: ``duckdb`` or ``spark`` to measure it out of memory, None to load it.

    ``memory`` loads it; ``auto`` measures a follow list whose estimated footprint is more than
    half the memory available (exports are always loaded: only the loaders read them).
    """
    if engine == "memory":
        return None
    if engine != "auto":
        return engine
    if not is_follow_list(path):
        return None
    try:
        source = follow_input(path)
    except (ValueError, FileNotFoundError):
        return None  # the loader will say what is wrong with it, in its words
    chosen = "spark" if source.remote else choose_engine(source)
    return None if chosen == "memory" else chosen


def _read_ids(source: FollowInput) -> tuple[pd.Series, pd.Series]:
    if source.kind == "parquet":
        table = pd.concat([pd.read_parquet(p, columns=list(ID_COLUMNS)) for p in source.paths], ignore_index=True)
        return table["follower_id"].astype("string"), table["followee_id"].astype("string")
    if source.kind == "csv":
        table = pd.read_csv(source.paths[0], dtype="string", usecols=list(ID_COLUMNS), keep_default_na=False)
        return table["follower_id"].str.strip().replace("", pd.NA), table["followee_id"].str.strip().replace("", pd.NA)
    from ..io.common import read_whitespace_lines

    try:
        rows, _ = read_whitespace_lines(source.paths[0], min_fields=2, max_fields=MAX_EDGE_FIELDS)
    except DatasetValidationError as error:  # the same words as the SQL engines'
        raise DatasetValidationError(error.origin, error.where, "follower, followee", EXPECTED_EDGE, error.found) from None
    return rows.iloc[:, 0].astype("string"), rows.iloc[:, 1].astype("string")


def measure_in_memory(source: FollowInput, accounts_file: str | None = None) -> FollowMeasures:
    """The measures with the package's numpy code (what studies 01 and 02 run), on the whole network in memory."""
    from ..metrics import account_counts, mutual_pairs

    started = time.perf_counter()
    follower_ids, followee_ids = _read_ids(source)
    missing = int((follower_ids.isna() | followee_ids.isna()).sum())
    if missing:
        raise missing_ids_error(source, missing)
    rows_read = len(follower_ids)
    ids = pd.Series(pd.unique(pd.concat([follower_ids, followee_ids], ignore_index=True)), dtype="string")
    codes = AccountCodes(ids)
    follower, followee = codes.of_columns([(follower_ids, "follower_id"), (followee_ids, "followee_id")])
    del follower_ids, followee_ids
    loops = follower == followee
    n = codes.n
    keys = np.unique(follower[~loops].astype(np.int64) * n + followee[~loops])
    follower, followee = keys // n, keys % n
    del keys
    # Accounts that appear only in self-follows are not part of the network the others measure.
    present = np.zeros(n, dtype=bool)
    present[follower] = True
    present[followee] = True
    mutual = mutual_pairs(follower, followee, n)
    counts = account_counts(follower, followee, n, mutual)
    returned = int(counts["mutual"].sum())
    if accounts_file is not None:
        table = pd.DataFrame(
            {
                "account_id": codes.ids.array,
                "followers": counts["followers"],
                "following": counts["following"],
                "mutual": counts["mutual"],
            }
        )[present]
        table["followback_rate"] = np.where(
            table["followers"] > 0, table["mutual"] / table["followers"].where(table["followers"] > 0, 1), np.nan
        )
        table.sort_values("account_id").to_parquet(accounts_file, index=False)
    return FollowMeasures(
        source=source.label,
        engine="memory",
        rows_read=rows_read,
        self_follows_removed=int(loops.sum()),
        repeated_follows_removed=rows_read - int(loops.sum()) - len(follower),
        follows=len(follower),
        accounts=int(present.sum()),
        returned_follows=returned,
        seconds=round(time.perf_counter() - started, 3),
        accounts_file=accounts_file,
        configuration_r=configuration_model_r(counts["following"][present], counts["followers"][present]),
    )


def measure_follows(
    path: str | Path,
    engine: str = "auto",
    accounts_file: str | Path | None = None,
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
    spark_master: str | None = "local[2]",
    threads: int | None = None,
) -> FollowMeasures:
    """Counts, r, rho and per-account figures of the follows at ``path`` with the chosen engine.

    ``accounts_file``: where to write the per-account table (Parquet; a folder of part files
    for Spark). ``memory_limit``, ``temp_directory`` and ``threads`` bound DuckDB (the fewer
    threads, the less memory a step needs); ``spark_master`` says where Spark runs.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    source = follow_input(path)
    chosen = ("spark" if source.remote else choose_engine(source)) if engine == "auto" else engine
    if source.remote and chosen != "spark":
        raise ValueError(f"{path}: files on a cluster's storage are read by the spark engine only (--engine spark)")
    target = None if accounts_file is None else str(accounts_file)
    if chosen == "memory":
        measures = measure_in_memory(source, target)
    elif chosen == "duckdb":
        from .duckdb_engine import measure_with_duckdb

        measures = measure_with_duckdb(source, target, memory_limit=memory_limit, temp_directory=temp_directory, threads=threads)
    else:
        from .spark_engine import measure_with_spark

        measures = measure_with_spark(source, target, master=spark_master)
    if engine == "auto":
        reason = {
            "memory": "fits in memory",
            "duckdb": "estimated larger than half the memory available",
            "spark": "on a cluster's storage",
        }[chosen]
        measures = _with_note(measures, f"Engine chosen by input size: {chosen} (the input {reason}).")
    return measures


def _with_note(measures: FollowMeasures, note: str) -> FollowMeasures:
    import dataclasses

    return dataclasses.replace(measures, notes=(*measures.notes, note))
