"""Study 03's dyad aggregates computed by an engine: one row per follow a -> b, written as Parquet.

The same numbers as :func:`reciprocity_utils.dyads.build_dyads` counts in memory, as SQL that
DuckDB (out of core) and Spark SQL both run: each follow with its reverse follow, a's events
toward b and b's toward a by kind (inside a's exposure window: at or after a followed b, or of
unknown time; a's earlier events apart), a's events after the pair became mutual, and each end's
followers, followees, returned follows and events sent and received over the whole network. The
covariates that leave the pair out, the exposure in days and what the source could not observe
are derived from these columns when the table is read (:mod:`reciprocity_utils.dyad_files`),
by the same code the in-memory table uses.

The inputs are the data model's tables in the generic format (``follows``, ``interactions``,
``accounts`` as Parquet or CSV, a saved study dataset too), cleaned as :func:`build_dataset`
cleans them: ids trimmed, self-follows and self-engagement removed, a repeated follow kept once
with its earliest time, engagement kinds named by their synonyms mapped, a missing count taken as
1. A value the engine cannot read stops the run with one line naming the file, column and value.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..model import INTERACTION_KINDS, KIND_SYNONYMS, DatasetValidationError

# The two dialects differ in a few words only; everything else is plain SQL both run.
DIALECTS = {
    "duckdb": {"text": "VARCHAR", "time": "TIMESTAMPTZ", "micros": "epoch_us", "whole": "regexp_full_match({x}, '[0-9]+')", "quote": '"'},
    "spark": {"text": "STRING", "time": "TIMESTAMP", "micros": "unix_micros", "whole": "{x} RLIKE '^[0-9]+$'", "quote": "`"},
}
EXPECTED_TIME = "a time (ISO 8601, e.g. 2024-01-31T12:00:00Z)"
EXPECTED_KIND = "an engagement kind: " + ", ".join(INTERACTION_KINDS) + " (or a synonym such as retweet, favorite)"
EXPECTED_COUNT = "a whole number of events (0 or more)"


def _text(dialect: dict, column: str) -> str:
    return f"NULLIF(TRIM(CAST({column} AS {dialect['text']})), '')"


def _kind_case(dialect: dict) -> str:
    word = f"LOWER({_text(dialect, 'kind')})"
    cases = " ".join(f"WHEN '{synonym}' THEN '{kind}'" for synonym, kind in KIND_SYNONYMS.items())
    return f"CASE {word} {cases} ELSE {word} END"


def input_views(dialect_name: str, follow_columns: set[str], event_columns: set[str] | None) -> dict[str, str]:
    """Queries of the cleaned inputs from ``dy_raw_follows`` and ``dy_raw_events`` (views of the files).

    Each keeps the raw text beside the parsed value, so a value that does not parse can be shown.
    ``event_columns`` is None when the input has no interactions table. Optional columns absent
    from a file (``followed_at``, ``at``, ``count``) are taken as unknown, as the loaders take them.
    """
    d = DIALECTS[dialect_name]
    null_text, null_number = f"CAST(NULL AS {d['text']})", "CAST(NULL AS BIGINT)"

    def text(column: str, present: set[str]) -> str:
        # Quoted names: "at" and "count" are SQL words.
        return _text(d, f"{d['quote']}{column}{d['quote']}") if column in present else null_text

    def micros(column: str, present: set[str]) -> str:
        return f"{d['micros']}(TRY_CAST({text(column, present)} AS {d['time']}))" if column in present else null_number

    views = {
        "dy_follows_read": (
            f"SELECT {text('follower_id', follow_columns)} AS follower_id, {text('followee_id', follow_columns)} AS followee_id, "
            f"{text('followed_at', follow_columns)} AS followed_text, {micros('followed_at', follow_columns)} AS followed_us "
            "FROM dy_raw_follows"
        ),
    }
    if event_columns is not None:
        views["dy_events_read"] = (
            f"SELECT {text('actor_id', event_columns)} AS actor_id, {text('target_id', event_columns)} AS target_id, "
            f"{_kind_case(d)} AS kind, {text('kind', event_columns)} AS kind_text, {text('at', event_columns)} AS at_text, "
            f"{micros('at', event_columns)} AS at_us, {text('count', event_columns)} AS count_text FROM dy_raw_events"
        )
    else:
        views["dy_events_read"] = (
            f"SELECT {null_text} AS actor_id, {null_text} AS target_id, {null_text} AS kind, {null_text} AS kind_text, "
            f"{null_text} AS at_text, {null_number} AS at_us, {null_text} AS count_text FROM dy_raw_follows WHERE 1 = 0"
        )
    return views


def check_columns(files: dict[str, str], columns: dict[str, set[str]]) -> None:
    """A table without a column the data model requires: one line naming the file and the columns it has."""
    for table, required in (("follows", ("follower_id", "followee_id")), ("interactions", ("actor_id", "target_id", "kind"))):
        if table not in columns:
            continue
        for column in required:
            if column not in columns[table]:
                raise DatasetValidationError(
                    files[table],
                    "header",
                    column,
                    f"a column named '{column}' (required: {', '.join(required)})",
                    ", ".join(sorted(columns[table])),
                )


def problems(dialect_name: str) -> list[tuple[str, str, str, str, str]]:
    """(table, column, expected, count query, example query): values the engine could not read."""
    d = DIALECTS[dialect_name]
    kinds = ", ".join(f"'{k}'" for k in INTERACTION_KINDS)
    whole = d["whole"].format(x="count_text")
    checks = [
        (
            "follows",
            "follower_id, followee_id",
            "an account id in both columns",
            "follower_id IS NULL OR followee_id IS NULL",
            "dy_follows_read",
            "CONCAT(COALESCE(follower_id, ''), ' -> ', COALESCE(followee_id, ''))",
        ),
        ("follows", "followed_at", EXPECTED_TIME, "followed_text IS NOT NULL AND followed_us IS NULL", "dy_follows_read", "followed_text"),
        (
            "interactions",
            "actor_id, target_id",
            "an account id in both columns",
            "actor_id IS NULL OR target_id IS NULL",
            "dy_events_read",
            "CONCAT(COALESCE(actor_id, ''), ' -> ', COALESCE(target_id, ''))",
        ),
        ("interactions", "kind", EXPECTED_KIND, f"kind IS NULL OR kind NOT IN ({kinds})", "dy_events_read", "COALESCE(kind_text, '')"),
        ("interactions", "at", EXPECTED_TIME, "at_text IS NOT NULL AND at_us IS NULL", "dy_events_read", "at_text"),
        ("interactions", "count", EXPECTED_COUNT, f"count_text IS NOT NULL AND NOT ({whole})", "dy_events_read", "count_text"),
    ]
    return [
        (
            table,
            column,
            expected,
            f"SELECT COUNT(*) FROM {view} WHERE {condition}",
            f"SELECT {example} FROM {view} WHERE {condition} LIMIT 1",
        )
        for table, column, expected, condition, view, example in checks
    ]


# The aggregates: plain SQL (CASE, COALESCE, GREATEST, LEFT JOIN, UNION ALL, GROUP BY).
def _by_kind(prefix: str, condition: str) -> str:
    return ", ".join(
        f"CAST(SUM(CASE WHEN {condition} AND kind = '{kind}' THEN weight ELSE 0 END) AS BIGINT) AS {prefix}_{kind}"
        for kind in INTERACTION_KINDS
    )


STEPS = (
    (
        # A repeated follow once, with its earliest time: when the tie began.
        "dy_arcs",
        "SELECT follower_id AS a, followee_id AS b, MIN(followed_us) AS followed_us FROM dy_follows_read "
        "WHERE follower_id <> followee_id GROUP BY follower_id, followee_id",
    ),
    (
        "dy_events",
        "SELECT actor_id, target_id, kind, at_us, CAST(COALESCE(count_text, '1') AS BIGINT) AS weight FROM dy_events_read "
        "WHERE actor_id <> target_id",
    ),
    (
        "dy_pairs",
        "SELECT f.a, f.b, f.followed_us, r.followed_us AS back_us, CASE WHEN r.a IS NULL THEN 0 ELSE 1 END AS mutual "
        "FROM dy_arcs f LEFT JOIN dy_arcs r ON r.a = f.b AND r.b = f.a",
    ),
    (
        # a's events toward b: inside the window unless dated before a's follow; after the
        # follow-back when the pair is mutual, both follow times and the event's are known.
        "dy_ab",
        "SELECT a, b, " + _by_kind("ab", "inside = 1") + ", CAST(SUM(CASE WHEN inside = 1 THEN weight ELSE 0 END) AS BIGINT) AS ab_total, "
        "CAST(SUM(CASE WHEN inside = 1 AND after_switch = 1 THEN weight ELSE 0 END) AS BIGINT) AS ab_mutual, "
        "CAST(SUM(CASE WHEN inside = 0 THEN weight ELSE 0 END) AS BIGINT) AS ab_before_follow, "
        "MAX(CASE WHEN inside = 1 AND at_us IS NULL THEN 1 ELSE 0 END) AS ab_undated, "
        + _by_kind("ab_dated", "inside = 1 AND at_us IS NOT NULL")
        + ", "
        + _by_kind("ab_after", "inside = 1 AND after_switch = 1")
        + " FROM ("
        "SELECT p.a, p.b, e.kind, e.weight, e.at_us, "
        "CASE WHEN e.at_us IS NOT NULL AND p.followed_us IS NOT NULL AND e.at_us < p.followed_us THEN 0 ELSE 1 END AS inside, "
        "CASE WHEN p.mutual = 1 AND p.followed_us IS NOT NULL AND p.back_us IS NOT NULL AND e.at_us IS NOT NULL "
        "AND e.at_us >= GREATEST(p.followed_us, p.back_us) THEN 1 ELSE 0 END AS after_switch "
        "FROM dy_pairs p JOIN dy_events e ON e.actor_id = p.a AND e.target_id = p.b) ab GROUP BY a, b",
    ),
    (
        # b's events toward a, inside a's window the same way.
        "dy_ba",
        "SELECT a, b, " + _by_kind("ba", "inside = 1") + ", CAST(SUM(CASE WHEN inside = 1 THEN weight ELSE 0 END) AS BIGINT) AS ba_total, "
        "CAST(SUM(CASE WHEN inside = 0 THEN weight ELSE 0 END) AS BIGINT) AS ba_before_follow, "
        # Dated events of b inside a's window, and those after the follow-back: the two states of a's exposure.
        + _by_kind("ba_dated", "inside = 1 AND at_us IS NOT NULL")
        + ", "
        + _by_kind("ba_after", "inside = 1 AND after_switch = 1")
        + " FROM (SELECT p.a, p.b, e.kind, e.weight, e.at_us, "
        "CASE WHEN e.at_us IS NOT NULL AND p.followed_us IS NOT NULL AND e.at_us < p.followed_us THEN 0 ELSE 1 END AS inside, "
        "CASE WHEN p.mutual = 1 AND p.followed_us IS NOT NULL AND p.back_us IS NOT NULL AND e.at_us IS NOT NULL "
        "AND e.at_us >= GREATEST(p.followed_us, p.back_us) THEN 1 ELSE 0 END AS after_switch "
        "FROM dy_pairs p JOIN dy_events e ON e.actor_id = p.b AND e.target_id = p.a) ba GROUP BY a, b",
    ),
    (
        # Per account over the whole network: one grouped sum over five streams.
        "dy_accounts",
        "SELECT account_id, CAST(SUM(followers) AS BIGINT) AS followers, CAST(SUM(following) AS BIGINT) AS following, "
        "CAST(SUM(returned) AS BIGINT) AS returned, CAST(SUM(sent) AS BIGINT) AS sent, CAST(SUM(received) AS BIGINT) AS received FROM ("
        "SELECT b AS account_id, 1 AS followers, 0 AS following, mutual AS returned, 0 AS sent, 0 AS received FROM dy_pairs "
        "UNION ALL SELECT a AS account_id, 0 AS followers, 1 AS following, 0 AS returned, 0 AS sent, 0 AS received FROM dy_arcs "
        "UNION ALL SELECT actor_id AS account_id, 0 AS followers, 0 AS following, 0 AS returned, weight AS sent, 0 AS received FROM dy_events "
        "UNION ALL SELECT target_id AS account_id, 0 AS followers, 0 AS following, 0 AS returned, 0 AS sent, weight AS received FROM dy_events"
        ") streams GROUP BY account_id",
    ),
)
# Per kind, for the split of each follow's exposure at the follow-back (study 03's state design).
STATE_COLUMNS = tuple(f"{prefix}_{kind}" for prefix in ("ab_dated", "ab_after", "ba_dated", "ba_after") for kind in INTERACTION_KINDS)
_STATE_SELECT = ", ".join(f"COALESCE({'ab' if c.startswith('ab') else 'ba'}.{c}, 0) AS {c}" for c in STATE_COLUMNS)
_KIND_COLUMNS = (
    ", ".join(f"COALESCE(ab.ab_{k}, 0) AS ab_{k}" for k in INTERACTION_KINDS)
    + ", "
    + ", ".join(f"COALESCE(ba.ba_{k}, 0) AS ba_{k}" for k in INTERACTION_KINDS)
)
# The table written: the pair, its times, the counts, and each end's per-account figures.
DYADS = (
    "SELECT p.a AS a_id, p.b AS b_id, p.followed_us, p.back_us AS followed_back_us, p.mutual, "
    + _KIND_COLUMNS
    + ", COALESCE(ab.ab_total, 0) AS ab_total, COALESCE(ab.ab_mutual, 0) AS ab_mutual, "
    "COALESCE(ab.ab_before_follow, 0) AS ab_before_follow, COALESCE(ab.ab_undated, 0) AS ab_undated, "
    "COALESCE(ba.ba_total, 0) AS ba_total, COALESCE(ba.ba_before_follow, 0) AS ba_before_follow, "
    "sa.followers AS a_followers, sa.following AS a_following, sa.returned AS a_returned, sa.sent AS a_sent, sa.received AS a_received, "
    "sb.followers AS b_followers, sb.following AS b_following, sb.returned AS b_returned, sb.sent AS b_sent, sb.received AS b_received, "
    + _STATE_SELECT
    + " FROM dy_pairs p LEFT JOIN dy_ab ab ON ab.a = p.a AND ab.b = p.b LEFT JOIN dy_ba ba ON ba.a = p.a AND ba.b = p.b "
    "JOIN dy_accounts sa ON sa.account_id = p.a JOIN dy_accounts sb ON sb.account_id = p.b"
)
WINDOW = "SELECT MIN(t), MAX(t) FROM (SELECT followed_us AS t FROM dy_arcs UNION ALL SELECT at_us AS t FROM dy_events) times"
COUNTS = (
    "SELECT (SELECT COUNT(*) FROM dy_follows_read), (SELECT COUNT(*) FROM dy_arcs), (SELECT COUNT(followed_us) FROM dy_arcs), "
    "(SELECT COUNT(*) FROM dy_events_read), (SELECT COUNT(*) FROM dy_events)"
)
EVENTS_BY_KIND = "SELECT kind, COUNT(*), CAST(SUM(weight) AS BIGINT) FROM dy_events GROUP BY kind"
# Every view the engines register (engagement_sql.py adds its own over the first STEPS).
TEMPORARY = ("dy_raw_follows", "dy_raw_events", "dy_follows_read", "dy_events_read", *(name for name, _ in STEPS), "dy_engaged")


@dataclass(frozen=True)
class DyadAggregates:
    """What the engine wrote: the table's rows, the data's time span, and the repairs it counted."""

    path: str
    engine: str
    follows_read: int
    arcs: int
    timed_arcs: int
    events_read: int
    events_kept: int
    window_start_us: int | None
    window_end_us: int | None
    seconds: float
    events_by_kind: dict | None = None  # kind -> events (rows weighted by their count), over the whole network

    @property
    def repeated_or_self_follows_removed(self) -> int:
        return self.follows_read - self.arcs

    @property
    def self_engagement_removed(self) -> int:
        return self.events_read - self.events_kept


def check_values(run_query, dialect_name: str, files: dict[str, str]) -> None:
    """The first kind of value the engine could not read, as one line (file, rows, column, expected, an example)."""
    for table, column, expected, count_query, example_query in problems(dialect_name):
        if table == "interactions" and table not in files:
            continue
        count = int(run_query(count_query)[0][0])
        if count:
            example = run_query(example_query)[0][0]
            rows = f"{count:,} row" + ("s" if count != 1 else "")
            raise DatasetValidationError(files[table], rows, column, expected, str(example), count - 1)


def run_dyad_steps(engine, dialect_name: str, files: dict[str, str], out_path: str) -> DyadAggregates:
    """Every step from the registered ``dy_raw_*`` views to the Parquet table at ``out_path``."""
    started = time.perf_counter()
    check_values(engine.rows, dialect_name, files)
    for table, query in STEPS:
        engine.materialize(table, query)
    follows_read, arcs, timed_arcs, events_read, events_kept = (int(v) for v in engine.rows(COUNTS)[0])
    start, end = engine.rows(WINDOW)[0]
    by_kind = {str(kind): int(events) for kind, _, events in engine.rows(EVENTS_BY_KIND)}
    engine.write_table(DYADS, out_path)
    return DyadAggregates(
        str(out_path),
        engine.name,
        follows_read,
        arcs,
        timed_arcs,
        events_read,
        events_kept,
        None if start is None else int(start),
        None if end is None else int(end),
        round(time.perf_counter() - started, 3),
        {kind: by_kind.get(kind, 0) for kind in INTERACTION_KINDS},
    )


def dyad_input_tables(path: str | Path) -> dict[str, Path]:
    """The generic-format tables at ``path`` (a folder, or its ``follows`` file): follows, and interactions and accounts if present."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    found: dict[str, Path] = {}
    for name in ("follows", "interactions", "accounts"):
        for suffix in (".parquet", ".csv", ".csv.gz"):
            if (folder / f"{name}{suffix}").is_file():
                found[name] = folder / f"{name}{suffix}"
                break
    if "follows" not in found:
        raise DatasetValidationError(
            str(path),
            "the folder",
            "follows",
            "a folder of the generic format (follows, interactions, accounts as Parquet or CSV)",
            "no follows file",
        )
    return found


def on_cleaned_inputs(
    tables: dict[str, Path],
    steps,
    engine: str = "duckdb",
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
    spark_master: str | None = "local[2]",
):
    """``steps(runner, dialect, files)`` with ``engine`` over the cleaned views of ``tables`` (``dy_follows_read``, ``dy_events_read``)."""
    if engine == "duckdb":
        from .duckdb_engine import on_cleaned_inputs_with_duckdb

        return on_cleaned_inputs_with_duckdb(tables, steps, memory_limit, temp_directory)
    from .spark_engine import on_cleaned_inputs_with_spark

    return on_cleaned_inputs_with_spark(tables, steps, spark_master)


# What one follow of the table costs at the peak of reading it and fitting study 03's models
# (benchmarks/bench_dyad_aggregates.py, each follow's time split at its follow-back: 4.1 KB per
# follow beyond the first 331k; at 1.34M follows the process peaked at 5.5 GiB). The whole table
# is used where this fits in half the memory available.
BYTES_PER_ROW = 4_300
DYADS_FILE = "dyads.parquet"
ABOUT_FILE = "dyads.json"
FORMAT = "reciprocity-dyad-aggregates/1"


def write_dyad_aggregates(
    path: str | Path,
    folder: str | Path,
    engine: str = "duckdb",
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
    spark_master: str | None = "local[2]",
) -> DyadAggregates:
    """Compute study 03's dyad aggregates of the generic-format folder at ``path`` with ``engine`` into the private ``folder``.

    Writes ``dyads.parquet`` (a folder of part files from Spark) and ``dyads.json`` (the time span,
    the counts and the input tables' names); :func:`reciprocity_utils.dyad_files.read_dyad_table`
    reads them back as the dyad table of study 03.
    """
    from ..paths import open_for_writing, output_folder

    if engine not in ("duckdb", "spark"):
        raise ValueError(f"the dyad aggregates are computed by the duckdb or spark engine, not {engine!r}")
    tables = dyad_input_tables(path)
    folder = output_folder(folder, private=True)
    out_path = folder / DYADS_FILE
    if out_path.is_dir():
        shutil.rmtree(out_path)
    else:
        out_path.unlink(missing_ok=True)
    aggregates = on_cleaned_inputs(
        tables,
        lambda runner, dialect, files: run_dyad_steps(runner, dialect, files, str(out_path)),
        engine,
        memory_limit,
        temp_directory,
        spark_master,
    )
    about = {"format": FORMAT, "aggregates": {**asdict(aggregates), "path": DYADS_FILE}, "inputs": {k: str(v) for k, v in tables.items()}}
    with open_for_writing(folder / ABOUT_FILE, private=True) as handle:
        handle.write(json.dumps(about, indent=2, sort_keys=True) + "\n")
    return aggregates
