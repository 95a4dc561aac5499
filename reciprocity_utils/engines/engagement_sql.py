"""A whole network's engagement counted by an engine: how much of each kind, and who engaged with whom.

Study 01 shows how much engagement of each kind the data records; study 02 asks how many mutual
and one-way follow pairs engaged in both directions, one or none within the last days of the
data. On a network measured out of memory both come from the engine, over the cleaned views that
study 03's dyad aggregates read (:mod:`.dyad_sql`), so they equal what the loaded dataset gives
(:meth:`~reciprocity_utils.model.StudyDataset.counts`,
:func:`~reciprocity_utils.metrics.engagement_reciprocity`): the same repairs, the same time span,
the same window.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model import INTERACTION_KINDS
from .dyad_sql import EVENTS_BY_KIND, STEPS, WINDOW, check_values, dyad_input_tables, on_cleaned_inputs

# The follows once each, the engagement without self-engagement, and each follow with its reverse.
_BASE_STEPS = tuple(step for step in STEPS if step[0] in ("dy_arcs", "dy_events", "dy_pairs"))
SUMMARY_COUNTS = (
    "SELECT (SELECT COUNT(*) FROM dy_events_read), (SELECT COUNT(*) FROM dy_events), "
    "(SELECT COUNT(*) - COUNT(at_us) FROM dy_events), (SELECT COUNT(followed_us) FROM dy_arcs)"
)

# Per day (UTC) of the data: new follows and engagement events by kind, for study 01's activity figure.
_DAY = "CAST(FLOOR({t} / 86400000000.0) AS BIGINT)"
DAILY_FOLLOWS = (
    f"SELECT day, COUNT(*) FROM (SELECT {_DAY.format(t='followed_us')} AS day FROM dy_arcs WHERE followed_us IS NOT NULL) d GROUP BY day"
)
DAILY_EVENTS = (
    f"SELECT day, kind, CAST(SUM(weight) AS BIGINT) FROM (SELECT {_DAY.format(t='at_us')} AS day, kind, weight FROM dy_events "
    "WHERE at_us IS NOT NULL) d GROUP BY day, kind"
)


@dataclass(frozen=True)
class EngagementSummary:
    """The whole network's engagement as study 01 counts it, and the data's time span (microseconds since 1970, UTC)."""

    rows_read: int
    rows_kept: int  # after removing an account's engagement with itself
    rows_without_time: int
    events_by_kind: dict  # kind -> events (rows weighted by their count)
    time_start_us: int | None  # over the follows and the engagement, as the loaded dataset's time span
    time_end_us: int | None
    timed_follows: int
    seconds: float
    # Days since 1970-01-01 (UTC) with new follows or engagement: {"day": [...], "follows": [...], kind: [...]}.
    daily: dict = field(default_factory=dict)
    # Each input table's size and modification time when read: study 02 reads the same files again, or says they changed.
    inputs: dict = field(default_factory=dict)

    @property
    def events(self) -> int:
        return int(sum(self.events_by_kind.values()))

    @property
    def self_engagement_removed(self) -> int:
        return self.rows_read - self.rows_kept

    def activity_by_day(self) -> pd.DataFrame:
        """New follows and events of each kind per day with any (index: the day's start, UTC)."""
        columns = ["follows", *INTERACTION_KINDS]
        days = pd.to_datetime(pd.Series(self.daily.get("day", []), dtype="int64"), unit="D", utc=True)
        return pd.DataFrame({c: pd.Series(self.daily.get(c, []), dtype="int64") for c in columns}).set_index(
            pd.DatetimeIndex(days, name="day")
        )

    def time_span(self) -> tuple[str | None, str | None]:
        """The span in the words a dataset's coverage uses (ISO 8601)."""
        return tuple(None if us is None else _timestamp(us).isoformat() for us in (self.time_start_us, self.time_end_us))


@dataclass(frozen=True)
class EngagementPatterns:
    """Follow pairs by whether each end engaged with the other inside the window (all engagement if it has no bounds)."""

    counts: pd.DataFrame  # mutual (0/1), ab (a engaged b), ba (b engaged a), pairs; mutual pairs once each
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    events_counted: int
    rows_without_time: int  # left out of a window for lack of a time (0 without a window)
    any_timed: bool
    seconds: float

    def pairs(self, mutual: int, ab: int, ba: int) -> int:
        row = self.counts[(self.counts["mutual"] == mutual) & (self.counts["ab"] == ab) & (self.counts["ba"] == ba)]
        return int(row["pairs"].sum())


def _timestamp(us: int) -> pd.Timestamp:
    return pd.Timestamp(int(us), unit="us", tz="UTC")


def _base(runner, tables: tuple[str, ...] = ("dy_arcs", "dy_events", "dy_pairs")) -> None:
    for table, query in _BASE_STEPS:
        if table in tables:
            runner.materialize(table, query)


def run_summary(runner, dialect: str, files: dict[str, str]) -> EngagementSummary:
    started = time.perf_counter()
    check_values(runner.rows, dialect, files)
    _base(runner, ("dy_arcs", "dy_events"))  # no pairs: the counts need no join
    read, kept, untimed, timed_follows = (int(v) for v in runner.rows(SUMMARY_COUNTS, "count the engagement")[0])
    start, end = runner.rows(WINDOW, "date the data")[0]
    by_kind = {str(kind): int(events) for kind, _, events in runner.rows(EVENTS_BY_KIND, "count the engagement")}
    daily = pd.DataFrame(runner.rows(DAILY_FOLLOWS, "count the follows by day"), columns=["day", "follows"]).astype("int64")
    events = pd.DataFrame(runner.rows(DAILY_EVENTS, "count the engagement by day"), columns=["day", "kind", "events"])
    events = events.pivot_table(index="day", columns="kind", values="events", aggfunc="sum", fill_value=0)
    daily = daily.set_index("day").join(events, how="outer").reindex(columns=["follows", *INTERACTION_KINDS]).fillna(0)
    daily = daily.astype("int64").sort_index()
    return EngagementSummary(
        read,
        kept,
        untimed,
        {kind: by_kind.get(kind, 0) for kind in INTERACTION_KINDS},
        None if start is None else int(start),
        None if end is None else int(end),
        timed_follows,
        round(time.perf_counter() - started, 3),
        {"day": [int(d) for d in daily.index], **{c: [int(v) for v in daily[c]] for c in daily.columns}},
    )


def window_start_us(end_us: int, window_days: float) -> int:
    """The first microsecond inside a window of ``window_days`` ending at ``end_us`` (as pandas places it)."""
    start_ns = int(end_us) * 1000 - pd.Timedelta(days=window_days).value
    return -(-start_ns // 1000)  # the ceiling in integers: a float division loses the microseconds of today's times


def run_patterns(runner, dialect: str, files: dict[str, str], window_days: float | None) -> EngagementPatterns:
    started = time.perf_counter()
    check_values(runner.rows, dialect, files)
    _base(runner)
    _, end = runner.rows(WINDOW, "date the data")[0]
    any_timed = int(runner.rows("SELECT COUNT(at_us) FROM dy_events", "count the engagement")[0][0]) > 0
    start = None
    inside = "1 = 1"
    if window_days is not None and any_timed and end is not None:
        start = window_start_us(end, window_days)
        inside = f"at_us IS NOT NULL AND at_us >= {start}"
    runner.materialize("dy_engaged", f"SELECT DISTINCT actor_id, target_id FROM dy_events WHERE {inside}")
    # Mutual pairs once each (from the end with the smaller id), one-way follows from follower to followee.
    rows = runner.rows(
        "SELECT mutual, ab, ba, COUNT(*) FROM (SELECT p.mutual, "
        "CASE WHEN f.actor_id IS NULL THEN 0 ELSE 1 END AS ab, CASE WHEN r.actor_id IS NULL THEN 0 ELSE 1 END AS ba "
        "FROM dy_pairs p LEFT JOIN dy_engaged f ON f.actor_id = p.a AND f.target_id = p.b "
        "LEFT JOIN dy_engaged r ON r.actor_id = p.b AND r.target_id = p.a WHERE p.mutual = 0 OR p.a < p.b) patterns "
        "GROUP BY mutual, ab, ba",
        "find who engaged with whom",
    )
    counted, untimed = runner.rows(
        f"SELECT CAST(COALESCE(SUM(CASE WHEN {inside} THEN weight ELSE 0 END), 0) AS BIGINT), COUNT(*) - COUNT(at_us) FROM dy_events",
        "count the engagement",
    )[0]
    counts = pd.DataFrame([tuple(int(v) for v in row) for row in rows], columns=["mutual", "ab", "ba", "pairs"])
    return EngagementPatterns(
        counts.sort_values(["mutual", "ab", "ba"], ignore_index=True),
        None if start is None else _timestamp(start),
        None if end is None else _timestamp(end),
        int(counted),
        int(untimed) if start is not None else 0,
        any_timed,
        round(time.perf_counter() - started, 3),
    )


def input_stamps(tables: dict[str, Path]) -> dict[str, list[int]]:
    """Each input table's size and modification time (nanoseconds): whether it is still the file that was read."""
    return {name: [path.stat().st_size, path.stat().st_mtime_ns] for name, path in sorted(tables.items())}


def engagement_summary(path: str | Path, engine: str = "duckdb", **settings) -> EngagementSummary:
    """Study 01's engagement counts of the generic-format folder at ``path`` (it has an interactions table).

    ``settings``: the engine's ``memory_limit``, ``temp_directory``, ``spark_master`` (:func:`.dyad_sql.on_cleaned_inputs`).
    """
    tables = dyad_input_tables(path)
    summary = on_cleaned_inputs(tables, run_summary, engine, **settings)
    return dataclasses.replace(summary, inputs=input_stamps(tables))


def engagement_patterns(path: str | Path, window_days: float | None, engine: str = "duckdb", **settings) -> EngagementPatterns:
    """Study 02's engagement in each direction of the follow pairs at ``path``, in the last ``window_days`` of the data."""
    return on_cleaned_inputs(
        dyad_input_tables(path), lambda runner, dialect, files: run_patterns(runner, dialect, files, window_days), engine, **settings
    )
